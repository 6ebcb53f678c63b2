package ofproto

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/govs/govs/ofproto/ofp"
)

// ---- the value space ----

var (
	diffMACs = []net.HardwareAddr{
		{0x02, 0, 0, 0, 0, 0x01}, {0x02, 0, 0, 0, 0, 0x02}, {0x02, 0, 0, 0, 0, 0x03},
		{0x02, 0, 0, 0, 0x01, 0x01}, {0x0a, 0, 0, 0, 0, 0x01},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb},
	}
	diffIP4 = []net.IP{
		net.IPv4(198, 18, 0, 1).To4(), net.IPv4(198, 18, 0, 2).To4(), net.IPv4(198, 18, 1, 1).To4(),
		net.IPv4(198, 19, 0, 1).To4(), net.IPv4(198, 19, 128, 1).To4(), net.IPv4(198, 18, 0, 129).To4(),
	}
	diffIP6 = []net.IP{
		net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8::2"), net.ParseIP("2001:db8:0:1::1"),
		net.ParseIP("2001:db8:8000::1"), net.ParseIP("2001:db8::8000:0:0:1"),
	}
	diffL4Ports  = []uint16{22, 53, 80, 443, 8080, 8081, 1024, 65535}
	diffVIDs     = []uint16{10, 11, 20, 0x80a}
	diffPCPs     = []uint8{0, 3, 5}
	diffTTLs     = []uint8{64, 64, 2, 1}
	diffDSCPs    = []uint8{0, 10, 46}
	diffECNs     = []uint8{0, 1, 3}
	diffFlabels  = []uint32{0, 1, 0x12345}
	diffCookies  = []uint64{0x1, 0x2, 0x3, 0x10, 0x11, 0x20}
	diffICMP4    = [][2]uint8{{8, 0}, {0, 0}, {3, 1}, {11, 0}}
	diffICMP6    = []uint8{128, 129}
	diffMaxLens  = []uint16{ofp.ControllerMaxLenNoBuffer, ofp.ControllerMaxLenNoBuffer, 0, 40, 70, 128}
	diffMetadata = []uint64{0, 1, 2, 3, 0x100}
)

// Packet kinds.
const (
	diffIPv4TCP = iota
	diffIPv4UDP
	diffIPv4ICMP
	diffIPv6TCP
	diffIPv6UDP
	diffIPv6ICMP
	diffARP
	diffOther
	diffNumKinds
)

var diffKindNames = [diffNumKinds]string{"IPv4/TCP", "IPv4/UDP", "IPv4/ICMP", "IPv6/TCP", "IPv6/UDP", "IPv6/ICMPv6", "ARP", "0x88b5"}

// diffTagSpec is one VLAN tag of a generated packet.
type diffTagSpec struct {
	TPID uint16
	VID  uint16
	PCP  uint8
}

// diffPkt describes a generated packet by indexes into the value space, so
// that it can be mutated one field at a time.
type diffPkt struct {
	InPort             uint32
	Src, Dst           int
	Tags               []diffTagSpec
	Kind               int
	IP4Src, IP4Dst     int
	IP6Src, IP6Dst     int
	DSCP, ECN          uint8
	TTL                uint8
	Flabel             uint32
	SPort, DPort       uint16
	ICMP4              int
	ICMP6Type          uint8
	TCPFlags           uint8 // 0 SYN, 1 ACK, 2 SYN|ACK
	ArpOp              uint16
	ArpSha, ArpTha     int
	ArpSpa, ArpTpa     int
	PayloadLen         int
	fromMask, variants bool // for display only
}

func (p *diffPkt) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "in_port=%d %s>%s", p.InPort, diffMACs[p.Src], diffMACs[p.Dst])
	for _, t := range p.Tags {
		fmt.Fprintf(&b, " vlan(tpid=%#x,vid=%d,pcp=%d)", t.TPID, t.VID, t.PCP)
	}
	b.WriteString(" " + diffKindNames[p.Kind])
	switch p.Kind {
	case diffIPv4TCP, diffIPv4UDP, diffIPv4ICMP:
		fmt.Fprintf(&b, " %s>%s dscp=%d ecn=%d ttl=%d", diffIP4[p.IP4Src], diffIP4[p.IP4Dst], p.DSCP, p.ECN, p.TTL)
	case diffIPv6TCP, diffIPv6UDP, diffIPv6ICMP:
		fmt.Fprintf(&b, " %s>%s dscp=%d ecn=%d hlim=%d flabel=%#x", diffIP6[p.IP6Src], diffIP6[p.IP6Dst], p.DSCP, p.ECN, p.TTL, p.Flabel)
	case diffARP:
		fmt.Fprintf(&b, " op=%d sha=%s spa=%s tha=%s tpa=%s", p.ArpOp, diffMACs[p.ArpSha], diffIP4[p.ArpSpa], diffMACs[p.ArpTha], diffIP4[p.ArpTpa])
	}
	switch p.Kind {
	case diffIPv4TCP, diffIPv6TCP, diffIPv4UDP, diffIPv6UDP:
		fmt.Fprintf(&b, " ports %d>%d", p.SPort, p.DPort)
	case diffIPv4ICMP:
		fmt.Fprintf(&b, " type=%d code=%d", diffICMP4[p.ICMP4][0], diffICMP4[p.ICMP4][1])
	case diffIPv6ICMP:
		fmt.Fprintf(&b, " type=%d", p.ICMP6Type)
	}
	return b.String()
}

