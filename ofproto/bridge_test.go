package ofproto

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/sirupsen/logrus"

	"github.com/govs/govs/ofproto/ofp"
	"github.com/govs/govs/vport"
)

// testBridge is a bridge on memory ports 1..n; hosts[i] is the far end of
// port i+1. It has no LOCAL port.
type testBridge struct {
	br     *Bridge
	hosts  []*vport.MemPort
	rundir string
}

func newTestBridge(t *testing.T, n int, mode FailMode, mutate ...func(*Config)) *testBridge {
	t.Helper()
	tb := &testBridge{rundir: t.TempDir()}
	sw := map[string]vport.Port{}
	var ports []PortConfig
	for i := 1; i <= n; i++ {
		a, b := vport.NewMemPair(fmt.Sprintf("p%d", i), fmt.Sprintf("h%d", i))
		sw[a.Info().Name] = a
		tb.hosts = append(tb.hosts, b)
		ports = append(ports, PortConfig{Name: a.Info().Name, OFPort: uint32(i)})
	}
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	if testing.Verbose() {
		log.SetLevel(logrus.DebugLevel)
	}
	cfg := Config{
		Name:       "br0",
		DatapathID: 0x42,
		FailMode:   mode,
		Rundir:     tb.rundir,
		Ports:      ports,
		NoLocal:    true,
		OpenPort: func(name string) (vport.Port, error) {
			if p, ok := sw[name]; ok {
				return p, nil
			}
			return nil, fmt.Errorf("no memory port %s", name)
		},
		Log: logrus.NewEntry(log),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	br, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tb.br = br
	t.Cleanup(func() {
		br.Close()
		for _, h := range tb.hosts {
			h.Close()
		}
	})
	return tb
}

// ofClient is a minimal OpenFlow controller-side client for tests.
type ofClient struct {
	t   *testing.T
	nc  net.Conn
	r   *bufio.Reader
	xid uint32
}

// dial connects to the bridge's management socket and completes the
// handshake.
func (tb *testBridge) dial(t *testing.T) *ofClient {
	t.Helper()
	nc, err := net.Dial("unix", filepath.Join(tb.rundir, "br0.mgmt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &ofClient{t: t, nc: nc, r: bufio.NewReader(nc)}
	c.send(&ofp.Hello{Version: ofp.Version, Bitmaps: []uint32{1 << ofp.Version}})
	if _, m := c.recv(); m.Type() != ofp.TypeHello {
		t.Fatalf("first message %T, want hello", m)
	}
	return c
}

func (c *ofClient) send(m ofp.Message) uint32 {
	c.t.Helper()
	c.xid++
	b, err := ofp.Marshal(c.xid, m)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
	return c.xid
}

func (c *ofClient) recv() (ofp.Header, ofp.Message) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := ofp.ReadMessage(c.r, nil)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	h, m, err := ofp.Decode(b)
	if err != nil {
		c.t.Fatalf("decode %x: %v", b, err)
	}
	return h, m
}

// recvType reads until a message of the given type arrives (skipping echo
// requests and asynchronous messages of other types).
func (c *ofClient) recvType(t ofp.MsgType) (ofp.Header, ofp.Message) {
	c.t.Helper()
	for {
		h, m := c.recv()
		if m.Type() == t {
			return h, m
		}
		if t != ofp.TypeError {
			if e, ok := m.(*ofp.ErrorMsg); ok {
				c.t.Fatalf("got error type %d code %d waiting for type %d", e.ErrType, e.Code, t)
			}
		}
	}
}

// request sends m and waits for the reply to it (its xid).
func (c *ofClient) request(m ofp.Message) ofp.Message {
	c.t.Helper()
	xid := c.send(m)
	for {
		h, r := c.recv()
		if h.Xid == xid {
			return r
		}
	}
}

// barrier sends a barrier and waits for its reply, failing on any error
// reply in between.
func (c *ofClient) barrier() {
	c.t.Helper()
	xid := c.send(&ofp.BarrierRequest{})
	for {
		h, m := c.recv()
		if e, ok := m.(*ofp.ErrorMsg); ok {
			c.t.Fatalf("error reply (xid %d) type %d code %d", h.Xid, e.ErrType, e.Code)
		}
		if h.Xid == xid {
			if m.Type() != ofp.TypeBarrierReply {
				c.t.Fatalf("reply to barrier is %T", m)
			}
			return
		}
	}
}

// expectError sends m and expects an ERROR of type/code in reply.
func (c *ofClient) expectError(m ofp.Message, typ, code uint16) {
	c.t.Helper()
	xid := c.send(m)
	bx := c.send(&ofp.BarrierRequest{})
	for {
		h, r := c.recv()
		if h.Xid == bx {
			c.t.Fatalf("no error for %T (want type %d code %d)", m, typ, code)
		}
		if h.Xid == xid {
			e, ok := r.(*ofp.ErrorMsg)
			if !ok {
				c.t.Fatalf("reply %T, want error", r)
			}
			if e.ErrType != typ || e.Code != code {
				c.t.Fatalf("error type %d code %d, want type %d code %d", e.ErrType, e.Code, typ, code)
			}
			c.recvType(ofp.TypeBarrierReply)
			return
		}
	}
}

// flow builds an ADD flow-mod with apply-actions.
func flow(table uint8, priority uint16, match []ofp.OXM, acts ...ofp.Action) *ofp.FlowMod {
	return &ofp.FlowMod{
		TableID:      table,
		Command:      ofp.FlowAdd,
		Priority:     priority,
		BufferID:     ofp.NoBuffer,
		OutPort:      ofp.PortAny,
		OutGroup:     ofp.GroupAny,
		Match:        ofp.Match{Fields: match},
		Instructions: []ofp.Instruction{&ofp.InstrApplyActions{Actions: acts}},
	}
}

func oxm(f ofp.OXMField, v uint64) ofp.OXM { return uintOXM(f, v) }

func output(port uint32) *ofp.ActionOutput { return &ofp.ActionOutput{Port: port, MaxLen: 0xffff} }

var (
	macH1 = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macH2 = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
	macH3 = net.HardwareAddr{0x02, 0, 0, 0, 0, 3}
)

// udpPacket builds an Ethernet/IPv4/UDP frame.
func udpPacket(t testing.TB, src, dst net.HardwareAddr, sip, dip string, sport, dport uint16) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: net.ParseIP(sip).To4(), DstIP: net.ParseIP(dip).To4()}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, udp, gopacket.Payload([]byte("govs test payload"))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// expectFrame waits for a frame on host h (index) and returns it.
func (tb *testBridge) expectFrame(t *testing.T, h int) []byte {
	t.Helper()
	f, ok := tb.hosts[h].RecvFrame(2 * time.Second)
	if !ok {
		t.Fatalf("no frame at host %d", h+1)
	}
	return f
}

// expectNoFrame checks that host h receives nothing for a short while.
func (tb *testBridge) expectNoFrame(t *testing.T, h int) {
	t.Helper()
	if f, ok := tb.hosts[h].RecvFrame(100 * time.Millisecond); ok {
		t.Fatalf("unexpected frame at host %d: %x", h+1, f[:min(len(f), 34)])
	}
}

func TestHandshakeFeaturesDesc(t *testing.T) {
	tb := newTestBridge(t, 2, FailSecure)
	c := tb.dial(t)
	fr, ok := c.request(&ofp.FeaturesRequest{}).(*ofp.FeaturesReply)
	if !ok || fr.DatapathID != 0x42 || fr.NTables != NumTables || fr.NBuffers != 0 {
		t.Fatalf("features reply %+v", fr)
	}
	mp := c.request(&ofp.MultipartRequest{Body: &ofp.DescRequest{}}).(*ofp.MultipartReply)
	if d := mp.Body.(*ofp.DescReply); d.DPDesc != "br0" || d.SWDesc != Version {
		t.Fatalf("desc %+v", d)
	}
	mp = c.request(&ofp.MultipartRequest{Body: &ofp.PortDescRequest{}}).(*ofp.MultipartReply)
	ports := mp.Body.(*ofp.PortDescReply).Ports
	if len(ports) != 2 || ports[0].PortNo != 1 || ports[0].Name != "p1" || ports[1].PortNo != 2 {
		t.Fatalf("port desc %+v", ports)
	}
	echo := c.request(&ofp.EchoRequest{Data: []byte("ping")}).(*ofp.EchoReply)
	if string(echo.Data) != "ping" {
		t.Fatalf("echo reply data %q", echo.Data)
	}
	cfg := c.request(&ofp.GetConfigRequest{}).(*ofp.GetConfigReply)
	if cfg.MissSendLen != 0 {
		t.Errorf("service connection miss_send_len %d, want 0", cfg.MissSendLen)
	}
}

// TestHelloFailed: a peer that only speaks OpenFlow 1.0 gets HELLO_FAILED
// and the connection is closed.
func TestHelloFailed(t *testing.T) {
	tb := newTestBridge(t, 1, FailSecure)
	nc, err := net.Dial("unix", filepath.Join(tb.rundir, "br0.mgmt"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte{0x01, 0, 0, 8, 0, 0, 0, 1}) // OpenFlow 1.0 hello
	r := bufio.NewReader(nc)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var gotErr bool
	for {
		b, err := ofp.ReadMessage(r, nil)
		if err != nil {
			if err != io.EOF && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("read: %v", err)
			}
			break
		}
		if _, m, err := ofp.Decode(b); err == nil {
			if e, ok := m.(*ofp.ErrorMsg); ok {
				if e.ErrType != ofp.ETHelloFailed || e.Code != ofp.HFCIncompatible {
					t.Fatalf("error type %d code %d", e.ErrType, e.Code)
				}
				gotErr = true
			}
		}
	}
	if !gotErr {
		t.Fatal("no HELLO_FAILED before the connection closed")
	}
}

func TestFlowForwardingAndStats(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	match := []ofp.OXM{oxm(ofp.OXMInPort, 1), oxm(ofp.OXMEthType, 0x0800), oxm(ofp.OXMIPProto, 17), oxm(ofp.OXMUDPDst, 53)}
	c.send(flow(0, 100, match, output(2)))
	c.send(flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, output(3)))
	c.barrier()

	dns := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 4000, 53)
	other := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 4000, 80)
	for i := 0; i < 3; i++ {
		tb.hosts[0].SendFrame(dns)
		if got := tb.expectFrame(t, 1); string(got) != string(dns) {
			t.Fatal("dns packet changed")
		}
		tb.hosts[0].SendFrame(other)
		tb.expectFrame(t, 2)
	}
	tb.expectNoFrame(t, 1)

	mp := c.request(&ofp.MultipartRequest{Body: &ofp.FlowStatsRequest{TableID: ofp.TableAll,
		OutPort: ofp.PortAny, OutGroup: ofp.GroupAny}}).(*ofp.MultipartReply)
	stats := mp.Body.(*ofp.FlowStatsReply).Stats
	if len(stats) != 2 {
		t.Fatalf("%d flow stats entries, want 2", len(stats))
	}
	if stats[0].Priority != 100 || stats[0].PacketCount != 3 || stats[0].ByteCount != uint64(3*len(dns)) {
		t.Errorf("flow 1 stats %+v, want 3 packets", stats[0])
	}
	if stats[1].PacketCount != 3 {
		t.Errorf("flow 2 packets %d, want 3", stats[1].PacketCount)
	}
	// The match is echoed exactly as installed.
	if got, want := formatMatchShort(&stats[0].Match), formatMatchShort(&ofp.Match{Fields: match}); got != want {
		t.Errorf("echoed match %s, want %s", got, want)
	}
	agg := c.request(&ofp.MultipartRequest{Body: &ofp.AggregateStatsRequest{FlowStatsRequest: ofp.FlowStatsRequest{
		TableID: ofp.TableAll, OutPort: ofp.PortAny, OutGroup: ofp.GroupAny}}}).(*ofp.MultipartReply).Body.(*ofp.AggregateStatsReply)
	if agg.FlowCount != 2 || agg.PacketCount != 6 {
		t.Errorf("aggregate %+v, want 2 flows, 6 packets", agg)
	}
	ts := c.request(&ofp.MultipartRequest{Body: &ofp.TableStatsRequest{}}).(*ofp.MultipartReply).Body.(*ofp.TableStatsReply)
	if len(ts.Stats) != NumTables || ts.Stats[0].ActiveCount != 2 || ts.Stats[0].LookupCount != 6 || ts.Stats[0].MatchedCount != 6 {
		t.Errorf("table 0 stats %+v", ts.Stats[0])
	}
	ps := c.request(&ofp.MultipartRequest{Body: &ofp.PortStatsRequest{PortNo: ofp.PortAny}}).(*ofp.MultipartReply).Body.(*ofp.PortStatsReply)
	if len(ps.Stats) != 3 || ps.Stats[0].RxPackets != 6 || ps.Stats[1].TxPackets != 3 {
		t.Errorf("port stats %+v", ps.Stats)
	}
}

