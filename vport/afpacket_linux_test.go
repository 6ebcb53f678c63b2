package vport

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// rxModes are the receive paths the AF_PACKET tests run with.
var rxModes = []struct {
	name   string
	mode   RxMode
	noVnet bool
}{{"mmsg", RxMmsg, false}, {"ring", RxRing, false}, {"ring-novnet", RxRing, true}}

// forRxModes runs fn as a subtest per receive path, with opts adjusted.
func forRxModes(t *testing.T, opts AFPacketOptions, fn func(t *testing.T, opts AFPacketOptions)) {
	for _, m := range rxModes {
		t.Run(m.name, func(t *testing.T) {
			o := opts
			o.RxMode, o.NoVnetHdr = m.mode, m.noVnet
			if m.mode == RxRing && o.RingFrames == 0 {
				o.RingFrames = 256
			}
			fn(t, o)
		})
	}
}

// vethPorts makes a namespace with veth pair va/vb and AF_PACKET ports on
// both ends.
func vethPorts(t testing.TB, opts AFPacketOptions) (ns string, a, b *AFPacketPort) {
	t.Helper()
	ns = newNetns(t)
	newVeth(t, ns, "va", "vb")
	return ns, openAF(t, ns, "va", opts), openAF(t, ns, "vb", opts)
}

func TestAFPacketInfo(t *testing.T) {
	ns, a, _ := vethPorts(t, AFPacketOptions{})
	out := run(t, "ip", "-n", ns, "-o", "-d", "link", "show", "va")
	i := a.Info()
	if i.Name != "va" || i.Kind != KindSystem || i.MTU != 1500 || i.SpeedKbps != 10_000_000 {
		t.Fatalf("info %+v", i)
	}
	if !strings.HasPrefix(out, fmt.Sprintf("%d: va@", i.Ifindex)) {
		t.Fatalf("ifindex %d, ip says %q", i.Ifindex, out)
	}
	if !strings.Contains(out, "link/ether "+i.MAC.String()) {
		t.Fatalf("MAC %v, ip says %q", i.MAC, out)
	}
	if !strings.Contains(out, "promiscuity 1 ") {
		t.Fatalf("not promiscuous: %q", out)
	}
}

func TestAFPacketSendRecv(t *testing.T) {
	forRxModes(t, AFPacketOptions{}, func(t *testing.T, mode AFPacketOptions) {
		checkLeaks(t)
		// The receiver reads only after the whole burst was sent: give it a
		// queue for all of it.
		mode.RcvBuf = 4 << 20
		_, a, b := vethPorts(t, mode)

		for _, dir := range []struct {
			name     string
			from, to *AFPacketPort
		}{{"a to b", a, b}, {"b to a", b, a}} {
			t.Run(dir.name, func(t *testing.T) {
				const n = 200
				var want [][]byte
				for i := range n {
					want = append(want, frameFrom(1, i, 60+i*7)) // 60..1453 bytes
				}
				before := dir.from.Stats()
				sent, err := dir.from.Send(packetsOf(want...))
				if sent != n || err != nil {
					t.Fatalf("Send = %d, %v; stats %+v", sent, err, dir.from.Stats())
				}
				got, batches := recvFrames(t, dir.to, n, 5*time.Second)
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("frame %d:\n got %x\nwant %x", i, got[i], want[i])
					}
				}
				if !slicesContainsAbove(batches, 1) {
					t.Errorf("every Recv returned one frame: %v", batches)
				}
				var bytesSent uint64
				for _, f := range want {
					bytesSent += uint64(len(f))
				}
				s := dir.from.Stats()
				if s.TxPackets-before.TxPackets != n || s.TxBytes-before.TxBytes != bytesSent {
					t.Errorf("tx stats %+v, before %+v", s, before)
				}
				if r := dir.to.Stats(); r.RxPackets < n || r.RxErrors != 0 || r.RxDropped != 0 {
					t.Errorf("rx stats %+v", r)
				}
			})
		}
	})
}