// diffMagic starts the tag that every generated frame carries in its
// payload: magic, then the packet's sequence number.
var diffMagic = []byte("GvDf")

// build encodes the packet with sequence number seq in its payload.
func (p *diffPkt) build(seq uint32) []byte {
	eth := &layers.Ethernet{SrcMAC: diffMACs[p.Src], DstMAC: diffMACs[p.Dst]}
	var inner layers.EthernetType
	hdr := 14
	switch p.Kind {
	case diffIPv4TCP, diffIPv4UDP, diffIPv4ICMP:
		inner = layers.EthernetTypeIPv4
	case diffIPv6TCP, diffIPv6UDP, diffIPv6ICMP:
		inner = layers.EthernetTypeIPv6
	case diffARP:
		inner = layers.EthernetTypeARP
	default:
		inner = 0x88b5
	}
	ls := []gopacket.SerializableLayer{eth}
	eth.EthernetType = inner
	if len(p.Tags) > 0 {
		eth.EthernetType = layers.EthernetType(p.Tags[0].TPID)
	}
	for i, t := range p.Tags {
		next := inner
		if i+1 < len(p.Tags) {
			next = layers.EthernetType(p.Tags[i+1].TPID)
		}
		ls = append(ls, &layers.Dot1Q{Priority: t.PCP, VLANIdentifier: t.VID, Type: next})
	}
	var nl gopacket.NetworkLayer
	switch p.Kind {
	case diffIPv4TCP, diffIPv4UDP, diffIPv4ICMP:
		proto := map[int]layers.IPProtocol{diffIPv4TCP: 6, diffIPv4UDP: 17, diffIPv4ICMP: 1}[p.Kind]
		ip := &layers.IPv4{Version: 4, TOS: p.DSCP<<2 | p.ECN, TTL: p.TTL, Id: 0x4242, Flags: layers.IPv4DontFragment,
			Protocol: proto, SrcIP: diffIP4[p.IP4Src], DstIP: diffIP4[p.IP4Dst]}
		nl = ip
		ls = append(ls, ip)
		hdr += 20
	case diffIPv6TCP, diffIPv6UDP, diffIPv6ICMP:
		proto := map[int]layers.IPProtocol{diffIPv6TCP: 6, diffIPv6UDP: 17, diffIPv6ICMP: 58}[p.Kind]
		ip := &layers.IPv6{Version: 6, TrafficClass: p.DSCP<<2 | p.ECN, FlowLabel: p.Flabel, NextHeader: proto,
			HopLimit: p.TTL, SrcIP: diffIP6[p.IP6Src], DstIP: diffIP6[p.IP6Dst]}
		nl = ip
		ls = append(ls, ip)
		hdr += 40
	case diffARP:
		ls = append(ls, &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: p.ArpOp,
			SourceHwAddress: diffMACs[p.ArpSha], SourceProtAddress: diffIP4[p.ArpSpa],
			DstHwAddress: diffMACs[p.ArpTha], DstProtAddress: diffIP4[p.ArpTpa]})
		hdr += 28
	}
	switch p.Kind {
	case diffIPv4TCP, diffIPv6TCP:
		tcp := &layers.TCP{SrcPort: layers.TCPPort(p.SPort), DstPort: layers.TCPPort(p.DPort), Seq: 1000, Window: 8192,
			SYN: p.TCPFlags != 1, ACK: p.TCPFlags != 0}
		if p.TCPFlags != 0 {
			tcp.Ack = 77
		}
		tcp.SetNetworkLayerForChecksum(nl)
		ls = append(ls, tcp)
		hdr += 20
	case diffIPv4UDP, diffIPv6UDP:
		udp := &layers.UDP{SrcPort: layers.UDPPort(p.SPort), DstPort: layers.UDPPort(p.DPort)}
		udp.SetNetworkLayerForChecksum(nl)
		ls = append(ls, udp)
		hdr += 8
	case diffIPv4ICMP:
		ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(diffICMP4[p.ICMP4][0], diffICMP4[p.ICMP4][1]), Id: 7, Seq: 1})
		hdr += 8
	case diffIPv6ICMP:
		icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(p.ICMP6Type, 0)}
		icmp.SetNetworkLayerForChecksum(nl)
		ls = append(ls, icmp, &layers.ICMPv6Echo{Identifier: 7, SeqNumber: 1})
		hdr += 8
	}
	// Untagged frames of at least 60 bytes: no Ethernet padding, even
	// after the pipeline pops every tag.
	n := max(p.PayloadLen, 60-hdr, 8)
	payload := make([]byte, n)
	copy(payload, diffMagic)
	binary.BigEndian.PutUint32(payload[4:], seq)
	for i := 8; i < n; i++ {
		payload[i] = byte(i * 7)
	}
	ls = append(ls, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		panic(err)
	}
	return slices.Clone(buf.Bytes())
}

// diffTagOf returns the sequence number a frame carries, if any.
func diffTagOf(frame []byte) (uint32, bool) {
	i := bytes.Index(frame, diffMagic)
	if i < 0 || i+8 > len(frame) {
		return 0, false
	}
	return binary.BigEndian.Uint32(frame[i+4:]), true
}
