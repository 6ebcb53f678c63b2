package vport

import (
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// sizeofTpacketAuxdata is sizeof(struct tpacket_auxdata).
const sizeofTpacketAuxdata = 20

// auxSpace is the control buffer of one received message: room for one
// PACKET_AUXDATA control message.
var auxSpace = unix.CmsgSpace(sizeofTpacketAuxdata)

// rxState is the recvmmsg side of an AFPacketPort (RxMmsg): the message
// vectors and the state of the receive in progress. Only the goroutine
// inside Recv/TryRecv touches it. The frame iovecs point into the caller's
// packets only during a receive.
type rxState struct {
	msgs  []unix.Mmsghdr
	iovs  []unix.Iovec // per message: [vnet header,] frame
	ctrl  []byte       // auxSpace bytes per message
	hdrs  []byte       // vnetHdrLen bytes per message (vnet only)
	niov  int          // iovecs per message
	k     int          // messages offered to recvmmsg
	n     int          // messages received
	errno unix.Errno   // unexpected error from recvmmsg
}

func (r *rxState) init(batch int, vnet bool) {
	r.niov = 1
	if vnet {
		r.niov = 2
		r.hdrs = make([]byte, batch*vnetHdrLen)
	}
	r.msgs = make([]unix.Mmsghdr, batch)
	r.iovs = make([]unix.Iovec, batch*r.niov)
	r.ctrl = make([]byte, batch*auxSpace)
	for i := range r.msgs {
		h := &r.msgs[i].Hdr
		h.Iov = &r.iovs[i*r.niov]
		h.SetIovlen(r.niov)
		h.Control = &r.ctrl[i*auxSpace]
		if vnet {
			r.iovs[2*i].Base = &r.hdrs[i*vnetHdrLen]
			r.iovs[2*i].SetLen(vnetHdrLen)
		}
	}
}

// frameIov returns the iovec of message i's frame.
func (r *rxState) frameIov(i int) *unix.Iovec { return &r.iovs[i*r.niov+r.niov-1] }

// release forgets the caller's buffers.
func (r *rxState) release() {
	for i := range r.k {
		r.frameIov(i).Base = nil
	}
}

// Recv blocks until at least one frame has arrived, then returns up to
// min(len(pkts), MaxBatch) frames in pkts. In RxRing mode the packets point
// into the ring until the next Recv or TryRecv. Frames that were too long
// are skipped (RxErrors); to keep the returned frames at the front, Recv may
// reorder the packet pointers within pkts. It returns ErrClosed after Close.
func (p *AFPacketPort) Recv(pkts []*Packet) (int, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for {
		n, err := p.tryRecvLocked(pkts)
		if n > 0 || err != nil || len(pkts) == 0 {
			return n, err
		}
		fds := [2]unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLIN}, {Fd: int32(p.closeEv), Events: unix.POLLIN}}
		if p.gone.Load() {
			fds[0].Fd = -1
		}
		if _, e := blockingPoll(fds[:], nil); e != 0 && e != unix.EINTR {
			return 0, fmt.Errorf("vport: %s: poll: %w", p.info.Name, e)
		}
		if fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
			p.pollErrorLocked()
		}
	}
}

// TryRecv is Recv without waiting: it returns 0 and no error when no frame
// is waiting.
func (p *AFPacketPort) TryRecv(pkts []*Packet) (int, error) {
	p.mu.RLock()
	n, err := p.tryRecvLocked(pkts)
	p.mu.RUnlock()
	return n, err
}

// TryRecvCostly reports whether TryRecv makes a system call (RxMmsg)
// rather than reading the receive ring.
func (p *AFPacketPort) TryRecvCostly() bool { return p.opts.RxMode == RxMmsg }

