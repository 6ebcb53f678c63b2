package ofproto

import (
	"strconv"
	"strings"
	"testing"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofctl"
	"github.com/govs/govs/ofproto/ofp"
)

// traceCase is a pipeline (flows and groups in ovs-ofctl syntax), a flow to
// trace, and the trace expected, line for line.
type traceCase struct {
	name   string
	groups []string
	flows  []string
	flow   string
	want   string
}

var traceCases = []traceCase{
	{
		name: "goto_table chain prints flat, as Open vSwitch prints it",
		flows: []string{
			"table=0,priority=100,in_port=1,cookie=0x1234,actions=goto_table:1",
			"table=1,priority=10,tcp,nw_dst=10.0.0.0/8,tp_dst=80,actions=set_field:10.1.1.1->ip_dst,output:2",
			"table=1,priority=5,ip,actions=output:3",
		},
		flow: "in_port=1,tcp,nw_dst=10.0.0.1,tp_dst=80",
		want: `Flow: tcp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=10.0.0.1,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=0,tp_dst=80,tcp_flags=0

bridge("br0")
-------------
 0. in_port=1, priority 100, cookie 0x1234
    goto_table:1
 1. tcp,nw_dst=10.0.0.0/8,tp_dst=80, priority 10
    set_field:10.1.1.1->ip_dst
    output:2

Final flow: tcp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=10.1.1.1,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=0,tp_dst=80,tcp_flags=0
Megaflow: recirc_id=0,eth,tcp,in_port=1,nw_dst=10.0.0.0/8,tp_dst=80
Datapath actions: set(ipv4(dst=10.1.1.1)),2
`,
	},
	{
		name: "action set: written, cleared, rewritten, executed under the first table",
		flows: []string{
			"table=0,priority=5,tcp,actions=write_actions(output:2),write_metadata:0x5/0xff,goto_table:1",
			"table=1,priority=5,metadata=0x5/0xff,actions=clear_actions,write_actions(push_vlan:0x8100,set_field:4100->vlan_vid,output:3),goto_table:2",
			"table=2,priority=5,actions=output:1",
		},
		flow: "in_port=2,tcp,dl_src=00:00:00:00:00:02",
		want: `Flow: tcp,in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=0,tp_dst=0,tcp_flags=0

bridge("br0")
-------------
 0. tcp, priority 5
    write_actions(output:2)
     -> action set is: output:2
    write_metadata:0x5/0xff
    goto_table:1
     1. metadata=0x5/0xff, priority 5
            clear_actions
             -> action set was: output:2
            write_actions(push_vlan:0x8100,set_field:4100->vlan_vid,output:3)
             -> action set is: push_vlan:0x8100,set_field:4100->vlan_vid,output:3
            goto_table:2
         2. priority 5
            output:1
--. Executing action set:
    push_vlan:0x8100
    set_field:4100->vlan_vid
    output:3

Final flow: tcp,metadata=0x5,in_port=2,dl_vlan=4,dl_vlan_pcp=0,vlan_tci1=0x0000,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=0,tp_dst=0,tcp_flags=0
Megaflow: recirc_id=0,eth,tcp,in_port=2,vlan_tci=0x0000
Datapath actions: 1,push_vlan(vid=0,pcp=0),set(vlan(vid=4)),3
`,
	},
	{
		name:  "no match in a later table drops",
		flows: []string{"table=0,priority=1,in_port=1,actions=goto_table:3"},
		flow:  "in_port=1,udp,nw_ttl=5,udp_dst=53",
		want: `Flow: udp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_tos=0,nw_ecn=0,nw_ttl=5,nw_frag=no,tp_src=0,tp_dst=53

bridge("br0")
-------------
 0. in_port=1, priority 1
    goto_table:3
 3. No match.
    drop

Final flow: unchanged
Megaflow: recirc_id=0,eth,ip,in_port=1
Datapath actions: drop
`,
	},
	{
		name:   "group buckets nest their actions",
		groups: []string{"group_id=1,type=all,bucket=output:2,bucket=set_field:00:00:00:00:00:09->eth_dst,output:3"},
		flows:  []string{"priority=10,in_port=1,actions=group:1"},
		flow:   "in_port=1",
		want: `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. in_port=1, priority 10
    group:1
    bucket 0
            output:2
    bucket 1
            set_field:00:00:00:00:00:09->eth_dst
            output:3

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=1,dl_type=0x0000
Datapath actions: 2,clone(set(eth(dst=00:00:00:00:00:09)),3)
`,
	},
	{
		name: "select and fast failover groups, controller",
		groups: []string{"group_id=2,type=select,bucket=weight:10,output:2,bucket=weight:20,output:3",
			"group_id=3,type=fast_failover,bucket=watch_port:2,output:2,bucket=watch_port:3,output:3"},
		flows: []string{"priority=10,in_port=1,actions=group:2,group:3,CONTROLLER:128"},
		flow:  "in_port=1,udp,nw_src=198.18.0.1,nw_dst=198.18.0.2,udp_src=1000,udp_dst=2000",
		want: `Flow: udp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=198.18.0.1,nw_dst=198.18.0.2,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=1000,tp_dst=2000

bridge("br0")
-------------
 0. in_port=1, priority 10
    group:2
     -> using bucket 1
    bucket 1
            output:3
    group:3
     -> using bucket 0
    bucket 0
            output:2
    CONTROLLER:128
     -> packet-in to the controllers (reason action, max_len 128)

Final flow: unchanged
Megaflow: recirc_id=0,eth,udp,in_port=1,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=198.18.0.1,nw_dst=198.18.0.2,tp_src=1000,tp_dst=2000
Datapath actions: 3,2,userspace(pid=0,userdata(0101000080000000000000000000000000000000000000000000000000),max_len=128)
`,
	},
	{
		name:  "TTL exception, output to the input port and to no port",
		flows: []string{"priority=10,in_port=3,ip,actions=dec_ttl,output:3,output:7,IN_PORT"},
		flow:  "in_port=3,ip,nw_ttl=5",
		want: `Flow: ip,in_port=3,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=5,nw_frag=no

bridge("br0")
-------------
 0. ip,in_port=3, priority 10
    dec_ttl
    output:3
     >> skipping output to input port
    output:7
     >> Nonexistent output port
    IN_PORT

Final flow: ip,in_port=3,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=4,nw_frag=no
Megaflow: recirc_id=0,eth,ip,in_port=3,nw_ttl=5
Datapath actions: set(ip(ttl=4)),3
`,
	},
	{
		name:  "TTL expiring",
		flows: []string{"priority=10,in_port=3,ip,actions=dec_ttl,output:1"},
		flow:  "in_port=3,ip,nw_ttl=1",
		want: `Flow: ip,in_port=3,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=1,nw_frag=no

bridge("br0")
-------------
 0. ip,in_port=3, priority 10
    dec_ttl
     >> IPv4 decrement TTL exception

Final flow: unchanged
Megaflow: recirc_id=0,eth,ip,in_port=3,nw_ttl=1
Datapath actions: drop
`,
	},
	{
		name:  "NORMAL floods an unknown destination and learns nothing",
		flows: []string{"priority=0,actions=NORMAL"},
		flow:  "in_port=2,dl_src=00:00:00:00:00:07,dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1",
		want: `Flow: arp,in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:07,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=0.0.0.0,arp_tpa=0.0.0.0,arp_op=1,arp_sha=00:00:00:00:00:00,arp_tha=00:00:00:00:00:00

bridge("br0")
-------------
 0. priority 0
    NORMAL
     -> no learned MAC for destination, flooding

Final flow: unchanged
Megaflow: recirc_id=0,eth,arp,in_port=2,vlan_tci=0x0000/0x1fff,dl_src=00:00:00:00:00:07,dl_dst=ff:ff:ff:ff:ff:ff
Datapath actions: 1,3
`,
	},
	{
		name:  "a rule without instructions drops",
		flows: []string{"priority=0,actions=drop"},
		flow:  "in_port=1,ipv6,ipv6_src=2001:db8::1",
		want: `Flow: ipv6,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,ipv6_src=2001:db8::1,ipv6_dst=::,ipv6_label=0x00000,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no

bridge("br0")
-------------
 0. priority 0
    drop

Final flow: unchanged
Megaflow: recirc_id=0,eth,ipv6,in_port=1
Datapath actions: drop
`,
	},
}

