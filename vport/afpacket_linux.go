package vport

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// RxMode selects how an AF_PACKET port receives.
type RxMode uint8

const (
	// RxRing receives through a TPACKET_V2 ring mapped from the kernel
	// (PACKET_RX_RING): the kernel writes each frame into a ring slot and
	// Recv hands the slot to the caller without a copy or a system call.
	// The default.
	RxRing RxMode = iota
	// RxMmsg receives with recvmmsg into the caller's packets (a copy per
	// frame, a system call per batch). GSO super-frames longer than
	// MaxFrameLen do not fit and are counted in RxErrors.
	RxMmsg
)

func (m RxMode) String() string {
	if m == RxMmsg {
		return "mmsg"
	}
	return "ring"
}

// AFPacketOptions tune an AF_PACKET port. The zero value selects the
// defaults.
type AFPacketOptions struct {
	// RxMode is how the port receives (default RxRing).
	RxMode RxMode

	// RingFrames is the number of slots of the receive ring (RxRing;
	// default 512, rounded up to fill the ring's blocks). A slot holds one
	// frame of any size the port accepts: 2 KiB for a 1500-byte MTU, or 68
	// KiB with vnet headers, whose GSO super-frames reach 64 KiB (512 slots:
	// 35 MiB, locked in the kernel for the life of the port). Frames that
	// arrive while every slot is full are dropped and counted in RxDropped.
	RingFrames int

	// NoVnetHdr turns off PACKET_VNET_HDR. By default every frame comes
	// with its offload state (a struct virtio_net_hdr: GSO super-frames,
	// partial checksums; see Offload) and goes back out with it, so TCP
	// across the switch keeps working with the interfaces' offloads on.
	// Without it, turn off tso, gso, gro and tx checksumming on the
	// interfaces (and on the peer of a veth).
	NoVnetHdr bool

	// MaxBatch is the most frames one Recv returns and one sendmmsg call
	// moves (default 64).
	MaxBatch int

	// RcvBuf and SndBuf, when > 0, set the socket's receive and send buffer
	// sizes in bytes (SO_RCVBUFFORCE, SO_SNDBUFFORCE). In RxMmsg mode the
	// receive buffer is the queue in front of Recv: frames that arrive while
	// it is full are lost and show up in RxDropped.
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
}

const (
	defaultMaxBatch    = 64
	defaultSendTimeout = 2 * time.Millisecond
	defaultRingFrames  = 512
)

func (o *AFPacketOptions) setDefaults() {
	if o.MaxBatch <= 0 {
		o.MaxBatch = defaultMaxBatch
	}
	if o.SendTimeout == 0 {
		o.SendTimeout = defaultSendTimeout
	}
	if o.RingFrames <= 0 {
		o.RingFrames = defaultRingFrames
	}
}

// AFPacketPort is an existing Linux Ethernet interface opened with an
// AF_PACKET SOCK_RAW socket: the KindSystem ports of the switch.
//
// The port owns one socket, bound to the interface in the network namespace
// of the thread that called OpenAFPacket (see InNamespace); every later
// operation, including the interface ioctls behind State and SetAdminUp,
// goes through that socket and so through that namespace. The port starts no
// goroutines. The socket is not registered with the Go netpoller (which
// would have the kernel run a wake-up callback for every frame): every
// operation is non-blocking (MSG_DONTWAIT, ring reads), and Recv, or a
// worker through the Poller methods, sleeps in poll(2). Close wakes them.
//
// Receive: by default from a TPACKET_V2 ring (RxRing): frames stay in the
// ring slots the kernel wrote them into, Recv points the caller's packets at
// them (with Headroom bytes free in front, for pushed headers) and gives the
// slots back at the next Recv; a Recv that finds frames waiting makes no
// system call. With RxMmsg, one recvmmsg copies up to MaxBatch frames into
// the caller's packets. Only frames that arrive on the interface are
// received: the kernel never hands a socket its own transmissions, and
// PACKET_IGNORE_OUTGOING hides what others (the host stack, other sockets)
// transmit on it. The kernel strips a frame's outermost VLAN tag into its
// metadata before AF_PACKET sees it (always in software, and in hardware
// with rx-vlan offload); the port reads it back (PACKET_AUXDATA, or the ring
// slot's header) and re-inserts it, so Recv returns frames as they were on
// the wire. With vnet headers (the default) a frame's offload state comes
// with it (Packet.Offload), and TSO/GRO super-frames up to 64 KiB arrive
// whole; frames that do not fit a ring slot or a packet buffer are counted
// in RxErrors and skipped.
//
// Transmit: one sendmmsg per MaxBatch frames, straight from the packets'
// memory (ring slots included: a frame received on one port is sent from
// its slot), with PACKET_QDISC_BYPASS unless disabled, and each frame's
// offload state in its vnet header.
//
// The interface is put in promiscuous mode (a membership dropped when the
// socket closes) and brought up if it was down; Close leaves it up.
//
// Stats are counted by the port per batch; RxDropped also includes the
// frames the kernel dropped because the ring or the socket's receive queue
// was full (PACKET_STATISTICS, collected when Stats is called).
type AFPacketPort struct {
	info  Info
	opts  AFPacketOptions
	vnet  bool // the socket has PACKET_VNET_HDR
	stats counters
	once  sync.Once

	// mu is held for reading by every operation that uses fd or ring, and
	// for writing by Close, which closes and unmaps them: so the descriptor
	// number is never reused under a running operation.
	mu      sync.RWMutex
	fd      int     // guarded by mu (open while !closed)
	ring    *rxRing // guarded by mu; nil in RxMmsg mode
	closeEv int     // eventfd; Close signals it to end every wait
	closed  atomic.Bool
	gone    atomic.Bool // the interface was deleted (ENODEV)

	rx rxState // used only inside Recv/TryRecv (one goroutine at a time)
	tx txState // used only inside Send (one goroutine at a time)
}

