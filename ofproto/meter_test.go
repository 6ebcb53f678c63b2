package ofproto

import (
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/govs/govs/ofproto/ofp"
)

func dropBand(rate, burst uint32) ofp.MeterBand {
	return ofp.MeterBand{BandType: ofp.MeterBandDrop, Rate: rate, BurstSize: burst}
}

func remarkBand(rate, burst uint32, prec uint8) ofp.MeterBand {
	return ofp.MeterBand{BandType: ofp.MeterBandDSCPRemark, Rate: rate, BurstSize: burst, PrecLevel: prec}
}

func addMeter(id uint32, flags uint16, bands ...ofp.MeterBand) *ofp.MeterMod {
	return &ofp.MeterMod{Command: ofp.MeterAdd, Flags: flags, MeterID: id, Bands: bands}
}

// meteredFlow is a flow from in_port through meter id to output port out.
func meteredFlow(inPort, id, out uint32) *ofp.FlowMod {
	fm := flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, uint64(inPort))}, output(out))
	fm.Instructions = append([]ofp.Instruction{&ofp.InstrMeter{MeterID: id}}, fm.Instructions...)
	return fm
}

func meterStatsOf(t *testing.T, c *ofClient, id uint32) []ofp.MeterStats {
	t.Helper()
	mp := c.request(&ofp.MultipartRequest{Body: &ofp.MeterStatsRequest{MeterID: id}}).(*ofp.MultipartReply)
	return mp.Body.(*ofp.MeterStatsReply).Stats
}

