package datapath

import "github.com/govs/govs/vport"

// Header actions: set-field and push/pop of VLAN, MPLS and PBB headers,
// applied to a frame in place. Each keeps the Layout equal to what Extract
// would report for the modified frame, and fixes the checksums that cover
// a changed field (incrementally, RFC 1624; SCTP's CRC32c is recomputed).
// Nothing here allocates.

// applyHeaderAction applies a (an action for which isHeaderAction is true)
// to p, whose
// headers are at l, and updates l. An action on a header the packet does not
// have does nothing. It returns false only when a push found no room in the
// packet's buffer; the packet is then unchanged.
func applyHeaderAction(p *vport.Packet, l *Layout, a *Action) bool {
	switch a.Type {
	case ActSetField:
		setField(p.Data(), l, a)
	case ActPushVLAN:
		return pushVLAN(p, l, a.Ethertype, uint16(a.Value[1]))
	case ActPopVLAN:
		popVLAN(p, l)
	case ActPushMPLS:
		return pushMPLS(p, l, a.Ethertype, uint32(a.Value[1]))
	case ActPopMPLS:
		popMPLS(p, l, a.Ethertype)
	case ActPushPBB:
		return pushPBB(p, l, a.Ethertype, uint32(a.Value[1]))
	case ActPopPBB:
		popPBB(p, l)
	case ActCopyTTLOut:
		copyTTLOut(p.Data(), l)
	case ActCopyTTLIn:
		copyTTLIn(p.Data(), l)
	}
	return true
}

// isHeaderAction reports whether applyHeaderAction implements t (the
// actions that modify the packet's headers in place).
func isHeaderAction(t ActionType) bool {
	switch t {
	case ActSetField, ActPushVLAN, ActPopVLAN, ActPushMPLS, ActPopMPLS, ActPushPBB, ActPopPBB,
		ActCopyTTLOut, ActCopyTTLIn:
		return true
	}
	return false
}

// relayout recomputes l from scratch for frame f. Actions use it where a
// change reveals headers that were not parsed before (a popped tag, label or
// PBB header) or changes how the frame parses.
func relayout(f []byte, l *Layout) {
	var k Key
	Extract(f, 0, &k, l)
}

// ethTypeOffset returns the offset of the ethertype field that Extract took
// eth_type from (after at most two VLAN tags, or the SNAP header's type),
// or -1 when the frame has none (a runt, or an 802.3 frame without SNAP).
func ethTypeOffset(f []byte, l *Layout) int {
	if off := l.EthTypeOffset(); off > 0 {
		return off
	}
	if len(f) < ethHdrLen {
		return -1
	}
	off := 12
	if l.Vlan != 0 {
		off = 16
		if len(f) >= 22 && isVlanTPID(be.Uint16(f[16:18])) {
			off = 20
		}
	}
	if be.Uint16(f[off:off+2]) >= ethTypeMin {
		return off
	}
	if l.EthType != EthTypeNone && len(f) >= off+2+llcSnapLen {
		return off + llcSnapLen // the SNAP header's type
	}
	return -1
}

// pushVLAN inserts a tag (tpid, tci) after the MAC addresses.
func pushVLAN(p *vport.Packet, l *Layout, tpid, tci uint16) bool {
	if p.Len() < ethHdrLen {
		return true
	}
	gap := p.Insert(12, vlanTagLen)
	if gap == nil {
		return false
	}
	be.PutUint16(gap[0:2], tpid)
	be.PutUint16(gap[2:4], tci)
	f := p.Data()
	if !isVlanTPID(tpid) || isVlanTPID(be.Uint16(f[16:18])) {
		// The frame was already tagged (it may now have more tags than
		// Extract parses), or the TPID is not one Extract knows.
		relayout(f, l)
		return true
	}
	l.shift(12, vlanTagLen)
	l.Vlan = 12
	return true
}

// popVLAN removes the outer VLAN tag, if any.
func popVLAN(p *vport.Packet, l *Layout) {
	if l.Vlan == 0 {
		return
	}
	p.Remove(12, vlanTagLen)
	f := p.Data()
	if isVlanTPID(be.Uint16(f[12:14])) {
		// Inner tags: the frame may now parse deeper than before.
		relayout(f, l)
		return
	}
	l.shift(12, -vlanTagLen)
}

