package ofproto

import (
	"encoding/binary"
	"slices"
	"sync"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofp"
)

// maxResubmits bounds the work of one translation (tables visited plus
// groups entered), as Open vSwitch bounds resubmits.
const maxResubmits = 4096

// xlate translates one packet's flow key through the OpenFlow pipeline into
// datapath actions and the megaflow mask that makes them valid for every
// packet with the same masked key. It is a pure function of the bridge's
// state (read under the bridge's read lock) except for MAC learning when
// learn is set.
type xlate struct {
	br *Bridge

	flow   datapath.Key // the packet as the pipeline sees it now
	wc     datapath.Key // key bits the result depends on
	inPort uint32
	learn  bool // update the MAC table (a real packet, not a trace)
	trace  *traceLog

	acts      datapath.Actions
	actionSet []ofp.Action // the action set, at most one per slot
	metadata  uint64

	// Accounting, credited to rules and tables when packets hit the
	// resulting megaflow.
	rules   []*Rule
	lookups []uint8 // tables looked up, in order
	matches []bool  // whether each lookup matched
	// lookupFlows[i] is the flow lookup i saw, when it differed from the
	// packet's key (nil otherwise): revalidation needs it.
	lookupFlows   []*lookupFlow
	key           datapath.Key // the packet's key, as translation started
	work          int
	macMoved      bool       // learning changed the MAC table
	normalLearned []macKey   // source addresses NORMAL learned from
	usedNormal    bool       // the NORMAL action ran: the result depends on the MAC table
	packetOut     bool       // translating a PACKET_OUT (OFPP_TABLE allowed)
	counters      []*counter // groups, buckets, meters passed

	// Freezing for recirculation (recirc.go): where the outermost action
	// list being translated comes from, what follows a rule's apply-actions,
	// the nesting depth of doActions (only the outermost list can freeze),
	// and whether the translation has frozen.
	where    freezeWhere
	after    *afterApply
	actDepth int
	frozen   bool

	// First storage of rules, lookups, matches and lookupFlows (one or two
	// tables make most translations: no allocation for them).
	rulesBuf       [2]*Rule
	lookupsBuf     [2]uint8
	matchesBuf     [2]bool
	lookupFlowsBuf [2]*lookupFlow
}

// xlateResult is what a translation produces.
type xlateResult struct {
	acts        datapath.Actions
	mask        datapath.Key
	rules       []*Rule
	lookups     []uint8
	matches     []bool
	lookupFlows []*lookupFlow
	counters    []*counter
	macs        []macKey
	normal      bool // NORMAL ran
}

// newXlate prepares the translation of a packet with key. learn lets the
// NORMAL action update the MAC table (a real packet, not a trace or a
// revalidation).
func (br *Bridge) newXlate(key *datapath.Key, learn bool, tr *traceLog) *xlate {
	x := new(xlate)
	br.initXlate(x, key, learn, tr)
	return x
}

// xlatePool recycles the translations of miss upcalls (handleMissLocked):
// an xlate is most of what a new flow allocates.
var xlatePool = sync.Pool{New: func() any { return new(xlate) }}

// initXlate is newXlate into x, which it resets entirely.
func (br *Bridge) initXlate(x *xlate, key *datapath.Key, learn bool, tr *traceLog) {
	*x = xlate{br: br, flow: *key, key: *key, inPort: uint32(datapath.FieldInPort.Get(key)), learn: learn, trace: tr}
	x.flow[datapath.WordMetadata] = 0
	x.key[datapath.WordMetadata] = 0
	x.rules, x.lookups = x.rulesBuf[:0], x.lookupsBuf[:0]
	x.matches, x.lookupFlows = x.matchesBuf[:0], x.lookupFlowsBuf[:0]
	// Megaflows always match the input port exactly (outputs compare
	// against it and per-port config applies), the recirculation id and,
	// as in Open vSwitch, the ethertype.
	datapath.FieldInPort.Exact(&x.wc)
	datapath.FieldRecircID.Exact(&x.wc)
	datapath.FieldEthType.Exact(&x.wc)
}

