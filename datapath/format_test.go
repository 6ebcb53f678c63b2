package datapath

import (
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// fmtMask builds a mask: each field exact, or with the given bits.
func fmtMask(exact []Field, partial map[Field]uint64) Key {
	var m Key
	for _, f := range exact {
		f.Exact(&m)
	}
	for f, bits := range partial {
		f.Or(&m, bits)
	}
	return m
}

var (
	l2Exact  = []Field{FieldRecircID, FieldInPort, FieldEthSrc, FieldEthDst, FieldEthType}
	ip4Exact = []Field{FieldIPv4Src, FieldIPv4Dst, FieldNwProto, FieldNwTos, FieldNwTTL, FieldNwFrag}
	ip6Exact = []Field{FieldIPv6SrcHi, FieldIPv6SrcLo, FieldIPv6DstHi, FieldIPv6DstLo, FieldIPv6Label,
		FieldNwProto, FieldNwTos, FieldNwTTL, FieldNwFrag}
	tpExact = []Field{FieldTpSrc, FieldTpDst}
)

func fmtFields(fs ...[]Field) []Field {
	var out []Field
	for _, f := range fs {
		out = append(out, f...)
	}
	return out
}

func TestFormatKeyMask(t *testing.T) {
	e4, e6 := layers.EthernetTypeIPv4, layers.EthernetTypeIPv6
	udp := udpLayer()
	udp.DstPort = 80
	ip := ip4Layer(17)
	ip.TOS = 0
	ttl255 := ip6Layer(58)
	ttl255.HopLimit = 255
	frames := map[string][]byte{
		"udp4":  buildFrame(t, ethLayer(e4), ip, udp),
		"tcp4":  buildFrame(t, ethLayer(e4), ip4Layer(6), tcpLayer()),
		"vlan":  buildFrame(t, ethLayer(layers.EthernetTypeDot1Q), vlanLayer(10, 0, e4), ip4Layer(1), icmp4Layer(8, 0)),
		"qinq":  buildFrame(t, ethLayer(layers.EthernetTypeQinQ), vlanLayer(100, 3, layers.EthernetTypeDot1Q), vlanLayer(200, 0, e4), ip4Layer(17), udpLayer()),
		"arp":   buildFrame(t, ethLayer(layers.EthernetTypeARP), arpLayer(1)),
		"ns":    buildFrame(t, ethLayer(e6), ttl255, icmp6Layer(135, 0), ndBody(0, ip6Tgt, ndOption(1, macND))),
		"ext6":  buildFrame(t, ethLayer(e6), ip6Layer(0), extHdr6(0, 44, 8), fragHdr6(17, 0, true), udpLayer()),
		"llc":   buildFrame(t, ethLayer(layers.EthernetTypeLLC), &layers.LLC{DSAP: 0x42, SSAP: 0x42, Control: 3}, fillPayload(35)),
		"mpls":  buildFrame(t, ethLayer(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 1000, TrafficClass: 3, StackBottom: true, TTL: 9}, ip4Layer(6), tcpLayer()),
		"pbb":   buildFrame(t, ethLayer(0x88e7), gopacket.Payload{0x08, 0xab, 0xcd, 0xef}, ethLayer(e4), ip4Layer(6), tcpLayer()),
		"later": buildFrame(t, ethLayer(e4), &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: 6, FragOffset: 8, SrcIP: ip4Src, DstIP: ip4Dst}, fillPayload(30)),
	}
	const eth = "eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02)"
	tests := []struct {
		frame string
		mask  Key
		tun   uint64
		want  string
	}{
		{"udp4", fmtMask(fmtFields(l2Exact, ip4Exact, tpExact), nil),
			0, "recirc_id(0),in_port(1)," + eth + ",eth_type(0x0800),ipv4(src=198.18.0.1,dst=198.18.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1234,dst=80)"},
		{"tcp4", fmtMask([]Field{FieldRecircID, FieldInPort, FieldEthType, FieldNwFrag, FieldTpDst}, map[Field]uint64{FieldIPv4Dst: 0xffffff00}),
			0, "recirc_id(0),in_port(1),eth(),eth_type(0x0800),ipv4(dst=198.18.0.0/255.255.255.0,frag=no),tcp(dst=80)"},
		{"tcp4", fmtMask([]Field{FieldEthType, FieldNwProto, FieldTCPFlags}, map[Field]uint64{FieldTpSrc: 0xfc00, FieldEthSrc: 0xffffff000000}),
			0, "eth(src=00:00:00:00:00:00/ff:ff:ff:00:00:00),eth_type(0x0800),ipv4(proto=6),tcp(src=1024/0xfc00),tcp_flags(syn|ack|ece)"},
		{"tcp4", fmtMask([]Field{FieldEthType, FieldNwProto}, map[Field]uint64{FieldTCPFlags: 0x12 | 0x1}),
			0, "eth(),eth_type(0x0800),ipv4(proto=6),tcp_flags(-fin+syn+ack)"},
		{"tcp4", fmtMask([]Field{FieldEthType, FieldTunID}, nil),
			0x5, "tunnel(tun_id=0x5),eth(),eth_type(0x0800)"},
		{"vlan", fmtMask(fmtFields(l2Exact, []Field{FieldVlanTCI, FieldNwProto, FieldNwFrag}, tpExact), nil),
			0, "recirc_id(0),in_port(1)," + eth + ",eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),ipv4(proto=1,frag=no),icmp(type=8,code=0))"},
		{"vlan", fmtMask([]Field{FieldEthType}, map[Field]uint64{FieldVlanTCI: 0x1000}),
			0, "eth(),eth_type(0x8100),vlan(),encap(eth_type(0x0800))"},
		{"qinq", fmtMask([]Field{FieldEthType, FieldVlanTCI, FieldVlan2TCI}, nil),
			0, "eth(),eth_type(0x8100),vlan(vid=100,pcp=3),encap(eth_type(0x8100),vlan(vid=200,pcp=0),encap(eth_type(0x0800)))"},
		{"qinq", fmtMask([]Field{FieldEthType}, map[Field]uint64{FieldVlanTCI: 0x1fff}),
			0, "eth(),eth_type(0x8100),vlan(vid=100),encap(eth_type(0x0800))"},
		{"arp", fmtMask(fmtFields(l2Exact, []Field{FieldNwProto, FieldIPv4Src, FieldIPv4Dst, FieldArpSha, FieldArpTha}), nil),
			0, "recirc_id(0),in_port(1)," + eth + ",eth_type(0x0806),arp(sip=198.18.0.1,tip=198.18.0.2,op=1,sha=00:00:00:00:00:01,tha=00:00:00:00:00:02)"},
		{"ns", fmtMask(fmtFields([]Field{FieldEthType}, ip6Exact, tpExact, []Field{FieldNdTargetHi, FieldNdTargetLo, FieldArpSha, FieldArpTha}), nil),
			0, "eth(),eth_type(0x86dd),ipv6(src=2001:db8::1,dst=2001:db8::2,label=0x12345,proto=58,tclass=0x28,hlimit=255,frag=no),icmpv6(type=135,code=0),nd(target=2001:db8::99,sll=02:11:22:33:44:55,tll=00:00:00:00:00:00)"},
		{"ns", fmtMask([]Field{FieldEthType, FieldNwProto}, map[Field]uint64{FieldIPv6DstHi: 0xffffffff00000000, FieldTpSrc: 0xff, FieldTpDst: 0xff}),
			0, "eth(),eth_type(0x86dd),ipv6(dst=2001:db8::/ffff:ffff::,proto=58),icmpv6(type=135,code=0)"},
		{"ext6", fmtMask([]Field{FieldEthType, FieldNwFrag, FieldIPv6Exthdr}, nil),
			0, "eth(),eth_type(0x86dd),ipv6(frag=first,exthdr=frag|hop)"},
		{"ext6", fmtMask([]Field{FieldEthType}, map[Field]uint64{FieldIPv6Exthdr: ExthdrHop | ExthdrUnseq}),
			0, "eth(),eth_type(0x86dd),ipv6(exthdr=+hop-unseq)"},
		{"llc", fmtMask(l2Exact, nil),
			0, "recirc_id(0),in_port(1)," + eth + ",eth_type(0/0xffff)"},
		{"mpls", fmtMask([]Field{FieldEthType, FieldMPLSLSE}, nil),
			0, "eth(),eth_type(0x8847),mpls(label=1000,tc=3,ttl=9,bos=1)"},
		{"mpls", fmtMask([]Field{FieldEthType}, map[Field]uint64{FieldMPLSLSE: 0xfffff000}),
			0, "eth(),eth_type(0x8847),mpls(label=1000/0xfffff,tc=0/0,ttl=0/0x0,bos=0/0)"},
		{"pbb", fmtMask([]Field{FieldEthType, FieldPBBISID, FieldPBBUCA}, nil),
			0, "eth(),eth_type(0x88e7),pbb(isid=11259375,uca=1)"},
		{"later", fmtMask([]Field{FieldEthType, FieldNwFrag, FieldNwProto, FieldTpSrc}, nil),
			0, "eth(),eth_type(0x0800),ipv4(proto=6,frag=later)"},
		{"later", fmtMask([]Field{FieldEthType}, map[Field]uint64{FieldNwFrag: FragAny}),
			0, "eth(),eth_type(0x0800),ipv4(frag=0x1/0x1)"},
		{"udp4", Key{}, 0, "eth()"},
	}
	for _, tc := range tests {
		var k Key
		var l Layout
		Extract(frames[tc.frame], 1, &k, &l)
		k[WordTunID] = tc.tun
		if got := FormatKeyMask(&k, &tc.mask); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.frame, got, tc.want)
		}
	}
	var k, m Key
	FieldRecircID.Set(&k, 1)
	FieldRecircID.Exact(&m)
	FieldInPort.Set(&k, 7)
	FieldInPort.Or(&m, 0xff)
	if got, want := FormatKeyMask(&k, &m), "recirc_id(0x1),in_port(7/0xff),eth()"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestFormatActions(t *testing.T) {
	full := [2]uint64{^uint64(0), ^uint64(0)}
	set := func(f SetField, v, m [2]uint64) Action { return Action{Type: ActSetField, Field: f, Value: v, Mask: m} }
	tests := []struct {
		acts Actions
		want string
	}{
		{nil, "drop"},
		{Actions{Output(2), Output(3)}, "2,3"},
		{Actions{{Type: ActPushVLAN, Ethertype: 0x8100, Value: [2]uint64{0, 10}}, Output(1)}, "push_vlan(vid=10,pcp=0),1"},
		{Actions{{Type: ActPushVLAN, Ethertype: 0x88a8, Value: [2]uint64{0, 0x700a}}}, "push_vlan(tpid=0x88a8,vid=10,pcp=3,dei=1)"},
		{Actions{{Type: ActPopVLAN}, {Type: ActPopPBB}}, "pop_vlan,pop_pbb"},
		{Actions{{Type: ActPushMPLS, Ethertype: 0x8847, Value: [2]uint64{0, 1<<12 | 1<<8 | 64}}}, "push_mpls(label=1,tc=0,ttl=64,bos=1,eth_type=0x8847)"},
		{Actions{{Type: ActPopMPLS, Ethertype: 0x0800}}, "pop_mpls(eth_type=0x800)"},
		{Actions{{Type: ActPushPBB, Ethertype: 0x88e7, Value: [2]uint64{0, 0x08000064}}}, "push_pbb(isid=100,flags=0x8,eth_type=0x88e7)"},
		{Actions{{Type: ActUserspace, Userdata: []byte{1, 2, 3, 4}, MaxLen: 128}}, "userspace(pid=0,userdata(01020304),max_len=128)"},
		{Actions{{Type: ActUserspace}}, "userspace(pid=0)"},
		{Actions{{Type: ActRecirc, Port: 1}, {Type: ActMeter, Port: 3}, {Type: ActHash}}, "recirc(0x1),meter(3),hash(l4(0))"},
		{Actions{set(SetEthSrc, [2]uint64{0, 5}, full)}, "set(eth(src=00:00:00:00:00:05))"},
		{Actions{set(SetEthDst, [2]uint64{0, 0x0a0000000001}, [2]uint64{0, 0xff0000000000})}, "set(eth(dst=0a:00:00:00:00:00/ff:00:00:00:00:00))"},
		{Actions{set(SetIPv4Dst, [2]uint64{0, 0x0a000001}, [2]uint64{0, 0xff000000})}, "set(ipv4(dst=10.0.0.0/255.0.0.0))"},
		{Actions{set(SetIPv4Src, [2]uint64{0, 0xc6120009}, full)}, "set(ipv4(src=198.18.0.9))"},
		{Actions{set(SetIPv6Dst, [2]uint64{0x20010db800000000, 9}, full)}, "set(ipv6(dst=2001:db8::9))"},
		{Actions{set(SetIPv6Label, [2]uint64{0, 0x12345}, full)}, "set(ipv6(label=0x12345))"},
		{Actions{set(SetIPTos, [2]uint64{0, 0xb8}, [2]uint64{0, 0xfc})}, "set(ip(tos=0xb8/0xfc))"},
		{Actions{set(SetIPTTL, [2]uint64{0, 63}, full)}, "set(ip(ttl=63))"},
		{Actions{set(SetTpDst, [2]uint64{0, 8080}, full), Output(2)}, "set(tp(dst=8080)),2"},
		{Actions{set(SetVlanTCI, [2]uint64{0, 0x6064}, full)}, "set(vlan(vid=100,pcp=3))"},
		{Actions{set(SetMPLSLSE, [2]uint64{0, 0x12345140}, full)}, "set(mpls(label=74565,tc=0,ttl=64,bos=1))"},
		{Actions{set(SetEthType, [2]uint64{0, 0x86dd}, full)}, "set(eth_type(0x86dd))"},
		{Actions{set(SetArpOp, [2]uint64{0, 2}, full), set(SetArpTha, [2]uint64{0, 1}, full)}, "set(arp(op=2)),set(arp(tha=00:00:00:00:00:01))"},
		{Actions{set(SetNdTarget, [2]uint64{0x20010db800000000, 0x99}, full), set(SetNdSll, [2]uint64{0, 2}, full)}, "set(nd(target=2001:db8::99)),set(nd(sll=00:00:00:00:00:02))"},
		{Actions{set(SetPBBISID, [2]uint64{0, 7}, full)}, "set(pbb(isid=7))"},
		{Actions{{Type: 99}}, "unknown(99)"},
	}
	for _, tc := range tests {
		if got := FormatActions(tc.acts); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}
