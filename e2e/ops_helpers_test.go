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
	"syscall"
	"testing"
	"time"
)

// appctl runs ovs-appctl -t <rundir>/govsd.ctl ARGS and returns its
// output and error.
func appctl(s *labSwitch, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	all := append([]string{"-t", filepath.Join(s.rundir, "govsd.ctl")}, args...)
	out, err := exec.CommandContext(ctx, "ovs-appctl", all...).CombinedOutput()
	return string(out), err
}

// mustAppctl is appctl failing the test on an error.
func mustAppctl(s *labSwitch, args ...string) string {
	s.t.Helper()
	out, err := appctl(s, args...)
	if err != nil {
		s.t.Fatalf("ovs-appctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// show returns `govs show`.
func show(s *labSwitch) string {
	out, _ := exec.Command(govsBin, "-t", filepath.Join(s.rundir, "govsd.ctl"), "show").CombinedOutput()
	return string(out)
}

// osken is an osken-manager process running e2e/l2_learning.py.
type osken struct {
	t    *testing.T
	args []string
	port int
	cmd  *exec.Cmd
	log  bytes.Buffer
}

// startOsken starts osken-manager with extra arguments and waits until
// it listens on port. It is stopped at the end of the test.
func startOsken(t *testing.T, port int, listenArgs ...string) *osken {
	t.Helper()
	if _, err := exec.LookPath("osken-manager"); err != nil {
		t.Skip("osken-manager not installed (Debian python3-os-ken)")
	}
	o := &osken{t: t, port: port, args: listenArgs}
	o.start()
	t.Cleanup(func() {
		o.kill()
		if t.Failed() {
			t.Logf("osken-manager log:\n%s", o.log.String())
		}
	})
	return o
}

func (o *osken) start() {
	o.t.Helper()
	args := append([]string{"/usr/bin/osken-manager", "--ofp-listen-host", "127.0.0.1"}, o.args...)
	args = append(args, "l2_learning.py")
	o.cmd = exec.Command("/usr/bin/python3", args...)
	o.cmd.Stdout, o.cmd.Stderr = &o.log, &o.log
	o.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := o.cmd.Start(); err != nil {
		o.t.Fatal(err)
	}
	if !waitFor(60*time.Second, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", o.port))
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		o.t.Fatalf("osken-manager did not listen:\n%s", o.log.String())
	}
}

// kill stops osken-manager at once (SIGKILL), as a crash would.
func (o *osken) kill() {
	if o.cmd == nil || o.cmd.Process == nil {
		return
	}
	syscall.Kill(-o.cmd.Process.Pid, syscall.SIGKILL)
	o.cmd.Wait()
	o.cmd = nil
}

// reloadSwitch rewrites govsd's configuration with edit and sends SIGHUP.
func reloadSwitch(s *labSwitch, edit func(cfg string) string) {
	s.t.Helper()
	b, err := os.ReadFile(configPath(s))
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(configPath(s), []byte(edit(string(b))), 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
}
