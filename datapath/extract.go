package datapath

import "encoding/binary"

// This file is the flow key extractor: one pass over a frame that fills the
// Key and the Layout. It is the per-packet hot path, so it allocates nothing,
// calls no interfaces, and reads every header through a slice that was
// length-checked once (so the compiler can drop the per-byte bounds checks).
//
// The rules follow Open vSwitch's miniflow_extract (lib/flow.c) except where
// the comments say otherwise. Every header must fit in the frame before any
// of its fields is used; a header that does not fit ends the parse, leaving
// the key with what was parsed before it.

var be = binary.BigEndian

// Ethertypes and IP protocols the extractor knows.
const (
	ethTypeIPv4   = 0x0800
	ethTypeARP    = 0x0806
	ethTypeVLAN   = 0x8100
	ethTypeQinQ   = 0x88a8
	ethTypeQinQ1  = 0x9100 // pre-standard QinQ TPID, still seen in the wild
	ethTypeIPv6   = 0x86dd
	ethTypeMPLS   = 0x8847
	ethTypeMPLSMC = 0x8848
	ethTypePBB    = 0x88e7
	ethTypeMin    = 0x0600 // types below this are 802.3 lengths

	ipProtoHopOpts  = 0
	ipProtoICMP     = 1
	ipProtoTCP      = 6
	ipProtoUDP      = 17
	ipProtoRouting  = 43
	ipProtoFragment = 44
	ipProtoESP      = 50
	ipProtoAH       = 51
	ipProtoICMPv6   = 58
	ipProtoNoNext   = 59
	ipProtoDstOpts  = 60
	ipProtoSCTP     = 132

	icmp6NeighSol = 135
	icmp6NeighAdv = 136
	ndOptSLL      = 1
	ndOptTLL      = 2
)

// Minimum header lengths.
const (
	ethHdrLen    = 14
	vlanTagLen   = 4
	llcSnapLen   = 8
	mplsLen      = 4
	pbbITagLen   = 4
	arpEthLen    = 28
	ipv4HdrLen   = 20
	ipv6HdrLen   = 40
	tcpHdrLen    = 20
	udpHdrLen    = 8
	sctpHdrLen   = 12
	icmpHdrLen   = 8 // type, code, checksum and the 4 bytes every message has
	icmp6HdrLen  = 8 // as ICMPv4 (OVS's icmp6_data_header)
	ndMsgLen     = 24
	ndOptLLALen  = 8
	ip6ExtMinLen = 8
	ip6FragLen   = 8
	ip6AHMinLen  = 12 // next header, length, reserved, SPI, sequence (RFC 4302)
	ip6ESPMinLen = 8  // SPI, sequence
)

// isVlanTPID reports whether t is the TPID of a VLAN tag.
func isVlanTPID(t uint16) bool {
	return t == ethTypeVLAN || t == ethTypeQinQ || t == ethTypeQinQ1
}

