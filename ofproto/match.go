package ofproto

import (
	"encoding/binary"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofp"
)

// oxmMapping says where an OpenFlow basic field lives in the datapath key.
// The OXM's value (big-endian, at most 8 bytes) is shifted left by shift
// into dp; 16-byte fields use dp for the high and lo for the low 8 bytes.
type oxmMapping struct {
	dp    datapath.Field
	lo    datapath.Field // 128-bit fields only
	shift uint8
	max   uint64 // largest valid value (0: any value of the OXM's width)
	// set is the datapath set-field that writes this field, 0 if the field
	// cannot be written by set_field.
	set datapath.SetField
}

var oxmMap = [ofp.NumOXMFields]oxmMapping{
	ofp.OXMInPort:       {dp: datapath.FieldInPort},
	ofp.OXMInPhyPort:    {dp: datapath.FieldInPort}, // no tunnels: in_phy_port == in_port
	ofp.OXMMetadata:     {dp: datapath.FieldMetadata},
	ofp.OXMEthDst:       {dp: datapath.FieldEthDst, set: datapath.SetEthDst},
	ofp.OXMEthSrc:       {dp: datapath.FieldEthSrc, set: datapath.SetEthSrc},
	ofp.OXMEthType:      {dp: datapath.FieldEthType, set: datapath.SetEthType},
	ofp.OXMVlanVID:      {dp: datapath.FieldVlanTCI, max: 0x1fff, set: datapath.SetVlanTCI},
	ofp.OXMVlanPCP:      {dp: datapath.FieldVlanTCI, shift: 13, max: 7, set: datapath.SetVlanTCI},
	ofp.OXMIPDSCP:       {dp: datapath.FieldNwTos, shift: 2, max: 63, set: datapath.SetIPTos},
	ofp.OXMIPECN:        {dp: datapath.FieldNwTos, max: 3, set: datapath.SetIPTos},
	ofp.OXMIPProto:      {dp: datapath.FieldNwProto, set: datapath.SetIPProto},
	ofp.OXMIPv4Src:      {dp: datapath.FieldIPv4Src, set: datapath.SetIPv4Src},
	ofp.OXMIPv4Dst:      {dp: datapath.FieldIPv4Dst, set: datapath.SetIPv4Dst},
	ofp.OXMTCPSrc:       {dp: datapath.FieldTpSrc, set: datapath.SetTpSrc},
	ofp.OXMTCPDst:       {dp: datapath.FieldTpDst, set: datapath.SetTpDst},
	ofp.OXMUDPSrc:       {dp: datapath.FieldTpSrc, set: datapath.SetTpSrc},
	ofp.OXMUDPDst:       {dp: datapath.FieldTpDst, set: datapath.SetTpDst},
	ofp.OXMSCTPSrc:      {dp: datapath.FieldTpSrc, set: datapath.SetTpSrc},
	ofp.OXMSCTPDst:      {dp: datapath.FieldTpDst, set: datapath.SetTpDst},
	ofp.OXMICMPv4Type:   {dp: datapath.FieldTpSrc, set: datapath.SetTpSrc},
	ofp.OXMICMPv4Code:   {dp: datapath.FieldTpDst, set: datapath.SetTpDst},
	ofp.OXMArpOp:        {dp: datapath.FieldNwProto, set: datapath.SetArpOp},
	ofp.OXMArpSpa:       {dp: datapath.FieldIPv4Src, set: datapath.SetIPv4Src},
	ofp.OXMArpTpa:       {dp: datapath.FieldIPv4Dst, set: datapath.SetIPv4Dst},
	ofp.OXMArpSha:       {dp: datapath.FieldArpSha, set: datapath.SetArpSha},
	ofp.OXMArpTha:       {dp: datapath.FieldArpTha, set: datapath.SetArpTha},
	ofp.OXMIPv6Src:      {dp: datapath.FieldIPv6SrcHi, lo: datapath.FieldIPv6SrcLo, set: datapath.SetIPv6Src},
	ofp.OXMIPv6Dst:      {dp: datapath.FieldIPv6DstHi, lo: datapath.FieldIPv6DstLo, set: datapath.SetIPv6Dst},
	ofp.OXMIPv6Flabel:   {dp: datapath.FieldIPv6Label, max: 0xfffff, set: datapath.SetIPv6Label},
	ofp.OXMICMPv6Type:   {dp: datapath.FieldTpSrc, set: datapath.SetTpSrc},
	ofp.OXMICMPv6Code:   {dp: datapath.FieldTpDst, set: datapath.SetTpDst},
	ofp.OXMIPv6NDTarget: {dp: datapath.FieldNdTargetHi, lo: datapath.FieldNdTargetLo, set: datapath.SetNdTarget},
	ofp.OXMIPv6NDSll:    {dp: datapath.FieldArpSha, set: datapath.SetNdSll},
	ofp.OXMIPv6NDTll:    {dp: datapath.FieldArpTha, set: datapath.SetNdTll},
	ofp.OXMMPLSLabel:    {dp: datapath.FieldMPLSLSE, shift: 12, max: 0xfffff, set: datapath.SetMPLSLSE},
	ofp.OXMMPLSTC:       {dp: datapath.FieldMPLSLSE, shift: 9, max: 7, set: datapath.SetMPLSLSE},
	ofp.OXMMPLSBOS:      {dp: datapath.FieldMPLSLSE, shift: 8, max: 1, set: datapath.SetMPLSLSE},
	ofp.OXMPBBISID:      {dp: datapath.FieldPBBISID, set: datapath.SetPBBISID},
	ofp.OXMTunnelID:     {dp: datapath.FieldTunID},
	ofp.OXMIPv6Exthdr:   {dp: datapath.FieldIPv6Exthdr, max: 0x1ff},
}