// pushMPLS inserts label stack entry lse in front of the top entry, or after
// the ethertype when the frame has no MPLS header, and sets that ethertype
// to ethertype. Frames without an ethertype, and PBB frames (whose customer
// frame the datapath does not parse), are left alone.
func pushMPLS(p *vport.Packet, l *Layout, ethertype uint16, lse uint32) bool {
	if l.PBB != 0 {
		return true
	}
	off := int(l.MPLS)
	if off == 0 {
		e := ethTypeOffset(p.Data(), l)
		if e < 0 {
			return true
		}
		off = e + 2
	}
	gap := p.Insert(off, mplsLen)
	if gap == nil {
		return false
	}
	be.PutUint32(gap, lse)
	f := p.Data()
	be.PutUint16(f[off-2:off], ethertype)
	if ethertype != ethTypeMPLS && ethertype != ethTypeMPLSMC {
		relayout(f, l)
		return true
	}
	l.shift(off, mplsLen)
	l.MPLS = uint16(off)
	l.EthType = ethertype
	l.L3, l.L4, l.L4Proto = 0, 0, 0 // Extract does not look under MPLS
	return true
}

// popMPLS removes the top label stack entry and sets the ethertype before it
// to ethertype, then parses what is revealed.
func popMPLS(p *vport.Packet, l *Layout, ethertype uint16) {
	off := int(l.MPLS)
	if off == 0 {
		return
	}
	p.Remove(off, mplsLen)
	f := p.Data()
	be.PutUint16(f[off-2:off], ethertype)
	l.MPLS = 0
	l.EthType = ethertype
	switch ethertype {
	case ethTypeMPLS, ethTypeMPLSMC:
		if len(f) >= off+mplsLen {
			l.MPLS = uint16(off)
		}
	case ethTypeIPv4, ethTypeIPv6, ethTypeARP:
		var k Key
		extractL3(f, off, ethertype, &k, l)
	default:
		// Anything else (a VLAN TPID, PBB, an 802.3 length...) may change
		// the parse from the Ethernet header on.
		relayout(f, l)
	}
}

// pushPBB puts a new outer Ethernet header and I-TAG in front of the frame
// (IEEE 802.1ah): B-DA and B-SA copied from the frame's addresses, then
// ethertype (0x88e7) and the I-TAG itag, then the original frame (the
// customer frame, C-DA and C-SA first). itag is the 32-bit I-TAG as on the
// wire: flags (I-PCP, I-DEI, UCA) in the top byte, I-SID in the low 24 bits.
func pushPBB(p *vport.Packet, l *Layout, ethertype uint16, itag uint32) bool {
	if p.Len() < ethHdrLen {
		return true
	}
	f := p.Push(ethHdrLen + pbbITagLen)
	if f == nil {
		return false
	}
	copy(f[0:12], f[18:30])
	be.PutUint16(f[12:14], ethertype)
	be.PutUint32(f[14:18], itag)
	if ethertype != ethTypePBB {
		relayout(f, l)
		return true
	}
	*l = Layout{PBB: 14, EthType: ethertype}
	return true
}

// popPBB removes the outer Ethernet header (with any B-TAG) and the I-TAG,
// leaving the customer frame, and parses it.
func popPBB(p *vport.Packet, l *Layout) {
	if l.PBB == 0 {
		return
	}
	p.Pull(int(l.PBB) + pbbITagLen)
	relayout(p.Data(), l)
}

// Masked writes: each stores the bits of v selected by m into the
// big-endian field at b and returns the old and new values.

func put8(b []byte, v, m uint8) (old, new uint8) {
	old = b[0]
	new = old&^m | v&m
	b[0] = new
	return old, new
}

func put16(b []byte, v, m uint16) (old, new uint16) {
	old = be.Uint16(b)
	new = old&^m | v&m
	be.PutUint16(b, new)
	return old, new
}

func put32(b []byte, v, m uint32) (old, new uint32) {
	old = be.Uint32(b)
	new = old&^m | v&m
	be.PutUint32(b, new)
	return old, new
}

func put48(b []byte, v, m uint64) (old, new uint64) {
	_ = b[5]
	old = uint64(be.Uint16(b[0:2]))<<32 | uint64(be.Uint32(b[2:6]))
	new = old&^m | v&m
	be.PutUint16(b[0:2], uint16(new>>32))
	be.PutUint32(b[2:6], uint32(new))
	return old, new
}

func put64(b []byte, v, m uint64) (old, new uint64) {
	old = be.Uint64(b)
	new = old&^m | v&m
	be.PutUint64(b, new)
	return old, new
}

// put128 writes a 128-bit field (hi/lo in a.Value/a.Mask [0]/[1]) and
// returns the checksum change.
func put128(b []byte, a *Action) uint64 {
	_ = b[15]
	oh, nh := put64(b[0:8], a.Value[0], a.Mask[0])
	ol, nl := put64(b[8:16], a.Value[1], a.Mask[1])
	return csumDelta64(oh, nh) + csumDelta64(ol, nl)
}