// Extract fills *k with the flow key of frame received on inPort, and *l
// with the offsets of its headers. Both are zeroed first. Extract never
// reads beyond frame and never allocates; a truncated or malformed header
// ends the parse, and the key holds the fields of the headers before it.
//
// The Ethernet header must be complete (14 bytes), or the key holds only
// in_port. At most two VLAN tags are parsed (TPIDs 0x8100, 0x88a8 and
// 0x9100); a tag counts only when the ethertype after it is present too, and
// eth_type is the ethertype after the tags parsed, so a frame with a third
// tag has that tag's TPID as eth_type and no L3. An 802.3 frame has eth_type
// EthTypeNone, unless it carries LLC/SNAP with OUI 0 (RFC 1042), whose type
// is used. Under MPLS only the top label stack entry is read, under PBB only
// the I-TAG: neither is looked into.
func Extract(frame []byte, inPort uint32, k *Key, l *Layout) {
	*k = Key{}
	*l = Layout{}
	k[WordInPort] = uint64(inPort)
	if len(frame) < ethHdrLen {
		return
	}
	eth := frame[:ethHdrLen]
	k[WordEthDst] = be.Uint64(eth[0:8]) >> 16
	k[WordEthSrc] = be.Uint64(eth[4:12]) & 0xffff_ffff_ffff

	// VLAN tags: a tag is TPID, TCI and the ethertype that follows.
	off := 12
	typ := be.Uint16(eth[12:14])
	var tcis uint64
	if isVlanTPID(typ) && len(frame) >= 12+vlanTagLen+2 {
		t := frame[14:18]
		tcis = uint64(be.Uint16(t[0:2])|VlanCFI) << 16
		typ = be.Uint16(t[2:4])
		l.Vlan = 12
		off = 16
		if isVlanTPID(typ) && len(frame) >= 16+vlanTagLen+2 {
			t := frame[18:22]
			tcis |= uint64(be.Uint16(t[0:2])|VlanCFI) << 32
			typ = be.Uint16(t[2:4])
			off = 20
		}
	}
	off += 2 // past the ethertype: the payload

	if typ < ethTypeMin {
		typ = EthTypeNone
		// RFC 1042 LLC/SNAP: AA AA 03, OUI 00 00 00, ethertype.
		if len(frame) >= off+llcSnapLen {
			s := frame[off:][:llcSnapLen]
			if be.Uint32(s[0:4]) == 0xaaaa0300 && s[4] == 0 && s[5] == 0 {
				if t := be.Uint16(s[6:8]); t >= ethTypeMin {
					typ = t
					off += llcSnapLen
				}
			}
		}
	}
	k[WordEthType] = uint64(typ) | tcis
	l.EthType = typ

	switch typ {
	case ethTypeIPv4:
		extractIPv4(frame, off, k, l)
	case ethTypeIPv6:
		extractIPv6(frame, off, k, l)
	case ethTypeARP:
		extractARP(frame, off, k, l)
	case ethTypeMPLS, ethTypeMPLSMC:
		if len(frame) >= off+mplsLen {
			k[WordMPLS] = uint64(be.Uint32(frame[off : off+mplsLen]))
			l.MPLS = uint16(off)
		}
	case ethTypePBB:
		if len(frame) >= off+pbbITagLen {
			itag := be.Uint32(frame[off : off+pbbITagLen])
			k[WordMPLS] = uint64(itag&0xffffff)<<32 | uint64(itag>>27&1)<<56
			l.PBB = uint16(off)
		}
	}
}

// extractL3 parses the header of ethertype typ at off, as Extract does after
// the Ethernet header: it fills the L3 and L4 words of k and the L3/L4 part
// of l. Header actions use it to refresh a layout after a change that
// reveals or alters headers.
func extractL3(frame []byte, off int, typ uint16, k *Key, l *Layout) {
	switch typ {
	case ethTypeIPv4:
		extractIPv4(frame, off, k, l)
	case ethTypeIPv6:
		extractIPv6(frame, off, k, l)
	case ethTypeARP:
		extractARP(frame, off, k, l)
	}
}

// extractARP parses an Ethernet/IPv4 ARP packet at off.
func extractARP(frame []byte, off int, k *Key, l *Layout) {
	if len(frame) < off+arpEthLen {
		return
	}
	a := frame[off:][:arpEthLen]
	// htype 1, ptype 0x0800, hlen 6, plen 4.
	if be.Uint64(a[0:8])>>16 != 0x0001_0800_0604 {
		return
	}
	k[WordNw] = uint64(be.Uint16(a[6:8]))
	k[WordIPv4] = uint64(be.Uint32(a[14:18])) | uint64(be.Uint32(a[24:28]))<<32
	k[WordArpSha] = be.Uint64(a[6:14]) & 0xffff_ffff_ffff
	k[WordArpTha] = be.Uint64(a[16:24]) & 0xffff_ffff_ffff
	l.L3 = uint16(off)
}

// extractIPv4 parses an IPv4 header at off and what follows it. The header
// counts when its version is 4, its IHL at least 5 and it fits in the frame.
// The total length only trims trailing Ethernet padding off the payload; a
// total length beyond the frame (a truncated packet) or shorter than the
// header (a malformed one) is ignored, as the kernel datapath does.
func extractIPv4(frame []byte, off int, k *Key, l *Layout) {
	if off > len(frame) {
		return
	}
	h := frame[off:]
	if len(h) < ipv4HdrLen {
		return
	}
	ihl := int(h[0]&0x0f) * 4
	if h[0]>>4 != 4 || ihl < ipv4HdrLen || len(h) < ihl {
		return
	}
	if tot := int(be.Uint16(h[2:4])); tot >= ihl && tot < len(h) {
		h = h[:tot]
	}
	fix := h[:ipv4HdrLen]
	proto := fix[9]
	var frag uint64
	if ff := be.Uint16(fix[6:8]); ff&0x3fff != 0 { // MF or offset
		frag = FragAny
		if ff&0x1fff != 0 {
			frag |= FragLater
		}
	}
	k[WordNw] = uint64(proto) | uint64(fix[1])<<16 | uint64(fix[8])<<24 | frag<<52
	k[WordIPv4] = uint64(be.Uint32(fix[12:16])) | uint64(be.Uint32(fix[16:20]))<<32
	l.L3 = uint16(off)
	if frag&FragLater == 0 {
		extractL4(h[ihl:], off+ihl, proto, false, k, l)
	}
}

