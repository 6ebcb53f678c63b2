package ofproto

import (
	"slices"
	"time"

	"github.com/govs/govs/datapath"
)

// Revalidation. After a change to the OpenFlow state, the megaflows whose
// decision may have changed are translated again from their masked key:
// one that now needs key bits its mask does not match is deleted (the next
// packet installs a correct one); one whose actions changed gets the new
// actions in place; the others only learn which rules they now credit.
// The datapath is synchronized before revalidation returns, so that no
// packet takes a stale path once the change's reply (or a barrier reply)
// has gone out.
//
// Which megaflows "may have changed" (changeSet.affects):
//   - a rule added, modified or removed in table T: megaflows whose
//     translation looked up T and whose packets could match the rule at
//     that point of the pipeline (the rule's match and the flow as the
//     lookup saw it agree on every bit both care about), and megaflows
//     that used the rule;
//   - the MAC learning table: megaflows that used NORMAL;
//   - anything else (ports, groups, meters, fail-open): every megaflow.

// ruleChange is the match of a rule that was added, modified or removed.
type ruleChange struct {
	table     uint8
	key, mask datapath.Key
}

// changeSet describes a change for revalidation.
type changeSet struct {
	all    bool
	normal bool
	rules  []ruleChange
	used   map[*Rule]bool // rules whose actions changed or that were removed
}

func (cs *changeSet) addRule(r *Rule) {
	cs.rules = append(cs.rules, ruleChange{table: r.TableID, key: r.key, mask: r.mask})
}

func (cs *changeSet) changedRule(r *Rule) {
	if cs.used == nil {
		cs.used = map[*Rule]bool{}
	}
	cs.used[r] = true
	cs.addRule(r)
}

// affects reports whether megaflow f (translated as xo) may decide
// differently after the change.
func (cs *changeSet) affects(f *datapath.Flow, xo *xout) bool {
	if cs.all {
		return true
	}
	if cs.normal && xo.normal {
		return true
	}
	for _, r := range xo.rules {
		if cs.used[r] {
			return true
		}
	}
	for i := range cs.rules {
		rc := &cs.rules[i]
		for j, t := range xo.lookups {
			if t == rc.table && couldMatch(f, xo.lookupFlows[j], rc) {
				return true
			}
		}
	}
	return false
}

// lookupFlow is the flow a table lookup saw when the pipeline had changed
// it (metadata, set-field, push/pop), and which bits it had changed. The
// changed bits are the same for every packet of the megaflow (the path is,
// and a changed field is either a constant or derived from bits the mask
// matches); the others are the packet's.
type lookupFlow struct {
	flow, changed datapath.Key
}

func newLookupFlow(flow, key *datapath.Key) *lookupFlow {
	lf := &lookupFlow{flow: *flow}
	for w := range lf.changed {
		lf.changed[w] = flow[w] ^ key[w]
	}
	return lf
}

// couldMatch reports whether a packet of megaflow f could match rule rc at
// a table lookup that saw flow at (nil: the packet's own key). Bits the
// pipeline changed before the lookup are known exactly; the others are the
// packet's, known only where the megaflow's mask has them. (Comparing the
// lookup's flow with the megaflow's masked key instead took the packet's
// own wildcarded bits for changed ones: a rule added on such a field was
// thought unable to match, and the megaflow stayed stale.)
func couldMatch(f *datapath.Flow, at *lookupFlow, rc *ruleChange) bool {
	for w := range f.Key {
		known := f.Mask[w]
		val := f.Key[w]
		if at != nil {
			known |= at.changed[w]
			val = val&^at.changed[w] | at.flow[w]&at.changed[w]
		}
		common := known & rc.mask[w]
		if val&common != rc.key[w]&common {
			return false
		}
	}
	return true
}

