//go:build linux

package vport

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvmmsg and sendmmsg are called only with MSG_DONTWAIT on non-blocking
// sockets. recvmmsg only copies queued frames out, so it is a raw syscall
// (no scheduler hand-off); sendmmsg may run the receiving side of a veth
// peer inline, so it is a normal one and lets the runtime hand off the P
// when it takes long. Every pointer in msgs (iovecs, control buffers, frame
// buffers) points to memory the caller keeps alive for the call.
func recvmmsg(fd int, msgs []unix.Mmsghdr, flags int) (int, unix.Errno) {
	n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd),
		uintptr(unsafe.Pointer(&msgs[0])), uintptr(len(msgs)), uintptr(flags), 0, 0)
	return int(n), e
}

func sendmmsg(fd int, msgs []unix.Mmsghdr, flags int) (int, unix.Errno) {
	n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd),
		uintptr(unsafe.Pointer(&msgs[0])), uintptr(len(msgs)), uintptr(flags), 0, 0)
	return int(n), e
}
