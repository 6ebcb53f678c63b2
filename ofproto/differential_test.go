package ofproto

// The differential test of issue 4: randomly generated pipelines, packets
// and FLOW_MOD sequences run through the real switch (a Bridge on memory
// ports, programmed over its management socket) and through the
// reference interpreter of reference_test.go; every packet's frames (port
// and exact bytes) and packet-ins must agree. The megaflow cache is what is
// under test: packets repeat, and variants differ only in fields that
// some rules wildcard, so that a megaflow whose mask lacks a consulted bit
// sends a later packet the wrong way. A second mode checks the megaflows
// directly: it dumps them, builds packets that fall into each one's masked
// key but differ in its wildcarded bits, and checks those against the
// reference.
//
// Flags:
//
//	-difftest.seed=N       run seed N only (replays a failure)
//	-difftest.seeds=N      how many seeds to run at most
//	-difftest.from=N       the first seed to run (default 1)
//	-difftest.duration=D   stop starting new seeds after D (default 20s)
//	-difftest.shrink=false do not minimise a failure
//
// A failure prints the seed and, minimised by replaying shorter and
// shorter event sequences on fresh bridges, the flows, groups and packets
// that still make the last packet disagree, with the expected and actual
// outputs, the reference's trace and the megaflow the packet hit.

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

var (
	diffSeed     = flag.Uint64("difftest.seed", 0, "differential test: run only this seed")
	diffSeeds    = flag.Int("difftest.seeds", 500, "differential test: number of seeds (1..N) to run at most")
	diffFrom     = flag.Uint64("difftest.from", 1, "differential test: the first seed of the run")
	diffDuration = flag.Duration("difftest.duration", 20*time.Second, "differential test: start no new seed after this long")
	diffShrink   = flag.Bool("difftest.shrink", true, "differential test: minimise a failure")
)

// Known differences between the switch and the reference that the test
// steps around until they are fixed. Each names the bug; see the report
// in the commit that added this file.
const (
	// Packet-ins sent from the action set or from a group bucket carried
	// table_id 0xff (OFPTT_ALL) instead of the table that was last looked
	// up (OpenFlow 1.3.5 section 7.4.1: "the ID of the table that was
	// looked up"); fixed. While set, their table_id is not compared.
	diffIgnoreNoRuleTableID = false
)

// TestDifferential runs the differential test over seeds 1..N (bounded by
// -difftest.duration), or over -difftest.seed alone.
func TestDifferential(t *testing.T) {
	if *diffSeed != 0 {
		t.Logf("seed %d: %s", *diffSeed, runDiffSeed(t, *diffSeed))
		return
	}
	dur := *diffDuration
	if testing.Short() {
		dur = min(dur, 5*time.Second)
	}
	deadline := time.Now().Add(dur)
	var stats diffStats
	n := 0
	for seed := *diffFrom; seed < *diffFrom+uint64(*diffSeeds) && time.Now().Before(deadline); seed++ {
		s := runDiffSeed(t, seed)
		stats.add(s)
		n++
		if t.Failed() {
			break
		}
	}
	t.Logf("differential test: %d seeds in %v: %s", n, dur, stats)
}

// TestDifferentialReplaysDeterministically checks that a seed generates
// the same events twice (the generator may not depend on the switch).
func TestDifferentialReplaysDeterministically(t *testing.T) {
	a, b := diffGenerateOnly(7), diffGenerateOnly(7)
	if a != b {
		t.Fatalf("seed 7 generated different events:\n%s\n---\n%s", a, b)
	}
}

// ---- statistics ----

type diffStats struct {
	packets, maskPackets, flowMods, groupMods, megaflows, skipped int
}

func (s *diffStats) add(o diffStats) {
	s.packets += o.packets
	s.maskPackets += o.maskPackets
	s.flowMods += o.flowMods
	s.groupMods += o.groupMods
	s.megaflows += o.megaflows
	s.skipped += o.skipped
}

func (s diffStats) String() string {
	return fmt.Sprintf("%d packets checked (%d of them aimed at the wildcarded bits of %d megaflows), %d flow mods, %d group mods, %d packets skipped",
		s.packets, s.maskPackets, s.megaflows, s.flowMods, s.groupMods, s.skipped)
}

// ---- a seed ----

// diffSeedParams are the shape of a seed's run.
func diffSeedParams(seed uint64) (cfg diffConfig, g *diffGen) {
	r := rand.New(rand.NewPCG(seed, 0x676f7673))
	cfg = diffConfig{nports: 3 + r.IntN(3), invalidTTL: r.IntN(2) == 0}
	cfg.missSendLen = []uint16{100, 128, ofp.ControllerMaxLenNoBuffer}[r.IntN(3)]
	g = &diffGen{r: r, nports: cfg.nports, tables: 2 + r.IntN(3)}
	for range 16 + r.IntN(16) {
		g.pool = append(g.pool, g.packet())
	}
	return cfg, g
}

