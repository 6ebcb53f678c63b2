package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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

// ovsSwitch is a private Open vSwitch (ovsdb-server and ovs-vswitchd with
// dummy ports, no kernel datapath) for comparing traces.
type ovsSwitch struct {
	dir   string
	procs []*exec.Cmd
	done  []chan struct{} // closed when procs[i] has exited
}

// startOVS starts Open vSwitch in a temporary directory with bridge name
// on dummy ports 1..n, or skips the test when it is not installed.
func startOVS(t *testing.T, name string, n int) *ovsSwitch {
	t.Helper()
	for _, bin := range []string{"ovsdb-server", "ovs-vswitchd", "ovsdb-tool", "ovs-vsctl"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (Debian openvswitch-switch): no Open vSwitch to compare with", bin)
		}
	}
	schema := "/usr/share/openvswitch/vswitch.ovsschema"
	o := &ovsSwitch{dir: t.TempDir()}
	env := append(os.Environ(), "OVS_RUNDIR="+o.dir, "OVS_DBDIR="+o.dir, "OVS_LOGDIR="+o.dir)
	run := func(name string, args ...string) {
		t.Helper()
		c := exec.Command(name, args...)
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	start := func(name string, args ...string) {
		t.Helper()
		c := exec.Command(name, args...)
		c.Env = env
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		o.procs, o.done = append(o.procs, c), append(o.done, done)
	}
	t.Cleanup(o.stop)
	run("ovsdb-tool", "create", filepath.Join(o.dir, "conf.db"), schema)
	db := "unix:" + filepath.Join(o.dir, "db.sock")
	start("ovsdb-server", filepath.Join(o.dir, "conf.db"), "--remote=p"+db, "--unixctl="+filepath.Join(o.dir, "ovsdb-server.ctl"),
		"--log-file="+filepath.Join(o.dir, "ovsdb-server.log"), "-vconsole:off", "--no-chdir")
	if !waitFor(20*time.Second, func() bool { _, err := os.Stat(filepath.Join(o.dir, "db.sock")); return err == nil }) {
		t.Fatal("ovsdb-server did not start")
	}
	run("ovs-vsctl", "--db="+db, "--no-wait", "init")
	start("ovs-vswitchd", db, "--enable-dummy", "--unixctl="+filepath.Join(o.dir, "ovs-vswitchd.ctl"),
		"--log-file="+filepath.Join(o.dir, "ovs-vswitchd.log"), "-vconsole:off", "--no-chdir")
	args := []string{"--db=" + db, "--timeout=20", "--", "add-br", name, "--", "set", "bridge", name,
		"datapath_type=dummy", "fail_mode=secure", "protocols=OpenFlow13"}
	for i := 1; i <= n; i++ {
		p := fmt.Sprintf("%sd%d", name, i)
		args = append(args, "--", "add-port", name, p, "--", "set", "Interface", p, "type=dummy", fmt.Sprintf("ofport_request=%d", i))
	}
	run("ovs-vsctl", args...)
	if !waitFor(20*time.Second, func() bool { _, err := os.Stat(o.mgmt(name)); return err == nil }) {
		t.Fatal("ovs-vswitchd did not create the bridge")
	}
	return o
}

func (o *ovsSwitch) mgmt(bridge string) string { return filepath.Join(o.dir, bridge+".mgmt") }

// stop ends the processes startOVS started, ovs-vswitchd first, and waits
// for them (KILL after 10 s).
func (o *ovsSwitch) stop() {
	for i := len(o.procs) - 1; i >= 0; i-- {
		o.procs[i].Process.Signal(syscall.SIGTERM)
		select {
		case <-o.done[i]:
		case <-time.After(10 * time.Second):
			o.procs[i].Process.Kill()
			<-o.done[i]
		}
	}
	o.procs, o.done = nil, nil
}

