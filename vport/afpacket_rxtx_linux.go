package vport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// sizeofTpacketAuxdata is sizeof(struct tpacket_auxdata).
const sizeofTpacketAuxdata = 20

// auxSpace is the control buffer of one received message: room for one
// PACKET_AUXDATA control message.
var auxSpace = unix.CmsgSpace(sizeofTpacketAuxdata)

// rxState is the receive side of an AFPacketPort: the recvmmsg vectors and
// the state of the Recv in progress. Only the goroutine inside Recv touches
// it. iovs and msgs point into the caller's packets only during a Recv.
type rxState struct {
	msgs  []unix.Mmsghdr
	iovs  []unix.Iovec
	ctrl  []byte             // auxSpace bytes per message
	ready func(uintptr) bool // p.recvReady, bound once so Recv does not allocate

	k     int        // messages offered to recvmmsg
	n     int        // messages received
	errno unix.Errno // unexpected error from recvmmsg
}

func (r *rxState) init(batch int) {
	r.msgs = make([]unix.Mmsghdr, batch)
	r.iovs = make([]unix.Iovec, batch)
	r.ctrl = make([]byte, batch*auxSpace)
	for i := range r.msgs {
		h := &r.msgs[i].Hdr
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
		h.Control = &r.ctrl[i*auxSpace]
	}
}

// release forgets the caller's buffers.
func (r *rxState) release() {
	for i := range r.iovs[:r.k] {
		r.iovs[i].Base = nil
	}
}

// Recv blocks until at least one frame has arrived, then returns up to
// min(len(pkts), MaxBatch) frames in pkts[:n]. Frames that were too long are
// skipped (RxErrors); to keep the returned frames at the front, Recv may
// reorder the packet pointers within pkts. It returns ErrClosed after Close.
func (p *AFPacketPort) Recv(pkts []*Packet) (int, error) {
	r := &p.rx
	if len(pkts) > len(r.msgs) {
		pkts = pkts[:len(r.msgs)]
	}
	if p.fd.closed.Load() {
		return 0, ErrClosed
	}
	if len(pkts) == 0 {
		return 0, nil
	}
	if p.ring != nil {
		return p.recvRing(pkts)
	}
	for i, pkt := range pkts {
		b := pkt.RecvBuf()
		r.iovs[i].Base = &b[0]
		r.iovs[i].SetLen(len(b))
	}
	r.k = len(pkts)
	defer r.release()
	for {
		r.n, r.errno = 0, 0
		if err := p.fd.rc.Read(r.ready); err != nil {
			return 0, p.fd.closedErr(err)
		}
		if r.errno != 0 {
			return 0, fmt.Errorf("vport: %s: recvmmsg: %w", p.info.Name, r.errno)
		}
		if n := p.finishRecv(pkts); n > 0 {
			return n, nil
		}
	}
}

// recvReady is called by the netpoller glue with the socket; it returns false
// to wait until the socket is readable.
func (p *AFPacketPort) recvReady(fd uintptr) bool {
	r := &p.rx
	for i := range r.k {
		h := &r.msgs[i].Hdr
		h.SetControllen(auxSpace)
		h.Flags = 0
	}
	for {
		n, e := recvmmsg(int(fd), r.msgs[:r.k], unix.MSG_DONTWAIT)
		switch e {
		case 0:
			r.n = n
			return true
		case unix.EAGAIN:
			return false
		case unix.EINTR, unix.ENETDOWN:
			// ENETDOWN reports (once) that the interface went down;
			// frames may still be queued behind it.
			continue
		default:
			r.errno = e
			return true
		}
	}
}