func (p *AFPacketPort) pollErrorLocked() {
	e, err := unix.GetsockoptInt(p.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && (unix.Errno(e) == unix.ENODEV || unix.Errno(e) == unix.ENXIO) {
		p.gone.Store(true)
	}
}

// tryRecvLocked receives what is waiting; p.mu is read-held.
func (p *AFPacketPort) tryRecvLocked(pkts []*Packet) (int, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	if len(pkts) > p.opts.MaxBatch {
		pkts = pkts[:p.opts.MaxBatch]
	}
	if p.ring != nil {
		r := p.ring
		r.release()
		if len(pkts) == 0 {
			return 0, nil
		}
		n, bytes, bad := r.receive(pkts)
		p.stats.rx.add(n, bytes)
		p.stats.rx.fail(bad)
		return n, nil
	}
	if len(pkts) == 0 {
		return 0, nil
	}
	r := &p.rx
	for i, pkt := range pkts {
		b := pkt.RecvBuf()
		iov := r.frameIov(i)
		iov.Base = &b[0]
		iov.SetLen(len(b))
		h := &r.msgs[i].Hdr
		h.SetControllen(auxSpace)
		h.Flags = 0
	}
	r.k = len(pkts)
	defer r.release()
	for {
		n, e := recvmmsg(p.fd, r.msgs[:r.k], unix.MSG_DONTWAIT)
		switch e {
		case 0:
			r.n = n
			return p.finishRecv(pkts), nil
		case unix.EAGAIN:
			return 0, nil
		case unix.EINTR, unix.ENETDOWN:
			// ENETDOWN reports (once) that the interface went down;
			// frames may still be queued behind it.
			continue
		default:
			return 0, fmt.Errorf("vport: %s: recvmmsg: %w", p.info.Name, e)
		}
	}
}

// finishRecv sets the lengths and offload state of the r.n received frames,
// restores their VLAN tags, moves the good ones to the front of pkts and
// counts them.
func (p *AFPacketPort) finishRecv(pkts []*Packet) int {
	r := &p.rx
	good, bytes, bad := 0, 0, 0
	for i := range r.n {
		m := &r.msgs[i]
		l := int(m.Len)
		if r.niov == 2 {
			l -= vnetHdrLen
		}
		if m.Hdr.Flags&unix.MSG_TRUNC != 0 || l < 0 {
			bad++
			continue
		}
		pkt := pkts[i]
		pkt.SetLen(l)
		if r.niov == 2 {
			pkt.off = decodeVnetHdr(r.hdrs[i*vnetHdrLen:])
		}
		cl := min(int(m.Hdr.Controllen), auxSpace)
		if !restoreVLAN(pkt, r.ctrl[i*auxSpace:i*auxSpace+cl]) {
			bad++
			continue
		}
		bytes += pkt.Len()
		if good != i {
			pkts[good], pkts[i] = pkts[i], pkts[good]
		}
		good++
	}
	p.stats.rx.add(good, bytes)
	p.stats.rx.fail(bad)
	return good
}

// restoreVLAN re-inserts the VLAN tag that the kernel moved from the frame
// into its metadata, as reported by a PACKET_AUXDATA control message in
// cmsg. It returns false when a tag should be inserted but cannot be.
func restoreVLAN(pkt *Packet, cmsg []byte) bool {
	hdr := unix.CmsgLen(0)
	if len(cmsg) < hdr+sizeofTpacketAuxdata {
		return true
	}
	// struct cmsghdr: size_t len, int level, int type.
	level := int32(binary.NativeEndian.Uint32(cmsg[unix.SizeofCmsghdr-8:]))
	typ := int32(binary.NativeEndian.Uint32(cmsg[unix.SizeofCmsghdr-4:]))
	if level != unix.SOL_PACKET || typ != unix.PACKET_AUXDATA {
		return true
	}
	// struct tpacket_auxdata: status u32 @0, ..., vlan_tci u16 @16,
	// vlan_tpid u16 @18.
	aux := cmsg[hdr:]
	status := binary.NativeEndian.Uint32(aux[0:])
	if status&unix.TP_STATUS_VLAN_VALID == 0 {
		return true
	}
	tci := binary.NativeEndian.Uint16(aux[16:])
	tpid := uint16(unix.ETH_P_8021Q)
	if status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
		tpid = binary.NativeEndian.Uint16(aux[18:])
	}
	return insertTag(pkt, tpid, tci)
}

// insertTag inserts a VLAN tag after the MAC addresses.
func insertTag(pkt *Packet, tpid, tci uint16) bool {
	tag := pkt.Insert(12, 4)
	if tag == nil {
		return false
	}
	binary.BigEndian.PutUint16(tag[0:], tpid)
	binary.BigEndian.PutUint16(tag[2:], tci)
	return true
}

