package datapath

import (
	"encoding/binary"
	"fmt"
	"net"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// The gopacket oracle: gopacketKey decodes a frame with gopacket's layer
// decoders and builds the key and layout that Extract must produce. Every
// field value comes from a gopacket layer. Where our parse differs from
// gopacket's by design, the rule is written out below (marked "Rule:"), and
// the oracle follows our rule, still reading the values from gopacket.
//
// The oracle decodes one header at a time (gopacket.NewPacket from that
// header's layer type, lazily and with NoCopy, or the layer's DecodeFromBytes where
// gopacket keeps a layer that failed to decode and we need that layer's own
// verdict), because many rules continue past a point where gopacket's own
// chain stops. Offsets for the layout come from the NoCopy slices: a layer's
// bytes alias the frame, so cap(frame)-cap(layer bytes) is its offset.
//
// Rules common to all headers: a header is used only when gopacket decodes
// it; gopacket's panics on short input (which gopacket.NewPacket turns into
// a DecodeFailure) mean "not decoded"; ports of gopacket's Layer decoders
// that are not DecodingLayers go through NewPacket.

type gpOracle struct {
	frame []byte
	k     Key
	l     Layout
	rules []string // the rules that applied, for failure messages
}

func (o *gpOracle) rule(format string, args ...any) {
	o.rules = append(o.rules, fmt.Sprintf(format, args...))
}

// off is the offset of b (a sub-slice of the frame) in the frame.
func (o *gpOracle) off(b []byte) uint16 { return uint16(cap(o.frame) - cap(b)) }

// gpDecode runs d.DecodeFromBytes(data), turning a panic into an error.
func gpDecode(d gopacket.DecodingLayer, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return d.DecodeFromBytes(data, gopacket.NilDecodeFeedback)
}

// gpFirst decodes data as a packet starting with layer type lt and returns
// that layer, or nil when gopacket did not produce it. The decoding is lazy,
// so that gopacket stops after that layer.
func gpFirst(data []byte, lt gopacket.LayerType) gopacket.Layer {
	p := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	return p.Layer(lt)
}

func gpMAC(m net.HardwareAddr) uint64 { return macValue(m) }

func gpIPv4(ip net.IP) uint64 { return uint64(binary.BigEndian.Uint32(ip.To4())) }

// gopacketKey returns the key and layout gopacket's decoding implies for
// frame, and the rules applied.
func gopacketKey(frame []byte, inPort uint32) (Key, Layout, []string) {
	o := &gpOracle{frame: frame[:len(frame):len(frame)]}
	o.walk(inPort)
	return o.k, o.l, o.rules
}

func (o *gpOracle) walk(inPort uint32) {
	FieldInPort.Set(&o.k, uint64(inPort))
	var eth layers.Ethernet
	if gpDecode(&eth, o.frame) != nil {
		return // shorter than 14 bytes: gopacket has no Ethernet either
	}
	FieldEthDst.Set(&o.k, gpMAC(eth.DstMAC))
	FieldEthSrc.Set(&o.k, gpMAC(eth.SrcMAC))
	typ := uint16(eth.EthernetType)
	rest := o.frame[14:]
	if eth.EthernetType == layers.EthernetTypeLLC {
		typ = eth.Length
		// Rule: gopacket cuts an 802.3 frame's payload to its length
		// field; OVS and we ignore the length, so the oracle goes on with
		// all the bytes after the header.
	}
	for tags := 0; isVlanTPID(typ); tags++ {
		if tags == 2 {
			o.rule("at most two VLAN tags: the third TPID is eth_type, nothing more is parsed")
			break
		}
		if typ == ethTypeQinQ1 {
			o.rule("gopacket has no decoder for TPID 0x9100: decoded with its 802.1Q decoder")
		}
		var d layers.Dot1Q
		if gpDecode(&d, rest) != nil {
			break // the tag needs its TCI and the next ethertype
		}
		tci := uint64(d.Priority)<<13 | uint64(d.VLANIdentifier) | VlanCFI
		if tags == 0 {
			FieldVlanTCI.Set(&o.k, tci)
			o.l.Vlan = o.off(rest) - 2
		} else {
			FieldVlan2TCI.Set(&o.k, tci)
		}
		typ = uint16(d.Type)
		rest = d.Payload
	}
	if typ < ethTypeMin {
		typ = o.llc(rest)
		if typ != EthTypeNone {
			rest = rest[llcSnapLen:]
		}
	}
	FieldEthType.Set(&o.k, uint64(typ))
	o.l.EthType = typ
	switch typ {
	case ethTypeMPLS, ethTypeMPLSMC:
		o.rule("MPLS: only the top label stack entry; gopacket decodes the stack and guesses the payload")
		if m, ok := gpFirst(rest, layers.LayerTypeMPLS).(*layers.MPLS); ok {
			lse := m.Label<<12 | uint32(m.TrafficClass)<<9 | uint32(m.TTL)
			if m.StackBottom {
				lse |= 1 << 8
			}
			FieldMPLSLSE.Set(&o.k, uint64(lse))
			o.l.MPLS = o.off(rest)
		}
	case ethTypePBB:
		o.rule("PBB: gopacket has no 802.1ah decoder; the I-TAG is read from the payload it leaves")
		if p, ok := gpFirst(rest, gopacket.LayerTypePayload).(*gopacket.Payload); ok && len(*p) >= 4 {
			b := []byte(*p)
			FieldPBBISID.Set(&o.k, uint64(b[1])<<16|uint64(b[2])<<8|uint64(b[3]))
			FieldPBBUCA.Set(&o.k, uint64(b[0]>>3&1))
			o.l.PBB = o.off(rest)
		}
	case ethTypeARP:
		o.arp(rest)
	case ethTypeIPv4:
		o.ipv4(rest)
	case ethTypeIPv6:
		o.ipv6(rest)
	}
}

// llc returns the ethertype of an 802.3 payload: the SNAP type or
// EthTypeNone.
func (o *gpOracle) llc(rest []byte) uint16 {
	var llc layers.LLC
	var snap layers.SNAP
	if gpDecode(&llc, rest) != nil || llc.NextLayerType() != layers.LayerTypeSNAP ||
		gpDecode(&snap, llc.Payload) != nil {
		return EthTypeNone
	}
	// Rule: gopacket takes any LLC with SAPs 0xAA (ignoring the I/G and
	// C/R bits) and any OUI as SNAP; OVS and we only RFC 1042: AA AA 03,
	// OUI 0, and a type that is an ethertype.
	if llc.IG || llc.CR || llc.Control != 3 || len(llc.Contents) != 3 ||
		string(snap.OrganizationalCode) != "\x00\x00\x00" || uint16(snap.Type) < ethTypeMin {
		o.rule("SNAP other than RFC 1042: eth_type 0x05ff")
		return EthTypeNone
	}
	return uint16(snap.Type)
}

func (o *gpOracle) arp(rest []byte) {
	a, ok := gpFirst(rest, layers.LayerTypeARP).(*layers.ARP)
	if !ok {
		return
	}
	// Rule: only Ethernet/IPv4 ARP, as OVS; gopacket decodes any.
	// gopacket's LinkType is 8 bits wide, so it reads hardware type 0x0101
	// as 1 (Ethernet): the oracle checks the high byte itself.
	if rest[0] != 0 {
		o.rule("ARP hardware type %#04x: not parsed", binary.BigEndian.Uint16(rest[0:2]))
		return
	}
	if a.AddrType != layers.LinkTypeEthernet || a.Protocol != layers.EthernetTypeIPv4 ||
		a.HwAddressSize != 6 || a.ProtAddressSize != 4 {
		o.rule("ARP other than Ethernet/IPv4: not parsed")
		return
	}
	FieldNwProto.Set(&o.k, uint64(a.Operation))
	FieldIPv4Src.Set(&o.k, gpIPv4(a.SourceProtAddress))
	FieldIPv4Dst.Set(&o.k, gpIPv4(a.DstProtAddress))
	FieldArpSha.Set(&o.k, gpMAC(a.SourceHwAddress))
	FieldArpTha.Set(&o.k, gpMAC(a.DstHwAddress))
	o.l.L3 = o.off(rest)
}

func (o *gpOracle) ipv4(rest []byte) {
	var ip layers.IPv4
	err := gpDecode(&ip, rest)
	if len(rest) < ipv4HdrLen {
		return // gopacket: "less than 20" too
	}
	// Rule: gopacket decodes any version; we need 4 (OVS, the kernel).
	// Rule: gopacket rejects a header whose total length is below 20 or
	// below IHL*4, or whose options are malformed; we need only IHL >= 5 and
	// the whole header in the frame (the kernel's check), the total length
	// only trims padding. gopacket sets the fields before those checks.
	ihl := int(ip.IHL) * 4
	if ip.Version != 4 || ip.IHL < 5 || ihl > len(rest) {
		o.rule("IPv4 with version %d, IHL %d in %d bytes: not parsed", ip.Version, ip.IHL, len(rest))
		return
	}
	pl := ip.Payload
	if err != nil {
		o.rule("IPv4 rejected by gopacket (%v): parsed, total length only trims", err)
		pl = rest[ihl:]
		if tot := int(binary.BigEndian.Uint16(rest[2:4])); tot >= ihl && tot < len(rest) {
			pl = rest[ihl:tot]
		}
	}
	var frag uint64
	if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
		frag = FragAny
		if ip.FragOffset != 0 {
			frag |= FragLater
		}
	}
	FieldNwProto.Set(&o.k, uint64(ip.Protocol))
	FieldNwTos.Set(&o.k, uint64(ip.TOS))
	FieldNwTTL.Set(&o.k, uint64(ip.TTL))
	FieldNwFrag.Set(&o.k, frag)
	FieldIPv4Src.Set(&o.k, gpIPv4(ip.SrcIP))
	FieldIPv4Dst.Set(&o.k, gpIPv4(ip.DstIP))
	o.l.L3 = o.off(rest)
	if frag&FragLater == 0 {
		if frag != 0 {
			// Rule: gopacket gives a fragment's payload as a Fragment
			// layer; OVS and we parse a first fragment's L4 header.
			o.rule("first fragment: L4 decoded from the fragment")
		}
		o.l4(pl, ip.Protocol, false)
	}
}

