package vport

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"
)

// testFrame returns a 60-byte Ethernet frame whose payload carries i, so
// frames of a batch can be told apart.
func testFrame(i int) []byte {
	f := make([]byte, 60)
	copy(f, []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5})
	copy(f[14:], fmt.Sprintf("frame %6d", i))
	return f
}

func newPackets(n int) []*Packet {
	pkts := make([]*Packet, n)
	for i := range pkts {
		pkts[i] = NewPacket()
	}
	return pkts
}

func packetsOf(frames ...[]byte) []*Packet {
	pkts := make([]*Packet, len(frames))
	for i, f := range frames {
		pkts[i] = NewPacketFrom(f)
	}
	return pkts
}

func TestMemPairBasic(t *testing.T) {
	checkLeaks(t)
	a, b := NewMemPair("a", "b")
	defer a.Close()
	defer b.Close()

	if ia, ib := a.Info(), b.Info(); ia.Name != "a" || ib.Name != "b" || ia.Kind != KindMemory ||
		ia.MTU != 1500 || len(ia.MAC) != 6 || bytes.Equal(ia.MAC, ib.MAC) || ia.MAC[0]&3 != 2 {
		t.Fatalf("bad info %+v %+v", ia, ib)
	}
	if s := a.State(); !s.AdminUp || !s.Carrier {
		t.Fatalf("state %+v, want up", s)
	}

	a.SendFrame(testFrame(1))
	got, ok := b.RecvFrame(time.Second)
	if !ok || !bytes.Equal(got, testFrame(1)) {
		t.Fatalf("b got %x ok=%v", got, ok)
	}
	b.SendFrame(testFrame(2))
	got, ok = a.RecvFrame(time.Second)
	if !ok || !bytes.Equal(got, testFrame(2)) {
		t.Fatalf("a got %x ok=%v", got, ok)
	}
	if _, ok := a.RecvFrame(10 * time.Millisecond); ok {
		t.Fatalf("unexpected frame")
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.TxPackets != 1 || sa.RxPackets != 1 || sa.TxBytes != 60 || sb.RxBytes != 60 {
		t.Fatalf("stats a=%+v b=%+v", sa, sb)
	}
}

func TestMemPairBatch(t *testing.T) {
	a, b := NewMemPair("a", "b")
	defer a.Close()
	defer b.Close()

	var frames [][]byte
	for i := range 100 {
		frames = append(frames, testFrame(i))
	}
	if n, err := a.Send(packetsOf(frames...)); n != 100 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	pkts := newPackets(BatchSize)
	var got [][]byte
	for len(got) < 100 {
		n, err := b.Recv(pkts)
		if err != nil {
			t.Fatal(err)
		}
		if n > BatchSize || n == 0 {
			t.Fatalf("Recv returned %d", n)
		}
		for _, p := range pkts[:n] {
			got = append(got, append([]byte(nil), p.Data()...))
		}
	}
	for i := range frames {
		if !bytes.Equal(got[i], frames[i]) {
			t.Fatalf("frame %d: got %x want %x", i, got[i], frames[i])
		}
	}
	// Received packets have the full headroom in front.
	if pkts[0].Push(Headroom) == nil {
		t.Fatalf("no headroom in a received packet")
	}
}

func TestMemPairOverflow(t *testing.T) {
	a, b := NewMemPair("a", "b")
	defer a.Close()
	defer b.Close()

	pkts := packetsOf(testFrame(0))
	for range MemQueueLen + 10 {
		a.Send(pkts)
	}
	if s := a.Stats(); s.TxPackets != MemQueueLen || s.TxDropped != 10 {
		t.Fatalf("stats %+v, want %d sent and 10 dropped", s, MemQueueLen)
	}
	// Empty and oversized frames are errors.
	big := NewPacket()
	big.SetFrame(make([]byte, MaxFrameLen))
	big.Push(1)
	if n, _ := b.Send([]*Packet{NewPacket(), big}); n != 0 || b.Stats().TxErrors != 2 {
		t.Fatalf("bad frames: n=%d stats %+v", n, b.Stats())
	}
	rx := newPackets(BatchSize)
	total := 0
	for total < MemQueueLen {
		n, err := b.Recv(rx)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if s := b.Stats(); s.RxPackets != MemQueueLen {
		t.Fatalf("b stats %+v", s)
	}
}

func TestMemPairAdminDown(t *testing.T) {
	a, b := NewMemPair("a", "b")
	defer a.Close()
	defer b.Close()

	if err := b.SetAdminUp(false); err != nil {
		t.Fatal(err)
	}
	if s := a.State(); !s.AdminUp || s.Carrier {
		t.Fatalf("a state %+v, want admin up, no carrier", s)
	}
	if s := b.State(); s.AdminUp || s.Carrier {
		t.Fatalf("b state %+v, want down", s)
	}
	a.SendFrame(testFrame(1))
	b.SendFrame(testFrame(2))
	if a.Stats().TxDropped != 1 || b.Stats().TxDropped != 1 {
		t.Fatalf("drops a=%+v b=%+v", a.Stats(), b.Stats())
	}
	if _, ok := b.RecvFrame(10 * time.Millisecond); ok {
		t.Fatalf("down port received a frame")
	}
	b.SetAdminUp(true)
	a.SendFrame(testFrame(3))
	if got, ok := b.RecvFrame(time.Second); !ok || !bytes.Equal(got, testFrame(3)) {
		t.Fatalf("after up: %x %v", got, ok)
	}
}

func TestMemPairCloseUnblocksRecv(t *testing.T) {
	checkLeaks(t)
	a, b := NewMemPair("a", "b")
	defer b.Close()

	errc := make(chan error, 1)
	go func() {
		_, err := a.Recv(newPackets(4))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	a.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Recv after Close: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Close did not unblock Recv")
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := a.Send(packetsOf(testFrame(0))); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if a.SetAdminUp(true) == nil {
		t.Fatalf("SetAdminUp after Close succeeded")
	}
	// The peer stays usable with its carrier down; its sends are dropped.
	if s := b.State(); !s.AdminUp || s.Carrier {
		t.Fatalf("peer state %+v", s)
	}
	if n, err := b.Send(packetsOf(testFrame(0))); n != 0 || err != nil || b.Stats().TxDropped != 1 {
		t.Fatalf("peer Send = %d, %v, stats %+v", n, err, b.Stats())
	}
}

func TestMemPairPeerCloseKeepsQueued(t *testing.T) {
	a, b := NewMemPair("a", "b")
	defer b.Close()
	a.SendFrame(testFrame(7))
	a.Close()
	if got, ok := b.RecvFrame(time.Second); !ok || !bytes.Equal(got, testFrame(7)) {
		t.Fatalf("queued frame lost on peer close: %x %v", got, ok)
	}
	if _, ok := b.RecvFrame(10 * time.Millisecond); ok {
		t.Fatalf("unexpected frame")
	}
}

func TestMemPairConcurrent(t *testing.T) {
	checkLeaks(t)
	a, b := NewMemPair("a", "b")
	const total = 20000
	done := make(chan int)
	go func() {
		pkts := newPackets(BatchSize)
		got := 0
		for {
			n, err := b.Recv(pkts)
			if err != nil {
				done <- got
				return
			}
			for _, p := range pkts[:n] {
				if p.Len() != 60 {
					panic("bad frame")
				}
			}
			got += n
		}
	}()
	tx := packetsOf(testFrame(0), testFrame(1), testFrame(2), testFrame(3))
	sent := 0
	for sent < total {
		n, _ := a.Send(tx)
		sent += n
		if n < len(tx) {
			time.Sleep(time.Microsecond)
		}
		_ = a.Stats()
		_ = b.State()
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.Stats().RxPackets < total && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	b.Close()
	a.Close()
	if got := <-done; got != total {
		t.Fatalf("received %d of %d (a %+v)", got, total, a.Stats())
	}
}

func TestMemPairZeroAllocs(t *testing.T) {
	a, b := NewMemPair("a", "b")
	defer a.Close()
	defer b.Close()
	tx := make([]*Packet, BatchSize)
	for i := range tx {
		tx[i] = NewPacketFrom(testFrame(i))
	}
	rx := newPackets(BatchSize)
	cycle := func() {
		if n, err := a.Send(tx); n != BatchSize || err != nil {
			panic(fmt.Sprint("send ", n, err))
		}
		for got := 0; got < BatchSize; {
			n, err := b.Recv(rx)
			if err != nil {
				panic(err)
			}
			got += n
		}
	}
	// Warm up: the first pass through each queue slot allocates its buffer.
	for range MemQueueLen/BatchSize + 1 {
		cycle()
	}
	if allocs := testing.AllocsPerRun(200, cycle); allocs != 0 {
		t.Fatalf("%v allocations per send+recv of %d frames", allocs, BatchSize)
	}
}

func BenchmarkMemPair(b *testing.B) {
	pa, pb := NewMemPair("a", "b")
	defer pa.Close()
	defer pb.Close()
	tx := make([]*Packet, BatchSize)
	for i := range tx {
		tx[i] = NewPacketFrom(testFrame(i))
	}
	rx := newPackets(BatchSize)
	b.ReportAllocs()
	b.SetBytes(int64(BatchSize * 60))
	b.ResetTimer()
	for b.Loop() {
		pa.Send(tx)
		for got := 0; got < BatchSize; {
			n, err := pb.Recv(rx)
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*BatchSize), "ns/frame")
}
