package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrace adds a pipeline with ovs-ofctl and traces flows through it
// with `ovs-appctl ofproto/trace` and `govs ofproto/trace`: both print the
// same trace, in Open vSwitch's layout, and tracing changes nothing (no
// megaflow, no MAC learned, no counter moved).
func TestTrace(t *testing.T) {
	if _, err := exec.LookPath("ovs-appctl"); err != nil {
		t.Skip("ovs-appctl not installed")
	}
	s := startSwitch(t, switchOpts{hosts: 3, failMode: "secure"})
	s.ofctl("add-group", "group_id=1,type=all,bucket=output:2,bucket=output:3")
	s.ofctl("add-flow", "table=0,priority=100,cookie=0x1234,in_port=1,actions=goto_table:1")
	s.ofctl("add-flow", "table=1,priority=10,tcp,nw_dst=198.18.0.0/24,tp_dst=80,actions=set_field:198.18.0.3->ip_dst,output:3")
	s.ofctl("add-flow", "table=1,priority=5,ip,actions=write_actions(output:2),goto_table:2")
	s.ofctl("add-flow", "table=2,priority=1,ip,actions=dec_ttl")
	s.ofctl("add-flow", "table=0,priority=50,in_port=2,actions=group:1")
	s.ofctl("add-flow", "table=0,priority=0,actions=NORMAL")

	cases := []struct {
		flow string
		want []string // lines the trace must have, in this order
	}{
		{"in_port=1,tcp,nw_dst=198.18.0.2,tp_dst=80", []string{
			"Flow: tcp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=198.18.0.2,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=0,tp_dst=80,tcp_flags=0",
			"",
			`bridge("` + s.bridge + `")`,
			strings.Repeat("-", len(`bridge("`+s.bridge+`")`)),
			" 0. in_port=1, priority 100, cookie 0x1234",
			"    goto_table:1",
			" 1. tcp,nw_dst=198.18.0.0/24,tp_dst=80, priority 10",
			"    set_field:198.18.0.3->ip_dst",
			"    output:3",
			"",
			"Final flow: tcp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=198.18.0.3,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=0,tp_dst=80,tcp_flags=0",
			"Megaflow: recirc_id=0,eth,tcp,in_port=1,nw_dst=198.18.0.0/24,tp_dst=80",
			"Datapath actions: set(ipv4(dst=198.18.0.3)),3",
		}},
		{"in_port=1,udp,nw_ttl=64", []string{
			" 0. in_port=1, priority 100, cookie 0x1234",
			"    goto_table:1",
			"     1. ip, priority 5",
			"            write_actions(output:2)",
			"             -> action set is: output:2",
			"            goto_table:2",
			"         2. ip, priority 1",
			"            dec_ttl",
			"--. Executing action set:",
			"    output:2",
			"Datapath actions: set(ip(ttl=63)),2",
		}},
		{"in_port=2,dl_src=02:00:00:00:00:99", []string{
			" 0. in_port=2, priority 50",
			"    group:1",
			"    bucket 0",
			"            output:2",
			"             >> skipping output to input port",
			"    bucket 1",
			"            output:3",
			"Datapath actions: 3",
		}},
		{"in_port=3,dl_src=02:00:00:00:00:98,dl_dst=ff:ff:ff:ff:ff:ff", []string{
			" 0. priority 0",
			"    NORMAL",
			"     -> no learned MAC for destination, flooding",
		}},
	}
	ctl := filepath.Join(s.rundir, "govsd.ctl")
	for _, c := range cases {
		ovs := mustAppctl(s, "ofproto/trace", s.bridge, c.flow)
		out, err := exec.Command(govsBin, "-t", ctl, "ofproto/trace", s.bridge, c.flow).CombinedOutput()
		if err != nil {
			t.Fatalf("govs ofproto/trace %s: %v\n%s", c.flow, err, out)
		}
		if string(out) != ovs {
			t.Errorf("%s: govs and ovs-appctl print different traces:\n%s\n---\n%s", c.flow, out, ovs)
		}
		if err := inOrder(ovs, c.want); err != nil {
			t.Errorf("trace %s: %v\n%s", c.flow, err, ovs)
		}
	}

	// The traces learned nothing and installed nothing.
	if fdb := mustAppctl(s, "fdb/show", s.bridge); strings.Contains(fdb, "02:00:00:00:00:98") {
		t.Errorf("a trace taught NORMAL a MAC address:\n%s", fdb)
	}
	if dp := mustAppctl(s, "dpctl/dump-flows"); strings.Contains(dp, "02:00:00:00:00:99") || strings.Contains(dp, "ttl=63") {
		t.Errorf("a trace installed a megaflow:\n%s", dp)
	}

	// Errors: a bad flow names the column; an unknown bridge is named.
	if out, err := appctl(s, "ofproto/trace", s.bridge, "in_port=1,tcp,tp_dts=80"); err == nil ||
		!strings.Contains(out, `column 15: unknown field "tp_dts" (did you mean tp_dst?)`) {
		t.Errorf("bad flow: %v\n%s", err, out)
	}
	if out, err := appctl(s, "ofproto/trace", "nosuchbr", "in_port=1"); err == nil || !strings.Contains(out, "no bridge named nosuchbr") {
		t.Errorf("unknown bridge: %v\n%s", err, out)
	}
}

// inOrder checks that text has each of lines as a whole line, in order.
func inOrder(text string, lines []string) error {
	have := strings.Split(text, "\n")
	i := 0
	for _, want := range lines {
		for i < len(have) && have[i] != want {
			i++
		}
		if i == len(have) {
			return fmt.Errorf("missing (or out of order): %q", want)
		}
		i++
	}
	return nil
}
