package ofproto

import (
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofp"
)

// bkt builds a bucket that watches nothing.
func bkt(acts ...ofp.Action) ofp.Bucket {
	return ofp.Bucket{WatchPort: ofp.PortAny, WatchGroup: ofp.GroupAny, Actions: acts}
}

// weighted builds a select bucket.
func weighted(w uint16, acts ...ofp.Action) ofp.Bucket {
	b := bkt(acts...)
	b.Weight = w
	return b
}

// watching builds a fast failover bucket.
func watching(port, group uint32, acts ...ofp.Action) ofp.Bucket {
	return ofp.Bucket{WatchPort: port, WatchGroup: group, Actions: acts}
}

func addGroup(typ uint8, id uint32, buckets ...ofp.Bucket) *ofp.GroupMod {
	return &ofp.GroupMod{Command: ofp.GroupAdd, GroupType: typ, GroupID: id, Buckets: buckets}
}

func groupAct(id uint32) *ofp.ActionGroup { return &ofp.ActionGroup{GroupID: id} }

func setEthDst(mac net.HardwareAddr) *ofp.ActionSetField {
	return &ofp.ActionSetField{Field: ofp.OXM{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(ofp.OXMEthDst), Value: mac}}
}

// recvAll collects frames arriving at the given hosts until want frames
// have arrived (or a timeout), and returns how many each host got.
func (tb *testBridge) recvAll(t *testing.T, want int, hosts ...int) map[int]int {
	t.Helper()
	got := map[int]int{}
	n := 0
	deadline := time.Now().Add(10 * time.Second)
	for n < want && time.Now().Before(deadline) {
		for _, h := range hosts {
			for {
				if _, ok := tb.hosts[h].RecvFrame(5 * time.Millisecond); !ok {
					break
				}
				got[h]++
				n++
			}
		}
	}
	if n != want {
		t.Fatalf("%d frames arrived, want %d (%v)", n, want, got)
	}
	return got
}

func groupStatsOf(t *testing.T, c *ofClient, id uint32) []ofp.GroupStats {
	t.Helper()
	mp := c.request(&ofp.MultipartRequest{Body: &ofp.GroupStatsRequest{GroupID: id}}).(*ofp.MultipartReply)
	return mp.Body.(*ofp.GroupStatsReply).Stats
}

// TestGroupAll: every bucket gets the packet with its own changes only,
// and the actions after the group see the packet as it was.
func TestGroupAll(t *testing.T) {
	tb := newTestBridge(t, 4, FailSecure)
	c := tb.dial(t)
	macX := net.HardwareAddr{0x02, 0xaa, 0, 0, 0, 0xaa}
	c.send(addGroup(ofp.GroupTypeAll, 1,
		bkt(setEthDst(macX), output(2)),
		bkt(output(3)),
		bkt(&ofp.ActionPushVLAN{EtherType: 0x8100}, output(4))))
	c.send(flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, groupAct(1), output(4)))
	c.barrier()
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1000, 2000)
	for i := 0; i < 3; i++ { // a miss, then megaflow hits
		tb.hosts[0].SendFrame(pkt)
		f2 := tb.expectFrame(t, 1)
		if !strings.EqualFold(net.HardwareAddr(f2[:6]).String(), macX.String()) || string(f2[6:]) != string(pkt[6:]) {
			t.Fatalf("bucket 1 sent %x", f2[:16])
		}
		if f3 := tb.expectFrame(t, 2); string(f3) != string(pkt) {
			t.Fatalf("bucket 2 saw bucket 1's change: %x", f3[:16])
		}
		// Port 4: the VLAN-tagged copy of bucket 3, then the untouched
		// packet of the output after the group.
		f4a, f4b := tb.expectFrame(t, 3), tb.expectFrame(t, 3)
		if len(f4a) != len(pkt)+4 || f4a[12] != 0x81 || f4a[13] != 0 {
			t.Fatalf("bucket 3 sent %x", f4a[:18])
		}
		if string(f4b) != string(pkt) {
			t.Fatalf("output after the group sent %x", f4b[:18])
		}
	}
	tb.expectNoFrame(t, 0)
	// The megaflow clones for the buckets that change the packet only.
	var acts datapath.Actions
	tb.br.dp.FlowDump(func(f *datapath.Flow) bool { acts = f.Actions(); return false })
	var clones, outputs int
	for _, a := range acts {
		switch a.Type {
		case datapath.ActClone:
			clones++
		case datapath.ActOutput:
			outputs++
		}
	}
	if clones != 2 || outputs != 2 {
		t.Errorf("megaflow actions %s: want 2 clones and 2 outputs", datapath.FormatActions(acts))
	}
	// Group and bucket counters: 3 packets each.
	st := groupStatsOf(t, c, 1)
	if len(st) != 1 || st[0].PacketCount != 3 || st[0].ByteCount != uint64(3*len(pkt)) || len(st[0].Buckets) != 3 {
		t.Fatalf("group stats %+v", st)
	}
	for i, b := range st[0].Buckets {
		if b.PacketCount != 3 || b.ByteCount != uint64(3*len(pkt)) {
			t.Errorf("bucket %d counters %+v, want 3 packets", i, b)
		}
	}
}

