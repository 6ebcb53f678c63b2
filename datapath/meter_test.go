package datapath

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/govs/govs/vport"
)

// feedMeter sends packets of size bytes at pps packets per second through
// meter m for d of simulated time, starting at start, and counts the
// verdicts.
func feedMeter(m *meterTable, id uint32, start int64, pps int, size int, d time.Duration) (pass, drop, remark int) {
	n := int(d.Seconds() * float64(pps))
	gap := int64(time.Second) / int64(pps)
	for i := 0; i < n; i++ {
		v, _ := m.run(id, size, start+int64(i)*gap)
		switch v {
		case meterPass:
			pass++
		case meterDrop:
			drop++
		case meterRemark:
			remark++
		}
	}
	return
}

// TestMeterRate feeds a flood through a meter with simulated timestamps and
// checks what passes: the rate times the duration plus the burst (the
// bucket starts full), to within one packet.
func TestMeterRate(t *testing.T) {
	const start = int64(1_000_000_000_000)
	tests := []struct {
		name      string
		cfg       MeterConfig
		pps, size int
		d         time.Duration
		wantPass  int // exact, +-1
	}{
		// 100 packets/s for 10 s, burst 100 (the default: the rate).
		{"pktps drop default burst", MeterConfig{Packets: true, Bands: []MeterBand{{Type: MeterBandDrop, Rate: 100}}},
			200, 64, 10 * time.Second, 100*10 + 100},
		{"pktps drop burst 10", MeterConfig{Packets: true, Bands: []MeterBand{{Type: MeterBandDrop, Rate: 1000, Burst: 10}}},
			5000, 64, 3 * time.Second, 1000*3 + 10},
		// 1000 kbit/s of 1500-byte frames = 83.3 frames/s; burst 1000 kbit
		// = 83.3 frames.
		{"kbps drop default burst", MeterConfig{Bands: []MeterBand{{Type: MeterBandDrop, Rate: 1000}}},
			175, 1500, 30 * time.Second, (1000*1000*30 + 1000*1000) / (1500 * 8)},
		{"kbps drop 100M", MeterConfig{Bands: []MeterBand{{Type: MeterBandDrop, Rate: 100000, Burst: 100}}},
			20000, 1000, 2 * time.Second, (100_000_000*2 + 100_000) / 8000},
		// Under the rate nothing is dropped.
		{"under the rate", MeterConfig{Packets: true, Bands: []MeterBand{{Type: MeterBandDrop, Rate: 1000, Burst: 1}}},
			500, 64, 5 * time.Second, 500 * 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m meterTable
			if err := m.set(1, &tc.cfg, start); err != nil {
				t.Fatal(err)
			}
			pass, drop, remark := feedMeter(&m, 1, start, tc.pps, tc.size, tc.d)
			total := int(tc.d.Seconds() * float64(tc.pps))
			if pass < tc.wantPass-1 || pass > tc.wantPass+1 || pass+drop != total || remark != 0 {
				t.Errorf("passed %d, dropped %d, remarked %d of %d; want %d passed", pass, drop, remark, total, tc.wantPass)
			}
			s := m.get(1).stats()
			if s.Packets != uint64(total) || s.Bytes != uint64(total*tc.size) ||
				s.Bands[0].Packets != uint64(drop) || s.Bands[0].Bytes != uint64(drop*tc.size) {
				t.Errorf("stats %+v, want %d packets, band %d", s, total, drop)
			}
		})
	}
}

