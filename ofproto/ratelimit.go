package ofproto

import (
	"sync"
	"sync/atomic"
	"time"
)

// pinsched limits the packet-ins of one connection to a rate with a burst,
// fairly across input ports, as Open vSwitch's pinsched does for
// controller_rate_limit and controller_burst_limit.
//
// A token bucket (rate tokens per second, at most burst) admits packet-ins
// as they come while nothing waits. Others wait in one FIFO per input port,
// burst packets at most in all; the drain goroutine sends them round-robin
// across ports as tokens arrive. When the queues are full, a packet-in is
// dropped from the longest queue (the new one when it would join the
// longest), so that a port flooding the switch loses its own packets and
// not the others'. Every drop is counted.
//
// submit never blocks (it is called from the datapath's upcall handlers);
// its lock is held for a few map and slice operations.
type pinsched struct {
	rate  float64 // tokens per second
	burst float64

	mu      sync.Mutex
	tokens  float64              // guarded by mu
	last    time.Time            // guarded by mu; last refill
	queues  map[uint32]*pinQueue // guarded by mu; ports with queued packet-ins
	ring    []uint32             // guarded by mu; round-robin order of queues' ports
	next    int                  // guarded by mu; index in ring to serve next
	nQueued int                  // guarded by mu

	wake chan struct{} // signals the drain goroutine (capacity 1)

	sent    atomic.Uint64 // admitted at once or later from a queue
	queued  atomic.Uint64 // packet-ins that had to wait
	dropped atomic.Uint64 // dropped by the limit
}

type pinQueue struct {
	msgs [][]byte
}

// newPinsched returns a scheduler for rate packet-ins per second with
// burst; rate <= 0 means no limit (nil).
func newPinsched(rate, burst int) *pinsched {
	if rate <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = max(rate/4, 1) // Open vSwitch's default
	}
	return &pinsched{
		rate:   float64(rate),
		burst:  float64(burst),
		tokens: float64(burst),
		last:   time.Now(),
		queues: map[uint32]*pinQueue{},
		wake:   make(chan struct{}, 1),
	}
}

// refillLocked adds the tokens earned since the last refill.
func (s *pinsched) refillLocked(now time.Time) {
	d := now.Sub(s.last).Seconds()
	s.last = now
	if d > 0 {
		s.tokens = min(s.burst, s.tokens+d*s.rate)
	}
}

// submit offers a packet-in from inPort. encode produces its bytes (called
// at most once, and only if the packet-in is sent or queued). It returns
// the bytes to send now (nil when the packet-in was queued or dropped),
// whether it was queued, and how many packet-ins it dropped.
func (s *pinsched) submit(inPort uint32, encode func() []byte) (now []byte, queued bool, dropped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refillLocked(time.Now())
	if s.nQueued == 0 && s.tokens >= 1 {
		s.tokens--
		s.sent.Add(1)
		return encode(), false, 0
	}
	if float64(s.nQueued) >= s.burst {
		li := s.longestLocked()
		longest := s.queues[s.ring[li]]
		own := s.queues[inPort]
		if own == longest || (own != nil && len(own.msgs) >= len(longest.msgs)) {
			s.dropped.Add(1)
			return nil, false, 1
		}
		longest.msgs[0] = nil
		longest.msgs = longest.msgs[1:]
		s.nQueued--
		s.dropped.Add(1)
		dropped = 1
		if len(longest.msgs) == 0 {
			s.removeLocked(li)
		}
	}
	b := encode()
	if b == nil {
		return nil, false, dropped
	}
	q := s.queues[inPort]
	if q == nil {
		q = &pinQueue{}
		s.queues[inPort] = q
		s.ring = append(s.ring, inPort)
	}
	q.msgs = append(q.msgs, b)
	s.nQueued++
	s.queued.Add(1)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil, true, dropped
}

// longestLocked returns the index in ring of the queue with the most
// packet-ins (nQueued > 0).
func (s *pinsched) longestLocked() int {
	best, n := 0, -1
	for i, port := range s.ring {
		if l := len(s.queues[port].msgs); l > n {
			best, n = i, l
		}
	}
	return best
}

// removeLocked forgets the (empty) queue at ring index i.
func (s *pinsched) removeLocked(i int) {
	delete(s.queues, s.ring[i])
	s.ring = append(s.ring[:i], s.ring[i+1:]...)
	if s.next > i {
		s.next--
	}
}

// take removes up to the packet-ins that the tokens allow, round-robin
// across ports, and appends them to out. It also returns how long until
// the next token when packet-ins remain queued (0 when none remain).
func (s *pinsched) take(now time.Time, out [][]byte) ([][]byte, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refillLocked(now)
	for s.nQueued > 0 && s.tokens >= 1 {
		if s.next >= len(s.ring) {
			s.next = 0
		}
		port := s.ring[s.next]
		q := s.queues[port]
		out = append(out, q.msgs[0])
		q.msgs[0] = nil
		q.msgs = q.msgs[1:]
		s.nQueued--
		s.tokens--
		s.sent.Add(1)
		if len(q.msgs) == 0 {
			s.removeLocked(s.next)
		} else {
			s.next++
		}
	}
	if s.nQueued == 0 {
		return out, 0
	}
	wait := time.Duration((1 - s.tokens) / s.rate * float64(time.Second))
	return out, max(wait, time.Millisecond)
}

// run drains the queues into send until stop is closed. It is the
// connection's pinsched goroutine.
func (s *pinsched) run(stop <-chan struct{}, send func([]byte)) {
	var batch [][]byte
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var wait time.Duration
		batch, wait = s.take(time.Now(), batch[:0])
		for i, b := range batch {
			send(b)
			batch[i] = nil
		}
		var tc <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			tc = timer.C
		}
		select {
		case <-stop:
			return
		case <-s.wake:
		case <-tc:
		}
	}
}

// queuedNow returns the number of packet-ins waiting.
func (s *pinsched) queuedNow() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nQueued
}
