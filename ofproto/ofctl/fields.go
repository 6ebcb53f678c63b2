package ofctl

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"

	"github.com/govs/govs/ofproto/ofp"
)

// valueKind says how a field's value is written.
type valueKind uint8

const (
	kindDec  valueKind = iota // decimal integer
	kindHex                   // hexadecimal integer (0x...)
	kindMAC                   // Ethernet address
	kindIPv4                  // dotted quad
	kindIPv6                  // IPv6 address
	kindPort                  // OpenFlow port number or name
)

// fieldInfo describes an OpenFlow 1.3 basic field for the syntax.
type fieldInfo struct {
	// name is Open vSwitch's name of the field, as set_field prints it.
	name string
	kind valueKind
	// maskable: OpenFlow 1.3 allows a mask (ovs-ofctl also takes masks
	// for L4 ports and ND fields, which OpenFlow 1.3 switches refuse).
	maskable bool
	// bits is the number of significant bits of an integer field (0: the
	// whole OXM width).
	bits uint8
}

var fieldInfos = [ofp.NumOXMFields]fieldInfo{
	ofp.OXMInPort:       {"in_port_oxm", kindPort, false, 0},
	ofp.OXMInPhyPort:    {"in_phy_port", kindPort, false, 0},
	ofp.OXMMetadata:     {"metadata", kindHex, true, 0},
	ofp.OXMEthDst:       {"eth_dst", kindMAC, true, 0},
	ofp.OXMEthSrc:       {"eth_src", kindMAC, true, 0},
	ofp.OXMEthType:      {"eth_type", kindHex, false, 0},
	ofp.OXMVlanVID:      {"vlan_vid", kindDec, true, 13},
	ofp.OXMVlanPCP:      {"vlan_pcp", kindDec, false, 3},
	ofp.OXMIPDSCP:       {"ip_dscp", kindDec, false, 6},
	ofp.OXMIPECN:        {"nw_ecn", kindDec, false, 2},
	ofp.OXMIPProto:      {"nw_proto", kindDec, false, 0},
	ofp.OXMIPv4Src:      {"ip_src", kindIPv4, true, 0},
	ofp.OXMIPv4Dst:      {"ip_dst", kindIPv4, true, 0},
	ofp.OXMTCPSrc:       {"tcp_src", kindDec, false, 0},
	ofp.OXMTCPDst:       {"tcp_dst", kindDec, false, 0},
	ofp.OXMUDPSrc:       {"udp_src", kindDec, false, 0},
	ofp.OXMUDPDst:       {"udp_dst", kindDec, false, 0},
	ofp.OXMSCTPSrc:      {"sctp_src", kindDec, false, 0},
	ofp.OXMSCTPDst:      {"sctp_dst", kindDec, false, 0},
	ofp.OXMICMPv4Type:   {"icmp_type", kindDec, false, 0},
	ofp.OXMICMPv4Code:   {"icmp_code", kindDec, false, 0},
	ofp.OXMArpOp:        {"arp_op", kindDec, false, 0},
	ofp.OXMArpSpa:       {"arp_spa", kindIPv4, true, 0},
	ofp.OXMArpTpa:       {"arp_tpa", kindIPv4, true, 0},
	ofp.OXMArpSha:       {"arp_sha", kindMAC, true, 0},
	ofp.OXMArpTha:       {"arp_tha", kindMAC, true, 0},
	ofp.OXMIPv6Src:      {"ipv6_src", kindIPv6, true, 0},
	ofp.OXMIPv6Dst:      {"ipv6_dst", kindIPv6, true, 0},
	ofp.OXMIPv6Flabel:   {"ipv6_label", kindHex, true, 20},
	ofp.OXMICMPv6Type:   {"icmpv6_type", kindDec, false, 0},
	ofp.OXMICMPv6Code:   {"icmpv6_code", kindDec, false, 0},
	ofp.OXMIPv6NDTarget: {"nd_target", kindIPv6, false, 0},
	ofp.OXMIPv6NDSll:    {"nd_sll", kindMAC, false, 0},
	ofp.OXMIPv6NDTll:    {"nd_tll", kindMAC, false, 0},
	ofp.OXMMPLSLabel:    {"mpls_label", kindDec, false, 20},
	ofp.OXMMPLSTC:       {"mpls_tc", kindDec, false, 3},
	ofp.OXMMPLSBOS:      {"mpls_bos", kindDec, false, 1},
	ofp.OXMPBBISID:      {"pbb_isid", kindDec, true, 24},
	ofp.OXMTunnelID:     {"tun_id", kindHex, true, 0},
	ofp.OXMIPv6Exthdr:   {"ipv6_exthdr", kindHex, true, 9},
}