// IPv6 extension header ranks in the order RFC 2460 section 4.1 recommends.
// A destination options header ranks as rankDest1 when only a hop-by-hop
// header precedes it (it may be the one before a routing header), as
// rankDest2 (the one before the upper layer) otherwise.
const (
	rankHop = iota + 1
	rankDest1
	rankRouter
	rankFrag
	rankAuth
	rankESP
	rankDest2
)

// exthdrSeen records an IPv6 extension header of OFPIEH bit `bit` (and
// rank, ignored for destination options) in the running ipv6_exthdr value
// bits, given last, the highest rank seen so far. It returns the new bits
// and highest rank. A header seen before is an unexpected repeat (UNREP),
// except destination options, which may occur twice; a header ranking below
// one seen before, or a hop-by-hop header anywhere but first, is out of
// sequence (UNSEQ).
func exthdrSeen(bits uint64, last uint8, bit uint64, rank uint8) (uint64, uint8) {
	switch {
	case bit == ExthdrDest:
		if last >= rankDest2 {
			bits |= ExthdrUnrep
		}
		rank = rankDest1
		if last >= rankDest1 {
			rank = rankDest2
		}
	case bits&bit != 0:
		bits |= ExthdrUnrep
		fallthrough
	default:
		if rank < last || (bit == ExthdrHop && last != 0) {
			bits |= ExthdrUnseq
		}
	}
	return bits | bit, max(last, rank)
}

// extractIPv6 parses an IPv6 header at off, its extension headers and
// what follows them. The header counts when its version is 6 and it fits.
// The payload length trims trailing padding; 0 (a jumbogram, or a bogus
// length) and lengths beyond the frame are ignored.
//
// Extension headers (hop-by-hop, routing, fragment, destination options,
// AH) are walked while they fit; ipv6_exthdr collects their OFPIEH bits.
// ESP and "no next header" end the walk (their bits are set: ESP only when
// its SPI and sequence number are present). A later fragment ends it too. A
// header that does not fit ends the walk without its bit. nw_proto is the
// last next-header value read, which for a later fragment is the fragment
// header's next header (OVS uses 44 there; we keep the protocol, as for
// IPv4 later fragments).
func extractIPv6(frame []byte, off int, k *Key, l *Layout) {
	if off > len(frame) {
		return
	}
	h := frame[off:]
	if len(h) < ipv6HdrLen {
		return
	}
	fix := h[:ipv6HdrLen]
	vtf := be.Uint32(fix[0:4])
	if vtf>>28 != 6 {
		return
	}
	if plen := int(be.Uint16(fix[4:6])); plen != 0 && ipv6HdrLen+plen < len(h) {
		h = h[:ipv6HdrLen+plen]
	}
	k[WordIPv6SrcHi] = be.Uint64(fix[8:16])
	k[WordIPv6SrcLo] = be.Uint64(fix[16:24])
	k[WordIPv6DstHi] = be.Uint64(fix[24:32])
	k[WordIPv6DstLo] = be.Uint64(fix[32:40])
	l.L3 = uint16(off)

	nh := fix[6]
	p := ipv6HdrLen
	var bits, frag uint64
	var last uint8
	l4 := true
walk:
	for {
		rest := h[p:]
		switch nh {
		case ipProtoHopOpts, ipProtoRouting, ipProtoDstOpts:
			if len(rest) < ip6ExtMinLen {
				l4 = false
				break walk
			}
			n := (int(rest[1]) + 1) * 8
			if len(rest) < n {
				l4 = false
				break walk
			}
			var bit uint64
			var rank uint8
			switch nh {
			case ipProtoHopOpts:
				bit, rank = ExthdrHop, rankHop
			case ipProtoRouting:
				bit, rank = ExthdrRouter, rankRouter
			default:
				bit = ExthdrDest
			}
			bits, last = exthdrSeen(bits, last, bit, rank)
			nh = rest[0]
			p += n
		case ipProtoAH:
			if len(rest) < ip6AHMinLen {
				l4 = false
				break walk
			}
			n := (int(rest[1]) + 2) * 4
			if n < ip6AHMinLen || len(rest) < n {
				l4 = false
				break walk
			}
			bits, last = exthdrSeen(bits, last, ExthdrAuth, rankAuth)
			nh = rest[0]
			p += n
		case ipProtoFragment:
			if len(rest) < ip6FragLen {
				l4 = false
				break walk
			}
			f := rest[:ip6FragLen]
			bits, last = exthdrSeen(bits, last, ExthdrFrag, rankFrag)
			nh = f[0]
			p += ip6FragLen
			// Offset and M flag; an atomic fragment (both 0) is whole.
			if offlg := be.Uint16(f[2:4]); offlg&0xfff9 != 0 {
				frag = FragAny
				if offlg&0xfff8 != 0 {
					frag |= FragLater
					l4 = false
					break walk
				}
			}
		case ipProtoESP:
			if len(rest) >= ip6ESPMinLen {
				bits, _ = exthdrSeen(bits, last, ExthdrESP, rankESP)
			}
			l4 = false
			break walk
		case ipProtoNoNext:
			bits |= ExthdrNoNext
			l4 = false
			break walk
		default:
			break walk
		}
	}
	k[WordNw] = uint64(nh) | uint64(vtf>>20&0xff)<<16 | uint64(fix[7])<<24 |
		uint64(vtf&0xfffff)<<32 | frag<<52 | bits<<54
	if l4 {
		extractL4(h[p:], off+p, nh, true, k, l)
	}
}