// TestMeterBandChoice: of the bands a packet exceeds, the one with the
// highest rate applies.
func TestMeterBandChoice(t *testing.T) {
	const start = int64(5_000_000_000)
	cfg := MeterConfig{Packets: true, Bands: []MeterBand{
		{Type: MeterBandDrop, Rate: 2000, Burst: 10},
		{Type: MeterBandDSCPRemark, Rate: 1000, Burst: 10, PrecLevel: 1},
	}}
	for _, tc := range []struct {
		pps                int
		pass, remark, drop int
		passTol, remarkTol int
		name               string
	}{
		{pps: 500, pass: 5000, name: "under both"},
		{pps: 1500, pass: 10000, remark: 5000, passTol: 12, remarkTol: 12, name: "over the remark band"},
		// 4000/s: 1000 conform to both bands, 1000 more exceed the remark
		// band only, 2000 exceed both and are dropped. (The bursts of 10
		// add up to 10 packets to what conforms to a band.)
		{pps: 4000, pass: 10000, remark: 10000, drop: 20000, passTol: 12, remarkTol: 12, name: "over both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m meterTable
			if err := m.set(7, &cfg, start); err != nil {
				t.Fatal(err)
			}
			pass, drop, remark := feedMeter(&m, 7, start, tc.pps, 100, 10*time.Second)
			if abs(pass-tc.pass) > tc.passTol || abs(remark-tc.remark) > tc.remarkTol ||
				abs(drop-tc.drop) > tc.passTol+tc.remarkTol {
				t.Errorf("pass %d remark %d drop %d, want %d %d %d", pass, remark, drop, tc.pass, tc.remark, tc.drop)
			}
			s := m.get(7).stats()
			if s.Bands[0].Packets != uint64(drop) || s.Bands[1].Packets != uint64(remark) {
				t.Errorf("band stats %+v, want drop %d remark %d", s.Bands, drop, remark)
			}
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestMeterClock: a clock that goes back refills nothing and breaks
// nothing; a long pause fills the buckets up to the burst, not beyond.
func TestMeterClock(t *testing.T) {
	var m meterTable
	cfg := MeterConfig{Packets: true, Bands: []MeterBand{{Type: MeterBandDrop, Rate: 4_000_000_000, Burst: 2}}}
	const t0 = int64(10_000_000_000)
	if err := m.set(1, &cfg, t0); err != nil {
		t.Fatal(err)
	}
	verdicts := func(now int64, n int) (pass int) {
		for i := 0; i < n; i++ {
			if v, _ := m.run(1, 60, now); v == meterPass {
				pass++
			}
		}
		return pass
	}
	if p := verdicts(t0, 5); p != 2 {
		t.Errorf("full bucket passed %d, want the burst of 2", p)
	}
	if p := verdicts(t0-int64(time.Hour), 3); p != 0 {
		t.Errorf("after the clock went back %d passed, want 0", p)
	}
	// A day later at 4e9 packets/s: the bucket is full (2), no overflow.
	if p := verdicts(t0+int64(24*time.Hour), 5); p != 2 {
		t.Errorf("after a long pause %d passed, want 2", p)
	}
}

func TestRemarkTOS(t *testing.T) {
	for _, tc := range []struct {
		dscp, ecn, prec, want uint8
	}{
		{18, 0, 1, 20}, // AF21 -> AF22
		{18, 0, 2, 22}, // AF21 -> AF23
		{18, 0, 3, 22}, // saturates at AF23
		{20, 2, 1, 22}, // ECN kept
		{22, 3, 1, 22}, // AF23 stays
		{10, 0, 1, 12}, // AF11 -> AF12
		{0, 1, 1, 2},   // best effort: the precedence bits still count
		{46, 0, 1, 46}, // EF has both bits set already
		{18, 0, 0, 18}, // level 0 changes nothing
	} {
		got := remarkTOS(tc.dscp<<2|tc.ecn, tc.prec)
		if got>>2 != tc.want || got&3 != tc.ecn {
			t.Errorf("remark dscp %d ecn %d by %d: dscp %d ecn %d, want dscp %d", tc.dscp, tc.ecn, tc.prec, got>>2, got&3, tc.want)
		}
	}
}

func TestMeterSetErrors(t *testing.T) {
	dp := New(Config{})
	defer dp.Close()
	for _, cfg := range []MeterConfig{
		{Bands: []MeterBand{{Type: MeterBandDrop, Rate: 0}}},
		{Bands: []MeterBand{{Type: 9, Rate: 10}}},
		{Bands: make([]MeterBand, 256)},
	} {
		if err := dp.MeterSet(1, cfg); err != ErrBadMeter {
			t.Errorf("MeterSet(%+v) = %v, want ErrBadMeter", cfg, err)
		}
	}
	if _, ok := dp.MeterStats(1); ok {
		t.Error("a refused meter was installed")
	}
	if err := dp.MeterSet(1, MeterConfig{}); err != nil {
		t.Errorf("a meter without bands: %v", err)
	}
	if !dp.MeterDel(1) || dp.MeterDel(1) {
		t.Error("MeterDel did not report existence")
	}
	// No meter: packets pass.
	if v, _ := dp.meters.run(1, 100, 0); v != meterPass {
		t.Error("a missing meter does not pass packets")
	}
}

// tosFrame builds an Ethernet/IPv4 or IPv6/TCP frame with the given TOS
// (traffic class) byte.
func tosFrame(t testing.TB, v6 bool, tos uint8) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	tcp := &layers.TCP{SrcPort: 1000, DstPort: 80, Seq: 1, Window: 100, SYN: true}
	var ip gopacket.SerializableLayer
	if v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, TrafficClass: tos, FlowLabel: 0x12345, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
		tcp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	} else {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip4 := &layers.IPv4{Version: 4, TOS: tos, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: net.IP{198, 18, 0, 1}, DstIP: net.IP{198, 18, 0, 2}}
		tcp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(make([]byte, 100))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkTOS decodes frame with gopacket, checks the IPv4 header checksum
// and returns the TOS / traffic class.
func checkTOS(t *testing.T, frame []byte) uint8 {
	t.Helper()
	pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	if ip4, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		want := ip4.Checksum
		b := append([]byte(nil), frame[14:14+int(ip4.IHL)*4]...)
		b[10], b[11] = 0, 0
		var sum uint32
		for i := 0; i < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		for sum > 0xffff {
			sum = sum>>16 + sum&0xffff
		}
		if got := ^uint16(sum); got != want {
			t.Errorf("IPv4 checksum %#04x, want %#04x", want, got)
		}
		return ip4.TOS
	}
	if ip6, ok := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
		if ip6.FlowLabel != 0x12345 {
			t.Errorf("flow label %#x changed", ip6.FlowLabel)
		}
		return ip6.TrafficClass
	}
	t.Fatalf("no IP layer in %x", frame)
	return 0
}

// TestMeterDSCPRemark runs packets through a remark meter in the executor:
// the first conforms, the second exceeds and is remarked, the checksum is
// right, and a copy already queued for output keeps the old DSCP.
func TestMeterDSCPRemark(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		name := "ipv4"
		if v6 {
			name = "ipv6"
		}
		t.Run(name, func(t *testing.T) {
			td := newTestDP(t, 3, Config{Handler: handlerFunc(func(*Upcall) {})})
			cfg := MeterConfig{Packets: true, Bands: []MeterBand{{Type: MeterBandDSCPRemark, Rate: 1, Burst: 1, PrecLevel: 1}}}
			if err := td.dp.MeterSet(5, cfg); err != nil {
				t.Fatal(err)
			}
			frame := tosFrame(t, v6, 18<<2|1) // AF21, ECN 1
			acts := Actions{Output(2), {Type: ActMeter, Port: 5}, Output(3)}
			for i, wantDSCP := range []uint8{18, 20} {
				td.dp.Execute(vport.NewPacketFrom(frame), 1, acts)
				before, ok := td.hosts[1].RecvFrame(2 * time.Second)
				if !ok {
					t.Fatal("nothing on port 2")
				}
				after, ok := td.hosts[2].RecvFrame(2 * time.Second)
				if !ok {
					t.Fatal("nothing on port 3")
				}
				if tos := checkTOS(t, before); tos != 18<<2|1 {
					t.Errorf("packet %d: the copy output before the meter has TOS %#x", i, tos)
				}
				if tos := checkTOS(t, after); tos != wantDSCP<<2|1 {
					t.Errorf("packet %d: TOS after the meter %#x, want DSCP %d ECN 1", i, tos, wantDSCP)
				}
			}
			s, _ := td.dp.MeterStats(5)
			if s.Packets != 2 || s.Bands[0].Packets != 1 || s.Bands[0].Bytes != uint64(len(frame)) {
				t.Errorf("stats %+v", s)
			}
		})
	}
	// Non-IP packets pass unchanged through a remark band.
	var ex executor
	ex.dp = New(Config{})
	defer ex.dp.Close()
	ex.dp.MeterSet(1, MeterConfig{Packets: true, Bands: []MeterBand{{Type: MeterBandDSCPRemark, Rate: 1, Burst: 1, PrecLevel: 3}}})
	arp := make([]byte, 60)
	arp[12], arp[13] = 0x08, 0x06
	p := vport.NewPacketFrom(arp)
	var k Key
	var l Layout
	Extract(p.Data(), 1, &k, &l)
	for i := 0; i < 3; i++ {
		q, _, pass := ex.meter(1, p, &l, false)
		if !pass || q != p || string(q.Data()) != string(arp) {
			t.Fatal("an ARP packet was changed or dropped by a remark band")
		}
	}
}

