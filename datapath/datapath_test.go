package datapath

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/govs/govs/vport"
)

// udpFrame builds an Ethernet/IPv4/UDP frame with gopacket.
func udpFrame(t testing.TB, src, dst string, sport, dport uint16) []byte {
	t.Helper()
	eth := &layers.Ethernet{
		SrcMAC:       net.HardwareAddr{0x02, 0, 0, 0, 0, 1},
		DstMAC:       net.HardwareAddr{0x02, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4,
	}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, udp, gopacket.Payload(make([]byte, 18)))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// handlerFunc adapts a function to UpcallHandler.
type handlerFunc func(u *Upcall)

func (f handlerFunc) HandleUpcall(u *Upcall) { f(u) }

// testDP is a datapath with memory ports 1..n; hosts[i] is the far end of
// port i+1.
type testDP struct {
	dp    *Datapath
	hosts []*vport.MemPort
}

func newTestDP(t testing.TB, n int, cfg Config) *testDP {
	t.Helper()
	td := &testDP{dp: New(cfg)}
	for i := 1; i <= n; i++ {
		sw, host := vport.NewMemPair("sw"+string(rune('0'+i)), "host"+string(rune('0'+i)))
		if err := td.dp.AddPort(uint32(i), sw); err != nil {
			t.Fatal(err)
		}
		td.hosts = append(td.hosts, host)
	}
	t.Cleanup(func() {
		td.dp.Close()
		for _, h := range td.hosts {
			h.Close()
		}
	})
	return td
}

// inPortMask matches only the input port.
var inPortMask = maskOf(FieldInPort)

func TestMissUpcallThenHit(t *testing.T) {
	var td *testDP
	var upcalls atomic.Int32
	handler := handlerFunc(func(u *Upcall) {
		upcalls.Add(1)
		if u.Type != UpcallMiss || u.InPort != 1 {
			t.Errorf("upcall type %d in_port %d", u.Type, u.InPort)
		}
		acts := Actions{Output(2)}
		if _, err := td.dp.FlowPut(&u.Key, &inPortMask, acts, nil); err != nil {
			t.Errorf("FlowPut: %v", err)
		}
		td.dp.Execute(u.Packet, u.InPort, acts)
	})
	td = newTestDP(t, 2, Config{Handler: handler})
	frame := udpFrame(t, "198.18.0.1", "198.18.0.2", 1000, 2000)
	for i := 0; i < 3; i++ {
		td.hosts[0].SendFrame(frame)
		got, ok := td.hosts[1].RecvFrame(2 * time.Second)
		if !ok {
			t.Fatalf("packet %d not forwarded", i)
		}
		if !bytes.Equal(got, frame) {
			t.Fatalf("packet %d changed in flight", i)
		}
	}
	if n := upcalls.Load(); n != 1 {
		t.Errorf("upcalls = %d, want 1 (later packets hit the megaflow)", n)
	}
	s := td.dp.Stats()
	if s.Hit != 2 || s.Missed != 1 || s.Lost != 0 || s.Flows != 1 || s.Masks != 1 {
		t.Errorf("stats = %+v, want hit 2, missed 1, flows 1, masks 1", s)
	}
	var fs FlowStats
	td.dp.FlowDump(func(f *Flow) bool { fs = f.Stats(); return true })
	if fs.Packets != 2 || fs.Bytes != uint64(2*len(frame)) || fs.Used.IsZero() {
		t.Errorf("flow stats = %+v, want 2 packets, %d bytes", fs, 2*len(frame))
	}
}

// TestFlushBeforeReturn checks that once FlowFlush returns, no packet is
// forwarded by the old megaflow.
func TestFlushBeforeReturn(t *testing.T) {
	var td *testDP
	var outPort atomic.Uint32
	outPort.Store(2)
	handler := handlerFunc(func(u *Upcall) {
		acts := Actions{Output(outPort.Load())}
		td.dp.FlowPut(&u.Key, &inPortMask, acts, nil)
		td.dp.Execute(u.Packet, u.InPort, acts)
	})
	td = newTestDP(t, 3, Config{Handler: handler})
	frame := udpFrame(t, "198.18.0.1", "198.18.0.2", 1, 2)
	td.hosts[0].SendFrame(frame)
	if _, ok := td.hosts[1].RecvFrame(2 * time.Second); !ok {
		t.Fatal("not forwarded to port 2")
	}
	outPort.Store(3)
	td.dp.FlowFlush()
	for i := 0; i < 20; i++ {
		td.hosts[0].SendFrame(frame)
		if _, ok := td.hosts[2].RecvFrame(2 * time.Second); !ok {
			t.Fatalf("packet %d not forwarded to port 3 after the flush", i)
		}
	}
	if _, ok := td.hosts[1].RecvFrame(50 * time.Millisecond); ok {
		t.Fatal("a packet took the flushed megaflow")
	}
}

// TestUpcallQueueFull checks that a stalled slow path loses upcalls,
// counts them, and never blocks the worker.
func TestUpcallQueueFull(t *testing.T) {
	release := make(chan struct{})
	var handled atomic.Int32
	handler := handlerFunc(func(u *Upcall) {
		<-release
		handled.Add(1)
	})
	td := newTestDP(t, 2, Config{Handler: handler, Handlers: 1, QueueLen: 4})
	const sent = 200
	for i := 0; i < sent; i++ {
		td.hosts[0].SendFrame(udpFrame(t, "198.18.0.1", "198.18.0.2", uint16(i), 9))
	}
	deadline := time.Now().Add(5 * time.Second)
	for td.dp.Stats().Missed < sent && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	s := td.dp.Stats()
	if s.Missed != sent {
		t.Fatalf("missed = %d, want %d (worker blocked?)", s.Missed, sent)
	}
	for time.Now().Before(deadline) && uint64(handled.Load())+s.Lost < sent {
		time.Sleep(time.Millisecond)
	}
	if s.Lost == 0 || uint64(handled.Load())+s.Lost != sent {
		t.Errorf("lost %d + handled %d, want %d with some lost", s.Lost, handled.Load(), sent)
	}
}

// TestModifyAfterOutputCopies checks that an output followed by a
// modification and a second output sends the packet as it was at each
// output.
func TestModifyAfterOutputCopies(t *testing.T) {
	var td *testDP
	newDst := uint64(0x0200000000aa)
	acts := Actions{
		Output(2),
		{Type: ActSetField, Field: SetEthDst, Value: [2]uint64{0, newDst}, Mask: [2]uint64{0, 0xffffffffffff}},
		Output(3),
	}
	handler := handlerFunc(func(u *Upcall) {
		td.dp.FlowPut(&u.Key, &inPortMask, acts, nil)
		td.dp.Execute(u.Packet, u.InPort, acts)
	})
	td = newTestDP(t, 3, Config{Handler: handler})
	frame := udpFrame(t, "198.18.0.1", "198.18.0.2", 5, 6)
	for i := 0; i < 2; i++ { // the first packet takes the slow path, the second the fast path
		td.hosts[0].SendFrame(frame)
		a, ok1 := td.hosts[1].RecvFrame(2 * time.Second)
		b, ok2 := td.hosts[2].RecvFrame(2 * time.Second)
		if !ok1 || !ok2 {
			t.Fatalf("packet %d: outputs missing", i)
		}
		if !bytes.Equal(a, frame) {
			t.Errorf("packet %d: port 2 got a modified frame", i)
		}
		if !bytes.Equal(b[:6], []byte{2, 0, 0, 0, 0, 0xaa}) || !bytes.Equal(b[6:], frame[6:]) {
			t.Errorf("packet %d: port 3 got %x, want the new destination", i, b[:12])
		}
	}
}

func TestPortAddDel(t *testing.T) {
	dp := New(Config{})
	defer dp.Close()
	a, b := vport.NewMemPair("a", "b")
	defer b.Close()
	if err := dp.AddPort(5, a); err != nil {
		t.Fatal(err)
	}
	c, d := vport.NewMemPair("c", "d")
	defer d.Close()
	if err := dp.AddPort(5, c); err == nil {
		t.Fatal("duplicate port number accepted")
	}
	if got := dp.PortNumbers(); len(got) != 1 || got[0] != 5 {
		t.Fatalf("ports = %v", got)
	}
	if err := dp.DelPort(5); err != nil {
		t.Fatal(err)
	}
	if err := dp.DelPort(5); err == nil {
		t.Fatal("deleting a missing port succeeded")
	}
	if _, err := a.Recv([]*vport.Packet{vport.NewPacket()}); err == nil {
		t.Fatal("deleted port not closed")
	}
}

// TestConcurrentFlushAndTraffic runs traffic through megaflows while
// another goroutine flushes, under -race.
func TestConcurrentFlushAndTraffic(t *testing.T) {
	var td *testDP
	var mu sync.Mutex
	handler := handlerFunc(func(u *Upcall) {
		mu.Lock()
		defer mu.Unlock()
		acts := Actions{Output(2)}
		td.dp.FlowPut(&u.Key, &inPortMask, acts, nil)
		td.dp.Execute(u.Packet, u.InPort, acts)
	})
	td = newTestDP(t, 2, Config{Handler: handler})
	frame := udpFrame(t, "198.18.0.1", "198.18.0.2", 7, 8)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			td.dp.FlowFlush()
			time.Sleep(100 * time.Microsecond)
		}
	}()
	var received atomic.Int64
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		for {
			if _, ok := td.hosts[1].RecvFrame(500 * time.Millisecond); !ok {
				return
			}
			received.Add(1)
		}
	}()
	const sent = 500
	for i := 0; i < sent; i++ {
		td.hosts[0].SendFrame(frame)
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // let the worker keep up with the memory queue
		}
	}
	<-done
	<-recvDone
	s := td.dp.Stats()
	if s.Hit+s.Missed != sent {
		t.Errorf("hit %d + missed %d != sent %d", s.Hit, s.Missed, sent)
	}
	// Packets queued behind an upcall whose flow a flush removed before
	// they could take it are dropped too (FollowersLost).
	if got := uint64(received.Load()); got != sent-s.Lost-s.FollowersLost {
		t.Errorf("received %d, want %d sent - %d lost - %d followers lost", got, sent, s.Lost, s.FollowersLost)
	}
}

