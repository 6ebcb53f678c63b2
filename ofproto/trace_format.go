package ofproto

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strings"

	"github.com/govs/govs/datapath"
)

// Flows and megaflows in Open vSwitch's OpenFlow match syntax, as
// ofproto/trace prints them ("Flow:", "Final flow:", "Megaflow:"): the
// order, names and shorthands of Open vSwitch's match_format (lib/match.c)
// for the fields a govs key has. The key's fields Open vSwitch's flow
// lacks (PBB, ipv6_exthdr) are not printed.

// FormatFlow formats a packet's key the way Open vSwitch's flow_format
// does: every header field the packet has, the pipeline context fields
// (in_port, metadata, tun_id, recirc_id) only when they are not zero.
func FormatFlow(k *datapath.Key) string {
	m := packetMask(k)
	for _, f := range []datapath.Field{datapath.FieldInPort, datapath.FieldRecircID, datapath.FieldMetadata, datapath.FieldTunID} {
		if f.Get(k) == 0 {
			f.Set(&m, 0)
		}
	}
	return formatOVSMatch(k, &m, false)
}

// FormatMegaflow formats a megaflow (key k, mask m) as ofproto/trace's
// "Megaflow:" line: "recirc_id=0,eth,tcp,in_port=1,nw_dst=10.0.0.1,...".
func FormatMegaflow(k, m *datapath.Key) string { return formatOVSMatch(k, m, true) }

// packetMask is Open vSwitch's flow_wildcards_init_for_packet: the fields
// a packet with key k has.
func packetMask(k *datapath.Key) datapath.Key {
	var m datapath.Key
	for _, f := range []datapath.Field{datapath.FieldInPort, datapath.FieldRecircID, datapath.FieldMetadata,
		datapath.FieldTunID, datapath.FieldEthDst, datapath.FieldEthSrc, datapath.FieldEthType, datapath.FieldVlanTCI} {
		f.Exact(&m)
	}
	if datapath.FieldVlanTCI.Get(k) != 0 {
		datapath.FieldVlan2TCI.Exact(&m)
	}
	ipFields := func() {
		for _, f := range []datapath.Field{datapath.FieldNwFrag, datapath.FieldNwTos, datapath.FieldNwTTL, datapath.FieldNwProto} {
			f.Exact(&m)
		}
		proto := datapath.FieldNwProto.Get(k)
		if datapath.FieldNwFrag.Get(k)&datapath.FragLater == 0 &&
			(proto == 1 || proto == 58 || proto == 6 || proto == 17 || proto == 132 || proto == 2) {
			datapath.FieldTpSrc.Exact(&m)
			datapath.FieldTpDst.Exact(&m)
			if proto == 6 {
				datapath.FieldTCPFlags.Exact(&m)
			}
		}
	}
	switch datapath.FieldEthType.Get(k) {
	case 0x0800:
		datapath.FieldIPv4Src.Exact(&m)
		datapath.FieldIPv4Dst.Exact(&m)
		ipFields()
	case 0x86dd:
		for _, f := range []datapath.Field{datapath.FieldIPv6SrcHi, datapath.FieldIPv6SrcLo, datapath.FieldIPv6DstHi,
			datapath.FieldIPv6DstLo, datapath.FieldIPv6Label} {
			f.Exact(&m)
		}
		if isND(k) {
			for _, f := range []datapath.Field{datapath.FieldArpSha, datapath.FieldArpTha, datapath.FieldNdTargetHi,
				datapath.FieldNdTargetLo} {
				f.Exact(&m)
			}
		}
		ipFields()
	case 0x0806, 0x8035:
		for _, f := range []datapath.Field{datapath.FieldIPv4Src, datapath.FieldIPv4Dst, datapath.FieldNwProto,
			datapath.FieldArpSha, datapath.FieldArpTha} {
			f.Exact(&m)
		}
	case 0x8847, 0x8848:
		datapath.FieldMPLSLSE.Exact(&m)
	}
	return m
}

// isND reports whether k is an ICMPv6 neighbour solicitation or
// advertisement.
func isND(k *datapath.Key) bool {
	t := datapath.FieldTpSrc.Get(k)
	return datapath.FieldEthType.Get(k) == 0x86dd && datapath.FieldNwProto.Get(k) == 58 &&
		(t == 135 || t == 136) && datapath.FieldTpDst.Get(k) == 0
}

