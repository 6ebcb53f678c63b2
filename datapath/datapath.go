// Package datapath is the switch's fast path. It knows nothing of
// OpenFlow: it receives batches of packets from its ports, extracts each
// packet's flow key, looks the key up in an exact-match cache and then in
// the megaflow table, executes the flow's actions on a hit, and on a miss
// hands the packet to the slow path through a bounded upcall queue.
//
// The slow path (ofproto) installs megaflows with FlowPut, removes them with
// FlowDel/FlowFlush, executes packets with Execute and ExecuteUpcall and
// receives misses and userspace actions through the UpcallHandler it passed
// to New.
//
// Goroutines: Config.Workers receive workers, each serving the receive side
// of a share of the ports that can be polled (vport.Poller; every port of
// this repository can), plus one dedicated worker per port that cannot;
// Config.Handlers upcall handler goroutines; one maintenance goroutine.
// New starts them, AddPort/DelPort start and stop dedicated workers, Close
// stops them all.
package datapath

import (
	"errors"
	"fmt"
	"maps"
	"runtime"
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
	// 1024). A miss that finds its queue full is dropped and counted as
	// lost.
	QueueLen int
	// Workers is the number of receive workers that poll the ports
	// (default: one per cpu the process may run on, minus one for the
	// upcall handlers and the rest of the system, at least one). Each port
	// is served by one worker; a new port goes to the worker with the
	// fewest ports.
	Workers int
}

// Stats are the datapath's counters, as `ovs-appctl dpctl/show` prints them,
// and a few of its own.
type Stats struct {
	Hit     uint64 // packets that matched a megaflow (EMC or table)
	Missed  uint64 // packets that matched no megaflow (upcalled or lost)
	Lost    uint64 // upcalls dropped because a queue was full
	EMCHit  uint64 // of Hit, packets that the exact-match cache answered
	MaskHit uint64 // subtables searched by megaflow table lookups
	Flows   int    // installed megaflows
	Masks   int    // distinct masks (subtables)

	// Upcalls is the miss upcalls queued to the handlers: one per flow
	// and batch (Missed - Lost - Upcalls of the misses were queued behind
	// an upcall of the same flow from the same batch, see Upcall).
	Upcalls uint64
	// FollowersLost is the misses queued behind an upcall that were
	// dropped after it because its handler installed no flow for them.
	FollowersLost uint64
	// Segmented is the GSO super-frames cut into segments in software
	// (before an upcall, or for an output without offloads).
	Segmented uint64
	// OffloadDrops is the packets with offload state that could not be
	// completed or segmented (inconsistent offsets, UFO) and were dropped.
	OffloadDrops uint64
	// Workers is the number of receive workers (polling and dedicated).
	Workers int
}

// Datapath is one bridge's fast path.
//
// Lock order: portsMu, then worker.ctlMu, then flowTable.mu. None of them
// is taken per packet; dpPort.txMu is taken once per batch sent to a port.
type Datapath struct {
	cfg   Config
	table *flowTable

	portsMu sync.Mutex                         // serialises AddPort/DelPort/Close
	ports   atomic.Pointer[map[uint32]*dpPort] // copy-on-write, read per output batch
	pollers []*worker                          // the polling workers, fixed at New
	workers atomic.Pointer[[]*worker]          // every worker, copy-on-write, for Synchronize

	upcalls *upcallQueues
	meters  meterTable

	execMu sync.Mutex // guards slowEx
	slowEx *executor  // executes packets from the slow path

	stats struct {
		hit, missed, lost, emcHit, maskHit atomic.Uint64
		upcalls, followersLost             atomic.Uint64
		segmented, offloadDrops            atomic.Uint64
	}

	stop   chan struct{}
	wg     sync.WaitGroup // maintenance goroutine
	closed atomic.Bool
}

// dpPort is a port attached to the datapath.
type dpPort struct {
	no      uint32
	port    vport.Port
	poller  vport.Poller // nil: served by a dedicated worker's blocking Recv
	costly  bool         // poller's TryRecv is a system call (vport.CostlyPoller)
	offload bool         // Send takes packets with offload state (vport.OffloadSender)
	worker  *worker

	// txMu serialises sends to the port (vport.Port allows one sender at
	// a time; every worker and handler may output here).
	txMu sync.Mutex
}

// ErrPortExists and ErrNoPort are returned by AddPort and DelPort.
var (
	ErrPortExists = errors.New("datapath: port number in use")
	ErrNoPort     = errors.New("datapath: no such port")
)