// run translates the packet through the pipeline from table 0 (or, in
// standalone fail-open mode, through NORMAL).
func (x *xlate) run() {
	if p := x.br.ports[x.inPort]; p != nil && p.config&ofp.PortConfigNoRecv != 0 {
		x.traceWarn("input port %d has no_recv: drop", x.inPort)
		return
	}
	if x.br.failOpen.Load() {
		x.tracef("fail-open: no controller connected, acting as a learning switch")
		x.normal()
		return
	}
	x.runTable(0)
}

func (x *xlate) result() xlateResult {
	mask := x.wc
	// Metadata is pipeline state derived from the packet, never part of
	// the datapath key.
	mask[datapath.WordMetadata] = 0
	return xlateResult{acts: x.acts, mask: mask, rules: x.rules, lookups: x.lookups, matches: x.matches,
		lookupFlows: x.lookupFlows, counters: x.counters, macs: x.normalLearned, normal: x.usedNormal}
}

// runTable looks the flow up in table id and runs the matching rule's
// instructions; at the end of the pipeline it executes the action set.
func (x *xlate) runTable(id uint8) {
	depth := x.actDepth
	x.actDepth = 0 // a pipeline run from a packet-out's OFPP_TABLE can freeze too
	defer func() { x.actDepth = depth }()
	defer x.tracePipeline()()
	for {
		x.work++
		if x.work > maxResubmits {
			x.tracef("pipeline too long: drop")
			return
		}
		t := x.br.table(id)
		x.flow[datapath.WordMetadata] = x.metadata
		r := t.cls.lookup(&x.flow, &x.wc)
		x.lookups = append(x.lookups, id)
		x.matches = append(x.matches, r != nil)
		var seen *lookupFlow
		if x.flow != x.key {
			seen = newLookupFlow(&x.flow, &x.key)
		}
		x.lookupFlows = append(x.lookupFlows, seen)
		x.traceLookup(id, r)
		if r == nil {
			// No table-miss entry: OpenFlow 1.3 drops the packet.
			return
		}
		x.rules = append(x.rules, r)
		next, ok := x.runInstructions(r)
		if !ok {
			return
		}
		if next < 0 {
			x.executeActionSet()
			return
		}
		id = uint8(next)
	}
}

// runInstructions runs a rule's instructions in the order the spec fixes
// (meter, apply, clear, write, metadata, goto). It returns the next table
// (-1: end of pipeline) and false if the packet was dropped (or the
// translation froze).
func (x *xlate) runInstructions(r *Rule) (int, bool) {
	a := afterApply{rule: r, next: -1}
	var apply []ofp.Action
	var meter uint32
	for _, in := range r.Instructions {
		switch in := in.(type) {
		case *ofp.InstrMeter:
			meter = in.MeterID
		case *ofp.InstrApplyActions:
			apply = in.Actions
		case *ofp.InstrClearActions:
			a.clearSet = true
		case *ofp.InstrWriteActions:
			a.write = in.Actions
		case *ofp.InstrWriteMetadata:
			a.metadata = in
		case *ofp.InstrGotoTable:
			a.next = int(in.TableID)
		}
	}
	if x.tracing() && len(r.Instructions) == 0 {
		x.trace.add(traceAction, "drop")
	}
	if meter != 0 {
		x.traceInstruction(&ofp.InstrMeter{MeterID: meter})
	}
	if meter != 0 && !x.meter(meter) {
		return 0, false
	}
	x.where, x.after = frozenInApply, &a
	if !x.doActions(apply, r, r.TableID) {
		return 0, false
	}
	return x.finishApply(&a), true
}

// finishApply runs the instructions that follow apply-actions and returns
// the next table (-1: end of pipeline).
func (x *xlate) finishApply(a *afterApply) int {
	if a.clearSet {
		x.traceInstruction(&ofp.InstrClearActions{})
		x.traceActionSet("was")
		x.actionSet = x.actionSet[:0]
	}
	for _, w := range a.write {
		x.writeAction(w)
	}
	if len(a.write) > 0 {
		x.traceInstruction(&ofp.InstrWriteActions{Actions: a.write})
		x.traceActionSet("is")
	}
	if md := a.metadata; md != nil {
		x.traceInstruction(md)
		x.metadata = x.metadata&^md.Mask | md.Metadata&md.Mask
	}
	if a.next >= 0 {
		x.traceInstruction(&ofp.InstrGotoTable{TableID: uint8(a.next)})
	}
	return a.next
}

