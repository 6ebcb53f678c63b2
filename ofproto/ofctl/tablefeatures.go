package ofctl

import (
	"fmt"
	"strings"

	"github.com/govs/govs/ofproto/ofp"
)

// Table features are printed the way ovs-ofctl's dump-table-features
// prints them: fields by Open vSwitch's names in its order, actions by
// its names, runs of identical tables as "ditto".

// mfOrder lists the OpenFlow 1.3 fields Open vSwitch knows, by their
// Open vSwitch names, in the order it prints them.
var mfOrder = []struct {
	name string
	f    ofp.OXMField
}{
	{"tun_id", ofp.OXMTunnelID}, {"metadata", ofp.OXMMetadata}, {"in_port_oxm", ofp.OXMInPort},
	{"eth_src", ofp.OXMEthSrc}, {"eth_dst", ofp.OXMEthDst}, {"eth_type", ofp.OXMEthType},
	{"vlan_vid", ofp.OXMVlanVID}, {"vlan_pcp", ofp.OXMVlanPCP},
	{"mpls_label", ofp.OXMMPLSLabel}, {"mpls_tc", ofp.OXMMPLSTC}, {"mpls_bos", ofp.OXMMPLSBOS},
	{"ip_src", ofp.OXMIPv4Src}, {"ip_dst", ofp.OXMIPv4Dst}, {"ipv6_src", ofp.OXMIPv6Src}, {"ipv6_dst", ofp.OXMIPv6Dst},
	{"ipv6_label", ofp.OXMIPv6Flabel}, {"nw_proto", ofp.OXMIPProto}, {"ip_dscp", ofp.OXMIPDSCP}, {"nw_ecn", ofp.OXMIPECN},
	{"arp_op", ofp.OXMArpOp}, {"arp_spa", ofp.OXMArpSpa}, {"arp_tpa", ofp.OXMArpTpa}, {"arp_sha", ofp.OXMArpSha},
	{"arp_tha", ofp.OXMArpTha}, {"tcp_src", ofp.OXMTCPSrc}, {"tcp_dst", ofp.OXMTCPDst}, {"udp_src", ofp.OXMUDPSrc},
	{"udp_dst", ofp.OXMUDPDst}, {"sctp_src", ofp.OXMSCTPSrc}, {"sctp_dst", ofp.OXMSCTPDst},
	{"icmp_type", ofp.OXMICMPv4Type}, {"icmp_code", ofp.OXMICMPv4Code},
	{"icmpv6_type", ofp.OXMICMPv6Type}, {"icmpv6_code", ofp.OXMICMPv6Code},
	{"nd_target", ofp.OXMIPv6NDTarget}, {"nd_sll", ofp.OXMIPv6NDSll}, {"nd_tll", ofp.OXMIPv6NDTll},
}

// mfIndex maps an OXM field to its position in mfOrder (-1: unknown to
// Open vSwitch).
var mfIndex = func() [ofp.NumOXMFields]int {
	var idx [ofp.NumOXMFields]int
	for i := range idx {
		idx[i] = -1
	}
	for i, m := range mfOrder {
		idx[m.f] = i
	}
	return idx
}()

// ovsActions are OpenFlow 1.3 action types in Open vSwitch's order, with
// its names.
var ovsActions = []struct {
	typ  ofp.ActionType
	name string
}{
	{ofp.ActTypeOutput, "output"}, {ofp.ActTypeGroup, "group"}, {ofp.ActTypeSetField, "set_field"},
	{ofp.ActTypePopVLAN, "strip_vlan"}, {ofp.ActTypePushVLAN, "push_vlan"}, {ofp.ActTypeSetNwTTL, "mod_nw_ttl"},
	{ofp.ActTypeDecNwTTL, "dec_ttl"}, {ofp.ActTypeSetMPLSTTL, "set_mpls_ttl"}, {ofp.ActTypeDecMPLSTTL, "dec_mpls_ttl"},
	{ofp.ActTypePushMPLS, "push_mpls"}, {ofp.ActTypePopMPLS, "pop_mpls"}, {ofp.ActTypeSetQueue, "set_queue"},
}

// fieldSet is a set of mfOrder positions.
type fieldSet uint64