// TestGroupSelect: flows spread over the buckets by weight, every flow
// stays on its bucket, and the megaflow pins exactly the hashed fields.
func TestGroupSelect(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	c.send(addGroup(ofp.GroupTypeSelect, 7, weighted(1, output(2)), weighted(2, output(3))))
	c.send(flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, groupAct(7)))
	c.barrier()

	const n = 600
	kinds := []struct {
		name string
		pkt  func(i int) []byte
	}{
		{"udp ports", func(i int) []byte {
			return udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", uint16(1000+i), 53)
		}},
		// Random MACs, fixed IP addresses (Ryu's SELECT_Ether tests).
		{"ethernet addresses", func(i int) []byte {
			src := net.HardwareAddr{0x02, 1, 0, byte(i >> 8), byte(i), 1}
			dst := net.HardwareAddr{0x02, 2, 0, byte(i >> 8), byte(i), 2}
			return udpPacket(t, src, dst, "198.18.0.1", "198.18.0.2", 1, 2)
		}},
		// ARP with varying addresses, fixed MACs.
		{"arp addresses", func(i int) []byte {
			return arpPacket(t, macH1, fmt.Sprintf("198.18.%d.%d", i>>8, i&0xff), fmt.Sprintf("198.19.%d.1", i&0xff))
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			tb.br.dp.FlowFlush()
			where := map[int]int{} // flow -> host
			counts := map[int]int{}
			for start := 0; start < n; start += 100 {
				for i := start; i < start+100; i++ {
					tb.hosts[0].SendFrame(k.pkt(i))
				}
				got := tb.recvAll(t, 100, 1, 2)
				counts[1] += got[1]
				counts[2] += got[2]
			}
			// 1:2 by weight, within a generous margin.
			if counts[1] < n/3-60 || counts[1] > n/3+60 {
				t.Errorf("bucket 1 got %d of %d flows, want about %d", counts[1], n, n/3)
			}
			// One flow, one bucket: each flow sent again goes where the
			// first packet of a fresh translation goes.
			for i := 0; i < 20; i++ {
				for rep := 0; rep < 3; rep++ {
					if rep == 1 {
						tb.br.dp.FlowFlush() // a miss: translated afresh
					}
					tb.hosts[0].SendFrame(k.pkt(i))
					got := tb.recvAll(t, 1, 1, 2)
					h := 1
					if got[2] == 1 {
						h = 2
					}
					if prev, ok := where[i]; ok && prev != h {
						t.Fatalf("flow %d went to host %d, then %d", i, prev+1, h+1)
					}
					where[i] = h
				}
			}
		})
	}
	// The megaflows match the hashed fields exactly, and not more than
	// the hash and the pipeline need.
	probe := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 4242, 53)
	tb.hosts[0].SendFrame(probe)
	tb.recvAll(t, 1, 1, 2)
	var key datapath.Key
	var lay datapath.Layout
	datapath.Extract(probe, 1, &key, &lay)
	mf := tb.br.dp.FlowLookup(&key)
	if mf == nil {
		t.Fatal("no megaflow for the probe")
	}
	mask := mf.Mask
	for _, f := range []datapath.Field{datapath.FieldEthSrc, datapath.FieldEthDst, datapath.FieldIPv4Src,
		datapath.FieldIPv4Dst, datapath.FieldNwProto, datapath.FieldTpSrc, datapath.FieldTpDst} {
		if f.Get(&mask) != f.Mask()>>f.Shift {
			t.Errorf("megaflow mask does not pin %s: %s", f.Name, datapath.FormatKeyMask(&datapath.Key{}, &mask))
		}
	}
	for _, f := range []datapath.Field{datapath.FieldNwTTL, datapath.FieldNwTos, datapath.FieldVlanTCI} {
		if f.Get(&mask) != 0 {
			t.Errorf("megaflow mask pins %s, which the hash does not use", f.Name)
		}
	}
	// Group stats: every flow counted once in the group and in its bucket.
	st := groupStatsOf(t, c, 7)[0]
	if st.Buckets[0].PacketCount+st.Buckets[1].PacketCount != st.PacketCount || st.PacketCount == 0 {
		t.Errorf("group stats %+v: buckets do not add up", st)
	}
}