// revalidateLocked revalidates the megaflows cs may affect. mu must be held
// (for reading or writing); no other lock of the bridge.
func (br *Bridge) revalidateLocked(cs *changeSet) {
	br.version.Add(1)
	br.recirc.newGeneration()
	now := time.Now()
	changed := false
	br.statsMu.Lock()
	br.dp.FlowDump(func(f *datapath.Flow) bool {
		xo, ok := f.Data.(*xout)
		if !ok || !cs.affects(f, xo) {
			return true
		}
		// Credit what the old translation earned before it changes.
		br.pushFlowStats(xo, f.Stats(), now)
		res, ok := br.retranslate(&f.Key)
		var del *coverageCounter
		switch {
		case !ok:
			del = covDelRecirc
		case !res.mask.Subset(&f.Mask):
			del = covDelWildcarded
		case br.macsStale(res.macs, xo.inPort):
			del = covDelMACStale
		}
		if del != nil {
			if br.dp.FlowDel(f) {
				del.inc()
			}
			changed = true
		} else {
			if !slices.EqualFunc(res.acts, f.Actions(), equalAction) {
				br.dp.FlowModify(f, res.acts)
				covModified.inc()
				changed = true
			}
			xo.rules, xo.lookups, xo.matches, xo.lookupFlows = res.rules, res.lookups, res.matches, res.lookupFlows
			xo.counters, xo.macs, xo.normal = res.counters, res.macs, res.normal
		}
		return true
	})
	br.statsMu.Unlock()
	if changed {
		br.dp.Synchronize()
	}
}

// macsStale reports whether a megaflow's packets would change the MAC
// learning table: a source address that NORMAL learned from them is now
// learned on another port (it moved, and the megaflow's packets would
// move it back) or has gone. The datapath cannot learn, so such a
// megaflow must go: the next packet's upcall learns, as every packet
// whose learning changes the table must.
//
// macs are those of the new translation: a change to the tables can make
// NORMAL learn another address (a set_field eth_src before it).
func (br *Bridge) macsStale(macs []macKey, inPort uint32) bool {
	for _, m := range macs {
		if port, ok := br.macs.lookup(m.vlan, m.mac); !ok || port != inPort {
			return true
		}
	}
	return false
}

// retranslate translates a megaflow's masked key again, without side
// effects (no learning). It fails for a recirculated megaflow whose frozen
// state is gone.
func (br *Bridge) retranslate(key *datapath.Key) (xlateResult, bool) {
	x := br.newXlate(key, false, nil)
	if id := uint32(datapath.FieldRecircID.Get(key)); id != 0 {
		st := br.recirc.get(id)
		if st == nil {
			return xlateResult{}, false
		}
		x.resume(st)
	} else {
		x.run()
	}
	return x.result(), true
}

// equalAction compares two datapath actions.
func equalAction(a, b datapath.Action) bool {
	if a.Type != b.Type || a.Ethertype != b.Ethertype || a.Port != b.Port || a.MaxLen != b.MaxLen ||
		a.Field != b.Field || a.Value != b.Value || a.Mask != b.Mask || string(a.Userdata) != string(b.Userdata) {
		return false
	}
	return slices.EqualFunc(a.Nested, b.Nested, equalAction)
}

// invalidate revalidates every megaflow (a change whose effects are not
// tracked more precisely: ports, groups, meters, fail mode). It may be
// called with or without mu held.
func (br *Bridge) invalidate() {
	br.mu.RLock()
	defer br.mu.RUnlock()
	br.revalidateLocked(&changeSet{all: true})
}

// invalidateLocked is invalidate for callers that hold mu (inside a
// transaction, at its commit).
func (br *Bridge) invalidateLocked() { br.changedLocked(&changeSet{all: true}) }

// macsChanged revalidates the megaflows that used NORMAL after the MAC
// learning table changed (aging, a port going away). Not with mu held.
func (br *Bridge) macsChanged() {
	br.mu.RLock()
	defer br.mu.RUnlock()
	br.revalidateLocked(&changeSet{normal: true})
}