type actFeatures struct {
	acts uint64 // bit i: ovsActions[i]
	set  fieldSet
}

type instFeatures struct {
	next  [4]uint64 // tables 0..254
	insts uint32    // bit i: instNames[i]
	write actFeatures
	apply actFeatures
}

type tableFeatures struct {
	id                   uint8
	name                 string
	metaMatch, metaWrite uint64
	maxEntries           uint32
	nonmiss, miss        instFeatures
	match, mask, wild    fieldSet
}

func oxmSet(hdrs []uint32) (exact, masked fieldSet) {
	for _, h := range hdrs {
		if h>>16 != ofp.OXMClassOpenFlowBasic {
			continue
		}
		f := (h >> 9) & 0x7f
		if f >= ofp.NumOXMFields || mfIndex[f] < 0 {
			continue
		}
		if h&0x100 != 0 {
			masked |= 1 << mfIndex[f]
		} else {
			exact |= 1 << mfIndex[f]
		}
	}
	return exact, masked
}

func actionSet(ids []uint16) uint64 {
	var b uint64
	for _, id := range ids {
		for i, a := range ovsActions {
			if uint16(a.typ) == id {
				b |= 1 << i
			}
		}
	}
	return b
}

func instSet(ids []uint16) uint32 {
	var b uint32
	for _, id := range ids {
		switch ofp.InstructionType(id) {
		case ofp.InstrTypeMeter:
			b |= 1 << instMeter
		case ofp.InstrTypeApplyActions:
			b |= 1 << instApply
		case ofp.InstrTypeClearActions:
			b |= 1 << instClear
		case ofp.InstrTypeWriteActions:
			b |= 1 << instWrite
		case ofp.InstrTypeWriteMetadata:
			b |= 1 << instMetadata
		case ofp.InstrTypeGotoTable:
			b |= 1 << instGoto
		}
	}
	return b
}

// decodeTableFeatures turns table features into Open vSwitch's view (a
// missing "miss" property means the same as the non-miss one).
func decodeTableFeatures(tf *ofp.TableFeatures) tableFeatures {
	v := tableFeatures{id: tf.TableID, name: tf.Name, metaMatch: tf.MetadataMatch, metaWrite: tf.MetadataWrite,
		maxEntries: tf.MaxEntries}
	seen := map[uint16]bool{}
	for _, p := range tf.Props {
		seen[p.Type] = true
		in := &v.nonmiss
		if p.Type%2 == 1 && p.Type <= ofp.TFPApplySetfieldMiss {
			in = &v.miss
		}
		switch p.Type {
		case ofp.TFPInstructions, ofp.TFPInstructionsMiss:
			in.insts = instSet(p.IDs)
		case ofp.TFPNextTables, ofp.TFPNextTablesMiss:
			for _, t := range p.Tables {
				if t < 255 {
					in.next[t/64] |= 1 << (t % 64)
				}
			}
		case ofp.TFPWriteActions, ofp.TFPWriteActionsMiss:
			in.write.acts = actionSet(p.IDs)
		case ofp.TFPApplyActions, ofp.TFPApplyActionsMiss:
			in.apply.acts = actionSet(p.IDs)
		case ofp.TFPWriteSetfield, ofp.TFPWriteSetfieldMiss:
			e, m := oxmSet(p.OXMs)
			in.write.set = e | m
		case ofp.TFPApplySetfield, ofp.TFPApplySetfieldMiss:
			e, m := oxmSet(p.OXMs)
			in.apply.set = e | m
		case ofp.TFPMatch:
			v.match, v.mask = oxmSet(p.OXMs)
		case ofp.TFPWildcards:
			e, m := oxmSet(p.OXMs)
			v.wild = e | m
		}
	}
	if !seen[ofp.TFPInstructionsMiss] {
		v.miss.insts = v.nonmiss.insts
	}
	if !seen[ofp.TFPNextTablesMiss] {
		v.miss.next = v.nonmiss.next
	}
	if !seen[ofp.TFPWriteActionsMiss] {
		v.miss.write.acts = v.nonmiss.write.acts
	}
	if !seen[ofp.TFPApplyActionsMiss] {
		v.miss.apply.acts = v.nonmiss.apply.acts
	}
	if !seen[ofp.TFPWriteSetfieldMiss] {
		v.miss.write.set = v.nonmiss.write.set
	}
	if !seen[ofp.TFPApplySetfieldMiss] {
		v.miss.apply.set = v.nonmiss.apply.set
	}
	v.match |= v.mask
	v.wild |= v.mask
	v.wild &= v.match
	return v
}