// MinFrameLen is the shortest Ethernet frame (without FCS) that goes on
// the wire. The kernel does not pad what an AF_PACKET socket sends on a veth
// (a NIC driver would), so Send pads shorter frames with zeros up to it: a
// frame that shrank in the switch (pop_vlan, pop_mpls) leaves as a valid
// minimum-size frame.
const MinFrameLen = 60

// zeroPad is the padding Send appends to short frames: an extra iovec
// points here, so padding neither copies nor changes the caller's packet.
// Only the kernel reads it.
var zeroPad [MinFrameLen]byte

// txState is the send side of an AFPacketPort: the sendmmsg vectors and the
// outcome of the batch in progress. Only the goroutine inside Send touches
// it. The frame iovecs point into the caller's packets only during a Send.
type txState struct {
	msgs []unix.Mmsghdr
	iovs []unix.Iovec // per message: [vnet header,] frame, padding
	hdrs []byte       // vnetHdrLen bytes per message (vnet only)
	niov int          // iovecs per message without the padding one
	wire []int32      // per message: bytes on the wire (padded)

	k, off   int  // messages to send, next message to send
	downSeen bool // sendmmsg reported ENETDOWN once in this batch
	eagain   bool // stopped at EAGAIN (socket send buffer full)
	gone     unix.Errno
	sent     int // frames the kernel accepted
	bytes    int
	dropped  int
	errs     int
}

func (t *txState) init(batch int, vnet bool) {
	t.niov = 1
	if vnet {
		t.niov = 2
		t.hdrs = make([]byte, batch*vnetHdrLen)
	}
	t.msgs = make([]unix.Mmsghdr, batch)
	t.wire = make([]int32, batch)
	t.iovs = make([]unix.Iovec, batch*(t.niov+1))
	for i := range t.msgs {
		h := &t.msgs[i].Hdr
		h.Iov = &t.iovs[i*(t.niov+1)]
		h.SetIovlen(t.niov)
		if vnet {
			t.iovs[i*3].Base = &t.hdrs[i*vnetHdrLen]
			t.iovs[i*3].SetLen(vnetHdrLen)
		}
		t.padIov(i).Base = &zeroPad[0]
	}
}

func (t *txState) frameIov(i int) *unix.Iovec { return &t.iovs[i*(t.niov+1)+t.niov-1] }

// padIov is message i's padding iovec, used when its frame is short.
func (t *txState) padIov(i int) *unix.Iovec { return &t.iovs[i*(t.niov+1)+t.niov] }

// setFrame points message i at frame d, padded with zeros up to
// MinFrameLen when it is at least an Ethernet header but shorter; it
// returns the length that goes on the wire. Shorter fragments are left to
// the kernel, which refuses them.
func (t *txState) setFrame(i int, d []byte) int {
	iov := t.frameIov(i)
	iov.Base = &d[0]
	iov.SetLen(len(d))
	if len(d) < 14 || len(d) >= MinFrameLen {
		t.msgs[i].Hdr.SetIovlen(t.niov)
		return len(d)
	}
	t.padIov(i).SetLen(MinFrameLen - len(d))
	t.msgs[i].Hdr.SetIovlen(t.niov + 1)
	return MinFrameLen
}

