package ofctl

// Printing matches in ovs-ofctl's syntax.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/govs/govs/ofproto/ofp"
)

// matchView indexes an OXM match for printing.
type matchView struct {
	f    [ofp.NumOXMFields]*ofp.OXM
	used [ofp.NumOXMFields]bool
	rest []*ofp.OXM // duplicates and non-basic fields, printed last
}

func newMatchView(m *ofp.Match) *matchView {
	v := &matchView{}
	for i := range m.Fields {
		o := &m.Fields[i]
		if o.Class != ofp.OXMClassOpenFlowBasic || int(o.Field) >= ofp.NumOXMFields ||
			len(o.Value) != ofp.OXMFields[o.Field].Len || (o.HasMask && len(o.Mask) != len(o.Value)) ||
			v.f[o.Field] != nil {
			v.rest = append(v.rest, o)
			continue
		}
		v.f[o.Field] = o
	}
	return v
}

// get returns field f's value (masked) and mask (nil: exact), marking it
// printed.
func (v *matchView) get(f ofp.OXMField) (val, mask []byte, ok bool) {
	o := v.f[f]
	if o == nil {
		return nil, nil, false
	}
	v.used[f] = true
	val = slices.Clone(o.Value)
	if o.HasMask {
		if allOnes(o.Mask) {
			return val, nil, true
		}
		mask = o.Mask
		for i := range val {
			val[i] &= mask[i]
		}
	}
	return val, mask, true
}

// exact returns the unmasked integer value of f without marking it.
func (v *matchView) exact(f ofp.OXMField) (uint64, bool) {
	o := v.f[f]
	if o == nil || (o.HasMask && !allOnes(o.Mask)) {
		return 0, false
	}
	return beUint(o.Value), true
}

// FormatMatch formats a match the way ovs-ofctl prints it (without a
// priority); the empty match is "".
func FormatMatch(m *ofp.Match) string { return formatMatch(m, -1) }

// defaultPriority is OFP_DEFAULT_PRIORITY, which ovs-ofctl leaves out.
const defaultPriority = 0x8000