// TestNoStaleMegaflowAfterBarrier changes the output of a flow that is
// cached as a megaflow and checks that every packet sent after the
// barrier reply takes the new path.
func TestNoStaleMegaflowAfterBarrier(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	match := []ofp.OXM{oxm(ofp.OXMInPort, 1)}
	c.send(flow(0, 1, match, output(2)))
	c.barrier()
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	for i := 0; i < 5; i++ {
		tb.hosts[0].SendFrame(pkt)
		tb.expectFrame(t, 1)
	}
	for round := 0; round < 10; round++ {
		out := uint32(3 - round%2) // alternate 3, 2
		mod := flow(0, 1, match, output(out))
		mod.Command = ofp.FlowModifyStrict
		c.send(mod)
		c.barrier()
		tb.hosts[0].SendFrame(pkt)
		tb.expectFrame(t, int(out)-1)
		tb.expectNoFrame(t, int(5-out)-1)
	}
}

func TestTableMissPacketIn(t *testing.T) {
	tb := newTestBridge(t, 2, FailSecure)
	c := tb.dial(t)
	c.send(&ofp.SetConfig{MissSendLen: 0xffff}) // a service connection asks for async messages
	c.send(&ofp.FlowMod{TableID: 0, Command: ofp.FlowAdd, Priority: 0, Cookie: 0xc0ffee, BufferID: ofp.NoBuffer,
		OutPort: ofp.PortAny, OutGroup: ofp.GroupAny,
		Instructions: []ofp.Instruction{&ofp.InstrGotoTable{TableID: 3},
			&ofp.InstrWriteMetadata{Metadata: 0x1234, Mask: 0xffff}}})
	c.send(&ofp.FlowMod{TableID: 3, Command: ofp.FlowAdd, Priority: 0, Cookie: 0xbeef, BufferID: ofp.NoBuffer,
		OutPort: ofp.PortAny, OutGroup: ofp.GroupAny,
		Instructions: []ofp.Instruction{
			&ofp.InstrApplyActions{Actions: []ofp.Action{&ofp.ActionOutput{Port: ofp.PortController, MaxLen: 0xffff}}}}})
	c.barrier()
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	tb.hosts[1].SendFrame(pkt)
	_, m := c.recvType(ofp.TypePacketIn)
	pin := m.(*ofp.PacketIn)
	if pin.Reason != ofp.ReasonNoMatch || pin.TableID != 3 || pin.Cookie != 0xbeef || pin.BufferID != ofp.NoBuffer {
		t.Errorf("packet-in reason %d table %d cookie %#x buffer %#x", pin.Reason, pin.TableID, pin.Cookie, pin.BufferID)
	}
	if string(pin.Data) != string(pkt) || int(pin.TotalLen) != len(pkt) {
		t.Errorf("packet-in data %d bytes (total_len %d), want %d", len(pin.Data), pin.TotalLen, len(pkt))
	}
	if o, ok := pin.Match.Field(ofp.OXMInPort); !ok || beUint(o.Value) != 2 {
		t.Errorf("packet-in match %s, want in_port=2", formatMatchShort(&pin.Match))
	}
	if o, ok := pin.Match.Field(ofp.OXMMetadata); !ok || beUint(o.Value) != 0x1234 {
		t.Errorf("packet-in match %s, want metadata 0x1234", formatMatchShort(&pin.Match))
	}
	// A second packet of the same flow takes the megaflow and still
	// reaches the controller.
	tb.hosts[1].SendFrame(pkt)
	c.recvType(ofp.TypePacketIn)
	if s := tb.br.dp.Stats(); s.Hit != 1 {
		t.Errorf("datapath hits %d, want 1", s.Hit)
	}
}

