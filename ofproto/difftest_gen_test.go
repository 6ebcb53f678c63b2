package ofproto

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/govs/govs/ofproto/ofp"
)

// ---- the generator ----

// diffGen generates pipelines, flow mods and packets. It draws only from
// its own random source and the reference's state, so a seed always
// generates the same events.
type diffGen struct {
	r      *rand.Rand
	nports int
	tables int // tables 0..tables-1 get rules
	groups bool
	pool   []diffPkt
}

func (g *diffGen) pick(n int) int        { return g.r.IntN(n) }
func (g *diffGen) chance(p float64) bool { return g.r.Float64() < p }

func diffPickOf[T any](g *diffGen, s []T) T { return s[g.pick(len(s))] }

// packet generates a random packet.
func (g *diffGen) packet() diffPkt {
	p := diffPkt{
		InPort: uint32(1 + g.pick(g.nports)),
		Src:    g.pick(len(diffMACs) - 2), // unicast sources (and one multicast below)
		Dst:    g.pick(len(diffMACs)),
		Kind:   g.pick(diffNumKinds),
		IP4Src: g.pick(len(diffIP4)), IP4Dst: g.pick(len(diffIP4)),
		IP6Src: g.pick(len(diffIP6)), IP6Dst: g.pick(len(diffIP6)),
		DSCP: diffPickOf(g, diffDSCPs), ECN: diffPickOf(g, diffECNs),
		TTL: diffPickOf(g, diffTTLs), Flabel: diffPickOf(g, diffFlabels),
		SPort: diffPickOf(g, diffL4Ports), DPort: diffPickOf(g, diffL4Ports),
		ICMP4: g.pick(len(diffICMP4)), ICMP6Type: diffPickOf(g, diffICMP6),
		TCPFlags: uint8(g.pick(3)),
		ArpOp:    uint16(1 + g.pick(2)),
		ArpSha:   g.pick(len(diffMACs) - 2), ArpTha: g.pick(len(diffMACs)),
		ArpSpa: g.pick(len(diffIP4)), ArpTpa: g.pick(len(diffIP4)),
		PayloadLen: 8 + g.pick(100),
	}
	if g.chance(0.03) {
		p.Src = len(diffMACs) - 1 // a multicast source: NORMAL must not learn it
	}
	switch x := g.r.Float64(); {
	case x < 0.3:
		p.Tags = []diffTagSpec{{TPID: 0x8100, VID: diffPickOf(g, diffVIDs), PCP: diffPickOf(g, diffPCPs)}}
	case x < 0.4:
		p.Tags = []diffTagSpec{{TPID: 0x88a8, VID: diffPickOf(g, diffVIDs), PCP: diffPickOf(g, diffPCPs)},
			{TPID: 0x8100, VID: diffPickOf(g, diffVIDs), PCP: diffPickOf(g, diffPCPs)}}
	}
	return p
}

// mutate changes one or two fields of p, within the value space.
func (g *diffGen) mutate(p diffPkt) diffPkt {
	p.Tags = slices.Clone(p.Tags)
	for n := 1 + g.pick(2); n > 0; n-- {
		q := g.packet()
		switch g.pick(14) {
		case 0:
			p.InPort = q.InPort
		case 1:
			p.Src = q.Src
		case 2:
			p.Dst = q.Dst
		case 3:
			if len(p.Tags) > 0 {
				p.Tags[0].VID = diffPickOf(g, diffVIDs)
			} else {
				p.Tags = q.Tags
			}
		case 4:
			if len(p.Tags) > 0 {
				p.Tags[0].PCP = diffPickOf(g, diffPCPs)
			}
		case 5:
			p.IP4Src, p.IP6Src, p.ArpSpa = q.IP4Src, q.IP6Src, q.ArpSpa
		case 6:
			p.IP4Dst, p.IP6Dst, p.ArpTpa = q.IP4Dst, q.IP6Dst, q.ArpTpa
		case 7:
			p.DSCP, p.ECN = q.DSCP, q.ECN
		case 8:
			p.TTL = q.TTL
		case 9:
			p.SPort, p.ICMP4, p.ArpSha = q.SPort, q.ICMP4, q.ArpSha
		case 10:
			p.DPort, p.ICMP6Type, p.ArpTha = q.DPort, q.ICMP6Type, q.ArpTha
		case 11:
			p.Flabel, p.TCPFlags, p.ArpOp = q.Flabel, q.TCPFlags, q.ArpOp
		case 12:
			p.PayloadLen = q.PayloadLen
		case 13:
			p.Tags = q.Tags
		}
	}
	return p
}

