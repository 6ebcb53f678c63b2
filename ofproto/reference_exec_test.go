package ofproto

import (
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/google/gopacket/layers"

	"github.com/govs/govs/ofproto/ofp"
)

// ---- packet processing ----

// refFrame is one frame sent on a port.
type refFrame struct {
	port uint32
	data []byte
}

// refPacketIn is one predicted packet-in.
type refPacketIn struct {
	reason   uint8
	tableID  uint8
	cookie   uint64
	totalLen uint16
	inPort   uint32
	metadata uint64
	tunID    uint64
	data     []byte
	// noRule: sent from the action set or a group bucket, where no rule
	// applies (the comparison may be told to ignore its table_id, see the
	// bug note in differential_test.go).
	noRule bool
}

func (p *refPacketIn) String() string {
	return fmt.Sprintf("packet-in(reason=%d table=%d cookie=%#x total_len=%d in_port=%d metadata=%#x tun_id=%#x data=%d bytes %x)",
		p.reason, p.tableID, p.cookie, p.totalLen, p.inPort, p.metadata, p.tunID, len(p.data), p.data)
}

// refOutcome is one possible result of a packet.
type refOutcome struct {
	frames []refFrame
	pins   []refPacketIn
	learn  map[refMACKey]uint32 // NORMAL's learning, to commit if this outcome happened
	trace  []string
}

// framesOn returns the frames sent on port, in order.
func (o *refOutcome) framesOn(port uint32) [][]byte {
	var out [][]byte
	for _, f := range o.frames {
		if f.port == port {
			out = append(out, f.data)
		}
	}
	return out
}

// refResult is the prediction for one packet: one outcome per
// combination of select-group bucket choices (one, without select
// groups). ambiguous is set when OpenFlow does not define the result
// (two overlapping rules of the same priority): the packet is not checked.
type refResult struct {
	outcomes  []refOutcome
	ambiguous string
}

// refMaxBranches bounds the outcomes enumerated for one packet.
const refMaxBranches = 64

// refMaxDepth bounds group chaining.
const refMaxDepth = 8

// process predicts what the switch does with frame received on inPort.
// The MAC learning table is not changed: commit the outcome that
// happened.
func (s *refSwitch) process(inPort uint32, frame []byte) refResult {
	var res refResult
	// Enumerate every sequence of select-bucket choices, odometer style.
	var prefix []int
	for len(res.outcomes) < refMaxBranches {
		ch := &refChooser{prefix: prefix}
		c := &refCtx{s: s, inPort: inPort, choose: ch.choose, learn: map[refMACKey]uint32{}}
		pkt, err := decodeRefPkt(frame)
		if err != nil {
			res.ambiguous = "reference cannot decode the packet: " + err.Error()
			return res
		}
		c.pkt = pkt
		c.run()
		if c.ambiguous != "" {
			res.ambiguous = c.ambiguous
			return res
		}
		res.outcomes = append(res.outcomes, refOutcome{frames: c.frames, pins: c.pins, learn: c.learn, trace: c.trace})
		// Next choice sequence: advance the last choice that has options
		// left, dropping the ones after it.
		next := slices.Clone(ch.prefix)
		for len(next) > 0 && next[len(next)-1]+1 >= ch.counts[len(next)-1] {
			next = next[:len(next)-1]
		}
		if len(next) == 0 {
			return res
		}
		next[len(next)-1]++
		prefix = next
	}
	return res
}

// commit applies an outcome's MAC learning.
func (s *refSwitch) commit(o *refOutcome) {
	for k, p := range o.learn {
		s.macs[k] = p
	}
}

// refChooser replays a prefix of choices and records the number of
// options at every choice point.
type refChooser struct {
	prefix []int
	counts []int
	pos    int
}

func (ch *refChooser) choose(n int) int {
	if ch.pos < len(ch.prefix) {
		ch.counts = append(ch.counts, n)
		v := ch.prefix[ch.pos]
		ch.pos++
		return v
	}
	ch.prefix = append(ch.prefix, 0)
	ch.counts = append(ch.counts, n)
	ch.pos++
	return 0
}

// refCtx is the state of one packet's walk through the pipeline.
type refCtx struct {
	s      *refSwitch
	inPort uint32
	pkt    *refPkt
	choose func(n int) int

	metadata  uint64
	tunID     uint64
	table     uint8 // table being executed (the last one looked up)
	actionSet []ofp.Action
	stop      bool // the packet was dropped (invalid TTL)
	depth     int  // group nesting

	frames    []refFrame
	pins      []refPacketIn
	learn     map[refMACKey]uint32
	trace     []string
	ambiguous string
}

