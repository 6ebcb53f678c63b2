package vport

import (
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// AFPacketOptions tune an AF_PACKET port. The zero value selects the
// defaults.
type AFPacketOptions struct {
	// MaxBatch is the most frames one recvmmsg or sendmmsg call moves, and
	// so the most frames one Recv returns (default 64).
	MaxBatch int

	// RcvBuf and SndBuf, when > 0, set the socket's receive and send buffer
	// sizes in bytes (SO_RCVBUFFORCE, SO_SNDBUFFORCE). The receive buffer is
	// the queue in front of Recv: frames that arrive while it is full are
	// lost and show up in RxDropped.
	RcvBuf, SndBuf int

	// NoQdiscBypass sends through the interface's qdisc. By default the
	// port sets PACKET_QDISC_BYPASS and frames go straight to the driver;
	// packet taps on the interface (tcpdump) then do not see what the port
	// sends, so capture on the peer.
	NoQdiscBypass bool

	// SendTimeout bounds how long one Send call waits for room when the
	// socket's send buffer is full, before it drops the rest of its frames
	// and counts them in TxDropped (default 2ms; negative: never wait).
	SendTimeout time.Duration

	// RxRingFrames, when > 0, makes the port receive through a TPACKET_V2
	// ring of about this many frames (PACKET_RX_RING) instead of with
	// recvmmsg. Ring slots are sized for the interface's MTU at open
	// (2 KiB for 1500): frames that do not fit, after a later MTU increase,
	// are counted in RxErrors. Memory: RxRingFrames slots, locked in the
	// kernel for the life of the port.
	RxRingFrames int
}

const (
	defaultMaxBatch    = 64
	defaultSendTimeout = 2 * time.Millisecond
)

func (o *AFPacketOptions) setDefaults() {
	if o.MaxBatch <= 0 {
		o.MaxBatch = defaultMaxBatch
	}
	if o.SendTimeout == 0 {
		o.SendTimeout = defaultSendTimeout
	}
}

// AFPacketPort is an existing Linux Ethernet interface opened with an
// AF_PACKET SOCK_RAW socket: the KindSystem ports of the switch.
//
// The port owns one socket, bound to the interface in the network namespace
// of the thread that called OpenAFPacket (see InNamespace); every later
// operation, including the interface ioctls behind State and SetAdminUp,
// goes through that socket and so through that namespace. The port starts no
// goroutines. The socket is non-blocking and registered with the Go
// netpoller: a Recv waiting for frames parks without an OS thread, and Close
// wakes it.
//
// Receive: one recvmmsg moves up to min(len(pkts), MaxBatch) frames into the
// caller's packets; with RxRingFrames set, frames are copied instead from a
// TPACKET_V2 ring the kernel fills (no system call while frames wait there,
// and about a tenth of the receive cpu per frame in
// BenchmarkAFPacketSendRecv). Only frames that arrive on the interface are
// received: the kernel never hands a socket its own transmissions, and
// PACKET_IGNORE_OUTGOING hides what others (the host stack, other sockets)
// transmit on it. The kernel strips a frame's outermost VLAN tag into its
// metadata before AF_PACKET sees it (always in software, and in hardware
// with rx-vlan offload); the port reads it back through PACKET_AUXDATA and
// re-inserts it, so Recv returns frames as they were on the wire. Frames
// longer than MaxFrameLen are counted in RxErrors and skipped: this includes
// GSO/GRO super-frames, so turn off tso/gso/gro on the interface (and on the
// peer of a veth) until the port learns PACKET_VNET_HDR.
//
// Transmit: one sendmmsg per MaxBatch frames, with PACKET_QDISC_BYPASS unless
// disabled.
//
// The interface is put in promiscuous mode (a membership dropped when the
// socket closes) and brought up if it was down; Close leaves it up.
//
// Stats are counted by the port per batch; RxDropped also includes the
// frames the kernel dropped because the socket's receive queue was full
// (PACKET_STATISTICS, collected when Stats is called).
type AFPacketPort struct {
	info  Info
	fd    *sysFD
	opts  AFPacketOptions
	stats counters
	ring  *rxRing // nil unless opts.RxRingFrames > 0
	once  sync.Once

	rx rxState // used only inside Recv (one goroutine at a time)
	tx txState // used only inside Send (one goroutine at a time)
}

var (
	_ Port        = (*AFPacketPort)(nil)
	_ AdminSetter = (*AFPacketPort)(nil)
)

// OpenAFPacket opens the existing Ethernet interface name in the calling
// thread's network namespace.
func OpenAFPacket(name string, opts AFPacketOptions) (*AFPacketPort, error) {
	opts.setDefaults()
	// Protocol 0: the socket queues nothing until it is bound to the
	// interface below (with ETH_P_ALL it would queue the frames of every
	// interface in the meantime).
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("vport: %s: AF_PACKET socket: %w", name, err)
	}
	info, ring, err := setupPacketSocket(fd, name, &opts)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	p, err := newAFPacketPort(fd, info, ring, opts)
	if err != nil && ring != nil {
		unix.Munmap(ring.mem)
	}
	return p, err
}