// TestMeterModErrors: every METER_MOD error, and nothing of a refused
// request is installed.
func TestMeterModErrors(t *testing.T) {
	saved := maxMeters
	maxMeters = 3
	t.Cleanup(func() { maxMeters = saved })
	tb := newTestBridge(t, 2, FailSecure)
	c := tb.dial(t)
	c.send(addMeter(1, ofp.MeterFlagKbps, dropBand(1000, 0)))
	c.barrier()
	const kbps, pktps = ofp.MeterFlagKbps, ofp.MeterFlagPktps
	nine := make([]ofp.MeterBand, maxMeterBands+1)
	for i := range nine {
		nine[i] = dropBand(uint32(100*(i+1)), 0)
	}
	tests := []struct {
		name string
		m    *ofp.MeterMod
		code uint16
	}{
		{"exists", addMeter(1, kbps, dropBand(10, 0)), ofp.MMFCMeterExists},
		{"modify unknown", &ofp.MeterMod{Command: ofp.MeterModify, Flags: kbps, MeterID: 2, Bands: []ofp.MeterBand{dropBand(10, 0)}}, ofp.MMFCUnknownMeter},
		{"id 0", addMeter(0, kbps, dropBand(10, 0)), ofp.MMFCInvalidMeter},
		{"id above max", addMeter(ofp.MeterMax+1, kbps, dropBand(10, 0)), ofp.MMFCInvalidMeter},
		{"slowpath meter", addMeter(ofp.MeterSlowpath, kbps, dropBand(10, 0)), ofp.MMFCInvalidMeter},
		{"controller meter", addMeter(ofp.MeterController, kbps, dropBand(10, 0)), ofp.MMFCInvalidMeter},
		{"add OFPM_ALL", addMeter(ofp.MeterAll, kbps, dropBand(10, 0)), ofp.MMFCInvalidMeter},
		{"delete id 0", &ofp.MeterMod{Command: ofp.MeterDelete, MeterID: 0}, ofp.MMFCInvalidMeter},
		{"delete controller meter", &ofp.MeterMod{Command: ofp.MeterDelete, MeterID: ofp.MeterController}, ofp.MMFCInvalidMeter},
		{"kbps and pktps", addMeter(2, kbps|pktps, dropBand(10, 0)), ofp.MMFCBadFlags},
		{"neither kbps nor pktps", addMeter(2, ofp.MeterFlagStats, dropBand(10, 0)), ofp.MMFCBadFlags},
		{"unknown flag", addMeter(2, kbps|0x10, dropBand(10, 0)), ofp.MMFCBadFlags},
		{"rate 0", addMeter(2, kbps, dropBand(0, 0)), ofp.MMFCBadRate},
		{"remark rate 0", addMeter(2, pktps, dropBand(10, 0), remarkBand(0, 0, 1)), ofp.MMFCBadRate},
		{"burst 0 with OFPMF_BURST", addMeter(2, kbps|ofp.MeterFlagBurst, dropBand(10, 0)), ofp.MMFCBadBurst},
		{"experimenter band", addMeter(2, kbps, ofp.MeterBand{BandType: ofp.MeterBandExperimenter, Rate: 10, Experimenter: 0x2320, Data: make([]byte, 0)}), ofp.MMFCBadBand},
		{"prec_level 0", addMeter(2, kbps, remarkBand(10, 0, 0)), ofp.MMFCBadBandValue},
		{"prec_level 4", addMeter(2, kbps, remarkBand(10, 0, 4)), ofp.MMFCBadBandValue},
		{"too many bands", addMeter(2, kbps, nine...), ofp.MMFCOutOfBands},
		{"bad command", &ofp.MeterMod{Command: 3, Flags: kbps, MeterID: 2}, ofp.MMFCBadCommand},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.expectError(tc.m, ofp.ETMeterModFailed, tc.code)
		})
	}
	// A flow naming a missing meter.
	c.expectError(meteredFlow(1, 9, 2), ofp.ETMeterModFailed, ofp.MMFCUnknownMeter)
	// Stats and config of a missing meter.
	c.expectError(&ofp.MultipartRequest{Body: &ofp.MeterStatsRequest{MeterID: 9}}, ofp.ETMeterModFailed, ofp.MMFCUnknownMeter)
	c.expectError(&ofp.MultipartRequest{Body: &ofp.MeterConfigRequest{MeterID: 9}}, ofp.ETMeterModFailed, ofp.MMFCUnknownMeter)
	// Nothing refused was installed.
	mp := c.request(&ofp.MultipartRequest{Body: &ofp.MeterConfigRequest{MeterID: ofp.MeterAll}}).(*ofp.MultipartReply)
	cfgs := mp.Body.(*ofp.MeterConfigReply).Configs
	if len(cfgs) != 1 || cfgs[0].MeterID != 1 || cfgs[0].Bands[0].Rate != 1000 {
		t.Fatalf("meters after the errors: %+v", cfgs)
	}
	// The table holds maxMeters.
	c.send(addMeter(2, kbps, dropBand(10, 0)))
	c.send(addMeter(3, pktps, dropBand(10, 0)))
	c.barrier()
	c.expectError(addMeter(4, kbps, dropBand(10, 0)), ofp.ETMeterModFailed, ofp.MMFCOutOfMeters)
	// Deleting a missing meter is no error.
	c.send(&ofp.MeterMod{Command: ofp.MeterDelete, MeterID: 42})
	c.barrier()
}