// meter sends the packet through an OpenFlow meter.
func (x *xlate) meter(id uint32) bool {
	x.acts = append(x.acts, datapath.Action{Type: datapath.ActMeter, Port: id})
	return true
}

// actionSetRank is the order in which the action set executes (OpenFlow
// 1.3.5 section 5.10).
func actionSetRank(a ofp.Action) int {
	switch a.(type) {
	case *ofp.ActionCopyTTLIn:
		return 0
	case *ofp.ActionPopVLAN, *ofp.ActionPopMPLS, *ofp.ActionPopPBB:
		return 1
	case *ofp.ActionPushMPLS:
		return 2
	case *ofp.ActionPushPBB:
		return 3
	case *ofp.ActionPushVLAN:
		return 4
	case *ofp.ActionCopyTTLOut:
		return 5
	case *ofp.ActionDecMPLSTTL, *ofp.ActionDecNwTTL:
		return 6
	case *ofp.ActionSetField, *ofp.ActionSetMPLSTTL, *ofp.ActionSetNwTTL:
		return 7
	case *ofp.ActionSetQueue:
		return 8
	case *ofp.ActionGroup:
		return 9
	case *ofp.ActionOutput:
		return 10
	}
	return 11
}

// sameSlot reports whether a written action replaces an earlier one in
// the action set: one action per type, one set_field per field.
func sameSlot(a, b ofp.Action) bool {
	if a.ActionType() != b.ActionType() {
		return false
	}
	if sa, ok := a.(*ofp.ActionSetField); ok {
		sb := b.(*ofp.ActionSetField)
		return sa.Field.Class == sb.Field.Class && sa.Field.Field == sb.Field.Field
	}
	return true
}

func (x *xlate) writeAction(a ofp.Action) {
	for i, b := range x.actionSet {
		if sameSlot(a, b) {
			x.actionSet[i] = a
			return
		}
	}
	x.actionSet = append(x.actionSet, a)
}

// executeActionSet runs the action set at the end of the pipeline. With a
// group action, the output action is ignored.
func (x *xlate) executeActionSet() {
	if len(x.actionSet) == 0 {
		return
	}
	set := slices.Clone(x.actionSet)
	slices.SortStableFunc(set, func(a, b ofp.Action) int { return actionSetRank(a) - actionSetRank(b) })
	hasGroup := slices.ContainsFunc(set, func(a ofp.Action) bool { _, ok := a.(*ofp.ActionGroup); return ok })
	if hasGroup {
		set = slices.DeleteFunc(set, func(a ofp.Action) bool { _, ok := a.(*ofp.ActionOutput); return ok })
	}
	defer x.traceExecuteActionSet()()
	x.actionSet = x.actionSet[:0]
	x.where = frozenInActionSet
	x.doActions(set, nil, ofp.TableAll)
}

