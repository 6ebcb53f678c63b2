package ofproto

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/govs/govs/datapath"
)

// A trace's flow may also be written in the datapath's syntax, as
// `dpctl/dump-flows` prints a megaflow (recirc_id(0),in_port(1),eth(...),
// eth_type(0x0800),ipv4(...),tcp(...)), so that a megaflow can be pasted
// into ofproto/trace as with Open vSwitch. Masked values (v/m) count as
// v&m; attributes of the datapath context that govs' key does not hold
// (skb_priority, skb_mark, ct_*, dp_hash, packet_type) are ignored.

// isODPFlow reports whether s is in the datapath's syntax rather than
// ovs-ofctl's: it starts with an attribute "name(".
func isODPFlow(s string) bool {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "(=,")
	return i > 0 && s[i] == '('
}

// odpAttr is one attribute: name(body).
type odpAttr struct {
	name, body string
}

// splitODP splits "a(x),b(y(z)),c" at the top-level commas into
// attributes.
func splitODP(s string) ([]odpAttr, error) {
	var out []odpAttr
	for s = strings.TrimSpace(s); s != ""; {
		open := strings.IndexByte(s, '(')
		if open <= 0 {
			return nil, fmt.Errorf("%q: expected name(value)", s)
		}
		depth, end := 0, -1
		for i := open; i < len(s) && end < 0; i++ {
			switch s[i] {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					end = i
				}
			}
		}
		if end < 0 {
			return nil, fmt.Errorf("%q: missing ')'", s)
		}
		out = append(out, odpAttr{strings.TrimSpace(s[:open]), s[open+1 : end]})
		s = strings.TrimLeft(s[end+1:], ", ")
	}
	return out, nil
}

// odpFields splits "src=1,dst=2" into a map.
func odpFields(body string) (map[string]string, error) {
	m := map[string]string{}
	for _, item := range strings.Split(body, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("%q: expected field=value", item)
		}
		m[k] = v
	}
	return m, nil
}

// odpUint parses a number (decimal or 0x hex) with an optional /mask.
func odpUint(s string) (uint64, error) {
	v, m, masked := strings.Cut(s, "/")
	n, err := strconv.ParseUint(v, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: expected a number", s)
	}
	if masked {
		mask, err := strconv.ParseUint(m, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("%q: expected a number mask", s)
		}
		n &= mask
	}
	return n, nil
}

// odpMAC parses a MAC address with an optional /mask.
func odpMAC(s string) (uint64, error) {
	v, m, masked := strings.Cut(s, "/")
	parse := func(s string) (uint64, error) {
		hw, err := net.ParseMAC(s)
		if err != nil || len(hw) != 6 {
			return 0, fmt.Errorf("%q: expected a MAC address", s)
		}
		var n uint64
		for _, b := range hw {
			n = n<<8 | uint64(b)
		}
		return n, nil
	}
	n, err := parse(v)
	if err == nil && masked {
		var mask uint64
		mask, err = parse(m)
		n &= mask
	}
	return n, err
}

// odpIP parses an IPv4 or IPv6 address with an optional /mask (an address
// or a prefix length) and returns its 16 bytes (IPv4 in the last 4).
func odpIP(s string) (netip.Addr, error) {
	v, m, masked := strings.Cut(s, "/")
	a, err := netip.ParseAddr(v)
	if err != nil {
		return a, fmt.Errorf("%q: expected an IP address", s)
	}
	if !masked {
		return a, nil
	}
	if n, err := strconv.Atoi(m); err == nil {
		p, err := a.Prefix(n)
		if err != nil {
			return a, fmt.Errorf("%q: %v", s, err)
		}
		return p.Addr(), nil
	}
	mask, err := netip.ParseAddr(m)
	if err != nil || mask.Is4() != a.Is4() {
		return a, fmt.Errorf("%q: expected an address mask", s)
	}
	b, mb := a.AsSlice(), mask.AsSlice()
	for i := range b {
		b[i] &= mb[i]
	}
	out, _ := netip.AddrFromSlice(b)
	return out, nil
}

func ip4Value(a netip.Addr) uint64 {
	b := a.As4()
	return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
}

func ip6Value(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	return hi, lo
}

// odpSetter writes one field of an attribute into the key.
type odpSetter func(k *datapath.Key, v string) error

func odpNum(f datapath.Field) odpSetter {
	return func(k *datapath.Key, v string) error {
		n, err := odpUint(v)
		f.Set(k, n)
		return err
	}
}

func odpMACField(f datapath.Field) odpSetter {
	return func(k *datapath.Key, v string) error {
		n, err := odpMAC(v)
		f.Set(k, n)
		return err
	}
}

func odpIPv4Field(f datapath.Field) odpSetter {
	return func(k *datapath.Key, v string) error {
		a, err := odpIP(v)
		if err == nil && !a.Is4() {
			err = fmt.Errorf("%q: expected an IPv4 address", v)
		}
		if err == nil {
			f.Set(k, ip4Value(a))
		}
		return err
	}
}

func odpIPv6Field(hi, lo datapath.Field) odpSetter {
	return func(k *datapath.Key, v string) error {
		a, err := odpIP(v)
		if err == nil && !a.Is6() {
			err = fmt.Errorf("%q: expected an IPv6 address", v)
		}
		if err == nil {
			h, l := ip6Value(a)
			hi.Set(k, h)
			lo.Set(k, l)
		}
		return err
	}
}

func odpFrag(k *datapath.Key, v string) error {
	f, ok := map[string]uint64{"no": 0, "first": datapath.FragAny, "later": datapath.FragAny | datapath.FragLater}[v]
	if !ok {
		return fmt.Errorf("frag=%s: expected no, first or later", v)
	}
	datapath.FieldNwFrag.Set(k, f)
	return nil
}

