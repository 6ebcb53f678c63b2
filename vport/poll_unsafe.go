//go:build linux

package vport

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The runtime's system call hooks. A goroutine that blocks in poll(2) with
// a plain syscall.Syscall keeps its P until the system monitor notices
// (after 20 µs to 10 ms): with GOMAXPROCS=1, the upcall handlers and
// controller connections would wait that long. entersyscallblock hands the
// P off at once, as gVisor's BlockingPoll does; the runtime keeps these
// symbols available to such callers.

//go:linkname entersyscallblock runtime.entersyscallblock
func entersyscallblock()

//go:linkname exitsyscall runtime.exitsyscall
func exitsyscall()

// blockingPoll is ppoll(2) that releases the goroutine's P while it sleeps.
// Its arguments are computed before the P is released, and everything it
// calls between the two hooks is nosplit and not instrumented.
//
//go:nosplit
//go:norace
func blockingPoll(fds []unix.PollFd, timeout *unix.Timespec) (int, syscall.Errno) {
	var p unsafe.Pointer
	if len(fds) > 0 {
		p = unsafe.Pointer(&fds[0])
	}
	n := uintptr(len(fds))
	t := unsafe.Pointer(timeout)
	entersyscallblock()
	r, _, e := syscall.RawSyscall6(unix.SYS_PPOLL, uintptr(p), n, uintptr(t), 0, 0, 0)
	exitsyscall()
	return int(r), e
}
