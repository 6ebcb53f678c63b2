package vport

import (
	"encoding/binary"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// Interface ioctls. Each takes a socket (any family) and works in that
// socket's network namespace, whatever namespace the calling thread is in:
// that is why ports keep a socket and never look interfaces up by name
// through the thread's namespace (or through /sys, which shows the
// namespace of whoever mounted it) after they are open.

// ifreq is struct ifreq: an interface name and a 24-byte union (its size
// on 64-bit platforms; the kernel copies no more than its own size).
type ifreq struct {
	name [unix.IFNAMSIZ]byte
	data [24]byte
}

func newIfreq(name string) (*ifreq, error) {
	if len(name) == 0 || len(name) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("vport: bad interface name %q", name)
	}
	ifr := new(ifreq)
	copy(ifr.name[:], name)
	return ifr, nil
}

func (ifr *ifreq) ifname() string {
	for i, c := range ifr.name {
		if c == 0 {
			return string(ifr.name[:i])
		}
	}
	return string(ifr.name[:])
}

func ifIoctl(fd int, name string, req uint, set func(*ifreq)) (*ifreq, error) {
	ifr, err := newIfreq(name)
	if err != nil {
		return nil, err
	}
	if set != nil {
		set(ifr)
	}
	if err := ioctlIfreq(fd, req, ifr); err != nil {
		return nil, fmt.Errorf("vport: %s: %s: %w", name, ioctlName(req), err)
	}
	return ifr, nil
}

func ioctlName(req uint) string {
	switch req {
	case unix.SIOCGIFINDEX:
		return "SIOCGIFINDEX"
	case unix.SIOCGIFMTU:
		return "SIOCGIFMTU"
	case unix.SIOCSIFMTU:
		return "SIOCSIFMTU"
	case unix.SIOCGIFHWADDR:
		return "SIOCGIFHWADDR"
	case unix.SIOCSIFHWADDR:
		return "SIOCSIFHWADDR"
	case unix.SIOCGIFFLAGS:
		return "SIOCGIFFLAGS"
	case unix.SIOCSIFFLAGS:
		return "SIOCSIFFLAGS"
	case unix.TUNSETIFF:
		return "TUNSETIFF"
	}
	return fmt.Sprintf("ioctl %#x", req)
}

func ifIndex(fd int, name string) (int, error) {
	ifr, err := ifIoctl(fd, name, unix.SIOCGIFINDEX, nil)
	if err != nil {
		return 0, err
	}
	return int(int32(binary.NativeEndian.Uint32(ifr.data[:]))), nil
}

func ifMTU(fd int, name string) (int, error) {
	ifr, err := ifIoctl(fd, name, unix.SIOCGIFMTU, nil)
	if err != nil {
		return 0, err
	}
	return int(int32(binary.NativeEndian.Uint32(ifr.data[:]))), nil
}

func setIfMTU(fd int, name string, mtu int) error {
	_, err := ifIoctl(fd, name, unix.SIOCSIFMTU, func(ifr *ifreq) {
		binary.NativeEndian.PutUint32(ifr.data[:], uint32(int32(mtu)))
	})
	return err
}

// ifHWAddr returns the interface's address (a struct sockaddr: family, then
// the address bytes).
func ifHWAddr(fd int, name string) (net.HardwareAddr, error) {
	ifr, err := ifIoctl(fd, name, unix.SIOCGIFHWADDR, nil)
	if err != nil {
		return nil, err
	}
	if fam := binary.NativeEndian.Uint16(ifr.data[:]); fam != unix.ARPHRD_ETHER {
		return nil, fmt.Errorf("vport: %s: not an Ethernet interface (hardware type %d)", name, fam)
	}
	return append(net.HardwareAddr(nil), ifr.data[2:8]...), nil
}

func setIfHWAddr(fd int, name string, mac net.HardwareAddr) error {
	if len(mac) != 6 {
		return fmt.Errorf("vport: %s: bad MAC %v", name, mac)
	}
	_, err := ifIoctl(fd, name, unix.SIOCSIFHWADDR, func(ifr *ifreq) {
		binary.NativeEndian.PutUint16(ifr.data[:], unix.ARPHRD_ETHER)
		copy(ifr.data[2:], mac)
	})
	return err
}

// ifFlags returns the interface flags. SIOCGIFFLAGS returns only the low 16
// bits (IFF_LOWER_UP and IFF_DORMANT are cut off); IFF_RUNNING is among them.
func ifFlags(fd int, name string) (uint32, error) {
	ifr, err := ifIoctl(fd, name, unix.SIOCGIFFLAGS, nil)
	if err != nil {
		return 0, err
	}
	return uint32(binary.NativeEndian.Uint16(ifr.data[:])), nil
}

// setIfUp sets or clears IFF_UP (read, modify, write: not atomic with respect
// to other programs changing the flags at the same moment).
func setIfUp(fd int, name string, up bool) error {
	flags, err := ifFlags(fd, name)
	if err != nil {
		return err
	}
	nf := flags &^ unix.IFF_UP
	if up {
		nf |= unix.IFF_UP
	}
	if nf == flags {
		return nil
	}
	_, err = ifIoctl(fd, name, unix.SIOCSIFFLAGS, func(ifr *ifreq) {
		binary.NativeEndian.PutUint16(ifr.data[:], uint16(nf))
	})
	return err
}

// stateFromFlags maps interface flags (from SIOCGIFFLAGS or an rtnetlink
// ifinfomsg) to a LinkState. Carrier is IFF_RUNNING, which the kernel sets
// when the interface is up and its operational state is up (or unknown, as
// for drivers that do not report one): for Ethernet-like devices, carrier
// present. IFF_LOWER_UP would be closer, but SIOCGIFFLAGS cannot return it,
// and the port and the link monitor must agree.
func stateFromFlags(flags uint32) LinkState {
	return LinkState{
		AdminUp: flags&unix.IFF_UP != 0,
		Carrier: flags&unix.IFF_UP != 0 && flags&unix.IFF_RUNNING != 0,
	}
}

func ifState(fd int, name string) (LinkState, error) {
	flags, err := ifFlags(fd, name)
	if err != nil {
		return LinkState{}, err
	}
	return stateFromFlags(flags), nil
}

// ifSpeedKbps returns the link speed the driver reports through ethtool
// (ETHTOOL_GSET, which the kernel still serves from the link-settings
// callbacks), in kbit/s, or 0 when unknown or unsupported.
func ifSpeedKbps(fd int, name string) uint32 {
	// struct ethtool_cmd: cmd u32 @0, speed u16 @12, speed_hi u16 @28; 44 bytes.
	var cmd [44]byte
	binary.NativeEndian.PutUint32(cmd[0:], unix.ETHTOOL_GSET)
	if ioctlEthtool(fd, name, cmd[:]) != nil {
		return 0
	}
	mbps := uint32(binary.NativeEndian.Uint16(cmd[12:])) | uint32(binary.NativeEndian.Uint16(cmd[28:]))<<16
	if mbps == 0 || mbps == 0xffff || mbps == 0xffffffff || mbps > 1<<32/1000 { // SPEED_UNKNOWN
		return 0
	}
	return mbps * 1000
}
