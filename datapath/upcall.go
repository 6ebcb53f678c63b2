package datapath

import (
	"sync"
	"time"

	"github.com/govs/govs/vport"
)

// UpcallType says why a packet went to the slow path.
type UpcallType uint8

const (
	// UpcallMiss: the packet matched no megaflow.
	UpcallMiss UpcallType = iota + 1
	// UpcallAction: a megaflow's ActUserspace sent it (e.g. to a
	// controller).
	UpcallAction
)

// Upcall is a packet handed to the slow path.
//
// A miss upcall stands for every packet of its flow (the same key) that
// missed in the same batch: the first is Packet, the others are queued
// behind it (Followers) rather than upcalled each. ExecuteUpcall runs the
// translated actions on all of them; if the handler uses Execute instead,
// the followers take whatever megaflow the handler installed for the key
// once it returns, and are dropped (counted in Stats.FollowersLost) if
// there is none. Packets are never in an upcall with offload state: partial
// checksums are completed and GSO super-frames cut into segments first.
type Upcall struct {
	Type   UpcallType
	InPort uint32
	// Key is the packet's flow key as received (before any action).
	Key Key
	// Packet is a copy of the frame: as received for a miss, as modified
	// by the actions before ActUserspace (and truncated to its MaxLen) for
	// an action upcall.
	Packet *vport.Packet
	// TotalLen is the frame's length before truncation.
	TotalLen int
	// Userdata is the ActUserspace's Userdata (nil for a miss). It aliases
	// the installed action: read it, do not modify it.
	Userdata []byte

	next     *Upcall   // the followers, in arrival order
	tail     *Upcall   // the last follower (leader only)
	nfollow  int       // number of followers (leader only)
	ex       *executor // the handler's executor, during HandleUpcall
	executed bool      // ExecuteUpcall ran (leader only)
	batched  bool      // in HandleUpcalls: ExecuteUpcall leaves the sends queued
}

// Followers returns the number of packets queued behind the upcall's own.
func (u *Upcall) Followers() int { return u.nfollow }

// UpcallHandler is the slow path's hook. HandleUpcall is called by the
// datapath's handler goroutines, several at once; u is valid only during
// the call.
type UpcallHandler interface {
	HandleUpcall(u *Upcall)
}

// UpcallBatch is the most upcalls a handler goroutine takes from its
// queue at once for a BatchUpcallHandler.
const UpcallBatch = 32

// BatchUpcallHandler is an UpcallHandler that takes the upcalls waiting in
// a handler goroutine's queue together (up to UpcallBatch, in arrival
// order), so that it can translate them under one hold of its locks and
// send their packets with one send per output port. During HandleUpcalls,
// ExecuteUpcall only queues its packets on the handler goroutine's
// executor: FlushUpcalls sends what the batch queued, and HandleUpcalls
// calls it after its last ExecuteUpcall, while it still holds whatever
// lock orders those sends (anything still queued when HandleUpcalls
// returns is sent then). The upcalls are valid only during the call.
type BatchUpcallHandler interface {
	UpcallHandler
	HandleUpcalls(us []*Upcall)
}

// upcallPacketCap is the size upcall packet buffers start with; they grow
// for longer frames.
const upcallPacketCap = 2048

// upcallQueues are the bounded queues between workers and handler
// goroutines. Upcalls come from a fixed free list allocated up front, so a
// burst of misses costs no allocation and no unbounded memory: when the free
// list or the chosen queue is empty/full the packet is dropped and counted
// in Stats.Lost. Workers never block on them.
type upcallQueues struct {
	dp       *Datapath
	handlers []*handler
	free     chan *Upcall
	wg       sync.WaitGroup // handler goroutines
	once     sync.Once
}

// handler is one handler goroutine's queue and executor.
type handler struct {
	q  chan *Upcall
	ex *executor
}

func newUpcallQueues(dp *Datapath, handlers, qlen int) *upcallQueues {
	uq := &upcallQueues{dp: dp, free: make(chan *Upcall, handlers*qlen)}
	for i := 0; i < handlers*qlen; i++ {
		uq.free <- &Upcall{Packet: vport.NewPacketCap(upcallPacketCap)}
	}
	for i := 0; i < handlers; i++ {
		h := &handler{q: make(chan *Upcall, qlen), ex: newExecutor(dp)}
		uq.handlers = append(uq.handlers, h)
		uq.wg.Add(1)
		go uq.handle(h)
	}
	return uq
}

