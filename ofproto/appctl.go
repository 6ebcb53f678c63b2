package ofproto

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofp"
	"github.com/govs/govs/vport"
)

// DPShow describes the bridge's datapath as `ovs-appctl dpctl/show` does.
func (br *Bridge) DPShow() string {
	s := br.dp.Stats()
	var b strings.Builder
	fmt.Fprintf(&b, "govs@%s:\n", br.cfg.Name)
	fmt.Fprintf(&b, "  lookups: hit:%d missed:%d lost:%d\n", s.Hit, s.Missed, s.Lost)
	fmt.Fprintf(&b, "  flows: %d\n", s.Flows)
	lookups := s.Hit - s.EMCHit + s.Missed
	perPkt := 0.0
	if lookups > 0 {
		perPkt = float64(s.MaskHit) / float64(lookups)
	}
	fmt.Fprintf(&b, "  masks: hit:%d total:%d hit/pkt:%.2f\n", s.MaskHit, s.Masks, perPkt)
	br.mu.RLock()
	defer br.mu.RUnlock()
	for _, no := range br.portOrder {
		p := br.ports[no]
		kind := ""
		if p.info.Kind != vport.KindSystem {
			kind = " (" + p.info.Kind.String() + ")"
		}
		fmt.Fprintf(&b, "  port %s: %s%s\n", portName(no), p.info.Name, kind)
	}
	return b.String()
}

// DPDelFlows removes every megaflow (`dpctl/del-flows`).
func (br *Bridge) DPDelFlows() {
	covFlowFlush.inc()
	br.pushStats()
	br.dp.FlowFlush()
}

// DPIFShow describes the bridge's datapath and ports as
// `ovs-appctl dpif/show` does: "NAME OFPORT/DPPORT: (TYPE)". (A govs
// datapath numbers its ports as OpenFlow does.)
func (br *Bridge) DPIFShow() string {
	s := br.dp.Stats()
	var b strings.Builder
	fmt.Fprintf(&b, "govs@%s: hit:%d missed:%d\n", br.cfg.Name, s.Hit, s.Missed)
	fmt.Fprintf(&b, "  %s:\n", br.cfg.Name)
	br.mu.RLock()
	defer br.mu.RUnlock()
	for _, no := range br.portOrder {
		p := br.ports[no]
		of := fmt.Sprint(no)
		if no == ofp.PortLocal {
			of = "65534"
		}
		fmt.Fprintf(&b, "    %s %s/%d: (%s)\n", p.info.Name, of, no, p.info.Kind)
	}
	return b.String()
}

// PMDStatsShow prints the datapath's packet counters since the last
// PMDStatsClear in the layout of `ovs-appctl dpif-netdev/pmd-stats-show`.
// A miss with success upcall is a miss queued to the slow path; a miss with
// failed upcall is one dropped because the upcall queue was full. (The
// datapath's Lost also counts controller upcalls it dropped, so under a
// packet-in flood the first is an underestimate.)
func (br *Bridge) PMDStatsShow() string {
	s := br.dp.Stats()
	if base := br.pmdBase.Load(); base != nil {
		s.Hit -= base.Hit
		s.Missed -= base.Missed
		s.Lost -= base.Lost
		s.EMCHit -= base.EMCHit
		s.MaskHit -= base.MaskHit
	}
	mf := s.Hit - s.EMCHit
	perHit := 0.0
	if lookups := mf + s.Missed; lookups > 0 {
		perHit = float64(s.MaskHit) / float64(lookups)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "govs@%s receive workers:\n", br.cfg.Name)
	fmt.Fprintf(&b, "  packets received: %d\n", s.Hit+s.Missed)
	fmt.Fprintf(&b, "  packet recirculations: 0\n")
	fmt.Fprintf(&b, "  emc hits: %d\n", s.EMCHit)
	fmt.Fprintf(&b, "  megaflow hits: %d\n", mf)
	fmt.Fprintf(&b, "  avg. subtable lookups per megaflow hit: %.2f\n", perHit)
	fmt.Fprintf(&b, "  miss with success upcall: %d\n", s.Missed-min(s.Lost, s.Missed))
	fmt.Fprintf(&b, "  miss with failed upcall: %d\n", s.Lost)
	return b.String()
}

