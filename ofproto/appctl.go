package ofproto

import (
	"fmt"
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
	br.pushStats()
	br.dp.FlowFlush()
}

// FDBShow prints the MAC learning table (`fdb/show`).
func (br *Bridge) FDBShow() string { return br.macs.show(time.Now()) }

// Show describes the bridge and its connections (`govs show`).
func (br *Bridge) Show() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Bridge %s\n", br.cfg.Name)
	fmt.Fprintf(&b, "    datapath_id: %016x\n", br.cfg.DatapathID)
	fmt.Fprintf(&b, "    fail_mode: %s", br.cfg.FailMode)
	if br.failOpen.Load() {
		b.WriteString(" (fail-open: acting as a learning switch)")
	}
	b.WriteString("\n")
	for _, c := range br.conns.snapshot() {
		kind := "controller"
		if c.kind == connService {
			kind = "service"
		}
		state := "connecting"
		if c.handshaken.Load() {
			state = "connected"
		}
		c.mu.Lock()
		role := [...]string{"nochange", "equal", "master", "slave"}[c.role&3]
		c.mu.Unlock()
		fmt.Fprintf(&b, "    %s %q: %s, role %s\n", kind, c.name, state, role)
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