func TestPacketOut(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	c.send(&ofp.PacketOut{BufferID: ofp.NoBuffer, InPort: ofp.PortController,
		Actions: []ofp.Action{output(2), output(3)}, Data: pkt})
	c.barrier()
	tb.expectFrame(t, 1)
	tb.expectFrame(t, 2)
	// OFPP_TABLE runs the pipeline as if the packet came in on in_port.
	c.send(flow(0, 5, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, output(3)))
	c.send(&ofp.PacketOut{BufferID: ofp.NoBuffer, InPort: 1, Actions: []ofp.Action{output(ofp.PortTable)}, Data: pkt})
	c.barrier()
	tb.expectFrame(t, 2)
	// FLOOD from port 1 reaches 2 and 3, not 1.
	c.send(&ofp.PacketOut{BufferID: ofp.NoBuffer, InPort: 1, Actions: []ofp.Action{output(ofp.PortFlood)}, Data: pkt})
	c.barrier()
	tb.expectFrame(t, 1)
	tb.expectFrame(t, 2)
	tb.expectNoFrame(t, 0)
	c.expectError(&ofp.PacketOut{BufferID: 7, InPort: 1, Actions: []ofp.Action{output(2)}}, ofp.ETBadRequest, ofp.BRCBufferUnknown)
}

