package ofproto

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofp"
	"github.com/govs/govs/vport"
)

// ---- the harness: a real bridge and its OpenFlow connection ----

type diffFrame struct {
	port uint32
	data []byte
}

type diffReply struct {
	xid uint32
	msg ofp.Message
}

type diffHarness struct {
	cfg     diffConfig
	br      *Bridge
	hosts   []*vport.MemPort
	dir     string
	nc      net.Conn
	wmu     sync.Mutex // serialises writes to nc
	xid     uint32
	frames  chan diffFrame
	pins    chan *ofp.PacketIn
	replies chan diffReply
	stop    chan struct{}
	wg      sync.WaitGroup
	closed  bool

	ref  *refSwitch
	seq  uint32
	sent uint64
	log  []diffEvent
	// recent are the packets sent since the tables last changed, with
	// their datapath keys (for the megaflow check).
	recent []diffSentPkt
	// ignoreTag marks packets whose outputs were not predicted.
	stats diffStats
	// timeout is how long to wait for a predicted output.
	timeout time.Duration
}

type diffSentPkt struct {
	pkt diffPkt
	key datapath.Key
}

// newDiffHarness starts a bridge with cfg.nports memory ports and no
// LOCAL port and connects to its management socket.
func newDiffHarness(cfg diffConfig) (*diffHarness, error) {
	dir, err := os.MkdirTemp("", "govsdiff")
	if err != nil {
		return nil, err
	}
	h := &diffHarness{cfg: cfg, dir: dir, frames: make(chan diffFrame, 4096), pins: make(chan *ofp.PacketIn, 1024),
		replies: make(chan diffReply, 64), stop: make(chan struct{}), timeout: 10 * time.Second}
	sw := map[string]vport.Port{}
	var ports []PortConfig
	var nos []uint32
	for i := 1; i <= cfg.nports; i++ {
		a, b := vport.NewMemPair(fmt.Sprintf("p%d", i), fmt.Sprintf("h%d", i))
		sw[a.Info().Name] = a
		h.hosts = append(h.hosts, b)
		ports = append(ports, PortConfig{Name: a.Info().Name, OFPort: uint32(i)})
		nos = append(nos, uint32(i))
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	h.br, err = New(Config{
		Name: "br0", DatapathID: 0xd1ff, FailMode: FailSecure, Rundir: dir, Ports: ports, NoLocal: true,
		MaxIdle: time.Hour,
		OpenPort: func(name string) (vport.Port, error) {
			if p, ok := sw[name]; ok {
				return p, nil
			}
			return nil, fmt.Errorf("no memory port %s", name)
		},
		Log: logrus.NewEntry(log),
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	h.ref = newRefSwitch(nos)
	h.ref.invalidTTLToController = cfg.invalidTTL
	h.ref.missSendLen = cfg.missSendLen
	for i, host := range h.hosts {
		h.wg.Add(1)
		go h.readHost(uint32(i+1), host)
	}
	if err := h.connect(); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

func (h *diffHarness) readHost(port uint32, host *vport.MemPort) {
	defer h.wg.Done()
	for {
		select {
		case <-h.stop:
			return
		default:
		}
		if f, ok := host.RecvFrame(50 * time.Millisecond); ok {
			h.frames <- diffFrame{port: port, data: f}
		}
	}
}

func (h *diffHarness) connect() error {
	nc, err := net.Dial("unix", filepath.Join(h.dir, "br0.mgmt"))
	if err != nil {
		return err
	}
	h.nc = nc
	h.write(&ofp.Hello{Version: ofp.Version, Bitmaps: []uint32{1 << ofp.Version}})
	r := bufio.NewReader(nc)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := ofp.ReadMessage(r, nil)
	if err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if _, m, err := ofp.Decode(b); err != nil || m.Type() != ofp.TypeHello {
		return fmt.Errorf("first message %T %v, want hello", m, err)
	}
	nc.SetReadDeadline(time.Time{})
	h.wg.Add(1)
	go h.readConn(r)
	var flags uint16
	if h.cfg.invalidTTL {
		flags = 4 // OFPC_INVALID_TTL_TO_CONTROLLER
	}
	h.write(&ofp.SetConfig{Flags: flags, MissSendLen: h.ref.missSendLen})
	h.write(&ofp.SetAsync{AsyncConfig: ofp.AsyncConfig{PacketInMask: [2]uint32{0x7, 0x7}}})
	return h.barrier()
}

// readConn reads the connection: packet-ins go to pins, replies to
// replies, echo requests are answered.
func (h *diffHarness) readConn(r *bufio.Reader) {
	defer h.wg.Done()
	for {
		b, err := ofp.ReadMessage(r, nil)
		if err != nil {
			return
		}
		hd, m, err := ofp.Decode(b)
		if err != nil {
			continue
		}
		switch m := m.(type) {
		case *ofp.PacketIn:
			h.pins <- m
		case *ofp.EchoRequest:
			h.writeXid(hd.Xid, &ofp.EchoReply{Data: m.Data})
		case *ofp.BarrierReply, *ofp.ErrorMsg:
			h.replies <- diffReply{xid: hd.Xid, msg: m}
		}
	}
}

func (h *diffHarness) writeXid(xid uint32, m ofp.Message) error {
	b, err := ofp.Marshal(xid, m)
	if err != nil {
		return err
	}
	h.wmu.Lock()
	defer h.wmu.Unlock()
	_, err = h.nc.Write(b)
	return err
}

func (h *diffHarness) write(m ofp.Message) uint32 {
	h.xid++
	h.writeXid(h.xid, m)
	return h.xid
}

// barrier waits for the reply to a barrier; an error reply to anything
// sent before it is returned.
func (h *diffHarness) barrier() error {
	xid := h.write(&ofp.BarrierRequest{})
	var errs []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case r := <-h.replies:
			if e, ok := r.msg.(*ofp.ErrorMsg); ok {
				errs = append(errs, fmt.Sprintf("error type %d code %d (xid %d)", e.ErrType, e.Code, r.xid))
			}
			if r.xid == xid {
				if len(errs) > 0 {
					return errors.New(strings.Join(errs, "; "))
				}
				return nil
			}
		case <-timeout:
			return errors.New("no barrier reply in 10 s")
		}
	}
}

func (h *diffHarness) close() {
	if h.closed {
		return
	}
	h.closed = true
	close(h.stop)
	if h.nc != nil {
		h.nc.Close()
	}
	h.br.Close()
	for _, host := range h.hosts {
		host.Close()
	}
	h.wg.Wait()
	os.RemoveAll(h.dir)
}

// groupsSupported probes whether the switch accepts GROUP_MOD.
func (h *diffHarness) groupsSupported() bool {
	h.write(&ofp.GroupMod{Command: ofp.GroupAdd, GroupType: ofp.GroupTypeAll, GroupID: 0x7fff})
	if h.barrier() != nil {
		return false
	}
	h.write(&ofp.GroupMod{Command: ofp.GroupDelete, GroupID: 0x7fff})
	return h.barrier() == nil
}

// diffMismatch is a packet on which the switch and the reference differ.
type diffMismatch struct {
	event int // index in the event log
	what  string
}

// apply runs one event; a packet that disagrees with the reference
// returns a mismatch.
func (h *diffHarness) apply(ev diffEvent) (*diffMismatch, error) {
	h.log = append(h.log, ev)
	switch {
	case ev.fm != nil:
		h.write(ev.fm)
		if err := h.barrier(); err != nil {
			return nil, fmt.Errorf("%s: %w", formatDiffFlowMod(ev.fm), err)
		}
		h.ref.flowMod(ev.fm)
		h.recent = nil
		h.stats.flowMods++
	case ev.gm != nil:
		h.write(ev.gm)
		if err := h.barrier(); err != nil {
			return nil, fmt.Errorf("%s: %w", formatDiffGroupMod(ev.gm), err)
		}
		h.ref.groupMod(ev.gm)
		h.recent = nil
		h.stats.groupMods++
	default:
		if what := h.sendPacket(ev.pkt); what != "" {
			return &diffMismatch{event: len(h.log) - 1, what: what}, nil
		}
	}
	return nil, nil
}

// received is what the switch did with one packet.
type diffGot struct {
	frames []refFrame
	pins   []refPacketIn
}

func (g *diffGot) framesOn(port uint32) [][]byte {
	var out [][]byte
	for _, f := range g.frames {
		if f.port == port {
			out = append(out, f.data)
		}
	}
	return out
}

// pinEqual compares a received packet-in with a predicted one.
func pinEqual(got, want *refPacketIn) bool {
	tableOK := got.tableID == want.tableID || (want.noRule && diffIgnoreNoRuleTableID)
	return tableOK && got.reason == want.reason && got.cookie == want.cookie && got.totalLen == want.totalLen &&
		got.inPort == want.inPort && got.metadata == want.metadata && got.tunID == want.tunID &&
		bytes.Equal(got.data, want.data)
}

// compare reports whether got is exactly want (complete) or could still
// become it as more outputs arrive (prefix).
func compareOutcome(got *diffGot, want *refOutcome, ports []uint32) (complete, prefix bool) {
	complete, prefix = true, true
	for _, p := range ports {
		g, w := got.framesOn(p), want.framesOn(p)
		if len(g) > len(w) {
			return false, false
		}
		for i := range g {
			if !bytes.Equal(g[i], w[i]) {
				return false, false
			}
		}
		if len(g) < len(w) {
			complete = false
		}
	}
	for _, f := range got.frames {
		if !slices.Contains(ports, f.port) {
			return false, false
		}
	}
	if len(got.pins) > len(want.pins) {
		return false, false
	}
	for i := range got.pins {
		if !pinEqual(&got.pins[i], &want.pins[i]) {
			return false, false
		}
	}
	if len(got.pins) < len(want.pins) {
		complete = false
	}
	return complete, prefix
}

func toRefPacketIn(m *ofp.PacketIn) refPacketIn {
	p := refPacketIn{reason: m.Reason, tableID: m.TableID, cookie: m.Cookie, totalLen: m.TotalLen, data: m.Data}
	if o, ok := m.Match.Field(ofp.OXMInPort); ok {
		p.inPort = uint32(beUint(o.Value))
	}
	if o, ok := m.Match.Field(ofp.OXMMetadata); ok {
		p.metadata = beUint(o.Value)
	}
	if o, ok := m.Match.Field(ofp.OXMTunnelID); ok {
		p.tunID = beUint(o.Value)
	}
	return p
}

// sendPacket sends one packet, waits for what the reference predicts and
// compares. It returns a description of the difference, "" if none.
func (h *diffHarness) sendPacket(p *diffPkt) string {
	h.seq++
	seq := h.seq
	frame := p.build(seq)
	res := h.ref.process(p.InPort, frame)
	if res.ambiguous != "" {
		h.stats.skipped++
		return ""
	}
	var key datapath.Key
	var lay datapath.Layout
	datapath.Extract(frame, p.InPort, &key, &lay)
	v0 := h.br.version.Load()
	h.hosts[p.InPort-1].SendFrame(frame)
	h.sent++
	h.stats.packets++
	if p.fromMask {
		h.stats.maskPackets++
	}
	var got diffGot
	var matched *refOutcome
	deadline := time.After(h.timeout)
	check := func() (done bool, bad bool) {
		anyPrefix := false
		for i := range res.outcomes {
			complete, prefix := compareOutcome(&got, &res.outcomes[i], h.ref.ports)
			if complete {
				matched = &res.outcomes[i]
				return true, false
			}
			anyPrefix = anyPrefix || prefix
		}
		return false, !anyPrefix
	}
	done, bad := check()
	for !done && !bad {
		select {
		case f := <-h.frames:
			if what := h.attribute(f.data, seq); what != "" {
				return what + "\n" + h.dumpFlows()
			}
			got.frames = append(got.frames, refFrame{port: f.port, data: f.data})
		case m := <-h.pins:
			if s, ok := diffTagOf(m.Data); ok && s != seq {
				return fmt.Sprintf("an extra packet-in for packet #%d arrived later: %s", s, ptr(toRefPacketIn(m)).String())
			}
			got.pins = append(got.pins, toRefPacketIn(m))
		case <-deadline:
			bad = true
		}
		if !bad {
			done, bad = check()
		}
	}
	if !bad && len(res.outcomes) > 1 && h.couldGrow(&got, &res) {
		// A select group's outcomes can extend one another (a bucket
		// that outputs, one that does not): let the switch finish with
		// the packet and give it time to send what a longer outcome
		// would, then decide.
		h.syncPacket(&key, v0)
		t := time.After(200 * time.Millisecond)
	wait:
		for {
			select {
			case f := <-h.frames:
				if what := h.attribute(f.data, seq); what != "" {
					return what + "\n" + h.dumpFlows()
				}
				got.frames = append(got.frames, refFrame{port: f.port, data: f.data})
			case m := <-h.pins:
				got.pins = append(got.pins, toRefPacketIn(m))
			case <-t:
				break wait
			}
		}
		matched = nil
		for i := range res.outcomes {
			if complete, _ := compareOutcome(&got, &res.outcomes[i], h.ref.ports); complete {
				matched = &res.outcomes[i]
				break
			}
		}
		bad = matched == nil
	}
	if bad {
		// Collect a little more for the report.
		h.drain(&got, seq, 50*time.Millisecond)
		return h.describeMismatch(p, frame, &key, &res, &got)
	}
	h.ref.commit(matched)
	h.recent = append(h.recent, diffSentPkt{pkt: *p, key: key})
	h.syncPacket(&key, v0)
	return ""
}

// couldGrow reports whether what the switch sent so far is a proper
// prefix of one of the predicted outcomes.
func (h *diffHarness) couldGrow(got *diffGot, res *refResult) bool {
	for i := range res.outcomes {
		if complete, prefix := compareOutcome(got, &res.outcomes[i], h.ref.ports); prefix && !complete {
			return true
		}
	}
	return false
}

// attribute checks that a frame belongs to packet seq.
func (h *diffHarness) attribute(frame []byte, seq uint32) string {
	s, ok := diffTagOf(frame)
	if !ok {
		return fmt.Sprintf("a frame without a sequence tag: %x", frame)
	}
	if s != seq {
		return fmt.Sprintf("an extra frame for packet #%d arrived later (while waiting for #%d): %x", s, seq, frame)
	}
	return ""
}

func (h *diffHarness) drain(got *diffGot, seq uint32, d time.Duration) {
	t := time.After(d)
	for {
		select {
		case f := <-h.frames:
			got.frames = append(got.frames, refFrame{port: f.port, data: f.data})
		case m := <-h.pins:
			got.pins = append(got.pins, toRefPacketIn(m))
		case <-t:
			return
		}
	}
}

// syncPacket waits until the switch has finished with the last packet:
// the datapath has looked it up, and its upcall (if any) has installed a
// megaflow (or the translation changed the MAC table, which removes it).
// Otherwise the next packet or flow mod could overtake its translation.
func (h *diffHarness) syncPacket(key *datapath.Key, v0 uint64) {
	deadline := time.Now().Add(h.timeout)
	for time.Now().Before(deadline) {
		s := h.br.dp.Stats()
		if s.Hit+s.Missed >= h.sent && (h.br.dp.FlowLookup(key) != nil || h.br.version.Load() != v0) {
			// The upcall handler installs the megaflow (or bumps the
			// version) before it revalidates what its learning changed
			// and executes the packet, all under the bridge's read lock:
			// wait for it to let go.
			h.br.mu.Lock()
			h.br.mu.Unlock()
			return
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// quiet waits for d and fails on any output that arrives.
func (h *diffHarness) quiet(d time.Duration) string {
	t := time.After(d)
	for {
		select {
		case f := <-h.frames:
			return h.attribute(f.data, 0) + "\n" + h.dumpFlows()
		case m := <-h.pins:
			return "an unexpected packet-in arrived: " + ptr(toRefPacketIn(m)).String()
		case <-t:
			if s := h.br.dp.Stats(); s.Lost > 0 {
				return fmt.Sprintf("the datapath lost %d upcalls", s.Lost)
			}
			return ""
		}
	}
}

// dumpFlows describes the megaflows installed now.
func (h *diffHarness) dumpFlows() string {
	var b strings.Builder
	b.WriteString("  megaflows now installed:\n")
	h.br.dp.FlowDump(func(f *datapath.Flow) bool {
		fmt.Fprintf(&b, "    %s, actions:%s\n", datapath.FormatKeyMask(&f.Key, &f.Mask), datapath.FormatActions(f.Actions()))
		return true
	})
	return b.String()
}

func (h *diffHarness) describeMismatch(p *diffPkt, frame []byte, key *datapath.Key, res *refResult, got *diffGot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "packet: %s\n  %x\n", p, frame)
	if len(res.outcomes) == 1 {
		b.WriteString("  expected:\n" + res.outcomes[0].describe(1<<20))
	} else {
		fmt.Fprintf(&b, "  expected one of %d outcomes:\n", len(res.outcomes))
		for i := range res.outcomes {
			fmt.Fprintf(&b, "   outcome %d:\n%s", i+1, res.outcomes[i].describe(1<<20))
		}
	}
	b.WriteString("  got:\n")
	g := refOutcome{frames: got.frames, pins: got.pins}
	b.WriteString(g.describe(1 << 20))
	if len(res.outcomes) == 1 {
		if d := diffBytes(&res.outcomes[0], got); d != "" {
			b.WriteString("  first difference: " + d + "\n")
		}
	}
	b.WriteString("  reference trace:\n")
	for _, l := range res.outcomes[0].trace {
		b.WriteString("    " + l + "\n")
	}
	if f := h.br.dp.FlowLookup(key); f != nil {
		fmt.Fprintf(&b, "  megaflow now installed for it: %s, actions:%s\n", datapath.FormatKeyMask(&f.Key, &f.Mask),
			datapath.FormatActions(f.Actions()))
	} else {
		b.WriteString("  no megaflow installed for it now\n")
	}
	return b.String()
}

// diffBytes names the first differing byte of the first frame that
// differs, when the frames went to the same ports.
func diffBytes(want *refOutcome, got *diffGot) string {
	if len(want.frames) != len(got.frames) {
		return ""
	}
	ws := slices.Clone(want.frames)
	gs := slices.Clone(got.frames)
	byPort := func(a, b refFrame) int { return cmp.Compare(a.port, b.port) }
	slices.SortStableFunc(ws, byPort)
	slices.SortStableFunc(gs, byPort)
	for i := range ws {
		if ws[i].port != gs[i].port {
			return ""
		}
		w, g := ws[i].data, gs[i].data
		for j := 0; j < min(len(w), len(g)); j++ {
			if w[j] != g[j] {
				return fmt.Sprintf("port %d, byte %d: want %#02x, got %#02x", ws[i].port, j, w[j], g[j])
			}
		}
		if len(w) != len(g) {
			return fmt.Sprintf("port %d: want %d bytes, got %d", ws[i].port, len(w), len(g))
		}
	}
	return ""
}

// maskCheck dumps the megaflows and, for each, sends packets that fall
// into its masked key but differ from the packets that made it in some
// wildcarded bits. Such a packet hits the megaflow, so its outputs are the
// megaflow's; they must be what the reference predicts for it.
func (h *diffHarness) maskCheck(r *rand.Rand, events *[]diffEvent) {
	type mf struct {
		f    *datapath.Flow
		base []diffPkt
	}
	var flows []mf
	h.br.dp.FlowDump(func(f *datapath.Flow) bool {
		flows = append(flows, mf{f: f})
		return true
	})
	slices.SortFunc(flows, func(a, b mf) int {
		if c := slices.Compare(a.f.Mask[:], b.f.Mask[:]); c != 0 {
			return c
		}
		return slices.Compare(a.f.Key[:], b.f.Key[:])
	})
	g := &diffGen{r: r, nports: h.cfg.nports}
	for i := range flows {
		f := flows[i].f
		words := f.Mask.MaskWords()
		for _, s := range h.recent {
			if s.key.EqualMasked(&f.Mask, &f.Key, words) {
				flows[i].base = append(flows[i].base, s.pkt)
			}
		}
		if len(flows[i].base) == 0 {
			continue
		}
		h.stats.megaflows++
		found := 0
		for try := 0; try < 24 && found < 3; try++ {
			p := g.mutate(diffPickOf(g, flows[i].base))
			var key datapath.Key
			var lay datapath.Layout
			datapath.Extract(p.build(0), p.InPort, &key, &lay)
			if !key.EqualMasked(&f.Mask, &f.Key, words) || h.br.dp.FlowLookup(&key) != f {
				continue
			}
			found++
			p.fromMask = true
			*events = append(*events, diffEvent{pkt: &p})
		}
	}
}