// TestMeterDrop: a drop band limits a flood to its burst plus its rate.
func TestMeterDrop(t *testing.T) {
	tb := newTestBridge(t, 2, FailSecure)
	c := tb.dial(t)
	c.send(addMeter(1, ofp.MeterFlagPktps|ofp.MeterFlagBurst|ofp.MeterFlagStats, dropBand(10, 10)))
	c.send(meteredFlow(1, 1, 2))
	c.barrier()
	const n = 60
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	start := time.Now()
	for i := 0; i < n; i++ {
		tb.hosts[0].SendFrame(pkt)
	}
	got := 0
	for {
		if _, ok := tb.hosts[1].RecvFrame(300 * time.Millisecond); !ok {
			break
		}
		got++
	}
	// The burst of 10, plus 10 per second of the flood's duration.
	max := 10 + int(time.Since(start).Seconds()*10) + 1
	if got < 10 || got > max {
		t.Errorf("%d of %d packets passed, want 10..%d", got, n, max)
	}
	st := meterStatsOf(t, c, 1)
	if len(st) != 1 {
		t.Fatalf("meter stats %+v", st)
	}
	s := st[0]
	if s.MeterID != 1 || s.FlowCount != 1 || s.PacketInCount != n || s.ByteInCount != uint64(n*len(pkt)) ||
		len(s.Bands) != 1 || s.Bands[0].PacketBandCount != uint64(n-got) || s.Bands[0].ByteBandCount != uint64((n-got)*len(pkt)) {
		t.Errorf("meter stats %+v, want %d in, %d dropped", s, n, n-got)
	}
	// The flow counted every packet, dropped or not.
	mp := c.request(&ofp.MultipartRequest{Body: &ofp.FlowStatsRequest{TableID: ofp.TableAll,
		OutPort: ofp.PortAny, OutGroup: ofp.GroupAny}}).(*ofp.MultipartReply)
	if fs := mp.Body.(*ofp.FlowStatsReply).Stats; len(fs) != 1 || fs[0].PacketCount != n {
		t.Errorf("flow stats %+v, want %d packets", fs, n)
	}
	// A modify takes effect at once: with a high rate everything passes.
	c.send(&ofp.MeterMod{Command: ofp.MeterModify, Flags: ofp.MeterFlagPktps, MeterID: 1, Bands: []ofp.MeterBand{dropBand(100000, 0)}})
	c.barrier()
	for i := 0; i < 20; i++ {
		tb.hosts[0].SendFrame(pkt)
		tb.expectFrame(t, 1)
	}
}

