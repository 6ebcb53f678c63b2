package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// learnedPackets returns n_packets of the flow os-ken learned for
// in_port=in, dl_dst=MAC of host dst (0-based), or -1.
func learnedPackets(s *labSwitch, in, dst int) int {
	re := regexp.MustCompile(fmt.Sprintf(`cookie=0x4c32, .*n_packets=(\d+).*priority=10,in_port=%d,dl_src=[0-9a-f:]+,dl_dst=02:00:00:00:00:%02x `, in, dst+1))
	m := re.FindStringSubmatch(s.ofctl("dump-flows"))
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func waitShow(t *testing.T, s *labSwitch, d time.Duration, want ...string) {
	t.Helper()
	ok := waitFor(d, func() bool {
		out := show(s)
		for _, w := range want {
			if !strings.Contains(out, w) {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("govs show never had %q:\n%s", want, show(s))
	}
}

// TestControllerRestartSecure: os-ken is killed; in secure mode the
// switch keeps its flows and keeps forwarding on them; when os-ken comes
// back the switch reconnects (backoff at most max_backoff) and the
// controller drives it again.
func TestControllerRestartSecure(t *testing.T) {
	port := freePort(t)
	ctl := startOsken(t, port, "--ofp-tcp-listen-port", fmt.Sprint(port))
	target := fmt.Sprintf("tcp:127.0.0.1:%d", port)
	s := startSwitchTop(t, opsOpts{switchOpts: switchOpts{hosts: 3, failMode: "secure",
		controllers: []string{target}, extra: "max_backoff = \"2s\"\nprobe_interval = \"2s\"\n"}})
	if !waitFor(60*time.Second, func() bool { return strings.Contains(s.ofctl("dump-flows"), "CONTROLLER") }) {
		t.Fatalf("the controller's table-miss entry never appeared:\n%s", s.ofctl("dump-flows"))
	}
	s.mustPing(0, 1)
	s.mustPing(1, 2)
	waitShow(t, s, 5*time.Second, `Controller "`+target+`"`, "state: ACTIVE", "is_connected: true")
	before := s.ofctl("dump-flows")

	ctl.kill()
	waitShow(t, s, 10*time.Second, "is_connected: false", "last_error: ")
	after := s.ofctl("dump-flows")
	if n := strings.Count(after, "cookie=0x4c32"); n == 0 || n != strings.Count(before, "cookie=0x4c32") {
		t.Errorf("flows changed when the controller went away:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if !strings.Contains(after, "actions=CONTROLLER:65535") {
		t.Errorf("table-miss entry gone:\n%s", after)
	}
	// Learned pairs still forward on the kept flows.
	p0 := learnedPackets(s, 1, 1)
	s.mustPing(0, 1)
	if p1 := learnedPackets(s, 1, 1); p1 <= p0 {
		t.Errorf("h1->h2 flow counted %d then %d packets: traffic did not use the kept flow", p0, p1)
	}
	if strings.Contains(show(s), "fail_open") {
		t.Errorf("secure bridge in fail-open:\n%s", show(s))
	}

	ctl.start()
	waitShow(t, s, 30*time.Second, "is_connected: true", "connections: 2")
	for _, p := range [][2]int{{0, 2}, {2, 0}, {1, 0}} {
		s.mustPing(p[0], p[1])
	}
	if learnedPackets(s, 1, 2) < 0 {
		t.Errorf("no flow learned for h1->h3 after the controller came back:\n%s", s.ofctl("dump-flows"))
	}
}

// TestControllerRestartStandalone: with os-ken gone, a standalone bridge
// acts as a learning switch (fdb/show fills); when os-ken returns, the
// controller's flows forward again.
func TestControllerRestartStandalone(t *testing.T) {
	port := freePort(t)
	ctl := startOsken(t, port, "--ofp-tcp-listen-port", fmt.Sprint(port))
	target := fmt.Sprintf("tcp:127.0.0.1:%d", port)
	s := startSwitchTop(t, opsOpts{switchOpts: switchOpts{hosts: 3, failMode: "standalone",
		controllers: []string{target}, extra: "max_backoff = \"2s\"\n"}})
	if !waitFor(60*time.Second, func() bool { return strings.Contains(s.ofctl("dump-flows"), "CONTROLLER") }) {
		t.Fatalf("the controller's table-miss entry never appeared:\n%s", s.ofctl("dump-flows"))
	}
	s.mustPing(0, 1)
	if out := show(s); strings.Contains(out, "fail_open") {
		t.Fatalf("fail-open with a controller connected:\n%s", out)
	}
	p0 := learnedPackets(s, 1, 1)
	if p0 < 0 {
		t.Fatalf("no learned h1->h2 flow:\n%s", s.ofctl("dump-flows"))
	}

	ctl.kill()
	waitShow(t, s, 10*time.Second, "fail_open: active", "is_connected: false")
	// A pair the controller never saw, and a known one: the bridge
	// learns by itself, and the controller's flows are not used.
	s.mustPing(0, 2)
	s.mustPing(1, 0)
	fdb := mustAppctl(s, "fdb/show", s.bridge)
	for _, mac := range []string{"02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"} {
		if !strings.Contains(fdb, mac) {
			t.Errorf("fdb/show lacks %s:\n%s", mac, fdb)
		}
	}
	if p := learnedPackets(s, 1, 1); p != p0 {
		t.Errorf("the controller's h1->h2 flow counted packets in fail-open mode (%d -> %d)", p0, p)
	}
	if !strings.Contains(s.ofctl("dump-flows"), "cookie=0x4c32") {
		t.Error("the controller's flows were removed in fail-open mode")
	}

	ctl.start()
	waitShow(t, s, 30*time.Second, "is_connected: true")
	if out := show(s); strings.Contains(out, "fail_open") {
		t.Fatalf("still fail-open after the controller came back:\n%s", out)
	}
	s.mustPing(0, 1)
	if p := learnedPackets(s, 1, 1); p <= p0 {
		t.Errorf("h1->h2 flow counted %d then %d packets: traffic did not go back to the controller's flows", p0, p)
	}
}
