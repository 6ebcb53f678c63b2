package datapath

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/govs/govs/vport"
)

// headerFrames are the packets the header action tests run on.
func headerFrames(t testing.TB) map[string][]byte {
	e4, e6 := layers.EthernetTypeIPv4, layers.EthernetTypeIPv6
	udpNoCsum := buildFrame(t, ethLayer(e4), ip4Layer(17), udpLayer(), fillPayload(7))
	binary.BigEndian.PutUint16(udpNoCsum[40:42], 0) // "no checksum"
	// A routing header with a segment left: TCP's pseudo header holds the
	// final destination, the routing header's last address.
	final := net.ParseIP("2001:db8::9")
	rtcp := tcpLayer()
	_ = rtcp.SetNetworkLayerForChecksum(&layers.IPv6{SrcIP: ip6Src, DstIP: final})
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ethLayer(e6), ip6Layer(43), gopacket.Payload(append([]byte{6, 2, 0, 1, 0, 0, 0, 0}, final...)), rtcp, fillPayload(4)); err != nil {
		t.Fatal(err)
	}
	routing := buf.Bytes()
	return map[string][]byte{
		"tcp4":        buildFrame(t, ethLayer(e4), ip4Layer(6), tcpLayer(), fillPayload(12)),
		"udp4":        buildFrame(t, ethLayer(e4), ip4Layer(17), udpLayer(), fillPayload(7)),
		"udp4-nocsum": udpNoCsum,
		"sctp4":       buildFrame(t, ethLayer(e4), ip4Layer(132), sctpLayer(), fillPayload(20)),
		"icmp4":       buildFrame(t, ethLayer(e4), ip4Layer(1), icmp4Layer(8, 0), fillPayload(9)),
		"frag4-later": buildFrame(t, ethLayer(e4), &layers.IPv4{Version: 4, IHL: 5, TTL: 9, TOS: 4, Protocol: 6, FragOffset: 3, SrcIP: ip4Src, DstIP: ip4Dst}, fillPayload(40)),
		"arp":         buildFrame(t, ethLayer(layers.EthernetTypeARP), arpLayer(1)),
		"tcp6":        buildFrame(t, ethLayer(e6), ip6Layer(6), tcpLayer(), fillPayload(5)),
		"udp6":        buildFrame(t, ethLayer(e6), ip6Layer(17), udpLayer(), fillPayload(5)),
		"sctp6":       buildFrame(t, ethLayer(e6), ip6Layer(132), sctpLayer(), fillPayload(8)),
		"echo6":       buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(128, 0), fillPayload(8)),
		"ext-udp6":    buildFrame(t, ethLayer(e6), ip6Layer(0), extHdr6(0, 60, 8), extHdr6(60, 17, 16), udpLayer(), fillPayload(3)),
		"routing6":    routing,
		"ns":          buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt, ndOption(1, macND))),
		"na":          buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(136, 0), ndBody(0x60, ip6Tgt, ndOption(14, make([]byte, 6)), ndOption(2, macND))),
		"ns-bare":     buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt)),
		"vlan-tcp4":   buildFrame(t, ethLayer(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 10, Priority: 2, DropEligible: true, Type: e4}, ip4Layer(6), tcpLayer()),
		"qinq-udp6":   buildFrame(t, ethLayer(layers.EthernetTypeQinQ), vlanLayer(100, 1, layers.EthernetTypeDot1Q), vlanLayer(200, 2, e6), ip6Layer(17), udpLayer()),
		"mpls":        buildFrame(t, ethLayer(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 1000, TrafficClass: 3, StackBottom: true, TTL: 9}, ip4Layer(6), tcpLayer()),
		"pbb":         buildFrame(t, ethLayer(0x88e7), gopacket.Payload{0x08, 1, 2, 3}, ethLayer(e4), ip4Layer(6), tcpLayer()),
		"snap":        buildFrame(t, ethLayer(layers.EthernetTypeLLC), &layers.LLC{DSAP: 0xaa, SSAP: 0xaa, Control: 3}, &layers.SNAP{OrganizationalCode: []byte{0, 0, 0}, Type: e4}, ip4Layer(17), udpLayer()),
		"unknown":     buildFrame(t, ethLayer(0x1234), fillPayload(20)),
	}
}

