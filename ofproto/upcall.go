package ofproto

import (
	"cmp"
	"sync"
	"time"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofp"
	"github.com/govs/govs/vport"
)

// xout is what the bridge remembers of the translation behind a megaflow
// (Flow.Data): the rules and tables to credit with the megaflow's packets,
// and what revalidation needs to know whether a change may affect it. The
// translation fields are replaced by revalidation under Bridge.statsMu,
// which every reader of them holds.
type xout struct {
	rules       []*Rule
	lookups     []uint8
	matches     []bool
	lookupFlows []*lookupFlow // the flow each lookup saw, nil when it was the packet's key
	macs        []macKey      // source addresses learned by NORMAL, kept alive by hits
	normal      bool          // NORMAL ran: revalidate when the MAC table changes
	counters    []*counter    // groups, buckets, meters the translation passed
	inPort      uint32

	mu               sync.Mutex // guards the fields below; taken under Bridge.statsMu
	pushedP, pushedB uint64     // megaflow counters already credited

	// First storage of the translation's slices (see newXout).
	rulesBuf       [2]*Rule
	lookupsBuf     [2]uint8
	matchesBuf     [2]bool
	lookupFlowsBuf [2]*lookupFlow
}

// newXout returns the xout of a megaflow translated as res: the rules,
// lookups, matches and lookup flows are copied into the xout's own
// storage when they fit (one allocation for most translations, and the
// translation's memory is not kept alive by the megaflow).
func newXout(res *xlateResult, inPort uint32) *xout {
	xo := &xout{macs: res.macs, normal: res.normal, counters: res.counters, inPort: inPort}
	xo.rules = append(xo.rulesBuf[:0], res.rules...)
	xo.lookups = append(xo.lookupsBuf[:0], res.lookups...)
	xo.matches = append(xo.matchesBuf[:0], res.matches...)
	xo.lookupFlows = append(xo.lookupFlowsBuf[:0], res.lookupFlows...)
	return xo
}

// HandleUpcall is the datapath's upcall hook (datapath.UpcallHandler).
func (br *Bridge) HandleUpcall(u *datapath.Upcall) {
	switch u.Type {
	case datapath.UpcallMiss:
		br.handleMiss(u)
	case datapath.UpcallAction:
		br.handleUserspace(u)
	}
}

// HandleUpcalls is the datapath's batch upcall hook
// (datapath.BatchUpcallHandler): the upcalls waiting in one handler's
// queue, in order. Consecutive misses are translated and installed under
// one hold of the bridge's read lock, and their packets sent together
// (one send per output port) before it is released, so that, as with
// HandleUpcall, no packet goes out on a decision that a later FLOW_MOD
// (and the BARRIER_REPLY after it) made stale.
func (br *Bridge) HandleUpcalls(us []*datapath.Upcall) {
	locked := false
	for _, u := range us {
		switch u.Type {
		case datapath.UpcallMiss:
			if !locked {
				br.mu.RLock()
				locked = true
			}
			br.handleMissLocked(u)
		case datapath.UpcallAction:
			if locked {
				br.dp.FlushUpcalls(us)
				br.mu.RUnlock()
				locked = false
			}
			br.handleUserspace(u)
		}
	}
	if locked {
		br.dp.FlushUpcalls(us)
		br.mu.RUnlock()
	}
}

// handleMiss translates a packet that matched no megaflow, installs the
// megaflow and executes the packet.
func (br *Bridge) handleMiss(u *datapath.Upcall) {
	br.mu.RLock()
	defer br.mu.RUnlock()
	br.handleMissLocked(u)
}

// handleMissLocked is handleMiss with br.mu held for reading. In a batch
// (HandleUpcalls) the packets wait for the batch's FlushUpcalls.
func (br *Bridge) handleMissLocked(u *datapath.Upcall) {
	covUpcallMiss.inc()
	v := br.version.Load()
	// x goes back to xlatePool once the packets are executed: nothing
	// keeps it (the megaflow's xout copies what it needs, FlowPut copies
	// the actions, recirculation state is copied when frozen).
	x := xlatePool.Get().(*xlate)
	defer xlatePool.Put(x)
	br.initXlate(x, &u.Key, true, nil)
	if id := uint32(datapath.FieldRecircID.Get(&u.Key)); id != 0 {
		st := br.recirc.get(id)
		if st == nil {
			covUpcallRecircGone.inc()
			return // the state is gone with a table change: drop
		}
		x.resume(st)
	} else {
		x.run()
	}
	res := x.result()
	now := time.Now()
	xo := newXout(&res, u.InPort)
	br.creditTranslation(xo, 1, uint64(u.TotalLen), now)
	if br.atFlowLimit() {
		covUpcallFlowLimit.inc()
	} else if f, err := br.dp.FlowPut(&u.Key, &res.mask, res.acts, xo); err == nil && br.version.Load() != v {
		// Something changed while we translated (another handler's
		// learning revalidated): the megaflow may be stale. Let the next
		// packet translate again.
		covUpcallRaced.inc()
		br.dp.FlowDel(f)
	}
	if x.macMoved {
		// Our learning may change what other megaflows that used NORMAL
		// decide (a flood becomes a unicast, a host moved).
		br.revalidateLocked(&changeSet{normal: true})
	}
	// The upcall's packet and the packets of the same flow queued behind
	// it, on this handler's executor (see datapath.ExecuteUpcall).
	br.dp.ExecuteUpcall(u, res.acts)
}