// traceBody is a trace without the lines that show each switch's own
// datapath: the megaflow and the datapath actions.
func traceBody(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "Megaflow: ") && !strings.HasPrefix(l, "Datapath actions: ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestTraceLikeOVS loads the same pipeline into govs and into Open vSwitch
// (when it is installed) and checks that ofproto/trace prints the same
// walk for each flow: the flow, every table's rule, every action with its
// details, group buckets, the action set and the final flow. Only the
// megaflow and the datapath actions, which describe each switch's own
// datapath, are left out of the comparison.
func TestTraceLikeOVS(t *testing.T) {
	if _, err := exec.LookPath("ovs-appctl"); err != nil {
		t.Skip("ovs-appctl not installed")
	}
	s := startSwitch(t, switchOpts{hosts: 3, failMode: "secure"})
	o := startOVS(t, s.bridge, 3)
	groups := []string{
		"group_id=1,type=all,bucket=output:2,bucket=set_field:00:00:00:00:00:09->eth_dst,output:3",
		"group_id=2,type=indirect,bucket=output:2",
	}
	flows := []string{
		"table=0,priority=100,cookie=0x1234,in_port=1,tcp,actions=goto_table:1",
		"table=0,priority=90,in_port=1,actions=meter:1,write_actions(group:2,output:3),goto_table:2",
		"table=0,priority=80,in_port=2,actions=group:1",
		"table=0,priority=70,in_port=3,ip,actions=set_field:10->ip_dscp,dec_ttl,goto_table:3",
		"table=0,priority=60,in_port=3,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:1,output:3,LOCAL",
		"table=0,priority=0,actions=NORMAL",
		"table=1,priority=10,tcp,nw_dst=198.18.0.0/24,tp_dst=80,actions=set_field:198.18.0.3->ip_dst,output:3",
		"table=1,priority=5,actions=write_actions(output:2),write_metadata:0x5/0xff,goto_table:2",
		"table=2,priority=5,metadata=0x5/0xff,actions=clear_actions,write_actions(push_vlan:0x8100,set_field:4100->vlan_vid,output:3),goto_table:4",
		"table=2,priority=1,actions=output:in_port",
		"table=3,priority=5,ip,nw_src=10.0.0.0/8,actions=clear_actions,write_actions(output:1)",
		"table=4,priority=5,actions=output:1",
	}
	for _, target := range []string{"unix:" + s.mgmt(), "unix:" + o.mgmt(s.bridge)} {
		ofctl := func(args ...string) {
			all := append([]string{"-O", "OpenFlow13", args[0], target}, args[1:]...)
			if out, err := exec.Command("ovs-ofctl", all...).CombinedOutput(); err != nil {
				t.Fatalf("ovs-ofctl %s: %v\n%s", strings.Join(all, " "), err, out)
			}
		}
		ofctl("add-meter", "meter=1,pktps,band=type=drop,rate=10")
		for _, g := range groups {
			ofctl("add-group", g)
		}
		for _, f := range flows {
			ofctl("add-flow", f)
		}
	}
	for _, flow := range []string{
		"in_port=1,tcp,nw_dst=198.18.0.2,tp_dst=80",
		"in_port=1,tcp,nw_dst=198.18.1.2,tp_dst=80",
		"in_port=1,udp,nw_ttl=64",
		"in_port=2,dl_src=02:00:00:00:00:99",
		"in_port=3,ip,nw_src=10.1.2.3,nw_ttl=9",
		"in_port=3,ip,nw_src=11.1.2.3,nw_ttl=9",
		"in_port=3,arp,arp_op=2",
		"in_port=LOCAL,dl_dst=ff:ff:ff:ff:ff:ff",
		"in_port=2,ipv6,ipv6_src=2001:db8::1,nw_ttl=3",
	} {
		govs := mustAppctl(s, "ofproto/trace", s.bridge, flow)
		out, err := exec.Command("ovs-appctl", "-t", filepath.Join(o.dir, "ovs-vswitchd.ctl"), "ofproto/trace", s.bridge, flow).CombinedOutput()
		if err != nil {
			t.Fatalf("Open vSwitch ofproto/trace %s: %v\n%s", flow, err, out)
		}
		if g, w := traceBody(govs), traceBody(string(out)); g != w {
			t.Errorf("trace %s differs from Open vSwitch's:\n--- govs:\n%s\n--- Open vSwitch:\n%s", flow, govs, out)
		}
	}
}
