package datapath

// setField applies an ActSetField action to frame f with layout l: only the
// bits of the field selected by the mask change, and the checksums that
// cover the field are fixed. A field of a header the frame does not have is
// left alone. Value and Mask are in [1] for fields up to 64 bits, [0] high
// and [1] low for 128-bit ones; narrower wire fields use the low bits.
func setField(f []byte, l *Layout, a *Action) {
	v, m := a.Value[1], a.Mask[1]
	l3, l4 := int(l.L3), int(l.L4)
	ipv4 := l3 != 0 && l.EthType == ethTypeIPv4
	ipv6 := l3 != 0 && l.EthType == ethTypeIPv6
	arp := l3 != 0 && l.EthType == ethTypeARP

	switch a.Field {
	case SetEthDst, SetEthSrc:
		if len(f) < ethHdrLen {
			return
		}
		off := 0
		if a.Field == SetEthSrc {
			off = 6
		}
		put48(f[off:off+6], v, m&0xffff_ffff_ffff)

	case SetEthType:
		off := ethTypeOffset(f, l)
		if off < 0 {
			return
		}
		if old, new := put16(f[off:off+2], uint16(v), uint16(m)); old != new {
			relayout(f, l)
		}

	case SetVlanTCI:
		if l.Vlan == 0 {
			return
		}
		o := int(l.Vlan) + 2
		put16(f[o:o+2], uint16(v), uint16(m)&^VlanCFI)

	case SetMPLSLSE:
		if l.MPLS == 0 {
			return
		}
		o := int(l.MPLS)
		put32(f[o:o+4], uint32(v), uint32(m))

	case SetPBBISID:
		if l.PBB == 0 {
			return
		}
		o := int(l.PBB)
		put32(f[o:o+4], uint32(v), uint32(m)&0xffffff)

	case SetIPv4Src, SetIPv4Dst:
		switch {
		case ipv4:
			o := l3 + 12
			if a.Field == SetIPv4Dst {
				o = l3 + 16
			}
			old, new := put32(f[o:o+4], uint32(v), uint32(m))
			d := csumDelta32(old, new)
			fixCsum(f[l3+10:l3+12], d)
			fixL4PseudoCsum(f, l, d)
		case arp:
			o := l3 + 14
			if a.Field == SetIPv4Dst {
				o = l3 + 24
			}
			put32(f[o:o+4], uint32(v), uint32(m))
		}

	case SetIPTos:
		switch {
		case ipv4:
			w := f[l3 : l3+2]
			old := be.Uint16(w)
			put8(w[1:2], uint8(v), uint8(m))
			fixCsum(f[l3+10:l3+12], csumDelta16(old, be.Uint16(w)))
		case ipv6:
			// Traffic class: bits 20..27 of the first word.
			put32(f[l3:l3+4], uint32(v&0xff)<<20, uint32(m&0xff)<<20)
		}

	case SetIPTTL:
		switch {
		case ipv4:
			w := f[l3+8 : l3+10]
			old := be.Uint16(w)
			put8(w[0:1], uint8(v), uint8(m))
			fixCsum(f[l3+10:l3+12], csumDelta16(old, be.Uint16(w)))
		case ipv6:
			put8(f[l3+7:l3+8], uint8(v), uint8(m))
		}

	case SetIPProto:
		// The protocol is part of the pseudo header, so the checksum of
		// the L4 header that is there (found by its old protocol) is
		// updated for the new value; the bytes stay as they are.
		var oldProto, newProto uint8
		switch {
		case ipv4:
			w := f[l3+8 : l3+10]
			old := be.Uint16(w)
			if _, new := put8(w[1:2], uint8(v), uint8(m)); new == uint8(old) {
				return
			}
			fixCsum(f[l3+10:l3+12], csumDelta16(old, be.Uint16(w)))
			oldProto, newProto = uint8(old), f[l3+9]
		case ipv6:
			o := ipv6LastNextHeader(f, l3)
			old, new := put8(f[o:o+1], uint8(v), uint8(m))
			if old == new {
				return
			}
			oldProto, newProto = old, new
		default:
			return
		}
		fixL4PseudoCsum(f, l, csumDelta16(uint16(oldProto), uint16(newProto)))
		relayout(f, l) // the L4 header (and for IPv6 the chain) may change

	case SetIPv6Src, SetIPv6Dst:
		if !ipv6 {
			return
		}
		o := l3 + 8
		if a.Field == SetIPv6Dst {
			o = l3 + 24
		}
		d := put128(f[o:o+16], a)
		// The pseudo header holds the final destination: with a routing
		// header that still has segments to visit, that is not the IPv6
		// destination field (RFC 8200 section 8.1), as OVS knows too.
		if a.Field == SetIPv6Src || !ipv6RoutingPending(f, l3, l4) {
			fixL4PseudoCsum(f, l, d)
		}

	case SetIPv6Label:
		if ipv6 {
			put32(f[l3:l3+4], uint32(v), uint32(m)&0xfffff)
		}

	case SetTpSrc, SetTpDst:
		if l4 == 0 {
			return
		}
		o := l4
		if a.Field == SetTpDst {
			o += 2
		}
		switch l.L4Proto {
		case ipProtoTCP:
			old, new := put16(f[o:o+2], uint16(v), uint16(m))
			fixCsum(f[l4+16:l4+18], csumDelta16(old, new))
		case ipProtoUDP:
			old, new := put16(f[o:o+2], uint16(v), uint16(m))
			fixUDPCsum(f[l4+6:l4+8], csumDelta16(old, new))
		case ipProtoSCTP:
			if old, new := put16(f[o:o+2], uint16(v), uint16(m)); old != new && !ipFragment(f, l) {
				// (A fragment's CRC covers the whole datagram: left alone.)
				sctpRecomputeCRC(f[l4:l3End(f, l)])
			}
		case ipProtoICMP, ipProtoICMPv6:
			// Type and code are bytes 0 and 1: one checksummed word.
			o = l4
			if a.Field == SetTpDst {
				o++
			}
			w := f[l4 : l4+2]
			old := be.Uint16(w)
			put8(f[o:o+1], uint8(v), uint8(m))
			fixCsum(f[l4+2:l4+4], csumDelta16(old, be.Uint16(w)))
		}

	case SetArpOp:
		if arp {
			put16(f[l3+6:l3+8], uint16(v), uint16(m))
		}

	case SetArpSha, SetArpTha:
		if arp {
			o := l3 + 8
			if a.Field == SetArpTha {
				o = l3 + 18
			}
			put48(f[o:o+6], v, m&0xffff_ffff_ffff)
		}

	case SetNdTarget:
		if nd := ndMessage(f, l, 0); nd != nil {
			fixCsum(nd[2:4], put128(nd[8:24], a))
		}

	case SetNdSll, SetNdTll:
		typ := uint8(icmp6NeighSol)
		if a.Field == SetNdTll {
			typ = icmp6NeighAdv
		}
		nd := ndMessage(f, l, typ)
		if nd == nil {
			return
		}
		if o := ndLLAOption(nd); o > 0 {
			old, new := put48(nd[o+2:o+8], v, m&0xffff_ffff_ffff)
			fixCsum(nd[2:4], csumDelta48(old, new))
		}
	}
}

