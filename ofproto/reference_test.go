package ofproto

// This file is the reference interpreter of the differential test
// (differential_test.go): an OpenFlow 1.3 pipeline written from the
// specification (1.3.5, sections 5 and 7), sharing no code with the
// switch's translation. It does not call xlate, the classifier,
// convertMatch or the datapath: packets are decoded, changed and
// re-encoded with gopacket, matches are compared field by field on the
// OXM values, and each packet is walked through the tables from scratch.
// It uses only the ofp data model (FlowMod, Match, actions, instructions).
//
// What it models:
//   - tables with priorities and masked matches on every OXM field the
//     generator uses (in_port, metadata, tunnel_id, Ethernet, VLAN, IPv4,
//     IPv6, TCP, UDP, ICMPv4, ICMPv6, ARP); no match: drop;
//   - instructions in the spec's order: apply_actions, clear_actions,
//     write_actions, write_metadata, goto_table;
//   - the action set: one action per type (one set_field per field),
//     executed at the end of the pipeline in the order of section 5.10;
//     with a group action the output action is ignored;
//   - actions: output (ports, IN_PORT, FLOOD, ALL, CONTROLLER with
//     max_len, LOCAL, NORMAL as a per-VLAN MAC-learning switch), set_field,
//     push_vlan/pop_vlan, set_nw_ttl, dec_nw_ttl (TTL <= 1: the packet is
//     dropped, and sent to the controller with reason INVALID_TTL when the
//     switch config asks), set_queue, group;
//   - groups: all (each bucket on a copy), indirect, select (every live
//     bucket is a possible outcome: the prediction is a set), fast failover
//     (the first live bucket). Buckets act on a copy of the packet, as in
//     Open vSwitch;
//   - FLOW_MOD add/modify/delete, strict and not, with cookie masks and
//     out_port; GROUP_MOD add/modify/delete (deleting a group removes the
//     flows that use it).
//
// A prediction is, per packet, the frames sent on each port (exact bytes,
// in order) and the packet-ins (reason, table_id, cookie, total_len,
// in_port, metadata, tunnel_id, data).

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/govs/govs/ofproto/ofp"
)

// ---- matches ----

// refField is one field of a canonical match: value already masked, mask
// limited to the bits the field has.
type refField struct {
	present     bool
	value, mask []byte
}

// refMatch is a match in canonical form, indexed by OXM field.
type refMatch [ofp.NumOXMFields]refField

// refFieldBits returns the bits a field's value can have (big-endian, the
// field's length): vlan_vid has 13, ip_dscp 6, and so on.
func refFieldBits(f ofp.OXMField) []byte {
	n := ofp.OXMFields[f].Len
	b := bytes.Repeat([]byte{0xff}, n)
	var bits int
	switch f {
	case ofp.OXMVlanVID:
		bits = 13
	case ofp.OXMVlanPCP, ofp.OXMMPLSTC:
		bits = 3
	case ofp.OXMIPDSCP:
		bits = 6
	case ofp.OXMIPECN:
		bits = 2
	case ofp.OXMIPv6Flabel, ofp.OXMMPLSLabel:
		bits = 20
	case ofp.OXMMPLSBOS:
		bits = 1
	case ofp.OXMIPv6Exthdr:
		bits = 9
	default:
		return b
	}
	for i := range b {
		hi := (n - i) * 8 // bit number above this byte
		switch {
		case hi-8 >= bits:
			b[i] = 0
		case hi > bits:
			b[i] = byte(1<<(bits-(hi-8)) - 1)
		}
	}
	return b
}

func newRefMatch(m *ofp.Match) refMatch {
	var rm refMatch
	for _, o := range m.Fields {
		if o.Class != ofp.OXMClassOpenFlowBasic || int(o.Field) >= ofp.NumOXMFields {
			continue
		}
		f := ofp.OXMField(o.Field)
		mask := refFieldBits(f)
		if o.HasMask {
			for i := range mask {
				mask[i] &= o.Mask[i]
			}
		}
		v := make([]byte, len(mask))
		for i := range v {
			v[i] = o.Value[i] & mask[i]
		}
		rm[f] = refField{present: true, value: v, mask: mask}
	}
	return rm
}

func (m *refMatch) equal(o *refMatch) bool {
	for f := range m {
		a, b := &m[f], &o[f]
		if a.present != b.present {
			return false
		}
		if a.present && (!bytes.Equal(a.value, b.value) || !bytes.Equal(a.mask, b.mask)) {
			return false
		}
	}
	return true
}