// refFieldsOf returns the OXM values of a generated packet as table 0
// sees it (the generator draws match values from them).
func refFieldsOf(p *diffPkt) *refFields {
	pkt, err := decodeRefPkt(p.build(0))
	if err != nil {
		panic(err)
	}
	c := &refCtx{inPort: p.InPort, pkt: pkt}
	return c.fields()
}

// prerequisites of the fields the generator matches on (OpenFlow 1.3.5
// table 12), as fields that must be in the match too.
var diffPrereqs = map[ofp.OXMField][]ofp.OXMField{
	ofp.OXMVlanPCP:    {ofp.OXMVlanVID},
	ofp.OXMIPDSCP:     {ofp.OXMEthType},
	ofp.OXMIPECN:      {ofp.OXMEthType},
	ofp.OXMIPProto:    {ofp.OXMEthType},
	ofp.OXMIPv4Src:    {ofp.OXMEthType},
	ofp.OXMIPv4Dst:    {ofp.OXMEthType},
	ofp.OXMIPv6Src:    {ofp.OXMEthType},
	ofp.OXMIPv6Dst:    {ofp.OXMEthType},
	ofp.OXMIPv6Flabel: {ofp.OXMEthType},
	ofp.OXMTCPSrc:     {ofp.OXMEthType, ofp.OXMIPProto},
	ofp.OXMTCPDst:     {ofp.OXMEthType, ofp.OXMIPProto},
	ofp.OXMUDPSrc:     {ofp.OXMEthType, ofp.OXMIPProto},
	ofp.OXMUDPDst:     {ofp.OXMEthType, ofp.OXMIPProto},
	ofp.OXMICMPv4Type: {ofp.OXMEthType, ofp.OXMIPProto},
	ofp.OXMICMPv4Code: {ofp.OXMEthType, ofp.OXMIPProto},
	ofp.OXMICMPv6Type: {ofp.OXMEthType, ofp.OXMIPProto},
	ofp.OXMICMPv6Code: {ofp.OXMEthType, ofp.OXMIPProto},
	ofp.OXMArpOp:      {ofp.OXMEthType},
	ofp.OXMArpSpa:     {ofp.OXMEthType},
	ofp.OXMArpTpa:     {ofp.OXMEthType},
	ofp.OXMArpSha:     {ofp.OXMEthType},
	ofp.OXMArpTha:     {ofp.OXMEthType},
}

func diffOXM(f ofp.OXMField, v, m []byte) ofp.OXM {
	o := ofp.OXM{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(f), Value: slices.Clone(v)}
	if m != nil {
		o.HasMask = true
		o.Mask = slices.Clone(m)
		for i := range o.Value {
			o.Value[i] &= m[i]
		}
	}
	return o
}

// prefixMask returns a mask of n bytes with the first bits ones.
func prefixMask(n, bits int) []byte {
	m := make([]byte, n)
	for i := range m {
		switch {
		case bits >= 8:
			m[i] = 0xff
			bits -= 8
		case bits > 0:
			m[i] = byte(0xff << (8 - bits))
			bits = 0
		}
	}
	return m
}