// formatMatch is Open vSwitch's match_format for an OpenFlow 1.3 match:
// priority (unless it is the default, or negative), the protocol
// shorthand, then the fields in Open vSwitch's order and names.
func formatMatch(m *ofp.Match, priority int) string {
	v := newMatchView(m)
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	if priority >= 0 && priority != defaultPriority {
		add("priority=%d", priority)
	}

	ethType, hasEth := v.exact(ofp.OXMEthType)
	proto, hasProto := v.exact(ofp.OXMIPProto)
	skipType, skipProto := false, false
	if hasEth {
		skipType = true
		switch ethType {
		case ethIPv4, ethIPv6:
			names := map[uint64]string{protoICMP: "icmp", protoTCP: "tcp", protoUDP: "udp", protoSCTP: "sctp"}
			base := "ip"
			if ethType == ethIPv6 {
				names = map[uint64]string{protoICMPv6: "icmp6", protoTCP: "tcp6", protoUDP: "udp6", protoSCTP: "sctp6"}
				base = "ipv6"
			}
			if n, ok := names[proto]; ok && hasProto {
				add("%s", n)
				skipProto = true
				v.used[ofp.OXMIPProto] = true
			} else {
				add("%s", base)
			}
		case ethARP:
			add("arp")
		case ethRARP:
			add("rarp")
		case ethMPLS:
			add("mpls")
		case ethMPLSMcst:
			add("mplsm")
		default:
			skipType = false
		}
		if skipType {
			v.used[ofp.OXMEthType] = true
		}
	}

	hex64 := func(name string, f ofp.OXMField) {
		if val, mask, ok := v.get(f); ok {
			s := name + "=" + hexValue(beUint(val))
			if mask != nil {
				s += "/" + hexValue(beUint(mask))
			}
			parts = append(parts, s)
		}
	}
	hex64("tun_id", ofp.OXMTunnelID)
	hex64("metadata", ofp.OXMMetadata)
	if val, _, ok := v.get(ofp.OXMInPort); ok {
		add("in_port=%s", formatPort(uint32(beUint(val))))
	}
	if val, _, ok := v.get(ofp.OXMInPhyPort); ok {
		add("in_phy_port=%s", formatPort(uint32(beUint(val))))
	}

	// VLAN: rebuild Open vSwitch's TCI and mask.
	var tci, tciMask uint16
	if val, mask, ok := v.get(ofp.OXMVlanVID); ok {
		m := uint16(0x1fff)
		if mask != nil {
			m = uint16(beUint(mask)) & 0x1fff
		}
		tci, tciMask = uint16(beUint(val))&m, m
	}
	if val, _, ok := v.get(ofp.OXMVlanPCP); ok {
		tci = tci&^0xe000 | uint16(val[0]&7)<<13 | 0x1000
		tciMask |= 0xf000
	}
	if tciMask != 0 {
		vidMask, pcpMask := tciMask&0x0fff, tciMask&0xe000
		if tciMask&0x1000 != 0 && tci&0x1000 != 0 && (vidMask == 0 || vidMask == 0xfff) &&
			(pcpMask == 0 || pcpMask == 0xe000) && (vidMask != 0 || pcpMask != 0) {
			if vidMask != 0 {
				add("dl_vlan=%d", tci&0xfff)
			}
			if pcpMask != 0 {
				add("dl_vlan_pcp=%d", tci>>13)
			}
		} else if tciMask == 0xffff {
			add("vlan_tci=0x%04x", tci)
		} else {
			add("vlan_tci=0x%04x/0x%04x", tci, tciMask)
		}
	}

	eth := func(name string, f ofp.OXMField) {
		if val, mask, ok := v.get(f); ok {
			s := name + "=" + formatMAC(val)
			if mask != nil {
				s += "/" + formatMAC(mask)
			}
			parts = append(parts, s)
		}
	}
	ip := func(name string, f ofp.OXMField) {
		if val, mask, ok := v.get(f); ok {
			parts = append(parts, name+"="+formatIPMasked(val, mask))
		}
	}
	eth("dl_src", ofp.OXMEthSrc)
	eth("dl_dst", ofp.OXMEthDst)
	if !skipType {
		if val, _, ok := v.get(ofp.OXMEthType); ok {
			add("dl_type=0x%04x", beUint(val))
		}
	}
	isARP := hasEth && (ethType == ethARP || ethType == ethRARP)
	switch {
	case hasEth && ethType == ethIPv6:
		ip("ipv6_src", ofp.OXMIPv6Src)
		ip("ipv6_dst", ofp.OXMIPv6Dst)
		if val, mask, ok := v.get(ofp.OXMIPv6Flabel); ok {
			if mask == nil {
				add("ipv6_label=0x%05x", beUint(val))
			} else {
				add("ipv6_label=0x%05x/0x%05x", beUint(val), beUint(mask))
			}
		}
	case isARP:
		ip("arp_spa", ofp.OXMArpSpa)
		ip("arp_tpa", ofp.OXMArpTpa)
	default:
		ip("nw_src", ofp.OXMIPv4Src)
		ip("nw_dst", ofp.OXMIPv4Dst)
	}
	if !skipProto {
		if isARP {
			if val, _, ok := v.get(ofp.OXMArpOp); ok {
				add("arp_op=%d", beUint(val))
			}
		} else if val, _, ok := v.get(ofp.OXMIPProto); ok {
			add("nw_proto=%d", val[0])
		}
	}
	if isARP {
		eth("arp_sha", ofp.OXMArpSha)
		eth("arp_tha", ofp.OXMArpTha)
	}
	if val, _, ok := v.get(ofp.OXMIPDSCP); ok {
		add("nw_tos=%d", (val[0]&0x3f)<<2)
	}
	if val, _, ok := v.get(ofp.OXMIPECN); ok {
		add("nw_ecn=%d", val[0]&3)
	}
	for _, x := range []struct {
		name string
		f    ofp.OXMField
	}{{"mpls_label", ofp.OXMMPLSLabel}, {"mpls_tc", ofp.OXMMPLSTC}, {"mpls_bos", ofp.OXMMPLSBOS}} {
		if val, _, ok := v.get(x.f); ok {
			add("%s=%d", x.name, beUint(val))
		}
	}
	be16 := func(name string, f ofp.OXMField) {
		if val, mask, ok := v.get(f); ok {
			if mask == nil {
				add("%s=%d", name, beUint(val))
			} else {
				add("%s=0x%x/0x%x", name, beUint(val), beUint(mask))
			}
		}
	}
	switch {
	case hasEth && ethType == ethIPv4 && hasProto && proto == protoICMP:
		be16("icmp_type", ofp.OXMICMPv4Type)
		be16("icmp_code", ofp.OXMICMPv4Code)
	case hasEth && ethType == ethIPv6 && hasProto && proto == protoICMPv6:
		be16("icmp_type", ofp.OXMICMPv6Type)
		be16("icmp_code", ofp.OXMICMPv6Code)
		ip("nd_target", ofp.OXMIPv6NDTarget)
		eth("nd_sll", ofp.OXMIPv6NDSll)
		eth("nd_tll", ofp.OXMIPv6NDTll)
	default:
		src, dst := []ofp.OXMField{ofp.OXMTCPSrc, ofp.OXMUDPSrc, ofp.OXMSCTPSrc}, []ofp.OXMField{ofp.OXMTCPDst, ofp.OXMUDPDst, ofp.OXMSCTPDst}
		if s, d, ok := l4Fields(ethType, proto); ok && hasProto {
			src, dst = []ofp.OXMField{s}, []ofp.OXMField{d}
		}
		for _, f := range src {
			be16("tp_src", f)
		}
		for _, f := range dst {
			be16("tp_dst", f)
		}
	}
	// Fields Open vSwitch does not have, or that are out of place.
	if val, mask, ok := v.get(ofp.OXMPBBISID); ok {
		if mask == nil {
			add("pbb_isid=%d", beUint(val))
		} else {
			add("pbb_isid=0x%x/0x%x", beUint(val), beUint(mask))
		}
	}
	hex64("ipv6_exthdr", ofp.OXMIPv6Exthdr)
	for f := range ofp.OXMField(ofp.NumOXMFields) {
		if v.f[f] != nil && !v.used[f] {
			parts = append(parts, formatOXMRaw(v.f[f]))
		}
	}
	for _, o := range v.rest {
		parts = append(parts, formatOXMRaw(o))
	}
	return strings.Join(parts, ",")
}

// formatOXMRaw formats a field that has no place in Open vSwitch's order:
// a basic field under its OXM name, anything else by class and number.
func formatOXMRaw(o *ofp.OXM) string {
	if o.Class == ofp.OXMClassOpenFlowBasic && int(o.Field) < ofp.NumOXMFields && len(o.Value) == ofp.OXMFields[o.Field].Len {
		f := ofp.OXMField(o.Field)
		s := ofp.OXMFields[f].Name + "=" + formatFieldValue(f, o.Value)
		if o.HasMask && len(o.Mask) == len(o.Value) {
			s += "/" + formatFieldValue(f, o.Mask)
		}
		return s
	}
	s := "oxm(class=0x" + strconv.FormatUint(uint64(o.Class), 16) + ",field=" + strconv.Itoa(int(o.Field))
	if o.Class == ofp.OXMClassExperimenter {
		s += fmt.Sprintf(",experimenter=0x%x", o.Experimenter)
	}
	s += fmt.Sprintf(",value=0x%x", o.Value)
	if o.HasMask {
		s += fmt.Sprintf(",mask=0x%x", o.Mask)
	}
	return s + ")"
}
