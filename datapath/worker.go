package datapath

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govs/govs/vport"
)

// worker receives batches from its ports and runs them through the fast
// path: extract, exact-match cache, megaflow table, then the batch's
// packets grouped by megaflow, each group's statistics updated once and its
// actions executed, sends batched per output port; misses go to the
// upcall handlers, one upcall per flow and batch.
//
// A polling worker serves any number of vport.Pollers: it tries each in
// turn without blocking and, when none has frames, sleeps in poll(2) on all
// of them (vport.PollSet, which gives up the goroutine's P while it sleeps).
// A dedicated worker serves one port that is not a Poller with blocking
// Recv calls.
//
// Everything but epoch, nports and the control fields is owned by the
// worker's goroutine.
type worker struct {
	dp *Datapath

	ports     []*dpPort // the ports polled (polling worker)
	backoff   []portBackoff
	dedicated *dpPort // the one port (dedicated worker)
	ps        *vport.PollSet

	ctlMu      sync.Mutex
	ctlAdd     []*dpPort     // guarded by ctlMu: ports to start polling
	ctlDel     []portRelease // guarded by ctlMu: ports to stop polling
	ctlStop    bool          // guarded by ctlMu
	ctlPending atomic.Bool   // some ctl field is set
	nports     atomic.Int32  // ports attached, for balancing

	pkts    [vport.BatchSize]*vport.Packet
	keys    [vport.BatchSize]Key
	layouts [vport.BatchSize]Layout
	hashes  [vport.BatchSize]uint64
	next    [vport.BatchSize]int8 // next packet of the same group, -1 at the end
	groups  [vport.BatchSize]flowGroup
	misses  [vport.BatchSize]int8
	cache   *emc
	ex      *executor
	ub      upcallBatch

	// epoch is odd while the worker processes a batch and even otherwise;
	// Synchronize watches it.
	epoch atomic.Uint64
	done  chan struct{}
}

// portBackoff is how a polling worker skips a costly port that keeps
// coming up empty (see pollRound).
type portBackoff struct {
	empty uint8 // consecutive empty tries, up to maxBackoffShift
	wait  uint8 // rounds to skip before the next try
}

// maxBackoffShift bounds the skipping: a costly empty port is still tried
// every 16th round while the worker is busy.
const maxBackoffShift = 4

// flowGroup is the packets of one batch that hit one megaflow: a list
// through worker.next from first to last.
type flowGroup struct {
	flow        *Flow
	first, last int8
	n           uint32
	bytes       uint64
	flags       uint16
	offload     bool // some packet of the group has offload state
}

// portRelease asks a polling worker to stop polling a port; done is closed
// when it has.
type portRelease struct {
	port *dpPort
	done chan struct{}
}

func newWorkerBase(dp *Datapath) *worker {
	w := &worker{dp: dp, cache: new(emc), ex: newExecutor(dp), done: make(chan struct{})}
	for i := range w.pkts {
		w.pkts[i] = vport.NewPacket()
	}
	w.ub.init()
	return w
}

// newPollWorker returns a polling worker with no ports (start it with
// start).
func newPollWorker(dp *Datapath) (*worker, error) {
	ps, err := vport.NewPollSet()
	if err != nil {
		return nil, err
	}
	w := newWorkerBase(dp)
	w.ps = ps
	return w, nil
}

// newDedicatedWorker returns a worker for port p, which is not a Poller.
func newDedicatedWorker(dp *Datapath, p *dpPort) *worker {
	w := newWorkerBase(dp)
	w.dedicated = p
	w.nports.Store(1)
	return w
}

func (w *worker) start() {
	if w.ps != nil {
		go w.runPolling()
	} else {
		go w.runDedicated()
	}
}

// wait blocks until the worker's goroutine has returned.
func (w *worker) wait() { <-w.done }

// attach makes a polling worker poll p from its next round on.
func (w *worker) attach(p *dpPort) {
	w.nports.Add(1)
	w.ctlMu.Lock()
	w.ctlAdd = append(w.ctlAdd, p)
	w.ctlPending.Store(true)
	w.ctlMu.Unlock()
	w.ps.Wake()
}

// detach makes a polling worker stop polling p and returns once it has:
// the worker no longer touches p or packets received from it.
func (w *worker) detach(p *dpPort) {
	done := make(chan struct{})
	w.ctlMu.Lock()
	w.ctlDel = append(w.ctlDel, portRelease{p, done})
	w.ctlPending.Store(true)
	w.ctlMu.Unlock()
	w.ps.Wake()
	<-done
	w.nports.Add(-1)
}

// stop ends a polling worker's goroutine and waits for it; its ports must
// have been detached.
func (w *worker) stop() {
	w.ctlMu.Lock()
	w.ctlStop = true
	w.ctlPending.Store(true)
	w.ctlMu.Unlock()
	w.ps.Wake()
	<-w.done
	w.ps.Close()
}