func (o *gpOracle) ipv6(rest []byte) {
	var ip layers.IPv6
	_ = gpDecode(&ip, rest)
	if len(rest) < ipv6HdrLen {
		return
	}
	// Rule: gopacket decodes any version; we need 6.
	if ip.Version != 6 {
		o.rule("IPv6 with version %d: not parsed", ip.Version)
		return
	}
	// Rule: gopacket decodes a hop-by-hop header as part of the IPv6 layer,
	// checking its options and the jumbogram rules, and rejects a payload
	// length of 0 without a jumbogram option. OVS and we skip every
	// extension header's options unread, and take a payload length of 0
	// as "to the end of the frame". So the oracle takes the fixed header's
	// fields (set before those checks) and walks the extension headers
	// itself with gopacket's generic IPv6ExtensionSkipper for hop-by-hop,
	// routing and destination options (the specific decoders also reject
	// routing types other than 0 and malformed options, which we ignore).
	FieldIPv6SrcHi.Set(&o.k, binary.BigEndian.Uint64(ip.SrcIP[:8]))
	FieldIPv6SrcLo.Set(&o.k, binary.BigEndian.Uint64(ip.SrcIP[8:]))
	FieldIPv6DstHi.Set(&o.k, binary.BigEndian.Uint64(ip.DstIP[:8]))
	FieldIPv6DstLo.Set(&o.k, binary.BigEndian.Uint64(ip.DstIP[8:]))
	FieldIPv6Label.Set(&o.k, uint64(ip.FlowLabel))
	FieldNwTos.Set(&o.k, uint64(ip.TrafficClass))
	FieldNwTTL.Set(&o.k, uint64(ip.HopLimit))
	o.l.L3 = o.off(rest)
	pl := rest[ipv6HdrLen:]
	if n := int(ip.Length); n != 0 && n < len(pl) {
		pl = pl[:n]
	}

	nh := ip.NextHeader
	var seen []layers.IPProtocol
	var frag uint64
	nonext, l4 := false, false
walk:
	for {
		switch nh {
		case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination:
			var x layers.IPv6ExtensionSkipper
			if gpDecode(&x, pl) != nil {
				break walk
			}
			seen = append(seen, nh)
			nh, pl = x.NextHeader, x.Payload
		case layers.IPProtocolAH:
			ah, ok := gpFirst(pl, layers.LayerTypeIPSecAH).(*layers.IPSecAH)
			if !ok {
				break walk
			}
			seen = append(seen, nh)
			nh, pl = ah.NextHeader, ah.Payload
		case layers.IPProtocolIPv6Fragment:
			f, ok := gpFirst(pl, layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment)
			if !ok {
				break walk
			}
			seen = append(seen, nh)
			nh, pl = f.NextHeader, f.Payload
			if f.FragmentOffset != 0 || f.MoreFragments {
				frag = FragAny
				if f.FragmentOffset != 0 {
					frag |= FragLater
					break walk
				}
				// Rule: gopacket stops at a fragment header; OVS and we
				// go on through a first fragment.
				o.rule("IPv6 first fragment: decoding goes on")
			}
		case layers.IPProtocolESP:
			// gopacket's ESP decoder needs SPI and sequence number.
			if gpFirst(pl, layers.LayerTypeIPSecESP) != nil {
				seen = append(seen, nh)
			}
			break walk
		case layers.IPProtocolNoNextHeader:
			nonext = true
			break walk
		default:
			l4 = true
			break walk
		}
	}
	FieldNwProto.Set(&o.k, uint64(nh))
	FieldNwFrag.Set(&o.k, frag)
	FieldIPv6Exthdr.Set(&o.k, exthdrOracle(seen, nonext))
	if l4 {
		o.l4(pl, nh, true)
	}
}