// matchWriter accumulates "name=value," items.
type matchWriter struct{ b strings.Builder }

func (w *matchWriter) put(format string, args ...any) {
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte(',')
}

// hex formats v as C's %#x does (0 is "0").
func cHexValue(v uint64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%#x", v)
}

func (w *matchWriter) u16(name string, v, m uint64) {
	switch {
	case m == 0:
	case m == 0xffff:
		w.put("%s=%d", name, v)
	default:
		w.put("%s=0x%x/0x%x", name, v&m, m)
	}
}

func (w *matchWriter) mac(name string, v, m uint64) {
	if m == 0 {
		return
	}
	s := formatMAC(v & m)
	if m != 0xffff_ffff_ffff {
		s += "/" + formatMAC(m)
	}
	w.put("%s=%s", name, s)
}

func (w *matchWriter) ipv4(name string, v, m uint64) {
	if m == 0 {
		return
	}
	addr := func(x uint64) string {
		return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}).String()
	}
	s := addr(v & m)
	if m != 0xffff_ffff {
		if n := bits.LeadingZeros32(^uint32(m)); uint32(m)<<n == 0 {
			s += fmt.Sprintf("/%d", n)
		} else {
			s += "/" + addr(m)
		}
	}
	w.put("%s=%s", name, s)
}

func (w *matchWriter) ipv6(name string, vh, vl, mh, ml uint64) {
	if mh == 0 && ml == 0 {
		return
	}
	addr := func(h, l uint64) string {
		var b [16]byte
		for i := 0; i < 8; i++ {
			b[i] = byte(h >> (56 - 8*i))
			b[8+i] = byte(l >> (56 - 8*i))
		}
		return netip.AddrFrom16(b).String()
	}
	s := addr(vh&mh, vl&ml)
	if mh != ^uint64(0) || ml != ^uint64(0) {
		n := bits.LeadingZeros64(^mh)
		if n == 64 {
			n += bits.LeadingZeros64(^ml)
		}
		var ph, pl uint64 // the prefix mask of n bits
		if n >= 64 {
			ph, pl = ^uint64(0), ^uint64(0)<<(128-n)
		} else {
			ph = ^uint64(0) << (64 - n)
		}
		if ph == mh && pl == ml {
			s += fmt.Sprintf("/%d", n)
		} else {
			s += "/" + addr(mh, ml)
		}
	}
	w.put("%s=%s", name, s)
}