func TestFlowModErrors(t *testing.T) {
	tb := newTestBridge(t, 2, FailSecure)
	c := tb.dial(t)
	badPrereq := flow(0, 1, []ofp.OXM{oxm(ofp.OXMTCPDst, 80)}, output(2))
	c.expectError(badPrereq, ofp.ETBadMatch, ofp.BMCBadPrereq)
	backwards := flow(5, 1, nil)
	backwards.Instructions = []ofp.Instruction{&ofp.InstrGotoTable{TableID: 2}}
	c.expectError(backwards, ofp.ETBadInstruction, ofp.BICBadTableID)
	c.expectError(flow(ofp.TableAll, 1, nil, output(2)), ofp.ETFlowModFailed, ofp.FMFCBadTableID)
	c.expectError(flow(0, 1, nil, output(0)), ofp.ETBadAction, ofp.BACBadOutPort)
	c.expectError(flow(0, 1, nil, &ofp.ActionGroup{GroupID: 9}), ofp.ETBadAction, ofp.BACBadOutGroup)
	c.expectError(flow(0, 1, nil, &ofp.ActionPushVLAN{EtherType: 0x0800}), ofp.ETBadAction, ofp.BACBadArgument)
	setIP := &ofp.ActionSetField{Field: oxm(ofp.OXMIPv4Dst, 1)}
	c.expectError(flow(0, 1, nil, setIP), ofp.ETBadAction, ofp.BACMatchInconsistent)
	badVID := []ofp.OXM{oxm(ofp.OXMVlanPCP, 9)}
	c.expectError(flow(0, 1, badVID, output(2)), ofp.ETBadMatch, ofp.BMCBadValue)
	bad := flow(0, 1, nil, output(2))
	bad.Command = 9
	c.expectError(bad, ofp.ETFlowModFailed, ofp.FMFCBadCommand)
	overlap := flow(0, 7, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, output(2))
	c.send(overlap)
	c.barrier()
	o2 := flow(0, 7, []ofp.OXM{oxm(ofp.OXMEthType, 0x0800)}, output(2))
	o2.Flags = ofp.FlagCheckOverlap
	c.expectError(o2, ofp.ETFlowModFailed, ofp.FMFCOverlap)
	// Nothing of the refused flow-mods was installed.
	mp := c.request(&ofp.MultipartRequest{Body: &ofp.FlowStatsRequest{TableID: ofp.TableAll,
		OutPort: ofp.PortAny, OutGroup: ofp.GroupAny}}).(*ofp.MultipartReply)
	if n := len(mp.Body.(*ofp.FlowStatsReply).Stats); n != 1 {
		t.Errorf("%d flows installed, want 1", n)
	}
}

