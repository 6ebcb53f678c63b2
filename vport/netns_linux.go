package vport

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

var errGoexit = errors.New("vport: InNamespace: fn did not return (runtime.Goexit)")

// InNamespace runs fn on an OS thread that has joined the network namespace
// ns, and returns fn's error. ns is a name under /run/netns (as made by
// `ip netns add`) or a path to a namespace file (/proc/PID/ns/net).
//
// Sockets and tap devices belong to the namespace of the thread that creates
// them, for their whole life, so the ports of another namespace are opened
// with
//
//	err := vport.InNamespace("h1", func() (err error) {
//		port, err = vport.OpenAFPacket("veth0", vport.AFPacketOptions{})
//		return err
//	})
//
// and then used from any goroutine. fn runs on a new goroutine locked to its
// thread, so it must not call t.FailNow and friends, and goroutines it starts
// run in the caller's namespace, not in ns. Afterwards the thread rejoins its
// original namespace and is released; if that fails, the thread is kept
// locked and exits with the goroutine, so no other goroutine ever runs in
// the wrong namespace.
func InNamespace(ns string, fn func() error) error {
	path := ns
	if !strings.Contains(ns, "/") {
		path = "/run/netns/" + ns
	}
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("vport: network namespace %s: %w", ns, err)
	}
	defer unix.Close(target)

	errc := make(chan error, 1)
	go func() {
		err := errGoexit
		defer func() { errc <- err }()
		runtime.LockOSThread()
		orig, e := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if e != nil {
			runtime.UnlockOSThread()
			err = fmt.Errorf("vport: current network namespace: %w", e)
			return
		}
		defer unix.Close(orig)
		if e := unix.Setns(target, unix.CLONE_NEWNET); e != nil {
			runtime.UnlockOSThread()
			err = fmt.Errorf("vport: join network namespace %s: %w", ns, e)
			return
		}
		defer func() {
			if e := unix.Setns(orig, unix.CLONE_NEWNET); e != nil {
				err = errors.Join(err, fmt.Errorf("vport: return from network namespace %s: %w", ns, e))
				return // the thread stays locked and dies with this goroutine
			}
			runtime.UnlockOSThread()
		}()
		err = fn()
	}()
	return <-errc
}
