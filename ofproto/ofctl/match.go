package ofctl

import (
	"fmt"
	"slices"
	"strings"

	"github.com/govs/govs/ofproto/ofp"
)

// EtherTypes and IP protocols the syntax knows by name.
const (
	ethIPv4     = 0x0800
	ethARP      = 0x0806
	ethRARP     = 0x8035
	ethIPv6     = 0x86dd
	ethMPLS     = 0x8847
	ethMPLSMcst = 0x8848
	ethPBB      = 0x88e7

	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoSCTP   = 132
	protoICMPv6 = 58
)

// protocols are ovs-ofctl's protocol shorthands: each sets eth_type and,
// when proto is non-zero, ip_proto.
var protocols = map[string]struct {
	ethType uint16
	proto   uint8
}{
	"ip": {ethIPv4, 0}, "ipv4": {ethIPv4, 0}, "ip4": {ethIPv4, 0},
	"icmp": {ethIPv4, protoICMP}, "tcp": {ethIPv4, protoTCP}, "udp": {ethIPv4, protoUDP}, "sctp": {ethIPv4, protoSCTP},
	"ipv6": {ethIPv6, 0}, "ip6": {ethIPv6, 0},
	"icmp6": {ethIPv6, protoICMPv6}, "tcp6": {ethIPv6, protoTCP}, "udp6": {ethIPv6, protoUDP}, "sctp6": {ethIPv6, protoSCTP},
	"arp": {ethARP, 0}, "rarp": {ethRARP, 0},
	"mpls": {ethMPLS, 0}, "mplsm": {ethMPLSMcst, 0},
}

// mkind is what a match keyword sets.
type mkind uint8

const (
	mkOXM      mkind = iota // one basic field
	mkTpSrc                 // tp_src: tcp/udp/sctp source port or ICMP type, by protocol
	mkTpDst                 // tp_dst: destination port or ICMP code, by protocol
	mkICMPType              // icmp_type: ICMPv4 or ICMPv6 type, by protocol
	mkICMPCode              // icmp_code
	mkDlVlan                // dl_vlan: VID, tag present (0xffff: no tag)
	mkVlanVID               // vlan_vid: the OXM value, 0x1000 = tag present
	mkVlanPCP               // vlan_pcp/dl_vlan_pcp: PCP, tag present
	mkVlanTCI               // vlan_tci: the TCI, 0x1000 = tag present
	mkNwTos                 // nw_tos: the TOS byte's DSCP bits
)

type matchKeyword struct {
	kind mkind
	f    ofp.OXMField
}

