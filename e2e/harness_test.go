// Package e2e holds govs' end-to-end tests: they build govsd, run it as
// root on a lab of network namespaces it creates, and drive it with real
// peers (ping, TCP, os-ken, ovs-ofctl, ovs-appctl). Without root (or
// without iproute2) they are skipped.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var govsdBin, govsBin string // built by TestMain

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("e2e: skipped (needs root for network namespaces)")
		os.Exit(0)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		fmt.Println("e2e: skipped (needs iproute2)")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "govs-e2e-bin")
	if err != nil {
		panic(err)
	}
	govsdBin, govsBin = filepath.Join(dir, "govsd"), filepath.Join(dir, "govs")
	for bin, pkg := range map[string]string{govsdBin: "../cmd/govsd", govsBin: "../cmd/govs"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			fmt.Printf("e2e: building %s: %v\n%s", pkg, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var labSeq atomic.Int32

// labSwitch is a running govsd with a bridge and namespace hosts.
type labSwitch struct {
	t      *testing.T
	bridge string
	rundir string
	hosts  []string // namespace names, hosts[i] on OpenFlow port i+1
	ports  []string // switch-side interface names
	cmd    *exec.Cmd
	log    *logBuffer
}

// switchOpts are the bridge settings of a test.
type switchOpts struct {
	hosts       int
	failMode    string
	controllers []string
	extra       string // more lines for the [[bridge]] table
}

// startSwitch writes a config with a [lab] of n hosts (198.18.0.1..n/24),
// starts govsd on it and waits for the management socket.
func startSwitch(t *testing.T, o switchOpts) *labSwitch {
	t.Helper()
	return startSwitchTop(t, opsOpts{switchOpts: o})
}

// opsOpts are switchOpts plus top-level configuration ([ssl], metrics).
type opsOpts struct {
	switchOpts
	top string // lines before the first [[bridge]]
}

// startSwitchTop is startSwitch with top-level configuration lines. It
// writes the configuration to <rundir>/config.toml (see configPath).
func startSwitchTop(t *testing.T, o opsOpts) *labSwitch {
	t.Helper()
	n := labSeq.Add(1)
	id := fmt.Sprintf("%d%d", os.Getpid()%10000, n)
	s := &labSwitch{t: t, bridge: "gb" + id, rundir: t.TempDir(), log: &logBuffer{}}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "rundir = %q\n%s\n[log]\nlevel = \"debug\"\n", s.rundir, o.top)
	fmt.Fprintf(&cfg, "[[bridge]]\nname = %q\ndatapath_id = \"%016x\"\nfail_mode = %q\n", s.bridge, 0xe2e0000+n, o.failMode)
	fmt.Fprintf(&cfg, "controllers = [%s]\n", quoteList(o.controllers))
	cfg.WriteString(o.extra)
	for i := 1; i <= o.hosts; i++ {
		port := fmt.Sprintf("gp%sh%d", id, i)
		s.ports = append(s.ports, port)
		fmt.Fprintf(&cfg, "[[bridge.port]]\nname = %q\nofport = %d\n", port, i)
	}
	cfg.WriteString("[lab]\n")
	for i := 1; i <= o.hosts; i++ {
		host := fmt.Sprintf("govs-e2e-%s-h%d", id, i)
		s.hosts = append(s.hosts, host)
		fmt.Fprintf(&cfg, "[[lab.host]]\nname = %q\naddress = \"198.18.0.%d/24\"\nport = %q\nmac = \"02:00:00:00:00:%02x\"\n",
			host, i, s.ports[i-1], i)
	}
	if err := os.WriteFile(configPath(s), []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(govsdBin, "-config", configPath(s))
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	if !waitFor(60*time.Second, func() bool { _, err := os.Stat(s.mgmt()); return err == nil }) {
		t.Fatalf("govsd did not come up:\n%s", s.log)
	}
	return s
}

func configPath(s *labSwitch) string { return filepath.Join(s.rundir, "config.toml") }

// logBuffer collects govsd's output; a test may read it (String) while
// govsd writes it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// stop sends SIGTERM and checks that govsd exits cleanly and removes its
// sockets and lab.
func (s *labSwitch) stop() {
	t := s.t
	if s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("govsd exited with %v", err)
		}
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-done
		t.Errorf("govsd did not stop on SIGTERM")
	}
	if _, err := os.Stat(s.mgmt()); err == nil {
		t.Errorf("management socket left behind")
	}
	for _, h := range s.hosts {
		if exec.Command("ip", "netns", "pids", h).Run() == nil {
			t.Errorf("lab namespace %s left behind", h)
			exec.Command("ip", "netns", "del", h).Run()
		}
	}
	if t.Failed() {
		t.Logf("govsd log:\n%s", s.log)
	}
}

func (s *labSwitch) mgmt() string { return filepath.Join(s.rundir, s.bridge+".mgmt") }

// ofctl runs ovs-ofctl -O OpenFlow13 CMD <mgmt socket> ARGS and returns its
// output; it fails the test if the command fails.
func (s *labSwitch) ofctl(cmd string, args ...string) string {
	s.t.Helper()
	out, err := s.ofctlErr(cmd, args...)
	if err != nil {
		s.t.Fatalf("ovs-ofctl %s %s: %v\n%s", cmd, strings.Join(args, " "), err, out)
	}
	return out
}

func (s *labSwitch) ofctlErr(cmd string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	all := append([]string{"-O", "OpenFlow13", cmd, "unix:" + s.mgmt()}, args...)
	out, err := exec.CommandContext(ctx, "ovs-ofctl", all...).CombinedOutput()
	return string(out), err
}

// ping pings the .N address of the lab from host i (0-based) and reports
// whether every echo was answered.
func (s *labSwitch) ping(from int, to int, count int) (bool, string) {
	out, err := exec.Command("ip", "netns", "exec", s.hosts[from], "ping", "-c", fmt.Sprint(count),
		"-i", "0.2", "-W", "2", fmt.Sprintf("198.18.0.%d", to+1)).CombinedOutput()
	return err == nil, string(out)
}

// flushNeigh empties a lab host's neighbour (ARP) cache.
func (s *labSwitch) flushNeigh(host int) {
	s.t.Helper()
	if out, err := exec.Command("ip", "-n", s.hosts[host], "neigh", "flush", "all").CombinedOutput(); err != nil {
		s.t.Fatalf("ip neigh flush in %s: %v\n%s", s.hosts[host], err, out)
	}
}

// mustPing fails the test unless host from reaches host to.
func (s *labSwitch) mustPing(from, to int) {
	s.t.Helper()
	if ok, out := s.ping(from, to, 3); !ok {
		s.t.Fatalf("h%d cannot ping h%d:\n%s\ngovsd log:\n%s", from+1, to+1, out, s.log)
	}
}

// rxPackets reads a lab host's eth0 receive counter.
func (s *labSwitch) rxPackets(host int) uint64 {
	s.t.Helper()
	out, err := exec.Command("ip", "netns", "exec", s.hosts[host], "cat", "/sys/class/net/eth0/statistics/rx_packets").Output()
	if err != nil {
		s.t.Fatal(err)
	}
	var n uint64
	fmt.Sscan(string(out), &n)
	return n
}

func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cond()
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
