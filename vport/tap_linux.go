package vport

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// InternalPort is the bridge's own interface, the OpenFlow LOCAL port: a tap
// device through which the host's network stack takes part in the switch.
// Frames the host stack transmits on the tap are what Recv returns; frames
// given to Send are delivered to the host stack as if received on the tap.
//
// The port owns two descriptors, both bound to the network namespace of the
// thread that called OpenInternal: the /dev/net/tun file attached to the tap
// (non-persistent: the interface disappears when Close closes it) and a
// datagram socket used for the interface ioctls of State and SetAdminUp.
// Both are non-blocking and registered with the netpoller; a Recv waiting
// for frames parks without an OS thread and Close wakes it. The port starts
// no goroutines.
//
// The tap has no offloads (no IFF_VNET_HDR), so the host stack sends only
// MTU-sized, fully checksummed frames, and Send takes only such frames
// (GSO super-frames are counted in TxErrors). A tap moves one frame per read or
// write system call; Recv reads until the tap is empty or the batch full.
type InternalPort struct {
	info  Info
	devFD int    // dev's descriptor number, for PrepareWait
	dev   *sysFD // /dev/net/tun attached to the tap
	ctl   *sysFD // AF_UNIX datagram socket, for interface ioctls
	stats counters

	rx tapRx // used only inside Recv (one goroutine at a time)
	tx tapTx // used only inside Send (one goroutine at a time)
}

var (
	_ Port        = (*InternalPort)(nil)
	_ Poller      = (*InternalPort)(nil)
	_ AdminSetter = (*InternalPort)(nil)
)

type tapRx struct {
	ready  func(uintptr) bool // p.recvReady, bound once
	nowait bool               // TryRecv: return even with nothing read
	pkts   []*Packet          // the batch being filled, during Recv only
	n      int
	bytes  int
	bad    int
	err    error
}

type tapTx struct {
	ready   func(uintptr) bool // p.sendReady, bound once
	pkts    []*Packet          // the batch being sent, during Send only
	i       int
	sent    int
	bytes   int
	dropped int
	errs    int
}

// OpenInternal creates the tap interface name (IFF_TAP, IFF_NO_PI) in the
// calling thread's network namespace, sets its MAC (a random locally
// administered one when mac is nil) and MTU 1500, and brings it up.
func OpenInternal(name string, mac net.HardwareAddr) (*InternalPort, error) {
	if mac == nil {
		mac = randomMAC()
	}
	if len(mac) != 6 {
		return nil, fmt.Errorf("vport: %s: bad MAC %v", name, mac)
	}
	ifr, err := newIfreq(name)
	if err != nil {
		return nil, err
	}
	tfd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("vport: %s: open /dev/net/tun: %w", name, err)
	}
	binary.NativeEndian.PutUint16(ifr.data[:], unix.IFF_TAP|unix.IFF_NO_PI)
	if err := ioctlIfreq(tfd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(tfd)
		return nil, fmt.Errorf("vport: %s: TUNSETIFF: %w", name, err)
	}
	name = ifr.ifname()
	dev, err := newSysFD(tfd, name)
	if err != nil {
		return nil, err
	}
	cfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		dev.close()
		return nil, fmt.Errorf("vport: %s: control socket: %w", name, err)
	}
	ctl, err := newSysFD(cfd, name+"-ctl")
	if err != nil {
		dev.close()
		return nil, err
	}
	p := &InternalPort{
		info:  Info{Name: name, Kind: KindInternal, MAC: append(net.HardwareAddr(nil), mac...), MTU: 1500},
		devFD: tfd,
		dev:   dev,
		ctl:   ctl,
	}
	p.rx.ready = p.recvReady
	p.tx.ready = p.sendReady
	err = ctl.control(func(fd int) (err error) {
		if err = setIfHWAddr(fd, name, mac); err != nil {
			return err
		}
		if err = setIfMTU(fd, name, p.info.MTU); err != nil {
			return err
		}
		if err = setIfUp(fd, name, true); err != nil {
			return err
		}
		if p.info.Ifindex, err = ifIndex(fd, name); err != nil {
			return err
		}
		p.info.SpeedKbps = ifSpeedKbps(fd, name)
		return nil
	})
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// randomMAC returns a random locally administered unicast MAC.
func randomMAC() net.HardwareAddr {
	mac := make(net.HardwareAddr, 6)
	rand.Read(mac)
	mac[0] = mac[0]&^1 | 2
	return mac
}

// Info returns the port's description.
func (p *InternalPort) Info() Info {
	i := p.info
	i.MAC = append(net.HardwareAddr(nil), p.info.MAC...)
	return i
}

// Stats returns the port's counters.
func (p *InternalPort) Stats() Stats { return p.stats.snapshot() }

// State reads the tap's link state from the kernel. The carrier of a tap is
// up while the port holds it open.
func (p *InternalPort) State() LinkState {
	var s LinkState
	p.ctl.control(func(fd int) (err error) {
		s, err = ifState(fd, p.info.Name)
		return err
	})
	return s
}