func TestAFPacketRxDropsCounted(t *testing.T) {
	forRxModes(t, AFPacketOptions{}, func(t *testing.T, mode AFPacketOptions) {
		mode.RcvBuf = 64 << 10
		_, a, b := vethPorts(t, mode)
		const n = 2000
		tx := make([]*Packet, n)
		for i := range tx {
			tx[i] = NewPacketFrom(frameFrom(1, i, 60))
		}
		if sent, err := a.Send(tx); sent != n || err != nil {
			t.Fatalf("Send = %d, %v", sent, err)
		}
		s := b.Stats()
		if s.RxDropped == 0 || s.RxDropped >= n {
			t.Fatalf("rx stats %+v: want some of %d frames dropped by the full socket queue", s, n)
		}
		got, _ := recvFrames(t, b, n-int(s.RxDropped), 5*time.Second)
		if s := b.Stats(); int(s.RxPackets)+int(s.RxDropped) != n {
			t.Fatalf("rx stats %+v: received + dropped != %d (got %d)", s, n, len(got))
		}
	})
}

func slicesContainsAbove(v []int, limit int) bool {
	for _, x := range v {
		if x > limit {
			return true
		}
	}
	return false
}

// TestAFPacketIgnoreOutgoing checks that the port does not read frames
// transmitted on its interface by others (a second socket here; the host
// stack in real life). The kernel never hands a socket its own
// transmissions; PACKET_IGNORE_OUTGOING filters everyone else's.
func TestAFPacketIgnoreOutgoing(t *testing.T) {
	forRxModes(t, AFPacketOptions{}, func(t *testing.T, mode AFPacketOptions) {
		ns, a, b := vethPorts(t, mode)
		// Through the qdisc layer, so that packet taps see what it sends.
		other := openAF(t, ns, "va", AFPacketOptions{NoQdiscBypass: true})
		var own [][]byte
		for i := range 10 {
			own = append(own, frameFrom(1, i, 60))
		}
		for _, sender := range []*AFPacketPort{a, other} {
			if n, err := sender.Send(packetsOf(own...)); n != 10 || err != nil {
				t.Fatalf("Send = %d, %v", n, err)
			}
			recvFrames(t, b, 10, 5*time.Second)
		}
		marker := frameFrom(2, 999, 60)
		if n, err := b.Send(packetsOf(marker)); n != 1 || err != nil {
			t.Fatalf("Send = %d, %v", n, err)
		}
		got, _ := recvFrames(t, a, 1, 5*time.Second)
		if !bytes.Equal(got[0], marker) {
			t.Fatalf("a read back a frame sent on its interface: %x", got[0])
		}
	})
}

func TestAFPacketVLAN(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("ethtool"); err != nil {
		t.Skip("needs ethtool")
	}
	vlan := func(tpid uint16, tci uint16, inner []byte) []byte {
		f := append([]byte(nil), inner[:12]...)
		f = append(f, byte(tpid>>8), byte(tpid), byte(tci>>8), byte(tci))
		return append(f, inner[12:]...)
	}
	base := frameFrom(1, 1, 60)
	frames := [][]byte{
		vlan(0x8100, 100, base),                    // 802.1Q, VID 100
		vlan(0x8100, 0x6000|7, base),               // priority 3, VID 7
		vlan(0x8100, 0, base),                      // priority tag (VID 0)
		vlan(0x88a8, 200, vlan(0x8100, 300, base)), // QinQ
		vlan(0x8100, 10, vlan(0x8100, 20, base)),   // double 802.1Q
		base,                                       // untagged
		vlan(0x8100, 4095, frameFrom(1, 2, 1500)),  // full-size payload + tag
		vlan(0x88a8, 1, vlan(0x8100, 2, frameFrom(1, 3, 1500))),
	}
	for _, offload := range []string{"on", "off"} {
		t.Run("rxvlan-"+offload, func(t *testing.T) {
			forRxModes(t, AFPacketOptions{}, func(t *testing.T, mode AFPacketOptions) {
				ns, a, b := vethPorts(t, mode)
				for _, dev := range []string{"va", "vb"} {
					run(t, "ip", "netns", "exec", ns, "ethtool", "-K", dev,
						"rxvlan", offload, "txvlan", offload, "rx-vlan-stag-hw-parse", offload, "tx-vlan-stag-hw-insert", offload)
				}
				if n, err := a.Send(packetsOf(frames...)); n != len(frames) || err != nil {
					t.Fatalf("Send = %d, %v; stats %+v", n, err, a.Stats())
				}
				got, _ := recvFrames(t, b, len(frames), 5*time.Second)
				for i := range frames {
					if !bytes.Equal(got[i], frames[i]) {
						t.Errorf("frame %d:\n got %x\nwant %x", i, got[i], frames[i])
					}
				}
			})
		})
	}
}