func (c *refCtx) tracef(format string, args ...any) {
	c.trace = append(c.trace, fmt.Sprintf(format, args...))
}

// lookup returns the highest-priority rule of table id matching the
// packet, nil for none.
func (c *refCtx) lookup(id uint8) *refRule {
	f := c.fields()
	var best *refRule
	for _, r := range c.s.tables[id] {
		if !r.m.matches(f) {
			continue
		}
		switch {
		case best == nil || r.priority > best.priority:
			best = r
		case r.priority == best.priority:
			c.ambiguous = fmt.Sprintf("table %d: two matching rules of priority %d: %s and %s", id, r.priority, best, r)
		}
	}
	return best
}

func (c *refCtx) run() {
	id := uint8(0)
	for {
		c.table = id
		r := c.lookup(id)
		if r == nil {
			c.tracef("table %d: no match: drop", id)
			return
		}
		c.tracef("table %d: %s", id, r)
		next := -1
		var apply, write []ofp.Action
		var clearSet bool
		var md *ofp.InstrWriteMetadata
		for _, in := range r.instrs {
			switch in := in.(type) {
			case *ofp.InstrApplyActions:
				apply = in.Actions
			case *ofp.InstrClearActions:
				clearSet = true
			case *ofp.InstrWriteActions:
				write = in.Actions
			case *ofp.InstrWriteMetadata:
				md = in
			case *ofp.InstrGotoTable:
				next = int(in.TableID)
			}
		}
		c.doActions(apply, r, false)
		if c.stop {
			return
		}
		if clearSet {
			c.actionSet = nil
		}
		for _, a := range write {
			c.writeAction(a)
		}
		if md != nil {
			c.metadata = c.metadata&^md.Mask | md.Metadata&md.Mask
		}
		if next < 0 {
			c.executeActionSet()
			return
		}
		id = uint8(next)
	}
}

// sameSlot: the action set holds one action of each type, and one
// set_field per field.
func refSameSlot(a, b ofp.Action) bool {
	if a.ActionType() != b.ActionType() {
		return false
	}
	if sa, ok := a.(*ofp.ActionSetField); ok {
		return sa.Field.Field == b.(*ofp.ActionSetField).Field.Field
	}
	return true
}

func (c *refCtx) writeAction(a ofp.Action) {
	for i, b := range c.actionSet {
		if refSameSlot(a, b) {
			c.actionSet[i] = a
			return
		}
	}
	c.actionSet = append(c.actionSet, a)
}

// refSetOrder is the position of an action in the action set's execution
// (OpenFlow 1.3.5 section 5.10): copy TTL inwards, pop, push-MPLS,
// push-PBB, push-VLAN, copy TTL outwards, decrement TTL, set, qos, group,
// output. set_nw_ttl and set_mpls_ttl are counted with "set", as Open
// vSwitch does.
func refSetOrder(a ofp.Action) int {
	switch a.(type) {
	case *ofp.ActionCopyTTLIn:
		return 1
	case *ofp.ActionPopVLAN, *ofp.ActionPopMPLS, *ofp.ActionPopPBB:
		return 2
	case *ofp.ActionPushMPLS:
		return 3
	case *ofp.ActionPushPBB:
		return 4
	case *ofp.ActionPushVLAN:
		return 5
	case *ofp.ActionCopyTTLOut:
		return 6
	case *ofp.ActionDecNwTTL, *ofp.ActionDecMPLSTTL:
		return 7
	case *ofp.ActionSetField, *ofp.ActionSetNwTTL, *ofp.ActionSetMPLSTTL:
		return 8
	case *ofp.ActionSetQueue:
		return 9
	case *ofp.ActionGroup:
		return 10
	case *ofp.ActionOutput:
		return 11
	}
	return 12
}

func (c *refCtx) executeActionSet() {
	set := slices.Clone(c.actionSet)
	slices.SortStableFunc(set, func(a, b ofp.Action) int { return refSetOrder(a) - refSetOrder(b) })
	if slices.ContainsFunc(set, func(a ofp.Action) bool { _, ok := a.(*ofp.ActionGroup); return ok }) {
		set = slices.DeleteFunc(set, func(a ofp.Action) bool { _, ok := a.(*ofp.ActionOutput); return ok })
	}
	if len(set) > 0 {
		c.tracef("action set: %s", formatActions(set))
	}
	c.doActions(set, nil, true)
}