// TestTrace traces flows through pipelines and compares the whole output.
func TestTrace(t *testing.T) {
	for _, tc := range traceCases {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTestBridge(t, 3, FailSecure)
			c := tb.dial(t)
			for _, g := range tc.groups {
				gm, err := ofctl.ParseGroup(g, ofp.GroupAdd)
				if err != nil {
					t.Fatalf("%s: %v", g, err)
				}
				c.send(gm)
			}
			for _, f := range tc.flows {
				fm, err := ofctl.ParseFlow(f, ofp.FlowAdd)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				c.send(fm)
			}
			c.barrier()
			got, err := tb.br.Trace(tc.flow)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("trace %s:\n%s\nwant:\n%s\n%s", tc.flow, got, tc.want, lineDiff(got, tc.want))
			}
			// A trace has no side effects.
			if s := tb.br.dp.Stats(); s.Flows != 0 {
				t.Errorf("the trace installed %d megaflows", s.Flows)
			}
			if fdb := tb.br.FDBShow(); strings.Count(fdb, "\n") != 1 {
				t.Errorf("the trace learned MAC addresses:\n%s", fdb)
			}
			for _, tab := range []uint8{0, 1, 2, 3} {
				if n := tb.br.table(tab).lookups.Load(); n != 0 {
					t.Errorf("table %d counts %d lookups after a trace", tab, n)
				}
			}
		})
	}
}