func TestAFPacketBadFrames(t *testing.T) {
	forRxModes(t, AFPacketOptions{}, func(t *testing.T, mode AFPacketOptions) {
		ns, a, b := vethPorts(t, mode)

		// Sending: too long for the MTU, too short for an Ethernet header,
		// empty; the good frames around them still go out.
		short := NewPacketFrom([]byte{1, 2, 3})
		pkts := []*Packet{
			NewPacketFrom(frameFrom(1, 1, 60)),
			NewPacketFrom(frameFrom(1, 2, 1600)),
			short,
			NewPacket(),
			NewPacketFrom(frameFrom(1, 3, 60)),
		}
		if n, err := a.Send(pkts); n != 2 || err != nil {
			t.Fatalf("Send = %d, %v", n, err)
		}
		if s := a.Stats(); s.TxPackets != 2 || s.TxErrors != 3 {
			t.Fatalf("tx stats %+v, want 2 sent, 3 errors", s)
		}
		got, _ := recvFrames(t, b, 2, 5*time.Second)
		if !bytes.Equal(got[0], frameFrom(1, 1, 60)) || !bytes.Equal(got[1], frameFrom(1, 3, 60)) {
			t.Fatalf("wrong frames arrived")
		}

		// Receiving: a frame longer than what the port holds (MaxFrameLen
		// for a packet buffer, the MTU at open for a ring slot without vnet
		// headers) is skipped and counted; a ring with vnet headers holds
		// 64 KiB super-frames, so it takes the frame.
		for _, dev := range []string{"va", "vb"} {
			run(t, "ip", "-n", ns, "link", "set", dev, "mtu", "12000")
		}
		pkts = []*Packet{NewPacketFrom(frameFrom(1, 4, 60)), NewPacketFrom(frameFrom(1, 5, 60))}
		big := NewPacket()
		big.SetFrame(frameFrom(1, 6, MaxFrameLen))
		copy(big.Push(100), frameFrom(1, 6, 14)) // MaxFrameLen+100 bytes
		if n, err := a.Send([]*Packet{pkts[0], big, pkts[1]}); n != 3 || err != nil {
			t.Fatalf("Send = %d, %v; %+v", n, err, a.Stats())
		}
		bigFits := mode.RxMode == RxRing && !mode.NoVnetHdr
		want := [][]byte{frameFrom(1, 4, 60), frameFrom(1, 5, 60)}
		if bigFits {
			want = [][]byte{want[0], big.Data(), want[1]}
		}
		got, _ = recvFrames(t, b, len(want), 5*time.Second)
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("frame %d of %d: %d bytes, want %d", i, len(want), len(got[i]), len(want[i]))
			}
		}
		wantErr := uint64(1)
		if bigFits {
			wantErr = 0
		}
		if s := b.Stats(); s.RxErrors != wantErr {
			t.Fatalf("rx stats %+v, want %d errors", s, wantErr)
		}
	})
}

