//go:build linux

package vport

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvmmsg and sendmmsg are called only with MSG_DONTWAIT on non-blocking
// sockets, so they never sleep, and both are raw system calls (no
// scheduler hand-off). sendmmsg runs the receiving side of a veth peer
// inline and can take tens of microseconds; as a normal system call the
// runtime's system monitor kept taking the P from the busy worker and
// waking another thread for it (13 % of govsd's cpu at 64-byte line rate,
// measured with perf). Every pointer in msgs (iovecs, control buffers,
// frame buffers) points to memory the caller keeps alive for the call.
func recvmmsg(fd int, msgs []unix.Mmsghdr, flags int) (int, unix.Errno) {
	n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd),
		uintptr(unsafe.Pointer(&msgs[0])), uintptr(len(msgs)), uintptr(flags), 0, 0)
	return int(n), e
}

func sendmmsg(fd int, msgs []unix.Mmsghdr, flags int) (int, unix.Errno) {
	n, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(fd),
		uintptr(unsafe.Pointer(&msgs[0])), uintptr(len(msgs)), uintptr(flags), 0, 0)
	return int(n), e
}