// diffSteps is the number of steps (a flow mod or a burst of packets) of
// a seed after its initial pipeline.
const diffSteps = 40

// runDiffSeed runs one seed and reports a failure (minimised) on t.
func runDiffSeed(t *testing.T, seed uint64) diffStats {
	t.Helper()
	cfg, g := diffSeedParams(seed)
	h, err := newDiffHarness(cfg)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	defer h.close()
	g.groups = h.groupsSupported()
	maskRand := rand.New(rand.NewPCG(seed, 0x6d61736b))
	fail := func(m *diffMismatch, err error) {
		if err != nil {
			t.Errorf("differential test, seed %d (replay: go test ./ofproto -run 'TestDifferential$' -difftest.seed=%d):\n"+
				"the switch refused a generated change: %v", seed, seed, err)
			return
		}
		t.Errorf("differential test, seed %d (replay: go test ./ofproto -run 'TestDifferential$' -difftest.seed=%d): "+
			"the switch and the reference disagree on event %d:\n%s\n%s",
			seed, seed, m.event+1, m.what, diffShrinkReport(cfg, h.log[:m.event+1]))
	}
	run := func(ev diffEvent) bool {
		m, err := h.apply(ev)
		if m != nil || err != nil {
			fail(m, err)
			return false
		}
		return true
	}
	// The initial pipeline.
	for range 8 + g.pick(20) {
		if !run(diffEvent{fm: g.addFlow(h.ref)}) {
			return h.stats
		}
	}
	for step := 0; step < diffSteps; step++ {
		switch x := g.r.Float64(); {
		case x < 0.3:
			if !run(diffEvent{fm: g.flowMod(h.ref)}) {
				return h.stats
			}
		case x < 0.36 && g.groups:
			if !run(diffEvent{gm: g.groupMod(h.ref)}) {
				return h.stats
			}
		default:
			for n := 4 + g.pick(14); n > 0; n-- {
				var p diffPkt
				switch y := g.r.Float64(); {
				case y < 0.5:
					p = diffPickOf(g, g.pool)
				case y < 0.85:
					p = g.mutate(diffPickOf(g, g.pool))
					p.variants = true
				default:
					p = g.packet()
					g.pool = append(g.pool, p)
				}
				if !run(diffEvent{pkt: &p}) {
					return h.stats
				}
			}
			if step%4 == 3 {
				var evs []diffEvent
				h.maskCheck(maskRand, &evs)
				for _, ev := range evs {
					if !run(ev) {
						return h.stats
					}
				}
			}
			if what := h.quiet(20 * time.Millisecond); what != "" {
				fail(&diffMismatch{event: len(h.log) - 1, what: what}, nil)
				return h.stats
			}
		}
	}
	if what := h.quiet(50 * time.Millisecond); what != "" {
		fail(&diffMismatch{event: len(h.log) - 1, what: what}, nil)
	}
	return h.stats
}

// diffGenerateOnly returns the events a seed generates against the
// reference alone (no switch, no megaflow check), as text.
func diffGenerateOnly(seed uint64) string {
	_, g := diffSeedParams(seed)
	ref := newRefSwitch([]uint32{1, 2, 3, 4, 5}[:g.nports])
	var b strings.Builder
	for range 8 + g.pick(20) {
		fm := g.addFlow(ref)
		ref.flowMod(fm)
		b.WriteString(formatDiffFlowMod(fm) + "\n")
	}
	for step := 0; step < diffSteps; step++ {
		if g.r.Float64() < 0.3 {
			fm := g.flowMod(ref)
			ref.flowMod(fm)
			b.WriteString(formatDiffFlowMod(fm) + "\n")
			continue
		}
		for n := 4 + g.pick(14); n > 0; n-- {
			p := g.mutate(diffPickOf(g, g.pool))
			b.WriteString(p.String() + "\n")
		}
	}
	return b.String()
}

// ---- replay and minimisation ----

// diffReplay runs events on a fresh bridge and reports whether the last
// one (a packet) disagrees with the reference, with the description.
func diffReplay(cfg diffConfig, events []diffEvent) (bool, string) {
	h, err := newDiffHarness(cfg)
	if err != nil {
		return false, ""
	}
	defer h.close()
	for i, ev := range events {
		m, err := h.apply(ev)
		if err != nil {
			return false, ""
		}
		if m != nil {
			return i == len(events)-1, m.what
		}
	}
	if what := h.quiet(30 * time.Millisecond); what != "" {
		return true, what
	}
	return false, ""
}

