package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/vport"
)

// TestStandaloneLab is `make run` in small: a standalone bridge without a
// controller switches between three namespace hosts.
func TestStandaloneLab(t *testing.T) {
	s := startSwitch(t, switchOpts{hosts: 3, failMode: "standalone"})
	for _, p := range [][2]int{{0, 1}, {0, 2}, {1, 2}, {2, 0}} {
		s.mustPing(p[0], p[1])
	}
	// TCP: 4 MiB from h1 to h2, byte-exact (offloads are off in the lab).
	payload := make([]byte, 4<<20)
	rand.Read(payload)
	var ln net.Listener
	if err := vport.InNamespace(s.hosts[1], func() (err error) {
		ln, err = net.Listen("tcp", "198.18.0.2:5201")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		b, _ := io.ReadAll(c)
		got <- b
	}()
	var conn net.Conn
	if err := vport.InNamespace(s.hosts[0], func() (err error) {
		conn, err = net.DialTimeout("tcp", "198.18.0.2:5201", 5*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(payload); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if b := <-got; !bytes.Equal(b, payload) {
		t.Fatalf("TCP transfer: got %d bytes, want %d identical", len(b), len(payload))
	}
	// The visible NORMAL flow counted the traffic, and the datapath
	// cached it.
	flows := s.ofctl("dump-flows")
	if !regexp.MustCompile(`n_packets=[1-9]\d*.*priority=0 actions=NORMAL`).MatchString(flows) {
		t.Errorf("dump-flows:\n%s", flows)
	}
	// The control socket, through ovs-appctl and through govs.
	ctl := filepath.Join(s.rundir, "govsd.ctl")
	for _, tool := range [][]string{{"ovs-appctl", "-t", ctl}, {govsBin, "-t", ctl}} {
		out, err := exec.Command(tool[0], append(tool[1:], "dpctl/show")...).CombinedOutput()
		if err != nil || !regexp.MustCompile(`lookups: hit:[1-9]\d* missed:[1-9]`).Match(out) {
			t.Errorf("%s dpctl/show: %v\n%s", tool[0], err, out)
		}
		out, err = exec.Command(tool[0], append(tool[1:], "dpctl/dump-flows")...).CombinedOutput()
		if err != nil || !regexp.MustCompile(`(?m)^recirc_id\(0\),in_port\(\d\),.*eth\(src=.*packets:\d+, bytes:\d+, used:.*, actions:\d`).Match(out) {
			t.Errorf("%s dpctl/dump-flows: %v\n%s", tool[0], err, out)
		}
		out, err = exec.Command(tool[0], append(tool[1:], "fdb/show", s.bridge)...).CombinedOutput()
		if err != nil || strings.Count(string(out), "\n") < 4 {
			t.Errorf("%s fdb/show: %v\n%s", tool[0], err, out)
		}
		out, err = exec.Command(tool[0], append(tool[1:], "no/such-command")...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "is not a valid command") {
			t.Errorf("%s with a bad command: %v\n%s", tool[0], err, out)
		}
	}
}

// TestOSKenController: an os-ken L2-learning controller drives the
// bridge; every host reaches every other, and the controller's flows show
// in ovs-ofctl dump-flows, both through OVS_RUNDIR and the socket path.
func TestOSKenController(t *testing.T) {
	if _, err := exec.LookPath("osken-manager"); err != nil {
		t.Skip("osken-manager not installed (Debian python3-os-ken)")
	}
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var clog bytes.Buffer
	ctl := exec.CommandContext(ctx, "/usr/bin/python3", "/usr/bin/osken-manager",
		"--ofp-listen-host", "127.0.0.1", "--ofp-tcp-listen-port", fmt.Sprint(port), "l2_learning.py")
	ctl.Stdout, ctl.Stderr = &clog, &clog
	if err := ctl.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		ctl.Wait()
		if t.Failed() {
			t.Logf("osken-manager log:\n%s", clog.String())
		}
	}()
	// Generous timeouts: python start-up on a loaded 2-core machine is slow.
	if !waitFor(60*time.Second, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatalf("osken-manager did not listen:\n%s", clog.String())
	}
	s := startSwitch(t, switchOpts{hosts: 3, failMode: "secure",
		controllers: []string{fmt.Sprintf("tcp:127.0.0.1:%d", port)}})
	if !waitFor(60*time.Second, func() bool { return strings.Contains(s.ofctl("dump-flows"), "CONTROLLER") }) {
		t.Fatalf("the controller's table-miss entry never appeared:\n%s", s.ofctl("dump-flows"))
	}
	for _, p := range [][2]int{{0, 1}, {0, 2}, {1, 2}, {1, 0}, {2, 0}, {2, 1}} {
		s.mustPing(p[0], p[1])
	}
	// The same flows, through OVS_RUNDIR and the bridge name as with Open
	// vSwitch, and through the socket path.
	cmd := exec.Command("ovs-ofctl", "-O", "OpenFlow13", "dump-flows", s.bridge)
	cmd.Env = append(os.Environ(), "OVS_RUNDIR="+s.rundir)
	byName, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ovs-ofctl dump-flows %s with OVS_RUNDIR: %v\n%s", s.bridge, err, byName)
	}
	learned := regexp.MustCompile(`cookie=0x4c32, .*n_packets=[1-9]\d*.*priority=10,in_port=\d,dl_src=.*,dl_dst=.* actions=output:\d`)
	if n := len(learned.FindAllString(string(byName), -1)); n < 6 {
		t.Errorf("want at least 6 learned flows with packets, got %d:\n%s", n, byName)
	}
	if !strings.Contains(string(byName), "priority=0 actions=CONTROLLER:65535") {
		t.Errorf("no table-miss entry in:\n%s", byName)
	}
	if bySocket := s.ofctl("dump-flows"); len(learned.FindAllString(bySocket, -1)) < 6 {
		t.Errorf("dump-flows through the socket path:\n%s", bySocket)
	}
}

// TestOvsOfctl drives the bridge with every ovs-ofctl command of the
// issue and checks the output a user of Open vSwitch expects.
func TestOvsOfctl(t *testing.T) {
	s := startSwitch(t, switchOpts{hosts: 3, failMode: "secure"})
	expect := func(cmd string, out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !regexp.MustCompile(w).MatchString(out) {
				t.Errorf("ovs-ofctl %s: output lacks %q:\n%s", cmd, w, out)
			}
		}
	}
	expect("show", s.ofctl("show"), `OFPT_FEATURES_REPLY \(OF1.3\).*dpid:000000000e2e`, `n_tables:254`,
		` 1\(`+s.ports[0]+`\): addr:`, ` LOCAL\(`+s.bridge+`\): addr:`, `OFPT_GET_CONFIG_REPLY`)
	expect("dump-desc", s.ofctl("dump-desc"), `Manufacturer: govs`, `DP Description: `+s.bridge)
	expect("dump-tables", s.ofctl("dump-tables"), `table 0:`, `active=0, lookup=0, matched=0`)
	expect("dump-table-features", s.ofctl("dump-table-features"), `table 0 `, `table 253 `, `goto_table`,
		`arbitrary mask: .*eth_\{src,dst\}`, `exact match or wildcard: .*in_port`)
	expect("dump-ports-desc", s.ofctl("dump-ports-desc"), ` 2\(`+s.ports[1]+`\)`, `speed: 10000 Mbps`)

	// In secure mode with no flows nothing passes.
	if ok, _ := s.ping(0, 1, 1); ok {
		t.Fatal("ping passed through an empty secure bridge")
	}
	// h1's kernel still resolves h2 from that ping and would fail the
	// next one when its ARP probes run out; start it afresh.
	s.flushNeigh(0)
	s.ofctl("add-flow", "priority=100,in_port=1,actions=output:2")
	rules := filepath.Join(s.rundir, "flows.txt")
	os.WriteFile(rules, []byte("priority=100,in_port=2,actions=output:1\npriority=5,arp,actions=FLOOD\n"), 0o644)
	s.ofctl("add-flows", rules)
	s.mustPing(0, 1)
	flows := s.ofctl("dump-flows")
	expect("dump-flows", flows, `n_packets=[1-9]\d*, n_bytes=\d+, priority=100,in_port=1 actions=output:2`,
		`priority=100,in_port=2 actions=output:1`, `priority=5,arp actions=FLOOD`)
	expect("dump-aggregate", s.ofctl("dump-aggregate"), `flow_count=3`, `packet_count=[1-9]`)
	expect("dump-ports", s.ofctl("dump-ports"), `port  1: rx pkts=[1-9]`, `port  2: rx pkts=[1-9]`)

	// mod-flows sends port 1's traffic to port 3 instead: h2 loses h1.
	s.ofctl("mod-flows", "in_port=1,actions=output:3")
	expect("dump-flows after mod-flows", s.ofctl("dump-flows"), `priority=100,in_port=1 actions=output:3`)
	if ok, _ := s.ping(0, 1, 2); ok {
		t.Error("ping still passes after mod-flows redirected port 1 to port 3")
	}
	s.ofctl("del-flows", "in_port=1")
	if strings.Contains(s.ofctl("dump-flows"), "in_port=1") {
		t.Error("del-flows in_port=1 left the flow")
	}
	// --strict deletes only the exact match.
	s.ofctl("del-flows", "--strict", "priority=5,arp")
	expect("dump-flows after strict delete", s.ofctl("dump-flows"), `^[^\n]*\n cookie=0x0, [^\n]*priority=100,in_port=2 actions=output:1\n$`)

	// packet-out from the controller to port 3: h3 receives it.
	before := s.rxPackets(2)
	frame := "ffffffffffff020000000001080045000020000100004011f9630a0000010a000002003500350008000000000000000000000000000000"
	s.ofctl("packet-out", "in_port=controller packet="+frame+" actions=output:3")
	if !waitFor(2*time.Second, func() bool { return s.rxPackets(2) > before }) {
		t.Error("packet-out did not reach h3")
	}

	// Errors come back as OpenFlow errors that ovs-ofctl prints.
	out, err := s.ofctlErr("add-flow", "table=0,priority=1,actions=goto_table:0")
	if err == nil || !strings.Contains(out, "OFPBIC_BAD_TABLE_ID") {
		t.Errorf("goto_table to the same table: %v\n%s", err, out)
	}
	out, err = s.ofctlErr("add-flow", "table=0,priority=1,actions=group:7")
	if err == nil || !strings.Contains(out, "OFPBAC_BAD_OUT_GROUP") {
		t.Errorf("output to a missing group: %v\n%s", err, out)
	}
}
