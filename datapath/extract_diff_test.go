package datapath

import (
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var extractSeed = flag.Uint64("extract.seed", 0, "seed for the random Extract tests (0: time)")

// diffKeys describes how got differs from want, field by field.
func diffKeys(got, want *Key) string {
	var b strings.Builder
	for _, f := range allFields {
		if g, w := f.Get(got), f.Get(want); g != w {
			fmt.Fprintf(&b, " %s: got %#x want %#x;", f.Name, g, w)
		}
	}
	return b.String()
}

// checkOracle compares Extract with the gopacket oracle on frame and
// reports any difference; ctx says where the frame came from.
func checkOracle(t testing.TB, frame []byte, ctx string) bool {
	t.Helper()
	var k Key
	var l Layout
	Extract(frame, 7, &k, &l)
	wk, wl, rules := gopacketKey(frame, 7)
	if k == wk && l == wl {
		return true
	}
	t.Errorf("%s: Extract differs from gopacket:%s\n layout got %+v\n       want %+v\n rules: %s\n frame (%d bytes): %s",
		ctx, diffKeys(&k, &wk), l, wl, strings.Join(rules, "; "), len(frame), hex.EncodeToString(frame))
	return false
}

// craftedFrames is a table of frames of every kind Extract knows, valid
// and odd ones.
func craftedFrames(t testing.TB) map[string][]byte {
	e4, e6 := layers.EthernetTypeIPv4, layers.EthernetTypeIPv6
	tcpOpts := tcpL()
	tcpOpts.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}}}
	tcpOpts.NS, tcpOpts.CWR, tcpOpts.FIN, tcpOpts.URG = true, true, true, true
	ip4Opts := ip4L(17)
	ip4Opts.Options = []layers.IPv4Option{{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}}
	frames := map[string][]byte{
		"tcp4":         build(t, ethL(e4), ip4L(6), tcpL(), payload(10)),
		"tcp4-opts":    build(t, ethL(e4), ip4L(6), tcpOpts, payload(3)),
		"udp4":         build(t, ethL(e4), ip4L(17), udpL(), payload(2)),
		"udp4-ipopts":  build(t, ethL(e4), ip4Opts, udpL(), payload(2)),
		"sctp4":        build(t, ethL(e4), ip4L(132), sctpL(), payload(16)),
		"icmp4":        build(t, ethL(e4), ip4L(1), icmp4L(8, 0), payload(8)),
		"gre4":         build(t, ethL(e4), ip4L(47), payload(8)),
		"icmp6-in-4":   build(t, ethL(e4), ip4L(58), payload(8)),
		"frag4-first":  build(t, ethL(e4), &layers.IPv4{Version: 4, IHL: 5, TTL: 9, Protocol: 17, Flags: layers.IPv4MoreFragments, SrcIP: ip4Src, DstIP: ip4Dst}, udpL(), payload(16)),
		"frag4-later":  build(t, ethL(e4), &layers.IPv4{Version: 4, IHL: 5, TTL: 9, Protocol: 6, FragOffset: 3, SrcIP: ip4Src, DstIP: ip4Dst}, payload(40)),
		"arp-req":      build(t, ethL(layers.EthernetTypeARP), arpL(1)),
		"arp-big-op":   build(t, ethL(layers.EthernetTypeARP), arpL(0x1234)),
		"arp-ieee802":  build(t, ethL(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeTokenRing, Protocol: e4, HwAddressSize: 6, ProtAddressSize: 4, Operation: 1, SourceHwAddress: macSrc, SourceProtAddress: ip4Src, DstHwAddress: macDst, DstProtAddress: ip4Dst}),
		"tcp6":         build(t, ethL(e6), ip6L(6), tcpL(), payload(5)),
		"udp6":         build(t, ethL(e6), ip6L(17), udpL(), payload(5)),
		"sctp6":        build(t, ethL(e6), ip6L(132), sctpL()),
		"echo6":        build(t, ethL(e6), ip6L(58), icmp6L(128, 0), payload(8)),
		"icmp4-in-6":   build(t, ethL(e6), ip6L(1), payload(8)),
		"hop-tcp6":     build(t, ethL(e6), ip6L(0), ext6(0, 6, 16), tcpL()),
		"chain6":       build(t, ethL(e6), ip6L(0), ext6(0, 60, 8), ext6(60, 43, 16), ext6(43, 44, 24), frag6(51, 0, true), ext6(51, 60, 16), ext6(60, 17, 8), udpL(), payload(3)),
		"frag6-later":  build(t, ethL(e6), ip6L(44), frag6(17, 100, true), payload(24)),
		"frag6-atomic": build(t, ethL(e6), ip6L(44), frag6(17, 0, false), udpL()),
		"unseq6":       build(t, ethL(e6), ip6L(44), frag6(43, 0, true), ext6(43, 0, 8), ext6(0, 17, 8), udpL()),
		"unrep6":       build(t, ethL(e6), ip6L(43), ext6(43, 43, 8), ext6(43, 6, 8), tcpL()),
		"dest3":        build(t, ethL(e6), ip6L(60), ext6(60, 60, 8), ext6(60, 60, 8), ext6(60, 59, 8)),
		"esp6":         build(t, ethL(e6), ip6L(50), payload(24)),
		"ah-esp6":      build(t, ethL(e6), ip6L(51), ext6(51, 50, 24), payload(16)),
		"ah0-6":        build(t, ethL(e6), ip6L(51), gopacket.Payload{6, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, tcpL()),
		"nonext6":      build(t, ethL(e6), ip6L(59), payload(8)),
		"mobility6":    build(t, ethL(e6), ip6L(135), payload(8)),
		"routing4-6":   build(t, ethL(e6), ip6L(43), gopacket.Payload{17, 0, 4, 0, 0, 0, 0, 0}, udpL()),
		"ns-sll":       build(t, ethL(e6), ip6L(58), icmp6L(135, 0), nd(0, ip6Tgt, ndOpt(1, macND))),
		"ns-bare":      build(t, ethL(e6), ip6L(58), icmp6L(135, 0), nd(0, ip6Tgt)),
		"ns-tail":      build(t, ethL(e6), ip6L(58), icmp6L(135, 0), nd(0, ip6Tgt, ndOpt(1, macND), []byte{1, 1, 1})),
		"ns-dup":       build(t, ethL(e6), ip6L(58), icmp6L(135, 0), nd(0, ip6Tgt, ndOpt(1, macND), ndOpt(1, macSrc))),
		"ns-zero":      build(t, ethL(e6), ip6L(58), icmp6L(135, 0), nd(0, ip6Tgt, []byte{1, 0, 1, 2, 3, 4, 5, 6})),
		"ns-overrun":   build(t, ethL(e6), ip6L(58), icmp6L(135, 0), nd(0, ip6Tgt, []byte{1, 2, 1, 2, 3, 4, 5, 6})),
		"ns-long-sll":  build(t, ethL(e6), ip6L(58), icmp6L(135, 0), nd(0, ip6Tgt, ndOpt(1, make([]byte, 14)))),
		"ns-tll":       build(t, ethL(e6), ip6L(58), icmp6L(135, 0), nd(0, ip6Tgt, ndOpt(2, macND))),
		"na-tll":       build(t, ethL(e6), ip6L(58), icmp6L(136, 0), nd(0x60, ip6Tgt, ndOpt(1, macSrc), ndOpt(2, macND))),
		"na-code1":     build(t, ethL(e6), ip6L(58), icmp6L(136, 1), nd(0x60, ip6Tgt, ndOpt(2, macND))),
		"vlan":         build(t, ethL(layers.EthernetTypeDot1Q), vlanL(10, 7, e4), ip4L(6), tcpL()),
		"qinq":         build(t, ethL(layers.EthernetTypeQinQ), vlanL(100, 1, layers.EthernetTypeDot1Q), vlanL(200, 2, e6), ip6L(17), udpL()),
		"tag-9100":     build(t, ethL(0x9100), vlanL(5, 0, e4), ip4L(17), udpL()),
		"three-tags":   build(t, ethL(layers.EthernetTypeDot1Q), vlanL(1, 0, layers.EthernetTypeDot1Q), vlanL(2, 0, layers.EthernetTypeDot1Q), vlanL(3, 0, e4), ip4L(17), udpL()),
		"vlan-snap":    build(t, ethL(layers.EthernetTypeDot1Q), vlanL(7, 0, 60), &layers.LLC{DSAP: 0xaa, SSAP: 0xaa, Control: 3}, &layers.SNAP{OrganizationalCode: []byte{0, 0, 0}, Type: e4}, ip4L(17), udpL()),
		"snap-ip4":     build(t, ethL(layers.EthernetTypeLLC), &layers.LLC{DSAP: 0xaa, SSAP: 0xaa, Control: 3}, &layers.SNAP{OrganizationalCode: []byte{0, 0, 0}, Type: e4}, ip4L(6), tcpL()),
		"snap-cdp":     build(t, ethL(layers.EthernetTypeLLC), &layers.LLC{DSAP: 0xaa, SSAP: 0xaa, Control: 3}, &layers.SNAP{OrganizationalCode: []byte{0, 0, 0x0c}, Type: 0x2000}, payload(20)),
		"llc-stp":      build(t, ethL(layers.EthernetTypeLLC), &layers.LLC{DSAP: 0x42, SSAP: 0x42, Control: 3}, payload(35)),
		"mpls":         build(t, ethL(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 1000, TrafficClass: 3, StackBottom: true, TTL: 9}, ip4L(6), tcpL()),
		"mpls2":        build(t, ethL(layers.EthernetTypeMPLSMulticast), &layers.MPLS{Label: 16, TTL: 1}, &layers.MPLS{Label: 17, StackBottom: true, TTL: 2}, ip6L(17), udpL()),
		"vlan-mpls":    build(t, ethL(layers.EthernetTypeDot1Q), vlanL(3, 0, layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 1, StackBottom: true, TTL: 64}, payload(20)),
		"pbb":          build(t, ethL(0x88e7), gopacket.Payload{0x08, 1, 2, 3}, ethL(e4), ip4L(6), tcpL()),
		"unknown":      build(t, ethL(0x1234), payload(20)),
	}
	// Hand-patched oddities.
	bad := func(name string, src string, patch func(f []byte)) {
		f := append([]byte(nil), frames[src]...)
		patch(f)
		frames[name] = f
	}
	bad("ip4-version5", "tcp4", func(f []byte) { f[14] = 0x55 })
	bad("ip4-ihl4", "tcp4", func(f []byte) { f[14] = 0x44 })
	bad("ip4-ihl15", "tcp4", func(f []byte) { f[14] = 0x4f })
	bad("ip4-totlen0", "tcp4", func(f []byte) { f[16], f[17] = 0, 0 })
	bad("ip4-totlen10", "tcp4", func(f []byte) { f[16], f[17] = 0, 10 })
	bad("ip4-totlen-short", "udp4", func(f []byte) { f[16], f[17] = 0, 24 })
	bad("ip4-totlen-huge", "tcp4", func(f []byte) { f[16], f[17] = 0xff, 0xff })
	bad("ip4-bad-option", "udp4-ipopts", func(f []byte) { f[35] = 0 })
	bad("ip6-version4", "tcp6", func(f []byte) { f[14] = 0x46 })
	bad("ip6-plen0", "tcp6", func(f []byte) { f[18], f[19] = 0, 0 })
	bad("ip6-plen-short", "udp6", func(f []byte) { f[18], f[19] = 0, 4 })
	bad("tcp-doff3", "tcp4", func(f []byte) { f[46] = 0x30 })
	bad("tcp-doff15", "tcp4", func(f []byte) { f[46] = 0xf0 })
	bad("tcp-reserved", "tcp4", func(f []byte) { f[46] |= 0x0e })
	bad("udp-len3", "udp4", func(f []byte) { f[38], f[39] = 0, 3 })
	bad("llc-ig", "snap-ip4", func(f []byte) { f[14] = 0xab })
	bad("snap-ctl", "snap-ip4", func(f []byte) { f[16] = 0x13 })
	bad("snap-type-len", "snap-ip4", func(f []byte) { f[20], f[21] = 0x05, 0xdc })
	bad("arp-hlen", "arp-req", func(f []byte) { f[18] = 8 })
	bad("hop-bad-tlv", "hop-tcp6", func(f []byte) { f[57] = 0x20 })
	return frames
}