// applyOne runs a on a packet holding frame and checks that the layout it
// leaves is the one Extract finds in the result. It returns the new frame
// and its key.
func applyOne(t *testing.T, frame []byte, a Action) ([]byte, Key, bool) {
	t.Helper()
	p := vport.NewPacketFrom(frame)
	var k Key
	var l Layout
	Extract(p.Data(), 3, &k, &l)
	ok := applyHeaderAction(p, &l, &a)
	out := append([]byte(nil), p.Data()...)
	var k2 Key
	var l2 Layout
	Extract(out, 3, &k2, &l2)
	if l != l2 {
		t.Errorf("layout after the action %+v, Extract says %+v", l, l2)
	}
	return out, k2, ok
}

// expectSetField returns the key a frame with key k and layout l should have
// after a set-field of a.
func expectSetField(k Key, l Layout, a Action) Key {
	v, m := a.Value[1], a.Mask[1]
	typ := FieldEthType.Get(&k)
	ip4, ip6, arp := typ == ethTypeIPv4, typ == ethTypeIPv6, typ == ethTypeARP
	l4 := l.L4 != 0
	proto := FieldNwProto.Get(&k)
	isND := ip6 && proto == ipProtoICMPv6 && (k[WordNdTargetHi]|k[WordNdTargetLo]) != 0
	switch a.Field {
	case SetEthDst:
		FieldEthDst.SetMasked(&k, v, m)
	case SetEthSrc:
		FieldEthSrc.SetMasked(&k, v, m)
	case SetVlanTCI:
		if FieldVlanTCI.Get(&k) != 0 {
			FieldVlanTCI.SetMasked(&k, v, m&^VlanCFI)
		}
	case SetMPLSLSE:
		if typ == ethTypeMPLS {
			FieldMPLSLSE.SetMasked(&k, v, m)
		}
	case SetPBBISID:
		if typ == ethTypePBB {
			FieldPBBISID.SetMasked(&k, v, m)
		}
	case SetIPv4Src, SetIPv4Dst:
		f := FieldIPv4Src
		if a.Field == SetIPv4Dst {
			f = FieldIPv4Dst
		}
		if ip4 || arp {
			f.SetMasked(&k, v, m)
		}
	case SetIPTos:
		if ip4 || ip6 {
			FieldNwTos.SetMasked(&k, v, m)
		}
	case SetIPTTL:
		if ip4 || ip6 {
			FieldNwTTL.SetMasked(&k, v, m)
		}
	case SetIPv6Src, SetIPv6Dst:
		hi, lo := FieldIPv6SrcHi, FieldIPv6SrcLo
		if a.Field == SetIPv6Dst {
			hi, lo = FieldIPv6DstHi, FieldIPv6DstLo
		}
		if ip6 {
			hi.SetMasked(&k, a.Value[0], a.Mask[0])
			lo.SetMasked(&k, v, m)
		}
	case SetIPv6Label:
		if ip6 {
			FieldIPv6Label.SetMasked(&k, v, m)
		}
	case SetTpSrc, SetTpDst:
		f := FieldTpSrc
		if a.Field == SetTpDst {
			f = FieldTpDst
		}
		switch {
		case !l4:
		case proto == ipProtoICMP || proto == ipProtoICMPv6:
			old := k[WordL4]
			f.SetMasked(&k, v, m&0xff)
			if isND && k[WordL4] != old {
				// No longer the same ND message: Extract reads the
				// target only for type 135/136 code 0, and the test
				// packets have only the option of their own type.
				if t, c := FieldTpSrc.Get(&k), FieldTpDst.Get(&k); c != 0 || (t != 135 && t != 136) {
					k[WordNdTargetHi], k[WordNdTargetLo] = 0, 0
				}
				k[WordArpSha], k[WordArpTha] = 0, 0
			}
		default:
			f.SetMasked(&k, v, m)
		}
	case SetArpOp:
		if arp {
			FieldNwProto.SetMasked(&k, v, m)
		}
	case SetArpSha:
		if arp {
			FieldArpSha.SetMasked(&k, v, m)
		}
	case SetArpTha:
		if arp {
			FieldArpTha.SetMasked(&k, v, m)
		}
	case SetNdTarget:
		if isND {
			FieldNdTargetHi.SetMasked(&k, a.Value[0], a.Mask[0])
			FieldNdTargetLo.SetMasked(&k, v, m)
		}
	case SetNdSll:
		if isND && FieldTpSrc.Get(&k) == icmp6NeighSol && FieldArpSha.Get(&k) != 0 {
			FieldArpSha.SetMasked(&k, v, m)
		}
	case SetNdTll:
		if isND && FieldTpSrc.Get(&k) == icmp6NeighAdv && FieldArpTha.Get(&k) != 0 {
			FieldArpTha.SetMasked(&k, v, m)
		}
	}
	return k
}