// PMDStatsClear makes PMDStatsShow count from now.
func (br *Bridge) PMDStatsClear() {
	s := br.dp.Stats()
	br.pmdBase.Store(&s)
}

// UpcallShow prints the megaflow counts in the layout of
// `ovs-appctl upcall/show`: current, average and maximum over the samples
// taken every 5 s (CoverageRun), and the flow limit in force; then the
// process's upcalls and megaflow evictions by reason (flowlimit.go).
func (br *Bridge) UpcallShow() string {
	start := time.Now()
	n := 0
	br.dp.FlowDump(func(*datapath.Flow) bool { n++; return true })
	dump := time.Since(start)
	avg, maxFlows := flowSamples(br, n)
	var b strings.Builder
	fmt.Fprintf(&b, "govs@%s:\n", br.cfg.Name)
	fmt.Fprintf(&b, "  flows         : (current %d) (avg %d) (max %d) (limit %d)\n", n, avg, maxFlows, br.flowLimit.Load())
	fmt.Fprintf(&b, "  dump duration : %dms\n", dump.Milliseconds())
	fmt.Fprintf(&b, "  ufid enabled : false\n")
	b.WriteString(upcallCounters())
	return b.String()
}

// FDBShow prints the MAC learning table (`fdb/show`).
func (br *Bridge) FDBShow() string { return br.macs.show(time.Now()) }

// Show describes the bridge, its controllers, listeners, connections and
// ports (`govs show`).
func (br *Bridge) Show() string {
	var b strings.Builder
	now := time.Now()
	m := br.conns
	fmt.Fprintf(&b, "Bridge %s\n", br.cfg.Name)
	fmt.Fprintf(&b, "    datapath_id: %016x\n", br.cfg.DatapathID)
	m.mu.Lock()
	failMode, rate, burst := m.failMode, m.rate, m.burst
	remotes := make([]*remote, 0, len(m.remotes))
	for _, r := range m.remotes {
		remotes = append(remotes, r)
	}
	listeners := make([]*listener, 0, len(m.listeners))
	for _, l := range m.listeners {
		listeners = append(listeners, l)
	}
	m.mu.Unlock()
	slices.SortFunc(remotes, func(a, b *remote) int { return strings.Compare(a.target.String(), b.target.String()) })
	slices.SortFunc(listeners, func(a, b *listener) int {
		if a.kind != b.kind {
			return int(a.kind) - int(b.kind)
		}
		return strings.Compare(a.target.String(), b.target.String())
	})
	fmt.Fprintf(&b, "    fail_mode: %s\n", failMode)
	if br.failOpen.Load() {
		b.WriteString("    fail_open: active (no controller connected: acting as a learning switch)\n")
	}
	if rate > 0 {
		if burst <= 0 {
			burst = max(rate/4, 1)
		}
		fmt.Fprintf(&b, "    controller_rate_limit: %d/s, burst %d\n", rate, burst)
	}
	conns := m.snapshot()
	for _, r := range remotes {
		r.mu.Lock()
		state, since, c, lastErr, errAt, connects := r.state, r.since, r.conn, r.lastErr, r.lastErrAt, r.connects
		r.mu.Unlock()
		if c != nil && c.echoPending.Load() {
			state = stateIdle
		}
		fmt.Fprintf(&b, "    Controller %q\n", r.target.String())
		fmt.Fprintf(&b, "        state: %s for %s\n", state, ago(now, since))
		connected := c != nil && c.handshaken.Load()
		fmt.Fprintf(&b, "        is_connected: %v\n", connected)
		if connected {
			showConn(&b, c, now, "        ")
		}
		if connects > 1 {
			fmt.Fprintf(&b, "        connections: %d\n", connects)
		}
		if lastErr != "" {
			fmt.Fprintf(&b, "        last_error: %s (%s ago)\n", lastErr, ago(now, errAt))
		}
	}
	for _, l := range listeners {
		kind := "Listener"
		if l.kind == connService {
			kind = "Management"
		}
		l.mu.Lock()
		lastErr, errAt, accepted := l.lastErr, l.lastErrAt, l.accepted
		l.mu.Unlock()
		fmt.Fprintf(&b, "    %s %q\n", kind, l.target.String())
		if l.kind == connPrimary || accepted > 0 {
			fmt.Fprintf(&b, "        accepted: %d\n", accepted)
		}
		if lastErr != "" {
			fmt.Fprintf(&b, "        last_error: %s (%s ago)\n", lastErr, ago(now, errAt))
		}
		for _, c := range conns {
			if c.origin != l {
				continue
			}
			fmt.Fprintf(&b, "        Connection %q\n", c.name)
			fmt.Fprintf(&b, "            is_connected: %v\n", c.handshaken.Load())
			if c.handshaken.Load() {
				showConn(&b, c, now, "            ")
			}
		}
	}
	br.mu.RLock()
	defer br.mu.RUnlock()
	for _, no := range br.portOrder {
		p := br.ports[no]
		link := "up"
		if p.state&ofp.PortStateLinkDown != 0 {
			link = "down"
		}
		fmt.Fprintf(&b, "    Port %s (%s): %s, link %s\n", portName(no), p.info.Kind, p.info.Name, link)
	}
	return b.String()
}

