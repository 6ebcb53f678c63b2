package ofproto

import (
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

const knownFlowModFlags = ofp.FlagSendFlowRem | ofp.FlagCheckOverlap | ofp.FlagResetCounts |
	ofp.FlagNoPktCounts | ofp.FlagNoBytCounts

// FlowMod applies a FLOW_MOD. It returns an *ofp.Error for anything the
// spec says to refuse.
func (br *Bridge) FlowMod(fm *ofp.FlowMod) error {
	br.mu.Lock()
	defer br.mu.Unlock()
	return br.flowModLocked(fm, nil)
}

// flowModLocked applies a FLOW_MOD with mu held for writing. Removed rules
// are reported to the connections (FLOW_REMOVED) where asked.
func (br *Bridge) flowModLocked(fm *ofp.FlowMod, from *conn) error {
	if fm.Command > ofp.FlowDeleteStrict {
		return ofp.Errorf(ofp.ETFlowModFailed, ofp.FMFCBadCommand, "command %d", fm.Command)
	}
	if fm.Flags&^knownFlowModFlags != 0 {
		return ofp.Errorf(ofp.ETFlowModFailed, ofp.FMFCBadFlags, "flags %#x", fm.Flags)
	}
	isDelete := fm.Command == ofp.FlowDelete || fm.Command == ofp.FlowDeleteStrict
	if fm.TableID == ofp.TableAll {
		if !isDelete {
			return ofp.Errorf(ofp.ETFlowModFailed, ofp.FMFCBadTableID, "table 255 is only valid for delete")
		}
	} else if int(fm.TableID) >= NumTables {
		return ofp.Errorf(ofp.ETFlowModFailed, ofp.FMFCBadTableID, "table %d", fm.TableID)
	}
	mf, oerr := convertMatch(&fm.Match)
	if oerr != nil {
		return oerr
	}
	if !isDelete {
		if err := br.validateInstructions(fm.Instructions, fm.TableID, mf); err != nil {
			return err
		}
	}
	var err error
	switch fm.Command {
	case ofp.FlowAdd:
		err = br.addFlowLocked(fm, mf)
	case ofp.FlowModify, ofp.FlowModifyStrict:
		br.modifyFlowsLocked(fm, mf, fm.Command == ofp.FlowModifyStrict)
	case ofp.FlowDelete, ofp.FlowDeleteStrict:
		br.deleteFlowsLocked(fm, mf, fm.Command == ofp.FlowDeleteStrict, ofp.RemovedDelete)
	}
	if err != nil {
		return err
	}
	if fm.BufferID != ofp.NoBuffer && !isDelete {
		// We never buffer packets, so no buffer id is valid.
		return ofp.Errorf(ofp.ETBadRequest, ofp.BRCBufferUnknown, "buffer %#x", fm.BufferID)
	}
	return nil
}

func (br *Bridge) addFlowLocked(fm *ofp.FlowMod, mf *matchFields) error {
	t := br.tables[fm.TableID]
	old := t.cls.find(&mf.key, &mf.mask, fm.Priority)
	if fm.Flags&ofp.FlagCheckOverlap != 0 && old == nil && br.overlapsLocked(t, mf, fm.Priority) {
		return ofp.Errorf(ofp.ETFlowModFailed, ofp.FMFCOverlap, "overlaps an existing flow")
	}
	if old == nil && uint32(t.cls.n) >= t.maxEntries {
		return ofp.Errorf(ofp.ETFlowModFailed, ofp.FMFCTableFull, "table %d is full (%d flows)", t.id, t.maxEntries)
	}
	now := time.Now()
	r := &Rule{
		TableID:      fm.TableID,
		Priority:     fm.Priority,
		Cookie:       fm.Cookie,
		Match:        fm.Match,
		Instructions: fm.Instructions,
		IdleTimeout:  fm.IdleTimeout,
		HardTimeout:  fm.HardTimeout,
		Flags:        fm.Flags,
		Created:      now,
		key:          mf.key,
		mask:         mf.mask,
		tableMiss:    fm.Priority == 0 && mf.isTableMiss(),
	}
	r.used.Store(now.UnixNano())
	var cs changeSet
	cs.addRule(r)
	if old != nil {
		// An identical entry is replaced; its counters carry over unless
		// the new one asks for a reset (OpenFlow 1.3.5 section 6.4).
		if fm.Flags&ofp.FlagResetCounts == 0 {
			r.packets.Store(old.packets.Load())
			r.bytes.Store(old.bytes.Load())
		}
		t.cls.remove(old)
		old.removed.Store(true)
		cs.changedRule(old)
	}
	t.cls.insert(r)
	br.onUndo(func() {
		t.cls.remove(r)
		r.removed.Store(true)
		if old != nil {
			t.cls.insert(old)
			old.removed.Store(false)
		}
	})
	br.changedLocked(&cs)
	return nil
}

// overlapsLocked reports whether a rule of the same priority in t could
// match a packet that mf matches too.
func (br *Bridge) overlapsLocked(t *table, mf *matchFields, priority uint16) bool {
	found := false
	t.cls.forEach(func(r *Rule) bool {
		if r.Priority != priority {
			return true
		}
		// Two matches overlap unless some bit both care about differs.
		for i := range r.key {
			common := r.mask[i] & mf.mask[i]
			if r.key[i]&common != mf.key[i]&common {
				return true
			}
		}
		found = true
		return false
	})
	return found
}

// selectRulesLocked returns the rules a modify/delete/stats request
// selects: in table tableID (or all), matching mf loosely (the rule is at
// least as specific) or strictly (same match and priority), with the cookie
// and out_port/out_group filters.
func (br *Bridge) selectRulesLocked(tableID uint8, mf *matchFields, strict bool, priority uint16,
	cookie, cookieMask uint64, outPort, outGroup uint32) []*Rule {
	var out []*Rule
	visit := func(t *table) {
		if strict {
			if r := t.cls.find(&mf.key, &mf.mask, priority); r != nil &&
				r.Cookie&cookieMask == cookie&cookieMask && r.outputsTo(outPort, outGroup) {
				out = append(out, r)
			}
			return
		}
		t.cls.forEach(func(r *Rule) bool {
			if r.Cookie&cookieMask != cookie&cookieMask || !mf.mask.Subset(&r.mask) {
				return true
			}
			for i := range r.key {
				if r.key[i]&mf.mask[i] != mf.key[i] {
					return true
				}
			}
			if r.outputsTo(outPort, outGroup) {
				out = append(out, r)
			}
			return true
		})
	}
	if tableID == ofp.TableAll {
		for _, t := range br.tables {
			visit(t)
		}
	} else if int(tableID) < NumTables {
		visit(br.tables[tableID])
	}
	return out
}

func (br *Bridge) modifyFlowsLocked(fm *ofp.FlowMod, mf *matchFields, strict bool) {
	rules := br.selectRulesLocked(fm.TableID, mf, strict, fm.Priority, fm.Cookie, fm.CookieMask, ofp.PortAny, ofp.GroupAny)
	if len(rules) == 0 {
		return // OpenFlow 1.3: a modify that matches nothing does nothing
	}
	br.pushStats()
	var cs changeSet
	for _, r := range rules {
		ins, p, b := r.Instructions, r.packets.Load(), r.bytes.Load()
		br.onUndo(func() {
			r.Instructions = ins
			r.packets.Store(p)
			r.bytes.Store(b)
		})
		r.Instructions = fm.Instructions
		if fm.Flags&ofp.FlagResetCounts != 0 {
			r.packets.Store(0)
			r.bytes.Store(0)
		}
		cs.changedRule(r)
	}
	br.changedLocked(&cs)
}

func (br *Bridge) deleteFlowsLocked(fm *ofp.FlowMod, mf *matchFields, strict bool, reason uint8) {
	rules := br.selectRulesLocked(fm.TableID, mf, strict, fm.Priority, fm.Cookie, fm.CookieMask, fm.OutPort, fm.OutGroup)
	br.removeRulesLocked(rules, reason)
}

// removeRulesLocked takes rules out of their tables, invalidates the
// megaflows and sends FLOW_REMOVED for those that asked for it.
func (br *Bridge) removeRulesLocked(rules []*Rule, reason uint8) {
	if len(rules) == 0 {
		return
	}
	br.pushStats() // exact counts in FLOW_REMOVED
	var cs changeSet
	for _, r := range rules {
		br.tables[r.TableID].cls.remove(r)
		r.removed.Store(true)
		cs.changedRule(r)
		br.onUndo(func() {
			br.tables[r.TableID].cls.insert(r)
			r.removed.Store(false)
		})
	}
	br.changedLocked(&cs)
	now := time.Now()
	for _, r := range rules {
		if r.Flags&ofp.FlagSendFlowRem == 0 {
			continue
		}
		sec, nsec := r.duration(now)
		p, b := r.stats()
		fr := &ofp.FlowRemoved{
			Cookie:       r.Cookie,
			Priority:     r.Priority,
			Reason:       reason,
			TableID:      r.TableID,
			DurationSec:  sec,
			DurationNsec: nsec,
			IdleTimeout:  r.IdleTimeout,
			HardTimeout:  r.HardTimeout,
			PacketCount:  p,
			ByteCount:    b,
			Match:        r.Match,
		}
		br.afterCommit(func() { br.conns.flowRemoved(fr) })
	}
}

// expireRules removes rules whose idle or hard timeout has passed.
func (br *Bridge) expireRules(now time.Time) {
	type expired struct {
		r      *Rule
		reason uint8
	}
	var list []expired
	br.mu.RLock()
	for _, t := range br.tables {
		if t.cls.n == 0 {
			continue
		}
		t.cls.forEach(func(r *Rule) bool {
			if r.HardTimeout != 0 && now.Sub(r.Created) >= time.Duration(r.HardTimeout)*time.Second {
				list = append(list, expired{r, ofp.RemovedHardTimeout})
			} else if r.IdleTimeout != 0 && now.Sub(time.Unix(0, r.used.Load())) >= time.Duration(r.IdleTimeout)*time.Second {
				list = append(list, expired{r, ofp.RemovedIdleTimeout})
			}
			return true
		})
	}
	br.mu.RUnlock()
	if len(list) == 0 {
		return
	}
	br.mu.Lock()
	defer br.mu.Unlock()
	for _, e := range list {
		if e.r.removed.Load() {
			continue
		}
		br.removeRulesLocked([]*Rule{e.r}, e.reason)
	}
}

// validateInstructions checks a flow's instructions against the spec and
// what the switch supports.
func (br *Bridge) validateInstructions(ins []ofp.Instruction, tableID uint8, mf *matchFields) error {
	seen := map[ofp.InstructionType]bool{}
	for _, in := range ins {
		t := in.InstructionType()
		if seen[t] {
			return ofp.Errorf(ofp.ETBadInstruction, ofp.BICUnsupInst, "instruction %d twice", t)
		}
		seen[t] = true
		switch in := in.(type) {
		case *ofp.InstrGotoTable:
			if in.TableID <= tableID || int(in.TableID) >= NumTables {
				return ofp.Errorf(ofp.ETBadInstruction, ofp.BICBadTableID, "goto_table:%d from table %d", in.TableID, tableID)
			}
		case *ofp.InstrApplyActions:
			if err := br.validateActions(in.Actions, mf, false); err != nil {
				return err
			}
		case *ofp.InstrWriteActions:
			if err := br.validateActions(in.Actions, mf, false); err != nil {
				return err
			}
		case *ofp.InstrMeter:
			if br.meters[in.MeterID] == nil {
				return ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCUnknownMeter, "meter %d", in.MeterID)
			}
		case *ofp.InstrClearActions, *ofp.InstrWriteMetadata:
		case *ofp.InstrExperimenter:
			return ofp.Errorf(ofp.ETBadInstruction, ofp.BICBadExperimenter, "experimenter %#x", in.Experimenter)
		default:
			return ofp.Errorf(ofp.ETBadInstruction, ofp.BICUnknownInst, "instruction %d", t)
		}
	}
	return nil
}

