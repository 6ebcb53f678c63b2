package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// TestReload: SIGHUP applies a new configuration: a port and a listener
// added, then removed, without disturbing the connections and flows that
// stay; a broken configuration is refused with its file, line and key and
// the running one stays.
func TestReload(t *testing.T) {
	l1, l2 := freePort(t), freePort(t)
	s := startSwitchTop(t, opsOpts{switchOpts: switchOpts{hosts: 2, failMode: "secure",
		extra: fmt.Sprintf("listen = [\"ptcp:%d:127.0.0.1\"]\n", l1)}})
	s.ofctl("add-flow", "priority=100,in_port=1,actions=output:2")
	s.ofctl("add-flow", "priority=100,in_port=2,actions=output:1")
	s.mustPing(0, 1)

	// A controller on the listener that stays.
	nc, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", l1), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	peer := &ofPeer{t: t, nc: nc, r: bufio.NewReader(nc)}
	peer.send(&ofp.Hello{Version: ofp.Version, Bitmaps: []uint32{1 << ofp.Version}})
	peer.recvType(ofp.TypeHello)
	peer.request(&ofp.FeaturesRequest{})

	// A new host, wired to a new port.
	ns, port := s.hosts[0][:len(s.hosts[0])-1]+"9", s.ports[0][:len(s.ports[0])-1]+"9"
	for _, c := range [][]string{
		{"ip", "netns", "add", ns},
		{"ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"ip", "-n", ns, "addr", "add", "198.18.0.9/24", "dev", "eth0"},
		{"ip", "-n", ns, "link", "set", "eth0", "up"},
		{"ip", "link", "set", port, "up"},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	defer exec.Command("ip", "netns", "del", ns).Run()
	defer exec.Command("ip", "link", "del", port).Run()

	base := ""
	reloadSwitch(s, func(cfg string) string {
		base = cfg
		cfg = strings.Replace(cfg, fmt.Sprintf(`listen = ["ptcp:%d:127.0.0.1"]`, l1),
			fmt.Sprintf(`listen = ["ptcp:%d:127.0.0.1", "ptcp:%d:127.0.0.1"]`, l1, l2), 1)
		return strings.Replace(cfg, "[lab]", fmt.Sprintf("[[bridge.port]]\nname = %q\nofport = 9\n[lab]", port), 1)
	})
	if !waitFor(20*time.Second, func() bool { return strings.Contains(s.ofctl("show"), " 9("+port+")") }) {
		t.Fatalf("port 9 not added:\n%s\n%s", s.ofctl("show"), s.log.String())
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", l2), 5*time.Second); err != nil {
		t.Errorf("new listener: %v", err)
	} else {
		c.Close()
	}
	peer.request(&ofp.FeaturesRequest{}) // still connected
	flows := s.ofctl("dump-flows")
	if !strings.Contains(flows, "in_port=1 actions=output:2") {
		t.Errorf("flows lost on reload:\n%s", flows)
	}
	s.ofctl("add-flow", "priority=200,in_port=1,ip,nw_dst=198.18.0.9,actions=output:9")
	s.ofctl("add-flow", "priority=200,in_port=1,arp,arp_tpa=198.18.0.9,actions=output:9")
	s.ofctl("add-flow", "priority=200,in_port=9,actions=output:1")
	if out, err := exec.Command("ip", "netns", "exec", s.hosts[0], "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.0.9").CombinedOutput(); err != nil {
		t.Errorf("h1 cannot reach the host on the new port: %v\n%s", err, out)
	}

	// A broken configuration changes nothing.
	reloadSwitch(s, func(cfg string) string { return strings.Replace(cfg, `fail_mode = "secure"`, `fail_mode = "bogus"`, 1) })
	if !waitFor(10*time.Second, func() bool { return strings.Contains(s.log.String(), "keeping the running one") }) {
		t.Fatalf("bad configuration not reported:\n%s", s.log.String())
	}
	if !regexp.MustCompile(`config.toml:\d+:\d+: bridge.fail_mode: fail_mode \\"bogus\\"`).MatchString(s.log.String()) {
		t.Errorf("the error does not name file, line and key:\n%s", s.log.String())
	}
	s.mustPing(0, 1)

	// Back to the first configuration: port 9 and the first listener's
	// twin go away; the controller on the first listener stays.
	reloadSwitch(s, func(string) string { return base })
	if !waitFor(20*time.Second, func() bool { return !strings.Contains(s.ofctl("show"), port) }) {
		t.Fatalf("port 9 not removed:\n%s", s.ofctl("show"))
	}
	if !waitFor(5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", l2), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}) {
		t.Error("removed listener still accepts")
	}
	peer.request(&ofp.FeaturesRequest{})
	s.mustPing(0, 1)
}
