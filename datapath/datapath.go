// Package datapath is the switch's fast path. It knows nothing of
// OpenFlow: it receives batches of packets from its ports, extracts each
// packet's flow key, looks the key up in an exact-match cache and then in
// the megaflow table, executes the flow's actions on a hit, and on a miss
// hands the packet to the slow path through a bounded upcall queue.
//
// The slow path (ofproto) installs megaflows with FlowPut, removes them with
// FlowDel/FlowFlush, executes packets with Execute and receives misses and
// userspace actions through the UpcallHandler it passed to New.
//
// Goroutines: the Datapath owns one receive worker per port (started by
// AddPort, stopped by DelPort and Close), Config.Handlers upcall handler
// goroutines and one maintenance goroutine; Close stops them all.
package datapath

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govs/govs/vport"
)

// Config configures a Datapath.
type Config struct {
	// Handler receives upcalls. It is called from Handlers goroutines
	// concurrently; the Upcall and its packet are valid only during the
	// call.
	Handler UpcallHandler
	// Handlers is the number of upcall handler goroutines (default 2).
	Handlers int
	// QueueLen is the capacity of each handler's upcall queue (default
	// 512). A miss that finds its queue full is dropped and counted as
	// lost.
	QueueLen int
}

// Stats are the datapath's counters, as `ovs-appctl dpctl/show` prints them.
type Stats struct {
	Hit     uint64 // packets that matched a megaflow (EMC or table)
	Missed  uint64 // packets that matched no megaflow (upcalled or lost)
	Lost    uint64 // upcalls dropped because a queue was full
	EMCHit  uint64 // of Hit, packets that the exact-match cache answered
	MaskHit uint64 // subtables searched by megaflow table lookups
	Flows   int    // installed megaflows
	Masks   int    // distinct masks (subtables)
}

// Datapath is one bridge's fast path.
//
// Lock order: portsMu, then flowTable.mu. Neither is taken per packet.
type Datapath struct {
	cfg   Config
	table *flowTable

	portsMu sync.Mutex                         // serialises AddPort/DelPort
	ports   atomic.Pointer[map[uint32]*dpPort] // copy-on-write, read per packet
	workers atomic.Pointer[[]*worker]          // copy-on-write, for Synchronize

	upcalls *upcallQueues
	meters  meterTable

	execMu sync.Mutex // guards slowEx
	slowEx *executor  // executes packets from the slow path

	stats struct {
		hit, missed, lost, emcHit, maskHit atomic.Uint64
	}

	stop   chan struct{}
	wg     sync.WaitGroup // maintenance goroutine
	closed atomic.Bool
}

// dpPort is a port attached to the datapath.
type dpPort struct {
	no     uint32
	port   vport.Port
	worker *worker
}

// ErrPortExists and ErrNoPort are returned by AddPort and DelPort.
var (
	ErrPortExists = errors.New("datapath: port number in use")
	ErrNoPort     = errors.New("datapath: no such port")
)

// New creates a datapath with no ports and starts its upcall handlers.
func New(cfg Config) *Datapath {
	if cfg.Handlers <= 0 {
		cfg.Handlers = 2
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 512
	}
	dp := &Datapath{cfg: cfg, table: newFlowTable(), stop: make(chan struct{})}
	dp.ports.Store(&map[uint32]*dpPort{})
	dp.workers.Store(&[]*worker{})
	dp.slowEx = newExecutor(dp)
	dp.upcalls = newUpcallQueues(dp, cfg.Handlers, cfg.QueueLen)
	dp.wg.Add(1)
	go dp.maintain()
	return dp
}

// AddPort attaches p as port number no and starts receiving from it. The
// datapath owns p from now on and closes it in DelPort or Close.
func (dp *Datapath) AddPort(no uint32, p vport.Port) error {
	dp.portsMu.Lock()
	defer dp.portsMu.Unlock()
	if dp.closed.Load() {
		return vport.ErrClosed
	}
	old := *dp.ports.Load()
	if _, ok := old[no]; ok {
		return fmt.Errorf("%w: %d", ErrPortExists, no)
	}
	dport := &dpPort{no: no, port: p}
	dport.worker = newWorker(dp, dport)
	ports := maps.Clone(old)
	ports[no] = dport
	dp.ports.Store(&ports)
	ws := append(append([]*worker(nil), *dp.workers.Load()...), dport.worker)
	dp.workers.Store(&ws)
	dport.worker.start()
	return nil
}

// DelPort detaches port no, closes it and waits for its receive worker to
// stop.
func (dp *Datapath) DelPort(no uint32) error {
	dp.portsMu.Lock()
	defer dp.portsMu.Unlock()
	old := *dp.ports.Load()
	dport, ok := old[no]
	if !ok {
		return fmt.Errorf("%w: %d", ErrNoPort, no)
	}
	ports := maps.Clone(old)
	delete(ports, no)
	dp.ports.Store(&ports)
	var ws []*worker
	for _, w := range *dp.workers.Load() {
		if w != dport.worker {
			ws = append(ws, w)
		}
	}
	dp.workers.Store(&ws)
	dport.port.Close()
	dport.worker.wait()
	return nil
}