// exthdrOracle computes ipv6_exthdr from the list of extension headers,
// stated pairwise (Extract computes it incrementally): a header's rank is
// its place in RFC 2460's recommended order, a destination options header
// ranking first-destination when only hop-by-hop headers precede it and
// last-destination otherwise. UNSEQ: a hop-by-hop header not first, or a
// header ranking below an earlier one. UNREP: a header type twice, except
// destination options, which may appear once in each place.
func exthdrOracle(seen []layers.IPProtocol, nonext bool) uint64 {
	var bits uint64
	if nonext {
		bits |= ExthdrNoNext
	}
	ranks := make([]int, len(seen))
	count := map[int]int{}
	for i, h := range seen {
		switch h {
		case layers.IPProtocolIPv6HopByHop:
			bits |= ExthdrHop
			ranks[i] = 1
			if i > 0 {
				bits |= ExthdrUnseq
			}
		case layers.IPProtocolIPv6Destination:
			bits |= ExthdrDest
			ranks[i] = 2
			for _, p := range seen[:i] {
				if p != layers.IPProtocolIPv6HopByHop {
					ranks[i] = 7
				}
			}
		case layers.IPProtocolIPv6Routing:
			bits |= ExthdrRouter
			ranks[i] = 3
		case layers.IPProtocolIPv6Fragment:
			bits |= ExthdrFrag
			ranks[i] = 4
		case layers.IPProtocolAH:
			bits |= ExthdrAuth
			ranks[i] = 5
		case layers.IPProtocolESP:
			bits |= ExthdrESP
			ranks[i] = 6
		}
		if count[ranks[i]]++; count[ranks[i]] > 1 {
			bits |= ExthdrUnrep
		}
		for j := range i {
			if ranks[j] > ranks[i] {
				bits |= ExthdrUnseq
			}
		}
	}
	return bits
}