// mask returns a random mask for a maskable field (nil: exact).
func (g *diffGen) mask(f ofp.OXMField) []byte {
	if !g.chance(0.5) {
		return nil
	}
	switch f {
	case ofp.OXMEthSrc, ofp.OXMEthDst, ofp.OXMArpSha, ofp.OXMArpTha:
		return diffPickOf(g, [][]byte{
			{0xff, 0xff, 0xff, 0xff, 0xff, 0x00}, {0x01, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0x03},
			{0xff, 0xff, 0xff, 0, 0, 0}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}, {0x02, 0, 0, 0, 0xff, 0x01}})
	case ofp.OXMIPv4Src, ofp.OXMIPv4Dst, ofp.OXMArpSpa, ofp.OXMArpTpa:
		if g.chance(0.8) {
			return prefixMask(4, diffPickOf(g, []int{8, 15, 16, 17, 23, 24, 25, 31}))
		}
		return diffPickOf(g, [][]byte{{0, 0, 0, 0xff}, {0, 1, 0xff, 0}, {0xff, 0xff, 0, 0x80}})
	case ofp.OXMIPv6Src, ofp.OXMIPv6Dst:
		if g.chance(0.8) {
			return prefixMask(16, diffPickOf(g, []int{16, 32, 33, 48, 64, 65, 127}))
		}
		m := make([]byte, 16)
		m[15], m[8] = 0xff, 0x80
		return m
	case ofp.OXMIPv6Flabel:
		return diffPickOf(g, [][]byte{{0, 0x0f, 0, 0}, {0, 0, 0, 1}, {0, 0x0f, 0xff, 0xff}})
	case ofp.OXMMetadata:
		return be64(diffPickOf(g, []uint64{0x1, 0x3, 0x2, 0xff, 0x100}))
	case ofp.OXMTunnelID:
		return be64(diffPickOf(g, []uint64{0x1, 0x3, 0xff}))
	}
	return nil
}

// match generates a match whose values come from a random packet (so that
// packets hit it), for a rule in table.
func (g *diffGen) match(table int) ofp.Match {
	var m ofp.Match
	if g.chance(0.08) {
		return m // matches everything
	}
	base := g.packet()
	if len(g.pool) > 0 && g.chance(0.7) {
		base = g.mutate(diffPickOf(g, g.pool))
	}
	fv := refFieldsOf(&base)
	var fields []ofp.OXMField
	add := func(p float64, fs ...ofp.OXMField) {
		for _, f := range fs {
			if fv[f] != nil && g.chance(p) {
				fields = append(fields, f)
			}
		}
	}
	add(0.3, ofp.OXMInPort)
	add(0.2, ofp.OXMEthDst, ofp.OXMEthSrc)
	if table > 0 {
		add(0.3, ofp.OXMMetadata)
	}
	add(0.05, ofp.OXMTunnelID)
	if g.chance(0.25) {
		fields = append(fields, ofp.OXMVlanVID)
		if fv[ofp.OXMVlanPCP] != nil && g.chance(0.3) {
			fields = append(fields, ofp.OXMVlanPCP)
		}
	}
	if g.chance(0.7) {
		fields = append(fields, ofp.OXMEthType)
		add(0.25, ofp.OXMIPDSCP, ofp.OXMIPECN)
		add(0.45, ofp.OXMIPv4Src, ofp.OXMIPv4Dst, ofp.OXMIPv6Src, ofp.OXMIPv6Dst)
		add(0.1, ofp.OXMIPv6Flabel)
		add(0.3, ofp.OXMArpOp, ofp.OXMArpSpa, ofp.OXMArpTpa, ofp.OXMArpSha, ofp.OXMArpTha)
		if fv[ofp.OXMIPProto] != nil && g.chance(0.6) {
			fields = append(fields, ofp.OXMIPProto)
			add(0.4, ofp.OXMTCPSrc, ofp.OXMTCPDst, ofp.OXMUDPSrc, ofp.OXMUDPDst,
				ofp.OXMICMPv4Type, ofp.OXMICMPv4Code, ofp.OXMICMPv6Type, ofp.OXMICMPv6Code)
		}
	}
	slices.Sort(fields)
	fields = slices.Compact(fields)
	for _, f := range fields {
		v := fv[f]
		switch f {
		case ofp.OXMMetadata:
			v = be64(diffPickOf(g, diffMetadata))
		case ofp.OXMTunnelID:
			v = be64(uint64(g.pick(3)))
		case ofp.OXMVlanVID:
			switch g.pick(5) {
			case 0:
				m.Fields = append(m.Fields, diffOXM(f, be16(ofp.VIDNone), nil))
				continue
			case 1:
				m.Fields = append(m.Fields, diffOXM(f, be16(ofp.VIDPresent), be16(ofp.VIDPresent)))
				continue
			case 2:
				m.Fields = append(m.Fields, diffOXM(f, be16(ofp.VIDPresent|diffPickOf(g, diffVIDs)), be16(0x1ff0)))
				continue
			}
			if binary.BigEndian.Uint16(v) == ofp.VIDNone {
				v = be16(ofp.VIDPresent | diffPickOf(g, diffVIDs))
			}
		case ofp.OXMVlanPCP:
			// vlan_pcp needs a vlan_vid that requires a tag.
			if vid, ok := m.Field(ofp.OXMVlanVID); !ok || vid.Value[0]&0x10 == 0 || (vid.HasMask && vid.Mask[0]&0x10 == 0) {
				continue
			}
		}
		if f == ofp.OXMInPort && g.chance(0.1) {
			v = be32(uint32(1 + g.pick(g.nports)))
		}
		m.Fields = append(m.Fields, diffOXM(f, v, g.mask(f)))
	}
	return m
}