// lineDiff names the first line where got and want differ.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "first difference at line " + strconv.Itoa(i+1) + ":\n got:  " + gl + "\n want: " + wl
		}
	}
	return ""
}

// TestTracePortName checks that a trace's in_port may be a port's name.
func TestTracePortName(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	fm, _ := ofctl.ParseFlow("in_port=2,actions=output:1", ofp.FlowAdd)
	c.send(fm)
	c.barrier()
	for _, flow := range []string{"in_port=p2,udp", "udp,in_port=2"} {
		out, err := tb.br.Trace(flow)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out, "Flow: udp,in_port=2,") || !strings.Contains(out, "Datapath actions: 1\n") {
			t.Errorf("trace %s:\n%s", flow, out)
		}
	}
	if _, err := tb.br.Trace("in_port=nosuchport,udp"); err == nil || !strings.Contains(err.Error(), "nosuchport") {
		t.Errorf("unknown port name: %v", err)
	}
}

// TestTraceFlowParsing checks the flow syntax a trace accepts and its
// errors.
func TestTraceFlowParsing(t *testing.T) {
	k, err := ParseTraceFlow("in_port=2,tcp,nw_ttl=64,tcp_flags=syn|ack,nw_frag=first,nw_src=198.18.0.1,tp_dst=443")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    datapath.Field
		want uint64
	}{{datapath.FieldInPort, 2}, {datapath.FieldEthType, 0x0800}, {datapath.FieldNwProto, 6}, {datapath.FieldNwTTL, 64},
		{datapath.FieldTCPFlags, 0x12}, {datapath.FieldNwFrag, datapath.FragAny}, {datapath.FieldIPv4Src, 0xc6120001},
		{datapath.FieldTpDst, 443}, {datapath.FieldTpSrc, 0}} {
		if got := c.f.Get(&k); got != c.want {
			t.Errorf("%s = %#x, want %#x", c.f.Name, got, c.want)
		}
	}
	for in, want := range map[string]string{
		"in_port=1,tcp,bogus=1":      `column 15: unknown field "bogus"`,
		"in_port=1,tcp,nw_ttl=300":   "expected an integer below 256",
		"in_port=1,nw_frag=maybe":    "expected no, first, later or yes",
		"in_port=1,tcp_flags=syn|xx": `unknown flag "xx"`,
		"tp_dst=80":                  "column 1",
	} {
		_, err := ParseTraceFlow(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTraceFlow(%q) = %v, want an error with %q", in, err, want)
		}
	}
}

