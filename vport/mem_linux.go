package vport

import "golang.org/x/sys/unix"

var _ Poller = (*MemPort)(nil)

// PrepareWait returns an eventfd that the next Send queueing frames for
// this end makes readable (-1 after Close).
func (p *MemPort) PrepareWait() int {
	q := p.in
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return -1
	}
	if q.waitFD < 0 {
		fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			return -1
		}
		q.waitFD = fd
	}
	var b [8]byte
	unix.Read(q.waitFD, b[:]) // a token left from an earlier Send
	q.sleeping = true
	return q.waitFD
}

// PollError does nothing: an eventfd reports no errors.
func (p *MemPort) PollError() {}

// wakeFD makes eventfd fd readable.
func wakeFD(fd int) {
	var one [8]byte
	one[0] = 1 // little-endian 1; eventfd only needs a non-zero count
	unix.Write(fd, one[:])
}

// closeWaitFD wakes whoever polls fd and closes it (fd < 0: nothing).
func closeWaitFD(fd int) {
	if fd >= 0 {
		wakeFD(fd)
		unix.Close(fd)
	}
}