// SetAdminUp brings the tap up or down.
func (p *InternalPort) SetAdminUp(up bool) error {
	return p.ctl.control(func(fd int) error { return setIfUp(fd, p.info.Name, up) })
}

// Close deletes the tap (by closing its file), wakes a blocked Recv (it
// returns ErrClosed) and closes the control socket. It is idempotent.
func (p *InternalPort) Close() error {
	err := p.dev.close()
	if cerr := p.ctl.close(); err == nil {
		err = cerr
	}
	return err
}

// Recv blocks until the host stack has sent at least one frame on the tap,
// then returns up to len(pkts) frames. It returns ErrClosed after Close.
func (p *InternalPort) Recv(pkts []*Packet) (int, error) { return p.recv(pkts, false) }

// TryRecv is Recv without waiting: it returns 0 and no error when the host
// stack has sent nothing.
func (p *InternalPort) TryRecv(pkts []*Packet) (int, error) { return p.recv(pkts, true) }

// TryRecvCostly reports that TryRecv reads the tap (a system call).
func (p *InternalPort) TryRecvCostly() bool { return true }

// PrepareWait returns the tap's descriptor, which polls readable when the
// host stack has sent frames (-1 after Close).
func (p *InternalPort) PrepareWait() int {
	if p.dev.closed.Load() {
		return -1
	}
	return p.devFD
}

// PollError does nothing: a tap reports no errors while the port holds it.
func (p *InternalPort) PollError() {}

func (p *InternalPort) recv(pkts []*Packet, nowait bool) (int, error) {
	if p.dev.closed.Load() {
		return 0, ErrClosed
	}
	if len(pkts) == 0 {
		return 0, nil
	}
	r := &p.rx
	r.pkts, r.n, r.bytes, r.bad, r.err, r.nowait = pkts, 0, 0, 0, nil, nowait
	err := p.dev.rc.Read(r.ready)
	r.pkts = nil
	p.stats.rx.add(r.n, r.bytes)
	p.stats.rx.fail(r.bad)
	if err != nil {
		return r.n, p.dev.closedErr(err)
	}
	if r.n == 0 && r.err != nil {
		return 0, fmt.Errorf("vport: %s: read: %w", p.info.Name, r.err)
	}
	return r.n, nil
}

// recvReady reads frames until the tap is empty or the batch is full; it
// returns false, to wait for readability, while it has nothing.
func (p *InternalPort) recvReady(fd uintptr) bool {
	r := &p.rx
	for r.n < len(r.pkts) {
		pkt := r.pkts[r.n]
		b := pkt.RecvBuf()
		n, err := unix.Read(int(fd), b)
		switch err {
		case nil:
			if n == 0 {
				r.err = unix.EIO
				return true
			}
			if n > len(b) { // truncated (the tap's MTU is above MaxFrameLen)
				r.bad++
				continue
			}
			pkt.SetLen(n)
			r.n++
			r.bytes += n
		case unix.EAGAIN:
			return r.n > 0 || r.nowait
		case unix.EINTR:
		case unix.EFAULT, unix.EINVAL, unix.EMSGSIZE:
			r.bad++ // this frame could not be copied out; it is gone
		default:
			r.err = err
			return true
		}
	}
	return true
}

// Send delivers the frames of pkts to the host stack, one write per frame,
// and returns how many the tap accepted. Frames the tap refuses as invalid
// (empty, shorter than an Ethernet header) are counted in TxErrors, those it
// drops (tap down, no memory) in TxDropped. It returns ErrClosed after Close.
func (p *InternalPort) Send(pkts []*Packet) (int, error) {
	if p.dev.closed.Load() {
		return 0, ErrClosed
	}
	t := &p.tx
	t.pkts, t.i, t.sent, t.bytes, t.dropped, t.errs = pkts, 0, 0, 0, 0, 0
	err := p.dev.rc.Write(t.ready)
	t.dropped += len(pkts) - t.i
	t.pkts = nil
	p.stats.tx.add(t.sent, t.bytes)
	p.stats.tx.drop(t.dropped)
	p.stats.tx.fail(t.errs)
	return t.sent, p.dev.closedErr(err)
}

func (p *InternalPort) sendReady(fd uintptr) bool {
	t := &p.tx
	for ; t.i < len(t.pkts); t.i++ {
		if t.pkts[t.i].IsGSO() {
			t.errs++
			continue
		}
		d := t.pkts[t.i].Data()
		n, err := unix.Write(int(fd), d)
		for err == unix.EINTR {
			n, err = unix.Write(int(fd), d)
		}
		switch err {
		case nil:
			t.sent++
			t.bytes += n
		case unix.EINVAL, unix.EMSGSIZE:
			t.errs++
		default: // EAGAIN, ENOBUFS, ENOMEM, EIO (down)
			t.dropped++
		}
	}
	return true
}
