package datapath

// TTL copies between the outermost header with a TTL and the one inside it
// (OpenFlow copy_ttl_out / copy_ttl_in). Only MPLS packets have two such
// headers that the switch knows: the top label with the next label, or with
// the IPv4/IPv6 header under the bottom of the stack. Anything else is left
// alone.

// innerTTL locates the TTL byte under the top MPLS label: the next label's
// TTL, or the IPv4 TTL / IPv6 hop limit after the bottom of the stack. It
// returns the byte's offset and, for IPv4, the offset of the header
// checksum (0 otherwise); off is -1 when there is none.
func innerTTL(f []byte, l *Layout) (off, ipv4Csum int) {
	top := int(l.MPLS)
	if top == 0 || top+4 > len(f) {
		return -1, 0
	}
	if f[top+2]&1 == 0 { // not bottom of stack: the next label
		if top+8 > len(f) {
			return -1, 0
		}
		return top + 7, 0
	}
	ip := top + 4
	if ip >= len(f) {
		return -1, 0
	}
	switch f[ip] >> 4 {
	case 4:
		if ip+20 > len(f) {
			return -1, 0
		}
		return ip + 8, ip + 10
	case 6:
		if ip+40 > len(f) {
			return -1, 0
		}
		return ip + 7, 0
	}
	return -1, 0
}

// copyTTLOut copies the inner TTL into the top MPLS label.
func copyTTLOut(f []byte, l *Layout) {
	off, _ := innerTTL(f, l)
	if off < 0 {
		return
	}
	f[int(l.MPLS)+3] = f[off]
}

// copyTTLIn copies the top MPLS label's TTL into the inner header, fixing
// the IPv4 header checksum.
func copyTTLIn(f []byte, l *Layout) {
	off, csum := innerTTL(f, l)
	if off < 0 {
		return
	}
	ttl := f[int(l.MPLS)+3]
	old := f[off]
	f[off] = ttl
	if csum != 0 {
		// The TTL is the high byte of a 16-bit word (TTL, protocol).
		w := uint16(f[off+1])
		fixCsum(f[csum:], csumDelta16(uint16(old)<<8|w, uint16(ttl)<<8|w))
	}
}
