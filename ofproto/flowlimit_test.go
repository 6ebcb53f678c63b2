package ofproto

import (
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// TestAdaptFlowLimit: the limit in force follows the revalidator's pass
// duration, between 1000 and the configured limit.
func TestAdaptFlowLimit(t *testing.T) {
	tests := []struct {
		limit, n int
		pass     time.Duration
		want     int
	}{
		{200000, 150000, 500 * time.Millisecond, 200000},  // fast: stays at the configured limit
		{200000, 150000, 1500 * time.Millisecond, 150000}, // slow: a quarter off
		{200000, 150000, 4 * time.Second, 50000},          // very slow: divided by the seconds
		{50000, 60000, 100 * time.Millisecond, 51000},     // fast again: grows back by 1000
		{50000, 1500, 100 * time.Millisecond, 50000},      // few flows: no change
		{1200, 5000, 5 * time.Second, 1000},               // never below 1000
	}
	for _, tc := range tests {
		br := &Bridge{cfg: Config{FlowLimit: 200000}}
		br.flowLimit.Store(int64(tc.limit))
		br.adaptFlowLimit(tc.n, tc.pass)
		if got := int(br.flowLimit.Load()); got != tc.want {
			t.Errorf("limit %d, %d flows, pass %v: new limit %d, want %d", tc.limit, tc.n, tc.pass, got, tc.want)
		}
	}
}

// TestFlowLimitHit: at the limit, a miss is forwarded but installs no
// megaflow, and is counted.
func TestFlowLimitHit(t *testing.T) {
	tb := newTestBridge(t, 2, FailSecure, func(c *Config) { c.FlowLimit = 2 })
	c := tb.dial(t)
	c.send(flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, output(2)))
	c.barrier()
	hits := covUpcallFlowLimit.total()
	for i := range 3 {
		// Distinct megaflows: the rule's mask has only in_port, but
		// megaflows always match the ethertype.
		pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 4000, 53)
		pkt[12], pkt[13] = 0x88, byte(0xb5+i) // ethertypes 0x88b5, 0x88b6, 0x88b7
		tb.hosts[0].SendFrame(pkt)
		tb.expectFrame(t, 1)
	}
	deadline := time.Now().Add(5 * time.Second)
	for covUpcallFlowLimit.total() == hits && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := tb.br.dp.FlowCount(); n != 2 {
		t.Errorf("%d megaflows installed, want 2 (the limit)", n)
	}
	if covUpcallFlowLimit.total() == hits {
		t.Error("upcall_flow_limit_hit did not count the third flow")
	}
	if out := tb.br.UpcallShow(); !strings.Contains(out, "(limit 2)") || !strings.Contains(out, "(flow_limit_hit ") {
		t.Errorf("upcall/show:\n%s", out)
	}
}

// TestFlowLimitEvicts: over the limit, megaflows idle for 100 ms are
// evicted (not only after max-idle), counted as flow-limit evictions.
func TestFlowLimitEvicts(t *testing.T) {
	tb := newTestBridge(t, 2, FailSecure, func(c *Config) { c.FlowLimit = 2 })
	c := tb.dial(t)
	c.send(flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, output(2)))
	c.barrier()
	for i := range 2 {
		pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 4000, 53)
		pkt[12], pkt[13] = 0x88, byte(0xb5+i)
		tb.hosts[0].SendFrame(pkt)
		tb.expectFrame(t, 1)
	}
	deadline := time.Now().Add(5 * time.Second)
	for tb.br.dp.FlowCount() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := tb.br.dp.FlowCount(); n != 2 {
		t.Fatalf("%d megaflows, want 2", n)
	}
	evicted := covDelFlowLimit.total()
	// As if revalidation had fallen behind. The housekeeping's own pass
	// may adapt the limit back up in between: then try again.
	for deadline := time.Now().Add(5 * time.Second); tb.br.dp.FlowCount() > 0 && time.Now().Before(deadline); {
		tb.br.flowLimit.Store(1)
		time.Sleep(2 * flowLimitIdle)
		tb.br.flowLimit.Store(1)
		tb.br.pushStatsEvict(true)
	}
	if n := tb.br.dp.FlowCount(); n != 0 {
		t.Errorf("%d megaflows left over the limit, want 0 (idle for 200 ms)", n)
	}
	if got := covDelFlowLimit.total() - evicted; got != 2 {
		t.Errorf("revalidate_del_flow_limit counted %d, want 2", got)
	}
}