// extractL4 parses the L4 header h (the rest of the IP payload), of IP
// protocol proto, found at offset off. ICMP is parsed under IPv4 only and
// ICMPv6 under IPv6 only.
func extractL4(h []byte, off int, proto uint8, v6 bool, k *Key, l *Layout) {
	switch proto {
	case ipProtoTCP:
		if len(h) < tcpHdrLen {
			return
		}
		t := h[:tcpHdrLen]
		k[WordL4] = uint64(be.Uint16(t[0:2])) | uint64(be.Uint16(t[2:4]))<<16 |
			uint64(be.Uint16(t[12:14])&0x0fff)<<32
	case ipProtoUDP, ipProtoSCTP:
		if len(h) < udpHdrLen || (proto == ipProtoSCTP && len(h) < sctpHdrLen) {
			return
		}
		t := h[:4]
		k[WordL4] = uint64(be.Uint16(t[0:2])) | uint64(be.Uint16(t[2:4]))<<16
	case ipProtoICMP:
		if v6 || len(h) < icmpHdrLen {
			return
		}
		t := h[:2]
		k[WordL4] = uint64(t[0]) | uint64(t[1])<<16
	case ipProtoICMPv6:
		if !v6 || len(h) < icmp6HdrLen {
			return
		}
		t := h[:2]
		k[WordL4] = uint64(t[0]) | uint64(t[1])<<16
		if (t[0] == icmp6NeighSol || t[0] == icmp6NeighAdv) && t[1] == 0 && len(h) >= ndMsgLen {
			extractND(h, k)
		}
	default:
		return
	}
	l.L4 = uint16(off)
	l.L4Proto = proto
}

// extractND fills the ND fields from a neighbour solicitation or
// advertisement h (at least ndMsgLen bytes): the target, and the source
// (NS) or target (NA) link-layer address option. Options are walked while 8
// bytes remain (a shorter tail is ignored, as OVS does); an option of length
// 0 or running past the message, or a second SLL (NS) / TLL (NA) option,
// makes the options malformed: the key keeps the target and drops both
// addresses (as OVS does). Options of other types, or of another length
// than 8 (not Ethernet), are skipped.
func extractND(h []byte, k *Key) {
	t := h[:ndMsgLen]
	k[WordNdTargetHi] = be.Uint64(t[8:16])
	k[WordNdTargetLo] = be.Uint64(t[16:24])
	want := byte(ndOptSLL)
	word := WordArpSha
	if t[0] == icmp6NeighAdv {
		want, word = ndOptTLL, WordArpTha
	}
	var lla uint64
	found := false
	for o := h[ndMsgLen:]; len(o) >= ndOptLLALen; {
		n := int(o[1]) * 8
		if n == 0 || n > len(o) {
			return
		}
		if o[0] == want && n == ndOptLLALen {
			if found {
				return
			}
			found = true
			lla = be.Uint64(o[0:8]) & 0xffff_ffff_ffff
		}
		o = o[n:]
	}
	k[word] = lla
}