// newAFPacketPort wraps a configured socket (ownership passes to the port,
// and on error the socket is closed).
func newAFPacketPort(fd int, info Info, ring *rxRing, opts AFPacketOptions) (*AFPacketPort, error) {
	sfd, err := newSysFD(fd, info.Name)
	if err != nil {
		return nil, err
	}
	p := &AFPacketPort{info: info, fd: sfd, opts: opts, ring: ring}
	p.rx.init(opts.MaxBatch)
	p.tx.init(opts.MaxBatch)
	p.rx.ready = p.recvReady
	p.tx.ready = p.sendReady
	return p, nil
}

// setupPacketSocket configures and binds fd to interface name and returns
// the interface's description, and the mapped ring if the options ask for
// one.
func setupPacketSocket(fd int, name string, opts *AFPacketOptions) (info Info, ring *rxRing, err error) {
	info = Info{Name: name, Kind: KindSystem}
	if info.Ifindex, err = ifIndex(fd, name); err != nil {
		return info, nil, err
	}
	if info.MAC, err = ifHWAddr(fd, name); err != nil {
		return info, nil, err
	}
	if info.MTU, err = ifMTU(fd, name); err != nil {
		return info, nil, err
	}
	if err = setIfUp(fd, name, true); err != nil {
		return info, nil, err
	}
	info.SpeedKbps = ifSpeedKbps(fd, name)
	if err = configurePacketSocket(fd, name, opts); err != nil {
		return info, nil, err
	}
	if opts.RxRingFrames > 0 {
		// The ring must exist before bind, when frames start to arrive.
		if ring, err = setupRing(fd, opts.RxRingFrames, info.MTU); err != nil {
			return info, nil, fmt.Errorf("vport: %s: %w", name, err)
		}
	}
	if err = bindPacketSocket(fd, name, info.Ifindex); err != nil {
		if ring != nil {
			unix.Munmap(ring.mem)
		}
		return info, nil, err
	}
	return info, ring, nil
}

// configurePacketSocket sets the socket options, before bind.
func configurePacketSocket(fd int, name string, opts *AFPacketOptions) error {
	type sockopt struct {
		level, opt, val int
		what            string
	}
	opt := []sockopt{
		{unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING"},
		{unix.SOL_PACKET, unix.PACKET_AUXDATA, 1, "PACKET_AUXDATA"},
	}
	if !opts.NoQdiscBypass {
		opt = append(opt, sockopt{unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS"})
	}
	if opts.RcvBuf > 0 {
		opt = append(opt, sockopt{unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, opts.RcvBuf, "SO_RCVBUFFORCE"})
	}
	if opts.SndBuf > 0 {
		opt = append(opt, sockopt{unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, opts.SndBuf, "SO_SNDBUFFORCE"})
	}
	for _, o := range opt {
		if err := unix.SetsockoptInt(fd, o.level, o.opt, o.val); err != nil {
			return fmt.Errorf("vport: %s: %s: %w", name, o.what, err)
		}
	}
	return nil
}

// bindPacketSocket binds fd to the interface for all protocols and makes
// the interface promiscuous.
func bindPacketSocket(fd int, name string, ifindex int) error {
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("vport: %s: bind: %w", name, err)
	}
	mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		return fmt.Errorf("vport: %s: PACKET_MR_PROMISC: %w", name, err)
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Info returns the port's description as read when it was opened.
func (p *AFPacketPort) Info() Info {
	i := p.info
	i.MAC = append(net.HardwareAddr(nil), p.info.MAC...)
	return i
}

// Stats returns the port's counters.
func (p *AFPacketPort) Stats() Stats {
	// PACKET_STATISTICS returns the drops since the last call and resets
	// them, so concurrent callers each add distinct drops.
	p.fd.control(func(fd int) error {
		st, err := unix.GetsockoptTpacketStats(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
		if err == nil {
			p.stats.rx.drop(int(st.Drops))
		}
		return err
	})
	return p.stats.snapshot()
}

// State reads the interface's link state from the kernel (one ioctl). It
// returns the zero LinkState (down) when the interface is gone or the port
// is closed.
func (p *AFPacketPort) State() LinkState {
	var s LinkState
	p.fd.control(func(fd int) (err error) {
		s, err = ifState(fd, p.info.Name)
		return err
	})
	return s
}

// SetAdminUp brings the interface up or down (SIOCSIFFLAGS).
func (p *AFPacketPort) SetAdminUp(up bool) error {
	return p.fd.control(func(fd int) error { return setIfUp(fd, p.info.Name, up) })
}

// Close closes the socket, which wakes a blocked Recv (it returns
// ErrClosed) and drops the promiscuous membership, then unmaps the ring if
// there is one. The interface stays up. Close is idempotent.
func (p *AFPacketPort) Close() error {
	var err error
	p.once.Do(func() {
		// Returns only when no goroutine uses the socket any more, so no
		// Recv is inside the ring.
		err = p.fd.close()
		if p.ring != nil {
			if uerr := unix.Munmap(p.ring.mem); err == nil {
				err = uerr
			}
		}
	})
	return err
}