func TestAFPacketStateAdmin(t *testing.T) {
	forRxModes(t, AFPacketOptions{}, func(t *testing.T, mode AFPacketOptions) {
		ns, a, b := vethPorts(t, mode)
		if s := a.State(); !s.AdminUp || !s.Carrier {
			t.Fatalf("state %+v, want up", s)
		}
		if err := b.SetAdminUp(false); err != nil {
			t.Fatal(err)
		}
		if s := b.State(); s.AdminUp || s.Carrier {
			t.Fatalf("b state %+v, want down", s)
		}
		if out := run(t, "ip", "-n", ns, "-o", "link", "show", "vb"); strings.Contains(out, "<UP") || strings.Contains(out, ",UP") {
			t.Fatalf("ip still shows vb up: %s", out)
		}
		// The veth peer of a down interface has no carrier.
		if s := a.State(); !s.AdminUp || s.Carrier {
			t.Fatalf("a state %+v, want admin up without carrier", s)
		}
		// Sending on a down interface drops.
		if n, err := b.Send(packetsOf(frameFrom(1, 1, 60))); n != 0 || err != nil || b.Stats().TxDropped != 1 {
			t.Fatalf("Send while down = %d, %v; %+v", n, err, b.Stats())
		}
		if err := b.SetAdminUp(true); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !a.State().Carrier && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if s := a.State(); !s.AdminUp || !s.Carrier {
			t.Fatalf("a state %+v after b up", s)
		}
		// Receiving still works after the down/up cycle.
		if n, err := b.Send(packetsOf(frameFrom(1, 2, 60))); n != 1 || err != nil {
			t.Fatalf("Send after up = %d, %v", n, err)
		}
		recvFrames(t, a, 1, 5*time.Second)
	})
}

func TestAFPacketBringsUp(t *testing.T) {
	ns := newNetns(t)
	run(t, "ip", "-n", ns, "link", "add", "name", "va", "type", "veth", "peer", "name", "vb")
	a := openAF(t, ns, "va", AFPacketOptions{})
	if !a.State().AdminUp {
		t.Fatalf("va not brought up")
	}
	if _, err := openAFPacketIn(ns, "no-such-dev"); err == nil {
		t.Fatalf("opening a missing interface succeeded")
	}
}

// openAFPacketIn opens dev in namespace ns (test helper).
func openAFPacketIn(ns, dev string) (p *AFPacketPort, err error) {
	err = InNamespace(ns, func() error {
		p, err = OpenAFPacket(dev, AFPacketOptions{})
		return err
	})
	return p, err
}

func TestAFPacketClose(t *testing.T) {
	forRxModes(t, AFPacketOptions{}, func(t *testing.T, mode AFPacketOptions) {
		checkLeaks(t)
		ns, a, _ := vethPorts(t, mode)
		errc := make(chan error, 1)
		go func() {
			_, err := a.Recv(newPackets(BatchSize))
			errc <- err
		}()
		time.Sleep(50 * time.Millisecond)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errc:
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("Recv returned %v, want ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not unblock Recv")
		}
		if err := a.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := a.Send(packetsOf(frameFrom(1, 1, 60))); !errors.Is(err, ErrClosed) {
			t.Fatalf("Send after Close: %v", err)
		}
		if _, err := a.Recv(newPackets(1)); !errors.Is(err, ErrClosed) {
			t.Fatalf("Recv after Close: %v", err)
		}
		if err := a.SetAdminUp(true); !errors.Is(err, ErrClosed) {
			t.Fatalf("SetAdminUp after Close: %v", err)
		}
		if s := a.State(); s != (LinkState{}) {
			t.Fatalf("State after Close: %+v", s)
		}
		_ = a.Stats()
		// The promiscuous membership went with the socket.
		if out := run(t, "ip", "-n", ns, "-o", "-d", "link", "show", "va"); !strings.Contains(out, "promiscuity 0 ") {
			t.Fatalf("still promiscuous after Close: %s", out)
		}
	})
}