// doActions translates an action list. rule and tableID say where the list
// came from (for packet-ins). It returns false if the packet was dropped.
func (x *xlate) doActions(acts []ofp.Action, r *Rule, tableID uint8) bool {
	x.actDepth++
	defer func() { x.actDepth-- }()
	// freezeAfter freezes the translation after action i when the action
	// changed the packet in a way the key cannot follow and this is the
	// outermost action list.
	freezeAfter := func(i int) bool {
		return x.actDepth == 1 && x.freeze(acts[i+1:], r, tableID)
	}
	for i, a := range acts {
		if x.frozen {
			return false
		}
		x.traceAction(a)
		switch a := a.(type) {
		case *ofp.ActionOutput:
			x.output(a.Port, a.MaxLen, r, tableID)
		case *ofp.ActionSetField:
			x.setField(&a.Field)
		case *ofp.ActionPushVLAN:
			x.pushVLAN(a.EtherType)
		case *ofp.ActionPopVLAN:
			x.popVLAN()
		case *ofp.ActionSetNwTTL:
			x.setNwTTL(a.TTL)
		case *ofp.ActionDecNwTTL:
			if !x.decNwTTL(r, tableID) {
				return false
			}
		case *ofp.ActionPushMPLS:
			x.pushMPLS(a.EtherType)
		case *ofp.ActionPopMPLS:
			if x.popMPLS(a.EtherType) && freezeAfter(i) {
				return false
			}
		case *ofp.ActionPushPBB:
			x.pushPBB(a.EtherType)
		case *ofp.ActionPopPBB:
			if x.popPBB() && freezeAfter(i) {
				return false
			}
		case *ofp.ActionCopyTTLOut:
			if x.copyTTL(datapath.ActCopyTTLOut) && freezeAfter(i) {
				return false
			}
		case *ofp.ActionCopyTTLIn:
			if x.copyTTL(datapath.ActCopyTTLIn) && freezeAfter(i) {
				return false
			}
		case *ofp.ActionSetMPLSTTL:
			x.setMPLSTTL(a.TTL)
		case *ofp.ActionDecMPLSTTL:
			if !x.decMPLSTTL(r, tableID) {
				return false
			}
		case *ofp.ActionGroup:
			x.group(a.GroupID)
		case *ofp.ActionSetQueue:
			// One queue per port: nothing to do in the datapath.
		default:
			// Actions refused at FLOW_MOD time never get here; others
			// (copy_ttl_*, PBB) are not implemented by the datapath yet.
			x.tracef("action %T not implemented: drop", a)
			return false
		}
	}
	return !x.frozen
}

// output translates an output action.
func (x *xlate) output(port uint32, maxLen uint16, r *Rule, tableID uint8) {
	switch port {
	case ofp.PortInPort:
		x.outputPort(x.inPort, true)
	case ofp.PortTable:
		// Only valid in packet-out: run the pipeline from table 0.
		if x.packetOut {
			x.packetOut = false
			x.runTable(0)
		}
	case ofp.PortNormal:
		x.normal()
	case ofp.PortFlood, ofp.PortAll:
		x.flood(port == ofp.PortFlood)
	case ofp.PortController:
		reason := uint8(ofp.ReasonAction)
		if r != nil && r.tableMiss {
			reason = ofp.ReasonNoMatch
		}
		x.controller(reason, maxLen, r, tableID)
	case ofp.PortLocal:
		x.outputPort(ofp.PortLocal, false)
	case ofp.PortAny:
	default:
		x.outputPort(port, false)
	}
}

// outputPort outputs to a port unless it is the input port (which needs an
// explicit IN_PORT) or forwarding to it is disabled.
func (x *xlate) outputPort(port uint32, allowInPort bool) {
	if port == x.inPort && !allowInPort {
		x.traceWarn("skipping output to input port")
		return
	}
	p := x.br.ports[port]
	if p == nil {
		x.traceWarn("Nonexistent output port")
		return
	}
	if p.config&(ofp.PortConfigNoFwd|ofp.PortConfigDown) != 0 {
		x.tracef("port %d has no_fwd or is down, skipping output", port)
		return
	}
	x.acts = append(x.acts, datapath.Output(port))
}

// flood outputs to every port but the input port.
func (x *xlate) flood(flood bool) {
	for _, no := range x.br.portOrder {
		if no != x.inPort {
			x.outputPort(no, false)
		}
	}
}

// userdata kinds of the datapath's userspace action.
const (
	udController = 1
)

// packetInData is what a controller userspace action carries to the
// upcall handler, encoded in the action's Userdata.
type packetInData struct {
	reason   uint8
	tableID  uint8
	maxLen   uint16
	cookie   uint64
	metadata uint64
	tunID    uint64
}

const packetInDataLen = 29

func (d *packetInData) encode() []byte {
	b := make([]byte, packetInDataLen)
	b[0] = udController
	b[1] = d.reason
	b[2] = d.tableID
	binary.BigEndian.PutUint16(b[3:], d.maxLen)
	binary.BigEndian.PutUint64(b[5:], d.cookie)
	binary.BigEndian.PutUint64(b[13:], d.metadata)
	binary.BigEndian.PutUint64(b[21:], d.tunID)
	return b
}