// diffShrinkReport minimises a failing event sequence (ddmin over the
// events before the failing packet) and describes the result.
func diffShrinkReport(cfg diffConfig, events []diffEvent) string {
	if !*diffShrink {
		return diffDescribeEvents("events (not minimised)", events)
	}
	fails, _ := diffReplay(cfg, events)
	if !fails {
		return "(the failure did not reproduce on a fresh bridge; all events of the seed:)\n" +
			diffDescribeEvents("events", events)
	}
	last := events[len(events)-1]
	cur := slices.Clone(events[:len(events)-1])
	deadline := time.Now().Add(2 * time.Minute)
	chunk := max(len(cur)/2, 1)
	for chunk >= 1 && time.Now().Before(deadline) {
		removed := false
		for i := 0; i < len(cur) && time.Now().Before(deadline); {
			try := append(slices.Clone(cur[:i]), cur[min(i+chunk, len(cur)):]...)
			if ok, _ := diffReplay(cfg, append(try, last)); ok {
				cur = try
				removed = true
				continue
			}
			i += chunk
		}
		if !removed {
			if chunk == 1 {
				break
			}
			chunk /= 2
		}
	}
	final := append(cur, last)
	_, what := diffReplay(cfg, final)
	return diffDescribeEvents(fmt.Sprintf("minimised to %d events (from %d)", len(final), len(events)), final) +
		"the last packet, replayed on a fresh bridge:\n" + what
}

func diffDescribeEvents(title string, events []diffEvent) string {
	var b strings.Builder
	b.WriteString(title + ":\n")
	for i := range events {
		fmt.Fprintf(&b, "  %3d. %s\n", i+1, events[i].String())
	}
	return b.String()
}

// ---- regressions: bugs the differential test found, as fixed cases ----

func diffFlow(table uint8, prio uint16, m []ofp.OXM, ins ...ofp.Instruction) diffEvent {
	return diffEvent{fm: &ofp.FlowMod{Command: ofp.FlowAdd, TableID: table, Priority: prio, BufferID: ofp.NoBuffer,
		OutPort: ofp.PortAny, OutGroup: ofp.GroupAny, Match: ofp.Match{Fields: m}, Instructions: ins}}
}

func diffApply(acts ...ofp.Action) ofp.Instruction { return &ofp.InstrApplyActions{Actions: acts} }

func diffOut(port uint32) ofp.Action {
	return &ofp.ActionOutput{Port: port, MaxLen: ofp.ControllerMaxLenNoBuffer}
}

// diffUDP4 is an untagged IPv4/UDP packet from MAC index src to dst on
// in_port, with VLAN tags (vid, pcp 3) when vids are given.
func diffUDP4(inPort uint32, src, dst int, vids ...uint16) diffEvent {
	p := &diffPkt{InPort: inPort, Src: src, Dst: dst, Kind: diffIPv4UDP, IP4Src: 0, IP4Dst: 1, TTL: 64, SPort: 53, DPort: 80}
	tpid := uint16(0x8100)
	if len(vids) > 1 {
		tpid = 0x88a8
	}
	for _, v := range vids {
		p.Tags = append(p.Tags, diffTagSpec{TPID: tpid, VID: v, PCP: 3})
		tpid = 0x8100
	}
	return diffEvent{pkt: p}
}