// verifyChecksums checks the checksums in frame with gopacket: it decodes
// the frame, serializes again with checksums computed, and compares. Only
// the layers with checksums are serialized; the others are copied as
// decoded.
func verifyChecksums(t *testing.T, frame []byte) {
	t.Helper()
	if msg := checksumError(frame); msg != "" {
		t.Error(msg)
	}
}

// checksumError returns what is wrong with the checksums in frame, or "".
func checksumError(frame []byte) string {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true, Lazy: true})
	var ls []gopacket.SerializableLayer
	var nl gopacket.NetworkLayer
	for _, l := range p.Layers() {
		var s gopacket.SerializableLayer
		last := true // a layer with a checksum: its payload is copied whole
		switch x := l.(type) {
		case *layers.IPv4:
			nl, s = x, x
		case *layers.IPv6:
			nl, s = x, gopacket.Payload(x.Contents)
		case *layers.TCP:
			_ = x.SetNetworkLayerForChecksum(nl)
			s = x
		case *layers.UDP:
			if x.Checksum == 0 {
				s = gopacket.Payload(x.Contents) // none: nothing to check
				break
			}
			_ = x.SetNetworkLayerForChecksum(nl)
			s = x
		case *layers.ICMPv4:
			s = x
		case *layers.ICMPv6:
			_ = x.SetNetworkLayerForChecksum(nl)
			s = x
		case *layers.SCTP:
			s = x
		case *layers.IPv6Routing:
			// RFC 8200 section 8.1: with segments left, the pseudo header
			// holds the final destination (gopacket uses the IPv6 one).
			if ip6, ok := nl.(*layers.IPv6); ok && x.SegmentsLeft > 0 && len(x.SourceRoutingIPs) > 0 {
				nl = &layers.IPv6{SrcIP: ip6.SrcIP, DstIP: x.SourceRoutingIPs[len(x.SourceRoutingIPs)-1]}
			}
			s = gopacket.Payload(x.Contents)
		case *layers.IPv6HopByHop:
			// Serialized with the IPv6 header by gopacket; copied here.
			s = gopacket.Payload(x.Contents)
		default:
			s = gopacket.Payload(l.LayerContents())
			last = false
		}
		ls = append(ls, s)
		if _, ip := l.(gopacket.NetworkLayer); last && !ip && l.LayerType() != layers.LayerTypeIPv6HopByHop &&
			l.LayerType() != layers.LayerTypeIPv6Routing {
			ls = append(ls, gopacket.Payload(l.LayerPayload()))
			break
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, ls...); err != nil {
		return fmt.Sprintf("serialize: %v", err)
	}
	out := buf.Bytes()
	if len(out) > len(frame) || !bytes.Equal(out, frame[:len(out)]) {
		return fmt.Sprintf("checksums wrong:\n got  %x\n want %x", frame, out)
	}
	return ""
}

