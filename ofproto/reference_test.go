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
	"slices"
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