// TestCloneIsolatesChanges: changes made inside a clone do not reach the
// actions after it.
func TestCloneIsolatesChanges(t *testing.T) {
	var td *testDP
	setDst := Action{Type: ActSetField, Field: SetEthDst, Value: [2]uint64{0, 0x0200000000bb}, Mask: [2]uint64{0, 0xffffffffffff}}
	acts := Actions{
		{Type: ActClone, Nested: Actions{setDst, Output(2)}},
		Output(3),
	}
	handler := handlerFunc(func(u *Upcall) {
		td.dp.FlowPut(&u.Key, &inPortMask, acts, nil)
		td.dp.Execute(u.Packet, u.InPort, acts)
	})
	td = newTestDP(t, 3, Config{Handler: handler})
	frame := udpFrame(t, "198.18.0.1", "198.18.0.2", 5, 6)
	for i := 0; i < 2; i++ {
		td.hosts[0].SendFrame(frame)
		a, ok1 := td.hosts[1].RecvFrame(2 * time.Second)
		b, ok2 := td.hosts[2].RecvFrame(2 * time.Second)
		if !ok1 || !ok2 {
			t.Fatalf("packet %d: outputs missing", i)
		}
		if !bytes.Equal(a[:6], []byte{2, 0, 0, 0, 0, 0xbb}) {
			t.Errorf("packet %d: the clone's output lacks its change: %x", i, a[:6])
		}
		if !bytes.Equal(b, frame) {
			t.Errorf("packet %d: the clone's change leaked to the output after it", i)
		}
	}
}