// fixL4PseudoCsum applies the checksum change d of an IP address to the L4
// checksum that covers it through the pseudo header (TCP, UDP, ICMPv6;
// SCTP's CRC and ICMPv4's checksum do not cover addresses).
func fixL4PseudoCsum(f []byte, l *Layout, d uint64) {
	l4 := int(l.L4)
	if l4 == 0 {
		return
	}
	switch l.L4Proto {
	case ipProtoTCP:
		fixCsum(f[l4+16:l4+18], d)
	case ipProtoUDP:
		fixUDPCsum(f[l4+6:l4+8], d)
	case ipProtoICMPv6:
		fixCsum(f[l4+2:l4+4], d)
	}
}

// l3End returns the end of the IP packet in f (before any Ethernet
// padding), bounded by the frame, as Extract bounds the payload.
func l3End(f []byte, l *Layout) int {
	l3 := int(l.L3)
	switch l.EthType {
	case ethTypeIPv4:
		ihl := int(f[l3]&0x0f) * 4
		if tot := int(be.Uint16(f[l3+2 : l3+4])); tot >= ihl && l3+tot < len(f) {
			return l3 + tot
		}
	case ethTypeIPv6:
		if plen := int(be.Uint16(f[l3+4 : l3+6])); plen != 0 && l3+ipv6HdrLen+plen < len(f) {
			return l3 + ipv6HdrLen + plen
		}
	}
	return len(f)
}

