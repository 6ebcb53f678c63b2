package ofproto

import (
	"sync"
	"testing"
	"time"
)

func msg(port uint32) func() []byte {
	return func() []byte { return []byte{byte(port)} }
}

// TestPinschedBurstThenQueue: a burst goes through at once, the next
// packet-ins wait, and the queues hold at most burst packet-ins.
func TestPinschedBurstThenQueue(t *testing.T) {
	s := newPinsched(10, 5)
	for i := 0; i < 5; i++ {
		if b, q, d := s.submit(1, msg(1)); b == nil || q || d != 0 {
			t.Fatalf("packet-in %d of the burst: sent %v queued %v dropped %d", i, b != nil, q, d)
		}
	}
	for i := 0; i < 5; i++ {
		if b, q, _ := s.submit(1, msg(1)); b != nil || !q {
			t.Fatalf("packet-in %d after the burst: sent %v queued %v", i, b != nil, q)
		}
	}
	if b, q, d := s.submit(1, msg(1)); b != nil || q || d != 1 {
		t.Fatalf("packet-in over a full queue: sent %v queued %v dropped %d", b != nil, q, d)
	}
	if s.queuedNow() != 5 || s.dropped.Load() != 1 || s.sent.Load() != 5 {
		t.Fatalf("queued %d dropped %d sent %d", s.queuedNow(), s.dropped.Load(), s.sent.Load())
	}
}

// TestPinschedFairness: port 1 floods; a packet-in from port 2 displaces
// one of port 1's, and the drain alternates between the ports.
func TestPinschedFairness(t *testing.T) {
	s := newPinsched(1000, 4)
	s.tokens = 0
	for i := 0; i < 4; i++ {
		s.submit(1, msg(1))
	}
	// Full: port 1's own packet-ins are dropped, port 2's get in.
	if _, q, d := s.submit(1, msg(1)); q || d != 1 {
		t.Fatalf("flooding port: queued %v dropped %d", q, d)
	}
	for i := 0; i < 2; i++ {
		if _, q, d := s.submit(2, msg(2)); !q || d != 1 {
			t.Fatalf("quiet port packet-in %d: queued %v dropped %d", i, q, d)
		}
	}
	// Now 2 and 2: a third from port 2 would make port 2 the longest.
	if _, q, _ := s.submit(2, msg(2)); q {
		t.Fatal("port 2 took more than its share")
	}
	s.mu.Lock()
	s.tokens = 4
	s.last = time.Now()
	s.mu.Unlock()
	out, wait := s.take(time.Now(), nil)
	if len(out) != 4 || wait != 0 {
		t.Fatalf("took %d, wait %v", len(out), wait)
	}
	if out[0][0] == out[1][0] || out[1][0] == out[2][0] {
		t.Errorf("drain order %v: want the ports alternating", out)
	}
}

// TestPinschedRate: under a flood, the drain goroutine sends at the rate.
func TestPinschedRate(t *testing.T) {
	const rate, burst = 200, 20
	s := newPinsched(rate, burst)
	var mu sync.Mutex
	sent := 0
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.run(stop, func([]byte) { mu.Lock(); sent++; mu.Unlock() })
	}()
	start := time.Now()
	for time.Since(start) < 500*time.Millisecond {
		for p := uint32(1); p <= 4; p++ {
			if b, _, _ := s.submit(p, msg(p)); b != nil {
				mu.Lock()
				sent++
				mu.Unlock()
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
	close(stop)
	<-done
	el := time.Since(start).Seconds()
	mu.Lock()
	defer mu.Unlock()
	max := int(rate*el) + burst + 5
	if sent > max || sent < burst {
		t.Errorf("sent %d in %.2fs, want at most %d", sent, el, max)
	}
	if s.dropped.Load() == 0 {
		t.Error("nothing dropped under a flood")
	}
}

func TestPinschedOff(t *testing.T) {
	if newPinsched(0, 10) != nil {
		t.Fatal("a zero rate must mean no limit")
	}
	if s := newPinsched(100, 0); s.burst != 25 {
		t.Fatalf("default burst %v, want rate/4", s.burst)
	}
}
