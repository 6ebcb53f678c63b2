package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// govsOfctl runs `govs ofctl CMD <bridge> ARGS` with the switch's rundir
// and returns stdout, stderr and the exit status.
func govsOfctl(s *labSwitch, cmd string, args ...string) (string, string, int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	all := append([]string{"ofctl", "-O", "OpenFlow13", "-rundir", s.rundir, cmd, s.bridge}, args...)
	c := exec.CommandContext(ctx, govsBin, all...)
	var stdout, stderr strings.Builder
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	if ctx.Err() != nil {
		s.t.Fatalf("govs ofctl %s: timed out", cmd)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("govs ofctl %s: %v", cmd, err)
	}
	return stdout.String(), stderr.String(), code
}

// mustGovsOfctl is govsOfctl failing the test unless the command succeeds.
func mustGovsOfctl(s *labSwitch, cmd string, args ...string) string {
	s.t.Helper()
	out, errOut, code := govsOfctl(s, cmd, args...)
	if code != 0 {
		s.t.Fatalf("govs ofctl %s %s: exit %d\n%s%s", cmd, strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// ofctlVolatile are the parts of ovs-ofctl output that legitimately differ
// between two dumps of the same switch a moment apart: transaction ids
// (ovs-ofctl sends probes of its own first), durations, and the counters
// of ports, flows, tables, groups and meters that the lab's own traffic
// (IPv6 router and neighbour solicitations) moves.
var ofctlVolatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`xid=0x[0-9a-f]+`), "xid=X"},
	// the xid in the hex dump of the message an error quotes
	{regexp.MustCompile(`(?m)^(00000000  (?:[0-9a-f]{2} ){4})[0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}-`), "${1}xx xx xx xx-"},
	{regexp.MustCompile(`duration[=:][0-9.]+s`), "duration=X"},
	{regexp.MustCompile(`(pkts|bytes|drop|errs|n_packets|n_bytes|packet_count|byte_count|lookup|matched|packet_in_count|byte_in_count)([=:])[0-9]+`), "$1${2}N"},
}

