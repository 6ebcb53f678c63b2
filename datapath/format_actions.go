package datapath

import (
	"encoding/hex"
	"strconv"
	"strings"
)

// FormatActions returns a megaflow's actions in Open vSwitch's datapath
// action syntax (lib/odp-util.c, format_odp_action), comma-separated, or
// "drop" for an empty list: e.g. 2, push_vlan(vid=10,pcp=0), pop_vlan,
// set(ipv4(dst=198.18.0.9)), push_mpls(label=1,tc=0,ttl=64,bos=1,
// eth_type=0x8847), userspace(pid=0,userdata(01020304)), recirc(0x1).
//
// Set-field actions print as OVS prints masked sets: set(attr(field=value))
// with /mask where the mask is partial. Our set-fields do not say which IP
// version or L4 protocol they apply to, so the family-neutral ones print as
// set(ip(tos=...)), set(ip(ttl=...)), set(ip(proto=...)) and
// set(tp(src=...)); PBB actions, and set(eth_type(...)) and set(vlan(...)),
// which OVS expresses otherwise, follow the same style.
func FormatActions(acts Actions) string {
	if len(acts) == 0 {
		return "drop"
	}
	var b strings.Builder
	for i := range acts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(formatAction(&acts[i]))
	}
	return b.String()
}

func formatAction(a *Action) string {
	u := func(x uint64) string { return strconv.FormatUint(x, 10) }
	switch a.Type {
	case ActOutput:
		return u(uint64(a.Port))
	case ActUserspace:
		s := "userspace(pid=0"
		if len(a.Userdata) > 0 {
			s += ",userdata(" + hex.EncodeToString(a.Userdata) + ")"
		}
		if a.MaxLen > 0 {
			s += ",max_len=" + u(uint64(a.MaxLen))
		}
		return s + ")"
	case ActPushVLAN:
		tci := uint16(a.Value[1])
		s := "push_vlan("
		if a.Ethertype != ethTypeVLAN {
			s += "tpid=0x" + hex4(uint64(a.Ethertype)) + ","
		}
		s += "vid=" + u(uint64(tci&0xfff)) + ",pcp=" + u(uint64(tci>>13))
		if tci&VlanCFI != 0 {
			s += ",dei=1" // OVS cannot push DEI=1: its CFI bit means "present"
		}
		return s + ")"
	case ActPopVLAN:
		return "pop_vlan"
	case ActPushMPLS:
		return "push_mpls(" + mplsString(uint32(a.Value[1]), 0xffffffff) + ",eth_type=0x" +
			strconv.FormatUint(uint64(a.Ethertype), 16) + ")"
	case ActPopMPLS:
		return "pop_mpls(eth_type=0x" + strconv.FormatUint(uint64(a.Ethertype), 16) + ")"
	case ActPushPBB:
		itag := uint32(a.Value[1])
		s := "push_pbb(isid=" + u(uint64(itag&0xffffff))
		if itag>>24 != 0 {
			s += ",flags=" + cHex(uint64(itag>>24))
		}
		return s + ",eth_type=0x" + strconv.FormatUint(uint64(a.Ethertype), 16) + ")"
	case ActPopPBB:
		return "pop_pbb"
	case ActSetField:
		return "set(" + formatSetField(a) + ")"
	case ActMeter:
		return "meter(" + u(uint64(a.Port)) + ")"
	case ActClone:
		return "clone(" + FormatActions(a.Nested) + ")"
	case ActRecirc:
		return "recirc(" + cHex(uint64(a.Port)) + ")"
	case ActHash:
		return "hash(l4(0))"
	}
	return "unknown(" + u(uint64(a.Type)) + ")"
}

// formatSetField formats the attribute a set-field writes.
func formatSetField(a *Action) string {
	var f odpFormatter
	v, m := a.Value[1], a.Mask[1]
	attr := func(name string, fill func()) string {
		f.open(name)
		fill()
		f.closeAlways()
		return f.b.String()
	}
	switch a.Field {
	case SetEthSrc:
		return attr("eth", func() { f.mac("src", v&m, m&0xffff_ffff_ffff) })
	case SetEthDst:
		return attr("eth", func() { f.mac("dst", v&m, m&0xffff_ffff_ffff) })
	case SetEthType:
		return "eth_type(0x" + hex4(v&m&0xffff) + maskHex4(m&0xffff) + ")"
	case SetVlanTCI:
		m &= 0xefff
		return attr("vlan", func() {
			if m&0xfff != 0 {
				f.field("vid", strconv.FormatUint(v&m&0xfff, 10)+maskHexPlain(m&0xfff, 0xfff))
			}
			if m>>13 != 0 {
				f.field("pcp", strconv.FormatUint(v&m>>13&7, 10)+maskHexPlain(m>>13&7, 7))
			}
		})
	case SetMPLSLSE:
		return "mpls(" + mplsString(uint32(v&m), uint32(m)) + ")"
	case SetPBBISID:
		return attr("pbb", func() { f.u16("isid", v&m&0xffffff, m&0xffffff, 0xffffff) })
	case SetIPv4Src:
		return attr("ipv4", func() { f.ipv4("src", v&m&0xffffffff, m&0xffffffff) })
	case SetIPv4Dst:
		return attr("ipv4", func() { f.ipv4("dst", v&m&0xffffffff, m&0xffffffff) })
	case SetIPTos:
		return attr("ip", func() {
			if m&0xff != 0 {
				f.field("tos", cHex(v&m&0xff)+maskCHex(m&0xff, 0xff))
			}
		})
	case SetIPTTL:
		return attr("ip", func() { f.u16("ttl", v&m&0xff, m&0xff, 0xff) })
	case SetIPProto:
		return attr("ip", func() { f.u16("proto", v&m&0xff, m&0xff, 0xff) })
	case SetIPv6Src, SetIPv6Dst, SetNdTarget:
		name, attrName := "src", "ipv6"
		if a.Field == SetIPv6Dst {
			name = "dst"
		} else if a.Field == SetNdTarget {
			name, attrName = "target", "nd"
		}
		return attr(attrName, func() {
			f.ipv6(name, a.Value[0]&a.Mask[0], v&m, a.Mask[0], m)
		})
	case SetIPv6Label:
		return attr("ipv6", func() {
			if m&0xfffff != 0 {
				f.field("label", cHex(v&m&0xfffff)+maskCHex(m&0xfffff, 0xfffff))
			}
		})
	case SetTpSrc:
		return attr("tp", func() { f.u16("src", v&m&0xffff, m&0xffff, 0xffff) })
	case SetTpDst:
		return attr("tp", func() { f.u16("dst", v&m&0xffff, m&0xffff, 0xffff) })
	case SetArpOp:
		return attr("arp", func() { f.u16("op", v&m&0xffff, m&0xffff, 0xffff) })
	case SetArpSha:
		return attr("arp", func() { f.mac("sha", v&m, m&0xffff_ffff_ffff) })
	case SetArpTha:
		return attr("arp", func() { f.mac("tha", v&m, m&0xffff_ffff_ffff) })
	case SetNdSll:
		return attr("nd", func() { f.mac("sll", v&m, m&0xffff_ffff_ffff) })
	case SetNdTll:
		return attr("nd", func() { f.mac("tll", v&m, m&0xffff_ffff_ffff) })
	}
	return "unknown(" + strconv.Itoa(int(a.Field)) + ")"
}