func nextBit(n *[4]uint64, t int) bool { return n[t/64]&(1<<(t%64)) != 0 }

// nextEqual compares next-table sets the way Open vSwitch does: a table
// may not go to itself or an earlier table, so the next table of a being
// b itself does not count.
func nextEqual(a *[4]uint64, aid int, b *[4]uint64, bid int) bool {
	if bid == aid+1 && nextBit(a, bid) && !nextBit(b, bid) {
		x := *a
		x[bid/64] &^= 1 << (bid % 64)
		return x == *b
	}
	if aid == bid+1 {
		return nextEqual(b, bid, a, aid)
	}
	return *a == *b
}

func (a *instFeatures) equal(aid int, b *instFeatures, bid int) bool {
	return nextEqual(&a.next, aid, &b.next, bid) && a.insts == b.insts && a.write == b.write && a.apply == b.apply
}

func (a *instFeatures) empty() bool {
	return a.next == [4]uint64{} && a.insts == 0 && a.write == actFeatures{} && a.apply == actFeatures{}
}

func (a *tableFeatures) equal(b *tableFeatures) bool {
	return a.metaMatch == b.metaMatch && a.metaWrite == b.metaWrite && a.maxEntries == b.maxEntries &&
		a.nonmiss.equal(int(a.id), &b.nonmiss, int(b.id)) && a.miss.equal(int(a.id), &b.miss, int(b.id)) &&
		a.match == b.match
}

func (a *tableFeatures) empty() bool {
	return a.metaMatch == 0 && a.metaWrite == 0 && a.maxEntries == 0 && a.nonmiss.empty() && a.miss.empty() && a.match == 0
}

// printNames prints names grouped by common prefixes ("eth_{src,dst}")
// as Open vSwitch's print_names does.
func printNames(ids []string, prefix int) string {
	var sb strings.Builder
	for group := 0; len(ids) > 0; group++ {
		if group > 0 {
			if prefix > 0 {
				sb.WriteByte(',')
			} else {
				sb.WriteByte(' ')
			}
		}
		extra, run := 0, 1
		if len(ids) >= 2 {
			extra = commonPrefix(ids[0][prefix:], ids[1][prefix:])
			if extra > 0 {
				run = 2
				for run < len(ids) && commonPrefix(ids[0][prefix:], ids[run][prefix:]) > 0 {
					run++
				}
			}
		}
		if run == 1 {
			sb.WriteString(ids[0][prefix:])
		} else {
			sb.WriteString(ids[0][prefix:prefix+extra] + "{" + printNames(ids[:run], prefix+extra) + "}")
		}
		ids = ids[run:]
	}
	return sb.String()
}

// commonPrefix is the length of the common prefix of a and b up to and
// including its last '_'.
func commonPrefix(a, b string) int {
	n := 0
	for i := 0; i < len(a) && i < len(b) && a[i] == b[i]; i++ {
		if a[i] == '_' {
			n = i + 1
		}
	}
	return n
}