// Send transmits the frames of pkts in order, MaxBatch per sendmmsg, and
// returns how many the kernel accepted. Frames shorter than MinFrameLen
// (but at least an Ethernet header) leave padded with zeros up to it, the
// packets themselves unchanged; TxBytes counts the padded length. With vnet
// headers each frame goes with its offload state; without, GSO
// super-frames cannot be sent and are counted in TxErrors (partial
// checksums go out as they are). Frames the
// kernel refuses as invalid (empty, shorter than an Ethernet header, longer
// than the MTU: EINVAL, EMSGSIZE) are counted in TxErrors; frames lost for
// want of room (ENOBUFS from a full device or peer queue; a full send
// buffer that did not drain within SendTimeout, which bounds all the
// waiting of one call) or because the interface is down are counted in
// TxDropped. The error is ErrClosed after Close, or reports that the
// interface is gone (ENXIO, ENODEV).
func (p *AFPacketPort) Send(pkts []*Packet) (int, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed.Load() {
		return 0, ErrClosed
	}
	t := &p.tx
	total := 0
	var deadline time.Time // set at the first full send buffer; bounds all waiting
	for len(pkts) > 0 {
		chunk := pkts[:min(len(pkts), len(t.msgs))]
		pkts = pkts[len(chunk):]
		t.k, t.off, t.sent, t.bytes, t.dropped, t.errs = 0, 0, 0, 0, 0, 0
		t.eagain, t.gone, t.downSeen = false, 0, false
		for _, pkt := range chunk {
			d := pkt.Data()
			if len(d) == 0 || (t.niov == 1 && pkt.off.GSOType != GSONone) {
				t.errs++
				continue
			}
			if t.niov == 2 {
				encodeVnetHdr(t.hdrs[t.k*vnetHdrLen:], pkt.off)
			}
			t.wire[t.k] = int32(t.setFrame(t.k, d))
			t.k++
		}
		var err error
		if t.k > 0 {
			p.sendBatch()
			if t.eagain && p.opts.SendTimeout > 0 {
				if deadline.IsZero() {
					deadline = time.Now().Add(p.opts.SendTimeout)
				}
				err = p.waitSend(deadline)
			}
		}
		t.dropped += t.k - t.off // no room in time, or closed while sending
		for i := range t.k {
			t.frameIov(i).Base = nil
		}
		p.stats.tx.add(t.sent, t.bytes)
		p.stats.tx.drop(t.dropped)
		p.stats.tx.fail(t.errs)
		total += t.sent
		if err != nil {
			p.stats.tx.drop(len(pkts))
			return total, err
		}
		if t.gone != 0 {
			p.stats.tx.drop(len(pkts))
			return total, fmt.Errorf("vport: %s: interface gone: %w", p.info.Name, t.gone)
		}
	}
	return total, nil
}

// waitSend retries the rest of the batch, waiting in poll(2) for the socket
// to become writable, until deadline or Close.
func (p *AFPacketPort) waitSend(deadline time.Time) error {
	t := &p.tx
	for t.eagain && t.off < t.k {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		fds := [2]unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLOUT}, {Fd: int32(p.closeEv), Events: unix.POLLIN}}
		ts := unix.NsecToTimespec(left.Nanoseconds())
		if _, e := blockingPoll(fds[:], &ts); e != 0 && e != unix.EINTR {
			return fmt.Errorf("vport: %s: poll: %w", p.info.Name, e)
		}
		if p.closed.Load() {
			return ErrClosed
		}
		t.eagain = false
		p.sendBatch()
	}
	return nil
}

// sendBatch sends messages t.off..t.k until they are all handled or the
// socket's send buffer is full (t.eagain).
func (p *AFPacketPort) sendBatch() {
	t := &p.tx
	for t.off < t.k {
		n, e := sendmmsg(p.fd, t.msgs[t.off:t.k], unix.MSG_DONTWAIT)
		switch e {
		case 0:
			if n <= 0 { // cannot happen; never spin
				t.errs++
				t.off++
				continue
			}
			for i := t.off; i < t.off+n; i++ {
				t.bytes += int(t.wire[i])
			}
			t.sent += n
			t.off += n
		case unix.EINTR:
		case unix.EAGAIN:
			t.eagain = true
			return
		case unix.ENOBUFS:
			// The device's queue or the veth peer's backlog was full:
			// this frame is lost, as on a NIC; try the rest.
			t.dropped++
			t.off++
		case unix.ENETDOWN:
			// Either the interface is down, or it went down and up
			// since the last call and this is the socket's pending
			// error, reported (and cleared) once: try again once.
			if !t.downSeen {
				t.downSeen = true
				continue
			}
			t.dropped += t.k - t.off
			t.off = t.k
		case unix.ENXIO, unix.ENODEV:
			t.gone = e
			t.dropped += t.k - t.off
			t.off = t.k
		default:
			// EMSGSIZE, EINVAL, ...: this frame is bad.
			t.errs++
			t.off++
		}
	}
}