func decodePacketInData(b []byte) (packetInData, bool) {
	if len(b) != packetInDataLen || b[0] != udController {
		return packetInData{}, false
	}
	return packetInData{
		reason:   b[1],
		tableID:  b[2],
		maxLen:   binary.BigEndian.Uint16(b[3:]),
		cookie:   binary.BigEndian.Uint64(b[5:]),
		metadata: binary.BigEndian.Uint64(b[13:]),
		tunID:    binary.BigEndian.Uint64(b[21:]),
	}, true
}

// controller sends the packet, as modified so far, to the controllers.
func (x *xlate) controller(reason uint8, maxLen uint16, r *Rule, tableID uint8) {
	if tableID == ofp.TableAll && len(x.lookups) > 0 {
		// From the action set or a group bucket: the table last looked
		// up (OpenFlow 1.3.5 section 7.4.1), as Open vSwitch reports.
		tableID = x.lookups[len(x.lookups)-1]
	}
	d := packetInData{reason: reason, tableID: tableID, maxLen: maxLen, metadata: x.metadata,
		tunID: datapath.FieldTunID.Get(&x.flow)}
	if r != nil {
		d.cookie = r.Cookie
	} else {
		d.cookie = ^uint64(0)
	}
	a := datapath.Action{Type: datapath.ActUserspace, Userdata: d.encode()}
	if maxLen != ofp.ControllerMaxLenNoBuffer {
		a.MaxLen = maxLen
		if maxLen == 0 {
			a.MaxLen = 1 // keep the upcall; the handler sends no data
		}
	}
	if x.tracing() {
		x.tracef("packet-in to the controllers (reason %s, max_len %d)",
			map[uint8]string{ofp.ReasonNoMatch: "no_match", ofp.ReasonAction: "action", ofp.ReasonInvalidTTL: "invalid_ttl"}[reason], maxLen)
	}
	x.acts = append(x.acts, a)
}

// setField translates a set_field action: the datapath writes the packet and
// the pipeline sees the new value.
func (x *xlate) setField(o *ofp.OXM) {
	f := ofp.OXMField(o.Field)
	if o.Class != ofp.OXMClassOpenFlowBasic || int(f) >= ofp.NumOXMFields {
		return
	}
	mp := &oxmMap[f]
	if ofp.OXMFields[f].Len == 16 {
		if len(o.Value) != 16 {
			return
		}
		hi, lo := binary.BigEndian.Uint64(o.Value), binary.BigEndian.Uint64(o.Value[8:])
		mp.dp.Set(&x.flow, hi)
		mp.lo.Set(&x.flow, lo)
		x.acts = append(x.acts, datapath.Action{Type: datapath.ActSetField, Field: mp.set,
			Value: [2]uint64{hi, lo}, Mask: [2]uint64{^uint64(0), ^uint64(0)}})
		return
	}
	v := beUint(o.Value) & oxmBits(f)
	m := oxmBits(f)
	switch f {
	case ofp.OXMTunnelID:
		// No tunnels: the value lives on in the pipeline only.
		mp.dp.Set(&x.flow, v)
		return
	case ofp.OXMVlanVID:
		datapath.FieldVlanTCI.Or(&x.wc, datapath.VlanCFI) // whether there is a tag decides
		if datapath.FieldVlanTCI.Get(&x.flow)&datapath.VlanCFI == 0 {
			x.tracef("set vlan_vid on untagged packet: ignored")
			return
		}
		v &= 0x0fff
		m = 0x0fff
	case ofp.OXMVlanPCP:
		datapath.FieldVlanTCI.Or(&x.wc, datapath.VlanCFI)
		if datapath.FieldVlanTCI.Get(&x.flow)&datapath.VlanCFI == 0 {
			return
		}
	case ofp.OXMArpOp:
		m = 0xffff
	}
	mp.dp.SetMasked(&x.flow, v<<mp.shift, m<<mp.shift)
	if mp.set != 0 {
		x.acts = append(x.acts, datapath.Action{Type: datapath.ActSetField, Field: mp.set,
			Value: [2]uint64{0, v << mp.shift}, Mask: [2]uint64{0, m << mp.shift}})
	}
}

