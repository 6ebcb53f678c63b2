package vport

// Headroom is the number of bytes kept free in front of every received frame,
// so that actions which prepend headers (push VLAN, push MPLS, push PBB) grow
// the frame in place instead of copying it.
const Headroom = 128

// MaxFrameLen is the largest frame a packet's own buffer holds: a 9000-byte
// jumbo payload plus Ethernet, two VLAN tags and slack. Ports that copy
// frames into the caller's buffers truncate longer frames on receive and
// count them as errors. GSO super-frames (up to 64 KiB, see Offload) are
// received into port memory instead, and CopyFrom grows a buffer to hold one.
const MaxFrameLen = 9216

// BufSize is the size of a packet's own buffer: headroom plus the largest
// frame.
const BufSize = Headroom + MaxFrameLen

// Packet is one Ethernet frame (without FCS) in a buffer with headroom, and
// its offload state (see Offload).
//
// The frame is buf[start:end]. A packet has its own buffer; a port may
// instead point it at port memory when it receives a frame (a slot of a
// receive ring), so that the frame is not copied. Such a packet is valid
// until the next Recv or TryRecv on that port (or its Close): whoever keeps
// a frame longer copies it (CopyFrom). The next RecvBuf, SetFrame or
// CopyFrom puts the packet back on its own buffer.
//
// A Packet is owned by exactly one party at a time: the caller of Port.Recv
// owns the packets it passed in; Port.Send reads the frames and returns
// before the caller may modify or reuse them (ports copy what they keep).
// Packets are meant to be allocated once and reused.
type Packet struct {
	buf        []byte // the frame's buffer: own, or port memory
	own        []byte // the packet's own buffer
	start, end int
	off        Offload
}

// NewPacket returns a packet with its own buffer of BufSize bytes and an
// empty frame.
func NewPacket() *Packet {
	b := make([]byte, BufSize)
	return &Packet{buf: b, own: b, start: Headroom, end: Headroom}
}

// NewPacketCap returns a packet whose own buffer holds frames of up to n
// bytes after the headroom (at least 64). SetFrame, CopyFrom and Segment
// grow the buffer, allocating, when a longer frame comes. It is for packets
// kept in numbers that rarely hold long frames (upcall queues).
func NewPacketCap(n int) *Packet {
	b := make([]byte, Headroom+max(n, 64))
	return &Packet{buf: b, own: b, start: Headroom, end: Headroom}
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

// Offload returns the packet's offload state.
func (p *Packet) Offload() Offload { return p.off }

// SetOffload sets the packet's offload state. The offsets in o are relative
// to the start of the current frame.
func (p *Packet) SetOffload(o Offload) { p.off = o }

// HasOffload reports whether the packet carries offload state: a partial
// checksum or a GSO super-frame.
func (p *Packet) HasOffload() bool { return p.off.Flags&OffloadCsum != 0 || p.off.GSOType != GSONone }

// IsGSO reports whether the packet is a GSO super-frame.
func (p *Packet) IsGSO() bool { return p.off.GSOType != GSONone }

// RecvBuf resets the packet to its own buffer, with no offload state, and
// returns the space a port reads a frame into: everything after the
// headroom. The port then calls SetLen.
func (p *Packet) RecvBuf() []byte {
	p.buf = p.own
	p.start = Headroom
	p.end = Headroom
	p.off = Offload{}
	return p.own[Headroom:]
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

// setExternal points the packet at frame buf[start:end] in port memory,
// with no offload state. buf must not extend past the memory the port
// lends (Push may use all of it).
func (p *Packet) setExternal(buf []byte, start, end int) {
	p.buf = buf
	p.start = start
	p.end = end
	p.off = Offload{}
}

// SetFrame copies frame into the packet's own buffer (after the headroom),
// with no offload state. Frames longer than MaxFrameLen are truncated.
func (p *Packet) SetFrame(frame []byte) {
	if len(frame) > MaxFrameLen {
		frame = frame[:MaxFrameLen]
	}
	p.copyIn(frame)
	p.off = Offload{}
}

// copyIn copies frame into the own buffer, growing it when it is too
// small. frame may alias the packet's current frame.
func (p *Packet) copyIn(frame []byte) {
	if len(frame) > len(p.own)-Headroom {
		b := make([]byte, Headroom+len(frame))
		copy(b[Headroom:], frame)
		p.own = b
	} else {
		copy(p.own[Headroom:], frame)
	}
	p.buf = p.own
	p.start = Headroom
	p.end = Headroom + len(frame)
}

// CopyFrom makes p a copy of q's frame and offload state, with the full
// headroom in front, in p's own buffer (grown when q holds a frame longer
// than it, a GSO super-frame).
func (p *Packet) CopyFrom(q *Packet) {
	off := q.off
	p.copyIn(q.Data())
	p.off = off
}

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
	p.off.shift(0, n)
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
	p.off.shift(n, -n)
}

// Insert opens a gap of n bytes at offset off within the frame by moving the
// first off bytes towards the front (into the headroom), and returns the gap.
// It is how a tag is inserted after the MAC addresses. It returns nil, and
// leaves the frame unchanged, when off is outside the frame or n is negative
// or too large.
func (p *Packet) Insert(off, n int) []byte {
	if off < 0 || off > p.Len() || n < 0 {
		return nil
	}
	o := p.off
	if p.Push(n) == nil {
		return nil
	}
	p.off = o
	p.off.shift(off, n)
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
	p.off.shift(off+n, -n)
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
