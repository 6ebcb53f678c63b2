package vport

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// needRoot skips tests that create namespaces and interfaces.
func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
}

var nsSeq atomic.Int32

// newNetns creates a network namespace for t (removed in its cleanup) with
// IPv6 off, so that the kernel's own neighbour discovery does not add frames
// to what the tests receive.
func newNetns(t testing.TB) string {
	t.Helper()
	needRoot(t)
	name := fmt.Sprintf("vpt-%d-%d", os.Getpid(), nsSeq.Add(1))
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	err := InNamespace(name, func() error {
		for _, f := range []string{"all", "default"} {
			if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+f+"/disable_ipv6", []byte("1"), 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// newVeth creates the veth pair a, b in ns, both up, offloads off.
func newVeth(t testing.TB, ns, a, b string) {
	t.Helper()
	run(t, "ip", "-n", ns, "link", "add", "name", a, "type", "veth", "peer", "name", b)
	for _, dev := range []string{a, b} {
		run(t, "ip", "-n", ns, "link", "set", dev, "up")
		if _, err := exec.LookPath("ethtool"); err == nil {
			run(t, "ip", "netns", "exec", ns, "ethtool", "-K", dev,
				"tx", "off", "rx", "off", "tso", "off", "gso", "off", "gro", "off")
		}
	}
}

func run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// openAF opens an AF_PACKET port on dev in ns, closed in t's cleanup.
func openAF(t testing.TB, ns, dev string, opts AFPacketOptions) *AFPacketPort {
	t.Helper()
	var p *AFPacketPort
	err := InNamespace(ns, func() (err error) {
		p, err = OpenAFPacket(dev, opts)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// frameFrom returns a frame from test source MAC 02:00:00:00:00:src with
// EtherType 0x88b5 and a payload that carries i, padded to size bytes.
func frameFrom(src byte, i, size int) []byte {
	f := make([]byte, max(size, 60))
	copy(f, []byte{0x02, 0, 0, 0, 0, 0xee, 0x02, 0, 0, 0, 0, src, 0x88, 0xb5})
	copy(f[14:], fmt.Sprintf("frame %6d", i))
	return f
}

// isTestFrame reports whether f comes from one of the test source MACs
// (frames the kernel sends on its own have the interface's MAC).
func isTestFrame(f []byte) bool {
	return len(f) >= 12 && bytes.Equal(f[6:11], []byte{0x02, 0, 0, 0, 0})
}

// recvFrames receives until want test frames arrived and returns them with
// the sizes of the batches Recv returned. It closes p and fails t when they
// do not arrive within timeout.
func recvFrames(t testing.TB, p Port, want int, timeout time.Duration) (frames [][]byte, batches []int) {
	t.Helper()
	timer := time.AfterFunc(timeout, func() { p.Close() })
	defer timer.Stop()
	pkts := newPackets(BatchSize)
	for len(frames) < want {
		n, err := p.Recv(pkts)
		if err != nil {
			t.Fatalf("after %d of %d frames: %v", len(frames), want, err)
		}
		batches = append(batches, n)
		for _, pkt := range pkts[:n] {
			if isTestFrame(pkt.Data()) {
				frames = append(frames, append([]byte(nil), pkt.Data()...))
			}
		}
	}
	return frames, batches
}

// nsInode returns the inode of the calling thread's network namespace.
func nsInode(t testing.TB) uint64 {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestInNamespace(t *testing.T) {
	checkLeaks(t)
	ns := newNetns(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	home := nsInode(t)

	var inside uint64
	if err := InNamespace(ns, func() error { inside = nsInode(t); return nil }); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat("/run/netns/"+ns, &st); err != nil {
		t.Fatal(err)
	}
	if inside != st.Ino || inside == home {
		t.Fatalf("fn ran in namespace %d, want %d (home %d)", inside, st.Ino, home)
	}
	if nsInode(t) != home {
		t.Fatalf("caller's thread changed namespace")
	}
	wantErr := fmt.Errorf("boom")
	if err := InNamespace(ns, func() error { return wantErr }); err != wantErr {
		t.Fatalf("error not passed through: %v", err)
	}
	if err := InNamespace(ns, func() error { runtime.Goexit(); return nil }); err == nil {
		t.Fatalf("Goexit not reported")
	}
	if err := InNamespace("vpt-no-such-namespace", func() error { return nil }); err == nil {
		t.Fatalf("missing namespace not reported")
	}
	// Every thread the runtime uses later is back home: run many goroutines
	// and check they all see the home namespace.
	for range 20 {
		InNamespace(ns, func() error { return nil })
	}
	errc := make(chan error, 50)
	for range 50 {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var st unix.Stat_t
			unix.Stat("/proc/thread-self/ns/net", &st)
			if st.Ino != home {
				errc <- fmt.Errorf("a thread is in namespace %d", st.Ino)
				return
			}
			errc <- nil
		}()
	}
	for range 50 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}