// TestFormatMegaflow checks the megaflow syntax for masks the flows above
// do not produce: partial masks, VLANs, ICMP, ND, MPLS.
func TestFormatMegaflow(t *testing.T) {
	var k, m datapath.Key
	datapath.FieldRecircID.Exact(&m)
	datapath.FieldInPort.Set(&k, 1)
	datapath.FieldInPort.Exact(&m)
	datapath.FieldEthType.Set(&k, 0x0800)
	datapath.FieldEthType.Exact(&m)
	datapath.FieldVlanTCI.Set(&k, 0x1000|10)
	datapath.FieldVlanTCI.Or(&m, 0x1fff)
	datapath.FieldNwProto.Set(&k, 1)
	datapath.FieldNwProto.Exact(&m)
	datapath.FieldIPv4Src.Set(&k, 0x0a000001)
	datapath.FieldIPv4Src.Or(&m, 0xffff00ff)
	datapath.FieldTpSrc.Set(&k, 8)
	datapath.FieldTpSrc.Exact(&m)
	datapath.FieldEthDst.Set(&k, 0x010000000000)
	datapath.FieldEthDst.Or(&m, 0x010000000000)
	want := "recirc_id=0,eth,icmp,in_port=1,dl_vlan=10,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,nw_src=10.0.0.1/255.255.0.255,icmp_type=8"
	if got := FormatMegaflow(&k, &m); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var k6, m6 datapath.Key
	datapath.FieldEthType.Set(&k6, 0x86dd)
	datapath.FieldEthType.Exact(&m6)
	datapath.FieldNwProto.Set(&k6, 58)
	datapath.FieldNwProto.Exact(&m6)
	datapath.FieldTpSrc.Set(&k6, 135)
	datapath.FieldTpSrc.Exact(&m6)
	datapath.FieldIPv6DstHi.Set(&k6, 0x20010db800000000)
	datapath.FieldIPv6DstHi.Set(&m6, 0xffffffffffff0000)
	datapath.FieldNdTargetLo.Set(&k6, 1)
	datapath.FieldNdTargetHi.Set(&m6, ^uint64(0))
	datapath.FieldNdTargetLo.Set(&m6, ^uint64(0))
	datapath.FieldNwFrag.Set(&m6, datapath.FragAny)
	want = "eth,icmp6,ipv6_dst=2001:db8::/48,nw_frag=no,icmp_type=135,nd_target=::1"
	if got := FormatMegaflow(&k6, &m6); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var km, mm datapath.Key
	datapath.FieldEthType.Set(&km, 0x8847)
	datapath.FieldEthType.Exact(&mm)
	datapath.FieldMPLSLSE.Set(&km, 100<<12|1<<8|64)
	datapath.FieldMPLSLSE.Or(&mm, 0xfffff100)
	want = "eth,mpls,mpls_label=100,mpls_bos=1"
	if got := FormatMegaflow(&km, &mm); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestTraceODPFlow checks that a flow in the datapath's syntax, as
// dpctl/dump-flows prints it, gives back the key it was printed from, and
// that a megaflow pasted from dpctl/dump-flows traces.
func TestTraceODPFlow(t *testing.T) {
	keys := map[string]func(k *datapath.Key){
		"tcp over a VLAN": func(k *datapath.Key) {
			datapath.FieldInPort.Set(k, 2)
			datapath.FieldEthSrc.Set(k, 0x020000000001)
			datapath.FieldEthDst.Set(k, 0x020000000002)
			datapath.FieldVlanTCI.Set(k, datapath.VlanCFI|3<<13|100)
			datapath.FieldEthType.Set(k, 0x0800)
			datapath.FieldIPv4Src.Set(k, 0xc6120001)
			datapath.FieldIPv4Dst.Set(k, 0xc6120002)
			datapath.FieldNwProto.Set(k, 6)
			datapath.FieldNwTTL.Set(k, 64)
			datapath.FieldNwTos.Set(k, 0xb8)
			datapath.FieldTpSrc.Set(k, 40000)
			datapath.FieldTpDst.Set(k, 80)
			datapath.FieldTCPFlags.Set(k, 0x12)
		},
		"two VLAN tags, udp": func(k *datapath.Key) {
			datapath.FieldInPort.Set(k, 1)
			datapath.FieldVlanTCI.Set(k, datapath.VlanCFI|10)
			datapath.FieldVlan2TCI.Set(k, datapath.VlanCFI|20)
			datapath.FieldEthType.Set(k, 0x0800)
			datapath.FieldNwProto.Set(k, 17)
			datapath.FieldNwFrag.Set(k, datapath.FragAny)
			datapath.FieldTpDst.Set(k, 53)
		},
		"neighbour solicitation": func(k *datapath.Key) {
			datapath.FieldInPort.Set(k, 3)
			datapath.FieldEthType.Set(k, 0x86dd)
			datapath.FieldIPv6SrcHi.Set(k, 0x20010db800000000)
			datapath.FieldIPv6SrcLo.Set(k, 1)
			datapath.FieldIPv6DstHi.Set(k, 0xff02000000000000)
			datapath.FieldIPv6DstLo.Set(k, 0x1ff000002)
			datapath.FieldIPv6Label.Set(k, 0x12345)
			datapath.FieldNwProto.Set(k, 58)
			datapath.FieldNwTTL.Set(k, 255)
			datapath.FieldTpSrc.Set(k, 135)
			datapath.FieldNdTargetHi.Set(k, 0x20010db800000000)
			datapath.FieldNdTargetLo.Set(k, 2)
			datapath.FieldArpSha.Set(k, 0x020000000003)
		},
		"arp": func(k *datapath.Key) {
			datapath.FieldInPort.Set(k, 1)
			datapath.FieldEthType.Set(k, 0x0806)
			datapath.FieldNwProto.Set(k, 1)
			datapath.FieldIPv4Src.Set(k, 0xc6120001)
			datapath.FieldIPv4Dst.Set(k, 0xc6120002)
			datapath.FieldArpSha.Set(k, 0x020000000001)
		},
		"mpls": func(k *datapath.Key) {
			datapath.FieldInPort.Set(k, 1)
			datapath.FieldRecircID.Set(k, 0)
			datapath.FieldEthType.Set(k, 0x8847)
			datapath.FieldMPLSLSE.Set(k, 100<<12|5<<9|1<<8|64)
		},
	}
	for name, fill := range keys {
		var k datapath.Key
		fill(&k)
		m := packetMask(&k)
		m[datapath.WordMetadata] = 0
		odp := datapath.FormatKeyMask(&k, &m)
		got, err := ParseTraceFlow(odp)
		if err != nil {
			t.Errorf("%s: %s: %v", name, odp, err)
			continue
		}
		if want := k.And(&m); got != want {
			t.Errorf("%s: %s parses as\n%s, want\n%s", name, odp, FormatFlow(&got), FormatFlow(&want))
		}
	}
	// A masked value counts as value&mask; unknown attributes are errors.
	k, err := ParseTraceFlow("in_port(1),eth(src=02:00:00:00:00:ff/ff:ff:ff:ff:ff:00),eth_type(0x0800),ipv4(src=10.1.2.3/255.255.0.0,proto=17),udp(dst=53)")
	if err != nil {
		t.Fatal(err)
	}
	if datapath.FieldEthSrc.Get(&k) != 0x020000000000 || datapath.FieldIPv4Src.Get(&k) != 0x0a010000 || datapath.FieldTpDst.Get(&k) != 53 {
		t.Errorf("masked values: %s", FormatFlow(&k))
	}
	for in, want := range map[string]string{
		"in_port(1),bogus(3)":        `unknown attribute "bogus"`,
		"in_port(1),ipv4(color=red)": `unknown field "color"`,
		"in_port(1),eth(src=nope)":   "expected a MAC address",
		"in_port(1),eth_type(0x800":  "missing ')'",
	} {
		if _, err := ParseTraceFlow(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTraceFlow(%q) = %v, want an error with %q", in, err, want)
		}
	}

	// A megaflow installed by a real packet, pasted into a trace.
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	fm, _ := ofctl.ParseFlow("in_port=1,udp,actions=output:2", ofp.FlowAdd)
	c.send(fm)
	c.barrier()
	tb.hosts[0].SendFrame(udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1000, 2000))
	tb.expectFrame(t, 1)
	dump := tb.br.DPDumpFlows()
	flow, _, _ := strings.Cut(dump, ", packets:")
	out, err := tb.br.Trace(flow)
	if err != nil {
		t.Fatalf("trace of the megaflow %q: %v", flow, err)
	}
	if !strings.Contains(out, " 0. udp,in_port=1, priority 32768\n    output:2\n") || !strings.HasSuffix(out, "Datapath actions: 2\n") {
		t.Errorf("trace of the megaflow %s:\n%s", flow, out)
	}
}
