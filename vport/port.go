// Package vport owns the switch's ports: Linux interfaces opened with
// AF_PACKET, the bridge's internal (tap) port, and in-memory port pairs that
// let the whole switch run in tests without root.
//
// A port moves batches of Ethernet frames. It knows nothing of flows or
// OpenFlow; the datapath owns the goroutines that call Recv and Send.
package vport

import (
	"errors"
	"net"
)

// ErrClosed is returned by Recv and Send after Close.
var ErrClosed = errors.New("vport: port closed")

// BatchSize is the number of packets the datapath receives and processes at
// once.
const BatchSize = 32

// Kind says what a port is backed by.
type Kind uint8

const (
	KindSystem   Kind = iota // an existing Linux interface, opened with AF_PACKET
	KindInternal             // the bridge's own interface (tap), the LOCAL port
	KindMemory               // one end of an in-memory pair (tests)
)

func (k Kind) String() string {
	switch k {
	case KindSystem:
		return "system"
	case KindInternal:
		return "internal"
	case KindMemory:
		return "memory"
	}
	return "unknown"
}

// Info describes a port. It does not change while the port is open, except
// through the methods that change it.
type Info struct {
	Name    string
	Kind    Kind
	Ifindex int // Linux ifindex, 0 for memory ports
	MAC     net.HardwareAddr
	MTU     int
	// SpeedKbps is the current link speed in kbit/s when the kernel reports
	// one (0 otherwise; veth reports 10 Gbit/s).
	SpeedKbps uint32
}

// Stats are a port's counters since it was opened, counted by the port
// itself (frames it received from and sent to the wire).
type Stats struct {
	RxPackets, TxPackets uint64
	RxBytes, TxBytes     uint64
	RxDropped, TxDropped uint64 // frames the port lost (rings full, ENOBUFS, …)
	RxErrors, TxErrors   uint64 // frames that could not be received/sent (truncated, EMSGSIZE, …)
}

// LinkState is the link state of a port as the kernel sees it.
type LinkState struct {
	AdminUp bool // IFF_UP: the interface is administratively up
	Carrier bool // IFF_LOWER_UP / IFF_RUNNING: the link is up
}

// Port is one switch port.
//
// Recv and Send may be called concurrently with each other, and with Stats,
// Info and State; Recv is called by one goroutine at a time, Send by one
// goroutine at a time. Close unblocks a pending Recv, which then returns
// ErrClosed.
type Port interface {
	// Info returns the port's description.
	Info() Info

	// Recv blocks until at least one frame has arrived, then fills pkts[:n]
	// with up to len(pkts) frames and returns n. The caller owns pkts. A
	// port either copies frames into the packets' own buffers (RecvBuf,
	// SetLen) or points the packets at port memory (a receive ring); such
	// frames stay valid until the next Recv or TryRecv on the port, or its
	// Close. After Close it returns ErrClosed.
	Recv(pkts []*Packet) (n int, err error)

	// Send transmits the frames of pkts in order and returns how many were
	// handed to the kernel. Frames that could not be sent are counted in
	// TxDropped or TxErrors; the error reports only conditions that affect
	// the whole port (ErrClosed, the interface gone). Send does not retain
	// pkts after it returns.
	Send(pkts []*Packet) (n int, err error)

	// Stats returns the port's counters.
	Stats() Stats

	// State returns the current link state.
	State() LinkState

	// Close releases the port's sockets and files. It is idempotent.
	Close() error
}

// AdminSetter is implemented by ports whose administrative state the switch
// can change (OpenFlow PORT_MOD with OFPPC_PORT_DOWN).
type AdminSetter interface {
	SetAdminUp(up bool) error
}

// Poller is implemented by ports whose receive side one goroutine can serve
// together with other ports' (a datapath worker polling several ports): it
// tries every port without blocking and sleeps in poll(2) on all of them
// when none has frames (see PollSet).
type Poller interface {
	Port

	// TryRecv is Recv that never blocks: with no frame waiting it returns
	// 0 and no error. Frames follow Recv's rules (they may live in port
	// memory until the next Recv or TryRecv).
	TryRecv(pkts []*Packet) (n int, err error)

	// PrepareWait is called by a goroutine that found no frames and is
	// about to sleep: it returns a descriptor that polls readable (POLLIN)
	// once frames arrive after the call, or -1 when there is nothing to
	// wait for (a deleted interface). The caller must try TryRecv once more
	// after PrepareWait and before it sleeps: frames that arrived before
	// the call need not wake the descriptor.
	PrepareWait() int

	// PollError is called when poll(2) reported an error or a hang-up on
	// the descriptor PrepareWait returned: the port clears the condition
	// (or stops asking to be polled), so that the next poll does not report
	// it again at once.
	PollError()
}

// OffloadSender is implemented by ports that can send packets with offload
// state (Offload: GSO super-frames and partial checksums) as they are, the
// kernel doing the rest. Other ports get packets without offload state:
// the datapath completes checksums (FinishChecksum) and cuts super-frames
// (Segment) before it sends to them.
type OffloadSender interface {
	SendsOffloads() bool
}

// CostlyPoller is implemented by Pollers whose TryRecv makes a system call
// even when no frame is waiting (a tap, recvmmsg), unlike a receive ring,
// which is read from memory. A worker busy with other ports tries such a
// port less often while it stays empty; it still sleeps on its descriptor
// when idle, so an idle switch answers it at once.
type CostlyPoller interface {
	TryRecvCostly() bool
}
