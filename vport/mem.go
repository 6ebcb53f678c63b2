package vport

import (
	"hash/fnv"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// MemQueueLen is how many frames one direction of a memory pair holds before
// the sender's frames are dropped (and counted in its TxDropped).
const MemQueueLen = 1024

// memSlotMin is the smallest buffer a queue slot is given, so that a slot
// that once held a short frame does not grow again for the next full-sized
// Ethernet frame.
const memSlotMin = 2048

// MemPort is one end of an in-memory pair of ports wired back to back, made
// by NewMemPair: frames sent on one end are received, copied, on the other.
// It lets the switch run in tests without root.
//
// Semantics, modelled on a cable between two NICs:
//   - Each direction is a bounded queue of MemQueueLen frames. Send never
//     blocks: frames that do not fit are dropped and counted in the
//     sender's TxDropped.
//   - The link (Carrier) is up while both ends are open and administratively
//     up. While it is down, Send drops every frame and counts it in the
//     sender's TxDropped; frames already queued stay queued.
//   - Close of one end makes that end's Recv and Send return ErrClosed at
//     once (frames queued for it are discarded, not drained). The other end
//     stays open with its carrier down: its Recv returns the frames that were
//     already queued for it, then blocks until its own Close.
//   - MTU is reported as 1500 but not enforced; frames longer than
//     MaxFrameLen or empty, and GSO super-frames, are counted in TxErrors.
//     The ports have no offloads: a frame's offload state is not carried
//     over (the datapath completes checksums before sending here).
//
// Buffers: each queue slot owns a byte slice that is reused for every frame
// that passes through the slot (it grows only when a longer frame than ever
// before arrives), so the steady state allocates nothing. Send copies the
// frames in, Recv copies them out into the caller's packets.
type MemPort struct {
	info Info
	in   *memQueue // frames for this end; the peer's Send fills it
	out  *memQueue // frames for the peer (peer.in)
	peer *MemPort

	stats   counters
	adminUp atomic.Bool
	closed  atomic.Bool
	done    chan struct{} // closed by Close; wakes a blocked Recv
	once    sync.Once
}

var (
	_ Port        = (*MemPort)(nil)
	_ AdminSetter = (*MemPort)(nil)
)

// memQueue is one direction of a pair: a ring of MemQueueLen frame buffers.
type memQueue struct {
	mu     sync.Mutex
	slots  [][]byte // guarded by mu; slots[i] holds a frame when queued
	head   int      // guarded by mu; index of the oldest queued frame
	n      int      // guarded by mu; number of queued frames
	closed bool     // guarded by mu; the receiving end was closed

	// ready has room for one token; a sender leaves one after queueing
	// frames so that a receiver waiting on it wakes up. A stale token only
	// causes one extra look at the queue.
	ready chan struct{}

	// A poller sleeping on the receiving end (PrepareWait) is woken
	// through an eventfd instead.
	waitFD   int  // guarded by mu; the eventfd, created by the first PrepareWait (-1: none)
	sleeping bool // guarded by mu; set by PrepareWait, cleared by the next Send that queues
}

func newMemQueue() *memQueue {
	return &memQueue{slots: make([][]byte, MemQueueLen), ready: make(chan struct{}, 1), waitFD: -1}
}

// NewMemPair returns two memory ports wired back to back, named nameA and
// nameB, both administratively up. Their MACs are derived from the names
// (locally administered unicast), MTU 1500, Kind KindMemory, Ifindex 0.
func NewMemPair(nameA, nameB string) (*MemPort, *MemPort) {
	ab, ba := newMemQueue(), newMemQueue()
	a := newMemPort(nameA, ba, ab)
	b := newMemPort(nameB, ab, ba)
	a.peer, b.peer = b, a
	return a, b
}

func newMemPort(name string, in, out *memQueue) *MemPort {
	p := &MemPort{
		info: Info{Name: name, Kind: KindMemory, MAC: memMAC(name), MTU: 1500},
		in:   in,
		out:  out,
		done: make(chan struct{}),
	}
	p.adminUp.Store(true)
	return p
}

// memMAC derives a locally administered unicast MAC from a port name.
func memMAC(name string) net.HardwareAddr {
	h := fnv.New64a()
	h.Write([]byte(name))
	s := h.Sum64()
	return net.HardwareAddr{0x02, byte(s >> 32), byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
}

// Info returns the port's description.
func (p *MemPort) Info() Info {
	i := p.info
	i.MAC = append(net.HardwareAddr(nil), p.info.MAC...)
	return i
}

// Stats returns the port's counters.
func (p *MemPort) Stats() Stats { return p.stats.snapshot() }

// State reports AdminUp as set by SetAdminUp, and Carrier while both ends
// are open and administratively up.
func (p *MemPort) State() LinkState {
	up := p.adminUp.Load()
	return LinkState{AdminUp: up, Carrier: up && p.linkUp()}
}

// linkUp reports whether frames can pass between the two ends.
func (p *MemPort) linkUp() bool {
	return p.adminUp.Load() && !p.closed.Load() && p.peer.adminUp.Load() && !p.peer.closed.Load()
}

// SetAdminUp sets the port's administrative state. While either end is down
// the link is down and frames sent on either end are dropped.
func (p *MemPort) SetAdminUp(up bool) error {
	if p.closed.Load() {
		return ErrClosed
	}
	p.adminUp.Store(up)
	return nil
}

// Send copies the frames of pkts into the peer's queue. It never blocks; it
// returns how many frames were queued.
func (p *MemPort) Send(pkts []*Packet) (int, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	if len(pkts) == 0 {
		return 0, nil
	}
	if !p.linkUp() {
		p.stats.tx.drop(len(pkts))
		return 0, nil
	}
	q := p.out
	sent, bytes, dropped, bad := 0, 0, 0, 0
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		p.stats.tx.drop(len(pkts))
		return 0, nil
	}
	for _, pkt := range pkts {
		frame := pkt.Data()
		if len(frame) == 0 || len(frame) > MaxFrameLen || pkt.IsGSO() {
			bad++
			continue
		}
		if q.n == len(q.slots) {
			dropped++
			continue
		}
		i := (q.head + q.n) % len(q.slots)
		s := q.slots[i]
		if cap(s) < len(frame) {
			s = make([]byte, 0, max(len(frame), memSlotMin))
		}
		q.slots[i] = append(s[:0], frame...)
		q.n++
		sent++
		bytes += len(frame)
	}
	if sent > 0 && q.sleeping {
		q.sleeping = false
		wakeFD(q.waitFD)
	}
	q.mu.Unlock()
	if sent > 0 {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	p.stats.tx.add(sent, bytes)
	p.stats.tx.drop(dropped)
	p.stats.tx.fail(bad)
	return sent, nil
}

// Recv blocks until at least one frame is queued for this end, then copies
// up to len(pkts) frames into pkts. It returns ErrClosed after Close.
func (p *MemPort) Recv(pkts []*Packet) (int, error) {
	return p.recv(pkts, nil)
}

// TryRecv is Recv without waiting: it returns 0 and no error when no frame
// is queued.
func (p *MemPort) TryRecv(pkts []*Packet) (int, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	return p.take(pkts), nil
}

// take copies up to len(pkts) queued frames into pkts.
func (p *MemPort) take(pkts []*Packet) int {
	q := p.in
	q.mu.Lock()
	n, bytes := 0, 0
	for n < len(pkts) && q.n > 0 {
		s := q.slots[q.head]
		pkts[n].SetLen(copy(pkts[n].RecvBuf(), s))
		bytes += len(s)
		q.head = (q.head + 1) % len(q.slots)
		q.n--
		n++
	}
	q.mu.Unlock()
	p.stats.rx.add(n, bytes)
	return n
}

// recv is Recv that also gives up, returning 0 and no error, when timeout
// fires (a nil channel never fires).
func (p *MemPort) recv(pkts []*Packet, timeout <-chan time.Time) (int, error) {
	if len(pkts) == 0 {
		return 0, nil
	}
	q := p.in
	for {
		if p.closed.Load() {
			return 0, ErrClosed
		}
		if n := p.take(pkts); n > 0 {
			return n, nil
		}
		select {
		case <-q.ready:
		case <-p.done:
		case <-timeout:
			return 0, nil
		}
	}
}

// Close closes this end: its Recv and Send return ErrClosed, frames queued
// for it are discarded, and the peer's carrier goes down. It is idempotent.
func (p *MemPort) Close() error {
	p.once.Do(func() {
		p.closed.Store(true)
		q := p.in
		q.mu.Lock()
		q.closed = true
		q.slots, q.head, q.n = nil, 0, 0
		closeWaitFD(q.waitFD)
		q.waitFD, q.sleeping = -1, false
		q.mu.Unlock()
		close(p.done)
	})
	return nil
}

// SendFrame sends one frame (a test convenience; it allocates).
func (p *MemPort) SendFrame(frame []byte) {
	pkt := NewPacketFrom(frame)
	p.Send([]*Packet{pkt})
}

// RecvFrame waits up to timeout for one frame and returns a copy of it; ok is
// false on timeout or after Close (a test convenience; it allocates).
func (p *MemPort) RecvFrame(timeout time.Duration) (frame []byte, ok bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	pkt := NewPacket()
	n, err := p.recv([]*Packet{pkt}, t.C)
	if err != nil || n == 0 {
		return nil, false
	}
	return append([]byte(nil), pkt.Data()...), true
}