var (
	odpL4 = map[string]odpSetter{"src": odpNum(datapath.FieldTpSrc), "dst": odpNum(datapath.FieldTpDst)}
	odpIC = map[string]odpSetter{"type": odpNum(datapath.FieldTpSrc), "code": odpNum(datapath.FieldTpDst)}

	// odpAttrs are the attributes with fields, by name.
	odpAttrs = map[string]map[string]odpSetter{
		"eth": {"src": odpMACField(datapath.FieldEthSrc), "dst": odpMACField(datapath.FieldEthDst)},
		"ipv4": {"src": odpIPv4Field(datapath.FieldIPv4Src), "dst": odpIPv4Field(datapath.FieldIPv4Dst),
			"proto": odpNum(datapath.FieldNwProto), "tos": odpNum(datapath.FieldNwTos), "ttl": odpNum(datapath.FieldNwTTL),
			"frag": odpFrag},
		"ipv6": {"src": odpIPv6Field(datapath.FieldIPv6SrcHi, datapath.FieldIPv6SrcLo),
			"dst":   odpIPv6Field(datapath.FieldIPv6DstHi, datapath.FieldIPv6DstLo),
			"label": odpNum(datapath.FieldIPv6Label), "proto": odpNum(datapath.FieldNwProto),
			"tclass": odpNum(datapath.FieldNwTos), "hlimit": odpNum(datapath.FieldNwTTL), "frag": odpFrag},
		"tcp": odpL4, "udp": odpL4, "sctp": odpL4, "icmp": odpIC, "icmpv6": odpIC,
		"arp": {"sip": odpIPv4Field(datapath.FieldIPv4Src), "tip": odpIPv4Field(datapath.FieldIPv4Dst),
			"op": odpNum(datapath.FieldNwProto), "sha": odpMACField(datapath.FieldArpSha), "tha": odpMACField(datapath.FieldArpTha)},
		"nd": {"target": odpIPv6Field(datapath.FieldNdTargetHi, datapath.FieldNdTargetLo),
			"sll": odpMACField(datapath.FieldArpSha), "tll": odpMACField(datapath.FieldArpTha)},
		"tunnel": {"tun_id": odpNum(datapath.FieldTunID)},
	}

	// odpIgnored are context attributes govs' key does not hold.
	odpIgnored = map[string]bool{"skb_priority": true, "skb_mark": true, "ct_state": true, "ct_zone": true,
		"ct_mark": true, "ct_label": true, "dp_hash": true, "packet_type": true}
)

// parseODPFlow turns a flow in the datapath's syntax into a key.
func parseODPFlow(s string) (datapath.Key, error) {
	var k datapath.Key
	err := parseODPAttrs(&k, s, 0)
	return k, err
}

// parseODPAttrs parses attributes into k; depth counts the VLAN tags
// (encap) around them.
func parseODPAttrs(k *datapath.Key, s string, depth int) error {
	attrs, err := splitODP(s)
	if err != nil {
		return err
	}
	for _, a := range attrs {
		if err := parseODPAttr(k, a, depth); err != nil {
			return fmt.Errorf("%s(%s): %w", a.name, a.body, err)
		}
	}
	return nil
}

func parseODPAttr(k *datapath.Key, a odpAttr, depth int) error {
	switch a.name {
	case "recirc_id":
		return odpNum(datapath.FieldRecircID)(k, a.body)
	case "in_port":
		return odpNum(datapath.FieldInPort)(k, a.body)
	case "eth_type":
		return odpNum(datapath.FieldEthType)(k, a.body)
	case "tcp_flags":
		n, err := odpUint(a.body)
		if err != nil {
			n, err = parseTraceTCPFlags(a.body)
		}
		datapath.FieldTCPFlags.Set(k, n)
		return err
	case "vlan":
		f := datapath.FieldVlanTCI
		if depth > 0 {
			f = datapath.FieldVlan2TCI
		}
		fields, err := odpFields(a.body)
		if err != nil {
			return err
		}
		tci := uint64(datapath.VlanCFI)
		for name, v := range fields {
			n, err := odpUint(v)
			if err != nil {
				return err
			}
			switch name {
			case "vid":
				tci |= n & 0xfff
			case "pcp":
				tci |= (n & 7) << 13
			case "cfi", "tpid":
			default:
				return fmt.Errorf("unknown field %q", name)
			}
		}
		f.Set(k, tci)
		return nil
	case "encap":
		return parseODPAttrs(k, a.body, depth+1)
	case "mpls":
		fields, err := odpFields(a.body)
		if err != nil {
			return err
		}
		var lse uint64
		for name, v := range fields {
			n, err := odpUint(v)
			if err != nil {
				return err
			}
			switch name {
			case "label":
				lse |= (n & 0xfffff) << 12
			case "tc":
				lse |= (n & 7) << 9
			case "bos":
				lse |= (n & 1) << 8
			case "ttl":
				lse |= n & 0xff
			default:
				return fmt.Errorf("unknown field %q", name)
			}
		}
		datapath.FieldMPLSLSE.Set(k, lse)
		return nil
	}
	if odpIgnored[a.name] {
		return nil
	}
	setters, ok := odpAttrs[a.name]
	if !ok {
		return fmt.Errorf("unknown attribute %q", a.name)
	}
	fields, err := odpFields(a.body)
	if err != nil {
		return err
	}
	for name, v := range fields {
		set, ok := setters[name]
		if !ok {
			return fmt.Errorf("unknown field %q", name)
		}
		if err := set(k, v); err != nil {
			return err
		}
	}
	return nil
}
