package vport

import (
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// PollSet is where a goroutine that serves several Pollers sleeps: poll(2)
// on the descriptors their PrepareWait returned, plus an eventfd through
// which other goroutines wake it (Wake) to hand it work or stop it. The
// sleeping goroutine gives up its P while it waits (see blockingPoll).
//
// Wake may be called from any goroutine; the other methods only by the
// goroutine that owns the set.
type PollSet struct {
	fds  []unix.PollFd // fds[0] is wake
	wake int           // eventfd
	buf  [8]byte
}

// NewPollSet returns an empty set.
func NewPollSet() (*PollSet, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("vport: eventfd: %w", err)
	}
	s := &PollSet{wake: fd}
	s.Reset()
	return s, nil
}

// Reset empties the set (the wake descriptor stays).
func (s *PollSet) Reset() {
	s.fds = append(s.fds[:0], unix.PollFd{Fd: int32(s.wake), Events: unix.POLLIN})
}

// Add adds a descriptor to wait on for POLLIN, as number i of the set (i
// counts the calls since Reset, from 0). A negative descriptor takes its
// number but is not waited on.
func (s *PollSet) Add(fd int) {
	s.fds = append(s.fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
}

// Failed reports whether the last Wait found an error or a hang-up on
// descriptor number i.
func (s *PollSet) Failed(i int) bool {
	i++
	return i < len(s.fds) && s.fds[i].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0
}

// Wait sleeps until a descriptor of the set is readable (or reports an
// error or hang-up), Wake is called, or timeout passes (negative: no
// limit). It reports whether it was woken by Wake, and clears that.
func (s *PollSet) Wait(timeout time.Duration) (woken bool, err error) {
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(timeout.Nanoseconds())
		ts = &t
	}
	for i := range s.fds {
		s.fds[i].Revents = 0
	}
	_, e := blockingPoll(s.fds, ts)
	if e != 0 && e != unix.EINTR {
		return false, fmt.Errorf("vport: ppoll: %w", e)
	}
	if s.fds[0].Revents&unix.POLLIN != 0 {
		unix.Read(s.wake, s.buf[:])
		return true, nil
	}
	return false, nil
}

// Wake makes the current or next Wait return.
func (s *PollSet) Wake() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(s.wake, one[:])
}

// Close releases the wake descriptor. Nobody may use the set afterwards.
func (s *PollSet) Close() error { return unix.Close(s.wake) }
