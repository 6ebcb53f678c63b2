//go:build linux

package vport

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctlIfreq issues an interface ioctl with ifr as its argument.
func ioctlIfreq(fd int, req uint, ifr *ifreq) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(ifr)))
	runtime.KeepAlive(ifr)
	if e != 0 {
		return e
	}
	return nil
}

// ifreqData is struct ifreq with its union used as ifr_data, a pointer.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(uintptr(0))]byte
}

// ioctlEthtool issues SIOCETHTOOL on interface name with data (an ethtool
// command structure, read and written by the kernel) as ifr_data.
func ioctlEthtool(fd int, name string, data []byte) error {
	if len(name) >= unix.IFNAMSIZ || len(data) == 0 {
		return unix.EINVAL
	}
	var ifr ifreqData
	copy(ifr.name[:], name)
	ifr.data = unsafe.Pointer(&data[0])
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
	runtime.KeepAlive(&ifr)
	runtime.KeepAlive(data)
	if e != 0 {
		return e
	}
	return nil
}