// showConn prints a connected connection's role and counters.
func showConn(b *strings.Builder, c *conn, now time.Time, indent string) {
	c.mu.Lock()
	role, msl := c.role, c.missSendLen
	c.mu.Unlock()
	fmt.Fprintf(b, "%srole: %s\n", indent, roleName(role))
	fmt.Fprintf(b, "%sconnected: %s ago, messages received %d, sent %d\n", indent,
		ago(now, time.Unix(0, c.connectedAt.Load())), c.rxMsgs.Load(), c.txMsgs.Load())
	if c.kind == connService && msl == 0 {
		return
	}
	fmt.Fprintf(b, "%spacket_in: %d", indent, c.pinOffered.Load())
	if c.pins != nil {
		fmt.Fprintf(b, ", sent %d, queued %d (now %d), dropped by rate limit %d",
			c.pins.sent.Load(), c.pins.queued.Load(), c.pins.queuedNow(), c.pins.dropped.Load())
	}
	fmt.Fprintf(b, ", dropped on a full send queue %d\n", c.pinOverflow.Load())
	if d := c.dropped.Load(); d > 0 {
		fmt.Fprintf(b, "%sasync_dropped: %d\n", indent, d)
	}
}

// roleName names an OpenFlow role as ovs-ofctl does.
func roleName(r uint32) string {
	switch r {
	case ofp.RoleEqual:
		return "equal"
	case ofp.RoleMaster:
		return "master"
	case ofp.RoleSlave:
		return "slave"
	}
	return fmt.Sprintf("%d", r)
}

// ago formats the time since t in whole seconds (milliseconds under one).
func ago(now, t time.Time) string {
	d := now.Sub(t)
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// DPDumpFlows prints every megaflow as `ovs-appctl dpctl/dump-flows`
// does: masked match, statistics, actions.
func (br *Bridge) DPDumpFlows() string {
	var b strings.Builder
	now := time.Now()
	br.dp.FlowDump(func(f *datapath.Flow) bool {
		s := f.Stats()
		used := "never"
		if !s.Used.IsZero() {
			used = fmt.Sprintf("%.3fs", now.Sub(s.Used).Seconds())
		}
		fmt.Fprintf(&b, "%s, packets:%d, bytes:%d, used:%s", datapath.FormatKeyMask(&f.Key, &f.Mask), s.Packets, s.Bytes, used)
		if s.TCPFlags != 0 {
			fmt.Fprintf(&b, ", flags:%s", tcpFlagsString(s.TCPFlags))
		}
		fmt.Fprintf(&b, ", actions:%s\n", datapath.FormatActions(f.Actions()))
		return true
	})
	return b.String()
}

// tcpFlagsString prints TCP flags as Open vSwitch does in dump-flows.
func tcpFlagsString(f uint16) string {
	names := []struct {
		bit  uint16
		name string
	}{{0x01, "F"}, {0x02, "S"}, {0x04, "R"}, {0x08, "P"}, {0x10, "."}, {0x20, "U"}, {0x40, "E"}, {0x80, "C"}, {0x100, "N"}}
	var s string
	for _, n := range names {
		if f&n.bit != 0 {
			s += n.name
		}
	}
	return s
}