// TestExtractDifferential compares Extract with gopacket on the crafted
// frames and on every truncation of each.
func TestExtractDifferential(t *testing.T) {
	for name, f := range craftedFrames(t) {
		for n := len(f); n >= 0; n-- {
			if !checkOracle(t, f[:n], fmt.Sprintf("%s[:%d]", name, n)) {
				break
			}
		}
	}
}

// TestExtractFullDecode reads the fields straight from gopacket's decode of
// the whole frame from Ethernet (gopacket.Default), for valid frames where
// gopacket's chain and ours agree, as a check on the oracle itself.
func TestExtractFullDecode(t *testing.T) {
	frames := craftedFrames(t)
	for _, name := range []string{"tcp4", "tcp4-opts", "udp4", "icmp4", "tcp6", "udp6",
		"sctp6", "echo6", "vlan", "qinq", "arp-req", "ns-sll", "na-tll", "hop-tcp6"} {
		f := frames[name]
		p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
		if p.ErrorLayer() != nil {
			t.Fatalf("%s: gopacket: %v", name, p.ErrorLayer().Error())
		}
		var want Key
		FieldInPort.Set(&want, 7)
		eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		FieldEthDst.Set(&want, mac48(eth.DstMAC))
		FieldEthSrc.Set(&want, mac48(eth.SrcMAC))
		FieldEthType.Set(&want, uint64(eth.EthernetType))
		for _, l := range p.Layers() {
			switch x := l.(type) {
			case *layers.Dot1Q:
				tci := uint64(x.Priority)<<13 | uint64(x.VLANIdentifier) | VlanCFI
				if FieldVlanTCI.Get(&want) == 0 {
					FieldVlanTCI.Set(&want, tci)
				} else {
					FieldVlan2TCI.Set(&want, tci)
				}
				FieldEthType.Set(&want, uint64(x.Type))
			case *layers.ARP:
				FieldNwProto.Set(&want, uint64(x.Operation))
				FieldIPv4Src.Set(&want, ip4Of(x.SourceProtAddress))
				FieldIPv4Dst.Set(&want, ip4Of(x.DstProtAddress))
				FieldArpSha.Set(&want, mac48(x.SourceHwAddress))
				FieldArpTha.Set(&want, mac48(x.DstHwAddress))
			case *layers.IPv4:
				FieldNwProto.Set(&want, uint64(x.Protocol))
				FieldNwTos.Set(&want, uint64(x.TOS))
				FieldNwTTL.Set(&want, uint64(x.TTL))
				FieldIPv4Src.Set(&want, ip4Of(x.SrcIP))
				FieldIPv4Dst.Set(&want, ip4Of(x.DstIP))
			case *layers.IPv6:
				FieldNwProto.Set(&want, uint64(x.NextHeader))
				if x.HopByHop != nil {
					FieldNwProto.Set(&want, uint64(x.HopByHop.NextHeader))
					FieldIPv6Exthdr.Set(&want, ExthdrHop)
				}
				FieldNwTos.Set(&want, uint64(x.TrafficClass))
				FieldNwTTL.Set(&want, uint64(x.HopLimit))
				FieldIPv6Label.Set(&want, uint64(x.FlowLabel))
				FieldIPv6SrcHi.Set(&want, binary.BigEndian.Uint64(x.SrcIP[:8]))
				FieldIPv6SrcLo.Set(&want, binary.BigEndian.Uint64(x.SrcIP[8:]))
				FieldIPv6DstHi.Set(&want, binary.BigEndian.Uint64(x.DstIP[:8]))
				FieldIPv6DstLo.Set(&want, binary.BigEndian.Uint64(x.DstIP[8:]))
			case *layers.TCP:
				FieldTpSrc.Set(&want, uint64(x.SrcPort))
				FieldTpDst.Set(&want, uint64(x.DstPort))
				fl := uint64(0)
				for i, b := range []bool{x.FIN, x.SYN, x.RST, x.PSH, x.ACK, x.URG, x.ECE, x.CWR, x.NS} {
					if b {
						fl |= 1 << i
					}
				}
				FieldTCPFlags.Set(&want, fl)
			case *layers.UDP:
				FieldTpSrc.Set(&want, uint64(x.SrcPort))
				FieldTpDst.Set(&want, uint64(x.DstPort))
			case *layers.SCTP:
				FieldTpSrc.Set(&want, uint64(x.SrcPort))
				FieldTpDst.Set(&want, uint64(x.DstPort))
			case *layers.ICMPv4:
				FieldTpSrc.Set(&want, uint64(x.TypeCode.Type()))
				FieldTpDst.Set(&want, uint64(x.TypeCode.Code()))
			case *layers.ICMPv6:
				FieldTpSrc.Set(&want, uint64(x.TypeCode.Type()))
				FieldTpDst.Set(&want, uint64(x.TypeCode.Code()))
			case *layers.ICMPv6NeighborSolicitation:
				FieldNdTargetHi.Set(&want, binary.BigEndian.Uint64(x.TargetAddress[:8]))
				FieldNdTargetLo.Set(&want, binary.BigEndian.Uint64(x.TargetAddress[8:]))
				for _, o := range x.Options {
					if o.Type == layers.ICMPv6OptSourceAddress {
						FieldArpSha.Set(&want, mac48(o.Data))
					}
				}
			case *layers.ICMPv6NeighborAdvertisement:
				FieldNdTargetHi.Set(&want, binary.BigEndian.Uint64(x.TargetAddress[:8]))
				FieldNdTargetLo.Set(&want, binary.BigEndian.Uint64(x.TargetAddress[8:]))
				for _, o := range x.Options {
					if o.Type == layers.ICMPv6OptTargetAddress {
						FieldArpTha.Set(&want, mac48(o.Data))
					}
				}
			}
		}
		var k Key
		var lay Layout
		Extract(f, 7, &k, &lay)
		if k != want {
			t.Errorf("%s:%s", name, diffKeys(&k, &want))
		}
	}
}