// doActions executes an action list. r is the rule it belongs to (nil for
// the action set and group buckets).
func (c *refCtx) doActions(acts []ofp.Action, r *refRule, actionSet bool) {
	for _, a := range acts {
		if c.stop {
			return
		}
		switch a := a.(type) {
		case *ofp.ActionOutput:
			c.output(a, r, actionSet)
		case *ofp.ActionSetField:
			c.setField(&a.Field)
		case *ofp.ActionPushVLAN:
			c.pushVLAN(layers.EthernetType(a.EtherType))
		case *ofp.ActionPopVLAN:
			if len(c.pkt.tags) > 0 {
				c.pkt.tags = c.pkt.tags[1:]
			}
		case *ofp.ActionSetNwTTL:
			c.setTTL(a.TTL)
		case *ofp.ActionDecNwTTL:
			c.decTTL(r, actionSet)
		case *ofp.ActionGroup:
			c.group(a.GroupID)
		case *ofp.ActionSetQueue:
		default:
			c.ambiguous = fmt.Sprintf("reference does not model action %s", formatAction(a))
		}
	}
}

func (c *refCtx) emit(port uint32) {
	c.tracef("output:%d", port)
	c.frames = append(c.frames, refFrame{port: port, data: c.pkt.encode()})
}

// outputPort sends to a port, never back to the input port (that takes
// IN_PORT) and never to a port the switch does not have.
func (c *refCtx) outputPort(port uint32) {
	if port == c.inPort || !c.s.hasPort(port) {
		c.tracef("output:%d: skipped (input port or no such port)", port)
		return
	}
	c.emit(port)
}

func (c *refCtx) output(a *ofp.ActionOutput, r *refRule, actionSet bool) {
	switch a.Port {
	case ofp.PortInPort:
		c.emit(c.inPort)
	case ofp.PortFlood, ofp.PortAll:
		for _, p := range c.s.ports {
			if p != c.inPort {
				c.emit(p)
			}
		}
	case ofp.PortController:
		reason := uint8(ofp.ReasonAction)
		if r != nil && r.tableMiss() {
			reason = ofp.ReasonNoMatch
		}
		c.packetIn(reason, a.MaxLen, r, actionSet)
	case ofp.PortNormal:
		c.normal()
	case ofp.PortTable, ofp.PortAny:
	default:
		c.outputPort(a.Port)
	}
}

// packetIn sends the packet as it is now to the controller. The cookie is
// the rule's, or all ones where no rule applies (action set, group
// bucket), as section 7.4.1 says.
func (c *refCtx) packetIn(reason uint8, maxLen uint16, r *refRule, actionSet bool) {
	data := c.pkt.encode()
	pin := refPacketIn{reason: reason, tableID: c.table, cookie: ^uint64(0), totalLen: uint16(len(data)),
		inPort: c.inPort, metadata: c.metadata, tunID: c.tunID, noRule: r == nil}
	if r != nil {
		pin.cookie = r.cookie
	}
	if maxLen != ofp.ControllerMaxLenNoBuffer && int(maxLen) < len(data) {
		data = data[:maxLen]
	}
	pin.data = data
	c.tracef("%s", pin.String())
	c.pins = append(c.pins, pin)
}

// normal is the NORMAL action of this switch: a MAC-learning switch per
// VLAN (the outer tag's VID, 0 when untagged) over every port.
func (c *refCtx) normal() {
	var vlan uint16
	if len(c.pkt.tags) > 0 {
		vlan = c.pkt.tags[0].tag.VLANIdentifier
	}
	src, dst := [6]byte(c.pkt.eth.SrcMAC), [6]byte(c.pkt.eth.DstMAC)
	if src[0]&1 == 0 {
		c.learn[refMACKey{vlan, src}] = c.inPort
	}
	if dst[0]&1 == 0 {
		k := refMACKey{vlan, dst}
		port, ok := c.learn[k]
		if !ok {
			port, ok = c.s.macs[k]
		}
		if ok {
			c.tracef("normal: %s learned on %d", net.HardwareAddr(dst[:]), port)
			c.outputPort(port)
			return
		}
	}
	c.tracef("normal: flood")
	for _, p := range c.s.ports {
		if p != c.inPort {
			c.emit(p)
		}
	}
}

func (c *refCtx) pushVLAN(tpid layers.EthernetType) {
	if len(c.pkt.tags) >= 2 {
		// The switch's flow key, like Open vSwitch's, holds two tags, and
		// its datapath parses no deeper: a third tag hides the packet's
		// L3 header from later actions there. Not checked.
		c.ambiguous = "push_vlan onto two tags: the switch tracks two"
		return
	}
	// The new tag copies VID and PCP from the outer tag, 0 without one.
	var t layers.Dot1Q
	if len(c.pkt.tags) > 0 {
		t.VLANIdentifier = c.pkt.tags[0].tag.VLANIdentifier
		t.Priority = c.pkt.tags[0].tag.Priority
	}
	c.pkt.tags = slices.Insert(c.pkt.tags, 0, refTag{tpid: tpid, tag: t})
}

