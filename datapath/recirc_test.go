package datapath

import (
	"net"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/govs/govs/vport"
)

// mplsFrame builds Ethernet / MPLS (labels given, outermost first) /
// IPv4(ttl) / UDP.
func mplsFrame(t testing.TB, ipTTL uint8, labels ...layers.MPLS) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeMPLSUnicast}
	ip := &layers.IPv4{Version: 4, TTL: ipTTL, Protocol: layers.IPProtocolUDP,
		SrcIP: net.IP{198, 18, 0, 1}, DstIP: net.IP{198, 18, 0, 2}}
	udp := &layers.UDP{SrcPort: 1, DstPort: 2}
	udp.SetNetworkLayerForChecksum(ip)
	ls := []gopacket.SerializableLayer{eth}
	for i := range labels {
		labels[i].StackBottom = i == len(labels)-1
		ls = append(ls, &labels[i])
	}
	ls = append(ls, ip, udp, gopacket.Payload("payload"))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decoded parses a frame with gopacket, checking the IPv4 checksum.
func decodedIPv4(t testing.TB, f []byte) (*layers.IPv4, []layers.MPLS) {
	t.Helper()
	pkt := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	var mpls []layers.MPLS
	for _, l := range pkt.Layers() {
		if m, ok := l.(*layers.MPLS); ok {
			mpls = append(mpls, *m)
		}
	}
	ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if ip == nil {
		t.Fatalf("no IPv4 in %x", f)
	}
	orig := ip.Checksum
	var hdr [60]byte
	n := copy(hdr[:], ip.Contents)
	hdr[10], hdr[11] = 0, 0
	var sum uint32
	for i := 0; i < n; i += 2 {
		sum += uint32(hdr[i])<<8 | uint32(hdr[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	if want := ^uint16(sum); orig != want {
		t.Errorf("IPv4 checksum %#x, want %#x", orig, want)
	}
	return ip, mpls
}

func TestCopyTTL(t *testing.T) {
	tests := []struct {
		name    string
		act     ActionType
		ipTTL   uint8
		labels  []layers.MPLS
		wantIP  uint8
		wantTop uint8
		wantNxt uint8
	}{
		{"out from IP", ActCopyTTLOut, 32, []layers.MPLS{{Label: 100, TTL: 64}}, 32, 32, 0},
		{"in to IP", ActCopyTTLIn, 32, []layers.MPLS{{Label: 100, TTL: 64}}, 64, 64, 0},
		{"out from next label", ActCopyTTLOut, 9, []layers.MPLS{{Label: 1, TTL: 64}, {Label: 2, TTL: 7}}, 9, 7, 7},
		{"in to next label", ActCopyTTLIn, 9, []layers.MPLS{{Label: 1, TTL: 64}, {Label: 2, TTL: 7}}, 9, 64, 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := vport.NewPacketFrom(mplsFrame(t, tc.ipTTL, tc.labels...))
			var k Key
			var l Layout
			Extract(p.Data(), 1, &k, &l)
			applyHeaderAction(p, &l, &Action{Type: tc.act})
			ip, mpls := decodedIPv4(t, p.Data())
			if ip.TTL != tc.wantIP || mpls[0].TTL != tc.wantTop || (len(mpls) > 1 && mpls[1].TTL != tc.wantNxt) {
				t.Errorf("ttl ip %d top %d labels %+v, want ip %d top %d next %d", ip.TTL, mpls[0].TTL, mpls, tc.wantIP, tc.wantTop, tc.wantNxt)
			}
		})
	}
	// A packet without MPLS is left alone.
	f := udpFrame(t, "198.18.0.1", "198.18.0.2", 1, 2)
	p := vport.NewPacketFrom(f)
	var k Key
	var l Layout
	Extract(p.Data(), 1, &k, &l)
	applyHeaderAction(p, &l, &Action{Type: ActCopyTTLIn})
	if string(p.Data()) != string(f) {
		t.Error("copy_ttl_in changed a packet without MPLS")
	}
}

// TestRecirc: a megaflow pops the MPLS label and recirculates; a second
// megaflow, on the recirculation id and the IPv4 header that the pop
// exposed, outputs the packet.
func TestRecirc(t *testing.T) {
	var upcalls []Upcall
	upcallc := make(chan Upcall, 4)
	handler := handlerFunc(func(u *Upcall) { upcallc <- Upcall{Type: u.Type, Key: u.Key} })
	td := newTestDP(t, 2, Config{Handler: handler})
	frame := mplsFrame(t, 64, layers.MPLS{Label: 100, TTL: 64})

	var k1 Key
	var l Layout
	Extract(frame, 1, &k1, &l)
	m1 := maskOf(FieldInPort, FieldRecircID, FieldEthType)
	td.dp.FlowPut(&k1, &m1, Actions{{Type: ActPopMPLS, Ethertype: 0x0800}, {Type: ActRecirc, Port: 7}}, nil)

	// Before the second-pass flow exists, the recirculated packet misses
	// with recirc_id 7 and the IPv4 fields in its key.
	td.hosts[0].SendFrame(frame)
	select {
	case u := <-upcallc:
		upcalls = append(upcalls, u)
	case <-time.After(2 * time.Second):
		t.Fatal("no upcall for the recirculated packet")
	}
	if u := upcalls[0]; FieldRecircID.Get(&u.Key) != 7 || FieldEthType.Get(&u.Key) != 0x0800 ||
		FieldIPv4Dst.Get(&u.Key) != 0xc6120002 {
		t.Fatalf("recirculation upcall key: recirc %d eth_type %#x nw_dst %#x",
			FieldRecircID.Get(&u.Key), FieldEthType.Get(&u.Key), FieldIPv4Dst.Get(&u.Key))
	}

	k2 := upcalls[0].Key
	m2 := maskOf(FieldInPort, FieldRecircID, FieldEthType, FieldIPv4Dst)
	td.dp.FlowPut(&k2, &m2, Actions{Output(2)}, nil)
	td.hosts[0].SendFrame(frame)
	got, ok := td.hosts[1].RecvFrame(2 * time.Second)
	if !ok {
		t.Fatal("recirculated packet not forwarded")
	}
	ip, mpls := decodedIPv4(t, got)
	if len(mpls) != 0 || ip.TTL != 64 {
		t.Errorf("forwarded frame still has MPLS %+v or a changed TTL %d", mpls, ip.TTL)
	}
	if s := td.dp.Stats(); s.Hit != 3 || s.Missed != 1 {
		t.Errorf("stats %+v: want 3 hits (pass 1 twice, pass 2 once) and 1 miss", s)
	}
}
