package datapath

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Packet builders: frames are built with gopacket's layers (lengths and
// checksums computed by gopacket), raw bytes where gopacket has no layer.

var (
	macSrc = net.HardwareAddr{0x00, 0x00, 0x00, 0x00, 0x00, 0x01}
	macDst = net.HardwareAddr{0x00, 0x00, 0x00, 0x00, 0x00, 0x02}
	macND  = net.HardwareAddr{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	ip4Src = net.IP{198, 18, 0, 1}
	ip4Dst = net.IP{198, 18, 0, 2}
	ip6Src = net.ParseIP("2001:db8::1")
	ip6Dst = net.ParseIP("2001:db8::2")
	ip6Tgt = net.ParseIP("2001:db8::99")
)

// buildFrame serializes ls with lengths and checksums fixed, setting the
// network layer of TCP, UDP and ICMPv6 layers for their checksums.
func buildFrame(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	var nl gopacket.NetworkLayer
	for _, l := range ls {
		switch x := l.(type) {
		case *layers.IPv4:
			nl = x
		case *layers.IPv6:
			nl = x
		case *layers.TCP:
			_ = x.SetNetworkLayerForChecksum(nl)
		case *layers.UDP:
			_ = x.SetNetworkLayerForChecksum(nl)
		case *layers.ICMPv6:
			_ = x.SetNetworkLayerForChecksum(nl)
		}
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatalf("build: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func ethLayer(typ layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macSrc, DstMAC: macDst, EthernetType: typ}
}

func vlanLayer(vid uint16, pcp uint8, typ layers.EthernetType) *layers.Dot1Q {
	return &layers.Dot1Q{VLANIdentifier: vid, Priority: pcp, Type: typ}
}

func ip4Layer(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TOS: 0x28, Id: 7, TTL: 64, Protocol: proto,
		SrcIP: ip4Src, DstIP: ip4Dst}
}

func ip6Layer(nh layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, TrafficClass: 0x28, FlowLabel: 0x12345, NextHeader: nh,
		HopLimit: 64, SrcIP: ip6Src, DstIP: ip6Dst}
}

func tcpLayer() *layers.TCP {
	return &layers.TCP{SrcPort: 1234, DstPort: 80, Seq: 1, Ack: 2, SYN: true, ACK: true,
		ECE: true, Window: 1000}
}

func udpLayer() *layers.UDP { return &layers.UDP{SrcPort: 1234, DstPort: 5001} }

func sctpLayer() *layers.SCTP { return &layers.SCTP{SrcPort: 2905, DstPort: 2906, VerificationTag: 9} }

func icmp4Layer(typ, code uint8) *layers.ICMPv4 {
	return &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code), Id: 1, Seq: 2}
}

func icmp6Layer(typ, code uint8) *layers.ICMPv6 {
	return &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, code)}
}

func arpLayer(op uint16) *layers.ARP {
	return &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: op,
		SourceHwAddress: macSrc, SourceProtAddress: ip4Src,
		DstHwAddress: macDst, DstProtAddress: ip4Dst}
}

// fillPayload is n bytes of filler.
func fillPayload(n int) gopacket.Payload {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + 3)
	}
	return p
}

// extHdr6 returns a raw IPv6 extension header of type typ announcing nh, of
// total length n (a multiple of 8; for AH, of 4, at least 12).
func extHdr6(typ, nh layers.IPProtocol, n int) gopacket.Payload {
	b := make([]byte, n)
	b[0] = byte(nh)
	switch typ {
	case layers.IPProtocolAH:
		b[1] = byte(n/4 - 2)
	case layers.IPProtocolIPv6Fragment:
		b[1] = 0
	default:
		b[1] = byte(n/8 - 1)
	}
	switch typ {
	case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Destination:
		b[2], b[3] = 1, byte(n-4) // PadN
	case layers.IPProtocolIPv6Routing:
		b[2] = 0 // type 0, segments left 0
	}
	return b
}

// fragHdr6 returns an IPv6 fragment header announcing nh.
func fragHdr6(nh layers.IPProtocol, offset uint16, more bool) gopacket.Payload {
	b := make([]byte, 8)
	b[0] = byte(nh)
	offlg := offset << 3
	if more {
		offlg |= 1
	}
	binary.BigEndian.PutUint16(b[2:], offlg)
	binary.BigEndian.PutUint32(b[4:], 0xabcd)
	return b
}