// matchKeywords are the field names of the syntax: each OXM name and
// Open vSwitch's names.
var matchKeywords = map[string]matchKeyword{
	"in_port": {mkOXM, ofp.OXMInPort}, "in_port_oxm": {mkOXM, ofp.OXMInPort},
	"in_phy_port": {mkOXM, ofp.OXMInPhyPort},
	"metadata":    {mkOXM, ofp.OXMMetadata},
	"dl_src":      {mkOXM, ofp.OXMEthSrc}, "eth_src": {mkOXM, ofp.OXMEthSrc},
	"dl_dst": {mkOXM, ofp.OXMEthDst}, "eth_dst": {mkOXM, ofp.OXMEthDst},
	"dl_type": {mkOXM, ofp.OXMEthType}, "eth_type": {mkOXM, ofp.OXMEthType},
	"dl_vlan": {mkDlVlan, 0}, "vlan_vid": {mkVlanVID, 0}, "vlan_tci": {mkVlanTCI, 0},
	"dl_vlan_pcp": {mkVlanPCP, 0}, "vlan_pcp": {mkVlanPCP, 0},
	"nw_src": {mkOXM, ofp.OXMIPv4Src}, "ip_src": {mkOXM, ofp.OXMIPv4Src}, "ipv4_src": {mkOXM, ofp.OXMIPv4Src},
	"nw_dst": {mkOXM, ofp.OXMIPv4Dst}, "ip_dst": {mkOXM, ofp.OXMIPv4Dst}, "ipv4_dst": {mkOXM, ofp.OXMIPv4Dst},
	"nw_proto": {mkOXM, ofp.OXMIPProto}, "ip_proto": {mkOXM, ofp.OXMIPProto},
	"nw_tos": {mkNwTos, 0}, "ip_dscp": {mkOXM, ofp.OXMIPDSCP},
	"nw_ecn": {mkOXM, ofp.OXMIPECN}, "ip_ecn": {mkOXM, ofp.OXMIPECN},
	"tp_src": {mkTpSrc, 0}, "tp_dst": {mkTpDst, 0},
	"tcp_src": {mkOXM, ofp.OXMTCPSrc}, "tcp_dst": {mkOXM, ofp.OXMTCPDst},
	"udp_src": {mkOXM, ofp.OXMUDPSrc}, "udp_dst": {mkOXM, ofp.OXMUDPDst},
	"sctp_src": {mkOXM, ofp.OXMSCTPSrc}, "sctp_dst": {mkOXM, ofp.OXMSCTPDst},
	"icmp_type": {mkICMPType, 0}, "icmp_code": {mkICMPCode, 0},
	"icmpv4_type": {mkOXM, ofp.OXMICMPv4Type}, "icmpv4_code": {mkOXM, ofp.OXMICMPv4Code},
	"icmpv6_type": {mkOXM, ofp.OXMICMPv6Type}, "icmpv6_code": {mkOXM, ofp.OXMICMPv6Code},
	"arp_op": {mkOXM, ofp.OXMArpOp}, "arp_spa": {mkOXM, ofp.OXMArpSpa}, "arp_tpa": {mkOXM, ofp.OXMArpTpa},
	"arp_sha": {mkOXM, ofp.OXMArpSha}, "arp_tha": {mkOXM, ofp.OXMArpTha},
	"ipv6_src": {mkOXM, ofp.OXMIPv6Src}, "ipv6_dst": {mkOXM, ofp.OXMIPv6Dst},
	"ipv6_label": {mkOXM, ofp.OXMIPv6Flabel}, "ipv6_flabel": {mkOXM, ofp.OXMIPv6Flabel},
	"nd_target": {mkOXM, ofp.OXMIPv6NDTarget}, "ipv6_nd_target": {mkOXM, ofp.OXMIPv6NDTarget},
	"nd_sll": {mkOXM, ofp.OXMIPv6NDSll}, "ipv6_nd_sll": {mkOXM, ofp.OXMIPv6NDSll},
	"nd_tll": {mkOXM, ofp.OXMIPv6NDTll}, "ipv6_nd_tll": {mkOXM, ofp.OXMIPv6NDTll},
	"mpls_label": {mkOXM, ofp.OXMMPLSLabel}, "mpls_tc": {mkOXM, ofp.OXMMPLSTC}, "mpls_bos": {mkOXM, ofp.OXMMPLSBOS},
	"pbb_isid": {mkOXM, ofp.OXMPBBISID},
	"tun_id":   {mkOXM, ofp.OXMTunnelID}, "tunnel_id": {mkOXM, ofp.OXMTunnelID},
	"ipv6_exthdr": {mkOXM, ofp.OXMIPv6Exthdr},
}

// ovsOnlyFields are Open vSwitch match fields that OpenFlow 1.3 lacks
// (ovs-ofctl sends them as Nicira extensions, which govs does not speak).
var ovsOnlyFields = []string{"nw_ttl", "ip_frag", "nw_frag", "tcp_flags", "mpls_ttl", "pkt_mark",
	"skb_priority", "actset_output", "conj_id", "dp_hash", "recirc_id", "packet_type",
	"nd_reserved", "nd_options_type", "ct_", "reg", "xreg", "xxreg", "tun_", "nsh_", "nsp", "nsi",
	"dl_vlan1", "vlan_tci1", "dl_vlan_pcp1", "vlan_pcp1"}

func isOVSOnlyField(name string) bool {
	for _, f := range ovsOnlyFields {
		if name == f || (strings.HasSuffix(f, "_") && strings.HasPrefix(name, f)) {
			return true
		}
	}
	for _, p := range []string{"reg", "xreg", "xxreg", "nshc", "tun_metadata"} {
		if rest, ok := strings.CutPrefix(name, p); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			return true
		}
	}
	return false
}

// keywordNames returns every name a flow may use, for suggestions.
func keywordNames(extra ...string) []string {
	names := slices.Collect(func(yield func(string) bool) {
		for k := range matchKeywords {
			if !yield(k) {
				return
			}
		}
		for k := range protocols {
			if !yield(k) {
				return
			}
		}
	})
	names = append(names, extra...)
	slices.Sort(names)
	return names
}

// fieldVal is one field as the user gave it.
type fieldVal struct {
	set  bool
	v, m []byte // OXM-width value and mask (nil: exact)
	pos  int    // offset of the keyword, for errors
	name string // the keyword as written
}