func (c *refCtx) setTTL(ttl uint8) {
	switch {
	case c.pkt.ip4 != nil:
		c.pkt.ip4.TTL = ttl
	case c.pkt.ip6 != nil:
		c.pkt.ip6.HopLimit = ttl
	}
}

// decTTL decrements the IP TTL. A TTL that would reach 0 drops the
// packet (the rest of the pipeline does not run), and sends it to the
// controller with reason INVALID_TTL if the switch config says so.
func (c *refCtx) decTTL(r *refRule, actionSet bool) {
	var ttl *uint8
	switch {
	case c.pkt.ip4 != nil:
		ttl = &c.pkt.ip4.TTL
	case c.pkt.ip6 != nil:
		ttl = &c.pkt.ip6.HopLimit
	default:
		return
	}
	if *ttl > 1 {
		*ttl--
		return
	}
	c.tracef("dec_ttl: TTL %d expires: drop", *ttl)
	if c.s.invalidTTLToController {
		c.packetIn(ofp.ReasonInvalidTTL, c.s.missSendLen, r, actionSet)
	}
	c.stop = true
}

func (c *refCtx) setField(o *ofp.OXM) {
	p := c.pkt
	v := o.Value
	ip := func(b []byte) net.IP { return net.IP(slices.Clone(b)) }
	switch ofp.OXMField(o.Field) {
	case ofp.OXMEthDst:
		p.eth.DstMAC = slices.Clone(v)
	case ofp.OXMEthSrc:
		p.eth.SrcMAC = slices.Clone(v)
	case ofp.OXMVlanVID:
		if len(p.tags) > 0 {
			p.tags[0].tag.VLANIdentifier = binary.BigEndian.Uint16(v) & 0x0fff
		}
	case ofp.OXMVlanPCP:
		if len(p.tags) > 0 {
			p.tags[0].tag.Priority = v[0] & 7
		}
	case ofp.OXMIPDSCP:
		switch {
		case p.ip4 != nil:
			p.ip4.TOS = v[0]<<2 | p.ip4.TOS&3
		case p.ip6 != nil:
			p.ip6.TrafficClass = v[0]<<2 | p.ip6.TrafficClass&3
		}
	case ofp.OXMIPECN:
		switch {
		case p.ip4 != nil:
			p.ip4.TOS = p.ip4.TOS&^3 | v[0]&3
		case p.ip6 != nil:
			p.ip6.TrafficClass = p.ip6.TrafficClass&^3 | v[0]&3
		}
	case ofp.OXMIPv4Src:
		if p.ip4 != nil {
			p.ip4.SrcIP = ip(v)
		}
	case ofp.OXMIPv4Dst:
		if p.ip4 != nil {
			p.ip4.DstIP = ip(v)
		}
	case ofp.OXMIPv6Src:
		if p.ip6 != nil {
			p.ip6.SrcIP = ip(v)
		}
	case ofp.OXMIPv6Dst:
		if p.ip6 != nil {
			p.ip6.DstIP = ip(v)
		}
	case ofp.OXMIPv6Flabel:
		if p.ip6 != nil {
			p.ip6.FlowLabel = binary.BigEndian.Uint32(v) & 0xfffff
		}
	case ofp.OXMTCPSrc:
		if p.tcp != nil {
			p.tcp.SrcPort = layers.TCPPort(binary.BigEndian.Uint16(v))
		}
	case ofp.OXMTCPDst:
		if p.tcp != nil {
			p.tcp.DstPort = layers.TCPPort(binary.BigEndian.Uint16(v))
		}
	case ofp.OXMUDPSrc:
		if p.udp != nil {
			p.udp.SrcPort = layers.UDPPort(binary.BigEndian.Uint16(v))
		}
	case ofp.OXMUDPDst:
		if p.udp != nil {
			p.udp.DstPort = layers.UDPPort(binary.BigEndian.Uint16(v))
		}
	case ofp.OXMICMPv4Type:
		if p.icmp4 != nil {
			p.icmp4.TypeCode = layers.CreateICMPv4TypeCode(v[0], p.icmp4.TypeCode.Code())
		}
	case ofp.OXMICMPv4Code:
		if p.icmp4 != nil {
			p.icmp4.TypeCode = layers.CreateICMPv4TypeCode(p.icmp4.TypeCode.Type(), v[0])
		}
	case ofp.OXMICMPv6Type:
		if p.icmp6 != nil {
			p.icmp6.TypeCode = layers.CreateICMPv6TypeCode(v[0], p.icmp6.TypeCode.Code())
		}
	case ofp.OXMICMPv6Code:
		if p.icmp6 != nil {
			p.icmp6.TypeCode = layers.CreateICMPv6TypeCode(p.icmp6.TypeCode.Type(), v[0])
		}
	case ofp.OXMArpOp:
		if p.arp != nil {
			p.arp.Operation = binary.BigEndian.Uint16(v)
		}
	case ofp.OXMArpSpa:
		if p.arp != nil {
			p.arp.SourceProtAddress = slices.Clone(v)
		}
	case ofp.OXMArpTpa:
		if p.arp != nil {
			p.arp.DstProtAddress = slices.Clone(v)
		}
	case ofp.OXMArpSha:
		if p.arp != nil {
			p.arp.SourceHwAddress = slices.Clone(v)
		}
	case ofp.OXMArpTha:
		if p.arp != nil {
			p.arp.DstHwAddress = slices.Clone(v)
		}
	case ofp.OXMTunnelID:
		c.tunID = binary.BigEndian.Uint64(v)
	default:
		c.ambiguous = "reference does not model set_field " + ofp.OXMFields[o.Field].Name
	}
}

