package ofp

// OXM classes.
const (
	OXMClassNXM0          = 0x0000
	OXMClassNXM1          = 0x0001
	OXMClassOpenFlowBasic = 0x8000
	OXMClassExperimenter  = 0xffff
)

// OXMField is an OpenFlow basic OXM field number (class 0x8000).
type OXMField uint8

const (
	OXMInPort       OXMField = 0
	OXMInPhyPort    OXMField = 1
	OXMMetadata     OXMField = 2
	OXMEthDst       OXMField = 3
	OXMEthSrc       OXMField = 4
	OXMEthType      OXMField = 5
	OXMVlanVID      OXMField = 6
	OXMVlanPCP      OXMField = 7
	OXMIPDSCP       OXMField = 8
	OXMIPECN        OXMField = 9
	OXMIPProto      OXMField = 10
	OXMIPv4Src      OXMField = 11
	OXMIPv4Dst      OXMField = 12
	OXMTCPSrc       OXMField = 13
	OXMTCPDst       OXMField = 14
	OXMUDPSrc       OXMField = 15
	OXMUDPDst       OXMField = 16
	OXMSCTPSrc      OXMField = 17
	OXMSCTPDst      OXMField = 18
	OXMICMPv4Type   OXMField = 19
	OXMICMPv4Code   OXMField = 20
	OXMArpOp        OXMField = 21
	OXMArpSpa       OXMField = 22
	OXMArpTpa       OXMField = 23
	OXMArpSha       OXMField = 24
	OXMArpTha       OXMField = 25
	OXMIPv6Src      OXMField = 26
	OXMIPv6Dst      OXMField = 27
	OXMIPv6Flabel   OXMField = 28
	OXMICMPv6Type   OXMField = 29
	OXMICMPv6Code   OXMField = 30
	OXMIPv6NDTarget OXMField = 31
	OXMIPv6NDSll    OXMField = 32
	OXMIPv6NDTll    OXMField = 33
	OXMMPLSLabel    OXMField = 34
	OXMMPLSTC       OXMField = 35
	OXMMPLSBOS      OXMField = 36
	OXMPBBISID      OXMField = 37
	OXMTunnelID     OXMField = 38
	OXMIPv6Exthdr   OXMField = 39
	// NumOXMFields is the number of OpenFlow 1.3 basic fields.
	NumOXMFields = 40
)

// VLAN VID special values.
const (
	VIDPresent = 0x1000
	VIDNone    = 0x0000
)

// OXMInfo describes a basic field as the spec's table does.
type OXMInfo struct {
	Name     string // as ovs-ofctl and os-ken spell it, e.g. "eth_dst"
	Len      int    // value length in bytes
	Maskable bool
}

// OXMFields is the spec's table of basic fields, indexed by OXMField.
var OXMFields = [NumOXMFields]OXMInfo{
	OXMInPort:       {"in_port", 4, false},
	OXMInPhyPort:    {"in_phy_port", 4, false},
	OXMMetadata:     {"metadata", 8, true},
	OXMEthDst:       {"eth_dst", 6, true},
	OXMEthSrc:       {"eth_src", 6, true},
	OXMEthType:      {"eth_type", 2, false},
	OXMVlanVID:      {"vlan_vid", 2, true},
	OXMVlanPCP:      {"vlan_pcp", 1, false},
	OXMIPDSCP:       {"ip_dscp", 1, false},
	OXMIPECN:        {"ip_ecn", 1, false},
	OXMIPProto:      {"ip_proto", 1, false},
	OXMIPv4Src:      {"ipv4_src", 4, true},
	OXMIPv4Dst:      {"ipv4_dst", 4, true},
	OXMTCPSrc:       {"tcp_src", 2, false},
	OXMTCPDst:       {"tcp_dst", 2, false},
	OXMUDPSrc:       {"udp_src", 2, false},
	OXMUDPDst:       {"udp_dst", 2, false},
	OXMSCTPSrc:      {"sctp_src", 2, false},
	OXMSCTPDst:      {"sctp_dst", 2, false},
	OXMICMPv4Type:   {"icmpv4_type", 1, false},
	OXMICMPv4Code:   {"icmpv4_code", 1, false},
	OXMArpOp:        {"arp_op", 2, false},
	OXMArpSpa:       {"arp_spa", 4, true},
	OXMArpTpa:       {"arp_tpa", 4, true},
	OXMArpSha:       {"arp_sha", 6, true},
	OXMArpTha:       {"arp_tha", 6, true},
	OXMIPv6Src:      {"ipv6_src", 16, true},
	OXMIPv6Dst:      {"ipv6_dst", 16, true},
	OXMIPv6Flabel:   {"ipv6_flabel", 4, true},
	OXMICMPv6Type:   {"icmpv6_type", 1, false},
	OXMICMPv6Code:   {"icmpv6_code", 1, false},
	OXMIPv6NDTarget: {"ipv6_nd_target", 16, false},
	OXMIPv6NDSll:    {"ipv6_nd_sll", 6, false},
	OXMIPv6NDTll:    {"ipv6_nd_tll", 6, false},
	OXMMPLSLabel:    {"mpls_label", 4, false},
	OXMMPLSTC:       {"mpls_tc", 1, false},
	OXMMPLSBOS:      {"mpls_bos", 1, false},
	OXMPBBISID:      {"pbb_isid", 3, true},
	OXMTunnelID:     {"tunnel_id", 8, true},
	OXMIPv6Exthdr:   {"ipv6_exthdr", 2, true},
}

// OXM is one match field TLV as it appears on the wire. For the
// OpenFlow basic class, Field is the field number and Value/Mask have the
// length of OXMFields[Field].Len; Mask is nil when HasMask is false. For
// experimenter classes, Experimenter is set and Value holds the payload
// after the experimenter id.
type OXM struct {
	Class        uint16
	Field        uint8
	HasMask      bool
	Experimenter uint32
	Value        []byte
	Mask         []byte
}

// Match is an OXM match (ofp_match with type OFPMT_OXM). Fields keep the
// order and bytes they arrived with, so a flow's match can be echoed back
// exactly in flow stats.
type Match struct {
	Fields []OXM
}

// Field returns the first basic-class field f of m, if present.
func (m *Match) Field(f OXMField) (OXM, bool) {
	for _, o := range m.Fields {
		if o.Class == OXMClassOpenFlowBasic && o.Field == uint8(f) {
			return o, true
		}
	}
	return OXM{}, false
}