// handleUserspace handles a datapath userspace action: a packet-in.
func (br *Bridge) handleUserspace(u *datapath.Upcall) {
	covUpcallAction.inc()
	d, ok := decodePacketInData(u.Userdata)
	if !ok {
		return
	}
	br.mu.RLock()
	p := br.ports[u.InPort]
	noPacketIn := p != nil && p.config&ofp.PortConfigNoPacketIn != 0
	br.mu.RUnlock()
	if noPacketIn {
		return
	}
	data := u.Packet.Data()
	if d.maxLen != ofp.ControllerMaxLenNoBuffer && int(d.maxLen) < len(data) {
		data = data[:d.maxLen]
	}
	pin := &ofp.PacketIn{
		BufferID: ofp.NoBuffer,
		TotalLen: uint16(min(u.TotalLen, 0xffff)),
		Reason:   d.reason,
		TableID:  d.tableID,
		Cookie:   d.cookie,
		Match:    packetInMatch(u.InPort, d.metadata, d.tunID),
		Data:     data,
	}
	if d.reason == ofp.ReasonInvalidTTL {
		br.conns.packetInMissLen(pin) // no output action: miss_send_len applies
		return
	}
	br.conns.packetIn(pin)
}

// creditTranslation adds packets to the rules and tables of a translation.
func (br *Bridge) creditTranslation(xo *xout, packets, bytes uint64, now time.Time) {
	ns := now.UnixNano()
	for _, r := range xo.rules {
		r.credit(packets, bytes, ns)
	}
	for i, id := range xo.lookups {
		t := br.table(id)
		t.lookups.Add(packets)
		if xo.matches[i] {
			t.matches.Add(packets)
		}
	}
	for _, c := range xo.counters {
		c.add(packets, bytes)
	}
	for _, m := range xo.macs {
		br.macs.refresh(m.vlan, m.mac, xo.inPort, now)
	}
}

// pushStats credits every megaflow's new packets to the rules and tables
// that produced it, and removes megaflows idle for longer than MaxIdle
// (and, over the flow limit, more: see flowlimit.go). It runs every second
// (evict set: the revalidator pass, which also adapts the flow limit) and
// before every statistics reply.
func (br *Bridge) pushStats() { br.pushStatsEvict(false) }

func (br *Bridge) pushStatsEvict(evict bool) {
	br.statsMu.Lock()
	defer br.statsMu.Unlock()
	now := time.Now()
	n, limit := br.dp.FlowCount(), int(br.flowLimit.Load())
	maxIdle := br.cfg.MaxIdle
	killAll := evict && n > 2*limit
	if evict && n > limit {
		maxIdle = min(maxIdle, flowLimitIdle)
	}
	var idle []*datapath.Flow
	dumped := 0
	br.dp.FlowDump(func(f *datapath.Flow) bool {
		dumped++
		xo, ok := f.Data.(*xout)
		if !ok {
			return true
		}
		s := f.Stats()
		br.pushFlowStats(xo, s, now)
		last := s.Used
		if last.IsZero() {
			last = f.Created()
		}
		if killAll || now.Sub(last) > maxIdle {
			idle = append(idle, f)
		}
		return true
	})
	for _, f := range idle {
		if br.dp.FlowDel(f) {
			// Packets may have hit it between the dump and the delete.
			br.pushFlowStats(f.Data.(*xout), f.Stats(), now)
			if s := f.Stats(); !killAll && now.Sub(cmp.Or(s.Used, f.Created())) > br.cfg.MaxIdle {
				covDelIdle.inc()
			} else {
				covDelFlowLimit.inc()
			}
		}
	}
	if evict {
		br.adaptFlowLimit(dumped, time.Since(now))
	}
}

func (br *Bridge) pushFlowStats(xo *xout, s datapath.FlowStats, now time.Time) {
	xo.mu.Lock()
	dp, db := s.Packets-xo.pushedP, s.Bytes-xo.pushedB
	xo.pushedP, xo.pushedB = s.Packets, s.Bytes
	xo.mu.Unlock()
	if dp != 0 {
		used := s.Used
		if used.IsZero() {
			used = now
		}
		br.creditTranslation(xo, dp, db, used)
	}
}

// executePacketOut runs a PACKET_OUT's actions on its packet.
func (br *Bridge) executePacketOut(po *ofp.PacketOut) {
	var key datapath.Key
	var l datapath.Layout
	datapath.Extract(po.Data, po.InPort, &key, &l)
	br.mu.RLock()
	x := br.newXlate(&key, true, nil)
	x.packetOut = true
	x.where = frozenInPacketOut
	x.doActions(po.Actions, nil, ofp.TableAll)
	res := x.result()
	br.mu.RUnlock()
	br.dp.Execute(vport.NewPacketFrom(po.Data), po.InPort, res.acts)
}