// validOutPort reports whether port may be the target of an output action.
func validOutPort(port uint32, packetOut bool) bool {
	switch port {
	case ofp.PortInPort, ofp.PortNormal, ofp.PortFlood, ofp.PortAll, ofp.PortController, ofp.PortLocal:
		return true
	case ofp.PortTable:
		return packetOut
	}
	return port != 0 && port < ofp.PortMax
}

// validateActions checks an action list. mf is the flow's match (for
// set_field prerequisites), nil for packet-out.
func (br *Bridge) validateActions(acts []ofp.Action, mf *matchFields, packetOut bool) error {
	// Track what the packet is known to be as the actions change it, to
	// check set_field prerequisites.
	var eff matchFields
	if mf != nil {
		eff = *mf
	}
	for _, a := range acts {
		switch a := a.(type) {
		case *ofp.ActionOutput:
			if !validOutPort(a.Port, packetOut) {
				return ofp.Errorf(ofp.ETBadAction, ofp.BACBadOutPort, "output:%s", portName(a.Port))
			}
		case *ofp.ActionGroup:
			if br.groups[a.GroupID] == nil {
				return ofp.Errorf(ofp.ETBadAction, ofp.BACBadOutGroup, "group %d does not exist", a.GroupID)
			}
		case *ofp.ActionPushVLAN:
			if a.EtherType != 0x8100 && a.EtherType != 0x88a8 {
				return ofp.Errorf(ofp.ETBadAction, ofp.BACBadArgument, "push_vlan ethertype %#x", a.EtherType)
			}
		case *ofp.ActionPushMPLS:
			if a.EtherType != 0x8847 && a.EtherType != 0x8848 {
				return ofp.Errorf(ofp.ETBadAction, ofp.BACBadArgument, "push_mpls ethertype %#x", a.EtherType)
			}
			eff.setExact(ofp.OXMEthType, uint64(a.EtherType))
		case *ofp.ActionPopMPLS:
			eff.setExact(ofp.OXMEthType, uint64(a.EtherType))
		case *ofp.ActionPushPBB:
			if a.EtherType != 0x88e7 {
				return ofp.Errorf(ofp.ETBadAction, ofp.BACBadArgument, "push_pbb ethertype %#x", a.EtherType)
			}
			eff.setExact(ofp.OXMEthType, uint64(a.EtherType))
		case *ofp.ActionPopPBB, *ofp.ActionCopyTTLIn, *ofp.ActionCopyTTLOut:
		case *ofp.ActionSetField:
			if err := validateSetField(&a.Field, &eff, mf != nil); err != nil {
				return err
			}
		case *ofp.ActionPopVLAN, *ofp.ActionSetQueue, *ofp.ActionSetNwTTL, *ofp.ActionDecNwTTL,
			*ofp.ActionSetMPLSTTL, *ofp.ActionDecMPLSTTL:
		case *ofp.ActionExperimenter:
			return ofp.Errorf(ofp.ETBadAction, ofp.BACBadExperimenter, "experimenter %#x", a.Experimenter)
		default:
			return ofp.Errorf(ofp.ETBadAction, ofp.BACBadType, "action %s is not supported", formatAction(a))
		}
	}
	return nil
}