func (m *refMatch) empty() bool {
	for f := range m {
		if m[f].present {
			return false
		}
	}
	return true
}

// matches reports whether a packet with these field values (nil: the
// packet does not have the field) matches m.
func (m *refMatch) matches(fields *refFields) bool {
	for f := range m {
		mf := &m[f]
		if !mf.present {
			continue
		}
		v := fields[f]
		if v == nil {
			return false
		}
		for i := range mf.mask {
			if v[i]&mf.mask[i] != mf.value[i] {
				return false
			}
		}
	}
	return true
}

// covers reports whether every packet that rule matches, m matches too
// (rule is equal to or more specific than m): the selection of
// non-strict modify and delete.
func (m *refMatch) covers(rule *refMatch) bool {
	for f := range m {
		q := &m[f]
		if !q.present {
			continue
		}
		r := &rule[f]
		if !r.present {
			return false
		}
		for i := range q.mask {
			if q.mask[i]&^r.mask[i] != 0 || r.value[i]&q.mask[i] != q.value[i] {
				return false
			}
		}
	}
	return true
}

// ---- the switch model ----

// refRule is one flow entry.
type refRule struct {
	tableID  uint8
	priority uint16
	cookie   uint64
	flags    uint16
	match    ofp.Match
	m        refMatch
	instrs   []ofp.Instruction
}

func (r *refRule) tableMiss() bool { return r.priority == 0 && r.m.empty() }

func (r *refRule) String() string {
	return fmt.Sprintf("table=%d priority=%d cookie=%#x %s actions=%s", r.tableID, r.priority, r.cookie,
		formatMatchShort(&r.match), formatInstructions(r.instrs))
}

// actions returns every action of the rule's apply and write instructions.
func (r *refRule) actions() []ofp.Action {
	var out []ofp.Action
	for _, in := range r.instrs {
		switch in := in.(type) {
		case *ofp.InstrApplyActions:
			out = append(out, in.Actions...)
		case *ofp.InstrWriteActions:
			out = append(out, in.Actions...)
		}
	}
	return out
}

// refGroup is a group table entry.
type refGroup struct {
	id      uint32
	typ     uint8
	buckets []ofp.Bucket
}

type refMACKey struct {
	vlan uint16
	mac  [6]byte
}

// refSwitch is the reference's whole state.
type refSwitch struct {
	ports  []uint32 // sorted OpenFlow port numbers
	tables map[uint8][]*refRule
	groups map[uint32]*refGroup
	macs   map[refMACKey]uint32 // NORMAL's learning table

	// invalidTTLToController is the SET_CONFIG flag
	// OFPC_INVALID_TTL_TO_CONTROLLER; missSendLen is the receiving
	// connection's miss_send_len (for packet-ins not caused by an output
	// action).
	invalidTTLToController bool
	missSendLen            uint16
}

func newRefSwitch(ports []uint32) *refSwitch {
	return &refSwitch{
		ports:       slices.Sorted(slices.Values(ports)),
		tables:      map[uint8][]*refRule{},
		groups:      map[uint32]*refGroup{},
		macs:        map[refMACKey]uint32{},
		missSendLen: ofp.ControllerMaxLenNoBuffer,
	}
}

func (s *refSwitch) hasPort(p uint32) bool { _, ok := slices.BinarySearch(s.ports, p); return ok }

// rules returns every rule, by table and then by descending priority.
func (s *refSwitch) rules() []*refRule {
	var out []*refRule
	for id := range NumTables {
		rs := slices.Clone(s.tables[uint8(id)])
		slices.SortStableFunc(rs, func(a, b *refRule) int { return int(b.priority) - int(a.priority) })
		out = append(out, rs...)
	}
	return out
}

// outputsTo is the out_port/out_group filter of modify and delete.
func (r *refRule) outputsTo(port, group uint32) bool {
	portOK, groupOK := port == ofp.PortAny, group == ofp.GroupAny
	for _, a := range r.actions() {
		switch a := a.(type) {
		case *ofp.ActionOutput:
			portOK = portOK || a.Port == port
		case *ofp.ActionGroup:
			groupOK = groupOK || a.GroupID == group
		}
	}
	return portOK && groupOK
}