// arpPacket builds an ARP request.
func arpPacket(t testing.TB, src net.HardwareAddr, spa, tpa string) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: src, DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: layers.EthernetTypeARP}
	arp := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: src, SourceProtAddress: net.ParseIP(spa).To4(),
		DstHwAddress: make([]byte, 6), DstProtAddress: net.ParseIP(tpa).To4()}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, eth, arp); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGroupSelectSingleBucket: with one candidate there is nothing to hash,
// and the megaflow stays wide.
func TestGroupSelectSingleBucket(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	c.send(addGroup(ofp.GroupTypeSelect, 1, weighted(0, output(2)), weighted(5, output(3))))
	c.send(flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, groupAct(1)))
	c.barrier()
	for i := 0; i < 5; i++ {
		tb.hosts[0].SendFrame(udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", uint16(i), 2))
		tb.expectFrame(t, 2) // weight 0: never chosen
	}
	if n := tb.br.dp.Stats().Flows; n != 1 {
		t.Errorf("%d megaflows, want 1", n)
	}
}

func TestGroupIndirect(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	c.send(addGroup(ofp.GroupTypeIndirect, 3, bkt(&ofp.ActionPushVLAN{EtherType: 0x8100}, output(3))))
	c.send(flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, groupAct(3), output(2)))
	c.barrier()
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	tb.hosts[0].SendFrame(pkt)
	if f := tb.expectFrame(t, 2); len(f) != len(pkt)+4 {
		t.Errorf("indirect bucket sent %d bytes, want a tagged packet", len(f))
	}
	if f := tb.expectFrame(t, 1); string(f) != string(pkt) {
		t.Errorf("the bucket's push_vlan leaked to the actions after the group")
	}
	// Modify replaces the bucket (and the type).
	c.send(&ofp.GroupMod{Command: ofp.GroupModify, GroupType: ofp.GroupTypeAll, GroupID: 3,
		Buckets: []ofp.Bucket{bkt(output(3)), bkt(output(3))}})
	c.barrier()
	tb.hosts[0].SendFrame(pkt)
	tb.expectFrame(t, 2)
	tb.expectFrame(t, 2)
	tb.expectFrame(t, 1)
}

// TestGroupFastFailover: the first live bucket forwards; when the watched
// port's link goes down (or the port is set down) the next one takes
// over, and back again.
func TestGroupFastFailover(t *testing.T) {
	tb := newTestBridge(t, 4, FailSecure)
	c := tb.dial(t)
	c.send(&ofp.SetConfig{MissSendLen: 128})
	// Group 2 is live while port 4 is: fast failover group 1 watches it.
	c.send(addGroup(ofp.GroupTypeFastFailover, 2, watching(4, ofp.GroupAny, output(4))))
	c.send(addGroup(ofp.GroupTypeFastFailover, 1,
		watching(2, ofp.GroupAny, output(2)),
		watching(ofp.PortAny, 2, groupAct(2)),
		watching(3, ofp.GroupAny, output(3))))
	c.send(flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, groupAct(1)))
	c.barrier()
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	send := func(want int) {
		t.Helper()
		for i := 0; i < 2; i++ {
			tb.hosts[0].SendFrame(pkt)
			tb.expectFrame(t, want)
		}
		for h := 1; h <= 3; h++ {
			if h != want {
				tb.expectNoFrame(t, h)
			}
		}
	}
	linkDown := func(h int, down bool) {
		t.Helper()
		tb.hosts[h].SetAdminUp(!down)
		for { // polled within a second; skip other ports' news
			_, m := c.recvType(ofp.TypePortStatus)
			ps := m.(*ofp.PortStatus)
			if ps.Desc.PortNo == uint32(h+1) && (ps.Desc.State&ofp.PortStateLinkDown != 0) == down {
				return
			}
		}
	}
	send(1)
	linkDown(1, true)
	send(3) // group 2, through port 4
	linkDown(3, true)
	send(2) // port 3
	linkDown(2, true)
	tb.hosts[0].SendFrame(pkt) // nothing live: dropped
	for h := 1; h <= 3; h++ {
		tb.expectNoFrame(t, h)
	}
	linkDown(1, false)
	send(1)
	// An administratively down port is not live either.
	p2 := tb.br.ports[2]
	c.send(&ofp.PortMod{PortNo: 2, HWAddr: [6]byte(p2.info.MAC), Config: ofp.PortConfigDown, Mask: ofp.PortConfigDown})
	c.recvType(ofp.TypePortStatus)
	c.barrier()
	tb.hosts[0].SendFrame(pkt)
	for h := 1; h <= 3; h++ {
		tb.expectNoFrame(t, h)
	}
	linkDown(3, false)
	send(3)
}