// TestChecksumErrorDetects checks that checksumError sees a wrong checksum
// in every header frame that has one.
func TestChecksumErrorDetects(t *testing.T) {
	for name, f := range headerFrames(t) {
		if msg := checksumError(f); msg != "" {
			t.Errorf("%s: %s", name, msg)
		}
		var k Key
		var l Layout
		Extract(f, 0, &k, &l)
		var at []int // checksum offsets
		if l.EthType == ethTypeIPv4 && l.L3 != 0 {
			at = append(at, int(l.L3)+10)
		}
		switch {
		case l.L4 == 0:
		case l.L4Proto == ipProtoTCP:
			at = append(at, int(l.L4)+16)
		case l.L4Proto == ipProtoUDP && name != "udp4-nocsum":
			at = append(at, int(l.L4)+6)
		case l.L4Proto == ipProtoICMP || l.L4Proto == ipProtoICMPv6:
			at = append(at, int(l.L4)+2)
		case l.L4Proto == ipProtoSCTP:
			at = append(at, int(l.L4)+8)
		}
		for _, o := range at {
			g := append([]byte(nil), f...)
			g[o] ^= 0x40
			if checksumError(g) == "" {
				t.Errorf("%s: a wrong checksum at %d goes unseen", name, o)
			}
		}
	}
}

// setFieldActions is one set-field action per field, with a full and a
// partial mask.
func setFieldActions() []Action {
	widths := map[SetField]uint{SetEthDst: 48, SetEthSrc: 48, SetVlanTCI: 16, SetMPLSLSE: 32,
		SetPBBISID: 24, SetIPv4Src: 32, SetIPv4Dst: 32, SetIPTos: 8, SetIPTTL: 8,
		SetIPv6Src: 128, SetIPv6Dst: 128, SetIPv6Label: 20, SetTpSrc: 16, SetTpDst: 16,
		SetArpOp: 16, SetArpSha: 48, SetArpTha: 48, SetNdTarget: 128, SetNdSll: 48, SetNdTll: 48}
	var as []Action
	for f := SetEthDst; f <= SetNdTll; f++ {
		w, ok := widths[f]
		if !ok {
			continue // SetEthType and SetIPProto change the parse: own tests
		}
		full := ^uint64(0)
		if w < 64 {
			full = 1<<w - 1
		}
		hiFull := uint64(0)
		if w == 128 {
			hiFull = ^uint64(0)
		}
		val := [2]uint64{0xfedcba9876543210, 0x0123456789abcdef & full}
		as = append(as,
			Action{Type: ActSetField, Field: f, Value: val, Mask: [2]uint64{hiFull, full}},
			Action{Type: ActSetField, Field: f, Value: val, Mask: [2]uint64{hiFull & 0xff00ff00ff00ff00, full & 0x0ff00ff00ff00ff0}})
	}
	return as
}

// TestSetField runs every set-field on every kind of packet: the result
// must extract to the expected key, keep the layout right, and carry
// correct checksums.
func TestSetField(t *testing.T) {
	for name, frame := range headerFrames(t) {
		var k0 Key
		var l0 Layout
		Extract(frame, 3, &k0, &l0)
		for _, a := range setFieldActions() {
			t.Run(fmt.Sprintf("%s/%d/%#x", name, a.Field, a.Mask[1]), func(t *testing.T) {
				out, k, ok := applyOne(t, frame, a)
				if !ok {
					t.Fatal("set-field failed")
				}
				if want := expectSetField(k0, l0, a); k != want {
					t.Errorf("key after set-field:%s", diffKeys(&k, &want))
				}
				if len(out) != len(frame) {
					t.Errorf("frame length changed")
				}
				if name == "sctp4" || name == "sctp6" {
					verifySCTP(t, out, l0)
				}
				if name == "udp4-nocsum" && binary.BigEndian.Uint16(out[40:42]) != 0 {
					t.Errorf("UDP checksum 0 (none) was changed")
				}
				verifyChecksums(t, out)
			})
		}
	}
}

// verifySCTP checks the CRC32c of the SCTP packet at l.L4.
func verifySCTP(t *testing.T, f []byte, l Layout) {
	t.Helper()
	s := append([]byte(nil), f[l.L4:l3End(f, &l)]...)
	want := binary.LittleEndian.Uint32(s[8:12])
	clear(s[8:12])
	if got := crc32.Checksum(s, crc32.MakeTable(crc32.Castagnoli)); got != want {
		t.Errorf("SCTP CRC32c %#x, computed %#x", want, got)
	}
}
