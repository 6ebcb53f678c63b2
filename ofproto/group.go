package ofproto

import (
	"math/bits"
	"slices"
	"time"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofp"
)

// Groups (OpenFlow 1.3.5 sections 5.6 and 7.3.4.2).
//
// The group table is Bridge.groups, guarded by Bridge.mu like the flow
// tables: a GROUP_MOD takes the write lock, changes the table and
// revalidates every megaflow (invalidateLocked) before it returns, so no
// packet takes a path decided by an older group table once the change is
// acknowledged. (Even an add: a fast failover bucket may watch a group
// that was deleted and comes back.) A
// modify replaces the whole entry (type, buckets and counters), as the
// spec says.
//
// Translation (xlateGroup, under the read lock) turns a group action into
// datapath actions, bucket by bucket. Each bucket acts on the packet as it
// was when the group was reached: the translation state is saved and
// restored around it, and a bucket whose datapath actions change the packet
// runs inside an ActClone (a copy-on-write copy), so its changes reach
// neither the next bucket nor the actions after the group. Buckets that
// only output need no clone.
//
//   - all: every bucket.
//   - select: one live bucket of non-zero weight, chosen by a hash of the
//     flow with probability proportional to its weight, so that one flow
//     always takes the same bucket. The hash covers the Ethernet addresses
//     and type and, for IPv4, IPv6 and ARP, the addresses and protocol
//     (opcode for ARP) and for TCP, UDP and SCTP the ports; exactly those
//     fields are added to the megaflow mask (and only when there is a choice
//     to make). If every live bucket has weight 0 they are taken as equal.
//   - indirect: the one bucket.
//   - fast failover: the first live bucket; none live: drop.
//
// A bucket is live if it watches nothing, or its watch_port is live (the
// port exists, its link is up and it is not administratively down), or its
// watch_group is live (one of its buckets is). Port state and config
// changes invalidate the megaflows (checkLinks, portMod, AddPort, DelPort),
// so liveness is re-evaluated for every later packet.
//
// Counters: a translation records the group and the bucket(s) it passed
// (xlate.count); every packet of the resulting megaflow is credited to
// them. Packets that a meter drops before the group are counted too (the
// megaflow is the unit of accounting).

// group is one entry of the group table.
type group struct {
	id      uint32
	typ     uint8
	buckets []bucket
	created time.Time
	stats   counter
}

// bucket is a group bucket as the controller sent it, with its counters.
type bucket struct {
	ofp.Bucket
	stats counter
}

// Limits of the group table. They are variables so that tests can lower
// them (before creating a bridge).
var (
	// maxGroups bounds the number of groups, of all types together
	// (reported as every type's max_groups).
	maxGroups = 65536
	// maxBuckets bounds the buckets of one group.
	maxBuckets = 1024
)

// maxGroupChain bounds chains of groups forwarding to groups (group actions
// in buckets): each level may run its buckets in a datapath clone, and the
// datapath nests clones 8 deep.
const maxGroupChain = 8

// maxLivenessDepth bounds the recursion of watch_group liveness (the group
// graph is kept acyclic, so this only guards against bugs).
const maxLivenessDepth = 64