// TestGroupChaining: buckets forward to other groups; loops and chains
// that are too long are refused; a group others forward to cannot be
// deleted.
func TestGroupChaining(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	c.send(addGroup(ofp.GroupTypeIndirect, 2, bkt(setEthDst(macH3), output(3))))
	c.send(addGroup(ofp.GroupTypeAll, 1, bkt(groupAct(2)), bkt(output(2))))
	c.send(flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, groupAct(1)))
	c.barrier()
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	tb.hosts[0].SendFrame(pkt)
	if f := tb.expectFrame(t, 2); string(f[:6]) != string(macH3) {
		t.Errorf("chained group's bucket did not set eth_dst: %x", f[:6])
	}
	if f := tb.expectFrame(t, 1); string(f) != string(pkt) {
		t.Errorf("the chained group's change leaked into the next bucket")
	}
	// 2 -> 1 would close a loop.
	mod := &ofp.GroupMod{Command: ofp.GroupModify, GroupType: ofp.GroupTypeIndirect, GroupID: 2, Buckets: []ofp.Bucket{bkt(groupAct(1))}}
	c.expectError(mod, ofp.ETGroupModFailed, ofp.GMFCLoop)
	// So would watching a group that forwards to us.
	c.send(addGroup(ofp.GroupTypeFastFailover, 3, watching(2, ofp.GroupAny, output(2))))
	c.barrier()
	mod = &ofp.GroupMod{Command: ofp.GroupModify, GroupType: ofp.GroupTypeFastFailover, GroupID: 3,
		Buckets: []ofp.Bucket{watching(ofp.PortAny, 4, output(2))}}
	c.send(addGroup(ofp.GroupTypeIndirect, 4, bkt(groupAct(3))))
	c.expectError(mod, ofp.ETGroupModFailed, ofp.GMFCLoop)
	c.expectError(&ofp.GroupMod{Command: ofp.GroupDelete, GroupID: 2}, ofp.ETGroupModFailed, ofp.GMFCChainedGroup)
	c.expectError(&ofp.GroupMod{Command: ofp.GroupDelete, GroupID: 3}, ofp.ETGroupModFailed, ofp.GMFCChainedGroup)
	// Chains: 10 -> 11 -> ... up to maxGroupChain groups is fine.
	for i := maxGroupChain - 1; i >= 0; i-- {
		var acts []ofp.Action
		if i < maxGroupChain-1 {
			acts = append(acts, groupAct(uint32(11+i)))
		}
		c.send(addGroup(ofp.GroupTypeIndirect, uint32(10+i), bkt(append(acts, output(2))...)))
	}
	c.barrier()
	c.expectError(addGroup(ofp.GroupTypeIndirect, 9, bkt(groupAct(10))), ofp.ETGroupModFailed, ofp.GMFCChainingUnsupported)
	// Lengthening the chain at its end is refused too.
	tail := uint32(10 + maxGroupChain - 1)
	c.send(addGroup(ofp.GroupTypeIndirect, 100, bkt(output(3))))
	c.expectError(&ofp.GroupMod{Command: ofp.GroupModify, GroupType: ofp.GroupTypeIndirect, GroupID: tail,
		Buckets: []ofp.Bucket{bkt(groupAct(100))}}, ofp.ETGroupModFailed, ofp.GMFCChainingUnsupported)
	// The full chain forwards: every level outputs to port 2.
	c.send(flow(0, 20, []ofp.OXM{oxm(ofp.OXMInPort, 3)}, groupAct(10)))
	c.barrier()
	tb.hosts[2].SendFrame(pkt)
	for i := 0; i < maxGroupChain; i++ {
		tb.expectFrame(t, 1)
	}
	tb.expectNoFrame(t, 1)
	// Deleting from the top down works.
	c.send(&ofp.GroupMod{Command: ofp.GroupDelete, GroupID: 4})
	c.send(&ofp.GroupMod{Command: ofp.GroupDelete, GroupID: 3})
	c.send(&ofp.GroupMod{Command: ofp.GroupDelete, GroupID: 1})
	c.send(&ofp.GroupMod{Command: ofp.GroupDelete, GroupID: 2})
	c.barrier()
}