// matchFacts returns what a match guarantees about eth_type and ip_proto
// (0 when it does not), for the prerequisites of set_field.
func matchFacts(m *ofp.Match) (ethType uint16, proto uint8) {
	if o, ok := m.Field(ofp.OXMEthType); ok && !o.HasMask {
		ethType = binary.BigEndian.Uint16(o.Value)
	}
	if o, ok := m.Field(ofp.OXMIPProto); ok && !o.HasMask {
		proto = o.Value[0]
	}
	return ethType, proto
}

// setField generates a set_field action whose prerequisites the match
// meets.
func (g *diffGen) setField(m *ofp.Match) ofp.Action {
	et, proto := matchFacts(m)
	q := refFieldsOf(ptr(g.packet()))
	cands := []ofp.OXMField{ofp.OXMEthDst, ofp.OXMEthSrc, ofp.OXMVlanVID, ofp.OXMVlanPCP, ofp.OXMTunnelID}
	switch et {
	case 0x0800:
		cands = append(cands, ofp.OXMIPDSCP, ofp.OXMIPECN, ofp.OXMIPv4Src, ofp.OXMIPv4Dst)
	case 0x86dd:
		cands = append(cands, ofp.OXMIPDSCP, ofp.OXMIPECN, ofp.OXMIPv6Src, ofp.OXMIPv6Dst, ofp.OXMIPv6Flabel)
	case 0x0806:
		cands = append(cands, ofp.OXMArpOp, ofp.OXMArpSpa, ofp.OXMArpTpa, ofp.OXMArpSha, ofp.OXMArpTha)
	}
	switch {
	case proto == 6 && (et == 0x0800 || et == 0x86dd):
		cands = append(cands, ofp.OXMTCPSrc, ofp.OXMTCPDst)
	case proto == 17 && (et == 0x0800 || et == 0x86dd):
		cands = append(cands, ofp.OXMUDPSrc, ofp.OXMUDPDst)
	case proto == 1 && et == 0x0800:
		cands = append(cands, ofp.OXMICMPv4Type, ofp.OXMICMPv4Code)
	case proto == 58 && et == 0x86dd:
		cands = append(cands, ofp.OXMICMPv6Type, ofp.OXMICMPv6Code)
	}
	f := diffPickOf(g, cands)
	var v []byte
	switch f {
	case ofp.OXMEthDst, ofp.OXMEthSrc, ofp.OXMArpSha, ofp.OXMArpTha:
		v = slices.Clone(diffMACs[g.pick(len(diffMACs)-2)])
	case ofp.OXMVlanVID:
		v = be16(ofp.VIDPresent | diffPickOf(g, diffVIDs))
	case ofp.OXMVlanPCP:
		v = []byte{diffPickOf(g, diffPCPs)}
	case ofp.OXMTunnelID:
		v = be64(uint64(g.pick(3)))
	case ofp.OXMIPDSCP:
		v = []byte{diffPickOf(g, diffDSCPs)}
	case ofp.OXMIPECN:
		v = []byte{diffPickOf(g, diffECNs)}
	case ofp.OXMIPv4Src, ofp.OXMIPv4Dst, ofp.OXMArpSpa, ofp.OXMArpTpa:
		v = slices.Clone(diffPickOf(g, diffIP4))
	case ofp.OXMIPv6Src, ofp.OXMIPv6Dst:
		v = slices.Clone(diffPickOf(g, diffIP6).To16())
	case ofp.OXMIPv6Flabel:
		v = be32(diffPickOf(g, diffFlabels))
	case ofp.OXMTCPSrc, ofp.OXMTCPDst, ofp.OXMUDPSrc, ofp.OXMUDPDst:
		v = be16(diffPickOf(g, diffL4Ports))
	case ofp.OXMICMPv4Type, ofp.OXMICMPv4Code, ofp.OXMICMPv6Type, ofp.OXMICMPv6Code:
		v = q[f]
		if v == nil {
			v = []byte{diffPickOf(g, []uint8{0, 8, 128})}
		}
	case ofp.OXMArpOp:
		v = be16(uint16(1 + g.pick(2)))
	}
	return &ofp.ActionSetField{Field: diffOXM(f, v, nil)}
}

