package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestOvsOfctlBundlePortTableMod drives bundles, PORT_MOD and TABLE_MOD
// with ovs-ofctl.
func TestOvsOfctlBundlePortTableMod(t *testing.T) {
	s := startSwitch(t, switchOpts{hosts: 3, failMode: "secure"})

	// A bundle of flows is applied as a whole.
	flows := filepath.Join(s.rundir, "bundle.txt")
	os.WriteFile(flows, []byte("priority=10,in_port=1,actions=output:2\npriority=10,in_port=2,actions=output:1\npriority=5,arp,actions=FLOOD\n"), 0o644)
	s.bundleOfctl(t, true, "add-flows", flows)
	if got := s.ofctl("dump-aggregate"); !strings.Contains(got, "flow_count=3") {
		t.Fatalf("after the bundle: %s", got)
	}
	s.mustPing(0, 1)

	// A bundle with one bad flow changes nothing.
	bad := filepath.Join(s.rundir, "bad.txt")
	os.WriteFile(bad, []byte("priority=20,in_port=1,actions=output:3\npriority=20,in_port=3,actions=goto_table:0\n"), 0o644)
	out, err := s.bundleOfctl(t, false, "add-flows", bad)
	if err == nil || !strings.Contains(out, "OFPBIC_BAD_TABLE_ID") {
		t.Errorf("bundle with a bad flow: %v\n%s", err, out)
	}
	if got := s.ofctl("dump-flows"); strings.Contains(got, "priority=20") {
		t.Errorf("a failed bundle left flows behind:\n%s", got)
	}
	s.mustPing(0, 1)

	// --bundle works for replace-style commands too.
	s.bundleOfctl(t, true, "del-flows", "in_port=2")
	if got := s.ofctl("dump-flows"); strings.Contains(got, "in_port=2") {
		t.Errorf("bundled del-flows left the flow:\n%s", got)
	}
	s.ofctl("add-flow", "priority=10,in_port=2,actions=output:1")

	// PORT_MOD: port 2 down takes the interface down and ping fails;
	// up again and it works.
	s.ofctl("mod-port", "2", "down")
	if got := s.ofctl("dump-ports-desc"); !regexp.MustCompile(`(?s) 2\(` + s.ports[1] + `\):.*?config:\s+PORT_DOWN`).MatchString(got) {
		t.Errorf("after mod-port down:\n%s", got)
	}
	if ok, _ := s.ping(0, 1, 1); ok {
		t.Error("ping through a port that is down")
	}
	s.ofctl("mod-port", "2", "up")
	// The link comes back up asynchronously.
	if !waitFor(10*time.Second, func() bool { ok, _ := s.ping(0, 1, 1); return ok }) {
		t.Error("ping fails after mod-port up")
	}
	// no-forward: nothing leaves port 2.
	s.ofctl("mod-port", "2", "no-forward")
	if ok, _ := s.ping(0, 1, 1); ok {
		t.Error("ping through a no-forward port")
	}
	s.ofctl("mod-port", "2", "forward")
	s.mustPing(0, 1)

	// TABLE_MOD is not here: ovs-ofctl 3.1 sends no OpenFlow 1.3 table-mod
	// ("table_mod 'drop' requires one of the OpenFlow versions
	// OpenFlow11, OpenFlow12"); ofproto's TestTableMod covers it.
}

// bundleOfctl runs ovs-ofctl --bundle CMD <bridge> ARGS; with mustPass it
// fails the test when the command fails.
func (s *labSwitch) bundleOfctl(t *testing.T, mustPass bool, cmd string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	all := append([]string{"-O", "OpenFlow13", "--bundle", cmd, "unix:" + s.mgmt()}, args...)
	out, err := exec.CommandContext(ctx, "ovs-ofctl", all...).CombinedOutput()
	if mustPass && err != nil {
		t.Fatalf("ovs-ofctl --bundle %s: %v\n%s", cmd, err, out)
	}
	return string(out), err
}