// DefaultWorkers is the default number of polling workers: one per cpu the
// process may use, minus one, at least one. On a 2-cpu machine (or when
// pinned to one cpu) that is one worker, which leaves the other cpu to the
// upcall handlers, the kernel's softirq work and everything else.
func DefaultWorkers() int { return max(1, runtime.NumCPU()-1) }

// New creates a datapath with no ports and starts its workers and upcall
// handlers. (Should the system refuse the eventfds the polling workers
// sleep on, every port gets a dedicated worker instead.)
func New(cfg Config) *Datapath {
	if cfg.Handlers <= 0 {
		cfg.Handlers = 2
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 1024
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers()
	}
	dp := &Datapath{cfg: cfg, table: newFlowTable(), stop: make(chan struct{})}
	dp.ports.Store(&map[uint32]*dpPort{})
	dp.slowEx = newExecutor(dp)
	dp.upcalls = newUpcallQueues(dp, cfg.Handlers, cfg.QueueLen)
	for i := 0; i < cfg.Workers; i++ {
		w, err := newPollWorker(dp)
		if err != nil {
			// No eventfd: ports get dedicated workers instead.
			break
		}
		dp.pollers = append(dp.pollers, w)
	}
	ws := append([]*worker(nil), dp.pollers...)
	dp.workers.Store(&ws)
	for _, w := range dp.pollers {
		w.start()
	}
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
	if os, ok := p.(vport.OffloadSender); ok {
		dport.offload = os.SendsOffloads()
	}
	if pl, ok := p.(vport.Poller); ok && len(dp.pollers) > 0 {
		dport.poller = pl
		if c, ok := p.(vport.CostlyPoller); ok {
			dport.costly = c.TryRecvCostly()
		}
		w := dp.pollers[0]
		for _, c := range dp.pollers[1:] {
			if c.nports.Load() < w.nports.Load() {
				w = c
			}
		}
		dport.worker = w
	} else {
		dport.worker = newDedicatedWorker(dp, dport)
		ws := append(append([]*worker(nil), *dp.workers.Load()...), dport.worker)
		dp.workers.Store(&ws)
	}
	ports := maps.Clone(old)
	ports[no] = dport
	dp.ports.Store(&ports)
	if dport.poller != nil {
		dport.worker.attach(dport)
	} else {
		dport.worker.start()
	}
	return nil
}

// DelPort detaches port no, waits until its worker no longer receives
// from it, and closes it.
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
	if dport.poller != nil {
		dport.worker.detach(dport)
		dport.port.Close()
		return nil
	}
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

// FlowCount returns the number of installed megaflows.
func (dp *Datapath) FlowCount() int { return int(dp.table.count.Load()) }

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
			continue // between batches (or asleep) when we looked
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

// Execute runs actions on a packet from the slow path (a controller's
// packet-out, or an upcall's packet) as if it had been received on inPort.
// The packet is not modified; the caller keeps it. A packet with offload
// state is completed or segmented as the outputs need.
func (dp *Datapath) Execute(p *vport.Packet, inPort uint32, acts Actions) {
	dp.execMu.Lock()
	defer dp.execMu.Unlock()
	ex := dp.slowEx
	ex.now = time.Now().UnixNano()
	q := ex.clonePacket(p)
	var key Key
	var l Layout
	Extract(q.Data(), inPort, &key, &l)
	if q.HasOffload() {
		ex.executeOffload(q, &l, &key, inPort, acts)
	} else {
		ex.execute(q, &l, &key, inPort, acts)
	}
	ex.flush()
}

// Stats returns the datapath's counters.
func (dp *Datapath) Stats() Stats {
	return Stats{
		Hit:           dp.stats.hit.Load(),
		Missed:        dp.stats.missed.Load(),
		Lost:          dp.stats.lost.Load(),
		EMCHit:        dp.stats.emcHit.Load(),
		MaskHit:       dp.stats.maskHit.Load(),
		Flows:         int(dp.table.count.Load()),
		Masks:         dp.table.masks(),
		Upcalls:       dp.stats.upcalls.Load(),
		FollowersLost: dp.stats.followersLost.Load(),
		Segmented:     dp.stats.segmented.Load(),
		OffloadDrops:  dp.stats.offloadDrops.Load(),
		Workers:       len(*dp.workers.Load()),
	}
}

// Close detaches and closes every port, stops every goroutine of the
// datapath and waits for them. Upcalls still queued are handled first.
func (dp *Datapath) Close() error {
	if dp.closed.Swap(true) {
		return nil
	}
	for _, no := range dp.PortNumbers() {
		dp.DelPort(no)
	}
	for _, w := range dp.pollers {
		w.stop()
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
