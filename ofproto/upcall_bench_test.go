package ofproto

import (
	"encoding/binary"
	"fmt"
	"net"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofctl"
	"github.com/govs/govs/ofproto/ofp"
	"github.com/govs/govs/vport"
)

// upcallBenchFlows is the number of rules (and distinct flows) of
// BenchmarkUpcallSetup, as in the netns harness's flow-setup test.
const upcallBenchFlows = 50000

// BenchmarkUpcallSetup measures the slow path's cost of a new flow: the
// miss upcall of a UDP packet with a new source port, through a table of
// upcallBenchFlows rules "udp,in_port=1,tp_src=N,actions=output:2" (the
// netns harness's flow-setup test), translated, installed as a megaflow
// and executed on memory ports. The megaflows are flushed (untimed) each
// time every source port has been used.
func BenchmarkUpcallSetup(b *testing.B) {
	sw := map[string]vport.Port{}
	var ports []PortConfig
	var hosts []*vport.MemPort
	for i := 1; i <= 2; i++ {
		a, h := vport.NewMemPair(fmt.Sprintf("p%d", i), fmt.Sprintf("h%d", i))
		sw[a.Info().Name] = a
		hosts = append(hosts, h)
		ports = append(ports, PortConfig{Name: a.Info().Name, OFPort: uint32(i)})
	}
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	br, err := New(Config{
		Name: "br0", DatapathID: 0x42, FailMode: FailSecure, Rundir: b.TempDir(),
		Ports: ports, NoLocal: true, FlowLimit: 4 * upcallBenchFlows,
		OpenPort: func(name string) (vport.Port, error) { return sw[name], nil },
		Log:      logrus.NewEntry(log),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		br.Close()
		for _, h := range hosts {
			h.Close()
		}
	}()
	for i := 0; i < upcallBenchFlows; i++ {
		fm, err := ofctl.ParseFlow(fmt.Sprintf("priority=10,udp,in_port=1,tp_src=%d,actions=output:2", 1024+i), ofp.FlowAdd)
		if err != nil {
			b.Fatal(err)
		}
		if err := br.FlowMod(fm); err != nil {
			b.Fatal(err)
		}
	}
	frame := udpPacket(b, net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2},
		"198.18.0.1", "198.18.0.2", 1024, 9)
	u := &datapath.Upcall{Type: datapath.UpcallMiss, InPort: 1, Packet: vport.NewPacket()}
	drain := make([]*vport.Packet, 64)
	for i := range drain {
		drain[i] = vport.NewPacket()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := i % upcallBenchFlows
		if n == 0 && i > 0 {
			b.StopTimer()
			br.dp.FlowFlush()
			for {
				if k, _ := hosts[1].TryRecv(drain); k == 0 {
					break
				}
			}
			b.StartTimer()
		}
		binary.BigEndian.PutUint16(frame[34:], uint16(1024+n))
		u.Packet.SetFrame(frame)
		var l datapath.Layout
		datapath.Extract(frame, 1, &u.Key, &l)
		u.TotalLen = len(frame)
		br.handleMiss(u)
	}
	b.StopTimer()
	if got := br.dp.FlowCount(); got == 0 {
		b.Fatalf("no megaflow installed")
	}
}