// finishRecv sets the lengths of the r.n received frames, restores their
// VLAN tags, moves the good ones to the front of pkts and counts them.
func (p *AFPacketPort) finishRecv(pkts []*Packet) int {
	r := &p.rx
	good, bytes, bad := 0, 0, 0
	for i := range r.n {
		m := &r.msgs[i]
		if m.Hdr.Flags&unix.MSG_TRUNC != 0 {
			bad++
			continue
		}
		pkt := pkts[i]
		pkt.SetLen(int(m.Len))
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
	tag := pkt.Insert(12, 4) // after the destination and source MACs
	if tag == nil {
		return false
	}
	binary.BigEndian.PutUint16(tag[0:], tpid)
	binary.BigEndian.PutUint16(tag[2:], tci)
	return true
}

// txState is the send side of an AFPacketPort: the sendmmsg vectors and the
// outcome of the batch in progress. Only the goroutine inside Send touches
// it. iovs point into the caller's packets only during a Send.
type txState struct {
	msgs  []unix.Mmsghdr
	iovs  []unix.Iovec
	ready func(uintptr) bool // p.sendReady, bound once so Send does not allocate

	k, off   int  // messages to send, next message to send
	wait     bool // on EAGAIN, wait for room (return false) instead of stopping
	eagain   bool // stopped at EAGAIN (socket send buffer full)
	downSeen bool // sendmmsg reported ENETDOWN once in this batch
	gone     unix.Errno
	sent     int // frames the kernel accepted
	bytes    int
	dropped  int
	errs     int
}

func (t *txState) init(batch int) {
	t.msgs = make([]unix.Mmsghdr, batch)
	t.iovs = make([]unix.Iovec, batch)
	for i := range t.msgs {
		h := &t.msgs[i].Hdr
		h.Iov = &t.iovs[i]
		h.SetIovlen(1)
	}
}

// Send transmits the frames of pkts in order, MaxBatch per sendmmsg, and
// returns how many the kernel accepted. Frames the kernel refuses as invalid
// (empty, shorter than an Ethernet header, longer than the MTU: EINVAL,
// EMSGSIZE) are counted in TxErrors; frames lost for want of room (ENOBUFS
// from a full device or peer queue; a full send buffer that did not drain
// within SendTimeout, which bounds all the waiting of one call) or because
// the interface is down are counted in TxDropped. The error is ErrClosed
// after Close, or reports that the interface is gone (ENXIO, ENODEV).
func (p *AFPacketPort) Send(pkts []*Packet) (int, error) {
	if p.fd.closed.Load() {
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
			if len(d) == 0 {
				t.errs++
				continue
			}
			t.iovs[t.k].Base = &d[0]
			t.iovs[t.k].SetLen(len(d))
			t.k++
		}
		var err error
		if t.k > 0 {
			err = p.fd.rc.Write(t.ready)
			if err == nil && t.eagain && p.opts.SendTimeout > 0 {
				if deadline.IsZero() {
					deadline = time.Now().Add(p.opts.SendTimeout)
				}
				err = p.waitSend(deadline)
			}
		}
		t.dropped += t.k - t.off // no room in time, or closed while sending
		for i := range t.iovs[:t.k] {
			t.iovs[i].Base = nil
		}
		p.stats.tx.add(t.sent, t.bytes)
		p.stats.tx.drop(t.dropped)
		p.stats.tx.fail(t.errs)
		total += t.sent
		if err != nil {
			p.stats.tx.drop(len(pkts))
			return total, p.fd.closedErr(err)
		}
		if t.gone != 0 {
			p.stats.tx.drop(len(pkts))
			return total, fmt.Errorf("vport: %s: interface gone: %w", p.info.Name, t.gone)
		}
	}
	return total, nil
}

// waitSend retries the rest of the batch, waiting for the socket to become
// writable, until deadline.
func (p *AFPacketPort) waitSend(deadline time.Time) error {
	t := &p.tx
	if !time.Now().Before(deadline) {
		return nil
	}
	t.wait = true
	defer func() { t.wait = false }()
	if err := p.fd.f.SetWriteDeadline(deadline); err != nil {
		return err
	}
	err := p.fd.rc.Write(t.ready)
	// A deadline in the past would fail every later Write at once.
	if derr := p.fd.f.SetWriteDeadline(time.Time{}); err == nil {
		err = derr
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil
	}
	return err
}

// sendReady is called by the netpoller glue with the socket; it returns false
// to wait until the socket is writable (only in wait mode).
func (p *AFPacketPort) sendReady(fd uintptr) bool {
	t := &p.tx
	for t.off < t.k {
		n, e := sendmmsg(int(fd), t.msgs[t.off:t.k], unix.MSG_DONTWAIT)
		switch e {
		case 0:
			if n <= 0 { // cannot happen; never spin
				t.errs++
				t.off++
				continue
			}
			for i := t.off; i < t.off+n; i++ {
				t.bytes += int(t.iovs[i].Len)
			}
			t.sent += n
			t.off += n
		case unix.EINTR:
		case unix.EAGAIN:
			if t.wait {
				return false
			}
			t.eagain = true
			return true
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
	return true
}