// ipv4Checksum checks an IPv4 header's checksum.
func ipv4ChecksumOK(hdr []byte) bool {
	var sum uint32
	for i := 0; i+1 < len(hdr); i += 2 {
		sum += uint32(hdr[i])<<8 | uint32(hdr[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return sum == 0xffff
}

// TestMeterDSCPRemark: a DSCP remark band raises the drop precedence of
// the packets over its rate (AF21 -> AF22), keeps the IPv4 checksum right,
// and leaves non-IP packets alone.
func TestMeterDSCPRemark(t *testing.T) {
	tb := newTestBridge(t, 4, FailSecure)
	c := tb.dial(t)
	// One meter per input port, so that each round starts with a full
	// bucket of one packet and a rate of one packet per second: the first
	// packet conforms, the ones right after it exceed the rate.
	c.send(addMeter(1, ofp.MeterFlagPktps|ofp.MeterFlagBurst, remarkBand(1, 1, 1)))
	c.send(addMeter(2, ofp.MeterFlagPktps|ofp.MeterFlagBurst, remarkBand(1, 1, 2)))
	c.send(addMeter(4, ofp.MeterFlagPktps|ofp.MeterFlagBurst, remarkBand(1, 1, 1)))
	c.send(meteredFlow(1, 1, 2))
	c.send(meteredFlow(3, 2, 2))
	c.send(meteredFlow(4, 4, 2))
	c.barrier()
	mk := func(v6 bool) []byte {
		eth := &layers.Ethernet{SrcMAC: macH1, DstMAC: macH2, EthernetType: layers.EthernetTypeIPv4}
		tcp := &layers.TCP{SrcPort: 1, DstPort: 2, SYN: true, Window: 10}
		var ip gopacket.SerializableLayer
		if v6 {
			eth.EthernetType = layers.EthernetTypeIPv6
			l := &layers.IPv6{Version: 6, TrafficClass: 18 << 2, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
				SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
			tcp.SetNetworkLayerForChecksum(l)
			ip = l
		} else {
			l := &layers.IPv4{Version: 4, TOS: 18 << 2, TTL: 64, Protocol: layers.IPProtocolTCP,
				SrcIP: net.IP{198, 18, 0, 1}, DstIP: net.IP{198, 18, 0, 2}}
			tcp.SetNetworkLayerForChecksum(l)
			ip = l
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			eth, ip, tcp, gopacket.Payload(make([]byte, 64))); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	dscpOf := func(f []byte) uint8 {
		t.Helper()
		p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
		if l, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			if !ipv4ChecksumOK(f[14 : 14+int(l.IHL)*4]) {
				t.Errorf("bad IPv4 header checksum in %x", f[14:34])
			}
			return l.TOS >> 2
		}
		if l, ok := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
			return l.TrafficClass >> 2
		}
		t.Fatalf("no IP in %x", f)
		return 0
	}
	for _, tc := range []struct {
		v6    bool
		host  int
		dscps []uint8
	}{
		{false, 0, []uint8{18, 20, 20}}, // meter 1: AF21 -> AF22
		{true, 3, []uint8{18, 20}},      // meter 4, IPv6
		{false, 2, []uint8{18, 22}},     // meter 2, prec_level 2: AF21 -> AF23
	} {
		pkt := mk(tc.v6)
		for i, want := range tc.dscps {
			tb.hosts[tc.host].SendFrame(pkt)
			if got := dscpOf(tb.expectFrame(t, 1)); got != want {
				t.Errorf("port %d (ipv6 %v) packet %d: DSCP %d, want %d", tc.host+1, tc.v6, i, got, want)
			}
		}
	}
	// ARP passes a remark band unchanged.
	arp := arpPacket(t, macH1, "198.18.0.1", "198.18.0.2")
	tb.hosts[0].SendFrame(arp)
	if f := tb.expectFrame(t, 1); string(f) != string(arp) {
		t.Errorf("ARP changed by a remark band: %x", f)
	}
	s := meterStatsOf(t, c, 1)[0]
	if s.PacketInCount != 4 || s.Bands[0].PacketBandCount < 2 {
		t.Errorf("meter 1 stats %+v, want 4 in, at least 2 over the band", s)
	}
}

// TestMeterConfigStatsFeatures: configs are reported exactly as sent
// (burst sizes included), stats list every meter, and the features.
func TestMeterConfigStatsFeatures(t *testing.T) {
	tb := newTestBridge(t, 2, FailSecure)
	c := tb.dial(t)
	mods := []*ofp.MeterMod{
		addMeter(7, ofp.MeterFlagKbps, dropBand(1000, 0)),
		// A burst_size without OFPMF_BURST is not used, but echoed.
		addMeter(3, ofp.MeterFlagPktps|ofp.MeterFlagStats, remarkBand(100, 55, 1), dropBand(200, 0)),
		addMeter(5, ofp.MeterFlagKbps|ofp.MeterFlagBurst, dropBand(10000, 100), remarkBand(5000, 50, 3)),
	}
	for _, m := range mods {
		c.send(m)
	}
	c.send(meteredFlow(1, 5, 2))
	c.send(meteredFlow(2, 5, 1))
	c.barrier()
	mp := c.request(&ofp.MultipartRequest{Body: &ofp.MeterConfigRequest{MeterID: ofp.MeterAll}}).(*ofp.MultipartReply)
	want := []ofp.MeterConfig{
		{Flags: mods[1].Flags, MeterID: 3, Bands: mods[1].Bands},
		{Flags: mods[2].Flags, MeterID: 5, Bands: mods[2].Bands},
		{Flags: mods[0].Flags, MeterID: 7, Bands: mods[0].Bands},
	}
	if got := mp.Body.(*ofp.MeterConfigReply).Configs; !reflect.DeepEqual(got, want) {
		t.Errorf("meter config\n got %+v\nwant %+v", got, want)
	}
	mp = c.request(&ofp.MultipartRequest{Body: &ofp.MeterConfigRequest{MeterID: 5}}).(*ofp.MultipartReply)
	if got := mp.Body.(*ofp.MeterConfigReply).Configs; !reflect.DeepEqual(got, want[1:2]) {
		t.Errorf("meter 5 config %+v", got)
	}
	st := meterStatsOf(t, c, ofp.MeterAll)
	if len(st) != 3 || st[0].MeterID != 3 || st[1].MeterID != 5 || st[2].MeterID != 7 {
		t.Fatalf("meter stats %+v", st)
	}
	if st[1].FlowCount != 2 || st[0].FlowCount != 0 || len(st[0].Bands) != 2 || len(st[1].Bands) != 2 || st[1].DurationSec > 5 {
		t.Errorf("meter stats %+v", st)
	}
	mp = c.request(&ofp.MultipartRequest{Body: &ofp.MeterFeaturesRequest{}}).(*ofp.MultipartReply)
	f := mp.Body.(*ofp.MeterFeaturesReply)
	if f.MaxMeter != uint32(maxMeters) || f.BandTypes != 1<<ofp.MeterBandDrop|1<<ofp.MeterBandDSCPRemark ||
		f.Capabilities != 0xf || f.MaxBands != maxMeterBands || f.MaxColor != 0 {
		t.Errorf("meter features %+v", f)
	}
}

// TestMeterDeleteRemovesFlows: deleting a meter removes the flows that
// use it (FLOW_REMOVED, reason DELETE in OpenFlow 1.3); OFPM_ALL all of
// them; the others stay.
func TestMeterDeleteRemovesFlows(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	c.send(&ofp.SetConfig{MissSendLen: 128})
	c.send(addMeter(1, ofp.MeterFlagKbps, dropBand(1000000, 0)))
	c.send(addMeter(2, ofp.MeterFlagKbps, dropBand(1000000, 0)))
	for i, m := range []uint32{1, 1, 2} {
		fm := meteredFlow(uint32(i+1), m, uint32((i+1)%3+1))
		fm.Cookie, fm.Flags = uint64(0x100+i), ofp.FlagSendFlowRem
		c.send(fm)
	}
	plain := flow(0, 1, nil, output(3))
	plain.Cookie, plain.Flags = 0x200, ofp.FlagSendFlowRem
	c.send(plain)
	c.barrier()
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	tb.hosts[0].SendFrame(pkt)
	tb.expectFrame(t, 1)

	c.send(&ofp.MeterMod{Command: ofp.MeterDelete, MeterID: 1})
	removed := map[uint64]uint8{}
	for len(removed) < 2 {
		_, m := c.recvType(ofp.TypeFlowRemoved)
		fr := m.(*ofp.FlowRemoved)
		removed[fr.Cookie] = fr.Reason
	}
	c.barrier()
	if r, ok := removed[0x100]; !ok || r != ofp.RemovedDelete {
		t.Errorf("flows removed %v, want 0x100 and 0x101 with reason DELETE", removed)
	}
	if _, ok := removed[0x101]; !ok {
		t.Errorf("flows removed %v, want 0x100 and 0x101", removed)
	}
	// In port 1's traffic now takes the plain flow.
	tb.hosts[0].SendFrame(pkt)
	tb.expectFrame(t, 2)
	c.expectError(&ofp.MultipartRequest{Body: &ofp.MeterStatsRequest{MeterID: 1}}, ofp.ETMeterModFailed, ofp.MMFCUnknownMeter)
	if st := meterStatsOf(t, c, 2); len(st) != 1 || st[0].FlowCount != 1 {
		t.Errorf("meter 2 stats %+v", st)
	}
	c.send(&ofp.MeterMod{Command: ofp.MeterDelete, MeterID: ofp.MeterAll})
	_, m := c.recvType(ofp.TypeFlowRemoved)
	if fr := m.(*ofp.FlowRemoved); fr.Cookie != 0x102 {
		t.Errorf("delete all removed %#x", fr.Cookie)
	}
	c.barrier()
	if st := meterStatsOf(t, c, ofp.MeterAll); len(st) != 0 {
		t.Errorf("meters left: %+v", st)
	}
	mp := c.request(&ofp.MultipartRequest{Body: &ofp.FlowStatsRequest{TableID: ofp.TableAll,
		OutPort: ofp.PortAny, OutGroup: ofp.GroupAny}}).(*ofp.MultipartReply)
	if fs := mp.Body.(*ofp.FlowStatsReply).Stats; len(fs) != 1 || fs[0].Cookie != 0x200 {
		t.Errorf("flows left %+v", fs)
	}
}
