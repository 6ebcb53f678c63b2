package datapath

// Layout records where a frame's headers start, as byte offsets from the
// start of the frame. Extract fills it; action execution keeps it up to date
// as it pushes and pops headers. An offset of 0 means "not present" (no
// header but Ethernet can start at offset 0).
type Layout struct {
	Vlan uint16 // first VLAN tag (12 when tagged)
	MPLS uint16 // first MPLS label stack entry
	PBB  uint16 // PBB I-TAG (after its 0x88e7 ethertype)
	L3   uint16 // IPv4, IPv6 or ARP header
	L4   uint16 // TCP, UDP, SCTP, ICMP or ICMPv6 header (after IPv6 extension headers)
	// EthType is the ethertype that precedes L3 (or MPLS/PBB): the
	// innermost type of the Ethernet header and its tags.
	EthType uint16
	// L4Proto is the IP protocol of the L4 header (0 if none).
	L4Proto uint8
}

// EthTypeOffset returns the offset of the ethertype field that announces
// the payload after any VLAN tags (12 for an untagged frame).
func (l *Layout) EthTypeOffset() int {
	switch {
	case l.L3 != 0 && l.MPLS == 0 && l.PBB == 0:
		return int(l.L3) - 2
	case l.MPLS != 0:
		return int(l.MPLS) - 2
	case l.PBB != 0:
		return int(l.PBB) - 2
	}
	return -1
}

// shift records that delta bytes were inserted (delta > 0) or removed
// (delta < 0) at offset from: offsets at or after the change move by delta,
// and the offset of a header that was removed becomes 0.
func (l *Layout) shift(from, delta int) {
	mv := func(p *uint16) {
		o := int(*p)
		switch {
		case o == 0 || o < from:
		case delta < 0 && o < from-delta:
			*p = 0
		default:
			*p = uint16(o + delta)
		}
	}
	mv(&l.Vlan)
	mv(&l.MPLS)
	mv(&l.PBB)
	mv(&l.L3)
	mv(&l.L4)
}
