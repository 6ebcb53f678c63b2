package vport

import (
	"encoding/binary"
	"math/bits"
)

// Offload is the offload state of a packet: what the kernel left for the
// device (or for us) to do, as a struct virtio_net_hdr describes it. Ports
// with PACKET_VNET_HDR receive it with every frame and hand it back to the
// kernel on send, so TCP's 64 KiB TSO super-frames and partial checksums
// cross the switch as they are (see OffloadSender); anything else the
// datapath does with such a packet starts with FinishChecksum or Segment.
//
// Offsets are from the start of the frame; Push, Pull, Insert and Remove
// keep them pointing at the same bytes.
type Offload struct {
	// Flags: OffloadCsum when the checksum at CsumStart+CsumOffset holds
	// only the pseudo-header sum and the bytes from CsumStart to the end of
	// the frame still have to be summed into it (CHECKSUM_PARTIAL).
	Flags uint8
	// GSOType says how a super-frame is cut into segments of GSOSize
	// payload bytes: GSONone, GSOTCPv4, GSOTCPv6 or GSOUDPL4, possibly with
	// GSOECN.
	GSOType uint8
	// HdrLen is the kernel's hint for the length of the headers (it may
	// cover more than the headers); 0 if unknown.
	HdrLen     uint16
	GSOSize    uint16
	CsumStart  uint16
	CsumOffset uint16
}

// Offload flags and GSO types (the values of struct virtio_net_hdr).
const (
	OffloadCsum      = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM
	offloadDataValid = 2 // VIRTIO_NET_HDR_F_DATA_VALID: received, checksum verified

	GSONone  = 0    // VIRTIO_NET_HDR_GSO_NONE
	GSOTCPv4 = 1    // VIRTIO_NET_HDR_GSO_TCPV4
	GSOUDP   = 3    // VIRTIO_NET_HDR_GSO_UDP (UFO, IP fragmentation): not segmented here
	GSOTCPv6 = 4    // VIRTIO_NET_HDR_GSO_TCPV6
	GSOUDPL4 = 5    // VIRTIO_NET_HDR_GSO_UDP_L4 (UDP segmentation)
	GSOECN   = 0x80 // VIRTIO_NET_HDR_GSO_ECN: the super-frame has CWR set
)

// vnetHdrLen is sizeof(struct virtio_net_hdr).
const vnetHdrLen = 10

// shift moves the offsets at or after from by delta (bytes inserted or
// removed in front of them).
func (o *Offload) shift(from, delta int) {
	if o.Flags&OffloadCsum != 0 && int(o.CsumStart) >= from {
		o.CsumStart = uint16(int(o.CsumStart) + delta)
	}
	if o.HdrLen != 0 && int(o.HdrLen) >= from {
		o.HdrLen = uint16(max(int(o.HdrLen)+delta, 0))
	}
}

// decodeVnetHdr reads a struct virtio_net_hdr (native byte order, as
// AF_PACKET uses it). The receive-only DATA_VALID flag is dropped.
func decodeVnetHdr(b []byte) Offload {
	_ = b[vnetHdrLen-1]
	ne := binary.NativeEndian
	o := Offload{
		Flags:      b[0] & OffloadCsum,
		GSOType:    b[1],
		HdrLen:     ne.Uint16(b[2:]),
		GSOSize:    ne.Uint16(b[4:]),
		CsumStart:  ne.Uint16(b[6:]),
		CsumOffset: ne.Uint16(b[8:]),
	}
	if o.Flags == 0 {
		o.CsumStart, o.CsumOffset = 0, 0
	}
	if o.GSOType == GSONone {
		o.GSOSize = 0
	}
	return o
}

// encodeVnetHdr writes o as a struct virtio_net_hdr.
func encodeVnetHdr(b []byte, o Offload) {
	_ = b[vnetHdrLen-1]
	ne := binary.NativeEndian
	b[0] = o.Flags & OffloadCsum
	b[1] = o.GSOType
	ne.PutUint16(b[2:], o.HdrLen)
	ne.PutUint16(b[4:], o.GSOSize)
	ne.PutUint16(b[6:], o.CsumStart)
	ne.PutUint16(b[8:], o.CsumOffset)
}

// FinishChecksum completes a partial checksum (OffloadCsum) in software, as
// the kernel's skb_checksum_help does, and clears the flag. It returns
// false, leaving the packet unchanged, when the offsets do not fit the
// frame. A GSO super-frame keeps its GSO state (use Segment).
func (p *Packet) FinishChecksum() bool {
	o := &p.off
	if o.Flags&OffloadCsum == 0 {
		return true
	}
	f := p.Data()
	start, field := int(o.CsumStart), int(o.CsumStart)+int(o.CsumOffset)
	if start > len(f) || field+2 > len(f) || field < start {
		return false
	}
	s := Checksum(f[start:], 0)
	if s == 0 {
		s = 0xffff // as the kernel does: 0 would mean "no checksum" for UDP
	}
	binary.BigEndian.PutUint16(f[field:], s)
	o.Flags &^= OffloadCsum
	o.CsumStart, o.CsumOffset = 0, 0
	return true
}

// Checksum returns the Internet checksum (RFC 1071: the complement of the
// ones' complement sum of the 16-bit big-endian words) of b, with sum (a
// partial sum from OnesSum, e.g. a pseudo-header) added in.
func Checksum(b []byte, sum uint64) uint16 {
	return ^Fold(OnesSum(b, sum))
}

// Fold folds a 64-bit ones' complement sum into 16 bits.
func Fold(s uint64) uint16 {
	s = s&0xffffffff + s>>32
	s = s&0xffffffff + s>>32
	s = s&0xffff + s>>16
	s = s&0xffff + s>>16
	return uint16(s)
}

// OnesSum adds the 16-bit big-endian words of b to the ones' complement sum
// s (an odd last byte is padded with zero) and returns the unfolded result.
// It sums eight bytes at a time.
func OnesSum(b []byte, s uint64) uint64 {
	var c uint64
	for len(b) >= 32 {
		var c0, c1, c2, c3 uint64
		s, c0 = bits.Add64(s, beWord(b[0:8]), 0)
		s, c1 = bits.Add64(s, beWord(b[8:16]), c0)
		s, c2 = bits.Add64(s, beWord(b[16:24]), c1)
		s, c3 = bits.Add64(s, beWord(b[24:32]), c2)
		c += c3
		b = b[32:]
	}
	for len(b) >= 8 {
		var c0 uint64
		s, c0 = bits.Add64(s, beWord(b[0:8]), 0)
		c += c0
		b = b[8:]
	}
	var tail uint64
	switch len(b) {
	case 0:
	default:
		var t [8]byte
		copy(t[:], b)
		tail = binary.BigEndian.Uint64(t[:])
	}
	var c0 uint64
	s, c0 = bits.Add64(s, tail, 0)
	c += c0
	// The carries out of bit 63 wrap around (end-around carry).
	s, c0 = bits.Add64(s, c, 0)
	return s + c0
}

// beWord reads 8 bytes as a big-endian word. Summing big-endian 64-bit
// words and folding gives the same ones' complement sum as summing the
// 16-bit words (the sum is independent of how the words are grouped).
func beWord(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