func ptr[T any](v T) *T { return &v }

// action generates one action for a rule with match m (or a group bucket
// when m is nil).
func (g *diffGen) action(m *ofp.Match, groupIDs []uint32, inBucket bool) ofp.Action {
	for {
		switch x := g.r.Float64(); {
		case x < 0.28:
			return &ofp.ActionOutput{Port: uint32(1 + g.pick(g.nports)), MaxLen: ofp.ControllerMaxLenNoBuffer}
		case x < 0.40:
			port := diffPickOf(g, []uint32{ofp.PortInPort, ofp.PortFlood, ofp.PortAll, ofp.PortController,
				ofp.PortController, ofp.PortNormal, ofp.PortNormal, ofp.PortLocal, uint32(g.nports + 1)})
			if inBucket && port == ofp.PortNormal {
				continue // NORMAL learns: not in buckets, whose choice the reference enumerates
			}
			a := &ofp.ActionOutput{Port: port, MaxLen: ofp.ControllerMaxLenNoBuffer}
			if port == ofp.PortController {
				a.MaxLen = diffPickOf(g, diffMaxLens)
			}
			return a
		case x < 0.70:
			if m == nil {
				continue
			}
			return g.setField(m)
		case x < 0.76:
			return &ofp.ActionPushVLAN{EtherType: diffPickOf(g, []uint16{0x8100, 0x88a8})}
		case x < 0.84:
			return &ofp.ActionPopVLAN{}
		case x < 0.91:
			if inBucket {
				continue // dropping inside a bucket is not defined clearly enough
			}
			return &ofp.ActionDecNwTTL{}
		case x < 0.94:
			return &ofp.ActionSetNwTTL{TTL: diffPickOf(g, []uint8{1, 5, 64})}
		default:
			if len(groupIDs) == 0 {
				continue
			}
			return &ofp.ActionGroup{GroupID: diffPickOf(g, groupIDs)}
		}
	}
}