// gen builds random frames: random stacks of layers with random field
// values.
type gen struct {
	r     *rand.Rand
	t     testing.TB
	proto layers.IPProtocol // the protocol of the last L4 layers made
}

func (g *gen) n(n int) int           { return g.r.IntN(n) }
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }
func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

func (g *gen) frame() []byte {
	tpids := []layers.EthernetType{0x8100, 0x88a8, 0x9100}
	eth := &layers.Ethernet{SrcMAC: g.bytes(6), DstMAC: g.bytes(6)}
	ls := []gopacket.SerializableLayer{eth}
	setType := func(t layers.EthernetType) { eth.EthernetType = t }
	for range []int{0, 0, 0, 1, 2, 3}[g.n(6)] {
		setType(tpids[g.n(3)])
		d := &layers.Dot1Q{Priority: uint8(g.n(8)), DropEligible: g.chance(0.3), VLANIdentifier: uint16(g.n(4096))}
		ls = append(ls, d)
		setType = func(t layers.EthernetType) { d.Type = t }
	}
	switch x := g.n(20); {
	case x < 7:
		setType(layers.EthernetTypeIPv4)
		ls = append(ls, g.ipv4()...)
	case x < 14:
		setType(layers.EthernetTypeIPv6)
		ls = append(ls, g.ipv6()...)
	case x < 15:
		setType(layers.EthernetTypeARP)
		a := arpL(uint16(g.n(5)))
		a.SourceHwAddress, a.DstHwAddress = g.bytes(6), g.bytes(6)
		a.SourceProtAddress, a.DstProtAddress = g.bytes(4), g.bytes(4)
		ls = append(ls, a)
	case x < 16:
		setType([]layers.EthernetType{0x8847, 0x8848}[g.n(2)])
		ls = append(ls, &layers.MPLS{Label: uint32(g.n(1 << 20)), TrafficClass: uint8(g.n(8)), StackBottom: g.chance(0.7), TTL: uint8(g.n(256))}, gopacket.Payload(g.bytes(g.n(40))))
	case x < 17:
		setType(0x88e7)
		ls = append(ls, gopacket.Payload(g.bytes(4+g.n(40))))
	case x < 18:
		setType(layers.EthernetTypeLLC)
		ls = append(ls, &layers.LLC{DSAP: 0xaa, SSAP: 0xaa, Control: 3}, &layers.SNAP{OrganizationalCode: []byte{0, 0, byte(g.n(2))}, Type: layers.EthernetTypeIPv4})
		ls = append(ls, g.ipv4()...)
	default:
		setType(layers.EthernetType(g.n(0x10000)))
		ls = append(ls, gopacket.Payload(g.bytes(g.n(40))))
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		return nil
	}
	return append([]byte(nil), buf.Bytes()...)
}