// TestGroupModErrors: every GROUP_MOD error, and nothing of a refused
// request is installed.
func TestGroupModErrors(t *testing.T) {
	saved := maxGroups
	maxGroups = 4
	t.Cleanup(func() { maxGroups = saved })
	tb := newTestBridge(t, 2, FailSecure)
	c := tb.dial(t)
	c.send(addGroup(ofp.GroupTypeAll, 1, bkt(output(2))))
	c.barrier()
	manyBuckets := make([]ofp.Bucket, maxBuckets+1)
	for i := range manyBuckets {
		manyBuckets[i] = bkt(output(2))
	}
	mod := func(cmd uint16, typ uint8, id uint32, b ...ofp.Bucket) *ofp.GroupMod {
		return &ofp.GroupMod{Command: cmd, GroupType: typ, GroupID: id, Buckets: b}
	}
	tests := []struct {
		name string
		m    *ofp.GroupMod
		typ  uint16
		code uint16
	}{
		{"exists", addGroup(ofp.GroupTypeAll, 1, bkt(output(2))), ofp.ETGroupModFailed, ofp.GMFCGroupExists},
		{"modify unknown", mod(ofp.GroupModify, ofp.GroupTypeAll, 5, bkt(output(2))), ofp.ETGroupModFailed, ofp.GMFCUnknownGroup},
		{"id above max", addGroup(ofp.GroupTypeAll, ofp.GroupMax+1), ofp.ETGroupModFailed, ofp.GMFCInvalidGroup},
		{"add OFPG_ALL", addGroup(ofp.GroupTypeAll, ofp.GroupAll), ofp.ETGroupModFailed, ofp.GMFCInvalidGroup},
		{"delete id above max", mod(ofp.GroupDelete, 0, ofp.GroupMax+1), ofp.ETGroupModFailed, ofp.GMFCInvalidGroup},
		{"delete with buckets", mod(ofp.GroupDelete, 0, 1, bkt(output(2))), ofp.ETGroupModFailed, ofp.GMFCInvalidGroup},
		{"indirect with 2 buckets", addGroup(ofp.GroupTypeIndirect, 2, bkt(output(2)), bkt(output(2))), ofp.ETGroupModFailed, ofp.GMFCInvalidGroup},
		{"indirect without bucket", addGroup(ofp.GroupTypeIndirect, 2), ofp.ETGroupModFailed, ofp.GMFCInvalidGroup},
		{"weight in all", addGroup(ofp.GroupTypeAll, 2, weighted(1, output(2))), ofp.ETGroupModFailed, ofp.GMFCInvalidGroup},
		{"bad type", addGroup(4, 2, bkt(output(2))), ofp.ETGroupModFailed, ofp.GMFCBadType},
		{"bad command", mod(3, ofp.GroupTypeAll, 2), ofp.ETGroupModFailed, ofp.GMFCBadCommand},
		{"ff without watch", addGroup(ofp.GroupTypeFastFailover, 2, bkt(output(2))), ofp.ETGroupModFailed, ofp.GMFCBadWatch},
		{"ff watches port 0", addGroup(ofp.GroupTypeFastFailover, 2, watching(0, ofp.GroupAny, output(2))), ofp.ETGroupModFailed, ofp.GMFCBadWatch},
		{"ff watches IN_PORT", addGroup(ofp.GroupTypeFastFailover, 2, watching(ofp.PortInPort, ofp.GroupAny, output(2))), ofp.ETGroupModFailed, ofp.GMFCBadWatch},
		{"ff watches a missing group", addGroup(ofp.GroupTypeFastFailover, 2, watching(ofp.PortAny, 9, output(2))), ofp.ETGroupModFailed, ofp.GMFCBadWatch},
		{"ff watches itself", addGroup(ofp.GroupTypeFastFailover, 2, watching(ofp.PortAny, 2, output(2))), ofp.ETGroupModFailed, ofp.GMFCLoop},
		{"all watches", addGroup(ofp.GroupTypeAll, 2, watching(2, ofp.GroupAny, output(2))), ofp.ETGroupModFailed, ofp.GMFCWatchUnsupported},
		{"indirect watches", addGroup(ofp.GroupTypeIndirect, 2, watching(ofp.PortAny, 1, output(2))), ofp.ETGroupModFailed, ofp.GMFCWatchUnsupported},
		{"forwards to itself", addGroup(ofp.GroupTypeAll, 2, bkt(groupAct(2))), ofp.ETGroupModFailed, ofp.GMFCLoop},
		{"modify forwards to itself", mod(ofp.GroupModify, ofp.GroupTypeAll, 1, bkt(groupAct(1))), ofp.ETGroupModFailed, ofp.GMFCLoop},
		{"too many buckets", addGroup(ofp.GroupTypeAll, 2, manyBuckets...), ofp.ETGroupModFailed, ofp.GMFCOutOfBuckets},
		{"bucket output to port 0", addGroup(ofp.GroupTypeAll, 2, bkt(output(0))), ofp.ETBadAction, ofp.BACBadOutPort},
		{"bucket output to TABLE", addGroup(ofp.GroupTypeAll, 2, bkt(output(ofp.PortTable))), ofp.ETBadAction, ofp.BACBadOutPort},
		{"bucket forwards to a missing group", addGroup(ofp.GroupTypeAll, 2, bkt(groupAct(9))), ofp.ETBadAction, ofp.BACBadOutGroup},
		{"bucket experimenter action", addGroup(ofp.GroupTypeAll, 2, bkt(&ofp.ActionExperimenter{Experimenter: 0x2320})), ofp.ETBadAction, ofp.BACBadExperimenter},
		{"flow to a missing group", nil, ofp.ETBadAction, ofp.BACBadOutGroup},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.m == nil {
				c.expectError(flow(0, 1, nil, groupAct(9)), tc.typ, tc.code)
				return
			}
			c.expectError(tc.m, tc.typ, tc.code)
		})
	}
	// Nothing refused was installed; group 1 is unchanged.
	mp := c.request(&ofp.MultipartRequest{Body: &ofp.GroupDescRequest{}}).(*ofp.MultipartReply)
	descs := mp.Body.(*ofp.GroupDescReply).Groups
	if len(descs) != 1 || descs[0].GroupID != 1 || descs[0].GroupType != ofp.GroupTypeAll || len(descs[0].Buckets) != 1 {
		t.Fatalf("group table after the errors: %+v", descs)
	}
	// The table is full at maxGroups.
	for id := uint32(2); id <= uint32(maxGroups); id++ {
		c.send(addGroup(ofp.GroupTypeSelect, id, weighted(1, output(2))))
	}
	c.barrier()
	c.expectError(addGroup(ofp.GroupTypeAll, 99, bkt(output(2))), ofp.ETGroupModFailed, ofp.GMFCOutOfGroups)
	// Deleting a missing group is no error; deleting all empties the table.
	c.send(&ofp.GroupMod{Command: ofp.GroupDelete, GroupID: 77})
	c.send(&ofp.GroupMod{Command: ofp.GroupDelete, GroupID: ofp.GroupAll})
	c.barrier()
	mp = c.request(&ofp.MultipartRequest{Body: &ofp.GroupDescRequest{}}).(*ofp.MultipartReply)
	if n := len(mp.Body.(*ofp.GroupDescReply).Groups); n != 0 {
		t.Errorf("%d groups after deleting all", n)
	}
}