// oxmBits returns the all-ones value of an OXM field's width.
func oxmBits(f ofp.OXMField) uint64 {
	if m := oxmMap[f].max; m != 0 {
		return m
	}
	n := ofp.OXMFields[f].Len
	if n >= 8 {
		return ^uint64(0)
	}
	return uint64(1)<<(8*n) - 1
}

// beUint returns a big-endian value of up to 8 bytes.
func beUint(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// putBE writes v big-endian into b (len(b) <= 8).
func putBE(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

// matchFields is a decoded, validated OpenFlow match: the key and mask it
// means, and which fields it has (for prerequisite checks and for
// recognising a table-miss entry).
type matchFields struct {
	key, mask datapath.Key
	present   [ofp.NumOXMFields]bool
	exact     [ofp.NumOXMFields]uint64 // value of present unmasked fields of <= 8 bytes
}

// convertMatch checks an OpenFlow match (duplicate fields were already
// rejected by the decoder) and converts it into a datapath key and mask.
// It returns the spec's error for a bad value, mask or prerequisite.
func convertMatch(m *ofp.Match) (*matchFields, *ofp.Error) {
	mf := &matchFields{}
	for i := range m.Fields {
		o := &m.Fields[i]
		if o.Class != ofp.OXMClassOpenFlowBasic {
			return nil, ofp.Errorf(ofp.ETBadMatch, ofp.BMCBadField, "unsupported OXM class %#x", o.Class)
		}
		f := ofp.OXMField(o.Field)
		if int(f) >= ofp.NumOXMFields {
			return nil, ofp.Errorf(ofp.ETBadMatch, ofp.BMCBadField, "unknown field %d", o.Field)
		}
		if mf.present[f] {
			return nil, ofp.Errorf(ofp.ETBadMatch, ofp.BMCDupField, "%s twice", ofp.OXMFields[f].Name)
		}
		mf.present[f] = true
		if err := mf.add(f, o); err != nil {
			return nil, err
		}
	}
	if err := mf.checkPrereqs(); err != nil {
		return nil, err
	}
	mf.key.AndInto(&mf.mask, &mf.key)
	return mf, nil
}

// add merges one field into the key and mask.
func (mf *matchFields) add(f ofp.OXMField, o *ofp.OXM) *ofp.Error {
	mp := &oxmMap[f]
	if ofp.OXMFields[f].Len == 16 {
		if len(o.Value) != 16 || (o.HasMask && len(o.Mask) != 16) {
			return ofp.Errorf(ofp.ETBadMatch, ofp.BMCBadLen, "%s length", ofp.OXMFields[f].Name)
		}
		vh, vl := binary.BigEndian.Uint64(o.Value), binary.BigEndian.Uint64(o.Value[8:])
		mh, ml := ^uint64(0), ^uint64(0)
		if o.HasMask {
			mh, ml = binary.BigEndian.Uint64(o.Mask), binary.BigEndian.Uint64(o.Mask[8:])
		}
		mp.dp.SetMasked(&mf.key, vh, mh)
		mp.dp.Or(&mf.mask, mh)
		mp.lo.SetMasked(&mf.key, vl, ml)
		mp.lo.Or(&mf.mask, ml)
		return nil
	}
	if len(o.Value) != ofp.OXMFields[f].Len || (o.HasMask && len(o.Mask) != len(o.Value)) {
		return ofp.Errorf(ofp.ETBadMatch, ofp.BMCBadLen, "%s length", ofp.OXMFields[f].Name)
	}
	v := beUint(o.Value)
	m := oxmBits(f)
	if o.HasMask {
		m = beUint(o.Mask)
		if m&^oxmBits(f) != 0 {
			return ofp.Errorf(ofp.ETBadMatch, ofp.BMCBadMask, "%s mask %#x", ofp.OXMFields[f].Name, m)
		}
	} else {
		mf.exact[f] = v
	}
	if v&m&^oxmBits(f) != 0 || (!o.HasMask && v > oxmBits(f)) {
		return ofp.Errorf(ofp.ETBadMatch, ofp.BMCBadValue, "%s value %#x", ofp.OXMFields[f].Name, v)
	}
	switch f {
	case ofp.OXMVlanVID:
		// OFPVID_PRESENT (0x1000) is the key's "tag present" bit, and
		// OFPVID_NONE (0 exact) means "no tag": both map bit for bit.
		if !o.HasMask {
			m = 0x1fff
		}
	case ofp.OXMVlanPCP:
		// Matching a PCP implies a tag is present.
		datapath.FieldVlanTCI.SetMasked(&mf.key, datapath.VlanCFI, datapath.VlanCFI)
		datapath.FieldVlanTCI.Or(&mf.mask, datapath.VlanCFI)
	}
	mp.dp.SetMasked(&mf.key, v<<mp.shift, m<<mp.shift)
	mp.dp.Or(&mf.mask, m<<mp.shift)
	return nil
}

// prereq is one field's prerequisite: another field that must be present
// and exact with one of the values listed.
type prereq struct {
	field  ofp.OXMField
	values []uint64
}

var (
	preIP   = []prereq{{ofp.OXMEthType, []uint64{0x0800, 0x86dd}}}
	preIPv4 = []prereq{{ofp.OXMEthType, []uint64{0x0800}}}
	preIPv6 = []prereq{{ofp.OXMEthType, []uint64{0x86dd}}}
	preARP  = []prereq{{ofp.OXMEthType, []uint64{0x0806}}}
	preMPLS = []prereq{{ofp.OXMEthType, []uint64{0x8847, 0x8848}}}
)

func preL4(proto uint64) []prereq {
	return append(append([]prereq(nil), preIP...), prereq{ofp.OXMIPProto, []uint64{proto}})
}

// oxmPrereqs are the prerequisites of OpenFlow 1.3.5 table 12.
var oxmPrereqs = [ofp.NumOXMFields][]prereq{
	ofp.OXMInPhyPort:    {{ofp.OXMInPort, nil}},
	ofp.OXMIPDSCP:       preIP,
	ofp.OXMIPECN:        preIP,
	ofp.OXMIPProto:      preIP,
	ofp.OXMIPv4Src:      preIPv4,
	ofp.OXMIPv4Dst:      preIPv4,
	ofp.OXMTCPSrc:       preL4(6),
	ofp.OXMTCPDst:       preL4(6),
	ofp.OXMUDPSrc:       preL4(17),
	ofp.OXMUDPDst:       preL4(17),
	ofp.OXMSCTPSrc:      preL4(132),
	ofp.OXMSCTPDst:      preL4(132),
	ofp.OXMICMPv4Type:   append(preL4(1), preIPv4...),
	ofp.OXMICMPv4Code:   append(preL4(1), preIPv4...),
	ofp.OXMArpOp:        preARP,
	ofp.OXMArpSpa:       preARP,
	ofp.OXMArpTpa:       preARP,
	ofp.OXMArpSha:       preARP,
	ofp.OXMArpTha:       preARP,
	ofp.OXMIPv6Src:      preIPv6,
	ofp.OXMIPv6Dst:      preIPv6,
	ofp.OXMIPv6Flabel:   preIPv6,
	ofp.OXMICMPv6Type:   append(preL4(58), preIPv6...),
	ofp.OXMICMPv6Code:   append(preL4(58), preIPv6...),
	ofp.OXMIPv6NDTarget: {{ofp.OXMICMPv6Type, []uint64{135, 136}}},
	ofp.OXMIPv6NDSll:    {{ofp.OXMICMPv6Type, []uint64{135}}},
	ofp.OXMIPv6NDTll:    {{ofp.OXMICMPv6Type, []uint64{136}}},
	ofp.OXMMPLSLabel:    preMPLS,
	ofp.OXMMPLSTC:       preMPLS,
	ofp.OXMMPLSBOS:      preMPLS,
	ofp.OXMPBBISID:      {{ofp.OXMEthType, []uint64{0x88e7}}},
	ofp.OXMIPv6Exthdr:   preIPv6,
}

// checkPrereqs enforces the prerequisites of every present field
// (OFPBMC_BAD_PREREQ).
func (mf *matchFields) checkPrereqs() *ofp.Error {
	for f := range ofp.OXMField(ofp.NumOXMFields) {
		if !mf.present[f] {
			continue
		}
		for _, p := range oxmPrereqs[f] {
			if !mf.has(p.field, p.values) {
				return ofp.Errorf(ofp.ETBadMatch, ofp.BMCBadPrereq, "%s needs %s", ofp.OXMFields[f].Name, ofp.OXMFields[p.field].Name)
			}
		}
	}
	if mf.present[ofp.OXMVlanPCP] {
		// vlan_pcp needs vlan_vid != OFPVID_NONE.
		vid, m := datapath.FieldVlanTCI.Get(&mf.key), datapath.FieldVlanTCI.Get(&mf.mask)
		if !mf.present[ofp.OXMVlanVID] || m&datapath.VlanCFI == 0 || vid&datapath.VlanCFI == 0 {
			return ofp.Errorf(ofp.ETBadMatch, ofp.BMCBadPrereq, "vlan_pcp needs vlan_vid")
		}
	}
	return nil
}

// has reports whether field f is present exactly, with one of values (any
// value when values is nil).
func (mf *matchFields) has(f ofp.OXMField, values []uint64) bool {
	if !mf.present[f] {
		return false
	}
	if values == nil {
		return true
	}
	for _, v := range values {
		if mf.exact[f] == v {
			return true
		}
	}
	return false
}

// isTableMiss reports whether a match is the table-miss match (all
// wildcards).
func (mf *matchFields) isTableMiss() bool { return mf.mask.IsZero() }

// packetInMatch returns the match of a PACKET_IN for a packet received on
// inPort with pipeline metadata and tunnel id (OpenFlow 1.3: in_port always,
// metadata and tunnel_id when non-zero).
func packetInMatch(inPort uint32, metadata, tunID uint64) ofp.Match {
	var m ofp.Match
	m.Fields = append(m.Fields, uintOXM(ofp.OXMInPort, uint64(inPort)))
	if metadata != 0 {
		m.Fields = append(m.Fields, uintOXM(ofp.OXMMetadata, metadata))
	}
	if tunID != 0 {
		m.Fields = append(m.Fields, uintOXM(ofp.OXMTunnelID, tunID))
	}
	return m
}

// uintOXM returns an unmasked basic OXM with value v.
func uintOXM(f ofp.OXMField, v uint64) ofp.OXM {
	b := make([]byte, ofp.OXMFields[f].Len)
	putBE(b, v)
	return ofp.OXM{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(f), Value: b}
}
