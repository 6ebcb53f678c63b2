package ofproto

import (
	"testing"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofp"
)

func ipv4Dst(a, b, c, d byte) ofp.OXM {
	return ofp.OXM{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(ofp.OXMIPv4Dst), Value: []byte{a, b, c, d}}
}

// megaflows returns the installed megaflows.
func (tb *testBridge) megaflows() []*datapath.Flow {
	var fs []*datapath.Flow
	tb.br.dp.FlowDump(func(f *datapath.Flow) bool { fs = append(fs, f); return true })
	return fs
}

// TestRevalidationKeepsUnaffectedMegaflows: a change that no cached
// decision depends on leaves the megaflows alone; one that does updates
// them before the barrier reply.
func TestRevalidationKeepsUnaffectedMegaflows(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	ip := []ofp.OXM{oxm(ofp.OXMEthType, 0x0800)}
	c.send(flow(0, 10, append(ip, ipv4Dst(198, 18, 0, 2)), output(2)))
	c.send(flow(0, 10, append(ip, ipv4Dst(198, 18, 0, 3)), output(3)))
	c.barrier()
	to2 := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	to3 := udpPacket(t, macH1, macH3, "198.18.0.1", "198.18.0.3", 1, 2)
	tb.hosts[0].SendFrame(to2)
	tb.expectFrame(t, 1)
	tb.hosts[0].SendFrame(to3)
	tb.expectFrame(t, 2)
	before := tb.megaflows()
	if len(before) != 2 {
		t.Fatalf("%d megaflows, want 2", len(before))
	}

	// Unaffected: a rule in a table no packet visits, and a rule in
	// table 0 for another destination.
	c.send(flow(5, 100, nil, output(1)))
	c.send(flow(0, 20, append(ip, ipv4Dst(198, 18, 0, 9)), output(1)))
	c.barrier()
	after := tb.megaflows()
	if len(after) != 2 || after[0].Dead() || after[1].Dead() {
		t.Fatalf("unrelated rules removed megaflows: %d left", len(after))
	}

	// Affected: a higher-priority rule for .3 sends it to port 1 at once.
	c.send(flow(0, 20, append(ip, ipv4Dst(198, 18, 0, 3)), output(1)))
	c.barrier()
	tb.hosts[0].SendFrame(to3)
	tb.expectNoFrame(t, 2)
	tb.hosts[0].SendFrame(to2)
	tb.expectFrame(t, 1) // the megaflow for .2 kept working throughout
	n := 0
	for _, f := range tb.megaflows() {
		if f == before[0] || f == before[1] {
			n++
		}
	}
	if n == 0 {
		t.Error("the megaflow for .2 did not survive a change for .3")
	}
}

// TestRevalidationSeesRewrittenFlow: table 0 rewrites the destination
// before table 1 looks at it. A new table-1 rule for the rewritten
// destination must be noticed although it does not match the packet's
// original destination.
func TestRevalidationSeesRewrittenFlow(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	ip := []ofp.OXM{oxm(ofp.OXMEthType, 0x0800)}
	rewrite := flow(0, 10, ip, &ofp.ActionSetField{Field: ipv4Dst(10, 9, 9, 9)})
	rewrite.Instructions = append(rewrite.Instructions, &ofp.InstrGotoTable{TableID: 1})
	c.send(rewrite)
	c.send(flow(1, 10, append(ip, ipv4Dst(10, 9, 9, 9)), output(2)))
	c.barrier()
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	tb.hosts[0].SendFrame(pkt)
	tb.expectFrame(t, 1)
	c.send(flow(1, 20, append(ip, ipv4Dst(10, 9, 9, 9)), output(3)))
	c.barrier()
	tb.hosts[0].SendFrame(pkt)
	tb.expectFrame(t, 2)
	tb.expectNoFrame(t, 1)
}
