package datapath

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
)

// Formatting of megaflow matches and datapath actions in Open vSwitch's
// datapath flow syntax (ODP), as `ovs-appctl dpctl/dump-flows` prints it
// (lib/odp-util.c, format_odp_key_attr and format_odp_action), so that users
// can read and diff them the same way. The rules taken from OVS:
//
//   - a field whose mask is all zeros is omitted; a partly masked one is
//     written value/mask; an attribute whose fields are all omitted is
//     omitted, except eth(), which the kernel datapath always prints;
//   - VLAN tags nest: eth_type(0x8100),vlan(vid=10,pcp=0),encap(...);
//   - a frame without an Ethernet II type ends with eth_type(0/0xffff);
//   - L4 attributes follow the key's protocol, and none for later
//     fragments; nd() follows icmpv6() for neighbour discovery.
//
// Where our key differs from OVS's, the output does too: the key does not
// hold VLAN TPIDs (tags print as 0x8100), and pbb(...), the exthdr field of
// ipv6(...), and metadata(...) have no OVS counterpart.

// FormatKeyMask returns the match of a megaflow with key k and mask m in
// the ODP flow syntax, e.g. recirc_id(0),in_port(1),eth(src=...,dst=...),
// eth_type(0x0800),ipv4(src=198.18.0.1,dst=198.18.0.2,proto=17,tos=0,
// ttl=64,frag=no),udp(src=1234,dst=80). Values are printed masked.
func FormatKeyMask(k, m *Key) string {
	v := k.And(m)
	var f odpFormatter
	if m[WordTunID] != 0 {
		f.open("tunnel")
		f.hex64("tun_id", v[WordTunID], m[WordTunID])
		f.close()
	}
	if mk := FieldRecircID.Get(m); mk != 0 {
		f.raw("recirc_id(" + cHex(FieldRecircID.Get(&v)) + maskHex(mk, 0xffffffff) + ")")
	}
	if mk := FieldInPort.Get(m); mk != 0 {
		f.raw("in_port(" + strconv.FormatUint(FieldInPort.Get(&v), 10) + maskHex(mk, 0xffffffff) + ")")
	}
	if m[WordMetadata] != 0 {
		f.raw("metadata(" + cHex(v[WordMetadata]) + maskHex(m[WordMetadata], ^uint64(0)) + ")")
	}
	f.open("eth")
	f.mac("src", FieldEthSrc.Get(&v), FieldEthSrc.Get(m))
	f.mac("dst", FieldEthDst.Get(&v), FieldEthDst.Get(m))
	f.closeAlways()

	depth := 0
	for _, tf := range []Field{FieldVlanTCI, FieldVlan2TCI} {
		tci, tm := tf.Get(&v), tf.Get(m)
		if tf.Get(k)&VlanCFI == 0 || tm == 0 {
			break
		}
		f.raw("eth_type(0x8100)")
		f.open("vlan")
		f.vlanTCI(uint16(tci), uint16(tm))
		f.closeAlways()
		f.raw("encap(")
		f.sep = false
		depth++
	}
	f.l3(k, &v, m)
	for range depth {
		f.b.WriteByte(')')
	}
	return f.b.String()
}