// formatOVSMatch is Open vSwitch's match_format for a key and mask;
// megaflow says whether the match is a megaflow (recirc_id and the packet
// type "eth" are printed then).
func formatOVSMatch(k, m *datapath.Key, megaflow bool) string {
	v := k.And(m)
	var w matchWriter
	if mr := datapath.FieldRecircID.Get(m); mr != 0 {
		s := cHexValue(datapath.FieldRecircID.Get(&v))
		if mr != 0xffff_ffff {
			s += "/" + cHexValue(mr)
		}
		w.put("recirc_id=%s", s)
	}
	if megaflow {
		w.put("eth")
	}
	ethType := datapath.FieldEthType.Get(&v)
	hasType := datapath.FieldEthType.Get(m) != 0
	proto := datapath.FieldNwProto.Get(&v)
	hasProto := datapath.FieldNwProto.Get(m) != 0
	skipType, skipProto := false, false
	if hasType {
		skipType = true
		switch ethType {
		case 0x0800, 0x86dd:
			names := map[uint64]string{1: "icmp", 6: "tcp", 17: "udp", 132: "sctp"}
			base := "ip"
			if ethType == 0x86dd {
				names = map[uint64]string{58: "icmp6", 6: "tcp6", 17: "udp6", 132: "sctp6"}
				base = "ipv6"
			}
			if n, ok := names[proto]; ok && hasProto {
				w.put("%s", n)
				skipProto = true
			} else {
				w.put("%s", base)
			}
		case 0x0806:
			w.put("arp")
		case 0x8035:
			w.put("rarp")
		case 0x8847:
			w.put("mpls")
		case 0x8848:
			w.put("mplsm")
		default:
			skipType = false
		}
	}
	if mt := m[datapath.WordTunID]; mt != 0 {
		s := cHexValue(v[datapath.WordTunID])
		if mt != ^uint64(0) {
			s += "/" + cHexValue(mt)
		}
		w.put("tun_id=%s", s)
	}
	if mm := m[datapath.WordMetadata]; mm != 0 {
		s := cHexValue(v[datapath.WordMetadata])
		if mm != ^uint64(0) {
			s += "/" + cHexValue(mm)
		}
		w.put("metadata=%s", s)
	}
	if datapath.FieldInPort.Get(m) != 0 {
		w.put("in_port=%s", portName(uint32(datapath.FieldInPort.Get(&v))))
	}
	for i, f := range []datapath.Field{datapath.FieldVlanTCI, datapath.FieldVlan2TCI} {
		tm := f.Get(m)
		if tm == 0 {
			break
		}
		tci := f.Get(&v)
		suffix := ""
		if i > 0 {
			suffix = fmt.Sprint(i)
		}
		vid, pcp := tm&0x0fff, tm&0xe000
		if tm&datapath.VlanCFI != 0 && tci&datapath.VlanCFI != 0 && (vid == 0 || vid == 0x0fff) &&
			(pcp == 0 || pcp == 0xe000) && (vid != 0 || pcp != 0) {
			if vid != 0 {
				w.put("dl_vlan%s=%d", suffix, tci&0x0fff)
			}
			if pcp != 0 {
				w.put("dl_vlan_pcp%s=%d", suffix, tci>>13)
			}
		} else if tm == 0xffff {
			w.put("vlan_tci%s=0x%04x", suffix, tci)
		} else {
			w.put("vlan_tci%s=0x%04x/0x%04x", suffix, tci, tm)
		}
	}
	w.mac("dl_src", datapath.FieldEthSrc.Get(&v), datapath.FieldEthSrc.Get(m))
	w.mac("dl_dst", datapath.FieldEthDst.Get(&v), datapath.FieldEthDst.Get(m))
	if !skipType && hasType {
		w.put("dl_type=0x%04x", ethType)
	}
	isARP := ethType == 0x0806 || ethType == 0x8035
	switch {
	case ethType == 0x86dd:
		w.ipv6("ipv6_src", v[datapath.WordIPv6SrcHi], v[datapath.WordIPv6SrcLo], m[datapath.WordIPv6SrcHi], m[datapath.WordIPv6SrcLo])
		w.ipv6("ipv6_dst", v[datapath.WordIPv6DstHi], v[datapath.WordIPv6DstLo], m[datapath.WordIPv6DstHi], m[datapath.WordIPv6DstLo])
		if lm := datapath.FieldIPv6Label.Get(m); lm == 0xfffff {
			w.put("ipv6_label=0x%05x", datapath.FieldIPv6Label.Get(&v))
		} else if lm != 0 {
			w.put("ipv6_label=0x%05x/0x%05x", datapath.FieldIPv6Label.Get(&v), lm)
		}
	case isARP:
		w.ipv4("arp_spa", datapath.FieldIPv4Src.Get(&v), datapath.FieldIPv4Src.Get(m))
		w.ipv4("arp_tpa", datapath.FieldIPv4Dst.Get(&v), datapath.FieldIPv4Dst.Get(m))
	default:
		w.ipv4("nw_src", datapath.FieldIPv4Src.Get(&v), datapath.FieldIPv4Src.Get(m))
		w.ipv4("nw_dst", datapath.FieldIPv4Dst.Get(&v), datapath.FieldIPv4Dst.Get(m))
	}
	if !skipProto && hasProto {
		if isARP {
			w.put("arp_op=%d", proto)
		} else {
			w.put("nw_proto=%d", proto)
		}
	}
	if isARP {
		w.mac("arp_sha", datapath.FieldArpSha.Get(&v), datapath.FieldArpSha.Get(m))
		w.mac("arp_tha", datapath.FieldArpTha.Get(&v), datapath.FieldArpTha.Get(m))
	}
	tos, tosMask := datapath.FieldNwTos.Get(&v), datapath.FieldNwTos.Get(m)
	if tosMask&0xfc != 0 {
		w.put("nw_tos=%d", tos&0xfc)
	}
	if tosMask&0x03 != 0 {
		w.put("nw_ecn=%d", tos&0x03)
	}
	if datapath.FieldNwTTL.Get(m) != 0 {
		w.put("nw_ttl=%d", datapath.FieldNwTTL.Get(&v))
	}
	lse, lseMask := datapath.FieldMPLSLSE.Get(&v), datapath.FieldMPLSLSE.Get(m)
	if lseMask&0xfffff000 != 0 {
		w.put("mpls_label=%d", lse>>12)
	}
	if lseMask&0xe00 != 0 {
		w.put("mpls_tc=%d", lse>>9&7)
	}
	if lseMask&0xff != 0 {
		w.put("mpls_ttl=%d", lse&0xff)
	}
	if lseMask&0x100 != 0 {
		w.put("mpls_bos=%d", lse>>8&1)
	}
	frag, fragMask := datapath.FieldNwFrag.Get(&v), datapath.FieldNwFrag.Get(m)
	switch fragMask {
	case datapath.FragAny | datapath.FragLater:
		s := map[uint64]string{0: "no", datapath.FragAny: "first", datapath.FragAny | datapath.FragLater: "later",
			datapath.FragLater: "<error>"}[frag]
		w.put("nw_frag=%s", s)
	case datapath.FragAny:
		w.put("nw_frag=%s", map[bool]string{true: "yes", false: "no"}[frag&datapath.FragAny != 0])
	case datapath.FragLater:
		w.put("nw_frag=%s", map[bool]string{true: "later", false: "not_later"}[frag&datapath.FragLater != 0])
	}
	src, srcMask := datapath.FieldTpSrc.Get(&v), datapath.FieldTpSrc.Get(m)
	dst, dstMask := datapath.FieldTpDst.Get(&v), datapath.FieldTpDst.Get(m)
	switch {
	case ethType == 0x0800 && proto == 1:
		w.u16("icmp_type", src, srcMask)
		w.u16("icmp_code", dst, dstMask)
	case ethType == 0x86dd && proto == 58:
		w.u16("icmp_type", src, srcMask)
		w.u16("icmp_code", dst, dstMask)
		w.ipv6("nd_target", v[datapath.WordNdTargetHi], v[datapath.WordNdTargetLo], m[datapath.WordNdTargetHi], m[datapath.WordNdTargetLo])
		w.mac("nd_sll", datapath.FieldArpSha.Get(&v), datapath.FieldArpSha.Get(m))
		w.mac("nd_tll", datapath.FieldArpTha.Get(&v), datapath.FieldArpTha.Get(m))
	default:
		w.u16("tp_src", src, srcMask)
		w.u16("tp_dst", dst, dstMask)
	}
	if (ethType == 0x0800 || ethType == 0x86dd) && proto == 6 {
		if fm := datapath.FieldTCPFlags.Get(m); fm != 0 {
			w.b.WriteString("tcp_flags=" + formatTCPFlagsMasked(datapath.FieldTCPFlags.Get(&v), fm) + ",")
		}
	}
	return strings.TrimSuffix(w.b.String(), ",")
}

// formatTCPFlagsMasked is Open vSwitch's format_flags_masked for TCP
// flags: "syn|ack" (or "0") for an exact match, "+syn-ack" for a partial
// one.
func formatTCPFlagsMasked(f, m uint64) string {
	name := func(bit int) string {
		if bit < len(tcpFlagNames) {
			return tcpFlagNames[bit]
		}
		return fmt.Sprintf("0x%x", 1<<bit)
	}
	if m == 0xfff {
		if f == 0 {
			return "0"
		}
		var parts []string
		for i := 0; i < 12; i++ {
			if f&(1<<i) != 0 {
				parts = append(parts, name(i))
			}
		}
		return strings.Join(parts, "|")
	}
	var b strings.Builder
	for i := 0; i < 12; i++ {
		if m&(1<<i) != 0 {
			if f&(1<<i) != 0 {
				b.WriteString("+")
			} else {
				b.WriteString("-")
			}
			b.WriteString(name(i))
		}
	}
	return b.String()
}