// control applies pending attach/detach requests; it reports whether the
// worker is to stop.
func (w *worker) control() bool {
	w.ctlMu.Lock()
	defer w.ctlMu.Unlock()
	w.ctlPending.Store(false)
	w.ports = append(w.ports, w.ctlAdd...)
	clear(w.ctlAdd)
	w.ctlAdd = w.ctlAdd[:0]
	for _, r := range w.ctlDel {
		for i, p := range w.ports {
			if p == r.port {
				w.ports = append(w.ports[:i], w.ports[i+1:]...)
				break
			}
		}
		// The packets may point into the port's ring: forget them.
		for _, pkt := range w.pkts {
			pkt.RecvBuf()
		}
		close(r.done)
	}
	clear(w.ctlDel)
	w.ctlDel = w.ctlDel[:0]
	return w.ctlStop
}

// runPolling is a polling worker's goroutine.
func (w *worker) runPolling() {
	defer close(w.done)
	var gone []bool // ports whose receive failed for good (closed under us)
	for {
		if w.ctlPending.Load() {
			if w.control() {
				return
			}
			gone = gone[:0]
			w.backoff = w.backoff[:0]
		}
		for len(gone) < len(w.ports) {
			gone = append(gone, false)
			w.backoff = append(w.backoff, portBackoff{})
		}
		got := w.pollRound(gone, false)
		if w.ub.since > 0 {
			// Misses were queued: let the upcall handlers run now rather
			// than when the scheduler preempts us (with one P, up to
			// 10 ms later).
			w.ub.since = 0
			runtime.Gosched()
		}
		if got > 0 {
			continue
		}
		// Nothing anywhere: sleep until a port has frames or a request
		// comes. After PrepareWait, look once more (frames that arrived
		// before it need not wake the poll).
		w.ps.Reset()
		for i, p := range w.ports {
			fd := -1
			if !gone[i] {
				fd = p.poller.PrepareWait()
			}
			w.ps.Add(fd)
		}
		if w.pollRound(gone, true) > 0 || w.ctlPending.Load() {
			continue
		}
		if _, err := w.ps.Wait(-1); err != nil {
			time.Sleep(time.Millisecond) // never spin
			continue
		}
		for i, p := range w.ports {
			if w.ps.Failed(i) {
				p.poller.PollError()
			}
			w.backoff[i].wait = 0 // it may be what woke us
		}
	}
}

// pollRound receives one batch from each port that has frames and
// processes it; it returns how many packets it received. A costly port
// (vport.CostlyPoller) that keeps coming up empty is tried only every
// 2nd, 4th, ... 16th round, unless all is set.
func (w *worker) pollRound(gone []bool, all bool) int {
	got := 0
	for i, p := range w.ports {
		if gone[i] {
			continue
		}
		b := &w.backoff[i]
		if p.costly && !all && b.wait > 0 {
			b.wait--
			continue
		}
		n, err := p.poller.TryRecv(w.pkts[:])
		if p.costly {
			if n == 0 {
				b.empty = min(b.empty+1, maxBackoffShift)
				b.wait = 1<<b.empty - 1
			} else {
				b.empty, b.wait = 0, 0
			}
		}
		if err != nil {
			if errors.Is(err, vport.ErrClosed) {
				gone[i] = true
			}
			continue
		}
		if n > 0 {
			w.epoch.Add(1)
			w.process(p, n)
			w.epoch.Add(1)
			got += n
		}
	}
	return got
}

// runDedicated is a dedicated worker's goroutine: blocking Recv on its one
// port until the port is closed.
func (w *worker) runDedicated() {
	defer close(w.done)
	p := w.dedicated
	errDelay := time.Millisecond
	for {
		n, err := p.port.Recv(w.pkts[:])
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
		w.process(p, n)
		w.epoch.Add(1)
		if w.ub.since > 0 {
			w.ub.since = 0
			runtime.Gosched()
		}
	}
}