// selectRules returns the rules a modify or delete request selects.
func (s *refSwitch) selectRules(fm *ofp.FlowMod, strict bool, outPort, outGroup uint32) []*refRule {
	q := newRefMatch(&fm.Match)
	var out []*refRule
	for id, rs := range s.tables {
		if fm.TableID != ofp.TableAll && id != fm.TableID {
			continue
		}
		for _, r := range rs {
			if r.cookie&fm.CookieMask != fm.Cookie&fm.CookieMask {
				continue
			}
			if strict {
				if r.priority != fm.Priority || !r.m.equal(&q) {
					continue
				}
			} else if !q.covers(&r.m) {
				continue
			}
			if !r.outputsTo(outPort, outGroup) {
				continue
			}
			out = append(out, r)
		}
	}
	return out
}

// flowMod applies a FLOW_MOD the switch accepted.
func (s *refSwitch) flowMod(fm *ofp.FlowMod) {
	switch fm.Command {
	case ofp.FlowAdd:
		r := &refRule{tableID: fm.TableID, priority: fm.Priority, cookie: fm.Cookie, flags: fm.Flags,
			match: fm.Match, m: newRefMatch(&fm.Match), instrs: fm.Instructions}
		rs := s.tables[fm.TableID]
		for i, old := range rs {
			if old.priority == r.priority && old.m.equal(&r.m) {
				rs[i] = r // an identical entry is replaced
				return
			}
		}
		s.tables[fm.TableID] = append(rs, r)
	case ofp.FlowModify, ofp.FlowModifyStrict:
		// OpenFlow 1.3: only the instructions change; a modify that
		// selects nothing does nothing.
		for _, r := range s.selectRules(fm, fm.Command == ofp.FlowModifyStrict, ofp.PortAny, ofp.GroupAny) {
			r.instrs = fm.Instructions
		}
	case ofp.FlowDelete, ofp.FlowDeleteStrict:
		s.removeRules(s.selectRules(fm, fm.Command == ofp.FlowDeleteStrict, fm.OutPort, fm.OutGroup))
	}
}

func (s *refSwitch) removeRules(del []*refRule) {
	for _, r := range del {
		s.tables[r.tableID] = slices.DeleteFunc(s.tables[r.tableID], func(x *refRule) bool { return x == r })
	}
}

// groupMod applies a GROUP_MOD the switch accepted.
func (s *refSwitch) groupMod(gm *ofp.GroupMod) {
	switch gm.Command {
	case ofp.GroupAdd, ofp.GroupModify:
		s.groups[gm.GroupID] = &refGroup{id: gm.GroupID, typ: gm.GroupType, buckets: gm.Buckets}
	case ofp.GroupDelete:
		for id := range s.groups {
			if gm.GroupID == ofp.GroupAll || id == gm.GroupID {
				delete(s.groups, id)
				// Flows that use the group go with it.
				var del []*refRule
				for _, rs := range s.tables {
					for _, r := range rs {
						if r.outputsTo(ofp.PortAny, id) {
							del = append(del, r)
						}
					}
				}
				s.removeRules(del)
			}
		}
	}
}

// ---- packets ----

// refTag is one VLAN tag and the TPID that announced it.
type refTag struct {
	tpid layers.EthernetType
	tag  layers.Dot1Q
}

// refPkt is a decoded packet that actions change header by header and that
// is encoded again (with lengths and checksums computed by gopacket) for
// every output.
type refPkt struct {
	eth     layers.Ethernet
	tags    []refTag // outermost first
	inner   layers.EthernetType
	ip4     *layers.IPv4
	ip6     *layers.IPv6
	arp     *layers.ARP
	tcp     *layers.TCP
	udp     *layers.UDP
	icmp4   *layers.ICMPv4
	icmp6   *layers.ICMPv6
	echo6   *layers.ICMPv6Echo
	payload []byte
}