// batchHandler adapts a function to BatchUpcallHandler.
type batchHandler func(us []*Upcall)

func (f batchHandler) HandleUpcall(u *Upcall)     { f([]*Upcall{u}) }
func (f batchHandler) HandleUpcalls(us []*Upcall) { f(us) }

// TestBatchUpcallHandler checks that a BatchUpcallHandler's ExecuteUpcall
// sends nothing until FlushUpcalls, which sends every packet of the batch.
func TestBatchUpcallHandler(t *testing.T) {
	const n = 300
	var td *testDP
	var got, maxBatch atomic.Int32
	rx := make([]*vport.Packet, 64)
	for i := range rx {
		rx[i] = vport.NewPacket()
	}
	drain := func() int {
		total := 0
		for {
			k, _ := td.hosts[1].TryRecv(rx)
			if k == 0 {
				return total
			}
			total += k
		}
	}
	handler := batchHandler(func(us []*Upcall) {
		if len(us) > UpcallBatch {
			t.Errorf("batch of %d upcalls, more than %d", len(us), UpcallBatch)
		}
		maxBatch.Store(max(maxBatch.Load(), int32(len(us))))
		want := 0
		for _, u := range us {
			acts := Actions{Output(2)}
			if _, err := td.dp.FlowPut(&u.Key, &tpSrcMask, acts, nil); err != nil {
				t.Errorf("FlowPut: %v", err)
			}
			td.dp.ExecuteUpcall(u, acts)
			want += 1 + u.Followers()
		}
		if k := drain(); k != 0 {
			t.Errorf("%d packets sent before FlushUpcalls", k)
		}
		td.dp.FlushUpcalls(us)
		k := drain()
		if k != want {
			t.Errorf("FlushUpcalls sent %d packets, want %d", k, want)
		}
		got.Add(int32(k))
	})
	td = newTestDP(t, 2, Config{Handler: handler, Handlers: 1})
	for i := 0; i < n; i++ {
		td.hosts[0].SendFrame(udpFrame(t, "198.18.0.1", "198.18.0.2", uint16(1000+i), 2000))
	}
	deadline := time.Now().Add(10 * time.Second)
	for got.Load() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if g := got.Load(); g != n {
		t.Errorf("%d of %d packets forwarded", g, n)
	}
	if s := td.dp.Stats(); s.Lost != 0 {
		t.Errorf("%d upcalls lost", s.Lost)
	}
	t.Logf("largest batch: %d upcalls", maxBatch.Load())
}

// tpSrcMask matches the input port and the L4 source port.
var tpSrcMask = maskOf(FieldInPort, FieldTpSrc)