func (s fieldSet) String() string {
	var names []string
	for i := range mfOrder {
		if s&(1<<i) != 0 {
			names = append(names, mfOrder[i].name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " " + printNames(names, 0)
}

func formatActFeatures(sb *strings.Builder, a *actFeatures) {
	if a.acts != 0 {
		var names []string
		for i := range ovsActions {
			if a.acts&(1<<i) != 0 {
				names = append(names, ovsActions[i].name)
			}
		}
		sb.WriteString("        actions: " + strings.Join(names, " ") + "\n")
	}
	if a.set != 0 {
		sb.WriteString("        supported on Set-Field:" + a.set.String() + "\n")
	}
}

func formatInstFeatures(sb *strings.Builder, in, prev *instFeatures) {
	if in.next != [4]uint64{} {
		sb.WriteString("      next tables: ")
		var parts []string
		for t := 0; t < 255; {
			if !nextBit(&in.next, t) {
				t++
				continue
			}
			end := t + 1
			for end < 255 && nextBit(&in.next, end) {
				end++
			}
			if end == t+1 {
				parts = append(parts, fmt.Sprint(t))
			} else {
				parts = append(parts, fmt.Sprintf("%d-%d", t, end-1))
			}
			t = end
		}
		sb.WriteString(strings.Join(parts, ",") + "\n")
	}
	if in.insts != 0 {
		if prev != nil && in.insts == prev.insts {
			sb.WriteString("      (same instructions)\n")
		} else {
			var names []string
			for i := range instNames {
				if in.insts&(1<<i) != 0 {
					names = append(names, instNames[i])
				}
			}
			sb.WriteString("      instructions: " + strings.Join(names, " ") + "\n")
		}
	}
	switch {
	case prev != nil && in.write == prev.write && in.apply == prev.apply && in.write.set != 0:
		sb.WriteString("      (same actions)\n")
	case in.write != in.apply:
		sb.WriteString("      Write-Actions features:\n")
		formatActFeatures(sb, &in.write)
		sb.WriteString("      Apply-Actions features:\n")
		formatActFeatures(sb, &in.apply)
	case in.write.acts != 0 || in.write.set != 0:
		sb.WriteString("      Write-Actions and Apply-Actions features:\n")
		formatActFeatures(sb, &in.write)
	}
}

// formatTableFeatures prints the tables of one table features reply
// message.
func formatTableFeatures(list []ofp.TableFeatures) string {
	var sb strings.Builder
	ditto := newDittoRun()
	var prev *tableFeatures
	for i := range list {
		tf := decodeTableFeatures(&list[i])
		same := prev != nil && tf.equal(prev)
		if same && tf.name == "" {
			ditto.add(tf.id)
			prev = &tf
			continue
		}
		ditto.flush(&sb)
		fmt.Fprintf(&sb, "\n  table %d", tf.id)
		if tf.name != "" {
			fmt.Fprintf(&sb, " (\"%s\")", tf.name)
		}
		sb.WriteByte(':')
		if same {
			sb.WriteString(" ditto")
			prev = &tf
			continue
		}
		sb.WriteByte('\n')
		if tf.metaMatch != 0 || tf.metaWrite != 0 {
			fmt.Fprintf(&sb, "    metadata: match=%#x write=%#x\n", tf.metaMatch, tf.metaWrite)
		}
		if tf.maxEntries != 0 {
			fmt.Fprintf(&sb, "    max_entries=%d\n", tf.maxEntries)
		}
		var pn, pm *instFeatures
		if prev != nil {
			pn, pm = &prev.nonmiss, &prev.miss
		}
		switch {
		case prev != nil && tf.nonmiss.equal(int(tf.id), pn, int(prev.id)) && tf.miss.equal(int(tf.id), pm, int(prev.id)):
			if !tf.nonmiss.empty() {
				sb.WriteString("    (same instructions)\n")
			}
		case !tf.nonmiss.equal(int(tf.id), &tf.miss, int(tf.id)):
			sb.WriteString("    instructions (other than table miss):\n")
			formatInstFeatures(&sb, &tf.nonmiss, pn)
			sb.WriteString("    instructions (table miss):\n")
			formatInstFeatures(&sb, &tf.miss, pm)
		case !tf.nonmiss.empty():
			sb.WriteString("    instructions (table miss and others):\n")
			formatInstFeatures(&sb, &tf.nonmiss, pn)
		}
		if tf.match != 0 {
			if prev != nil && tf.match == prev.match {
				sb.WriteString("    (same matching)\n")
			} else {
				sb.WriteString("    matching:\n")
				for _, g := range []struct {
					set   fieldSet
					title string
				}{
					{tf.match & tf.mask & tf.wild, "arbitrary mask"},
					{tf.match &^ tf.mask & tf.wild, "exact match or wildcard"},
					{tf.match &^ tf.mask &^ tf.wild, "must exact match"},
				} {
					if g.set != 0 {
						sb.WriteString("      " + g.title + ":" + g.set.String() + "\n")
					}
				}
			}
		}
		prev = &tf
	}
	ditto.flush(&sb)
	return sb.String()
}