// fieldBits returns the number of significant bits of integer field f.
func fieldBits(f ofp.OXMField) int {
	if b := fieldInfos[f].bits; b != 0 {
		return int(b)
	}
	return 8 * ofp.OXMFields[f].Len
}

// ---- ports ----

// portNames are the reserved ports by name, as ovs-ofctl spells them.
var portNames = []struct {
	name string
	no   uint32
}{
	{"IN_PORT", ofp.PortInPort},
	{"TABLE", ofp.PortTable},
	{"NORMAL", ofp.PortNormal},
	{"FLOOD", ofp.PortFlood},
	{"ALL", ofp.PortAll},
	{"CONTROLLER", ofp.PortController},
	{"LOCAL", ofp.PortLocal},
	{"ANY", ofp.PortAny},
	{"NONE", ofp.PortAny},
}

// parsePort parses an OpenFlow port the way ovs-ofctl does: a reserved
// port name (any case) or a decimal number. Numbers 0xff00..0xffff are
// OpenFlow 1.0's reserved ports and become the OpenFlow 1.1+ ones.
func parsePort(s string) (uint32, error) {
	for _, p := range portNames {
		if strings.EqualFold(s, p.name) {
			return p.no, nil
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not a port number or name (IN_PORT, TABLE, NORMAL, FLOOD, ALL, CONTROLLER, LOCAL, ANY)", s)
	}
	switch {
	case n < 0xff00:
		return uint32(n), nil
	case n <= 0xffff:
		return uint32(n) + 0xffff0000, nil
	case n < uint64(ofp.PortMax):
		return 0, fmt.Errorf("port %d is outside the supported range 0 through 0xfeff and 0xffffff00 through 0xffffffff", n)
	}
	return uint32(n), nil
}

// formatPort formats a port the way ovs-ofctl does: reserved ports by
// name, others in decimal.
func formatPort(p uint32) string {
	if p >= ofp.PortMax {
		for _, n := range portNames {
			if n.no == p {
				return n.name
			}
		}
		return strconv.FormatUint(uint64(p-0xffff0000), 10)
	}
	return strconv.FormatUint(uint64(p), 10)
}

// ---- values ----

// parseMAC parses xx:xx:xx:xx:xx:xx (one or two hex digits each).
func parseMAC(s string) ([6]byte, bool) {
	var m [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return m, false
	}
	for i, p := range parts {
		if len(p) < 1 || len(p) > 2 {
			return m, false
		}
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return m, false
		}
		m[i] = byte(v)
	}
	return m, true
}

func formatMAC(b []byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}

// prefixMask returns a mask of n leading one bits over len(b) bytes.
func prefixMask(n, size int) []byte {
	m := make([]byte, size)
	for i := range m {
		switch {
		case n >= 8:
			m[i] = 0xff
			n -= 8
		case n > 0:
			m[i] = byte(0xff << (8 - n))
			n = 0
		}
	}
	return m
}

// cidrBits returns the prefix length of mask m, or -1 if m is not a
// prefix mask.
func cidrBits(m []byte) int {
	n := 0
	i := 0
	for ; i < len(m) && m[i] == 0xff; i++ {
		n += 8
	}
	if i < len(m) {
		lead := bits.LeadingZeros8(^m[i])
		if byte(m[i]<<lead) != 0 {
			return -1
		}
		n += lead
		for i++; i < len(m); i++ {
			if m[i] != 0 {
				return -1
			}
		}
	}
	return n
}

// parseIPMasked parses an IPv4 (size 4) or IPv6 (size 16) address with an
// optional /prefix or /mask.
func parseIPMasked(s string, size int) (v, m []byte, err error) {
	addr, mask, hasMask := strings.Cut(s, "/")
	a, perr := netip.ParseAddr(addr)
	if perr != nil || (size == 4) != a.Is4() || a.Zone() != "" {
		what := "IPv4"
		if size == 16 {
			what = "IPv6"
		}
		return nil, nil, fmt.Errorf("%q is not an %s address", addr, what)
	}
	v = a.AsSlice()
	if !hasMask {
		return v, nil, nil
	}
	if n, err := strconv.ParseUint(mask, 10, 8); err == nil && !strings.HasPrefix(mask, "+") {
		if int(n) > 8*size {
			return nil, nil, fmt.Errorf("prefix length %d is longer than %d", n, 8*size)
		}
		return v, prefixMask(int(n), size), nil
	}
	ma, perr := netip.ParseAddr(mask)
	if perr != nil || (size == 4) != ma.Is4() || ma.Zone() != "" {
		return nil, nil, fmt.Errorf("%q is neither a prefix length nor a mask", mask)
	}
	return v, ma.AsSlice(), nil
}