// Port returns the port attached as number no.
func (dp *Datapath) Port(no uint32) (vport.Port, bool) {
	dport, ok := (*dp.ports.Load())[no]
	if !ok {
		return nil, false
	}
	return dport.port, true
}

// PortNumbers returns the numbers of the attached ports in ascending order.
func (dp *Datapath) PortNumbers() []uint32 {
	ports := *dp.ports.Load()
	nos := make([]uint32, 0, len(ports))
	for no := range ports {
		nos = append(nos, no)
	}
	sort.Slice(nos, func(i, j int) bool { return nos[i] < nos[j] })
	return nos
}

// FlowPut installs a megaflow for key/mask with actions; data is kept in
// Flow.Data for the caller. If the masked key is already installed it
// returns the existing flow and ErrFlowExists.
func (dp *Datapath) FlowPut(key, mask *Key, acts Actions, data any) (*Flow, error) {
	return dp.table.put(key, mask, acts, data)
}

// FlowModify replaces the actions of an installed flow.
func (dp *Datapath) FlowModify(f *Flow, acts Actions) {
	a := append(Actions(nil), acts...)
	f.actions.Store(&a)
}

// FlowDel removes a flow. It reports whether the flow was installed.
func (dp *Datapath) FlowDel(f *Flow) bool { return dp.table.remove(f) }

// FlowFlush removes every megaflow and waits until no worker can still be
// executing one of them (see Synchronize). It returns how many it removed.
func (dp *Datapath) FlowFlush() int {
	n := dp.table.flush()
	dp.Synchronize()
	return n
}

// FlowDump calls fn for each installed flow until fn returns false.
func (dp *Datapath) FlowDump(fn func(*Flow) bool) { dp.table.dump(fn) }

// FlowLookup returns the megaflow that a packet with key would hit (without
// counting it), or nil.
func (dp *Datapath) FlowLookup(key *Key) *Flow {
	f, _ := dp.table.lookup(key)
	return f
}

// Synchronize waits until every worker that was processing a batch when it
// was called has finished that batch. After FlowDel or FlowFlush returns and
// Synchronize has returned, no packet is forwarded by a removed flow.
func (dp *Datapath) Synchronize() {
	ws := *dp.workers.Load()
	seen := make([]uint64, len(ws))
	for i, w := range ws {
		seen[i] = w.epoch.Load()
	}
	for i, w := range ws {
		if seen[i]&1 == 0 {
			continue // idle (blocked in Recv) when we looked
		}
		for w.epoch.Load() == seen[i] {
			time.Sleep(20 * time.Microsecond)
		}
	}
	// The slow-path executor runs under execMu: taking it once waits for a
	// packet it may be executing.
	dp.execMu.Lock()
	dp.execMu.Unlock()
}

// Execute runs actions on a packet from the slow path (the packet that
// caused an upcall, or a controller's packet-out) as if it had been
// received on inPort. The packet is not modified; the caller keeps it.
func (dp *Datapath) Execute(p *vport.Packet, inPort uint32, acts Actions) {
	dp.execMu.Lock()
	defer dp.execMu.Unlock()
	ex := dp.slowEx
	ex.now = time.Now().UnixNano()
	q := ex.clonePacket(p)
	var key Key
	var l Layout
	Extract(q.Data(), inPort, &key, &l)
	ex.execute(q, &l, &key, inPort, acts)
	ex.flush()
}

// Stats returns the datapath's counters.
func (dp *Datapath) Stats() Stats {
	return Stats{
		Hit:     dp.stats.hit.Load(),
		Missed:  dp.stats.missed.Load(),
		Lost:    dp.stats.lost.Load(),
		EMCHit:  dp.stats.emcHit.Load(),
		MaskHit: dp.stats.maskHit.Load(),
		Flows:   int(dp.table.count.Load()),
		Masks:   dp.table.masks(),
	}
}

// Close detaches and closes every port, stops every goroutine of the
// datapath and waits for them. Upcalls still queued are dropped.
func (dp *Datapath) Close() error {
	if dp.closed.Swap(true) {
		return nil
	}
	for _, no := range dp.PortNumbers() {
		dp.DelPort(no)
	}
	close(dp.stop)
	dp.wg.Wait()
	dp.upcalls.close()
	return nil
}

// maintain periodically re-ranks the subtables by hits.
func (dp *Datapath) maintain() {
	defer dp.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-dp.stop:
			return
		case <-t.C:
			dp.table.rank()
		}
	}
}