// ndOption returns an ND option of type typ carrying data (padded to whole
// 8-byte units).
func ndOption(typ byte, data []byte) []byte {
	n := (len(data) + 2 + 7) / 8 * 8
	b := make([]byte, n)
	b[0], b[1] = typ, byte(n/8)
	copy(b[2:], data)
	return b
}

// ndBody returns the body of a neighbour solicitation/advertisement after the
// 4-byte ICMPv6 header: flags/reserved, target, then opts as given.
func ndBody(flags byte, target net.IP, opts ...[]byte) gopacket.Payload {
	b := []byte{flags, 0, 0, 0}
	b = append(b, target.To16()...)
	for _, o := range opts {
		b = append(b, o...)
	}
	return b
}

// macValue returns a MAC address as a key value.
func macValue(m net.HardwareAddr) uint64 {
	var b [8]byte
	copy(b[2:], m)
	return binary.BigEndian.Uint64(b[:])
}

// keyFields is a key built field by field for the table tests.
type keyFields map[Field]uint64

func (m keyFields) key() Key {
	var k Key
	for f, v := range m {
		f.Set(&k, v)
	}
	return k
}

// fieldsOf lists the fields that differ between two keys, for messages.
func fieldsOf(k *Key) string {
	var b bytes.Buffer
	for _, f := range allFields {
		if v := f.Get(k); v != 0 {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(f.Name + "=")
			b.WriteString(hexValue(v))
		}
	}
	return b.String()
}

func hexValue(v uint64) string {
	const digits = "0123456789abcdef"
	if v == 0 {
		return "0"
	}
	var b [18]byte
	i := len(b)
	for v != 0 {
		i--
		b[i] = digits[v&15]
		v >>= 4
	}
	i -= 2
	b[i], b[i+1] = '0', 'x'
	return string(b[i:])
}

var allFields = []Field{FieldInPort, FieldRecircID, FieldMetadata, FieldTunID, FieldEthDst,
	FieldEthSrc, FieldEthType, FieldVlanTCI, FieldVlan2TCI, FieldMPLSLSE, FieldPBBISID,
	FieldPBBUCA, FieldNwProto, FieldNwTos, FieldNwTTL, FieldIPv6Label, FieldNwFrag,
	FieldIPv6Exthdr, FieldIPv4Src, FieldIPv4Dst, FieldIPv6SrcHi, FieldIPv6SrcLo,
	FieldIPv6DstHi, FieldIPv6DstLo, FieldTpSrc, FieldTpDst, FieldTCPFlags, FieldArpSha,
	FieldArpTha, FieldNdTargetHi, FieldNdTargetLo}