// matchBuilder collects a match the way ovs-ofctl does (later fields
// override earlier ones) and turns it into OXMs in Open vSwitch's order.
type matchBuilder struct {
	f [ofp.NumOXMFields]fieldVal
	// VLAN as Open vSwitch keeps it: a TCI and mask where 0x1000 (CFI)
	// means "a tag is present".
	tci, tciMask uint16
	vlanPos      int
	vlanName     string
	// l4 are tp_src/icmp_type [0] and tp_dst/icmp_code [1] until the
	// protocol is known; l4ICMP says the keyword was icmp_type/icmp_code.
	l4     [2]fieldVal
	l4ICMP [2]bool
}

// setProtocol applies a protocol shorthand.
func (b *matchBuilder) setProtocol(name string, pos int) {
	p := protocols[name]
	b.f[ofp.OXMEthType] = fieldVal{set: true, v: beBytes(uint64(p.ethType), 2), pos: pos, name: name}
	if p.proto != 0 {
		b.f[ofp.OXMIPProto] = fieldVal{set: true, v: []byte{p.proto}, pos: pos, name: name}
	}
}

// setField applies name=value (t is the token, kw the keyword).
func (b *matchBuilder) setField(t token, kw matchKeyword) error {
	if !t.hasValue() || t.value == "" {
		return errAt(t.keyPos, "%s needs a value (%s=VALUE)", t.key, t.key)
	}
	wild := t.value == "*"
	fail := func(err error) error { return errAt(t.valPos, "%s: %v", t.key, err) }
	switch kw.kind {
	case mkOXM:
		if wild {
			b.f[kw.f] = fieldVal{}
			return nil
		}
		v, m, err := parseFieldValue(kw.f, t.value)
		if err != nil {
			return fail(err)
		}
		if m != nil && !fieldInfos[kw.f].maskable {
			return errAt(t.valPos, "%s does not take a mask in OpenFlow 1.3", t.key)
		}
		b.f[kw.f] = fieldVal{set: true, v: v, m: m, pos: t.keyPos, name: t.key}
	case mkTpSrc, mkTpDst, mkICMPType, mkICMPCode:
		i := 0
		if kw.kind == mkTpDst || kw.kind == mkICMPCode {
			i = 1
		}
		if wild {
			b.l4[i] = fieldVal{}
			return nil
		}
		isICMP := kw.kind == mkICMPType || kw.kind == mkICMPCode
		f := ofp.OXMTCPSrc // a 16-bit maskable stand-in
		if isICMP {
			f = ofp.OXMICMPv4Type
		}
		v, m, err := parseFieldValue(f, t.value)
		if err != nil {
			return fail(err)
		}
		if m != nil {
			return errAt(t.valPos, "%s does not take a mask in OpenFlow 1.3", t.key)
		}
		b.l4[i] = fieldVal{set: true, v: v, m: m, pos: t.keyPos, name: t.key}
		b.l4ICMP[i] = isICMP
	case mkNwTos:
		if wild {
			b.f[ofp.OXMIPDSCP] = fieldVal{}
			return nil
		}
		x, ok := parseUint(t.value, 8)
		if !ok {
			return errAt(t.valPos, "nw_tos: %q is not a TOS byte (0..255)", t.value)
		}
		if x&3 != 0 {
			return errAt(t.valPos, "nw_tos: %s has ECN bits set; nw_tos is the TOS byte's DSCP part (a multiple of 4), use nw_ecn for ECN", t.value)
		}
		b.f[ofp.OXMIPDSCP] = fieldVal{set: true, v: []byte{byte(x >> 2)}, pos: t.keyPos, name: t.key}
	default:
		return b.setVLAN(t, kw.kind, wild)
	}
	return nil
}