// ipFragment reports whether the IP packet at l.L3 is a fragment (the L4
// header of a first fragment is parsed; its payload is not all there).
func ipFragment(f []byte, l *Layout) bool {
	l3 := int(l.L3)
	if l.EthType == ethTypeIPv4 {
		return be.Uint16(f[l3+6:l3+8])&0x3fff != 0
	}
	frag := false
	ipv6WalkExt(f, l3, int(l.L4), func(nh uint8, h []byte) {
		if nh == ipProtoFragment && be.Uint16(h[2:4])&0xfff9 != 0 {
			frag = true
		}
	})
	return frag
}

// ipv6RoutingPending reports whether the IPv6 packet at l3 has a routing
// header with segments left before its L4 header at l4.
func ipv6RoutingPending(f []byte, l3, l4 int) bool {
	pending := false
	ipv6WalkExt(f, l3, l4, func(nh uint8, h []byte) {
		if nh == ipProtoRouting && h[3] != 0 {
			pending = true
		}
	})
	return pending
}

// ipv6WalkExt calls fn with the type and bytes of each extension header
// between the IPv6 header at l3 and the L4 header at l4 (which Extract
// found, so they are all complete). Without an L4 header there is nothing
// to walk (an action that needs the chain has no L4 header to fix).
func ipv6WalkExt(f []byte, l3, l4 int, fn func(nh uint8, h []byte)) {
	if l4 == 0 {
		return
	}
	nh := f[l3+6]
	for p := l3 + ipv6HdrLen; p < l4; {
		h := f[p:l4]
		var n int
		switch nh {
		case ipProtoAH:
			n = (int(h[1]) + 2) * 4
		case ipProtoFragment:
			n = ip6FragLen
		default:
			n = (int(h[1]) + 1) * 8
		}
		fn(nh, h)
		nh = h[0]
		p += n
	}
}

// ipv6LastNextHeader returns the offset of the next-header byte that gives
// the IPv6 packet at l3 its protocol (nw_proto): the last one Extract read.
func ipv6LastNextHeader(f []byte, l3 int) int {
	h := f[l3:]
	if plen := int(be.Uint16(h[4:6])); plen != 0 && ipv6HdrLen+plen < len(h) {
		h = h[:ipv6HdrLen+plen]
	}
	o := 6 // the fixed header's next header
	for p := ipv6HdrLen; ; {
		rest := h[p:]
		var n int
		switch h[o] {
		case ipProtoHopOpts, ipProtoRouting, ipProtoDstOpts:
			if len(rest) < ip6ExtMinLen {
				return l3 + o
			}
			n = (int(rest[1]) + 1) * 8
		case ipProtoAH:
			if len(rest) < ip6AHMinLen {
				return l3 + o
			}
			if n = (int(rest[1]) + 2) * 4; n < ip6AHMinLen {
				return l3 + o
			}
		case ipProtoFragment:
			if len(rest) < ip6FragLen {
				return l3 + o
			}
			if be.Uint16(rest[2:4])&0xfff8 != 0 {
				return l3 + p // a later fragment: its next header
			}
			n = ip6FragLen
		default:
			return l3 + o
		}
		if len(rest) < n {
			return l3 + o
		}
		o, p = p, p+n
	}
}

// ndMessage returns the ICMPv6 neighbour solicitation or advertisement
// (code 0, complete) at l.L4, up to the end of the IPv6 payload, or nil.
// typ, when not 0, requires that message type.
func ndMessage(f []byte, l *Layout, typ uint8) []byte {
	l4 := int(l.L4)
	if l4 == 0 || l.L4Proto != ipProtoICMPv6 {
		return nil
	}
	nd := f[l4:l3End(f, l)]
	if len(nd) < ndMsgLen || nd[1] != 0 || (nd[0] != icmp6NeighSol && nd[0] != icmp6NeighAdv) {
		return nil
	}
	if typ != 0 && nd[0] != typ {
		return nil
	}
	return nd
}

// ndLLAOption returns the offset within nd of the link-layer address
// option that Extract reads (SLL for a solicitation, TLL for an
// advertisement), or 0 when there is none or the options are malformed.
func ndLLAOption(nd []byte) int {
	want := byte(ndOptSLL)
	if nd[0] == icmp6NeighAdv {
		want = ndOptTLL
	}
	at := 0
	for p := ndMsgLen; len(nd)-p >= ndOptLLALen; {
		n := int(nd[p+1]) * 8
		if n == 0 || n > len(nd)-p {
			return 0
		}
		if nd[p] == want && n == ndOptLLALen {
			if at != 0 {
				return 0
			}
			at = p
		}
		p += n
	}
	return at
}