// decodeRefPkt decodes an Ethernet frame with gopacket. Everything after
// the last header it knows is payload.
func decodeRefPkt(frame []byte) (*refPkt, error) {
	pk := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	p := &refPkt{}
	var last gopacket.Layer
loop:
	for _, l := range pk.Layers() {
		switch l := l.(type) {
		case *layers.Ethernet:
			p.eth = *l
			p.inner = l.EthernetType
		case *layers.Dot1Q:
			p.tags = append(p.tags, refTag{tpid: p.inner, tag: *l})
			p.inner = l.Type
		case *layers.IPv4:
			c := *l
			p.ip4 = &c
		case *layers.IPv6:
			c := *l
			p.ip6 = &c
		case *layers.ARP:
			c := *l
			p.arp = &c
		case *layers.TCP:
			c := *l
			p.tcp = &c
		case *layers.UDP:
			c := *l
			p.udp = &c
		case *layers.ICMPv4:
			c := *l
			p.icmp4 = &c
		case *layers.ICMPv6:
			c := *l
			p.icmp6 = &c
		case *layers.ICMPv6Echo:
			c := *l
			p.echo6 = &c
		default:
			break loop
		}
		last = l
	}
	if last == nil {
		return nil, fmt.Errorf("not an Ethernet frame")
	}
	if p.icmp6 != nil && p.echo6 == nil {
		return nil, fmt.Errorf("ICMPv6 other than echo")
	}
	if p.ip4 != nil && (len(p.ip4.Options) > 0 || p.ip4.Flags&layers.IPv4MoreFragments != 0 || p.ip4.FragOffset != 0) {
		return nil, fmt.Errorf("IPv4 options or fragments")
	}
	payload := last.LayerPayload()
	if p.echo6 != nil {
		// gopacket leaves the echo's payload in the ICMPv6 layer.
		payload = p.icmp6.LayerPayload()[4:]
	}
	p.payload = slices.Clone(payload)
	return p, nil
}

func (p *refPkt) clone() *refPkt {
	c := *p
	c.eth.SrcMAC = slices.Clone(p.eth.SrcMAC)
	c.eth.DstMAC = slices.Clone(p.eth.DstMAC)
	c.tags = slices.Clone(p.tags)
	if p.ip4 != nil {
		x := *p.ip4
		x.SrcIP, x.DstIP = slices.Clone(x.SrcIP), slices.Clone(x.DstIP)
		c.ip4 = &x
	}
	if p.ip6 != nil {
		x := *p.ip6
		x.SrcIP, x.DstIP = slices.Clone(x.SrcIP), slices.Clone(x.DstIP)
		c.ip6 = &x
	}
	if p.arp != nil {
		x := *p.arp
		x.SourceHwAddress = slices.Clone(x.SourceHwAddress)
		x.SourceProtAddress = slices.Clone(x.SourceProtAddress)
		x.DstHwAddress = slices.Clone(x.DstHwAddress)
		x.DstProtAddress = slices.Clone(x.DstProtAddress)
		c.arp = &x
	}
	if p.tcp != nil {
		x := *p.tcp
		c.tcp = &x
	}
	if p.udp != nil {
		x := *p.udp
		c.udp = &x
	}
	if p.icmp4 != nil {
		x := *p.icmp4
		c.icmp4 = &x
	}
	if p.icmp6 != nil {
		x := *p.icmp6
		c.icmp6 = &x
	}
	if p.echo6 != nil {
		x := *p.echo6
		c.echo6 = &x
	}
	return &c
}