var (
	_ Port          = (*AFPacketPort)(nil)
	_ Poller        = (*AFPacketPort)(nil)
	_ OffloadSender = (*AFPacketPort)(nil)
	_ AdminSetter   = (*AFPacketPort)(nil)
)

// OpenAFPacket opens the existing Ethernet interface name in the calling
// thread's network namespace.
func OpenAFPacket(name string, opts AFPacketOptions) (*AFPacketPort, error) {
	opts.setDefaults()
	// Protocol 0: the socket queues nothing until it is bound to the
	// interface below (with ETH_P_ALL it would queue the frames of every
	// interface in the meantime).
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("vport: %s: AF_PACKET socket: %w", name, err)
	}
	info, ring, err := setupPacketSocket(fd, name, &opts)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	p, err := newAFPacketPort(fd, info, ring, !opts.NoVnetHdr, opts)
	if err != nil && ring != nil {
		unix.Munmap(ring.mem)
	}
	return p, err
}

// newAFPacketPort wraps a configured socket (ownership passes to the port,
// and on error the socket is closed). vnet says whether the socket has
// PACKET_VNET_HDR.
func newAFPacketPort(fd int, info Info, ring *rxRing, vnet bool, opts AFPacketOptions) (*AFPacketPort, error) {
	ev, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("vport: %s: eventfd: %w", info.Name, err)
	}
	p := &AFPacketPort{info: info, fd: fd, opts: opts, ring: ring, vnet: vnet, closeEv: ev}
	p.rx.init(opts.MaxBatch, vnet)
	p.tx.init(opts.MaxBatch, vnet)
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
	if opts.RxMode == RxRing {
		// The ring must exist before bind, when frames start to arrive.
		if ring, err = setupRing(fd, opts.RingFrames, info.MTU, !opts.NoVnetHdr); err != nil {
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
	if !opts.NoVnetHdr {
		opt = append(opt, sockopt{unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1, "PACKET_VNET_HDR"})
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

// SendsOffloads reports whether Send passes packets' offload state to the
// kernel (the port has vnet headers).
func (p *AFPacketPort) SendsOffloads() bool { return p.vnet }

// use runs fn with the socket under the read lock; it returns ErrClosed
// after Close.
func (p *AFPacketPort) use(fn func(fd int) error) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed.Load() {
		return ErrClosed
	}
	return fn(p.fd)
}

// Stats returns the port's counters.
func (p *AFPacketPort) Stats() Stats {
	// PACKET_STATISTICS returns the drops since the last call and resets
	// them, so concurrent callers each add distinct drops.
	p.use(func(fd int) error {
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
	p.use(func(fd int) (err error) {
		s, err = ifState(fd, p.info.Name)
		return err
	})
	return s
}

// SetAdminUp brings the interface up or down (SIOCSIFFLAGS).
func (p *AFPacketPort) SetAdminUp(up bool) error {
	return p.use(func(fd int) error { return setIfUp(fd, p.info.Name, up) })
}

// Close wakes every Recv and Send waiting on the port (they return
// ErrClosed), waits until no operation uses the socket, closes it (which
// drops the promiscuous membership) and unmaps the ring. Packets pointing
// into the ring must not be used afterwards. The interface stays up. Close
// is idempotent.
func (p *AFPacketPort) Close() error {
	var err error
	p.once.Do(func() {
		p.closed.Store(true)
		var one [8]byte
		one[0] = 1
		unix.Write(p.closeEv, one[:])
		p.mu.Lock()
		defer p.mu.Unlock()
		err = unix.Close(p.fd)
		if p.ring != nil {
			if uerr := unix.Munmap(p.ring.mem); err == nil {
				err = uerr
			}
			p.ring = nil
		}
		unix.Close(p.closeEv)
	})
	return err
}

// PrepareWait returns the socket, which polls readable when frames arrive
// (in the ring or in the receive queue), or -1 once the interface is gone.
func (p *AFPacketPort) PrepareWait() int {
	if p.closed.Load() || p.gone.Load() {
		return -1
	}
	return p.fd
}

// PollError reads and clears the socket's pending error, which makes
// poll(2) report POLLERR until then: ENETDOWN once when the interface goes
// down, ENODEV when it is deleted (the port then stops asking to be
// polled).
func (p *AFPacketPort) PollError() {
	p.use(func(fd int) error {
		e, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err == nil && (unix.Errno(e) == unix.ENODEV || unix.Errno(e) == unix.ENXIO) {
			p.gone.Store(true)
		}
		return err
	})
}