func TestDeleteAndFlowRemoved(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	c.send(&ofp.SetConfig{MissSendLen: 128})
	for i, port := range []uint32{1, 2, 3} {
		fm := flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, uint64(port))}, output(port%3+1))
		fm.Cookie = uint64(0x100 + i)
		fm.Flags = ofp.FlagSendFlowRem
		c.send(fm)
	}
	c.barrier()
	// Delete by cookie: only the second flow.
	del := &ofp.FlowMod{TableID: ofp.TableAll, Command: ofp.FlowDelete, Cookie: 0x101, CookieMask: ^uint64(0),
		BufferID: ofp.NoBuffer, OutPort: ofp.PortAny, OutGroup: ofp.GroupAny}
	c.send(del)
	_, m := c.recvType(ofp.TypeFlowRemoved)
	if fr := m.(*ofp.FlowRemoved); fr.Cookie != 0x101 || fr.Reason != ofp.RemovedDelete {
		t.Errorf("flow removed %+v", fr)
	}
	// Delete with out_port: the flow that outputs to port 1 (from port 3).
	del = &ofp.FlowMod{TableID: 0, Command: ofp.FlowDelete, BufferID: ofp.NoBuffer, OutPort: 1, OutGroup: ofp.GroupAny}
	c.send(del)
	_, m = c.recvType(ofp.TypeFlowRemoved)
	if fr := m.(*ofp.FlowRemoved); fr.Cookie != 0x102 {
		t.Errorf("out_port delete removed cookie %#x, want 0x102", fr.Cookie)
	}
	c.barrier()
	pkt := udpPacket(t, macH3, macH1, "198.18.0.3", "198.18.0.1", 1, 2)
	tb.hosts[2].SendFrame(pkt)
	tb.expectNoFrame(t, 0)
}