// TestMeterConcurrent runs one meter from several goroutines (as several
// ports' workers would) under the race detector; the counters add up.
func TestMeterConcurrent(t *testing.T) {
	var m meterTable
	m.set(1, &MeterConfig{Bands: []MeterBand{{Type: MeterBandDrop, Rate: 1000}}}, time.Now().UnixNano())
	var wg sync.WaitGroup
	const workers, n = 4, 2000
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				m.run(1, 100, time.Now().UnixNano())
				if i%500 == 0 {
					m.get(1).stats()
				}
			}
		}()
	}
	// Replace the meter meanwhile: packets in flight finish on the old one.
	m.set(2, &MeterConfig{Packets: true}, 0)
	wg.Wait()
	if s := m.get(1).stats(); s.Packets != workers*n {
		t.Errorf("%d packets counted, want %d", s.Packets, workers*n)
	}
}

// meterRig is an executor with a remark-and-drop meter and a TCP frame for
// the allocation test and the benchmark.
func meterRig(tb testing.TB) (*executor, *vport.Packet, *Layout, *Key, Actions) {
	dp := New(Config{})
	tb.Cleanup(func() { dp.Close() })
	dp.MeterSet(1, MeterConfig{Bands: []MeterBand{
		{Type: MeterBandDSCPRemark, Rate: 10, PrecLevel: 1},
		{Type: MeterBandDrop, Rate: 10_000_000},
	}})
	ex := newExecutor(dp)
	frame := tosFrame(tb, false, 18<<2)
	p := vport.NewPacketFrom(frame)
	var k Key
	var l Layout
	Extract(p.Data(), 1, &k, &l)
	// Output to a port that does not exist (dropped) makes the packet
	// shared, so the remark has to copy it.
	return ex, p, &l, &k, Actions{Output(99), {Type: ActMeter, Port: 1}, Output(98)}
}