// l3 writes eth_type and what follows it: the key k decides which
// attributes there are, as in OVS; the masked key v gives the values.
func (f *odpFormatter) l3(k, v, m *Key) {
	typ, tm := FieldEthType.Get(k), FieldEthType.Get(m)
	if typ == EthTypeNone || tm == 0 {
		if tm != 0 {
			f.raw("eth_type(0/0x" + hex4(tm) + ")")
		}
		return
	}
	f.raw("eth_type(0x" + hex4(FieldEthType.Get(v)) + maskHex4(tm) + ")")
	switch typ {
	case ethTypeIPv4:
		f.open("ipv4")
		f.ipv4("src", FieldIPv4Src.Get(v), FieldIPv4Src.Get(m))
		f.ipv4("dst", FieldIPv4Dst.Get(v), FieldIPv4Dst.Get(m))
		f.ipCommon(v, m, "tos", "ttl")
		f.close()
	case ethTypeIPv6:
		f.open("ipv6")
		f.ipv6("src", v[WordIPv6SrcHi], v[WordIPv6SrcLo], m[WordIPv6SrcHi], m[WordIPv6SrcLo])
		f.ipv6("dst", v[WordIPv6DstHi], v[WordIPv6DstLo], m[WordIPv6DstHi], m[WordIPv6DstLo])
		if lm := FieldIPv6Label.Get(m); lm != 0 {
			f.field("label", cHex(FieldIPv6Label.Get(v))+maskCHex(lm, 0xfffff))
		}
		f.ipCommon(v, m, "tclass", "hlimit")
		if em := FieldIPv6Exthdr.Get(m); em != 0 {
			f.field("exthdr", flagsString(FieldIPv6Exthdr.Get(v), em, 0x1ff, exthdrNames))
		}
		f.close()
	case ethTypeARP:
		f.open("arp")
		f.ipv4("sip", FieldIPv4Src.Get(v), FieldIPv4Src.Get(m))
		f.ipv4("tip", FieldIPv4Dst.Get(v), FieldIPv4Dst.Get(m))
		f.u16("op", FieldNwProto.Get(v), FieldNwProto.Get(m), 0xffff)
		f.mac("sha", FieldArpSha.Get(v), FieldArpSha.Get(m))
		f.mac("tha", FieldArpTha.Get(v), FieldArpTha.Get(m))
		f.close()
		return
	case ethTypeMPLS, ethTypeMPLSMC:
		if mm := FieldMPLSLSE.Get(m); mm != 0 {
			f.raw("mpls(" + mplsString(uint32(FieldMPLSLSE.Get(v)), uint32(mm)) + ")")
		}
		return
	case ethTypePBB:
		f.open("pbb")
		f.u16("isid", FieldPBBISID.Get(v), FieldPBBISID.Get(m), 0xffffff)
		f.u16("uca", FieldPBBUCA.Get(v), FieldPBBUCA.Get(m), 1)
		f.close()
		return
	default:
		return
	}
	f.l4(k, v, m, typ == ethTypeIPv6)
}

// ipCommon writes the fields IPv4 and IPv6 share, under their names.
func (f *odpFormatter) ipCommon(v, m *Key, tos, ttl string) {
	f.u8("proto", FieldNwProto.Get(v), FieldNwProto.Get(m))
	if tm := FieldNwTos.Get(m); tm != 0 {
		f.field(tos, cHex(FieldNwTos.Get(v))+maskCHex(tm, 0xff))
	}
	f.u16(ttl, FieldNwTTL.Get(v), FieldNwTTL.Get(m), 0xff)
	if fm := FieldNwFrag.Get(m); fm == FragAny|FragLater {
		f.field("frag", [4]string{"no", "first", "later", "later"}[FieldNwFrag.Get(v)])
	} else if fm != 0 {
		// OVS has no partial frag masks; the bits then (FragAny, FragLater).
		f.field("frag", cHex(FieldNwFrag.Get(v))+"/"+cHex(fm))
	}
}

