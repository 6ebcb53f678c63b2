package ofproto

import (
	"sync/atomic"
	"time"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofp"
)

// Rule is one OpenFlow flow entry. Everything but the counters is immutable
// once the rule is in a table, except Instructions/Cookie/flags, which a
// FLOW_MOD modify replaces under the bridge's write lock.
type Rule struct {
	TableID      uint8
	Priority     uint16
	Cookie       uint64
	Match        ofp.Match // as the controller sent it, echoed in flow stats
	Instructions []ofp.Instruction
	IdleTimeout  uint16
	HardTimeout  uint16
	Flags        uint16
	Created      time.Time

	key, mask datapath.Key // the match as a datapath key and mask
	tableMiss bool         // priority 0 and matches everything

	packets atomic.Uint64
	bytes   atomic.Uint64
	used    atomic.Int64 // unix nanoseconds of the last packet, or of creation
	removed atomic.Bool  // set when the rule leaves its table
}

// credit adds packets/bytes to the rule's counters and marks it used now.
func (r *Rule) credit(packets, bytes uint64, now int64) {
	if packets == 0 {
		return
	}
	if r.Flags&ofp.FlagNoPktCounts == 0 {
		r.packets.Add(packets)
	}
	if r.Flags&ofp.FlagNoBytCounts == 0 {
		r.bytes.Add(bytes)
	}
	r.used.Store(now)
}

// stats returns the rule's counters as OpenFlow reports them: all ones
// where counting was switched off by a flag.
func (r *Rule) stats() (packets, bytes uint64) {
	packets, bytes = r.packets.Load(), r.bytes.Load()
	if r.Flags&ofp.FlagNoPktCounts != 0 {
		packets = ^uint64(0)
	}
	if r.Flags&ofp.FlagNoBytCounts != 0 {
		bytes = ^uint64(0)
	}
	return packets, bytes
}

// duration returns the time the rule has been installed, split as OpenFlow
// wants it.
func (r *Rule) duration(now time.Time) (sec, nsec uint32) {
	d := now.Sub(r.Created)
	if d < 0 {
		d = 0
	}
	return uint32(d / time.Second), uint32(d % time.Second)
}

// flowStats returns the rule's flow stats entry.
func (r *Rule) flowStats(now time.Time) ofp.FlowStats {
	sec, nsec := r.duration(now)
	p, b := r.stats()
	return ofp.FlowStats{
		TableID:      r.TableID,
		DurationSec:  sec,
		DurationNsec: nsec,
		Priority:     r.Priority,
		IdleTimeout:  r.IdleTimeout,
		HardTimeout:  r.HardTimeout,
		Flags:        r.Flags,
		Cookie:       r.Cookie,
		PacketCount:  p,
		ByteCount:    b,
		Match:        r.Match,
		Instructions: r.Instructions,
	}
}

// outputsTo reports whether the rule's instructions contain an output to
// port (OFPP_ANY matches everything) and, for group, a group action with
// that id (OFPG_ANY matches everything): the out_port/out_group filter of
// FLOW_MOD delete/modify and of flow stats requests.
func (r *Rule) outputsTo(port, group uint32) bool {
	if port == ofp.PortAny && group == ofp.GroupAny {
		return true
	}
	portOK, groupOK := port == ofp.PortAny, group == ofp.GroupAny
	visit := func(acts []ofp.Action) {
		for _, a := range acts {
			switch a := a.(type) {
			case *ofp.ActionOutput:
				if a.Port == port {
					portOK = true
				}
			case *ofp.ActionGroup:
				if a.GroupID == group {
					groupOK = true
				}
			}
		}
	}
	for _, in := range r.Instructions {
		switch in := in.(type) {
		case *ofp.InstrApplyActions:
			visit(in.Actions)
		case *ofp.InstrWriteActions:
			visit(in.Actions)
		}
	}
	return portOK && groupOK
}

// counter counts the packets and bytes of whatever a translation passed
// through besides rules and tables (a group, a bucket, a meter). A
// translation records the counters it passed (xlate.count); every packet of
// the resulting megaflow is credited to them.
type counter struct {
	packets atomic.Uint64
	bytes   atomic.Uint64
}

func (c *counter) add(packets, bytes uint64) {
	c.packets.Add(packets)
	c.bytes.Add(bytes)
}
