package vport

import (
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// LinkEvent is a change of a network interface reported by the kernel.
type LinkEvent struct {
	Ifindex int
	Name    string
	State   LinkState // as State() of a port on the interface would report it
	Deleted bool      // the interface was removed
}

// LinkMonitor reports link changes (RTM_NEWLINK, RTM_DELLINK on the
// rtnetlink RTMGRP_LINK group) of the network namespace of the thread that
// called NewLinkMonitor (use InNamespace to watch another one).
//
// The kernel sends a message for every change of an interface (flags, MTU,
// address, ...), not only of its link state, so consumers compare State with
// what they knew. When the kernel had to drop notifications because they
// were not read fast enough, the monitor asks for a dump of all interfaces
// and reports each as an event; deletions in the lost window are not seen.
//
// The monitor owns a netlink socket and one goroutine that reads it and
// sends on Events. Close stops the goroutine, closes the socket and then the
// Events channel. A consumer must keep receiving from Events (or Close the
// monitor); while it does not, the goroutine waits and the kernel drops
// notifications.
type LinkMonitor struct {
	fd     *sysFD
	events chan LinkEvent
	done   chan struct{} // closed by Close
	exited chan struct{} // closed when the goroutine returns
	once   sync.Once
}

// linkEventQueue is the capacity of the Events channel.
const linkEventQueue = 64

// NewLinkMonitor subscribes to link notifications and starts the monitor's
// goroutine.
func NewLinkMonitor() (*LinkMonitor, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("vport: netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("vport: netlink bind: %w", err)
	}
	// A larger queue loses fewer notifications in a burst; forcing it needs
	// CAP_NET_ADMIN, so fall back to what the limits allow.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 1<<20) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	}
	sfd, err := newSysFD(fd, "rtnetlink")
	if err != nil {
		return nil, err
	}
	m := &LinkMonitor{
		fd:     sfd,
		events: make(chan LinkEvent, linkEventQueue),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	go m.run()
	return m, nil
}

// Events returns the channel of link events. It is closed after Close.
func (m *LinkMonitor) Events() <-chan LinkEvent { return m.events }

// Close stops the monitor and waits for its goroutine to return. It is
// idempotent.
func (m *LinkMonitor) Close() error {
	var err error
	m.once.Do(func() {
		close(m.done)
		err = m.fd.close() // wakes the goroutine if it waits for messages
		<-m.exited
	})
	return err
}

func (m *LinkMonitor) run() {
	defer close(m.events)
	defer close(m.exited)
	buf := make([]byte, 64<<10)
	var (
		n     int
		from  unix.Sockaddr
		rerr  error
		batch []LinkEvent
	)
	read := func(fd uintptr) bool {
		n, from, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
		return rerr != unix.EAGAIN
	}
	for {
		if err := m.fd.rc.Read(read); err != nil {
			return // closed
		}
		switch rerr {
		case nil:
		case unix.ENOBUFS: // notifications were lost: resynchronise
			m.requestDump()
			continue
		default: // EINTR and the like; a closed socket fails Read above
			continue
		}
		if sa, ok := from.(*unix.SockaddrNetlink); !ok || sa.Pid != 0 {
			continue // not from the kernel
		}
		batch = parseLinkMessages(buf[:n], batch[:0])
		for _, ev := range batch {
			select {
			case m.events <- ev:
			case <-m.done:
				return
			}
		}
	}
}

// requestDump asks the kernel for all interfaces (RTM_GETLINK, NLM_F_DUMP);
// the replies arrive as RTM_NEWLINK messages on the same socket.
func (m *LinkMonitor) requestDump() {
	req := make([]byte, unix.SizeofNlMsghdr+unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], unix.RTM_GETLINK)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	m.fd.control(func(fd int) error {
		return unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
	})
}

// parseLinkMessages appends to evs the link events in b, a buffer of
// rtnetlink messages. Malformed messages end the parse; messages of other
// types and link messages of other families (AF_BRIDGE port events) are
// skipped.
func parseLinkMessages(b []byte, evs []LinkEvent) []LinkEvent {
	for len(b) >= unix.SizeofNlMsghdr {
		l := int(binary.NativeEndian.Uint32(b[0:]))
		typ := binary.NativeEndian.Uint16(b[4:])
		if l < unix.SizeofNlMsghdr || l > len(b) {
			break
		}
		msg := b[unix.SizeofNlMsghdr:l]
		if (typ == unix.RTM_NEWLINK || typ == unix.RTM_DELLINK) && len(msg) >= unix.SizeofIfInfomsg &&
			msg[0] == unix.AF_UNSPEC {
			// struct ifinfomsg: family u8, pad u8, type u16, index i32,
			// flags u32, change u32; then attributes.
			ev := LinkEvent{
				Ifindex: int(int32(binary.NativeEndian.Uint32(msg[4:]))),
				Name:    linkName(msg[unix.SizeofIfInfomsg:]),
				State:   stateFromFlags(binary.NativeEndian.Uint32(msg[8:])),
				Deleted: typ == unix.RTM_DELLINK,
			}
			evs = append(evs, ev)
		}
		b = b[min(nlAlign(l), len(b)):]
	}
	return evs
}

// linkName returns the IFLA_IFNAME attribute among attrs, or "".
func linkName(attrs []byte) string {
	for len(attrs) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(attrs[0:]))
		typ := binary.NativeEndian.Uint16(attrs[2:]) & nlaTypeMask
		if l < unix.SizeofRtAttr || l > len(attrs) {
			break
		}
		if typ == unix.IFLA_IFNAME {
			v := attrs[unix.SizeofRtAttr:l]
			for i, c := range v {
				if c == 0 {
					v = v[:i]
					break
				}
			}
			return string(v)
		}
		attrs = attrs[min(nlAlign(l), len(attrs)):]
	}
	return ""
}

func nlAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// nlaTypeMask strips the NLA_F_NESTED and NLA_F_NET_BYTEORDER flags from an
// attribute type.
const nlaTypeMask = 0x3fff