func ip6Value(ip net.IP) (hi, lo uint64) {
	b := ip.To16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// baseKey returns the fields every frame built with ethL has.
func baseKey(typ uint64) keyFields {
	return keyFields{FieldInPort: 3, FieldEthSrc: macValue(macSrc), FieldEthDst: macValue(macDst), FieldEthType: typ}
}

func (m keyFields) with(f Field, v uint64) keyFields { m[f] = v; return m }

func (m keyFields) ip4(proto uint64) keyFields {
	return m.with(FieldNwProto, proto).with(FieldNwTos, 0x28).with(FieldNwTTL, 64).
		with(FieldIPv4Src, 0xc6120001).with(FieldIPv4Dst, 0xc6120002)
}

func (m keyFields) ip6(proto uint64) keyFields {
	sh, sl := ip6Value(ip6Src)
	dh, dl := ip6Value(ip6Dst)
	return m.with(FieldNwProto, proto).with(FieldNwTos, 0x28).with(FieldNwTTL, 64).
		with(FieldIPv6Label, 0x12345).with(FieldIPv6SrcHi, sh).with(FieldIPv6SrcLo, sl).
		with(FieldIPv6DstHi, dh).with(FieldIPv6DstLo, dl)
}

// TestExtractTable checks hand-written keys and layouts for one frame of
// each kind (the differential tests below compare with gopacket; these pin
// the conventions of key.go down independently of it).
func TestExtractTable(t *testing.T) {
	tgtHi, tgtLo := ip6Value(ip6Tgt)
	tcpFlags := uint64(0x052) // SYN|ACK|ECE
	tests := []struct {
		name  string
		frame []byte
		want  keyFields
		lay   Layout
	}{
		{"tcp4", buildFrame(t, ethLayer(layers.EthernetTypeIPv4), ip4Layer(6), tcpLayer(), fillPayload(10)),
			baseKey(0x0800).ip4(6).with(FieldTpSrc, 1234).with(FieldTpDst, 80).with(FieldTCPFlags, tcpFlags),
			Layout{L3: 14, L4: 34, EthType: 0x0800, L4Proto: 6}},
		{"udp4", buildFrame(t, ethLayer(layers.EthernetTypeIPv4), ip4Layer(17), udpLayer(), fillPayload(2)),
			baseKey(0x0800).ip4(17).with(FieldTpSrc, 1234).with(FieldTpDst, 5001),
			Layout{L3: 14, L4: 34, EthType: 0x0800, L4Proto: 17}},
		{"icmp4", buildFrame(t, ethLayer(layers.EthernetTypeIPv4), ip4Layer(1), icmp4Layer(3, 4)),
			baseKey(0x0800).ip4(1).with(FieldTpSrc, 3).with(FieldTpDst, 4),
			Layout{L3: 14, L4: 34, EthType: 0x0800, L4Proto: 1}},
		{"arp", buildFrame(t, ethLayer(layers.EthernetTypeARP), arpLayer(2)),
			baseKey(0x0806).with(FieldNwProto, 2).with(FieldIPv4Src, 0xc6120001).with(FieldIPv4Dst, 0xc6120002).
				with(FieldArpSha, macValue(macSrc)).with(FieldArpTha, macValue(macDst)),
			Layout{L3: 14, EthType: 0x0806}},
		{"vlan-tcp4", buildFrame(t, ethLayer(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 10, Priority: 5, DropEligible: true, Type: layers.EthernetTypeIPv4}, ip4Layer(6), tcpLayer()),
			baseKey(0x0800).ip4(6).with(FieldVlanTCI, 0xb00a).with(FieldTpSrc, 1234).with(FieldTpDst, 80).with(FieldTCPFlags, tcpFlags),
			Layout{Vlan: 12, L3: 18, L4: 38, EthType: 0x0800, L4Proto: 6}},
		{"qinq", buildFrame(t, ethLayer(layers.EthernetTypeQinQ), vlanLayer(100, 3, layers.EthernetTypeDot1Q), vlanLayer(200, 0, layers.EthernetTypeIPv4), ip4Layer(47), fillPayload(4)),
			baseKey(0x0800).ip4(47).with(FieldVlanTCI, 0x7064).with(FieldVlan2TCI, 0x10c8),
			Layout{Vlan: 12, L3: 22, EthType: 0x0800}},
		{"three-tags", buildFrame(t, ethLayer(layers.EthernetTypeQinQ), vlanLayer(1, 0, layers.EthernetTypeDot1Q), vlanLayer(2, 0, layers.EthernetTypeDot1Q), vlanLayer(3, 0, layers.EthernetTypeIPv4), ip4Layer(6), tcpLayer()),
			baseKey(0x8100).with(FieldVlanTCI, 0x1001).with(FieldVlan2TCI, 0x1002),
			Layout{Vlan: 12, EthType: 0x8100}},
		{"mpls", buildFrame(t, ethLayer(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 0x12345, TrafficClass: 5, StackBottom: true, TTL: 63}, ip4Layer(6), tcpLayer()),
			baseKey(0x8847).with(FieldMPLSLSE, 0x12345<<12|5<<9|1<<8|63),
			Layout{MPLS: 14, EthType: 0x8847}},
		{"pbb", buildFrame(t, ethLayer(0x88e7), gopacket.Payload{0x08 | 0xe0, 0xab, 0xcd, 0xef}, ethLayer(layers.EthernetTypeIPv4), ip4Layer(6), tcpLayer()),
			baseKey(0x88e7).with(FieldPBBISID, 0xabcdef).with(FieldPBBUCA, 1),
			Layout{PBB: 14, EthType: 0x88e7}},
		{"snap-ip4", buildFrame(t, ethLayer(layers.EthernetTypeLLC), &layers.LLC{DSAP: 0xaa, SSAP: 0xaa, Control: 3}, &layers.SNAP{OrganizationalCode: []byte{0, 0, 0}, Type: layers.EthernetTypeIPv4}, ip4Layer(17), udpLayer()),
			baseKey(0x0800).ip4(17).with(FieldTpSrc, 1234).with(FieldTpDst, 5001),
			Layout{L3: 22, L4: 42, EthType: 0x0800, L4Proto: 17}},
		{"llc-stp", buildFrame(t, ethLayer(layers.EthernetTypeLLC), &layers.LLC{DSAP: 0x42, SSAP: 0x42, Control: 3}, fillPayload(35)),
			baseKey(EthTypeNone), Layout{EthType: EthTypeNone}},
		{"ipv4-later-fragment", buildFrame(t, ethLayer(layers.EthernetTypeIPv4), &layers.IPv4{Version: 4, IHL: 5, TTL: 64, TOS: 0x28, Protocol: 6, FragOffset: 100, SrcIP: ip4Src, DstIP: ip4Dst}, fillPayload(30)),
			baseKey(0x0800).ip4(6).with(FieldNwFrag, FragAny|FragLater),
			Layout{L3: 14, EthType: 0x0800}},
		{"ipv4-first-fragment", buildFrame(t, ethLayer(layers.EthernetTypeIPv4), &layers.IPv4{Version: 4, IHL: 5, TTL: 64, TOS: 0x28, Protocol: 6, Flags: layers.IPv4MoreFragments, SrcIP: ip4Src, DstIP: ip4Dst}, tcpLayer()),
			baseKey(0x0800).ip4(6).with(FieldNwFrag, FragAny).with(FieldTpSrc, 1234).with(FieldTpDst, 80).with(FieldTCPFlags, tcpFlags),
			Layout{L3: 14, L4: 34, EthType: 0x0800, L4Proto: 6}},
		{"udp6-hop", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(0), extHdr6(0, 17, 8), udpLayer()),
			baseKey(0x86dd).ip6(17).with(FieldIPv6Exthdr, ExthdrHop).with(FieldTpSrc, 1234).with(FieldTpDst, 5001),
			Layout{L3: 14, L4: 62, EthType: 0x86dd, L4Proto: 17}},
		{"ext6-full-chain", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(0), extHdr6(0, 60, 8), extHdr6(60, 43, 16), extHdr6(43, 44, 24), fragHdr6(51, 0, true), extHdr6(51, 60, 16), extHdr6(60, 6, 8), tcpLayer()),
			baseKey(0x86dd).ip6(6).with(FieldNwFrag, FragAny).with(FieldIPv6Exthdr, ExthdrHop|ExthdrDest|ExthdrRouter|ExthdrFrag|ExthdrAuth).
				with(FieldTpSrc, 1234).with(FieldTpDst, 80).with(FieldTCPFlags, tcpFlags),
			Layout{L3: 14, L4: 14 + 40 + 8 + 16 + 24 + 8 + 16 + 8, EthType: 0x86dd, L4Proto: 6}},
		{"ext6-later-fragment", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(44), fragHdr6(6, 10, false), fillPayload(20)),
			baseKey(0x86dd).ip6(6).with(FieldNwFrag, FragAny|FragLater).with(FieldIPv6Exthdr, ExthdrFrag),
			Layout{L3: 14, EthType: 0x86dd}},
		{"ext6-unrep-unseq", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(43), extHdr6(43, 0, 8), extHdr6(0, 43, 8), extHdr6(43, 59, 8)),
			baseKey(0x86dd).ip6(59).with(FieldIPv6Exthdr, ExthdrRouter|ExthdrHop|ExthdrUnrep|ExthdrUnseq|ExthdrNoNext),
			Layout{L3: 14, EthType: 0x86dd}},
		{"ext6-three-dest", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(60), extHdr6(60, 60, 8), extHdr6(60, 60, 8), extHdr6(60, 17, 8), udpLayer()),
			baseKey(0x86dd).ip6(17).with(FieldIPv6Exthdr, ExthdrDest|ExthdrUnrep).with(FieldTpSrc, 1234).with(FieldTpDst, 5001),
			Layout{L3: 14, L4: 14 + 40 + 24, EthType: 0x86dd, L4Proto: 17}},
		{"ext6-dest-after-routing-before-frag", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(43), extHdr6(43, 60, 8), extHdr6(60, 44, 8), fragHdr6(17, 0, false), udpLayer()),
			baseKey(0x86dd).ip6(17).with(FieldIPv6Exthdr, ExthdrRouter|ExthdrDest|ExthdrFrag|ExthdrUnseq).with(FieldTpSrc, 1234).with(FieldTpDst, 5001),
			Layout{L3: 14, L4: 14 + 40 + 24, EthType: 0x86dd, L4Proto: 17}},
		{"esp6", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(51), extHdr6(51, 50, 12), fillPayload(16)),
			baseKey(0x86dd).ip6(50).with(FieldIPv6Exthdr, ExthdrAuth|ExthdrESP),
			Layout{L3: 14, EthType: 0x86dd}},
		{"nd-ns-sll", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt, ndOption(1, macND))),
			baseKey(0x86dd).ip6(58).with(FieldTpSrc, 135).with(FieldNdTargetHi, tgtHi).with(FieldNdTargetLo, tgtLo).with(FieldArpSha, macValue(macND)),
			Layout{L3: 14, L4: 54, EthType: 0x86dd, L4Proto: 58}},
		{"nd-na-tll", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(58), icmp6Layer(136, 0), ndBody(0xe0, ip6Tgt, ndOption(3, make([]byte, 30)), ndOption(2, macND))),
			baseKey(0x86dd).ip6(58).with(FieldTpSrc, 136).with(FieldNdTargetHi, tgtHi).with(FieldNdTargetLo, tgtLo).with(FieldArpTha, macValue(macND)),
			Layout{L3: 14, L4: 54, EthType: 0x86dd, L4Proto: 58}},
		{"nd-ns-tll-ignored", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt, ndOption(2, macND))),
			baseKey(0x86dd).ip6(58).with(FieldTpSrc, 135).with(FieldNdTargetHi, tgtHi).with(FieldNdTargetLo, tgtLo),
			Layout{L3: 14, L4: 54, EthType: 0x86dd, L4Proto: 58}},
		{"nd-ns-duplicate-sll", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt, ndOption(1, macND), ndOption(1, macSrc))),
			baseKey(0x86dd).ip6(58).with(FieldTpSrc, 135).with(FieldNdTargetHi, tgtHi).with(FieldNdTargetLo, tgtLo),
			Layout{L3: 14, L4: 54, EthType: 0x86dd, L4Proto: 58}},
		{"nd-ns-zero-length-option", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt, ndOption(1, macND), []byte{1, 0, 0, 0, 0, 0, 0, 0})),
			baseKey(0x86dd).ip6(58).with(FieldTpSrc, 135).with(FieldNdTargetHi, tgtHi).with(FieldNdTargetLo, tgtLo),
			Layout{L3: 14, L4: 54, EthType: 0x86dd, L4Proto: 58}},
		{"nd-code-1", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(58), icmp6Layer(135, 1), ndBody(0, ip6Tgt, ndOption(1, macND))),
			baseKey(0x86dd).ip6(58).with(FieldTpSrc, 135).with(FieldTpDst, 1),
			Layout{L3: 14, L4: 54, EthType: 0x86dd, L4Proto: 58}},
		{"icmp4-in-ipv6", buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(1), fillPayload(8)),
			baseKey(0x86dd).ip6(1), Layout{L3: 14, EthType: 0x86dd}},
		{"runt", make([]byte, 13), keyFields{FieldInPort: 3}, Layout{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var k Key
			var l Layout
			Extract(tc.frame, 3, &k, &l)
			if want := tc.want.key(); k != want {
				t.Errorf("key\n got %s\nwant %s", fieldsOf(&k), fieldsOf(&want))
			}
			if l != tc.lay {
				t.Errorf("layout got %+v, want %+v", l, tc.lay)
			}
		})
	}
}