// l4 decodes the L4 header pl of IP protocol proto.
func (o *gpOracle) l4(pl []byte, proto layers.IPProtocol, v6 bool) {
	switch proto {
	case layers.IPProtocolTCP:
		var t layers.TCP
		if err := gpDecode(&t, pl); len(pl) < tcpHdrLen {
			return
		} else if err != nil {
			// Rule: gopacket rejects a TCP header whose data offset is
			// below 5 or beyond the data, or whose options are malformed,
			// after decoding the fixed header; OVS and we need only the
			// 20-byte fixed header.
			o.rule("TCP rejected by gopacket (%v): fixed header used", err)
		}
		flags := uint64(0)
		for i, b := range []bool{t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR, t.NS} {
			if b {
				flags |= 1 << i
			}
		}
		// Rule: gopacket does not expose the three reserved bits next to
		// NS; the oracle reads them from the byte it decodes NS from.
		flags |= uint64(pl[12]>>1&7) << 9
		FieldTpSrc.Set(&o.k, uint64(t.SrcPort))
		FieldTpDst.Set(&o.k, uint64(t.DstPort))
		FieldTCPFlags.Set(&o.k, flags)
	case layers.IPProtocolUDP:
		var u layers.UDP
		if err := gpDecode(&u, pl); len(pl) < udpHdrLen {
			return
		} else if err != nil {
			// Rule: gopacket rejects a UDP length of 1..7 after decoding
			// the ports; the UDP length is not ours to check.
			o.rule("UDP rejected by gopacket (%v): ports used", err)
		}
		FieldTpSrc.Set(&o.k, uint64(u.SrcPort))
		FieldTpDst.Set(&o.k, uint64(u.DstPort))
	case layers.IPProtocolSCTP:
		var s layers.SCTP
		if gpDecode(&s, pl) != nil {
			return
		}
		FieldTpSrc.Set(&o.k, uint64(s.SrcPort))
		FieldTpDst.Set(&o.k, uint64(s.DstPort))
	case layers.IPProtocolICMPv4:
		// Rule: ICMP only under IPv4 and ICMPv6 only under IPv6 (OVS,
		// and OpenFlow's prerequisites); gopacket decodes both under both.
		if v6 {
			o.rule("ICMPv4 under IPv6: no L4")
			return
		}
		var c layers.ICMPv4
		if gpDecode(&c, pl) != nil {
			return
		}
		FieldTpSrc.Set(&o.k, uint64(c.TypeCode.Type()))
		FieldTpDst.Set(&o.k, uint64(c.TypeCode.Code()))
	case layers.IPProtocolICMPv6:
		if !v6 {
			o.rule("ICMPv6 under IPv4: no L4")
			return
		}
		var c layers.ICMPv6
		if gpDecode(&c, pl) != nil {
			return
		}
		// Rule: OVS and we need 8 bytes (the header and the 4 bytes
		// every ICMPv6 message has); gopacket needs 4.
		if len(pl) < icmp6HdrLen {
			o.rule("ICMPv6 of %d bytes: no L4", len(pl))
			return
		}
		typ, code := c.TypeCode.Type(), c.TypeCode.Code()
		FieldTpSrc.Set(&o.k, uint64(typ))
		FieldTpDst.Set(&o.k, uint64(code))
		if (typ == icmp6NeighSol || typ == icmp6NeighAdv) && code == 0 {
			o.ndBody(c.Payload, typ)
		} else if typ == icmp6NeighSol || typ == icmp6NeighAdv {
			// Rule: ND fields only for code 0 (OVS); gopacket ignores it.
			o.rule("ND with code %d: no ND fields", code)
		}
	default:
		return
	}
	o.l.L4 = o.off(pl)
	o.l.L4Proto = uint8(proto)
}

