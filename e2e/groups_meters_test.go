package e2e

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/vport"
)

// sendUDP sends n UDP datagrams from lab host from to the .to address,
// one per destination port starting at port, so that each is a flow of
// its own.
func (s *labSwitch) sendUDP(from, to, n, port int) {
	s.t.Helper()
	err := vport.InNamespace(s.hosts[from], func() error {
		c, err := net.ListenUDP("udp4", nil)
		if err != nil {
			return err
		}
		defer c.Close()
		dst := net.IPv4(198, 18, 0, byte(to+1))
		for i := 0; i < n; i++ {
			if _, err := c.WriteToUDP([]byte("govs group and meter test"), &net.UDPAddr{IP: dst, Port: port + i}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

// TestGroupsMeters drives groups and meters with ovs-ofctl: an all group
// and a select group forward between lab hosts, a meter limits a flood,
// and the dump, stats and delete commands show what Open vSwitch users
// expect.
func TestGroupsMeters(t *testing.T) {
	s := startSwitch(t, switchOpts{hosts: 3, failMode: "secure"})
	expect := func(cmd string, out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !regexp.MustCompile(w).MatchString(out) {
				t.Errorf("ovs-ofctl %s: output lacks %q:\n%s", cmd, w, out)
			}
		}
	}
	expect("dump-group-features", s.ofctl("dump-group-features"), `Types:  0xf`, `Capabilities:  0xf`,
		`all group:`, `select group:`, `fast failover group:`)
	expect("meter-features", s.ofctl("meter-features"), `max_meter:65536`, `band_types: drop dscp_remark`,
		`capabilities: kbps pktps burst stats`, `max_bands:8`)

	// An all group: h1's packets reach h2 and h3.
	s.ofctl("add-group", "group_id=1,type=all,bucket=output:2,bucket=output:3")
	s.ofctl("add-flow", "priority=10,in_port=1,actions=group:1")
	s.ofctl("add-flow", "priority=10,in_port=2,actions=output:1")
	s.ofctl("add-flow", "priority=10,in_port=3,actions=output:1")
	before := s.rxPackets(2)
	s.mustPing(0, 1)
	if s.rxPackets(2) < before+3 {
		t.Errorf("h3 got %d packets of h1's pings to h2 through the all group, want 3 or more", s.rxPackets(2)-before)
	}
	expect("dump-groups", s.ofctl("dump-groups"), `group_id=1,type=all,bucket=actions=output:2,bucket=actions=output:3`)
	expect("dump-group-stats", s.ofctl("dump-group-stats"),
		`group_id=1,duration=[\d.]+s,ref_count=1,packet_count=[1-9]\d*,byte_count=\d+,bucket0:packet_count=[1-9]\d*,byte_count=\d+,bucket1:packet_count=[1-9]`)

	// A select group: flows from h1 spread over h2 and h3 (ARP floods, so
	// h1 knows h2's address).
	s.ofctl("add-group", "group_id=2,type=select,bucket=weight:1,actions=output:2,bucket=weight:1,actions=output:3")
	s.ofctl("add-flow", "priority=20,in_port=1,udp,actions=group:2")
	s.ofctl("add-flow", "priority=30,arp,actions=FLOOD")
	s.mustPing(0, 1)
	r2, r3 := s.rxPackets(1), s.rxPackets(2)
	const flows = 200
	s.sendUDP(0, 1, flows, 20000)
	var d2, d3 uint64
	waitFor(5*time.Second, func() bool {
		d2, d3 = s.rxPackets(1)-r2, s.rxPackets(2)-r3
		return d2+d3 >= flows
	})
	if d2+d3 < flows || d2 < flows/5 || d3 < flows/5 {
		t.Errorf("select group: h2 got %d and h3 %d of %d flows", d2, d3, flows)
	}
	expect("dump-groups", s.ofctl("dump-groups"), `group_id=2,type=select,bucket=(weight:1,)?actions=output:2,bucket=(weight:1,)?actions=output:3`)
	stats := s.ofctl("dump-group-stats", "group_id=2")
	m := regexp.MustCompile(`group_id=2,.*packet_count=(\d+),.*bucket0:packet_count=(\d+),.*bucket1:packet_count=(\d+)`).FindStringSubmatch(stats)
	if m == nil {
		t.Errorf("dump-group-stats 2:\n%s", stats)
	} else if total, b0, b1 := atoi(m[1]), atoi(m[2]), atoi(m[3]); total < flows || b0+b1 != total || b0 == 0 || b1 == 0 {
		t.Errorf("select group stats: %d packets, buckets %d + %d:\n%s", total, b0, b1, stats)
	}

	// A meter of 10 packets/s with a burst of 10 limits a flood of UDP
	// from h1 to h2.
	s.ofctl("add-meter", "meter=1,pktps,burst,stats,bands=type=drop,rate=10,burst_size=10")
	expect("dump-meters", s.ofctl("dump-meters"), `meter=1 pktps burst stats bands=\s*type=drop rate=10 burst_size=10`)
	s.ofctl("add-flow", "priority=40,in_port=1,udp,actions=meter:1,output:2")
	r2 = s.rxPackets(1)
	start := time.Now()
	s.sendUDP(0, 1, 300, 30000)
	time.Sleep(500 * time.Millisecond)
	passed := s.rxPackets(1) - r2
	if max := 10 + uint64(time.Since(start).Seconds()*10) + 5; passed < 10 || passed > max {
		t.Errorf("meter of 10 pkt/s, burst 10: %d of 300 packets passed, want 10..%d", passed, max)
	}
	// What the meter saw (the kernel may drop some of the flood on the
	// way in): what it let pass is what h2 got (and perhaps a stray
	// packet or two of the hosts' own).
	ms := s.ofctl("meter-stats")
	m = regexp.MustCompile(`meter:1 flow_count:1 packet_in_count:(\d+) byte_in_count:\d+ duration:[\d.]+s bands:\s*0: packet_count:(\d+) byte_count:\d+`).FindStringSubmatch(ms)
	if m == nil {
		t.Errorf("meter-stats:\n%s", ms)
	} else if in, dropped := atoi(m[1]), atoi(m[2]); in < 100 || in > 300 || in-dropped > passed || in-dropped+5 < passed {
		t.Errorf("meter-stats: %d in, %d dropped; h2 got %d:\n%s", in, dropped, passed, ms)
	}
	expect("dump-flows", s.ofctl("dump-flows"), `priority=40,udp,in_port=1 actions=meter:1,output:2`)

	// del-meters removes the meter and its flow; del-groups the groups
	// and theirs.
	s.ofctl("del-meters")
	if out := s.ofctl("dump-meters"); strings.Contains(out, "meter=1") {
		t.Errorf("dump-meters after del-meters:\n%s", out)
	}
	flowsOut := s.ofctl("dump-flows")
	if strings.Contains(flowsOut, "meter:1") {
		t.Errorf("the metered flow survived del-meters:\n%s", flowsOut)
	}
	s.ofctl("del-groups")
	if out := s.ofctl("dump-groups"); strings.Contains(out, "group_id") {
		t.Errorf("dump-groups after del-groups:\n%s", out)
	}
	flowsOut = s.ofctl("dump-flows")
	if strings.Contains(flowsOut, "group:") || !strings.Contains(flowsOut, "priority=10,in_port=2 actions=output:1") {
		t.Errorf("dump-flows after del-groups:\n%s", flowsOut)
	}
	// Errors print as OpenFlow errors.
	out, err := s.ofctlErr("add-group", "group_id=5,type=all,bucket=actions=group:9")
	if err == nil || !strings.Contains(out, "OFPBAC_BAD_OUT_GROUP") {
		t.Errorf("a bucket forwarding to a missing group: %v\n%s", err, out)
	}
	out, err = s.ofctlErr("add-group", "group_id=5,type=all,bucket=watch_port:2,actions=output:2")
	if err == nil || !strings.Contains(out, "OFPGMFC_WATCH_UNSUPPORTED") {
		t.Errorf("an all group's bucket watching a port: %v\n%s", err, out)
	}
	s.ofctl("add-group", "group_id=6,type=ff,bucket=watch_port:2,actions=output:2,bucket=watch_port:3,actions=output:3")
	expect("dump-groups", s.ofctl("dump-groups"),
		`group_id=6,type=ff,bucket=watch_port:2,actions=output:2,bucket=watch_port:3,actions=output:3`)
	s.ofctl("add-meter", "meter=2,kbps,bands=type=drop,rate=1000")
	out, err = s.ofctlErr("add-meter", "meter=2,kbps,bands=type=drop,rate=1000")
	if err == nil || !strings.Contains(out, "OFPMMFC_METER_EXISTS") {
		t.Errorf("adding meter 2 twice: %v\n%s", err, out)
	}
	out, err = s.ofctlErr("add-flow", "in_port=1,actions=meter:9,output:2")
	if err == nil || !strings.Contains(out, "OFPMMFC_UNKNOWN_METER") {
		t.Errorf("flow with a missing meter: %v\n%s", err, out)
	}
}

func atoi(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}