// TestGroupDeleteRemovesFlows: deleting a group removes the flows that
// forward to it, with FLOW_REMOVED reason GROUP_DELETE.
func TestGroupDeleteRemovesFlows(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	c.send(&ofp.SetConfig{MissSendLen: 128})
	c.send(addGroup(ofp.GroupTypeAll, 1, bkt(output(2))))
	c.send(addGroup(ofp.GroupTypeAll, 2, bkt(output(3))))
	f1 := flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, groupAct(1))
	f1.Cookie, f1.Flags = 0x11, ofp.FlagSendFlowRem
	f2 := flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 2)})
	f2.Instructions = []ofp.Instruction{&ofp.InstrWriteActions{Actions: []ofp.Action{groupAct(1)}}}
	f2.Cookie, f2.Flags = 0x12, ofp.FlagSendFlowRem
	f3 := flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 3)}, groupAct(2))
	f3.Cookie, f3.Flags = 0x13, ofp.FlagSendFlowRem
	f4 := flow(0, 5, nil, output(2)) // no group: stays
	for _, f := range []*ofp.FlowMod{f1, f2, f3, f4} {
		c.send(f)
	}
	c.barrier()
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	tb.hosts[0].SendFrame(pkt)
	tb.expectFrame(t, 1)

	c.send(&ofp.GroupMod{Command: ofp.GroupDelete, GroupID: 1})
	removed := map[uint64]*ofp.FlowRemoved{}
	for len(removed) < 2 {
		_, m := c.recvType(ofp.TypeFlowRemoved)
		fr := m.(*ofp.FlowRemoved)
		removed[fr.Cookie] = fr
	}
	c.barrier()
	for _, cookie := range []uint64{0x11, 0x12} {
		if fr := removed[cookie]; fr == nil || fr.Reason != ofp.RemovedGroupDelete {
			t.Errorf("flow %#x: flow removed %+v, want reason GROUP_DELETE", cookie, fr)
		}
	}
	if removed[0x11].PacketCount != 1 {
		t.Errorf("flow removed counted %d packets, want 1", removed[0x11].PacketCount)
	}
	// Port 1's packets now take the table's other flow (output 2, which
	// is... port 2 itself: host 2 gets it from the priority-5 flow).
	tb.hosts[0].SendFrame(pkt)
	tb.expectFrame(t, 1)
	c.send(&ofp.GroupMod{Command: ofp.GroupDelete, GroupID: ofp.GroupAll})
	_, m := c.recvType(ofp.TypeFlowRemoved)
	if fr := m.(*ofp.FlowRemoved); fr.Cookie != 0x13 || fr.Reason != ofp.RemovedGroupDelete {
		t.Errorf("delete all removed %+v", fr)
	}
	mp := c.request(&ofp.MultipartRequest{Body: &ofp.FlowStatsRequest{TableID: ofp.TableAll,
		OutPort: ofp.PortAny, OutGroup: ofp.GroupAny}}).(*ofp.MultipartReply)
	if st := mp.Body.(*ofp.FlowStatsReply).Stats; len(st) != 1 || st[0].Priority != 5 {
		t.Errorf("flows left: %+v", st)
	}
}