// process runs one received batch of n packets from port in through lookup
// and execution.
func (w *worker) process(in *dpPort, n int) {
	dp := w.dp
	ex := w.ex
	now := time.Now().UnixNano()
	ex.now = now
	inPort := in.no
	var emcHit, maskHit uint64
	ng, nmiss := 0, 0
	for i := 0; i < n; i++ {
		p := w.pkts[i]
		k := &w.keys[i]
		Extract(p.Data(), inPort, k, &w.layouts[i])
		h := emcHash(k)
		f := w.cache.lookup(k, h)
		if f != nil {
			emcHit++
		} else {
			var searched int
			f, searched = dp.table.lookup(k)
			maskHit += uint64(searched)
			if f == nil {
				w.hashes[i] = h
				w.misses[nmiss] = int8(i)
				nmiss++
				continue
			}
			w.cache.maybeInsert(k, h, f)
		}
		// Group by megaflow. Most batches hold few flows, often one: look
		// at the last group first, then at the others.
		g := ng - 1
		if g < 0 || w.groups[g].flow != f {
			for g = 0; g < ng && w.groups[g].flow != f; g++ {
			}
			if g == ng {
				w.groups[g] = flowGroup{flow: f, first: int8(i), last: int8(i)}
				ng++
			} else {
				w.next[w.groups[g].last] = int8(i)
				w.groups[g].last = int8(i)
			}
		} else {
			w.next[w.groups[g].last] = int8(i)
			w.groups[g].last = int8(i)
		}
		w.next[i] = -1
		gr := &w.groups[g]
		gr.n++
		gr.bytes += uint64(p.Len())
		if w.layouts[i].L4Proto == 6 {
			gr.flags |= uint16(FieldTCPFlags.Get(k))
		}
		if p.HasOffload() {
			gr.offload = true
		}
	}
	for g := 0; g < ng; g++ {
		gr := &w.groups[g]
		f := gr.flow
		f.hit(uint64(gr.n), gr.bytes, gr.flags, now)
		w.executeGroup(gr, inPort, f.Actions())
		gr.flow = nil
	}
	for j := 0; j < nmiss; j++ {
		i := int(w.misses[j])
		w.miss(w.pkts[i], &w.keys[i], w.hashes[i], inPort)
	}
	// Count before queueing the upcalls and sending: whoever sees a packet
	// out sees it counted.
	hit := uint64(n - nmiss)
	if hit != 0 {
		dp.stats.hit.Add(hit)
	}
	if emcHit != 0 {
		dp.stats.emcHit.Add(emcHit)
	}
	if nmiss != 0 {
		dp.stats.missed.Add(uint64(nmiss))
	}
	if maskHit != 0 {
		dp.stats.maskHit.Add(maskHit)
	}
	if nmiss > 0 {
		dp.upcalls.flushBatch(&w.ub)
	}
	ex.flush()
}

// executeGroup runs a megaflow's actions on the packets of one group. An
// action list of outputs only (the common case) queues the whole group on
// each port at once; anything else runs packet by packet.
func (w *worker) executeGroup(gr *flowGroup, inPort uint32, acts Actions) {
	ex := w.ex
	if !gr.offload && outputsOnly(acts) {
		for a := range acts {
			ex.outputGroup(acts[a].Port, &w.pkts, &w.next, gr.first)
		}
		return
	}
	for i := gr.first; i >= 0; i = w.next[i] {
		p := w.pkts[i]
		if p.HasOffload() {
			ex.executeOffload(p, &w.layouts[i], &w.keys[i], inPort, acts)
		} else {
			ex.execute(p, &w.layouts[i], &w.keys[i], inPort, acts)
		}
	}
}

// outputsOnly reports whether acts consists of output actions only.
func outputsOnly(acts Actions) bool {
	for i := range acts {
		if acts[i].Type != ActOutput {
			return false
		}
	}
	return true
}

// miss hands a packet that matched no megaflow to the slow path. A partial
// checksum is completed first and a GSO super-frame is cut into segments,
// each its own miss: the slow path and controllers see packets as they are
// on the wire.
func (w *worker) miss(p *vport.Packet, k *Key, h uint64, inPort uint32) {
	dp := w.dp
	if p.HasOffload() {
		if p.IsGSO() {
			w.missSegments(p, inPort)
			return
		}
		if !p.FinishChecksum() {
			dp.stats.offloadDrops.Add(1)
			return
		}
	}
	u := dp.upcalls.take()
	if u == nil {
		return
	}
	u.Type = UpcallMiss
	u.InPort = inPort
	u.Key = *k
	u.Packet.CopyFrom(p)
	u.TotalLen = p.Len()
	w.ub.add(u, h)
}

// missSegments upcalls the segments of a GSO super-frame that missed.
func (w *worker) missSegments(p *vport.Packet, inPort uint32) {
	dp := w.dp
	n := p.GSOSegments()
	if n == 0 {
		dp.stats.offloadDrops.Add(1)
		return
	}
	dp.stats.segmented.Add(1)
	var l Layout
	for s := 0; s < n; s++ {
		u := dp.upcalls.take()
		if u == nil {
			dp.stats.lost.Add(uint64(n - s - 1))
			return
		}
		if !p.Segment(s, u.Packet) {
			dp.upcalls.put(u)
			dp.stats.offloadDrops.Add(1)
			continue
		}
		u.Type = UpcallMiss
		u.InPort = inPort
		Extract(u.Packet.Data(), inPort, &u.Key, &l)
		u.TotalLen = u.Packet.Len()
		w.ub.add(u, emcHash(&u.Key))
	}
}