// l4 writes the L4 attributes of an IP key.
func (f *odpFormatter) l4(k, v, m *Key, ipv6 bool) {
	if FieldNwFrag.Get(k)&FragLater != 0 {
		return
	}
	src, srcm := FieldTpSrc.Get(v), FieldTpSrc.Get(m)
	dst, dstm := FieldTpDst.Get(v), FieldTpDst.Get(m)
	switch proto := FieldNwProto.Get(k); {
	case proto == ipProtoTCP, proto == ipProtoUDP, proto == ipProtoSCTP:
		f.open(map[uint64]string{ipProtoTCP: "tcp", ipProtoUDP: "udp", ipProtoSCTP: "sctp"}[proto])
		f.u16("src", src, srcm, 0xffff)
		f.u16("dst", dst, dstm, 0xffff)
		f.close()
		if fm := FieldTCPFlags.Get(m); proto == ipProtoTCP && fm != 0 {
			f.raw("tcp_flags(" + flagsString(FieldTCPFlags.Get(v), fm, 0xfff, tcpFlagNames) + ")")
		}
	case proto == ipProtoICMP && !ipv6, proto == ipProtoICMPv6 && ipv6:
		name := "icmp"
		if ipv6 {
			name = "icmpv6"
		}
		f.open(name)
		f.u8("type", src, srcm)
		f.u8("code", dst, dstm)
		f.close()
		typ, code := FieldTpSrc.Get(k), FieldTpDst.Get(k)
		if ipv6 && (typ == icmp6NeighSol || typ == icmp6NeighAdv) && code == 0 &&
			srcm&0xff == 0xff && dstm&0xff == 0xff {
			f.open("nd")
			f.ipv6("target", v[WordNdTargetHi], v[WordNdTargetLo], m[WordNdTargetHi], m[WordNdTargetLo])
			f.mac("sll", FieldArpSha.Get(v), FieldArpSha.Get(m))
			f.mac("tll", FieldArpTha.Get(v), FieldArpTha.Get(m))
			f.close()
		}
	}
}

// odpFormatter accumulates ODP attributes. An attribute is opened, gets
// fields, and is closed; close drops it if it got no field.
type odpFormatter struct {
	b       strings.Builder
	sep     bool // a separator is due before the next attribute
	mark    int  // where the open attribute starts
	markSep bool // sep before the open attribute
	fields  int  // fields written in the open attribute
}

func (f *odpFormatter) raw(s string) {
	if f.sep {
		f.b.WriteByte(',')
	}
	f.b.WriteString(s)
	f.sep = true
}

func (f *odpFormatter) open(name string) {
	f.mark, f.markSep = f.b.Len(), f.sep
	f.raw(name + "(")
	f.fields = 0
}

// close ends the open attribute, or drops it if it has no fields.
func (f *odpFormatter) close() {
	if f.fields == 0 {
		s := f.b.String()[:f.mark]
		f.b.Reset()
		f.b.WriteString(s)
		f.sep = f.markSep
		return
	}
	f.b.WriteByte(')')
}

// closeAlways ends the open attribute even if it has no fields.
func (f *odpFormatter) closeAlways() { f.b.WriteByte(')') }

func (f *odpFormatter) field(name, val string) {
	if f.fields > 0 {
		f.b.WriteByte(',')
	}
	f.b.WriteString(name + "=" + val)
	f.fields++
}

// u16 writes an unsigned field (format_u8u/format_be16): decimal, mask in
// hex when partial.
func (f *odpFormatter) u16(name string, v, m, full uint64) {
	if m != 0 {
		f.field(name, strconv.FormatUint(v, 10)+maskCHex(m, full))
	}
}

// u8 writes an 8-bit field held in a wider one (IP protocol, ICMP type
// and code): exact when its low 8 mask bits are.
func (f *odpFormatter) u8(name string, v, m uint64) {
	if m != 0 {
		f.field(name, strconv.FormatUint(v, 10)+maskCHex(m&0xff, 0xff))
	}
}

func (f *odpFormatter) hex64(name string, v, m uint64) {
	if m != 0 {
		f.field(name, cHex(v)+maskCHex(m, ^uint64(0)))
	}
}

func (f *odpFormatter) mac(name string, v, m uint64) {
	if m == 0 {
		return
	}
	s := macString(v)
	if m != 0xffff_ffff_ffff {
		s += "/" + macString(m)
	}
	f.field(name, s)
}

func (f *odpFormatter) ipv4(name string, v, m uint64) {
	if m == 0 {
		return
	}
	s := ipv4String(v)
	if m != 0xffffffff {
		s += "/" + ipv4String(m)
	}
	f.field(name, s)
}

func (f *odpFormatter) ipv6(name string, hi, lo, mhi, mlo uint64) {
	if mhi|mlo == 0 {
		return
	}
	s := ipv6String(hi, lo)
	if mhi&mlo != ^uint64(0) {
		s += "/" + ipv6String(mhi, mlo)
	}
	f.field(name, s)
}

