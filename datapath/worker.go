package datapath

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/govs/govs/vport"
)

// worker receives batches from one port and runs them through the fast
// path. It owns its packets, keys, EMC and executor; nothing in it is
// shared except epoch and its counters.
type worker struct {
	dp   *Datapath
	port *dpPort

	pkts    [vport.BatchSize]*vport.Packet
	keys    [vport.BatchSize]Key
	layouts [vport.BatchSize]Layout
	flows   [vport.BatchSize]*Flow
	cache   *emc
	ex      *executor

	// epoch is odd while the worker processes a batch and even while it
	// waits for one; Synchronize watches it.
	epoch atomic.Uint64
	done  chan struct{}
}

func newWorker(dp *Datapath, port *dpPort) *worker {
	w := &worker{dp: dp, port: port, cache: new(emc), ex: newExecutor(dp), done: make(chan struct{})}
	for i := range w.pkts {
		w.pkts[i] = vport.NewPacket()
	}
	return w
}

func (w *worker) start() { go w.run() }

// wait blocks until the worker's goroutine has returned (after its port
// was closed).
func (w *worker) wait() { <-w.done }

func (w *worker) run() {
	defer close(w.done)
	errDelay := time.Millisecond
	for {
		n, err := w.port.port.Recv(w.pkts[:])
		if err != nil {
			if errors.Is(err, vport.ErrClosed) {
				return
			}
			// A transient error (the interface went away and came back,
			// ENOBUFS...): back off a little, never spin.
			time.Sleep(errDelay)
			errDelay = min(2*errDelay, 100*time.Millisecond)
			continue
		}
		errDelay = time.Millisecond
		w.epoch.Add(1)
		w.process(n)
		w.epoch.Add(1)
	}
}

// process runs one received batch through lookup and execution.
func (w *worker) process(n int) {
	dp := w.dp
	inPort := w.port.no
	now := time.Now().UnixNano()
	w.ex.now = now
	var hit, missed, emcHit, maskHit uint64
	for i := 0; i < n; i++ {
		p := w.pkts[i]
		k := &w.keys[i]
		Extract(p.Data(), inPort, k, &w.layouts[i])
		h := k.Hash()
		f := w.cache.lookup(k, h)
		if f != nil {
			emcHit++
		} else {
			var searched int
			f, searched = dp.table.lookup(k)
			maskHit += uint64(searched)
			if f != nil {
				w.cache.insert(k, h, f)
			}
		}
		w.flows[i] = f
		if f == nil {
			missed++
			dp.upcalls.miss(p, k)
			continue
		}
		hit++
		var flags uint16
		if w.layouts[i].L4Proto == 6 {
			flags = uint16(FieldTCPFlags.Get(k))
		}
		f.hit(1, uint64(p.Len()), flags, now)
	}
	for i := 0; i < n; i++ {
		if f := w.flows[i]; f != nil {
			w.ex.execute(w.pkts[i], &w.layouts[i], &w.keys[i], inPort, f.Actions())
			w.flows[i] = nil
		}
	}
	w.ex.flush()
	if hit != 0 {
		dp.stats.hit.Add(hit)
	}
	if emcHit != 0 {
		dp.stats.emcHit.Add(emcHit)
	}
	if missed != 0 {
		dp.stats.missed.Add(missed)
	}
	if maskHit != 0 {
		dp.stats.maskHit.Add(maskHit)
	}
}
