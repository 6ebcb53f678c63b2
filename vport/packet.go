package vport

// Headroom is the number of bytes kept free in front of every received frame,
// so that actions which prepend headers (push VLAN, push MPLS, push PBB) grow
// the frame in place instead of copying it.
const Headroom = 128

// MaxFrameLen is the largest frame a port receives or sends: a 9000-byte
// jumbo payload plus Ethernet, two VLAN tags and slack. Larger frames are
// truncated on receive and counted as errors.
const MaxFrameLen = 9216

// BufSize is the size of a packet buffer: headroom plus the largest frame.
const BufSize = Headroom + MaxFrameLen

// Packet is one Ethernet frame (without FCS) in a buffer with headroom.
//
// The frame is buf[start:end]. A Packet is owned by exactly one party at a
// time: the caller of Port.Recv owns the packets it passed in; Port.Send reads
// the frames and returns before the caller may modify or reuse them (ports
// copy what they keep). Packets are meant to be allocated once and reused.
type Packet struct {
	buf        []byte
	start, end int
}

// NewPacket returns a packet with its own buffer of BufSize bytes and an
// empty frame.
func NewPacket() *Packet {
	return &Packet{buf: make([]byte, BufSize), start: Headroom, end: Headroom}
}

// NewPacketFrom returns a new packet holding a copy of frame. Frames longer
// than MaxFrameLen are truncated.
func NewPacketFrom(frame []byte) *Packet {
	p := NewPacket()
	p.SetFrame(frame)
	return p
}

// Data returns the frame. The slice aliases the packet's buffer.
func (p *Packet) Data() []byte { return p.buf[p.start:p.end] }

// Len returns the frame length in bytes.
func (p *Packet) Len() int { return p.end - p.start }

// RecvBuf resets the packet and returns the space a port reads a frame
// into: everything after the headroom. The port then calls SetLen.
func (p *Packet) RecvBuf() []byte {
	p.start = Headroom
	p.end = Headroom
	return p.buf[Headroom:]
}

// SetLen sets the frame to the first n bytes after the headroom, as filled
// through RecvBuf.
func (p *Packet) SetLen(n int) {
	n = max(n, 0)
	if n > len(p.buf)-Headroom {
		n = len(p.buf) - Headroom
	}
	p.start = Headroom
	p.end = Headroom + n
}

// SetFrame copies frame into the packet (after the headroom).
func (p *Packet) SetFrame(frame []byte) {
	n := copy(p.buf[Headroom:], frame)
	p.start = Headroom
	p.end = Headroom + n
}

// CopyFrom makes p a copy of q's frame, with the full headroom in front.
func (p *Packet) CopyFrom(q *Packet) { p.SetFrame(q.Data()) }

// Push grows the frame by n bytes at the front and returns the whole frame.
// The new bytes are not initialised. When the headroom is used up the frame
// is moved back to make room; Push fails (returns nil) only when the frame
// would exceed the buffer, or when n is negative.
func (p *Packet) Push(n int) []byte {
	if n < 0 {
		return nil
	}
	if n > p.start {
		if p.Len()+n > len(p.buf)-Headroom {
			return nil
		}
		l := p.Len()
		copy(p.buf[Headroom+n:], p.buf[p.start:p.end])
		p.start = Headroom + n
		p.end = p.start + l
	}
	p.start -= n
	return p.buf[p.start:p.end]
}

// Pull removes n bytes from the front of the frame (n <= Len; a negative n
// is a no-op).
func (p *Packet) Pull(n int) {
	if n < 0 {
		return
	}
	if n > p.Len() {
		n = p.Len()
	}
	p.start += n
}

// Insert opens a gap of n bytes at offset off within the frame by moving the
// first off bytes towards the front (into the headroom), and returns the gap.
// It is how a tag is inserted after the MAC addresses. It returns nil, and
// leaves the frame unchanged, when off is outside the frame or n is negative
// or too large.
func (p *Packet) Insert(off, n int) []byte {
	if off < 0 || off > p.Len() || p.Push(n) == nil {
		return nil
	}
	copy(p.buf[p.start:p.start+off], p.buf[p.start+n:p.start+n+off])
	return p.buf[p.start+off : p.start+off+n]
}

// Remove deletes n bytes at offset off within the frame by moving the first
// off bytes towards the back. It is how a tag is removed. Out-of-range
// arguments leave the frame unchanged.
func (p *Packet) Remove(off, n int) {
	if off < 0 || n < 0 || off+n > p.Len() {
		return
	}
	copy(p.buf[p.start+n:p.start+n+off], p.buf[p.start:p.start+off])
	p.start += n
}

// Truncate shortens the frame to n bytes (no-op if it is shorter; a negative
// n empties it).
func (p *Packet) Truncate(n int) {
	n = max(n, 0)
	if n < p.Len() {
		p.end = p.start + n
	}
}

// Pad extends the frame with zero bytes up to n bytes (no-op if longer).
func (p *Packet) Pad(n int) {
	if n > len(p.buf)-p.start {
		n = len(p.buf) - p.start
	}
	for p.Len() < n {
		p.buf[p.end] = 0
		p.end++
	}
}