// instructions generates a rule's instructions.
func (g *diffGen) instructions(table int, m *ofp.Match, groupIDs []uint32) []ofp.Instruction {
	var ins []ofp.Instruction
	if g.chance(0.75) {
		var acts []ofp.Action
		for n := g.pick(4); n > 0; n-- {
			acts = append(acts, g.action(m, groupIDs, false))
		}
		ins = append(ins, &ofp.InstrApplyActions{Actions: acts})
	}
	if g.chance(0.1) {
		ins = append(ins, &ofp.InstrClearActions{})
	}
	if g.chance(0.35) {
		var acts []ofp.Action
		for n := 1 + g.pick(3); n > 0; n-- {
			a := g.action(m, groupIDs, false)
			// One action per slot in one write_actions: what a duplicate
			// means is not for this test to decide.
			if !slices.ContainsFunc(acts, func(b ofp.Action) bool { return refSameSlot(a, b) }) {
				acts = append(acts, a)
			}
		}
		ins = append(ins, &ofp.InstrWriteActions{Actions: acts})
	}
	if table+1 < NumTables && g.chance(0.55) {
		next := table + 1 + g.pick(g.tables-table)
		if g.chance(0.35) {
			ins = append(ins, &ofp.InstrWriteMetadata{Metadata: diffPickOf(g, diffMetadata),
				Mask: diffPickOf(g, []uint64{0x1, 0x3, 0x2, 0xff, ^uint64(0)})})
		}
		ins = append(ins, &ofp.InstrGotoTable{TableID: uint8(next)})
	}
	return ins
}

// freePriority returns a priority no rule of the table has, so that no
// two overlapping rules share one (their order would be undefined).
func (g *diffGen) freePriority(ref *refSwitch, table uint8) uint16 {
	for {
		p := uint16(1 + g.pick(60))
		if !slices.ContainsFunc(ref.tables[table], func(r *refRule) bool { return r.priority == p }) {
			return p
		}
	}
}

func (g *diffGen) groupIDs(ref *refSwitch) []uint32 {
	return slices.Sorted(func(yield func(uint32) bool) {
		for id := range ref.groups {
			if !yield(id) {
				return
			}
		}
	})
}

// addFlow generates an ADD of a new rule (or, sometimes, of one that
// replaces an existing rule with the same match and priority).
func (g *diffGen) addFlow(ref *refSwitch) *ofp.FlowMod {
	fm := &ofp.FlowMod{Command: ofp.FlowAdd, BufferID: ofp.NoBuffer, OutPort: ofp.PortAny, OutGroup: ofp.GroupAny,
		Cookie: diffPickOf(g, diffCookies)}
	rules := ref.rules()
	if len(rules) > 0 && g.chance(0.12) {
		r := diffPickOf(g, rules)
		fm.TableID, fm.Priority, fm.Match = r.tableID, r.priority, r.match
	} else {
		fm.TableID = uint8(g.pick(g.tables))
		fm.Match = g.match(int(fm.TableID))
		if len(fm.Match.Fields) == 0 && g.chance(0.5) {
			fm.Priority = 0 // a table-miss rule
			if slices.ContainsFunc(ref.tables[fm.TableID], func(r *refRule) bool { return r.priority == 0 }) {
				fm.Priority = g.freePriority(ref, fm.TableID)
			}
		} else {
			fm.Priority = g.freePriority(ref, fm.TableID)
		}
	}
	fm.Instructions = g.instructions(int(fm.TableID), &fm.Match, g.groupIDs(ref))
	return fm
}

