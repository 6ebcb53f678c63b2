package vport

import "encoding/binary"

// Software segmentation of GSO super-frames, for where the kernel cannot
// do it for us: before a packet goes to the slow path, to a controller, or
// out of a port without offloads (the LOCAL tap, memory ports), or before an
// action that would have to change every segment's headers differently.
// It does what the kernel's skb_gso_segment does for TCP (TSO) and UDP
// (USO) over IPv4 and IPv6: each segment gets the headers, GSOSize bytes
// of payload, and correct lengths, IPv4 IDs, TCP sequence numbers and
// flags, and full checksums.

var be = binary.BigEndian

// gsoInfo is where a super-frame's headers are.
type gsoInfo struct {
	l3, l4, hdrLen int
	v6, udp        bool
	mss, segs      int
}

// gsoParse finds the headers of a super-frame: Ethernet with up to two VLAN
// tags, IPv4 or IPv6, then TCP or UDP at CsumStart (IPv6 extension headers
// are allowed in between) or right after the IP header.
func (p *Packet) gsoParse() (g gsoInfo, ok bool) {
	f := p.Data()
	o := p.off
	if o.GSOSize == 0 {
		return g, false
	}
	switch o.GSOType &^ GSOECN {
	case GSOTCPv4, GSOTCPv6:
	case GSOUDPL4:
		g.udp = true
	default:
		return g, false
	}
	if len(f) < 14 {
		return g, false
	}
	off, typ := 12, be.Uint16(f[12:])
	for i := 0; i < 2 && (typ == 0x8100 || typ == 0x88a8 || typ == 0x9100) && len(f) >= off+6; i++ {
		off += 4
		typ = be.Uint16(f[off:])
	}
	g.l3 = off + 2
	switch typ {
	case 0x0800:
		if len(f) < g.l3+20 || f[g.l3]>>4 != 4 {
			return g, false
		}
		g.l4 = g.l3 + int(f[g.l3]&0x0f)*4
		proto := f[g.l3+9]
		if g.l4 < g.l3+20 || (o.GSOType&^GSOECN == GSOTCPv6) || (proto != 6 && proto != 17) || (proto == 17) != g.udp {
			return g, false
		}
	case 0x86dd:
		if len(f) < g.l3+40 || f[g.l3]>>4 != 6 || o.GSOType&^GSOECN == GSOTCPv4 {
			return g, false
		}
		g.v6 = true
		g.l4 = g.l3 + 40
		if nh := f[g.l3+6]; (nh == 17) != g.udp || (nh != 6 && nh != 17) {
			if o.Flags&OffloadCsum == 0 || int(o.CsumStart) <= g.l4 {
				return g, false
			}
			g.l4 = int(o.CsumStart) // behind extension headers
		}
	default:
		return g, false
	}
	if o.Flags&OffloadCsum != 0 && int(o.CsumStart) != g.l4 {
		return g, false
	}
	if g.udp {
		g.hdrLen = g.l4 + 8
	} else {
		if len(f) < g.l4+20 {
			return g, false
		}
		g.hdrLen = g.l4 + int(f[g.l4+12]>>4)*4
		if g.hdrLen < g.l4+20 {
			return g, false
		}
	}
	if len(f) < g.hdrLen {
		return g, false
	}
	g.mss = int(o.GSOSize)
	g.segs = max(1, (len(f)-g.hdrLen+g.mss-1)/g.mss)
	return g, true
}

// GSOSegments returns how many segments Segment makes of the super-frame
// p, or 0 when p is not a GSO super-frame this package can segment (UFO,
// unknown headers, inconsistent offsets).
func (p *Packet) GSOSegments() int {
	if p.off.GSOType == GSONone {
		return 0
	}
	g, ok := p.gsoParse()
	if !ok {
		return 0
	}
	return g.segs
}

// Segment writes segment i (0 <= i < GSOSegments) of the super-frame p into
// q's own buffer (grown if it is too small), as a complete frame without
// offload state. It returns
// false, leaving q empty, when p cannot be segmented or i is out of range.
// p is not changed.
func (p *Packet) Segment(i int, q *Packet) bool {
	q.RecvBuf()
	g, ok := p.gsoParse()
	if !ok || i < 0 || i >= g.segs {
		return false
	}
	f := p.Data()
	from := g.hdrLen + i*g.mss
	to := min(from+g.mss, len(f))
	n := g.hdrLen + to - from
	if n > len(q.own)-Headroom {
		q.own = make([]byte, Headroom+n)
		q.buf = q.own
	}
	s := q.own[Headroom : Headroom+n]
	copy(s, f[:g.hdrLen])
	copy(s[g.hdrLen:], f[from:to])
	q.SetLen(n)

	ip := s[g.l3:]
	l4len := n - g.l4
	var pseudo uint64
	if g.v6 {
		be.PutUint16(ip[4:], uint16(n-g.l3-40))
		pseudo = OnesSum(ip[8:40], 0)
	} else {
		be.PutUint16(ip[2:], uint16(n-g.l3))
		be.PutUint16(ip[4:], be.Uint16(ip[4:])+uint16(i))
		ip[10], ip[11] = 0, 0
		ihl := g.l4 - g.l3
		be.PutUint16(ip[10:], Checksum(ip[:ihl], 0))
		pseudo = OnesSum(ip[12:20], 0)
	}
	l4 := s[g.l4:]
	if g.udp {
		pseudo += 17 + uint64(l4len)
		be.PutUint16(l4[4:], uint16(l4len))
		l4[6], l4[7] = 0, 0
		c := Checksum(l4, pseudo)
		if c == 0 {
			c = 0xffff
		}
		be.PutUint16(l4[6:], c)
		return true
	}
	pseudo += 6 + uint64(l4len)
	be.PutUint32(l4[4:], be.Uint32(l4[4:])+uint32(i*g.mss))
	const fin, psh, cwr = 0x01, 0x08, 0x80
	if i != g.segs-1 {
		l4[13] &^= fin | psh
	}
	if i != 0 {
		l4[13] &^= cwr
	}
	l4[16], l4[17] = 0, 0
	be.PutUint16(l4[16:], Checksum(l4, pseudo))
	return true
}