func TestAFPacketInterfaceGone(t *testing.T) {
	ns, a, b := vethPorts(t, AFPacketOptions{})
	run(t, "ip", "-n", ns, "link", "del", "va")
	if _, err := a.Send(packetsOf(frameFrom(1, 1, 60))); err == nil || errors.Is(err, ErrClosed) {
		t.Fatalf("Send on a deleted interface: %v", err)
	}
	if s := b.State(); s != (LinkState{}) {
		t.Fatalf("State of a deleted interface: %+v", s)
	}
}

func TestAFPacketZeroAllocs(t *testing.T) {
	forRxModes(t, AFPacketOptions{}, func(t *testing.T, mode AFPacketOptions) {
		_, a, b := vethPorts(t, mode)
		tx := make([]*Packet, BatchSize)
		for i := range tx {
			tx[i] = NewPacketFrom(frameFrom(1, i, 60))
		}
		rx := newPackets(BatchSize)
		timer := time.AfterFunc(10*time.Second, func() { b.Close() })
		defer timer.Stop()
		cycle := func() {
			if n, err := a.Send(tx); n != BatchSize || err != nil {
				panic(fmt.Sprint("send ", n, err))
			}
			for got := 0; got < BatchSize; {
				n, err := b.Recv(rx)
				if err != nil {
					panic(err)
				}
				for _, p := range rx[:n] {
					if isTestFrame(p.Data()) {
						got++
					}
				}
			}
		}
		cycle()
		if allocs := testing.AllocsPerRun(100, cycle); allocs != 0 {
			t.Fatalf("%v allocations per send+recv of %d frames", allocs, BatchSize)
		}
	})
}

func BenchmarkAFPacketSendRecv(bm *testing.B) {
	for _, m := range rxModes {
		bm.Run(m.name, func(bm *testing.B) { benchSendRecv(bm, AFPacketOptions{RxMode: m.mode, NoVnetHdr: m.noVnet}) })
	}
}

func benchSendRecv(bm *testing.B, opts AFPacketOptions) {
	_, a, b := vethPorts(bm, opts)
	tx := make([]*Packet, BatchSize)
	for i := range tx {
		tx[i] = NewPacketFrom(frameFrom(1, i, 60))
	}
	rx := newPackets(BatchSize)
	bm.ReportAllocs()
	bm.SetBytes(BatchSize * 60)
	var recvCalls int
	var sendTime, recvTime time.Duration
	// Watchdog: a lost frame would block Recv forever; one timer, re-armed
	// per Recv (Reset does not allocate).
	watchdog := time.AfterFunc(time.Hour, func() { b.Close() })
	defer watchdog.Stop()
	for bm.Loop() {
		t0 := time.Now()
		n, err := a.Send(tx)
		sendTime += time.Since(t0)
		if err != nil {
			bm.Fatal(err)
		}
		for got := 0; got < n; {
			watchdog.Reset(5 * time.Second)
			t0 = time.Now()
			m, err := b.Recv(rx)
			recvTime += time.Since(t0)
			if err != nil {
				bm.Fatalf("Recv: %v (a %+v b %+v)", err, a.Stats(), b.Stats())
			}
			got += m
			recvCalls++
		}
	}
	sa, sb := a.Stats(), b.Stats()
	frames := float64(sb.RxPackets)
	bm.ReportMetric(float64(bm.Elapsed().Nanoseconds())/frames, "ns/frame")
	bm.ReportMetric(float64(sendTime.Nanoseconds())/frames, "send-ns/frame")
	bm.ReportMetric(float64(recvTime.Nanoseconds())/frames, "recv-ns/frame")
	bm.ReportMetric(frames/float64(recvCalls), "frames/recv")
	if sa.TxDropped+sa.TxErrors+sb.RxDropped+sb.RxErrors != 0 {
		bm.Logf("losses: a %+v b %+v", sa, sb)
	}
}