// TestDifferentialRegressions replays, on fresh bridges, the minimised
// event sequences of the bugs the differential test found: each must
// agree with the reference packet by packet.
func TestDifferentialRegressions(t *testing.T) {
	const m1, m2, m3, bcast, mcast = 4, 1, 2, 5, 6 // indexes into diffMACs
	normal := diffFlow(0, 0, nil, diffApply(diffOut(ofp.PortNormal)))
	type regression struct {
		name   string
		events []diffEvent
	}
	tests := []regression{
		{
			// A megaflow whose packets NORMAL learned a source from stayed
			// installed after the address moved to another port; its next
			// packet did not move the address back.
			"mac-moves-back", []diffEvent{normal,
				diffUDP4(2, m1, m3), // m1 on port 2
				diffUDP4(3, m1, m3), // m1 moves to port 3
				diffUDP4(2, m1, m3), // and back to port 2
				diffUDP4(3, m2, m1), // to port 2 only
			},
		},
		{
			// Revalidation checked the addresses NORMAL had learned from a
			// megaflow's packets before a change, not after it: a new
			// set_field eth_src made them learn an address that lives on
			// another port, and the megaflow stayed (learning lost).
			"mac-stale-after-set-eth-src", []diffEvent{normal,
				diffUDP4(3, m2, m3),    // m2 on port 3
				diffUDP4(1, m1, bcast), // a megaflow that learns m1 on port 1
				diffFlow(0, 10, []ofp.OXM{diffOXM(ofp.OXMInPort, be32(1), nil)},
					diffApply(&ofp.ActionSetField{Field: diffOXM(ofp.OXMEthSrc, diffMACs[m2], nil)}, diffOut(ofp.PortNormal))),
				diffUDP4(1, m1, bcast), // now learns m2 on port 1
				diffUDP4(2, m3, m2),    // to port 1 only
			},
		},
		{
			// A NORMAL megaflow that learned nothing (multicast source)
			// was not revalidated when the MAC table changed: it kept
			// flooding to an address learned since.
			"normal-multicast-source", []diffEvent{normal,
				diffUDP4(1, mcast, m2), // flood: m2 unknown
				diffUDP4(3, m2, m3),    // m2 on port 3
				diffUDP4(1, mcast, m2), // to port 3 only
			},
		},
		{
			// set_field vlan_pcp on an untagged packet does nothing, but
			// the megaflow did not match "untagged": a tagged packet then
			// went out with its PCP unchanged.
			"set-vlan-pcp-needs-tag-bit", []diffEvent{
				diffFlow(0, 10, []ofp.OXM{diffOXM(ofp.OXMEthType, be16(0x0800), nil)},
					diffApply(&ofp.ActionSetField{Field: diffOXM(ofp.OXMVlanPCP, []byte{0}, nil)}, diffOut(2))),
				diffUDP4(1, m1, m2),
				diffUDP4(1, m1, m2, 10),
			},
		},
		{
			// After pop_vlan the inner tag is the one later tables match,
			// but the megaflow did not match it.
			"pop-vlan-matches-inner-tag", []diffEvent{
				diffFlow(0, 10, nil, diffApply(&ofp.ActionPopVLAN{}), &ofp.InstrGotoTable{TableID: 1}),
				diffFlow(1, 10, []ofp.OXM{diffOXM(ofp.OXMVlanVID, be16(ofp.VIDPresent|20), nil)}, diffApply(diffOut(2))),
				diffUDP4(1, m1, m2, 10, 20),
				diffUDP4(1, m1, m2, 10, 11),
			},
		},
		{
			// A rule added to a table that a megaflow's translation looked
			// up after writing metadata was thought unable to match it
			// (revalidation took the packet's wildcarded bits for ones the
			// pipeline had changed): the megaflow kept dropping.
			"revalidate-after-write-metadata", []diffEvent{
				diffFlow(0, 1, nil, &ofp.InstrWriteMetadata{Metadata: 1, Mask: 0xff}, &ofp.InstrGotoTable{TableID: 3}),
				func() diffEvent { e := diffUDP4(1, m1, m2); e.pkt.IP4Src = 2; return e }(),
				diffFlow(3, 34, []ofp.OXM{diffOXM(ofp.OXMEthType, be16(0x0800), nil), diffOXM(ofp.OXMIPv4Src, diffIP4[0], nil)},
					diffApply(diffOut(2))),
				diffUDP4(1, m1, m2), // from diffIP4[0]
			},
		},
		{
			// A packet-in from the action set said table_id 0xff instead
			// of the table last looked up.
			"packet-in-table-id-from-action-set", []diffEvent{
				diffFlow(0, 0, nil, &ofp.InstrWriteActions{Actions: []ofp.Action{diffOut(ofp.PortController)}},
					&ofp.InstrGotoTable{TableID: 1}),
				diffFlow(1, 0, nil),
				diffUDP4(1, m1, m2),
			},
		},
	}
	ttl1 := func() diffEvent { e := diffUDP4(1, m1, m2); e.pkt.TTL, e.pkt.PayloadLen = 1, 200; return e }
	decTTL := diffFlow(0, 1, nil, diffApply(&ofp.ActionDecNwTTL{}, diffOut(2)))
	// INVALID_TTL packet-ins were cut to 128 bytes whatever miss_send_len
	// the connection had set.
	tests = append(tests,
		regression{"invalid-ttl-miss-send-len-100", []diffEvent{decTTL, ttl1()}},
		regression{"invalid-ttl-miss-send-len-no-buffer", []diffEvent{decTTL, ttl1()}})
	cfgs := map[string]diffConfig{ // the others: 3 ports, miss_send_len 128
		"invalid-ttl-miss-send-len-100":       {nports: 3, invalidTTL: true, missSendLen: 100},
		"invalid-ttl-miss-send-len-no-buffer": {nports: 3, invalidTTL: true, missSendLen: ofp.ControllerMaxLenNoBuffer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, ok := cfgs[tc.name]
			if !ok {
				cfg = diffConfig{nports: 3, missSendLen: 128}
			}
			h, err := newDiffHarness(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer h.close()
			for _, ev := range tc.events {
				m, err := h.apply(ev)
				if err != nil {
					t.Fatal(err)
				}
				if m != nil {
					t.Fatalf("%s\n%s", m.what, diffDescribeEvents("events", h.log))
				}
			}
			if what := h.quiet(30 * time.Millisecond); what != "" {
				t.Fatal(what)
			}
		})
	}
}