func (g *gen) ipv4() []gopacket.SerializableLayer {
	ip := &layers.IPv4{Version: 4, IHL: 5, TOS: uint8(g.n(256)), Id: uint16(g.n(65536)), TTL: uint8(g.n(256)),
		SrcIP: g.bytes(4), DstIP: g.bytes(4)}
	if g.chance(0.2) {
		ip.Flags = layers.IPv4Flag(g.n(8))
		ip.FragOffset = uint16(g.n(3)) * uint16(g.n(0x2000))
	}
	if g.chance(0.1) {
		ip.Options = []layers.IPv4Option{{OptionType: 0x94, OptionLength: 4, OptionData: g.bytes(2)}}
	}
	l4 := g.l4(ip, false)
	ip.Protocol = g.proto
	return append([]gopacket.SerializableLayer{ip}, l4...)
}

func (g *gen) ipv6() []gopacket.SerializableLayer {
	ip := &layers.IPv6{Version: 6, TrafficClass: uint8(g.n(256)), FlowLabel: uint32(g.n(1 << 20)),
		HopLimit: uint8(g.n(256)), SrcIP: g.bytes(16), DstIP: g.bytes(16)}
	ls := []gopacket.SerializableLayer{ip}
	types := []layers.IPProtocol{0, 43, 44, 60, 51, 50, 59}
	var exts []layers.IPProtocol
	for range []int{0, 0, 1, 1, 2, 3, 5}[g.n(7)] {
		exts = append(exts, types[g.n(len(types))])
	}
	l4 := g.l4(ip, true)
	next := func(i int) layers.IPProtocol {
		if i < len(exts) {
			return exts[i]
		}
		return g.proto
	}
	ip.NextHeader = next(0)
	for i, e := range exts {
		switch e {
		case 44:
			off := uint16(0)
			if g.chance(0.4) {
				off = uint16(g.n(0x2000))
			}
			ls = append(ls, frag6(next(i+1), off, g.chance(0.5)))
		case 51:
			ls = append(ls, ext6(51, next(i+1), 12+4*g.n(4)))
		case 50, 59:
			return append(ls, gopacket.Payload(g.bytes(g.n(24))))
		default:
			ls = append(ls, ext6(e, next(i+1), 8+8*g.n(3)))
		}
	}
	return append(ls, l4...)
}