// TestRawPeer checks the port against a plain AF_PACKET socket in the peer,
// so that the port is not only tested against itself.
func TestRawPeer(t *testing.T) {
	ns, a, _ := vethPorts(t, AFPacketOptions{})
	var raw int
	err := InNamespace(ns, func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		raw = fd
		ifi, err := ifIndex(fd, "vb")
		if err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(raw)
	unix.SetsockoptTimeval(raw, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})

	f := frameFrom(2, 1, 333)
	if _, err := unix.Write(raw, f); err != nil {
		t.Fatal(err)
	}
	got, _ := recvFrames(t, a, 1, 5*time.Second)
	if !bytes.Equal(got[0], f) {
		t.Fatalf("port got %x", got[0])
	}
	g := frameFrom(1, 2, 444)
	if n, err := a.Send(packetsOf(g)); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	buf := make([]byte, 2000)
	for {
		n, err := unix.Read(raw, buf)
		if err != nil {
			t.Fatalf("raw read: %v", err)
		}
		if bytes.Equal(buf[:n], g) {
			break
		}
		if n >= 12 && !bytes.Equal(buf[:n], f) && isTestFrame(buf[:n]) {
			t.Fatalf("raw peer got %x", buf[:n])
		}
	}
}

// TestAFPacketPadsShortFrames checks that frames shorter than the Ethernet
// minimum leave padded with zeros to MinFrameLen (the kernel pads nothing
// on a veth), that the packets themselves are not changed, and that padding
// allocates nothing.
func TestAFPacketPadsShortFrames(t *testing.T) {
	forRxModes(t, AFPacketOptions{}, func(t *testing.T, mode AFPacketOptions) {
		_, a, b := vethPorts(t, mode)

		// A tagged 60-byte frame whose tag was popped (56 bytes, stale
		// bytes behind it in the buffer), an ARP-sized frame (42), a bare
		// Ethernet header (14) and a frame of exactly the minimum.
		popped := NewPacketFrom(frameFrom(1, 1, 60))
		for i := range popped.Data()[14:] {
			popped.Data()[14+i] = 0xaa
		}
		copy(popped.Data()[14:], "frame      1")
		popped.Remove(12, 4)
		arp := NewPacketFrom(frameFrom(1, 2, 60)[:42])
		hdr := NewPacketFrom(frameFrom(1, 3, 60)[:14])
		full := NewPacketFrom(frameFrom(1, 4, 60))
		pkts := []*Packet{popped, arp, hdr, full}
		var want [][]byte
		for _, p := range pkts {
			f := make([]byte, MinFrameLen)
			copy(f, p.Data())
			want = append(want, f)
		}
		lens := []int{56, 42, 14, 60}

		if n, err := a.Send(pkts); n != len(pkts) || err != nil {
			t.Fatalf("Send = %d, %v; stats %+v", n, err, a.Stats())
		}
		for i, p := range pkts {
			if p.Len() != lens[i] {
				t.Fatalf("packet %d changed by Send: %d bytes, want %d", i, p.Len(), lens[i])
			}
		}
		got, _ := recvFrames(t, b, len(want), 5*time.Second)
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("frame %d:\n got %x\nwant %x", i, got[i], want[i])
			}
		}
		if s := a.Stats(); s.TxPackets != 4 || s.TxBytes != 4*MinFrameLen || s.TxErrors != 0 {
			t.Fatalf("tx stats %+v, want 4 frames of %d bytes", s, MinFrameLen)
		}

		rx := newPackets(BatchSize)
		cycle := func() {
			if n, err := a.Send(pkts[:3]); n != 3 || err != nil {
				panic(fmt.Sprint("send ", n, err))
			}
			for got := 0; got < 3; {
				n, err := b.Recv(rx)
				if err != nil {
					panic(err)
				}
				for _, p := range rx[:n] {
					if isTestFrame(p.Data()) {
						if p.Len() != MinFrameLen {
							panic(fmt.Sprint("received ", p.Len(), " bytes"))
						}
						got++
					}
				}
			}
		}
		timer := time.AfterFunc(10*time.Second, func() { b.Close() })
		defer timer.Stop()
		if allocs := testing.AllocsPerRun(100, cycle); allocs != 0 {
			t.Fatalf("%v allocations per send+recv of padded frames", allocs)
		}
	})
}