// groupMod applies a GROUP_MOD.
func (br *Bridge) groupMod(m *ofp.GroupMod) error {
	switch m.Command {
	case ofp.GroupAdd, ofp.GroupModify:
	case ofp.GroupDelete:
		if len(m.Buckets) > 0 {
			// OpenFlow 1.3.5 prescribes an error for a delete with buckets.
			return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCInvalidGroup, "group delete with buckets")
		}
		return br.groupDelete(m.GroupID)
	default:
		return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCBadCommand, "group command %d", m.Command)
	}
	if m.GroupID > ofp.GroupMax {
		return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCInvalidGroup, "group id %#x", m.GroupID)
	}
	if err := checkGroupShape(m); err != nil {
		return err
	}

	br.mu.Lock()
	defer br.mu.Unlock()
	old := br.groups[m.GroupID]
	if m.Command == ofp.GroupAdd {
		if old != nil {
			return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCGroupExists, "group %d exists", m.GroupID)
		}
		if len(br.groups) >= maxGroups {
			return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCOutOfGroups, "group table full (%d groups)", maxGroups)
		}
	} else if old == nil {
		return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCUnknownGroup, "group %d does not exist", m.GroupID)
	}
	for i := range m.Buckets {
		b := &m.Buckets[i]
		for _, a := range b.Actions {
			if ga, ok := a.(*ofp.ActionGroup); ok && ga.GroupID == m.GroupID {
				return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCLoop, "bucket %d forwards to its own group %d", i, m.GroupID)
			}
		}
		if err := br.validateActions(b.Actions, nil, false); err != nil {
			return err
		}
		if b.WatchGroup != ofp.GroupAny {
			if b.WatchGroup == m.GroupID {
				return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCLoop, "bucket %d watches its own group", i)
			}
			if br.groups[b.WatchGroup] == nil {
				return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCBadWatch, "bucket %d watches group %d, which does not exist", i, b.WatchGroup)
			}
		}
	}
	if err := br.checkGroupGraphLocked(m.GroupID, m.Buckets); err != nil {
		return err
	}

	g := &group{id: m.GroupID, typ: m.GroupType, created: time.Now(), buckets: make([]bucket, len(m.Buckets))}
	for i := range m.Buckets {
		g.buckets[i].Bucket = m.Buckets[i]
	}
	br.groups[m.GroupID] = g
	br.invalidateLocked()
	return nil
}

// checkGroupShape checks what a group add or modify says about itself: its
// type and the buckets that type allows (the spec's INVALID_GROUP for
// fields undefined for the type, as Open vSwitch reads it).
func checkGroupShape(m *ofp.GroupMod) error {
	if m.GroupType > ofp.GroupTypeFastFailover {
		return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCBadType, "group type %d", m.GroupType)
	}
	if len(m.Buckets) > maxBuckets {
		return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCOutOfBuckets, "%d buckets (at most %d)", len(m.Buckets), maxBuckets)
	}
	if m.GroupType == ofp.GroupTypeIndirect && len(m.Buckets) != 1 {
		return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCInvalidGroup, "indirect group with %d buckets", len(m.Buckets))
	}
	for i := range m.Buckets {
		b := &m.Buckets[i]
		if b.Weight != 0 && m.GroupType != ofp.GroupTypeSelect {
			return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCInvalidGroup, "bucket %d: weight %d in a group that is not select", i, b.Weight)
		}
		watches := b.WatchPort != ofp.PortAny || b.WatchGroup != ofp.GroupAny
		switch m.GroupType {
		case ofp.GroupTypeAll, ofp.GroupTypeIndirect:
			if watches {
				return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCWatchUnsupported, "bucket %d: %s groups do not watch", i, groupTypeName(m.GroupType))
			}
		case ofp.GroupTypeFastFailover:
			if !watches {
				return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCBadWatch, "bucket %d of a fast failover group watches nothing", i)
			}
		}
		if b.WatchPort != ofp.PortAny && !validWatchPort(b.WatchPort) {
			return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCBadWatch, "bucket %d: watch_port %s", i, portName(b.WatchPort))
		}
		if b.WatchGroup != ofp.GroupAny && b.WatchGroup > ofp.GroupMax {
			return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCBadWatch, "bucket %d: watch_group %#x", i, b.WatchGroup)
		}
	}
	return nil
}

// validWatchPort reports whether a bucket can watch port no: a physical
// port number (it need not exist yet: a missing port is not live) or LOCAL.
func validWatchPort(no uint32) bool { return (no != 0 && no < ofp.PortMax) || no == ofp.PortLocal }

func groupTypeName(t uint8) string {
	switch t {
	case ofp.GroupTypeAll:
		return "all"
	case ofp.GroupTypeSelect:
		return "select"
	case ofp.GroupTypeIndirect:
		return "indirect"
	case ofp.GroupTypeFastFailover:
		return "fast failover"
	}
	return "unknown"
}

