package datapath

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govs/govs/vport"
)

// costlyMem is a memory port that says its TryRecv is a system call, so
// that a polling worker backs off from it while it is empty.
type costlyMem struct {
	*vport.MemPort
	tries atomic.Int64
}

func (c *costlyMem) TryRecvCostly() bool { return true }

func (c *costlyMem) TryRecv(pkts []*vport.Packet) (int, error) {
	c.tries.Add(1)
	return c.MemPort.TryRecv(pkts)
}

// TestCostlyPortBackoff checks that a port whose TryRecv is costly still
// gets its frames through at once when the worker is idle and soon while
// another port keeps the worker busy, and that the busy worker tries it
// less often than once a round.
func TestCostlyPortBackoff(t *testing.T) {
	dp := New(Config{Workers: 1})
	busySw, busyHost := vport.NewMemPair("busy-sw", "busy-host")
	sinkSw, sinkHost := vport.NewMemPair("sink-sw", "sink-host")
	cSw, cHost := vport.NewMemPair("costly-sw", "costly-host")
	costly := &costlyMem{MemPort: cSw}
	for no, p := range map[uint32]vport.Port{1: busySw, 2: sinkSw, 3: costly} {
		if err := dp.AddPort(no, p); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		dp.Close()
		busyHost.Close()
		sinkHost.Close()
		cHost.Close()
	})
	var costlyFlow *Flow // the megaflow of port 3's frames
	for _, in := range []uint32{1, 3} {
		var k Key
		FieldInPort.Set(&k, uint64(in))
		f, err := dp.FlowPut(&k, &inPortMask, Actions{Output(2)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if in == 3 {
			costlyFlow = f
		}
	}
	frame := udpFrame(t, "198.18.0.1", "198.18.0.2", 1000, 2000)
	frame3 := udpFrame(t, "198.18.0.3", "198.18.0.2", 3000, 2000)

	// Idle worker: the costly port's frame wakes it.
	cHost.SendFrame(frame3)
	if _, ok := sinkHost.RecvFrame(2 * time.Second); !ok {
		t.Fatal("frame from the costly port not forwarded by an idle worker")
	}

	// Busy worker: port 1 floods, the sink is drained, and the costly
	// port's frames are still processed. They are counted on their
	// megaflow, not at the sink, whose queue may overflow when the drain
	// falls behind (under the race detector, beside other tests).
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				busyHost.SendFrame(frame)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			sinkHost.RecvFrame(10 * time.Millisecond)
		}
	}()
	time.Sleep(50 * time.Millisecond)
	before := dp.Stats().Hit
	triesBefore := costly.tries.Load()
	costlyBefore := costlyFlow.Stats().Packets
	fromCostly := func() uint64 { return costlyFlow.Stats().Packets - costlyBefore }
	for i := 0; i < 5; i++ {
		cHost.SendFrame(frame3)
		time.Sleep(5 * time.Millisecond)
	}
	deadline := time.Now().Add(5 * time.Second)
	for fromCostly() < 5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	hits := dp.Stats().Hit - before
	tries := costly.tries.Load() - triesBefore
	close(stop)
	wg.Wait()
	t.Logf("busy: %d packets forwarded, costly port tried %d times", hits, tries)
	if n := fromCostly(); n < 5 {
		t.Fatalf("%d of 5 frames from the costly port forwarded while the worker was busy", n)
	}
	// Rounds carry up to a batch each; with the costly port tried every
	// round there would be about one try per round. Only check that the
	// backoff kicked in at all when the worker was busy.
	if hits > 20*vport.BatchSize && uint64(tries)*2 > hits {
		t.Errorf("costly port tried %d times for %d packets forwarded: no backoff", tries, hits)
	}
}

// TestEMCProbabilisticInsert: a free or dead entry is always taken, a live
// one is replaced only now and then.
func TestEMCProbabilisticInsert(t *testing.T) {
	var c emc
	k1 := keyWith(1, 0x800, 1, 2, 3)
	h := emcHash(&k1)
	f1, f2 := &Flow{}, &Flow{}
	c.maybeInsert(&k1, h, f1)
	if c.lookup(&k1, h) != f1 {
		t.Fatal("a free entry was not taken")
	}
	k2 := keyWith(1, 0x800, 1, 2, 4)
	const tries = 20000
	replaced := 0
	for i := 0; i < tries; i++ {
		c.insert(&k1, h, f1)
		c.maybeInsert(&k2, h, f2) // same slot: h, not k2's hash
		if c.entries[h&(emcEntries-1)].flow == f2 {
			replaced++
		}
	}
	if lo, hi := tries/emcInsertInvProb/2, tries/emcInsertInvProb*2; replaced < lo || replaced > hi {
		t.Fatalf("live entry replaced %d times in %d, want about %d", replaced, tries, tries/emcInsertInvProb)
	}
	c.insert(&k1, h, f1)
	f1.dead.Store(true)
	c.maybeInsert(&k2, h, f2)
	if c.entries[h&(emcEntries-1)].flow != f2 {
		t.Fatal("an entry of a dead flow was not replaced")
	}
}