func normalizeOfctl(s string) string {
	for _, v := range ofctlVolatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// TestGovsOfctl drives a switch with `govs ofctl` and checks that every
// dump prints what `ovs-ofctl -O OpenFlow13` prints for the same state,
// that modifications take effect, and that errors are reported as
// ovs-ofctl reports them.
func TestGovsOfctl(t *testing.T) {
	if _, err := exec.LookPath("ovs-ofctl"); err != nil {
		t.Skip("ovs-ofctl not installed")
	}
	s := startSwitch(t, switchOpts{hosts: 3, failMode: "secure"})

	// State made with govs ofctl.
	mustGovsOfctl(s, "add-group", "group_id=1,type=all,bucket=output:2,bucket=output:3")
	mustGovsOfctl(s, "add-group", "group_id=2,type=select,bucket=weight:10,output:2,bucket=weight:20,output:3")
	mustGovsOfctl(s, "add-meter", "meter=1,pktps,burst,stats,band=type=drop,rate=100,burst_size=10")
	mustGovsOfctl(s, "add-meter", "meter=2,kbps,band=type=dscp_remark,rate=1000,prec_level=1")
	mustGovsOfctl(s, "add-flow", "priority=100,in_port=1,ip,nw_dst=198.18.0.2,actions=meter:1,output:2")
	mustGovsOfctl(s, "add-flow", "priority=90,in_port=1,actions=group:1")
	mustGovsOfctl(s, "add-flow", "table=0,priority=10,cookie=0x77,tcp,tp_dst=80,actions=write_actions(output:3),goto_table:1")
	flows := filepath.Join(t.TempDir(), "flows.txt")
	if err := os.WriteFile(flows, []byte("# more flows\ntable=1,priority=5,actions=group:2\ntable=1,priority=1,udp,actions=drop\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustGovsOfctl(s, "add-flows", flows)
	mustGovsOfctl(s, "mod-flows", "table=1,udp,actions=output:1")
	mustGovsOfctl(s, "add-flow", "table=1,priority=7,arp,actions=NORMAL")
	mustGovsOfctl(s, "del-flows", "--strict", "table=1,priority=7,arp")

	for _, c := range [][]string{
		{"show"}, {"dump-desc"}, {"dump-tables"}, {"dump-table-features"}, {"dump-ports"}, {"dump-ports", "2"}, {"dump-ports-desc"},
		{"dump-flows"}, {"dump-flows", "table=1"}, {"dump-flows", "in_port=1,ip"}, {"dump-aggregate"},
		{"dump-aggregate", "table=1"}, {"dump-groups"}, {"dump-group-stats"}, {"dump-group-stats", "group_id=2"},
		{"dump-group-features"}, {"dump-meters"}, {"dump-meters", "meter=2"}, {"meter-stats"}, {"meter-features"},
	} {
		govs := mustGovsOfctl(s, c[0], c[1:]...)
		ovs := s.ofctl(c[0], c[1:]...)
		if g, o := normalizeOfctl(govs), normalizeOfctl(ovs); g != o {
			t.Errorf("%s: govs ofctl and ovs-ofctl differ\n--- govs ofctl:\n%s--- ovs-ofctl:\n%s", strings.Join(c, " "), govs, ovs)
		}
	}
	// What the modifications did.
	dump := s.ofctl("dump-flows", "table=1")
	if !strings.Contains(dump, "priority=1,udp actions=output:1") || strings.Contains(dump, "arp") ||
		!strings.Contains(dump, "priority=5 actions=group:2") {
		t.Errorf("table 1 after add-flows, mod-flows and del-flows --strict:\n%s", dump)
	}

	// A syntax error names the column and what was expected; nothing is
	// sent.
	_, errOut, code := govsOfctl(s, "add-flow", "in_port=1,actions=outptu:2")
	if code != 1 || !strings.Contains(errOut, `column 19: unknown action "outptu" (did you mean output?)`) {
		t.Errorf("bad action: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = govsOfctl(s, "add-flow", "in_port=1,nw_dst=10.0.0.1,actions=drop")
	if code != 1 || !strings.Contains(errOut, "column") {
		t.Errorf("missing prerequisite: exit %d, stderr %q", code, errOut)
	}
	// A switch error prints the OpenFlow error and the offending message,
	// as ovs-ofctl does.
	for _, c := range [][]string{
		{"add-flow", "actions=group:99"},
		{"add-group", "group_id=1,type=all,bucket=output:2"},
		{"add-meter", "meter=1,pktps,band=type=drop,rate=5"},
	} {
		_, govsErr, code := govsOfctl(s, c[0], c[1:]...)
		ovsOut, err := s.ofctlErr(c[0], c[1:]...)
		if code != 1 || err == nil {
			t.Errorf("%s: govs ofctl exit %d, ovs-ofctl %v: both should fail", c[0], code, err)
		}
		if !strings.HasPrefix(govsErr, "OFPT_ERROR (OF1.3)") {
			t.Errorf("%s: govs ofctl stderr %q does not start with OFPT_ERROR", c[0], govsErr)
		}
		if g, o := normalizeOfctl(govsErr), normalizeOfctl(ovsOut); g != o {
			t.Errorf("%s: errors differ\n--- govs ofctl:\n%s--- ovs-ofctl:\n%s", strings.Join(c, " "), govsErr, ovsOut)
		}
	}
	if _, errOut, _ := govsOfctl(s, "add-flow", "actions=group:99"); !strings.Contains(errOut, "OFPBAC_BAD_OUT_GROUP") {
		t.Errorf("add-flow to a missing group: %q", errOut)
	}

	// packet-out: the frame reaches h3.
	before := s.rxPackets(2)
	frame := "ffffffffffff020000000001080045000020000100004011f9630a0000010a000002003500350008000000000000000000000000000000"
	mustGovsOfctl(s, "packet-out", "in_port=controller packet="+frame+" actions=output:3")
	if !waitFor(5*time.Second, func() bool { return s.rxPackets(2) > before }) {
		t.Error("govs ofctl packet-out did not reach h3")
	}

	// Targets: unix:PATH, and the bridge name through GOVS_RUNDIR.
	out, err := exec.Command(govsBin, "ofctl", "dump-desc", "unix:"+s.mgmt()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OFPST_DESC reply (OF1.3)") {
		t.Errorf("govs ofctl dump-desc unix:PATH: %v\n%s", err, out)
	}
	cmd := exec.Command(govsBin, "ofctl", "dump-desc", s.bridge)
	cmd.Env = append(os.Environ(), "GOVS_RUNDIR="+s.rundir)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "DP Description: "+s.bridge) {
		t.Errorf("govs ofctl dump-desc BRIDGE with GOVS_RUNDIR: %v\n%s", err, out)
	}

	// A dump too big for one message comes in parts (REPLY_MORE), printed
	// part by part as ovs-ofctl prints them.
	var many strings.Builder
	for i := 0; i < 1500; i++ {
		fmt.Fprintf(&many, "table=5,priority=%d,udp,nw_src=198.18.%d.%d,tp_dst=%d,actions=output:%d\n", i, i/250, i%250, 1000+i, 1+i%3)
	}
	if err := os.WriteFile(flows, []byte(many.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	mustGovsOfctl(s, "add-flows", flows)
	govs := mustGovsOfctl(s, "dump-flows", "table=5")
	if n := strings.Count(govs, "flags=[more]"); n == 0 || strings.Count(govs, " cookie=") != 1500 {
		t.Errorf("dump of 1500 flows: %d parts with more, %d flows", n, strings.Count(govs, " cookie="))
	}
	if g, o := normalizeOfctl(govs), normalizeOfctl(s.ofctl("dump-flows", "table=5")); g != o {
		t.Errorf("dump of 1500 flows differs from ovs-ofctl's (%d and %d bytes)", len(g), len(o))
	}

	// del-flows and del-groups and del-meters without arguments empty the
	// switch.
	mustGovsOfctl(s, "del-flows")
	mustGovsOfctl(s, "del-groups")
	mustGovsOfctl(s, "del-meters")
	if out := mustGovsOfctl(s, "dump-aggregate"); !strings.Contains(out, "flow_count=0") {
		t.Errorf("after del-flows: %s", out)
	}
	if out := mustGovsOfctl(s, "dump-groups"); strings.Contains(out, "group_id") {
		t.Errorf("after del-groups: %s", out)
	}
	if out := mustGovsOfctl(s, "dump-meters"); strings.Contains(out, "meter=") {
		t.Errorf("after del-meters: %s", out)
	}
}
