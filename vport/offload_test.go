package vport

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// refSum is the textbook ones' complement sum of 16-bit words.
func refSum(b []byte, s uint32) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return s
}

func TestChecksum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if n%7 == 0 {
			for i := range b {
				b[i] = 0xff
			}
		}
		init := uint64(rng.Uint32() & 0xffff)
		want := ^uint16(refSum(b, uint32(init)))
		if got := Checksum(b, init); got != want && !(got == 0xffff && want == 0) && !(got == 0 && want == 0xffff) {
			t.Fatalf("len %d: Checksum %#04x, want %#04x", n, got, want)
		}
	}
}

// l4Frame builds Ethernet/IP/(TCP|UDP) with payload; vlan adds a tag.
func l4Frame(t testing.TB, v6, udp, vlan bool, payload []byte, flags uint8) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	ls := []gopacket.SerializableLayer{eth}
	var nl gopacket.NetworkLayer
	var ip gopacket.SerializableLayer
	proto := layers.IPProtocolTCP
	if udp {
		proto = layers.IPProtocolUDP
	}
	if v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		x := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
		nl, ip = x, x
	} else {
		eth.EthernetType = layers.EthernetTypeIPv4
		x := &layers.IPv4{Version: 4, TTL: 64, Id: 1000, Protocol: proto, SrcIP: net.IPv4(198, 18, 0, 1), DstIP: net.IPv4(198, 18, 0, 2)}
		nl, ip = x, x
	}
	if vlan {
		et := eth.EthernetType
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: 7, Type: et})
	}
	ls = append(ls, ip)
	if udp {
		u := &layers.UDP{SrcPort: 1000, DstPort: 2000}
		u.SetNetworkLayerForChecksum(nl)
		ls = append(ls, u)
	} else {
		tc := &layers.TCP{SrcPort: 1000, DstPort: 2000, Seq: 0xfffff000, Ack: 7, Window: 1000,
			FIN: flags&1 != 0, PSH: flags&8 != 0, ACK: true, CWR: flags&0x80 != 0}
		tc.SetNetworkLayerForChecksum(nl)
		ls = append(ls, tc)
	}
	ls = append(ls, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// l4Offsets returns the offsets of the IP and L4 headers of an l4Frame.
func l4Offsets(v6, vlan bool) (l3, l4 int) {
	l3 = 14
	if vlan {
		l3 += 4
	}
	if v6 {
		return l3, l3 + 40
	}
	return l3, l3 + 20
}

// partial turns a complete frame into what a sender with checksum offload
// hands over: the L4 checksum field holds the pseudo-header sum only.
func partial(f []byte, v6, udp, vlan bool) Offload {
	l3, l4 := l4Offsets(v6, vlan)
	field := 16
	if udp {
		field = 6
	}
	var ps uint32
	l4len := len(f) - l4
	if v6 {
		ps = refSum(f[l3+8:l3+40], 0)
	} else {
		ps = refSum(f[l3+12:l3+20], 0)
	}
	p := uint32(6)
	if udp {
		p = 17
	}
	ps = refSum([]byte{0, byte(p), byte(l4len >> 8), byte(l4len)}, ps)
	binary.BigEndian.PutUint16(f[l4+field:], uint16(ps))
	return Offload{Flags: OffloadCsum, CsumStart: uint16(l4), CsumOffset: uint16(field)}
}

// checkL4 verifies the IP and L4 checksums and lengths of a frame.
func checkL4(t *testing.T, f []byte, v6, udp, vlan bool) {
	t.Helper()
	l3, l4 := l4Offsets(v6, vlan)
	l4len := len(f) - l4
	var ps uint32
	if v6 {
		if int(binary.BigEndian.Uint16(f[l3+4:])) != len(f)-l3-40 {
			t.Fatalf("IPv6 payload length %d, frame has %d", binary.BigEndian.Uint16(f[l3+4:]), len(f)-l3-40)
		}
		ps = refSum(f[l3+8:l3+40], 0)
	} else {
		if int(binary.BigEndian.Uint16(f[l3+2:])) != len(f)-l3 {
			t.Fatalf("IPv4 total length %d, frame has %d", binary.BigEndian.Uint16(f[l3+2:]), len(f)-l3)
		}
		if refSum(f[l3:l3+20], 0) != 0xffff {
			t.Fatalf("bad IPv4 header checksum")
		}
		ps = refSum(f[l3+12:l3+20], 0)
	}
	p := uint32(6)
	if udp {
		p = 17
	}
	ps = refSum([]byte{0, byte(p), byte(l4len >> 8), byte(l4len)}, ps)
	if refSum(f[l4:], ps) != 0xffff {
		t.Fatalf("bad L4 checksum (%d bytes)", l4len)
	}
}

func TestFinishChecksum(t *testing.T) {
	for _, c := range []struct{ v6, udp, vlan bool }{{false, false, false}, {true, false, true}, {false, true, false}, {true, true, false}} {
		payload := bytes.Repeat([]byte("0123456789abcdefg"), 20)
		f := l4Frame(t, c.v6, c.udp, c.vlan, payload, 0)
		o := partial(f, c.v6, c.udp, c.vlan)
		p := NewPacketFrom(f)
		p.SetOffload(o)
		if !p.FinishChecksum() || p.HasOffload() {
			t.Fatalf("%+v: FinishChecksum failed or left offload state %+v", c, p.Offload())
		}
		checkL4(t, p.Data(), c.v6, c.udp, c.vlan)
		p.SetOffload(Offload{Flags: OffloadCsum, CsumStart: uint16(len(f) - 1), CsumOffset: 16})
		if p.FinishChecksum() {
			t.Fatalf("FinishChecksum accepted offsets past the frame")
		}
	}
}

func TestSegment(t *testing.T) {
	const mss = 1000
	for _, c := range []struct {
		name            string
		v6, udp, vlan   bool
		payload, flags  int
		wantSegs        int
		gsoType         uint8
		lastShortLength int
	}{
		{"tcp4", false, false, false, 3500, 0x08 | 0x01 | 0x80, 4, GSOTCPv4, 500},
		{"tcp6 vlan", true, false, true, 3000, 0x08, 3, GSOTCPv6, 1000},
		{"udp4", false, true, false, 2100, 0, 3, GSOUDPL4, 100},
		{"udp6", true, true, false, 999, 0, 1, GSOUDPL4, 999},
	} {
		t.Run(c.name, func(t *testing.T) {
			payload := make([]byte, c.payload)
			for i := range payload {
				payload[i] = byte(i * 7)
			}
			f := l4Frame(t, c.v6, c.udp, c.vlan, payload, uint8(c.flags))
			o := partial(f, c.v6, c.udp, c.vlan)
			o.GSOType, o.GSOSize = c.gsoType, mss
			p := NewPacketFrom(f)
			p.SetOffload(o)
			if n := p.GSOSegments(); n != c.wantSegs {
				t.Fatalf("GSOSegments = %d, want %d", n, c.wantSegs)
			}
			_, l4 := l4Offsets(c.v6, c.vlan)
			hdr := l4 + 20
			if c.udp {
				hdr = l4 + 8
			}
			var got []byte
			q := NewPacket()
			for i := 0; i < c.wantSegs; i++ {
				if !p.Segment(i, q) {
					t.Fatalf("Segment(%d) failed", i)
				}
				s := q.Data()
				if q.HasOffload() {
					t.Fatalf("segment has offload state")
				}
				want := mss
				if i == c.wantSegs-1 {
					want = c.lastShortLength
				}
				if len(s)-hdr != want {
					t.Fatalf("segment %d: %d payload bytes, want %d", i, len(s)-hdr, want)
				}
				checkL4(t, s, c.v6, c.udp, c.vlan)
				got = append(got, s[hdr:]...)
				if !c.v6 {
					l3, _ := l4Offsets(false, c.vlan)
					if id := binary.BigEndian.Uint16(s[l3+4:]); id != uint16(1000+i) {
						t.Fatalf("segment %d: IPv4 id %d", i, id)
					}
				}
				if !c.udp {
					if seq := binary.BigEndian.Uint32(s[l4+4:]); seq != 0xfffff000+uint32(i*mss) {
						t.Fatalf("segment %d: seq %#x", i, seq)
					}
					fl := s[l4+13]
					last, first := i == c.wantSegs-1, i == 0
					if (fl&0x09 != 0) != (last && c.flags&0x09 != 0) || (fl&0x80 != 0) != (first && c.flags&0x80 != 0) || fl&0x10 == 0 {
						t.Fatalf("segment %d: flags %#x", i, fl)
					}
				}
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("payload differs after segmentation")
			}
			if p.Segment(c.wantSegs, q) {
				t.Fatalf("Segment past the last succeeded")
			}
		})
	}
	// Not a super-frame, or UFO: nothing to segment.
	p := NewPacketFrom(l4Frame(t, false, true, false, make([]byte, 100), 0))
	if p.GSOSegments() != 0 {
		t.Fatalf("a plain packet has segments")
	}
	p.SetOffload(Offload{GSOType: GSOUDP, GSOSize: 50})
	if p.GSOSegments() != 0 {
		t.Fatalf("UFO segmented")
	}
}

// TestOffloadShift checks that the offsets of the offload state follow the
// bytes they point at when headers are pushed, pulled, inserted or removed.
func TestOffloadShift(t *testing.T) {
	p := NewPacketFrom(seq(100))
	p.SetOffload(Offload{Flags: OffloadCsum, CsumStart: 34, CsumOffset: 16, HdrLen: 54})
	check := func(what string, start, hdr uint16) {
		t.Helper()
		if o := p.Offload(); o.CsumStart != start || o.HdrLen != hdr || o.CsumOffset != 16 {
			t.Fatalf("after %s: %+v, want start %d hdrlen %d", what, o, start, hdr)
		}
		if b := p.Data()[start]; b != 35 {
			t.Fatalf("after %s: csum start points at byte %d, want 35", what, b)
		}
	}
	p.Insert(12, 4)
	check("Insert", 38, 58)
	p.Remove(12, 4)
	check("Remove", 34, 54)
	p.Push(14)
	check("Push", 48, 68)
	p.Pull(14)
	check("Pull", 34, 54)
	p.Insert(40, 4) // after the checksum start: no change
	check("Insert behind", 34, 58)
	q := NewPacket()
	q.CopyFrom(p)
	if q.Offload() != p.Offload() {
		t.Fatalf("CopyFrom lost the offload state")
	}
	q.SetFrame(seq(10))
	if q.HasOffload() {
		t.Fatalf("SetFrame kept offload state")
	}
	big := NewPacket()
	big.CopyFrom(&Packet{buf: seq(70000), start: 0, end: 70000})
	if big.Len() != 70000 || big.Push(Headroom) == nil {
		t.Fatalf("CopyFrom did not grow the buffer for a super-frame")
	}
}

func TestMemPoller(t *testing.T) {
	a, b := NewMemPair("a", "b")
	defer a.Close()
	defer b.Close()
	ps, err := NewPollSet()
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	pkts := newPackets(4)
	if n, err := b.TryRecv(pkts); n != 0 || err != nil {
		t.Fatalf("TryRecv on an empty port = %d, %v", n, err)
	}
	ps.Add(b.PrepareWait())
	go func() {
		time.Sleep(20 * time.Millisecond)
		a.SendFrame(testFrame(1))
	}()
	if woken, err := ps.Wait(5 * time.Second); woken || err != nil {
		t.Fatalf("Wait = %v, %v", woken, err)
	}
	if n, err := b.TryRecv(pkts); n != 1 || err != nil || !bytes.Equal(pkts[0].Data(), testFrame(1)) {
		t.Fatalf("TryRecv after the wake = %d, %v", n, err)
	}
	// Wake from another goroutine.
	ps.Reset()
	ps.Add(b.PrepareWait())
	go ps.Wake()
	if woken, err := ps.Wait(5 * time.Second); !woken || err != nil {
		t.Fatalf("Wait = %v, %v, want woken", woken, err)
	}
	// Timeout.
	ps.Reset()
	start := time.Now()
	if woken, _ := ps.Wait(10 * time.Millisecond); woken || time.Since(start) < 10*time.Millisecond {
		t.Fatalf("timeout not honoured")
	}
	b.Close()
	if _, err := b.TryRecv(pkts); err != ErrClosed {
		t.Fatalf("TryRecv after Close: %v", err)
	}
	if fd := b.PrepareWait(); fd != -1 {
		t.Fatalf("PrepareWait after Close = %d", fd)
	}
}

// TestAFPacketVnetTCP runs a TCP transfer between two namespaces with the
// veths' offloads on (TSO, checksum offload), through two AF_PACKET ports
// that forward to each other: super-frames and partial checksums must pass
// through the vnet headers.
func TestAFPacketVnetTCP(t *testing.T) {
	checkLeaks(t)
	sw, h1, h2 := newNetns(t), newNetns(t), newNetns(t)
	for i, h := range []string{h1, h2} {
		s := string(rune('1' + i))
		run(t, "ip", "-n", sw, "link", "add", "name", "s"+s, "type", "veth", "peer", "name", "eth0", "netns", h)
		run(t, "ip", "-n", sw, "link", "set", "s"+s, "up")
		run(t, "ip", "-n", h, "addr", "add", "198.18.0."+s+"/24", "dev", "eth0")
		run(t, "ip", "-n", h, "link", "set", "eth0", "up")
	}
	p1 := openAF(t, sw, "s1", AFPacketOptions{RingFrames: 256})
	p2 := openAF(t, sw, "s2", AFPacketOptions{RingFrames: 256})
	var gso atomic.Int64
	var wg sync.WaitGroup
	fwd := func(in, out *AFPacketPort) {
		defer wg.Done()
		pkts := newPackets(BatchSize)
		for {
			n, err := in.Recv(pkts)
			if err != nil {
				return
			}
			for _, p := range pkts[:n] {
				if p.IsGSO() {
					gso.Add(1)
				}
			}
			out.Send(pkts[:n])
		}
	}
	wg.Add(2)
	go fwd(p1, p2)
	go fwd(p2, p1)
	defer func() {
		p1.Close()
		p2.Close()
		wg.Wait()
	}()

	var ln net.Listener
	if err := InNamespace(h2, func() (err error) { ln, err = net.Listen("tcp", "198.18.0.2:5001"); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const size = 16 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i / 1000)
	}
	recvd := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			recvd <- nil
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		b, _ := io.ReadAll(c)
		recvd <- b
	}()
	var c net.Conn
	if err := InNamespace(h1, func() (err error) {
		d := net.Dialer{Timeout: 10 * time.Second}
		c, err = d.Dial("tcp", "198.18.0.2:5001")
		return err
	}); err != nil {
		t.Fatalf("connect through the ports: %v", err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	c.Close()
	got := <-recvd
	if !bytes.Equal(got, data) {
		t.Fatalf("received %d of %d bytes, or different bytes", len(got), size)
	}
	if gso.Load() == 0 {
		t.Errorf("no GSO super-frame crossed the ports (offloads off?)")
	}
	t.Logf("%d super-frames; s1 %+v s2 %+v", gso.Load(), p1.Stats(), p2.Stats())
}