// setExact records that field f is now known to be exactly v.
func (mf *matchFields) setExact(f ofp.OXMField, v uint64) {
	mf.present[f] = true
	mf.exact[f] = v
}

// validateSetField checks a set_field action: the field must be settable,
// its value in range and, when checkPrereq is set, its prerequisites met
// by what the flow is known to match.
func validateSetField(o *ofp.OXM, eff *matchFields, checkPrereq bool) error {
	f := ofp.OXMField(o.Field)
	if o.Class != ofp.OXMClassOpenFlowBasic || int(f) >= ofp.NumOXMFields ||
		(oxmMap[f].set == 0 && f != ofp.OXMTunnelID) {
		return ofp.Errorf(ofp.ETBadAction, ofp.BACBadSetType, "field %d cannot be set", o.Field)
	}
	if o.HasMask || len(o.Value) != ofp.OXMFields[f].Len {
		return ofp.Errorf(ofp.ETBadAction, ofp.BACBadSetLen, "set_field %s length", ofp.OXMFields[f].Name)
	}
	if len(o.Value) <= 8 {
		v := beUint(o.Value)
		max := oxmBits(f)
		if f == ofp.OXMVlanVID {
			max = 0x1fff
		}
		if v > max {
			return ofp.Errorf(ofp.ETBadAction, ofp.BACBadSetArgument, "set_field %s value %#x", ofp.OXMFields[f].Name, v)
		}
	}
	if checkPrereq && f != ofp.OXMVlanVID && f != ofp.OXMVlanPCP {
		for _, p := range oxmPrereqs[f] {
			if !eff.has(p.field, p.values) {
				return ofp.Errorf(ofp.ETBadAction, ofp.BACMatchInconsistent, "set_field %s needs %s in the match",
					ofp.OXMFields[f].Name, ofp.OXMFields[p.field].Name)
			}
		}
	}
	if len(o.Value) <= 8 {
		eff.setExact(f, beUint(o.Value))
	}
	return nil
}