// groupEdges calls fn for every group that buckets forward to (group
// actions) and, when watch is set, every group they watch.
func groupEdges(buckets []ofp.Bucket, watch bool, fn func(id uint32, forward bool)) {
	for i := range buckets {
		for _, a := range buckets[i].Actions {
			if ga, ok := a.(*ofp.ActionGroup); ok {
				fn(ga.GroupID, true)
			}
		}
		if watch && buckets[i].WatchGroup != ofp.GroupAny {
			fn(buckets[i].WatchGroup, false)
		}
	}
}

// ofpBuckets returns a group's buckets as the controller sent them.
func (g *group) ofpBuckets() []ofp.Bucket {
	out := make([]ofp.Bucket, len(g.buckets))
	for i := range g.buckets {
		out[i] = g.buckets[i].Bucket
	}
	return out
}

// checkGroupGraphLocked checks that giving group id the buckets nb keeps
// the group graph (forwarding and watching) acyclic and chains of
// forwarding groups at most maxGroupChain long.
func (br *Bridge) checkGroupGraphLocked(id uint32, nb []ofp.Bucket) error {
	bucketsOf := func(g uint32) []ofp.Bucket {
		if g == id {
			return nb
		}
		if e := br.groups[g]; e != nil {
			return e.ofpBuckets()
		}
		return nil
	}
	// Cycles: the graph was acyclic, so a new cycle runs through id.
	const (
		visiting = 1
		done     = 2
	)
	state := map[uint32]int{}
	down := map[uint32]int{} // longest forwarding chain from a group, in groups
	var loop bool
	var visit func(g uint32) int
	visit = func(g uint32) int {
		switch state[g] {
		case visiting:
			loop = true
			return 0
		case done:
			return down[g]
		}
		state[g] = visiting
		depth := 1
		groupEdges(bucketsOf(g), true, func(c uint32, forward bool) {
			if d := visit(c); forward {
				depth = max(depth, 1+d)
			}
		})
		state[g] = done
		down[g] = depth
		return depth
	}
	below := visit(id)
	if loop {
		return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCLoop, "group %d would be part of a loop of groups", id)
	}
	// Longest forwarding chain from any group down to id (id counted once).
	up := map[uint32]int{id: 1}
	var above func(g uint32) int
	above = func(g uint32) int {
		if d, ok := up[g]; ok {
			return d
		}
		up[g] = 0 // not reaching id unless shown otherwise
		best := 0
		groupEdges(bucketsOf(g), false, func(c uint32, _ bool) {
			if d := above(c); d > 0 {
				best = max(best, d+1)
			}
		})
		up[g] = best
		return best
	}
	top := 1
	for g := range br.groups {
		top = max(top, above(g))
	}
	if n := top + below - 1; n > maxGroupChain {
		return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCChainingUnsupported,
			"a chain of %d groups forwarding to groups (at most %d)", n, maxGroupChain)
	}
	return nil
}

// groupDelete deletes group id (OFPG_ALL: every group) and the flows that
// forward to it, which get FLOW_REMOVED with reason GROUP_DELETE. Deleting
// a group that does not exist does nothing; one that another group
// forwards to is refused with CHAINED_GROUP.
func (br *Bridge) groupDelete(id uint32) error {
	if id > ofp.GroupMax && id != ofp.GroupAll {
		return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCInvalidGroup, "group id %#x", id)
	}
	br.mu.Lock()
	defer br.mu.Unlock()
	var rules []*Rule
	if id == ofp.GroupAll {
		if len(br.groups) == 0 {
			return nil
		}
		for _, t := range br.tables {
			t.cls.forEach(func(r *Rule) bool {
				if ruleUsesGroup(r, ofp.GroupAny) {
					rules = append(rules, r)
				}
				return true
			})
		}
	} else {
		if br.groups[id] == nil {
			return nil
		}
		for oid, o := range br.groups {
			if oid == id {
				continue
			}
			chained := false
			groupEdges(o.ofpBuckets(), false, func(c uint32, _ bool) { chained = chained || c == id })
			if chained {
				return ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCChainedGroup, "group %d forwards to group %d", oid, id)
			}
		}
		mf, _ := convertMatch(&ofp.Match{})
		rules = br.selectRulesLocked(ofp.TableAll, mf, false, 0, 0, 0, ofp.PortAny, id)
	}
	br.removeRulesLocked(rules, ofp.RemovedGroupDelete)
	if id == ofp.GroupAll {
		clear(br.groups)
	} else {
		delete(br.groups, id)
	}
	br.invalidateLocked()
	return nil
}