// setVLAN applies dl_vlan, vlan_vid, vlan_pcp/dl_vlan_pcp or vlan_tci to
// the TCI, with Open vSwitch's semantics.
func (b *matchBuilder) setVLAN(t token, k mkind, wild bool) error {
	b.vlanPos, b.vlanName = t.keyPos, t.key
	vs, ms, hasMask := strings.Cut(t.value, "/")
	num := func(s string, bits int) (uint16, error) {
		x, ok := parseUint(s, bits)
		if !ok {
			return 0, errAt(t.valPos, "%s: %q is not a number of at most %d bits", t.key, s, bits)
		}
		return uint16(x), nil
	}
	if hasMask && k != mkVlanVID && k != mkVlanTCI {
		return errAt(t.valPos, "%s does not take a mask", t.key)
	}
	switch k {
	case mkDlVlan:
		if wild {
			b.tci &^= 0x1fff
			b.tciMask &^= 0x1fff
			return nil
		}
		x, err := num(vs, 16)
		if err != nil {
			return err
		}
		if x == 0xffff { // OpenFlow 1.0's "no VLAN"
			b.tci, b.tciMask = 0, 0xffff
			return nil
		}
		if x > 0xfff {
			return errAt(t.valPos, "dl_vlan: %s is not a VLAN id (0..4095, or 0xffff for no VLAN)", vs)
		}
		b.tci = b.tci&^0x1fff | x | 0x1000
		b.tciMask |= 0x1fff
	case mkVlanVID:
		if wild {
			b.tci &^= 0x1fff
			b.tciMask &^= 0x1fff
			return nil
		}
		x, err := num(vs, 13)
		if err != nil {
			return err
		}
		m := uint16(0x1fff)
		if hasMask {
			if m, err = num(ms, 13); err != nil {
				return err
			}
		}
		b.tci = b.tci&^m | x&m
		b.tciMask |= m
	case mkVlanPCP:
		if wild {
			b.tci &^= 0xe000
			b.tciMask &^= 0xe000
			return nil
		}
		x, err := num(vs, 3)
		if err != nil {
			return err
		}
		b.tci = b.tci&^0xe000 | x<<13 | 0x1000
		b.tciMask |= 0xf000
	case mkVlanTCI:
		if wild {
			b.tci, b.tciMask = 0, 0
			return nil
		}
		x, err := num(vs, 16)
		if err != nil {
			return err
		}
		m := uint16(0xffff)
		if hasMask {
			if m, err = num(ms, 16); err != nil {
				return err
			}
		}
		b.tci, b.tciMask = x&m, m
	}
	return nil
}

// exact returns the exact value of a set, unmasked field of up to 8
// bytes.
func (b *matchBuilder) exact(f ofp.OXMField) (uint64, bool) {
	fv := &b.f[f]
	if !fv.set || fv.m != nil {
		return 0, false
	}
	return beUint(fv.v), true
}

// l4Fields are the OXM fields tp_src/tp_dst and icmp_type/icmp_code stand
// for, by IP protocol.
func l4Fields(ethType uint64, proto uint64) (src, dst ofp.OXMField, ok bool) {
	switch {
	case proto == protoTCP:
		return ofp.OXMTCPSrc, ofp.OXMTCPDst, true
	case proto == protoUDP:
		return ofp.OXMUDPSrc, ofp.OXMUDPDst, true
	case proto == protoSCTP:
		return ofp.OXMSCTPSrc, ofp.OXMSCTPDst, true
	case proto == protoICMP && ethType == ethIPv4:
		return ofp.OXMICMPv4Type, ofp.OXMICMPv4Code, true
	case proto == protoICMPv6 && ethType == ethIPv6:
		return ofp.OXMICMPv6Type, ofp.OXMICMPv6Code, true
	}
	return 0, 0, false
}

// finish resolves the protocol-dependent keywords, checks every field's
// prerequisites and returns the OXM match in Open vSwitch's order.
func (b *matchBuilder) finish() (ofp.Match, error) {
	ethType, hasEth := b.exact(ofp.OXMEthType)
	proto, hasProto := b.exact(ofp.OXMIPProto)
	isIP := hasEth && (ethType == ethIPv4 || ethType == ethIPv6)
	for i := range b.l4 {
		g := &b.l4[i]
		if !g.set {
			continue
		}
		src, dst, ok := l4Fields(ethType, proto)
		if !ok || !isIP || !hasProto {
			if b.l4ICMP[i] {
				return ofp.Match{}, errAt(g.pos, "%s needs icmp or icmp6 (eth_type=0x0800,ip_proto=1 or eth_type=0x86dd,ip_proto=58)", g.name)
			}
			return ofp.Match{}, errAt(g.pos, "%s needs a protocol: tcp, udp, sctp, icmp or icmp6 (or tcp6, udp6, sctp6)", g.name)
		}
		f := src
		if i == 1 {
			f = dst
		}
		isICMPField := f == ofp.OXMICMPv4Type || f == ofp.OXMICMPv4Code || f == ofp.OXMICMPv6Type || f == ofp.OXMICMPv6Code
		if b.l4ICMP[i] && !isICMPField {
			return ofp.Match{}, errAt(g.pos, "%s needs icmp or icmp6, not ip_proto=%d", g.name, proto)
		}
		v, m := g.v, g.m
		if isICMPField {
			x := beUint(v)
			if m != nil {
				return ofp.Match{}, errAt(g.pos, "%s does not take a mask with icmp", g.name)
			}
			if x > 0xff {
				return ofp.Match{}, errAt(g.pos, "%s=%d: ICMP types and codes are 0..255", g.name, x)
			}
			v = []byte{byte(x)}
		}
		if old := &b.f[f]; !old.set || old.pos < g.pos {
			b.f[f] = fieldVal{set: true, v: v, m: m, pos: g.pos, name: g.name}
		}
	}
	for f := range ofp.OXMField(ofp.NumOXMFields) {
		if fv := &b.f[f]; fv.set {
			if err := b.checkPrereq(f, ethType, hasEth, proto, hasProto); err != nil {
				return ofp.Match{}, errAt(fv.pos, "%s needs %s", fv.name, err)
			}
		}
	}
	vlan, err := b.vlanOXMs()
	if err != nil {
		return ofp.Match{}, err
	}
	var m ofp.Match
	for _, f := range encodeOrder {
		if f == ofp.OXMVlanVID {
			m.Fields = append(m.Fields, vlan...)
			continue
		}
		fv := &b.f[f]
		if !fv.set {
			continue
		}
		if o, ok := makeOXM(f, fv.v, fv.m); ok {
			m.Fields = append(m.Fields, o)
		}
	}
	return m, nil
}