func TestIdleTimeout(t *testing.T) {
	tb := newTestBridge(t, 2, FailSecure)
	c := tb.dial(t)
	c.send(&ofp.SetConfig{MissSendLen: 128})
	fm := flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, output(2))
	fm.IdleTimeout = 1
	fm.Flags = ofp.FlagSendFlowRem
	c.send(fm)
	c.barrier()
	tb.hosts[0].SendFrame(udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2))
	tb.expectFrame(t, 1)
	start := time.Now()
	_, m := c.recvType(ofp.TypeFlowRemoved)
	fr := m.(*ofp.FlowRemoved)
	if fr.Reason != ofp.RemovedIdleTimeout || fr.PacketCount != 1 {
		t.Errorf("flow removed reason %d packets %d, want idle timeout with 1 packet", fr.Reason, fr.PacketCount)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("idle timeout of 1 s took %v", d)
	}
}

// TestStandaloneLearning: a standalone bridge without controllers starts
// with a NORMAL flow and learns where hosts are.
func TestStandaloneLearning(t *testing.T) {
	tb := newTestBridge(t, 3, FailStandalone)
	broadcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	// h1 broadcasts: flooded to h2 and h3.
	tb.hosts[0].SendFrame(udpPacket(t, macH1, broadcast, "198.18.0.1", "198.18.0.255", 1, 2))
	tb.expectFrame(t, 1)
	tb.expectFrame(t, 2)
	// h2 answers h1: learned, so only h1 gets it.
	tb.hosts[1].SendFrame(udpPacket(t, macH2, macH1, "198.18.0.2", "198.18.0.1", 2, 1))
	tb.expectFrame(t, 0)
	tb.expectNoFrame(t, 2)
	// h1 to h2, now known too.
	for i := 0; i < 3; i++ {
		tb.hosts[0].SendFrame(udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2))
		tb.expectFrame(t, 1)
	}
	tb.expectNoFrame(t, 2)
	// h2 moves to port 3: traffic to it follows.
	tb.hosts[2].SendFrame(udpPacket(t, macH2, broadcast, "198.18.0.2", "198.18.0.255", 2, 1))
	tb.expectFrame(t, 0)
	tb.expectFrame(t, 1)
	tb.hosts[0].SendFrame(udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2))
	tb.expectFrame(t, 2)
	tb.expectNoFrame(t, 1)
}

func TestRoles(t *testing.T) {
	tb := newTestBridge(t, 2, FailSecure, func(c *Config) { c.Listen = []string{"punix:" + filepath.Join(c.Rundir, "ctl.sock")} })
	dialCtl := func() *ofClient {
		nc, err := net.Dial("unix", filepath.Join(tb.rundir, "ctl.sock"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		c := &ofClient{t: t, nc: nc, r: bufio.NewReader(nc)}
		c.send(&ofp.Hello{Version: ofp.Version})
		c.recvType(ofp.TypeHello)
		return c
	}
	a, b := dialCtl(), dialCtl()
	if r := a.request(&ofp.RoleRequest{Role: ofp.RoleMaster, GenerationID: 10}).(*ofp.RoleReply); r.Role != ofp.RoleMaster {
		t.Fatalf("role reply %+v", r)
	}
	a.expectError(&ofp.RoleRequest{Role: ofp.RoleMaster, GenerationID: 9}, ofp.ETRoleRequestFailed, ofp.RRFCStale)
	// The same generation again is fine (ONOS does this).
	a.request(&ofp.RoleRequest{Role: ofp.RoleMaster, GenerationID: 10})
	// b becomes master: a is demoted to slave and may not change state.
	b.request(&ofp.RoleRequest{Role: ofp.RoleMaster, GenerationID: 11})
	if r := a.request(&ofp.RoleRequest{Role: ofp.RoleNoChange}).(*ofp.RoleReply); r.Role != ofp.RoleSlave {
		t.Fatalf("a's role after b became master: %d", r.Role)
	}
	a.expectError(flow(0, 1, nil, output(2)), ofp.ETBadRequest, ofp.BRCIsSlave)
	b.send(flow(0, 1, nil, output(2)))
	b.barrier()
	ac := a.request(&ofp.GetAsyncRequest{}).(*ofp.GetAsyncReply)
	if ac.PacketInMask != defaultAsync.PacketInMask {
		t.Errorf("async config %+v", ac.AsyncConfig)
	}
}