// TestExtractAllocs proves Extract allocates nothing.
func TestExtractAllocs(t *testing.T) {
	for name, f := range benchFrames(t) {
		var k Key
		var l Layout
		if n := testing.AllocsPerRun(100, func() { Extract(f, 1, &k, &l) }); n != 0 {
			t.Errorf("%s: %v allocations per Extract", name, n)
		}
	}
}

func benchFrames(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"TCPv4":     buildFrame(t, ethLayer(layers.EthernetTypeIPv4), ip4Layer(6), tcpLayer(), fillPayload(64)),
		"UDPv6Ext":  buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(60), extHdr6(60, 17, 8), udpLayer(), fillPayload(64)),
		"ARP":       buildFrame(t, ethLayer(layers.EthernetTypeARP), arpLayer(1)),
		"VLANTCPv4": buildFrame(t, ethLayer(layers.EthernetTypeDot1Q), vlanLayer(10, 0, layers.EthernetTypeIPv4), ip4Layer(6), tcpLayer(), fillPayload(64)),
		"NDv6":      buildFrame(t, ethLayer(layers.EthernetTypeIPv6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt, ndOption(1, macND))),
	}
}

func BenchmarkExtract(b *testing.B) {
	frames := benchFrames(b)
	for _, name := range []string{"TCPv4", "UDPv6Ext", "ARP", "VLANTCPv4", "NDv6"} {
		f := frames[name]
		b.Run(name, func(b *testing.B) {
			var k Key
			var l Layout
			b.ReportAllocs()
			for b.Loop() {
				Extract(f, 1, &k, &l)
			}
		})
	}
}