// TestGroupStatsDescFeatures: ref_count, per-bucket counters, duration,
// the description echoed exactly, and the features.
func TestGroupStatsDescFeatures(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	g5 := addGroup(ofp.GroupTypeSelect, 5, weighted(3, output(2)), weighted(1, &ofp.ActionSetNwTTL{TTL: 9}, output(3)))
	g6 := addGroup(ofp.GroupTypeFastFailover, 6, watching(2, ofp.GroupAny, groupAct(5)), watching(3, 5, output(3)))
	c.send(g5)
	c.send(g6)
	c.send(flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, groupAct(5)))
	c.send(flow(0, 9, []ofp.OXM{oxm(ofp.OXMInPort, 1), oxm(ofp.OXMEthType, 0x0800)}, groupAct(5), groupAct(5)))
	c.barrier()
	const n = 40
	var bytes uint64
	for i := 0; i < n; i++ {
		pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", uint16(i), 2)
		bytes += uint64(len(pkt))
		tb.hosts[0].SendFrame(pkt)
	}
	tb.recvAll(t, n, 1, 2)
	time.Sleep(10 * time.Millisecond)
	st := groupStatsOf(t, c, ofp.GroupAll)
	if len(st) != 2 || st[0].GroupID != 5 || st[1].GroupID != 6 {
		t.Fatalf("group stats %+v", st)
	}
	s5 := st[0]
	// Referenced by one flow (the other has a lower priority but counts
	// too) and by group 6's bucket: 3. Watching is not referencing.
	if s5.RefCount != 3 || st[1].RefCount != 0 {
		t.Errorf("ref counts %d, %d; want 3, 0", s5.RefCount, st[1].RefCount)
	}
	if s5.PacketCount != n || s5.ByteCount != bytes || s5.Buckets[0].PacketCount+s5.Buckets[1].PacketCount != n ||
		s5.Buckets[0].ByteCount+s5.Buckets[1].ByteCount != bytes {
		t.Errorf("group 5 stats %+v, want %d packets, %d bytes", s5, n, bytes)
	}
	if s5.Buckets[0].PacketCount < s5.Buckets[1].PacketCount {
		t.Errorf("bucket of weight 3 got %d packets, bucket of weight 1 %d", s5.Buckets[0].PacketCount, s5.Buckets[1].PacketCount)
	}
	if s5.DurationSec > 5 {
		t.Errorf("duration %d s", s5.DurationSec)
	}
	if st := groupStatsOf(t, c, 42); len(st) != 0 {
		t.Errorf("stats of a missing group: %+v", st)
	}
	// The description is what was sent.
	mp := c.request(&ofp.MultipartRequest{Body: &ofp.GroupDescRequest{}}).(*ofp.MultipartReply)
	descs := mp.Body.(*ofp.GroupDescReply).Groups
	want := []ofp.GroupDesc{
		{GroupType: g5.GroupType, GroupID: 5, Buckets: g5.Buckets},
		{GroupType: g6.GroupType, GroupID: 6, Buckets: g6.Buckets},
	}
	if !reflect.DeepEqual(descs, want) {
		t.Errorf("group desc %+v, want %+v", descs, want)
	}
	mp = c.request(&ofp.MultipartRequest{Body: &ofp.GroupFeaturesRequest{}}).(*ofp.MultipartReply)
	gf := mp.Body.(*ofp.GroupFeaturesReply)
	if gf.Types != 0xf || gf.Capabilities != 0xf || gf.MaxGroups[ofp.GroupTypeSelect] == 0 ||
		gf.Actions[ofp.GroupTypeAll]&(1<<ofp.ActTypeOutput|1<<ofp.ActTypeGroup|1<<ofp.ActTypeSetField) !=
			1<<ofp.ActTypeOutput|1<<ofp.ActTypeGroup|1<<ofp.ActTypeSetField {
		t.Errorf("group features %+v", gf)
	}
	// Flow stats' out_group filter finds the flows forwarding to 5.
	mp = c.request(&ofp.MultipartRequest{Body: &ofp.FlowStatsRequest{TableID: ofp.TableAll,
		OutPort: ofp.PortAny, OutGroup: 5}}).(*ofp.MultipartReply)
	if n := len(mp.Body.(*ofp.FlowStatsReply).Stats); n != 2 {
		t.Errorf("%d flows forward to group 5, want 2", n)
	}
}