// makeOXM returns the OXM for value v and mask m (nil: exact) the way Open
// vSwitch encodes it: the value is masked, an all-ones mask is left out,
// and an all-zeros mask leaves out the field (ok false).
func makeOXM(f ofp.OXMField, v, m []byte) (ofp.OXM, bool) {
	o := ofp.OXM{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(f), Value: slices.Clone(v)}
	if m != nil && !allOnes(m) {
		if allZero(m) {
			return o, false
		}
		o.HasMask, o.Mask = true, slices.Clone(m)
		for i := range o.Value {
			o.Value[i] &= m[i]
		}
	}
	return o, true
}

// encodeOrder is the order in which Open vSwitch writes OXM fields
// (nx_put_raw); the VLAN fields go where OXMVlanVID is.
var encodeOrder = []ofp.OXMField{
	ofp.OXMInPort, ofp.OXMInPhyPort, ofp.OXMEthSrc, ofp.OXMEthDst, ofp.OXMEthType, ofp.OXMVlanVID,
	ofp.OXMMPLSTC, ofp.OXMMPLSBOS, ofp.OXMMPLSLabel,
	ofp.OXMIPv4Src, ofp.OXMIPv4Dst, ofp.OXMIPv6Src, ofp.OXMIPv6Dst, ofp.OXMIPDSCP, ofp.OXMIPECN,
	ofp.OXMIPv6Flabel, ofp.OXMIPProto,
	ofp.OXMTCPSrc, ofp.OXMTCPDst, ofp.OXMUDPSrc, ofp.OXMUDPDst, ofp.OXMSCTPSrc, ofp.OXMSCTPDst,
	ofp.OXMICMPv4Type, ofp.OXMICMPv4Code, ofp.OXMICMPv6Type, ofp.OXMICMPv6Code,
	ofp.OXMIPv6NDTarget, ofp.OXMIPv6NDSll, ofp.OXMIPv6NDTll,
	ofp.OXMArpOp, ofp.OXMArpSpa, ofp.OXMArpTpa, ofp.OXMArpSha, ofp.OXMArpTha,
	ofp.OXMPBBISID, ofp.OXMIPv6Exthdr, ofp.OXMTunnelID, ofp.OXMMetadata,
}

// vlanOXMs turns the TCI into vlan_vid and vlan_pcp OXMs (nx_put_raw's
// rules), refusing what OpenFlow 1.3 cannot express.
func (b *matchBuilder) vlanOXMs() ([]ofp.OXM, error) {
	var out []ofp.OXM
	vid, vidMask := b.tci&0x1fff, b.tciMask&0x1fff
	if vidMask != 0 {
		if o, ok := makeOXM(ofp.OXMVlanVID, beBytes(uint64(vid), 2), beBytes(uint64(vidMask), 2)); ok {
			if vidMask == 0x1fff {
				o.HasMask, o.Mask = false, nil
			}
			out = append(out, o)
		}
	}
	if pcpMask := b.tciMask >> 13; pcpMask != 0 {
		if vid == 0 && b.tci>>13 == 0 {
			// "No VLAN" (e.g. dl_vlan=0xffff): vlan_vid=0 says it all.
			return out, nil
		}
		if b.tciMask&0x1000 == 0 || b.tci&0x1000 == 0 {
			return nil, errAt(b.vlanPos, "%s: matching a VLAN PCP needs the VLAN present bit (0x1000) set in the TCI", b.vlanName)
		}
		if pcpMask != 7 {
			return nil, errAt(b.vlanPos, "%s: OpenFlow 1.3 cannot match part of a VLAN PCP", b.vlanName)
		}
		out = append(out, ofp.OXM{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(ofp.OXMVlanPCP), Value: []byte{byte(b.tci >> 13)}})
	}
	return out, nil
}