// l4 returns random L4 layers for ip, and sets g.proto to its protocol.
func (g *gen) l4(ip gopacket.NetworkLayer, v6 bool) []gopacket.SerializableLayer {
	pl := gopacket.Payload(g.bytes(g.n(32)))
	switch g.n(9) {
	case 0, 1:
		g.proto = 6
		t := &layers.TCP{SrcPort: layers.TCPPort(g.n(65536)), DstPort: layers.TCPPort(g.n(65536)), Seq: g.r.Uint32(),
			FIN: g.chance(0.5), SYN: g.chance(0.5), RST: g.chance(0.2), PSH: g.chance(0.3), ACK: g.chance(0.5),
			URG: g.chance(0.1), ECE: g.chance(0.1), CWR: g.chance(0.1), NS: g.chance(0.1), Window: uint16(g.n(65536))}
		if g.chance(0.3) {
			t.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: g.bytes(2)}}
		}
		_ = t.SetNetworkLayerForChecksum(ip)
		return []gopacket.SerializableLayer{t, pl}
	case 2, 3:
		g.proto = 17
		u := &layers.UDP{SrcPort: layers.UDPPort(g.n(65536)), DstPort: layers.UDPPort(g.n(65536))}
		_ = u.SetNetworkLayerForChecksum(ip)
		return []gopacket.SerializableLayer{u, pl}
	case 4:
		g.proto = 132
		return []gopacket.SerializableLayer{&layers.SCTP{SrcPort: layers.SCTPPort(g.n(65536)), DstPort: layers.SCTPPort(g.n(65536))}, pl}
	case 5, 6:
		if !v6 {
			g.proto = 1
			return []gopacket.SerializableLayer{&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(uint8(g.n(256)), uint8(g.n(4)))}, pl}
		}
		g.proto = 58
		c := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(uint8(g.n(256)), uint8(g.n(4)))}
		if g.chance(0.6) {
			c.TypeCode = layers.CreateICMPv6TypeCode(uint8(135+g.n(2)), uint8(g.n(5)/4))
			var opts [][]byte
			for range g.n(4) {
				switch g.n(5) {
				case 0:
					opts = append(opts, g.bytes(g.n(12)))
				case 1:
					opts = append(opts, ndOpt(byte(g.n(6)), g.bytes(g.n(20))))
				default:
					opts = append(opts, ndOpt(byte(1+g.n(2)), g.bytes(6)))
				}
			}
			_ = c.SetNetworkLayerForChecksum(ip)
			return []gopacket.SerializableLayer{c, nd(byte(g.n(256)), g.bytes(16), opts...)}
		}
		_ = c.SetNetworkLayerForChecksum(ip)
		return []gopacket.SerializableLayer{c, pl}
	default:
		g.proto = layers.IPProtocol(g.n(256))
		return []gopacket.SerializableLayer{pl}
	}
}

// TestExtractRandom compares Extract with gopacket on random frames, random
// truncations of them, and random byte mutations.
func TestExtractRandom(t *testing.T) {
	seed := *extractSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x5eed)), t: t}
	fails := 0
	for i := 0; i < n && fails < 5; i++ {
		f := g.frame()
		if f == nil {
			continue
		}
		ctx := fmt.Sprintf("seed %d (-extract.seed=%d) frame %d", seed, seed, i)
		ok := checkOracle(t, f, ctx)
		var k Key
		var l Layout
		Extract(f, 7, &k, &l)
		checkInvariants(t, f, &k, &l)
		ok = checkOracle(t, f[:g.n(len(f)+1)], ctx+" truncated") && ok
		m := append([]byte(nil), f...)
		for range 1 + g.n(4) {
			p := g.n(len(m))
			if g.chance(0.7) && len(m) > 80 {
				p = 12 + g.n(68)
			}
			m[p] ^= byte(1 << g.n(8))
			if g.chance(0.3) {
				m[p] = byte(g.n(256))
			}
		}
		ok = checkOracle(t, m, ctx+" mutated") && ok
		if !ok {
			fails++
		}
	}
}