// ndBody decodes a neighbour solicitation or advertisement body (after the
// 4-byte ICMPv6 header).
func (o *gpOracle) ndBody(body []byte, typ uint8) {
	// Rule: gopacket rejects the whole message when an option is
	// malformed or a tail shorter than an option follows the last one.
	// OVS and we ignore a tail of less than 8 bytes and, when an option is
	// malformed, keep the target and drop the link-layer addresses. So
	// the oracle decodes the fixed part alone, then the options cut to
	// whole 8-byte units.
	if len(body) < 20 {
		return
	}
	var target net.IP
	if typ == icmp6NeighSol {
		var ns layers.ICMPv6NeighborSolicitation
		if gpDecode(&ns, body[:20]) != nil {
			return
		}
		target = ns.TargetAddress
	} else {
		var na layers.ICMPv6NeighborAdvertisement
		if gpDecode(&na, body[:20]) != nil {
			return
		}
		target = na.TargetAddress
	}
	FieldNdTargetHi.Set(&o.k, binary.BigEndian.Uint64(target[:8]))
	FieldNdTargetLo.Set(&o.k, binary.BigEndian.Uint64(target[8:]))
	opts := body[20:]
	opts = opts[:len(opts)/8*8]
	var os layers.ICMPv6Options
	if err := os.DecodeFromBytes(opts, gopacket.NilDecodeFeedback); err != nil {
		o.rule("ND options malformed (%v): addresses dropped", err)
		return
	}
	want, field := layers.ICMPv6OptSourceAddress, FieldArpSha
	if typ == icmp6NeighAdv {
		want, field = layers.ICMPv6OptTargetAddress, FieldArpTha
	}
	// Rule: only SLL in a solicitation and TLL in an advertisement (the
	// OpenFlow prerequisites), only Ethernet ones (6 bytes); a second one
	// makes the options malformed (OVS). gopacket takes any.
	var lla uint64
	n := 0
	for _, opt := range os {
		if opt.Type == want && len(opt.Data) == 6 {
			n++
			lla = gpMAC(opt.Data)
		}
	}
	if n > 1 {
		o.rule("ND with %d link-layer address options: dropped", n)
		return
	}
	field.Set(&o.k, lla)
}