// subMatch returns a match that selects r non-strictly: a subset of its
// fields (with their prerequisites), some masks made wider.
func (g *diffGen) subMatch(r *refRule) ofp.Match {
	var keep [ofp.NumOXMFields]bool
	for _, o := range r.match.Fields {
		if g.chance(0.5) {
			keep[o.Field] = true
			for _, p := range diffPrereqs[ofp.OXMField(o.Field)] {
				keep[p] = true
			}
		}
	}
	var m ofp.Match
	for _, o := range r.match.Fields {
		if !keep[o.Field] {
			continue
		}
		f := ofp.OXMField(o.Field)
		if ofp.OXMFields[f].Maskable && f != ofp.OXMVlanVID && g.chance(0.3) {
			wider := prefixMask(len(o.Value), 8*len(o.Value)/2)
			for i, b := range refFieldBits(f) {
				wider[i] &= b // no mask bits outside the field (BAD_MASK)
			}
			if o.HasMask {
				for i := range wider {
					wider[i] &= o.Mask[i]
				}
			}
			if slices.ContainsFunc(wider, func(b byte) bool { return b != 0 }) {
				m.Fields = append(m.Fields, diffOXM(f, o.Value, wider))
				continue
			}
		}
		m.Fields = append(m.Fields, o)
	}
	return m
}

// flowMod generates a random change to the tables.
func (g *diffGen) flowMod(ref *refSwitch) *ofp.FlowMod {
	rules := ref.rules()
	x := g.r.Float64()
	if len(rules) == 0 || x < 0.45 {
		return g.addFlow(ref)
	}
	r := diffPickOf(g, rules)
	fm := &ofp.FlowMod{TableID: r.tableID, BufferID: ofp.NoBuffer, OutPort: ofp.PortAny, OutGroup: ofp.GroupAny}
	if g.chance(0.4) {
		fm.CookieMask = diffPickOf(g, []uint64{0xff, 0x0f, 0xf0, 0x1})
		fm.Cookie = r.cookie
		if g.chance(0.3) {
			fm.Cookie = diffPickOf(g, diffCookies)
		}
	}
	switch {
	case x < 0.57:
		fm.Command = ofp.FlowModify
		fm.Match = g.subMatch(r)
	case x < 0.67:
		fm.Command = ofp.FlowModifyStrict
		fm.Match, fm.Priority = r.match, r.priority
	case x < 0.85:
		fm.Command = ofp.FlowDelete
		fm.Match = g.subMatch(r)
		if g.chance(0.3) {
			fm.TableID = ofp.TableAll
		}
		if g.chance(0.2) {
			fm.OutPort = uint32(1 + g.pick(g.nports))
		}
	default:
		fm.Command = ofp.FlowDeleteStrict
		fm.Match, fm.Priority = r.match, r.priority
		if g.chance(0.1) {
			fm.Priority = g.freePriority(ref, r.tableID)
		}
	}
	if fm.Command == ofp.FlowModify || fm.Command == ofp.FlowModifyStrict {
		// The switch checks set_field prerequisites against the request's
		// match, which every selected rule's match implies.
		fm.Instructions = g.instructions(int(r.tableID), &fm.Match, g.groupIDs(ref))
	}
	return fm
}

// groupMod generates a random change to the group table.
func (g *diffGen) groupMod(ref *refSwitch) *ofp.GroupMod {
	ids := g.groupIDs(ref)
	if len(ids) > 0 && g.chance(0.25) {
		return &ofp.GroupMod{Command: ofp.GroupDelete, GroupID: diffPickOf(g, ids)}
	}
	gm := &ofp.GroupMod{Command: ofp.GroupAdd, GroupID: uint32(1 + g.pick(6)), GroupType: uint8(g.pick(4))}
	if ref.groups[gm.GroupID] != nil {
		gm.Command = ofp.GroupModify
	}
	for n := 1 + g.pick(3); n > 0; n-- {
		b := ofp.Bucket{Weight: 1, WatchPort: ofp.PortAny, WatchGroup: ofp.GroupAny}
		switch gm.GroupType {
		case ofp.GroupTypeSelect:
			b.Weight = uint16(g.pick(3))
		case ofp.GroupTypeFastFailover:
			b.WatchPort = uint32(1 + g.pick(g.nports+1))
		}
		if gm.GroupType != ofp.GroupTypeSelect {
			b.Weight = 0
		}
		// Buckets in action-set order with one action per slot, so that
		// reading a bucket as an ordered list or as an action set gives
		// the same result.
		var acts []ofp.Action
		for k := 1 + g.pick(3); k > 0; k-- {
			a := g.action(nil, nil, true)
			if !slices.ContainsFunc(acts, func(b ofp.Action) bool { return refSameSlot(a, b) }) {
				acts = append(acts, a)
			}
		}
		slices.SortStableFunc(acts, func(a, b ofp.Action) int { return refSetOrder(a) - refSetOrder(b) })
		b.Actions = acts
		gm.Buckets = append(gm.Buckets, b)
		if gm.GroupType == ofp.GroupTypeIndirect {
			break
		}
	}
	if gm.GroupType == ofp.GroupTypeSelect && !slices.ContainsFunc(gm.Buckets, func(b ofp.Bucket) bool { return b.Weight > 0 }) {
		// With every weight 0 the switches differ (Open vSwitch takes
		// the last bucket, govs spreads evenly) and the spec is silent.
		gm.Buckets[0].Weight = 1
	}
	return gm
}