// bucketLive reports whether a bucket is live: it watches nothing, or its
// watch_port is live (memory ports are always up), or its watch_group is
// (one of that group's buckets is), as Open vSwitch has it.
func (c *refCtx) bucketLive(b *ofp.Bucket) bool {
	if b.WatchPort == ofp.PortAny && b.WatchGroup == ofp.GroupAny {
		return true
	}
	if b.WatchPort != ofp.PortAny && c.s.hasPort(b.WatchPort) {
		return true
	}
	if b.WatchGroup != ofp.GroupAny && c.depth < refMaxDepth {
		if g := c.s.groups[b.WatchGroup]; g != nil {
			c.depth++
			defer func() { c.depth-- }()
			return slices.ContainsFunc(g.buckets, func(x ofp.Bucket) bool { return c.bucketLive(&x) })
		}
	}
	return false
}

// group executes a group. Buckets act on a copy of the packet (and of the
// pipeline fields they can change): what a bucket does is not seen by the
// actions after the group.
func (c *refCtx) group(id uint32) {
	g := c.s.groups[id]
	if g == nil || c.depth >= refMaxDepth {
		c.tracef("group:%d: none", id)
		return
	}
	c.tracef("group:%d", id)
	var run []int
	switch g.typ {
	case ofp.GroupTypeAll:
		for i := range g.buckets {
			run = append(run, i)
		}
	case ofp.GroupTypeIndirect:
		if len(g.buckets) > 0 {
			run = []int{0}
		}
	case ofp.GroupTypeSelect:
		var live []int
		for i := range g.buckets {
			if g.buckets[i].Weight > 0 && c.bucketLive(&g.buckets[i]) {
				live = append(live, i)
			}
		}
		if len(live) > 0 {
			run = []int{live[c.choose(len(live))]}
		}
	case ofp.GroupTypeFastFailover:
		for i := range g.buckets {
			if c.bucketLive(&g.buckets[i]) {
				run = []int{i}
				break
			}
		}
	}
	for _, i := range run {
		saved, tun := c.pkt, c.tunID
		c.pkt = saved.clone()
		c.depth++
		c.tracef("group:%d bucket %d", id, i)
		c.doActions(g.buckets[i].Actions, nil, false)
		c.depth--
		c.pkt, c.tunID = saved, tun
	}
}

// describe summarises an outcome for failure messages.
func (o *refOutcome) describe(hexLen int) string {
	var b strings.Builder
	if len(o.frames) == 0 && len(o.pins) == 0 {
		b.WriteString("    (nothing: dropped)\n")
	}
	for _, f := range o.frames {
		fmt.Fprintf(&b, "    port %d: %d bytes %x\n", f.port, len(f.data), f.data[:min(len(f.data), hexLen)])
	}
	for i := range o.pins {
		fmt.Fprintf(&b, "    %s\n", o.pins[i].String())
	}
	return b.String()
}

// TestReferencePacketRoundTrip: every kind of generated packet decodes and
// encodes back to the same bytes, so that a prediction differs from the
// switch's output only where the pipeline changed the packet.