// handle runs one handler goroutine until its queue is closed. A
// BatchUpcallHandler gets the upcalls waiting in the queue together.
func (uq *upcallQueues) handle(h *handler) {
	defer uq.wg.Done()
	hd := uq.dp.cfg.Handler
	bh, _ := hd.(BatchUpcallHandler)
	batch := make([]*Upcall, 0, UpcallBatch)
	for u := range h.q {
		batch = append(batch[:0], u)
		if bh != nil {
		fill:
			for len(batch) < cap(batch) {
				select {
				case u, ok := <-h.q:
					if !ok {
						break fill
					}
					batch = append(batch, u)
				default:
					break fill
				}
			}
		}
		for _, u := range batch {
			u.ex, u.executed, u.batched = h.ex, false, bh != nil
		}
		switch {
		case bh != nil:
			bh.HandleUpcalls(batch)
			h.ex.flush()
		case hd != nil:
			hd.HandleUpcall(u)
		}
		for i, u := range batch {
			if u.next != nil && !u.executed {
				uq.followers(h.ex, u)
			}
			u.ex, u.batched = nil, false
			uq.put(u)
			batch[i] = nil
		}
	}
}

// followers runs the followers of u, whose handler did not execute them,
// through the megaflow now installed for their key.
func (uq *upcallQueues) followers(ex *executor, u *Upcall) {
	dp := uq.dp
	f, _ := dp.table.lookup(&u.Key)
	if f == nil {
		dp.stats.followersLost.Add(uint64(u.nfollow))
		return
	}
	ex.now = time.Now().UnixNano()
	ex.executeFollowers(u, f, f.Actions())
	ex.flush()
}

// take returns a free upcall, or nil (counted as lost) when there is none.
func (uq *upcallQueues) take() *Upcall {
	select {
	case u := <-uq.free:
		return u
	default:
		uq.dp.stats.lost.Add(1)
		return nil
	}
}

// put returns u and its followers to the free list.
func (uq *upcallQueues) put(u *Upcall) {
	for u != nil {
		next := u.next
		u.next, u.tail, u.nfollow, u.Userdata, u.executed = nil, nil, 0, nil, false
		uq.free <- u // never blocks: the list has room for every upcall
		u = next
	}
}

// enqueue queues leader u (with its followers) on the queue chosen by
// hash, or drops them all and counts them lost when that queue is full.
func (uq *upcallQueues) enqueue(u *Upcall, hash uint64) bool {
	select {
	case uq.handlers[hash%uint64(len(uq.handlers))].q <- u:
		return true
	default:
		uq.dp.stats.lost.Add(uint64(1 + u.nfollow))
		uq.put(u)
		return false
	}
}

// miss sends a packet that matched no megaflow to the slow path on its own
// (the executor's recirculation misses; workers batch theirs).
func (uq *upcallQueues) miss(p *vport.Packet, k *Key) {
	if p.HasOffload() && (p.IsGSO() || !p.FinishChecksum()) {
		uq.dp.stats.offloadDrops.Add(1)
		return
	}
	u := uq.take()
	if u == nil {
		return
	}
	u.Type = UpcallMiss
	u.InPort = uint32(FieldInPort.Get(k))
	u.Key = *k
	u.Packet.CopyFrom(p)
	u.TotalLen = p.Len()
	if uq.enqueue(u, emcHash(k)) {
		uq.dp.stats.upcalls.Add(1)
	}
}

// action sends a copy of p to the slow path for an ActUserspace action.
// (The executor completes offloads before it gets here.)
func (uq *upcallQueues) action(p *vport.Packet, k *Key, inPort uint32, a *Action) {
	u := uq.take()
	if u == nil {
		return
	}
	u.Type = UpcallAction
	u.InPort = inPort
	u.Key = *k
	u.Packet.CopyFrom(p)
	u.TotalLen = p.Len()
	if a.MaxLen > 0 {
		u.Packet.Truncate(int(a.MaxLen))
	}
	u.Userdata = a.Userdata
	uq.enqueue(u, emcHash(k))
}

// close stops the handler goroutines after the workers have stopped.
// Queued upcalls are still handled first.
func (uq *upcallQueues) close() {
	uq.once.Do(func() {
		for _, h := range uq.handlers {
			close(h.q)
		}
		uq.wg.Wait()
	})
}