func (x *xlate) pushVLAN(tpid uint16) {
	// The new tag copies VID and PCP from the outer tag if there is one
	// (OpenFlow 1.3.5 table 13).
	tci := datapath.FieldVlanTCI.Get(&x.flow)
	datapath.FieldVlanTCI.Exact(&x.wc)
	wire := tci &^ datapath.VlanCFI
	x.acts = append(x.acts, datapath.Action{Type: datapath.ActPushVLAN, Ethertype: tpid, Value: [2]uint64{0, wire}})
	datapath.FieldVlan2TCI.Set(&x.flow, tci)
	datapath.FieldVlanTCI.Set(&x.flow, wire|datapath.VlanCFI)
}

func (x *xlate) popVLAN() {
	// The inner tag, a part of the packet the megaflow may not match yet,
	// becomes the outer one that later lookups read: match it whole.
	datapath.FieldVlanTCI.Or(&x.wc, datapath.VlanCFI)
	if datapath.FieldVlanTCI.Get(&x.flow)&datapath.VlanCFI != 0 {
		datapath.FieldVlan2TCI.Exact(&x.wc)
	}
	x.acts = append(x.acts, datapath.Action{Type: datapath.ActPopVLAN})
	datapath.FieldVlanTCI.Set(&x.flow, datapath.FieldVlan2TCI.Get(&x.flow))
	datapath.FieldVlan2TCI.Set(&x.flow, 0)
}

func (x *xlate) isIP() bool {
	datapath.FieldEthType.Exact(&x.wc)
	t := datapath.FieldEthType.Get(&x.flow)
	return t == 0x0800 || t == 0x86dd
}

func (x *xlate) setNwTTL(ttl uint8) {
	if !x.isIP() {
		return
	}
	datapath.FieldNwTTL.Set(&x.flow, uint64(ttl))
	x.acts = append(x.acts, datapath.Action{Type: datapath.ActSetField, Field: datapath.SetIPTTL,
		Value: [2]uint64{0, uint64(ttl)}, Mask: [2]uint64{0, 0xff}})
}

// decNwTTL decrements the IP TTL; a packet whose TTL would reach zero goes
// to the controllers with reason INVALID_TTL if they asked (SET_CONFIG
// flag) and is dropped.
func (x *xlate) decNwTTL(r *Rule, tableID uint8) bool {
	if !x.isIP() {
		return true
	}
	datapath.FieldNwTTL.Exact(&x.wc)
	ttl := datapath.FieldNwTTL.Get(&x.flow)
	if ttl <= 1 {
		x.invalidTTL(r, tableID)
		return false
	}
	x.setNwTTL(uint8(ttl - 1))
	return true
}

func (x *xlate) invalidTTL(r *Rule, tableID uint8) {
	if x.tracing() {
		kind := map[uint64]string{0x0800: "IPv4", 0x86dd: "IPv6", 0x8847: "MPLS", 0x8848: "MPLS"}[datapath.FieldEthType.Get(&x.flow)]
		x.traceWarn("%s decrement TTL exception", kind)
	}
	if x.br.invalidTTLToController() {
		// The whole packet: each connection gets its miss_send_len of it
		// (handleUserspace).
		x.controller(ofp.ReasonInvalidTTL, ofp.ControllerMaxLenNoBuffer, r, tableID)
	}
}

func (x *xlate) isMPLS() bool {
	datapath.FieldEthType.Exact(&x.wc)
	t := datapath.FieldEthType.Get(&x.flow)
	return t == 0x8847 || t == 0x8848
}

func (x *xlate) setMPLSTTL(ttl uint8) {
	if !x.isMPLS() {
		return
	}
	datapath.FieldMPLSLSE.SetMasked(&x.flow, uint64(ttl), 0xff)
	x.acts = append(x.acts, datapath.Action{Type: datapath.ActSetField, Field: datapath.SetMPLSLSE,
		Value: [2]uint64{0, uint64(ttl)}, Mask: [2]uint64{0, 0xff}})
}

func (x *xlate) decMPLSTTL(r *Rule, tableID uint8) bool {
	if !x.isMPLS() {
		return true
	}
	datapath.FieldMPLSLSE.Or(&x.wc, 0xff)
	ttl := datapath.FieldMPLSLSE.Get(&x.flow) & 0xff
	if ttl <= 1 {
		x.invalidTTL(r, tableID)
		return false
	}
	x.setMPLSTTL(uint8(ttl - 1))
	return true
}