// ruleUsesGroup reports whether a rule's apply- or write-actions contain a
// group action for group id (OFPG_ANY: any group).
func ruleUsesGroup(r *Rule, id uint32) bool {
	for _, in := range r.Instructions {
		var acts []ofp.Action
		switch in := in.(type) {
		case *ofp.InstrApplyActions:
			acts = in.Actions
		case *ofp.InstrWriteActions:
			acts = in.Actions
		}
		for _, a := range acts {
			if ga, ok := a.(*ofp.ActionGroup); ok && (id == ofp.GroupAny || ga.GroupID == id) {
				return true
			}
		}
	}
	return false
}

// xlateGroup translates a group action (see the comment at the top).
func (br *Bridge) xlateGroup(x *xlate, id uint32) {
	g := br.groups[id]
	if g == nil {
		x.traceWarn("output to nonexistent group %d", id)
		return
	}
	x.work++
	if x.work > maxResubmits {
		x.tracef("pipeline too long: drop")
		return
	}
	x.count(&g.stats)
	switch g.typ {
	case ofp.GroupTypeAll:
		for i := range g.buckets {
			br.xlateBucket(x, g, i)
		}
	case ofp.GroupTypeIndirect:
		if len(g.buckets) > 0 {
			br.xlateBucket(x, g, 0)
		}
	case ofp.GroupTypeSelect:
		if i := br.selectBucket(x, g); i >= 0 {
			x.tracef("using bucket %d", i)
			br.xlateBucket(x, g, i)
		} else {
			x.tracef("no live bucket")
		}
	case ofp.GroupTypeFastFailover:
		for i := range g.buckets {
			if br.bucketLive(&g.buckets[i].Bucket, 0) {
				x.tracef("using bucket %d", i)
				br.xlateBucket(x, g, i)
				return
			}
		}
		x.tracef("no live bucket")
	}
}

// xlateBucket translates bucket i of g on the packet as it is now, leaving
// the translation state as it found it.
func (br *Bridge) xlateBucket(x *xlate, g *group, i int) {
	defer x.traceBucket(i)()
	b := &g.buckets[i]
	x.count(&b.stats)
	flow, metadata := x.flow, x.metadata
	outer := x.acts
	x.acts = nil
	x.doActions(b.Actions, nil, ofp.TableAll)
	nested := x.acts
	x.acts = outer
	x.flow, x.metadata = flow, metadata
	if len(nested) == 0 {
		return
	}
	if onlyOutputs(nested) {
		x.acts = append(x.acts, nested...)
		return
	}
	x.acts = append(x.acts, datapath.Action{Type: datapath.ActClone, Nested: nested})
}

// onlyOutputs reports whether acts leave the packet as it is.
func onlyOutputs(acts datapath.Actions) bool {
	for i := range acts {
		if t := acts[i].Type; t != datapath.ActOutput && t != datapath.ActUserspace {
			return false
		}
	}
	return true
}

// selectBucket picks a select group's bucket for the packet (see the
// comment at the top), or -1 if none is live.
func (br *Bridge) selectBucket(x *xlate, g *group) int {
	var total uint64
	live, lastLive := 0, -1
	weighted := 0
	for i := range g.buckets {
		b := &g.buckets[i]
		if !br.bucketLive(&b.Bucket, 0) {
			continue
		}
		live++
		lastLive = i
		if b.Weight > 0 {
			total += uint64(b.Weight)
			weighted++
		}
	}
	if live == 0 {
		return -1
	}
	equal := total == 0 // every live bucket has weight 0: take them as equal
	if equal {
		total = uint64(live)
	}
	if (equal && live == 1) || (!equal && weighted == 1) {
		// No choice to make: no field matters.
		for i := range g.buckets {
			b := &g.buckets[i]
			if br.bucketLive(&b.Bucket, 0) && (equal || b.Weight > 0) {
				return i
			}
		}
	}
	pick := x.selectHash() % total
	for i := range g.buckets {
		b := &g.buckets[i]
		if !br.bucketLive(&b.Bucket, 0) {
			continue
		}
		w := uint64(b.Weight)
		if equal {
			w = 1
		}
		if pick < w {
			return i
		}
		pick -= w
	}
	return lastLive
}

