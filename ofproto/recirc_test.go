package ofproto

import (
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/govs/govs/ofproto/ofp"
)

// mplsPacket builds Ethernet/MPLS(label 100, ttl 64)/IPv4(ttl)/UDP.
func mplsPacket(t *testing.T, dip string, ttl uint8) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: macH1, DstMAC: macH2, EthernetType: layers.EthernetTypeMPLSUnicast}
	mpls := &layers.MPLS{Label: 100, TTL: 64, StackBottom: true}
	ip := &layers.IPv4{Version: 4, TTL: ttl, Protocol: layers.IPProtocolUDP,
		SrcIP: net.ParseIP("198.18.0.1").To4(), DstIP: net.ParseIP(dip).To4()}
	udp := &layers.UDP{SrcPort: 1, DstPort: 2}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, mpls, ip, udp, gopacket.Payload("payload")); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPopMPLSThenMatchIP: table 0 pops the label and goes to table 1, which
// matches on the IPv4 destination that only becomes visible after the pop
// (so the switch recirculates) and decrements the TTL.
func TestPopMPLSThenMatchIP(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	pop := flow(0, 1, []ofp.OXM{oxm(ofp.OXMEthType, 0x8847)}, &ofp.ActionPopMPLS{EtherType: 0x0800})
	pop.Instructions = append(pop.Instructions, &ofp.InstrGotoTable{TableID: 1})
	c.send(pop)
	to2 := flow(1, 1, []ofp.OXM{oxm(ofp.OXMEthType, 0x0800), {Class: ofp.OXMClassOpenFlowBasic,
		Field: uint8(ofp.OXMIPv4Dst), Value: []byte{198, 18, 0, 2}}}, &ofp.ActionDecNwTTL{}, output(2))
	c.send(to2)
	to3 := flow(1, 1, []ofp.OXM{oxm(ofp.OXMEthType, 0x0800), {Class: ofp.OXMClassOpenFlowBasic,
		Field: uint8(ofp.OXMIPv4Dst), Value: []byte{198, 18, 0, 3}}}, output(3))
	c.send(to3)
	c.barrier()
	for i := 0; i < 3; i++ { // the first packets take the slow path, later ones the megaflows
		tb.hosts[0].SendFrame(mplsPacket(t, "198.18.0.2", 64))
		got := tb.expectFrame(t, 1)
		pkt := gopacket.NewPacket(got, layers.LayerTypeEthernet, gopacket.Default)
		ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if pkt.Layer(layers.LayerTypeMPLS) != nil || ip == nil || ip.TTL != 63 {
			t.Fatalf("packet %d: got %v", i, pkt)
		}
		tb.hosts[0].SendFrame(mplsPacket(t, "198.18.0.3", 64))
		tb.expectFrame(t, 2)
	}
	tb.expectNoFrame(t, 1)
	// The rule statistics count every packet on both sides of the
	// recirculation.
	mp := c.request(&ofp.MultipartRequest{Body: &ofp.FlowStatsRequest{TableID: ofp.TableAll,
		OutPort: ofp.PortAny, OutGroup: ofp.GroupAny}}).(*ofp.MultipartReply)
	for _, s := range mp.Body.(*ofp.FlowStatsReply).Stats {
		want := uint64(3)
		if s.TableID == 0 {
			want = 6
		}
		if s.PacketCount != want {
			t.Errorf("table %d flow %s: %d packets, want %d", s.TableID, formatMatchShort(&s.Match), s.PacketCount, want)
		}
	}
}

// TestPushPopPBB: push_pbb wraps the frame in a backbone header with an
// all-zero I-TAG; pop_pbb on the far side restores it.
func TestPushPopPBB(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	c.send(flow(0, 1, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, &ofp.ActionPushPBB{EtherType: 0x88e7}, output(2)))
	pop := flow(0, 1, []ofp.OXM{oxm(ofp.OXMInPort, 2), oxm(ofp.OXMEthType, 0x88e7)}, &ofp.ActionPopPBB{})
	pop.Instructions = append(pop.Instructions, &ofp.InstrGotoTable{TableID: 1})
	c.send(pop)
	c.send(flow(1, 1, []ofp.OXM{oxm(ofp.OXMEthType, 0x0800)}, output(3)))
	c.expectError(flow(0, 1, nil, &ofp.ActionPushPBB{EtherType: 0x8100}), ofp.ETBadAction, ofp.BACBadArgument)
	c.barrier()
	orig := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	tb.hosts[0].SendFrame(orig)
	wrapped := tb.expectFrame(t, 1)
	want := append(append(append([]byte{}, orig[:12]...), 0x88, 0xe7, 0, 0, 0, 0), orig...)
	if string(wrapped) != string(want) {
		t.Fatalf("push_pbb:\n got %x\nwant %x", wrapped, want)
	}
	tb.hosts[1].SendFrame(wrapped)
	if got := tb.expectFrame(t, 2); string(got) != string(orig) {
		t.Fatalf("pop_pbb then match ipv4:\n got %x\nwant %x", got, orig)
	}
}
