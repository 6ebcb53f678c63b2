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
	tcpOpts := tcpLayer()
	tcpOpts.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}}}
	tcpOpts.NS, tcpOpts.CWR, tcpOpts.FIN, tcpOpts.URG = true, true, true, true
	ip4Opts := ip4Layer(17)
	ip4Opts.Options = []layers.IPv4Option{{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}}
	frames := map[string][]byte{
		"tcp4":         buildFrame(t, ethLayer(e4), ip4Layer(6), tcpLayer(), fillPayload(10)),
		"tcp4-opts":    buildFrame(t, ethLayer(e4), ip4Layer(6), tcpOpts, fillPayload(3)),
		"udp4":         buildFrame(t, ethLayer(e4), ip4Layer(17), udpLayer(), fillPayload(2)),
		"udp4-ipopts":  buildFrame(t, ethLayer(e4), ip4Opts, udpLayer(), fillPayload(2)),
		"sctp4":        buildFrame(t, ethLayer(e4), ip4Layer(132), sctpLayer(), fillPayload(16)),
		"icmp4":        buildFrame(t, ethLayer(e4), ip4Layer(1), icmp4Layer(8, 0), fillPayload(8)),
		"gre4":         buildFrame(t, ethLayer(e4), ip4Layer(47), fillPayload(8)),
		"icmp6-in-4":   buildFrame(t, ethLayer(e4), ip4Layer(58), fillPayload(8)),
		"frag4-first":  buildFrame(t, ethLayer(e4), &layers.IPv4{Version: 4, IHL: 5, TTL: 9, Protocol: 17, Flags: layers.IPv4MoreFragments, SrcIP: ip4Src, DstIP: ip4Dst}, udpLayer(), fillPayload(16)),
		"frag4-later":  buildFrame(t, ethLayer(e4), &layers.IPv4{Version: 4, IHL: 5, TTL: 9, Protocol: 6, FragOffset: 3, SrcIP: ip4Src, DstIP: ip4Dst}, fillPayload(40)),
		"arp-req":      buildFrame(t, ethLayer(layers.EthernetTypeARP), arpLayer(1)),
		"arp-big-op":   buildFrame(t, ethLayer(layers.EthernetTypeARP), arpLayer(0x1234)),
		"arp-ieee802":  buildFrame(t, ethLayer(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeTokenRing, Protocol: e4, HwAddressSize: 6, ProtAddressSize: 4, Operation: 1, SourceHwAddress: macSrc, SourceProtAddress: ip4Src, DstHwAddress: macDst, DstProtAddress: ip4Dst}),
		"tcp6":         buildFrame(t, ethLayer(e6), ip6Layer(6), tcpLayer(), fillPayload(5)),
		"udp6":         buildFrame(t, ethLayer(e6), ip6Layer(17), udpLayer(), fillPayload(5)),
		"sctp6":        buildFrame(t, ethLayer(e6), ip6Layer(132), sctpLayer()),
		"echo6":        buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(128, 0), fillPayload(8)),
		"icmp4-in-6":   buildFrame(t, ethLayer(e6), ip6Layer(1), fillPayload(8)),
		"hop-tcp6":     buildFrame(t, ethLayer(e6), ip6Layer(0), extHdr6(0, 6, 16), tcpLayer()),
		"chain6":       buildFrame(t, ethLayer(e6), ip6Layer(0), extHdr6(0, 60, 8), extHdr6(60, 43, 16), extHdr6(43, 44, 24), fragHdr6(51, 0, true), extHdr6(51, 60, 16), extHdr6(60, 17, 8), udpLayer(), fillPayload(3)),
		"frag6-later":  buildFrame(t, ethLayer(e6), ip6Layer(44), fragHdr6(17, 100, true), fillPayload(24)),
		"frag6-atomic": buildFrame(t, ethLayer(e6), ip6Layer(44), fragHdr6(17, 0, false), udpLayer()),
		"unseq6":       buildFrame(t, ethLayer(e6), ip6Layer(44), fragHdr6(43, 0, true), extHdr6(43, 0, 8), extHdr6(0, 17, 8), udpLayer()),
		"unrep6":       buildFrame(t, ethLayer(e6), ip6Layer(43), extHdr6(43, 43, 8), extHdr6(43, 6, 8), tcpLayer()),
		"dest3":        buildFrame(t, ethLayer(e6), ip6Layer(60), extHdr6(60, 60, 8), extHdr6(60, 60, 8), extHdr6(60, 59, 8)),
		"esp6":         buildFrame(t, ethLayer(e6), ip6Layer(50), fillPayload(24)),
		"ah-esp6":      buildFrame(t, ethLayer(e6), ip6Layer(51), extHdr6(51, 50, 24), fillPayload(16)),
		"ah0-6":        buildFrame(t, ethLayer(e6), ip6Layer(51), gopacket.Payload{6, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, tcpLayer()),
		"nonext6":      buildFrame(t, ethLayer(e6), ip6Layer(59), fillPayload(8)),
		"mobility6":    buildFrame(t, ethLayer(e6), ip6Layer(135), fillPayload(8)),
		"routing4-6":   buildFrame(t, ethLayer(e6), ip6Layer(43), gopacket.Payload{17, 0, 4, 0, 0, 0, 0, 0}, udpLayer()),
		"ns-sll":       buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt, ndOption(1, macND))),
		"ns-bare":      buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt)),
		"ns-tail":      buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt, ndOption(1, macND), []byte{1, 1, 1})),
		"ns-dup":       buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt, ndOption(1, macND), ndOption(1, macSrc))),
		"ns-zero":      buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt, []byte{1, 0, 1, 2, 3, 4, 5, 6})),
		"ns-overrun":   buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt, []byte{1, 2, 1, 2, 3, 4, 5, 6})),
		"ns-long-sll":  buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt, ndOption(1, make([]byte, 14)))),
		"ns-tll":       buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(135, 0), ndBody(0, ip6Tgt, ndOption(2, macND))),
		"na-tll":       buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(136, 0), ndBody(0x60, ip6Tgt, ndOption(1, macSrc), ndOption(2, macND))),
		"na-code1":     buildFrame(t, ethLayer(e6), ip6Layer(58), icmp6Layer(136, 1), ndBody(0x60, ip6Tgt, ndOption(2, macND))),
		"vlan":         buildFrame(t, ethLayer(layers.EthernetTypeDot1Q), vlanLayer(10, 7, e4), ip4Layer(6), tcpLayer()),
		"qinq":         buildFrame(t, ethLayer(layers.EthernetTypeQinQ), vlanLayer(100, 1, layers.EthernetTypeDot1Q), vlanLayer(200, 2, e6), ip6Layer(17), udpLayer()),
		"tag-9100":     buildFrame(t, ethLayer(0x9100), vlanLayer(5, 0, e4), ip4Layer(17), udpLayer()),
		"three-tags":   buildFrame(t, ethLayer(layers.EthernetTypeDot1Q), vlanLayer(1, 0, layers.EthernetTypeDot1Q), vlanLayer(2, 0, layers.EthernetTypeDot1Q), vlanLayer(3, 0, e4), ip4Layer(17), udpLayer()),
		"vlan-snap":    buildFrame(t, ethLayer(layers.EthernetTypeDot1Q), vlanLayer(7, 0, 60), &layers.LLC{DSAP: 0xaa, SSAP: 0xaa, Control: 3}, &layers.SNAP{OrganizationalCode: []byte{0, 0, 0}, Type: e4}, ip4Layer(17), udpLayer()),
		"snap-ip4":     buildFrame(t, ethLayer(layers.EthernetTypeLLC), &layers.LLC{DSAP: 0xaa, SSAP: 0xaa, Control: 3}, &layers.SNAP{OrganizationalCode: []byte{0, 0, 0}, Type: e4}, ip4Layer(6), tcpLayer()),
		"snap-cdp":     buildFrame(t, ethLayer(layers.EthernetTypeLLC), &layers.LLC{DSAP: 0xaa, SSAP: 0xaa, Control: 3}, &layers.SNAP{OrganizationalCode: []byte{0, 0, 0x0c}, Type: 0x2000}, fillPayload(20)),
		"llc-stp":      buildFrame(t, ethLayer(layers.EthernetTypeLLC), &layers.LLC{DSAP: 0x42, SSAP: 0x42, Control: 3}, fillPayload(35)),
		"mpls":         buildFrame(t, ethLayer(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 1000, TrafficClass: 3, StackBottom: true, TTL: 9}, ip4Layer(6), tcpLayer()),
		"mpls2":        buildFrame(t, ethLayer(layers.EthernetTypeMPLSMulticast), &layers.MPLS{Label: 16, TTL: 1}, &layers.MPLS{Label: 17, StackBottom: true, TTL: 2}, ip6Layer(17), udpLayer()),
		"vlan-mpls":    buildFrame(t, ethLayer(layers.EthernetTypeDot1Q), vlanLayer(3, 0, layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 1, StackBottom: true, TTL: 64}, fillPayload(20)),
		"pbb":          buildFrame(t, ethLayer(0x88e7), gopacket.Payload{0x08, 1, 2, 3}, ethLayer(e4), ip4Layer(6), tcpLayer()),
		"unknown":      buildFrame(t, ethLayer(0x1234), fillPayload(20)),
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
		FieldEthDst.Set(&want, macValue(eth.DstMAC))
		FieldEthSrc.Set(&want, macValue(eth.SrcMAC))
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
				FieldIPv4Src.Set(&want, gpIPv4(x.SourceProtAddress))
				FieldIPv4Dst.Set(&want, gpIPv4(x.DstProtAddress))
				FieldArpSha.Set(&want, macValue(x.SourceHwAddress))
				FieldArpTha.Set(&want, macValue(x.DstHwAddress))
			case *layers.IPv4:
				FieldNwProto.Set(&want, uint64(x.Protocol))
				FieldNwTos.Set(&want, uint64(x.TOS))
				FieldNwTTL.Set(&want, uint64(x.TTL))
				FieldIPv4Src.Set(&want, gpIPv4(x.SrcIP))
				FieldIPv4Dst.Set(&want, gpIPv4(x.DstIP))
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
						FieldArpSha.Set(&want, macValue(o.Data))
					}
				}
			case *layers.ICMPv6NeighborAdvertisement:
				FieldNdTargetHi.Set(&want, binary.BigEndian.Uint64(x.TargetAddress[:8]))
				FieldNdTargetLo.Set(&want, binary.BigEndian.Uint64(x.TargetAddress[8:]))
				for _, o := range x.Options {
					if o.Type == layers.ICMPv6OptTargetAddress {
						FieldArpTha.Set(&want, macValue(o.Data))
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

// frameGen builds random frames: random stacks of layers with random field
// values.
type frameGen struct {
	r     *rand.Rand
	t     testing.TB
	proto layers.IPProtocol // the protocol of the last L4 layers made
}

func (g *frameGen) n(n int) int           { return g.r.IntN(n) }
func (g *frameGen) chance(p float64) bool { return g.r.Float64() < p }
func (g *frameGen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

func (g *frameGen) frame() []byte {
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
		a := arpLayer(uint16(g.n(5)))
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

func (g *frameGen) ipv4() []gopacket.SerializableLayer {
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

func (g *frameGen) ipv6() []gopacket.SerializableLayer {
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
			ls = append(ls, fragHdr6(next(i+1), off, g.chance(0.5)))
		case 51:
			ls = append(ls, extHdr6(51, next(i+1), 12+4*g.n(4)))
		case 50, 59:
			return append(ls, gopacket.Payload(g.bytes(g.n(24))))
		default:
			ls = append(ls, extHdr6(e, next(i+1), 8+8*g.n(3)))
		}
	}
	return append(ls, l4...)
}

// l4 returns random L4 layers for ip, and sets g.proto to its protocol.
func (g *frameGen) l4(ip gopacket.NetworkLayer, v6 bool) []gopacket.SerializableLayer {
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
					opts = append(opts, ndOption(byte(g.n(6)), g.bytes(g.n(20))))
				default:
					opts = append(opts, ndOption(byte(1+g.n(2)), g.bytes(6)))
				}
			}
			_ = c.SetNetworkLayerForChecksum(ip)
			return []gopacket.SerializableLayer{c, ndBody(byte(g.n(256)), g.bytes(16), opts...)}
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
	g := &frameGen{r: rand.New(rand.NewPCG(seed, 0x5eed)), t: t}
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