// checkPrereq checks OpenFlow 1.3's prerequisites of field f (table 12
// of the specification) and returns what is missing.
func (b *matchBuilder) checkPrereq(f ofp.OXMField, ethType uint64, hasEth bool, proto uint64, hasProto bool) error {
	eth := func(types ...uint64) bool { return hasEth && slices.Contains(types, ethType) }
	ipProto := func(p uint64) bool { return eth(ethIPv4, ethIPv6) && hasProto && proto == p }
	missing := func(s string) error { return fmt.Errorf("%s", s) }
	switch f {
	case ofp.OXMInPhyPort:
		if !b.f[ofp.OXMInPort].set {
			return missing("in_port")
		}
	case ofp.OXMIPDSCP, ofp.OXMIPECN, ofp.OXMIPProto:
		if !eth(ethIPv4, ethIPv6) {
			return missing("ip or ipv6 (eth_type=0x0800 or 0x86dd)")
		}
	case ofp.OXMIPv4Src, ofp.OXMIPv4Dst:
		if !eth(ethIPv4) {
			return missing("ip (eth_type=0x0800)")
		}
	case ofp.OXMTCPSrc, ofp.OXMTCPDst:
		if !ipProto(protoTCP) {
			return missing("tcp or tcp6 (ip_proto=6)")
		}
	case ofp.OXMUDPSrc, ofp.OXMUDPDst:
		if !ipProto(protoUDP) {
			return missing("udp or udp6 (ip_proto=17)")
		}
	case ofp.OXMSCTPSrc, ofp.OXMSCTPDst:
		if !ipProto(protoSCTP) {
			return missing("sctp or sctp6 (ip_proto=132)")
		}
	case ofp.OXMICMPv4Type, ofp.OXMICMPv4Code:
		if !eth(ethIPv4) || !ipProto(protoICMP) {
			return missing("icmp (eth_type=0x0800,ip_proto=1)")
		}
	case ofp.OXMArpOp, ofp.OXMArpSpa, ofp.OXMArpTpa, ofp.OXMArpSha, ofp.OXMArpTha:
		if !eth(ethARP) {
			return missing("arp (eth_type=0x0806)")
		}
	case ofp.OXMIPv6Src, ofp.OXMIPv6Dst, ofp.OXMIPv6Flabel, ofp.OXMIPv6Exthdr:
		if !eth(ethIPv6) {
			return missing("ipv6 (eth_type=0x86dd)")
		}
	case ofp.OXMICMPv6Type, ofp.OXMICMPv6Code:
		if !eth(ethIPv6) || !ipProto(protoICMPv6) {
			return missing("icmp6 (eth_type=0x86dd,ip_proto=58)")
		}
	case ofp.OXMIPv6NDTarget, ofp.OXMIPv6NDSll, ofp.OXMIPv6NDTll:
		want := map[ofp.OXMField][]uint64{ofp.OXMIPv6NDTarget: {135, 136}, ofp.OXMIPv6NDSll: {135}, ofp.OXMIPv6NDTll: {136}}[f]
		t, ok := b.exact(ofp.OXMICMPv6Type)
		if !eth(ethIPv6) || !ipProto(protoICMPv6) || !ok || !slices.Contains(want, t) {
			if len(want) == 2 {
				return missing("icmp6 with icmp_type=135 or 136 (neighbor solicitation or advertisement)")
			}
			return missing(fmt.Sprintf("icmp6 with icmp_type=%d", want[0]))
		}
	case ofp.OXMMPLSLabel, ofp.OXMMPLSTC, ofp.OXMMPLSBOS:
		if !eth(ethMPLS, ethMPLSMcst) {
			return missing("mpls or mplsm (eth_type=0x8847 or 0x8848)")
		}
	case ofp.OXMPBBISID:
		if !eth(ethPBB) {
			return missing("eth_type=0x88e7")
		}
	}
	return nil
}