// selectHash hashes the fields a select group spreads flows by and adds
// them to the megaflow mask.
func (x *xlate) selectHash() uint64 {
	var m datapath.Key
	datapath.FieldEthSrc.Exact(&m)
	datapath.FieldEthDst.Exact(&m)
	datapath.FieldEthType.Exact(&m)
	switch datapath.FieldEthType.Get(&x.flow) {
	case 0x0800, 0x0806:
		datapath.FieldIPv4Src.Exact(&m)
		datapath.FieldIPv4Dst.Exact(&m)
		datapath.FieldNwProto.Exact(&m)
	case 0x86dd:
		datapath.FieldIPv6SrcHi.Exact(&m)
		datapath.FieldIPv6SrcLo.Exact(&m)
		datapath.FieldIPv6DstHi.Exact(&m)
		datapath.FieldIPv6DstLo.Exact(&m)
		datapath.FieldNwProto.Exact(&m)
	}
	if t := datapath.FieldEthType.Get(&x.flow); t == 0x0800 || t == 0x86dd {
		switch datapath.FieldNwProto.Get(&x.flow) {
		case 6, 17, 132:
			datapath.FieldTpSrc.Exact(&m)
			datapath.FieldTpDst.Exact(&m)
		}
	}
	x.wc.Or(&m)
	h := uint64(0x9e3779b97f4a7c15)
	for i := range m {
		if m[i] != 0 {
			hi, lo := bits.Mul64(h^(x.flow[i]&m[i]), 0xff51afd7ed558ccd)
			h = hi ^ lo ^ uint64(i)
		}
	}
	// A final avalanche so that the low bits (taken modulo the total
	// weight) depend on every input bit.
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// portLive reports whether port no exists, its link is up and it is not
// administratively down. mu must be held.
func (br *Bridge) portLive(no uint32) bool {
	p := br.ports[no]
	return p != nil && p.state&ofp.PortStateLinkDown == 0 && p.config&ofp.PortConfigDown == 0
}

// bucketLive reports whether a bucket is live. mu must be held.
func (br *Bridge) bucketLive(b *ofp.Bucket, depth int) bool {
	if b.WatchPort == ofp.PortAny && b.WatchGroup == ofp.GroupAny {
		return true
	}
	if b.WatchPort != ofp.PortAny && br.portLive(b.WatchPort) {
		return true
	}
	return b.WatchGroup != ofp.GroupAny && br.groupLive(b.WatchGroup, depth+1)
}

// groupLive reports whether a group is live: one of its buckets is.
func (br *Bridge) groupLive(id uint32, depth int) bool {
	g := br.groups[id]
	if g == nil || depth > maxLivenessDepth {
		return false
	}
	for i := range g.buckets {
		if br.bucketLive(&g.buckets[i].Bucket, depth) {
			return true
		}
	}
	return false
}

// groupIDsLocked returns id (if it exists) or, for OFPG_ALL, every group
// id, in ascending order.
func (br *Bridge) groupIDsLocked(id uint32) []uint32 {
	if id != ofp.GroupAll {
		if br.groups[id] == nil {
			return nil
		}
		return []uint32{id}
	}
	ids := make([]uint32, 0, len(br.groups))
	for gid := range br.groups {
		ids = append(ids, gid)
	}
	slices.Sort(ids)
	return ids
}

// groupRefCountsLocked counts, per group, the flows and groups that
// forward to it directly.
func (br *Bridge) groupRefCountsLocked() map[uint32]uint32 {
	refs := map[uint32]uint32{}
	seen := map[uint32]bool{}
	count := func(ids func(fn func(uint32))) {
		clear(seen)
		ids(func(id uint32) {
			if !seen[id] {
				seen[id] = true
				refs[id]++
			}
		})
	}
	for _, t := range br.tables {
		if t.cls.n == 0 {
			continue
		}
		t.cls.forEach(func(r *Rule) bool {
			count(func(fn func(uint32)) {
				for _, in := range r.Instructions {
					var acts []ofp.Action
					switch in := in.(type) {
					case *ofp.InstrApplyActions:
						acts = in.Actions
					case *ofp.InstrWriteActions:
						acts = in.Actions
					}
					for _, a := range acts {
						if ga, ok := a.(*ofp.ActionGroup); ok {
							fn(ga.GroupID)
						}
					}
				}
			})
			return true
		})
	}
	for _, g := range br.groups {
		count(func(fn func(uint32)) {
			groupEdges(g.ofpBuckets(), false, func(c uint32, _ bool) { fn(c) })
		})
	}
	return refs
}

// groupStats answers a group stats request (OFPG_ALL: every group; a group
// that does not exist: an empty reply, as Open vSwitch answers).
func (br *Bridge) groupStats(id uint32) ([]ofp.GroupStats, error) {
	br.pushStats()
	br.mu.RLock()
	defer br.mu.RUnlock()
	ids := br.groupIDsLocked(id)
	if len(ids) == 0 {
		return nil, nil
	}
	refs := br.groupRefCountsLocked()
	now := time.Now()
	out := make([]ofp.GroupStats, len(ids))
	for i, gid := range ids {
		g := br.groups[gid]
		d := max(now.Sub(g.created), 0)
		s := ofp.GroupStats{
			GroupID:      gid,
			RefCount:     refs[gid],
			PacketCount:  g.stats.packets.Load(),
			ByteCount:    g.stats.bytes.Load(),
			DurationSec:  uint32(d / time.Second),
			DurationNsec: uint32(d % time.Second),
			Buckets:      make([]ofp.BucketCounter, len(g.buckets)),
		}
		for j := range g.buckets {
			s.Buckets[j] = ofp.BucketCounter{PacketCount: g.buckets[j].stats.packets.Load(), ByteCount: g.buckets[j].stats.bytes.Load()}
		}
		out[i] = s
	}
	return out, nil
}

// groupDescs answers a group description request: every group, in
// ascending order, with its buckets exactly as they were sent.
func (br *Bridge) groupDescs() []ofp.GroupDesc {
	br.mu.RLock()
	defer br.mu.RUnlock()
	ids := br.groupIDsLocked(ofp.GroupAll)
	out := make([]ofp.GroupDesc, len(ids))
	for i, gid := range ids {
		g := br.groups[gid]
		out[i] = ofp.GroupDesc{GroupType: g.typ, GroupID: gid, Buckets: g.ofpBuckets()}
	}
	return out
}

// groupActions is the OFPAT_* bitmap of the actions buckets may hold.
const groupActions = 1<<ofp.ActTypeOutput | 1<<ofp.ActTypeCopyTTLOut | 1<<ofp.ActTypeCopyTTLIn |
	1<<ofp.ActTypeSetMPLSTTL | 1<<ofp.ActTypeDecMPLSTTL | 1<<ofp.ActTypePushVLAN | 1<<ofp.ActTypePopVLAN |
	1<<ofp.ActTypePushMPLS | 1<<ofp.ActTypePopMPLS | 1<<ofp.ActTypeSetQueue | 1<<ofp.ActTypeGroup |
	1<<ofp.ActTypeSetNwTTL | 1<<ofp.ActTypeDecNwTTL | 1<<ofp.ActTypeSetField |
	1<<ofp.ActTypePushPBB | 1<<ofp.ActTypePopPBB

// groupFeatures answers a group features request.
func groupFeatures() *ofp.GroupFeaturesReply {
	r := &ofp.GroupFeaturesReply{
		Types: 1<<ofp.GroupTypeAll | 1<<ofp.GroupTypeSelect | 1<<ofp.GroupTypeIndirect | 1<<ofp.GroupTypeFastFailover,
		Capabilities: ofp.GroupCapSelectWeight | ofp.GroupCapSelectLiveness | ofp.GroupCapChaining |
			ofp.GroupCapChainingChecks,
	}
	for i := range r.MaxGroups {
		r.MaxGroups[i] = uint32(maxGroups)
		r.Actions[i] = groupActions
	}
	return r
}