// encode serializes the packet as it is now.
func (p *refPkt) encode() []byte {
	var ls []gopacket.SerializableLayer
	eth := p.eth
	eth.EthernetType = p.inner
	if len(p.tags) > 0 {
		eth.EthernetType = p.tags[0].tpid
	}
	ls = append(ls, &eth)
	for i := range p.tags {
		t := p.tags[i].tag
		t.Type = p.inner
		if i+1 < len(p.tags) {
			t.Type = p.tags[i+1].tpid
		}
		ls = append(ls, &t)
	}
	var nl gopacket.NetworkLayer
	switch {
	case p.ip4 != nil:
		x := *p.ip4
		nl = &x
		ls = append(ls, &x)
	case p.ip6 != nil:
		x := *p.ip6
		nl = &x
		ls = append(ls, &x)
	case p.arp != nil:
		x := *p.arp
		ls = append(ls, &x)
	}
	switch {
	case p.tcp != nil:
		x := *p.tcp
		x.SetNetworkLayerForChecksum(nl)
		ls = append(ls, &x)
	case p.udp != nil:
		x := *p.udp
		x.SetNetworkLayerForChecksum(nl)
		ls = append(ls, &x)
	case p.icmp4 != nil:
		x := *p.icmp4
		ls = append(ls, &x)
	case p.icmp6 != nil:
		x := *p.icmp6
		x.SetNetworkLayerForChecksum(nl)
		ls = append(ls, &x)
		if p.echo6 != nil {
			e := *p.echo6
			ls = append(ls, &e)
		}
	}
	ls = append(ls, gopacket.Payload(p.payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		panic(fmt.Sprintf("reference: encoding a packet: %v", err))
	}
	return slices.Clone(buf.Bytes())
}

// refFields are a packet's OXM field values (nil: the packet does not have
// the field), big-endian, of the field's length.
type refFields [ofp.NumOXMFields][]byte

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func (c *refCtx) fields() *refFields {
	var f refFields
	p := c.pkt
	f[ofp.OXMInPort] = be32(c.inPort)
	f[ofp.OXMInPhyPort] = be32(c.inPort)
	f[ofp.OXMMetadata] = be64(c.metadata)
	f[ofp.OXMTunnelID] = be64(c.tunID)
	f[ofp.OXMEthDst] = slices.Clone(p.eth.DstMAC)
	f[ofp.OXMEthSrc] = slices.Clone(p.eth.SrcMAC)
	f[ofp.OXMEthType] = be16(uint16(p.inner))
	if len(p.tags) > 0 {
		t := &p.tags[0].tag
		f[ofp.OXMVlanVID] = be16(ofp.VIDPresent | t.VLANIdentifier)
		f[ofp.OXMVlanPCP] = []byte{t.Priority}
	} else {
		f[ofp.OXMVlanVID] = be16(ofp.VIDNone)
	}
	var proto uint8
	switch {
	case p.ip4 != nil:
		f[ofp.OXMIPDSCP] = []byte{p.ip4.TOS >> 2}
		f[ofp.OXMIPECN] = []byte{p.ip4.TOS & 3}
		proto = uint8(p.ip4.Protocol)
		f[ofp.OXMIPProto] = []byte{proto}
		f[ofp.OXMIPv4Src] = slices.Clone(p.ip4.SrcIP.To4())
		f[ofp.OXMIPv4Dst] = slices.Clone(p.ip4.DstIP.To4())
	case p.ip6 != nil:
		f[ofp.OXMIPDSCP] = []byte{p.ip6.TrafficClass >> 2}
		f[ofp.OXMIPECN] = []byte{p.ip6.TrafficClass & 3}
		proto = uint8(p.ip6.NextHeader)
		f[ofp.OXMIPProto] = []byte{proto}
		f[ofp.OXMIPv6Src] = slices.Clone(p.ip6.SrcIP.To16())
		f[ofp.OXMIPv6Dst] = slices.Clone(p.ip6.DstIP.To16())
		f[ofp.OXMIPv6Flabel] = be32(p.ip6.FlowLabel)
	case p.arp != nil:
		f[ofp.OXMArpOp] = be16(p.arp.Operation)
		f[ofp.OXMArpSpa] = slices.Clone(p.arp.SourceProtAddress)
		f[ofp.OXMArpTpa] = slices.Clone(p.arp.DstProtAddress)
		f[ofp.OXMArpSha] = slices.Clone(p.arp.SourceHwAddress)
		f[ofp.OXMArpTha] = slices.Clone(p.arp.DstHwAddress)
	}
	switch {
	case p.tcp != nil:
		f[ofp.OXMTCPSrc] = be16(uint16(p.tcp.SrcPort))
		f[ofp.OXMTCPDst] = be16(uint16(p.tcp.DstPort))
	case p.udp != nil:
		f[ofp.OXMUDPSrc] = be16(uint16(p.udp.SrcPort))
		f[ofp.OXMUDPDst] = be16(uint16(p.udp.DstPort))
	case p.icmp4 != nil:
		f[ofp.OXMICMPv4Type] = []byte{p.icmp4.TypeCode.Type()}
		f[ofp.OXMICMPv4Code] = []byte{p.icmp4.TypeCode.Code()}
	case p.icmp6 != nil:
		f[ofp.OXMICMPv6Type] = []byte{p.icmp6.TypeCode.Type()}
		f[ofp.OXMICMPv6Code] = []byte{p.icmp6.TypeCode.Code()}
	}
	return &f
}

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
func TestReferencePacketRoundTrip(t *testing.T) {
	_, g := diffSeedParams(1)
	for i := 0; i < 2000; i++ {
		p := g.packet()
		frame := p.build(uint32(i))
		rp, err := decodeRefPkt(frame)
		if err != nil {
			t.Fatalf("%s: %v", &p, err)
		}
		if got := rp.encode(); !bytes.Equal(got, frame) {
			t.Fatalf("%s:\n built   %x\n encoded %x", &p, frame, got)
		}
	}
}
