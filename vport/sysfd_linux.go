package vport

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysFD is a non-blocking file descriptor owned by one port (or monitor) and
// registered with the Go runtime's netpoller through an *os.File.
//
// All use of the descriptor goes through rc (Read, Write, Control): a
// goroutine waiting for readiness parks in the netpoller without holding an
// OS thread, and the os.File's reference count keeps the descriptor number
// from being closed, and reused by another open, while a call is using it.
// close wakes every waiter (their rc call returns an error, which callers map
// to ErrClosed through closedErr) and returns once the descriptor is closed.
type sysFD struct {
	f      *os.File
	rc     syscall.RawConn
	closed atomic.Bool
}

// newSysFD takes ownership of fd, which must be non-blocking: it is closed
// here on error, else by close.
func newSysFD(fd int, name string) (*sysFD, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("vport: %s: set non-blocking: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	if f == nil {
		unix.Close(fd)
		return nil, fmt.Errorf("vport: %s: bad file descriptor", name)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("vport: %s: %w", name, err)
	}
	return &sysFD{f: f, rc: rc}, nil
}

// close closes the descriptor, waking any goroutine blocked on it. It is
// idempotent and safe to call concurrently with the other methods.
func (s *sysFD) close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.f.Close()
}

// closedErr turns the error of an rc call into ErrClosed when the descriptor
// was closed, and returns other errors unchanged.
func (s *sysFD) closedErr(err error) error {
	if err != nil && (s.closed.Load() || errors.Is(err, os.ErrClosed)) {
		return ErrClosed
	}
	return err
}

// control runs fn with the descriptor, which stays open while fn runs. It
// returns ErrClosed after close. Not for hot paths (the closure allocates).
func (s *sysFD) control(fn func(fd int) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	var ferr error
	if err := s.rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return s.closedErr(err)
	}
	return ferr
}