// pushMPLS pushes a label stack entry (OpenFlow 1.3.5 table 13): onto an
// existing stack, a copy of the top entry (label, TC, TTL) that is not the
// bottom of the stack; onto a packet without one, label 0, TC 0, the IP TTL
// (0 for non-IP packets) and bottom of stack.
func (x *xlate) pushMPLS(ethertype uint16) {
	var lse uint64
	if x.isMPLS() {
		datapath.FieldMPLSLSE.Exact(&x.wc)
		lse = datapath.FieldMPLSLSE.Get(&x.flow) &^ 0x100
	} else {
		lse = 0x100
		if x.isIP() {
			datapath.FieldNwTTL.Exact(&x.wc)
			lse |= datapath.FieldNwTTL.Get(&x.flow)
		}
	}
	x.acts = append(x.acts, datapath.Action{Type: datapath.ActPushMPLS, Ethertype: ethertype, Value: [2]uint64{0, lse}})
	datapath.FieldMPLSLSE.Set(&x.flow, lse)
	datapath.FieldEthType.Set(&x.flow, uint64(ethertype))
	x.clearFrom(datapath.WordNw)
}

// popMPLS pops the top label stack entry. What is underneath was never
// parsed, so the caller recirculates if the pipeline goes on. It reports
// whether there was a label to pop.
func (x *xlate) popMPLS(ethertype uint16) bool {
	if !x.isMPLS() {
		return false
	}
	x.acts = append(x.acts, datapath.Action{Type: datapath.ActPopMPLS, Ethertype: ethertype})
	datapath.FieldMPLSLSE.Set(&x.flow, 0)
	datapath.FieldEthType.Set(&x.flow, uint64(ethertype))
	return true
}

// pushPBB encapsulates the frame in a backbone (802.1ah) header: the
// backbone MAC addresses are copied from the frame, the I-TAG is all zero
// (I-SID 0), and what was the frame becomes the payload the key no longer
// describes.
func (x *xlate) pushPBB(ethertype uint16) {
	x.acts = append(x.acts, datapath.Action{Type: datapath.ActPushPBB, Ethertype: ethertype})
	datapath.FieldEthType.Set(&x.flow, uint64(ethertype))
	datapath.FieldVlanTCI.Set(&x.flow, 0)
	datapath.FieldVlan2TCI.Set(&x.flow, 0)
	datapath.FieldMPLSLSE.Set(&x.flow, 0)
	datapath.FieldPBBISID.Set(&x.flow, 0)
	datapath.FieldPBBUCA.Set(&x.flow, 0)
	x.clearFrom(datapath.WordNw)
}

// popPBB removes the backbone header; it reports whether there was one.
func (x *xlate) popPBB() bool {
	if datapath.FieldEthType.Get(&x.flow) != 0x88e7 {
		return false
	}
	x.acts = append(x.acts, datapath.Action{Type: datapath.ActPopPBB})
	return true
}

// copyTTL emits copy_ttl_out/in for MPLS packets (the only ones with two
// TTLs the switch knows); it reports whether it emitted anything.
func (x *xlate) copyTTL(t datapath.ActionType) bool {
	if !x.isMPLS() {
		return false
	}
	x.acts = append(x.acts, datapath.Action{Type: t})
	return true
}

// clearFrom zeroes the flow's words from w on: headers that are now
// payload.
func (x *xlate) clearFrom(w int) {
	for i := w; i < datapath.KeyWords; i++ {
		x.flow[i] = 0
	}
}

// group translates a group action. Groups arrive with the group table.
func (x *xlate) group(id uint32) {
	x.br.xlateGroup(x, id)
}

// count records that the packet passed c (credited per megaflow packet).
func (x *xlate) count(c *counter) { x.counters = append(x.counters, c) }

// tracef records a step when the translation is traced.
func (x *xlate) tracef(format string, args ...any) {
	if x.trace != nil {
		x.trace.addf(format, args...)
	}
}