// TestGroupMegaflowAfterModify: once a group modify is acknowledged, no
// packet takes the old buckets' path.
func TestGroupMegaflowAfterModify(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	c.send(addGroup(ofp.GroupTypeIndirect, 1, bkt(output(2))))
	c.send(flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, groupAct(1)))
	c.barrier()
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	for round := 0; round < 6; round++ {
		out := uint32(2 + round%2)
		c.send(&ofp.GroupMod{Command: ofp.GroupModify, GroupType: ofp.GroupTypeIndirect, GroupID: 1,
			Buckets: []ofp.Bucket{bkt(output(out))}})
		c.barrier()
		for i := 0; i < 3; i++ {
			tb.hosts[0].SendFrame(pkt)
			tb.expectFrame(t, int(out)-1)
		}
		tb.expectNoFrame(t, int(5-out)-1)
	}
}

// TestGroupBucketState: what a bucket does to the translation's view of the
// packet does not leak into the next bucket's decisions: the second bucket
// decrements the TTL the packet arrived with, not the first bucket's.
func TestGroupBucketState(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	c.send(addGroup(ofp.GroupTypeAll, 1,
		bkt(&ofp.ActionSetNwTTL{TTL: 1}, output(2)),
		bkt(&ofp.ActionDecNwTTL{}, output(3))))
	c.send(flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1), oxm(ofp.OXMEthType, 0x0800)}, groupAct(1), &ofp.ActionDecNwTTL{}, output(3)))
	c.barrier()
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	for i := 0; i < 2; i++ {
		tb.hosts[0].SendFrame(pkt)
		if f := tb.expectFrame(t, 1); f[22] != 1 {
			t.Errorf("bucket 1: TTL %d, want 1", f[22])
		}
		for j := 0; j < 2; j++ { // bucket 2, then the action after the group
			if f := tb.expectFrame(t, 2); f[22] != 63 {
				t.Errorf("port 3 frame %d: TTL %d, want 63", j, f[22])
			}
		}
	}
}