// upcallBatch collects the miss upcalls of one worker batch, so that the
// misses of one flow make one upcall: an open-addressed table from the
// packet's key to the upcall of the first packet with that key. Owned by
// the worker.
type upcallBatch struct {
	slots   [2 * vport.BatchSize]batchSlot
	leaders []*Upcall // upcalls to queue, in arrival order
	since   int       // upcalls queued since the worker last yielded
}

type batchSlot struct {
	hash uint64
	u    *Upcall
}

func (b *upcallBatch) init() { b.leaders = make([]*Upcall, 0, 2*vport.BatchSize) }

// add adds a filled miss upcall with key hash h: as a follower of an
// earlier upcall of the batch with the same key, or as a new upcall.
func (b *upcallBatch) add(u *Upcall, h uint64) {
	mask := uint64(len(b.slots) - 1)
	i := h & mask
	for n := 0; n < len(b.slots); n++ {
		s := &b.slots[i]
		if s.u == nil {
			*s = batchSlot{h, u}
			break
		}
		if s.hash == h && s.u.Key == u.Key {
			l := s.u
			if l.tail == nil {
				l.next = u
			} else {
				l.tail.next = u
			}
			l.tail = u
			l.nfollow++
			return
		}
		i = (i + 1) & mask
	}
	b.leaders = append(b.leaders, u)
}

// flushBatch queues a batch's upcalls.
func (uq *upcallQueues) flushBatch(b *upcallBatch) {
	queued := 0
	for i, u := range b.leaders {
		if uq.enqueue(u, emcHash(&u.Key)) {
			queued++
		}
		b.leaders[i] = nil
	}
	b.leaders = b.leaders[:0]
	clear(b.slots[:])
	if queued > 0 {
		uq.dp.stats.upcalls.Add(uint64(queued))
		b.since += queued
	}
}

// ExecuteUpcall runs acts on a miss upcall's packet and on the packets
// queued behind it (its followers, of the same flow), as Execute would,
// but on the handler goroutine's own executor: no lock, and one send batch
// per port for all of them. The followers are credited to the megaflow
// installed for u.Key, if there is one. The slow path calls it from
// HandleUpcall, after translating (and installing) the flow, instead of
// Execute; the upcall's packets may be modified. In HandleUpcalls the
// sends wait for FlushUpcalls. Called outside HandleUpcall(s), it falls
// back to Execute for each packet.
func (dp *Datapath) ExecuteUpcall(u *Upcall, acts Actions) {
	ex := u.ex
	if ex == nil {
		for p := u; p != nil; p = p.next {
			dp.Execute(p.Packet, u.InPort, acts)
		}
		u.executed = true
		return
	}
	ex.now = time.Now().UnixNano()
	var l Layout
	var k Key
	Extract(u.Packet.Data(), u.InPort, &k, &l)
	ex.executeAny(u.Packet, &l, &k, u.InPort, acts)
	if u.next != nil {
		f, _ := dp.table.lookup(&u.Key)
		ex.executeFollowers(u, f, acts)
	}
	if !u.batched {
		ex.flush()
	}
	u.executed = true
}

// FlushUpcalls sends the packets that ExecuteUpcall queued for the upcalls
// of a BatchUpcallHandler's batch, one send per output port (see
// BatchUpcallHandler). It does nothing for upcalls outside HandleUpcalls.
func (dp *Datapath) FlushUpcalls(us []*Upcall) {
	for _, u := range us {
		if u.ex != nil && u.batched {
			u.ex.flush()
			return
		}
	}
}

// executeFollowers runs acts on the followers of u and credits them to f
// (when not nil).
func (ex *executor) executeFollowers(u *Upcall, f *Flow, acts Actions) {
	var l Layout
	var k Key
	var bytes uint64
	var flags uint16
	for fo := u.next; fo != nil; fo = fo.next {
		Extract(fo.Packet.Data(), u.InPort, &k, &l)
		bytes += uint64(fo.Packet.Len())
		if l.L4Proto == 6 {
			flags |= uint16(FieldTCPFlags.Get(&k))
		}
		ex.executeAny(fo.Packet, &l, &k, u.InPort, acts)
	}
	if f != nil {
		f.hit(uint64(u.nfollow), bytes, flags, ex.now)
	}
}