// formatIPv4 formats a 4-byte address.
func formatIPv4(b []byte) string { return netip.AddrFrom4([4]byte(b)).String() }

// formatIPv6 formats a 16-byte address the way glibc's inet_ntop does
// (which is what ovs-ofctl prints): the longest run of two or more zero
// groups becomes "::", and IPv4-compatible and -mapped addresses end in a
// dotted quad.
func formatIPv6(b []byte) string {
	var w [8]uint16
	for i := range w {
		w[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	bestBase, bestLen := -1, 0
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > bestLen {
			bestBase, bestLen = i, j-i
		}
		i = j
	}
	if bestLen < 2 {
		bestBase = -1
	}
	var sb strings.Builder
	for i := 0; i < 8; i++ {
		if bestBase >= 0 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				sb.WriteByte(':')
			}
			continue
		}
		if i != 0 {
			sb.WriteByte(':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			fmt.Fprintf(&sb, "%d.%d.%d.%d", b[12], b[13], b[14], b[15])
			break
		}
		fmt.Fprintf(&sb, "%x", w[i])
	}
	if bestBase >= 0 && bestBase+bestLen == 8 {
		sb.WriteByte(':')
	}
	return sb.String()
}

// formatIPMasked formats an address with its mask as ovs-ofctl does:
// nothing for an exact mask, /N for a prefix, /address otherwise.
func formatIPMasked(v, m []byte) string {
	f := formatIPv4
	if len(v) == 16 {
		f = formatIPv6
	}
	s := f(v)
	if m == nil || allOnes(m) {
		return s
	}
	if n := cidrBits(m); n >= 0 {
		return s + "/" + strconv.Itoa(n)
	}
	return s + "/" + f(m)
}

// ---- byte helpers ----

func allOnes(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// beUint returns a big-endian value of up to 8 bytes.
func beUint(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// beBytes returns v as n big-endian bytes.
func beBytes(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

// hexValue formats an integer the way Open vSwitch's ds_put_hex does:
// 0x and the digits without leading zeros, or "0".
func hexValue(v uint64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%#x", v)
}

// ---- field values ----

// parseFieldValue parses value[/mask] of field f. mask is nil when
// exact. Values are checked against the field's width.
func parseFieldValue(f ofp.OXMField, s string) (v, m []byte, err error) {
	info := &fieldInfos[f]
	size := ofp.OXMFields[f].Len
	switch info.kind {
	case kindPort:
		p, err := parsePort(s)
		if err != nil {
			return nil, nil, err
		}
		return beBytes(uint64(p), 4), nil, nil
	case kindMAC:
		vs, ms, hasMask := strings.Cut(s, "/")
		a, ok := parseMAC(vs)
		if !ok {
			return nil, nil, fmt.Errorf("%q is not an Ethernet address (xx:xx:xx:xx:xx:xx)", vs)
		}
		v = a[:]
		if hasMask {
			b, ok := parseMAC(ms)
			if !ok {
				return nil, nil, fmt.Errorf("%q is not an Ethernet mask (xx:xx:xx:xx:xx:xx)", ms)
			}
			m = b[:]
		}
	case kindIPv4, kindIPv6:
		v, m, err = parseIPMasked(s, size)
		if err != nil {
			return nil, nil, err
		}
	default:
		vs, ms, hasMask := strings.Cut(s, "/")
		nb := fieldBits(f)
		x, ok := parseUint(vs, 64)
		if !ok {
			return nil, nil, fmt.Errorf("%q is not a number", vs)
		}
		if nb < 64 && x>>uint(nb) != 0 {
			return nil, nil, fmt.Errorf("%s is too large for %s (%d bits)", vs, info.name, nb)
		}
		v = beBytes(x, size)
		if hasMask {
			y, ok := parseUint(ms, 64)
			if !ok {
				return nil, nil, fmt.Errorf("%q is not a number", ms)
			}
			if nb < 64 && y>>uint(nb) != 0 {
				return nil, nil, fmt.Errorf("mask %s is too large for %s (%d bits)", ms, info.name, nb)
			}
			m = beBytes(y, size)
		}
	}
	if m != nil && allOnes(m) {
		m = nil
	}
	return v, m, nil
}

// formatFieldValue formats a value of field f (without mask) the way
// ovs-ofctl's set_field does.
func formatFieldValue(f ofp.OXMField, v []byte) string {
	switch fieldInfos[f].kind {
	case kindPort:
		return formatPort(uint32(beUint(v)))
	case kindMAC:
		return formatMAC(v)
	case kindIPv4:
		return formatIPv4(v)
	case kindIPv6:
		return formatIPv6(v)
	case kindHex:
		return hexValue(beUint(v))
	}
	return strconv.FormatUint(beUint(v), 10)
}