func TestMeterZeroAllocs(t *testing.T) {
	ex, p, l, k, acts := meterRig(t)
	ex.now = time.Now().UnixNano()
	allocs := testing.AllocsPerRun(1000, func() {
		ex.now += 1000
		ex.execute(p, l, k, 1, acts)
		ex.flush()
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per metered packet, want 0", allocs)
	}
	s, _ := ex.dp.MeterStats(1)
	if s.Bands[0].Packets == 0 {
		t.Error("the remark band never applied: the test did not cover it")
	}
}

// BenchmarkMeter is the per-packet cost of a meter: the table lookup, the
// lock and two token buckets.
func BenchmarkMeter(b *testing.B) {
	ex, _, _, _, _ := meterRig(b)
	now := time.Now().UnixNano()
	b.ReportAllocs()
	for b.Loop() {
		now += 100
		ex.dp.meters.run(1, 154, now)
	}
}

// BenchmarkMeterRemark executes output, meter (remarking, so copying the
// shared packet) and output.
func BenchmarkMeterRemark(b *testing.B) {
	ex, p, l, k, acts := meterRig(b)
	ex.now = time.Now().UnixNano()
	b.ReportAllocs()
	for b.Loop() {
		ex.now += 1000
		ex.execute(p, l, k, 1, acts)
		ex.flush()
	}
}