// vlanTCI writes a TCI as OVS's format_vlan_tci does.
func (f *odpFormatter) vlanTCI(tci, m uint16) {
	if tci&0xfff != 0 || m&0xfff != 0 {
		f.field("vid", strconv.Itoa(int(tci&0xfff))+maskHexPlain(uint64(m&0xfff), 0xfff))
	}
	if tci>>13 != 0 || m>>13 != 0 {
		f.field("pcp", strconv.Itoa(int(tci>>13))+maskHexPlain(uint64(m>>13), 7))
	}
	if tci&VlanCFI == 0 {
		f.field("cfi", "0")
	}
}

// mplsString formats a label stack entry, with masks when not exact, as
// OVS's format_mpls does.
func mplsString(lse, m uint32) string {
	itoa := func(x uint32) string { return strconv.FormatUint(uint64(x), 10) }
	hex := func(x uint32) string { return strconv.FormatUint(uint64(x), 16) }
	label, tc, ttl, bos := lse>>12, lse>>9&7, lse&0xff, lse>>8&1
	if m == 0xffffffff {
		return "label=" + itoa(label) + ",tc=" + itoa(tc) + ",ttl=" + itoa(ttl) + ",bos=" + itoa(bos)
	}
	return "label=" + itoa(label) + "/0x" + hex(m>>12) + ",tc=" + itoa(tc) + "/" + hex(m>>9&7) +
		",ttl=" + itoa(ttl) + "/0x" + hex(m&0xff) + ",bos=" + itoa(bos) + "/" + hex(m>>8&1)
}

var tcpFlagNames = []string{"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns", "[200]", "[400]", "[800]"}

var exthdrNames = []string{"nonext", "esp", "auth", "dest", "frag", "router", "hop", "unrep", "unseq"}

// flagsString formats flags v under mask m as OVS's format_flags (exact:
// "syn|ack", or "0") and format_flags_masked ("+syn-ack") do.
func flagsString(v, m, full uint64, names []string) string {
	var b strings.Builder
	if m == full {
		if v == 0 {
			return "0"
		}
		for i, n := range names {
			if v&(1<<i) != 0 {
				if b.Len() > 0 {
					b.WriteByte('|')
				}
				b.WriteString(n)
			}
		}
		return b.String()
	}
	for i, n := range names {
		if m&(1<<i) != 0 {
			if v&(1<<i) != 0 {
				b.WriteByte('+')
			} else {
				b.WriteByte('-')
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

// cHex formats v as C's "%#x" does: "0" for zero, else 0x-prefixed.
func cHex(v uint64) string {
	if v == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(v, 16)
}

// maskCHex returns "/%#x" of m, or "" when m is full (exact).
func maskCHex(m, full uint64) string {
	if m == full {
		return ""
	}
	return "/" + cHex(m)
}

// maskHex is maskCHex for attributes OVS prints with "/%#x" too.
func maskHex(m, full uint64) string { return maskCHex(m, full) }

// maskHexPlain returns "/0x%x" of m, or "" when m is full.
func maskHexPlain(m, full uint64) string {
	if m == full {
		return ""
	}
	return "/0x" + strconv.FormatUint(m, 16)
}

func hex4(v uint64) string {
	s := strconv.FormatUint(v, 16)
	return strings.Repeat("0", max(0, 4-len(s))) + s
}

func maskHex4(m uint64) string {
	if m == 0xffff {
		return ""
	}
	return "/0x" + hex4(m)
}

func macString(v uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	var s [17]byte
	for i := range 6 {
		hex.Encode(s[i*3:], b[2+i:3+i])
		if i < 5 {
			s[i*3+2] = ':'
		}
	}
	return string(s[:])
}

func ipv4String(v uint64) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(v))
	return netip.AddrFrom4(b).String()
}

func ipv6String(hi, lo uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return netip.AddrFrom16(b).String()
}