// ---- events ----

// diffEvent is one step of a run: a flow mod, a group mod or a packet.
type diffEvent struct {
	fm  *ofp.FlowMod
	gm  *ofp.GroupMod
	pkt *diffPkt
}

func (e *diffEvent) String() string {
	switch {
	case e.fm != nil:
		return formatDiffFlowMod(e.fm)
	case e.gm != nil:
		return formatDiffGroupMod(e.gm)
	}
	s := "packet " + e.pkt.String()
	if e.pkt.fromMask {
		s += " (megaflow check)"
	}
	return s
}

func formatDiffFlowMod(fm *ofp.FlowMod) string {
	cmd := map[uint8]string{ofp.FlowAdd: "add", ofp.FlowModify: "modify", ofp.FlowModifyStrict: "modify --strict",
		ofp.FlowDelete: "delete", ofp.FlowDeleteStrict: "delete --strict"}[fm.Command]
	s := fmt.Sprintf("flow %s table=%d priority=%d cookie=%#x", cmd, fm.TableID, fm.Priority, fm.Cookie)
	if fm.CookieMask != 0 {
		s += fmt.Sprintf("/%#x", fm.CookieMask)
	}
	if fm.OutPort != ofp.PortAny {
		s += " out_port=" + portName(fm.OutPort)
	}
	s += " " + formatMatchShort(&fm.Match)
	if fm.Command <= ofp.FlowModifyStrict {
		s += " actions=" + formatInstructions(fm.Instructions)
	}
	return s
}

func formatDiffGroupMod(gm *ofp.GroupMod) string {
	cmd := map[uint16]string{ofp.GroupAdd: "add", ofp.GroupModify: "modify", ofp.GroupDelete: "delete"}[gm.Command]
	typ := map[uint8]string{ofp.GroupTypeAll: "all", ofp.GroupTypeSelect: "select", ofp.GroupTypeIndirect: "indirect",
		ofp.GroupTypeFastFailover: "ff"}[gm.GroupType]
	s := fmt.Sprintf("group %s group_id=%d type=%s", cmd, gm.GroupID, typ)
	for _, b := range gm.Buckets {
		s += fmt.Sprintf(" bucket(weight=%d,watch_port=%s,actions=%s)", b.Weight, portName(b.WatchPort), formatActions(b.Actions))
	}
	return s
}

// diffConfig is what a run's bridge is set up with.
type diffConfig struct {
	nports     int
	invalidTTL bool // SET_CONFIG OFPC_INVALID_TTL_TO_CONTROLLER
	// missSendLen is the miss_send_len the test's connection sets
	// (SET_CONFIG): packet-ins not caused by an output action
	// (INVALID_TTL) carry that much of the packet (OpenFlow 1.3.5 section
	// 7.3.2). They were cut to a fixed 128 bytes whatever the connection
	// asked; fixed.
	missSendLen uint16
}
