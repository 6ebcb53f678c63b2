package ofproto

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofp"
)

// Recirculation. Some actions change a packet in a way the flow key cannot
// follow: after pop_mpls or pop_pbb the headers underneath were never
// parsed, and copy_ttl_in/out move a TTL the key does not hold. When the
// pipeline has more to do after such an action, translation freezes: it
// records where it was (frozenState), emits the action and a datapath
// recirculation with the state's id, and stops. The datapath extracts the
// changed packet's key anew, with that recirc_id, and looks it up again; on
// a miss the upcall handler finds the frozen state by the id and resumes
// the pipeline with the full, fresh key. Megaflows on either side of a
// recirculation are ordinary megaflows (the second kind match recirc_id
// exactly).

// freezeWhere says what a frozen translation was doing.
type freezeWhere uint8

const (
	frozenInApply     freezeWhere = iota + 1 // a rule's apply-actions (then its other instructions)
	frozenInActionSet                        // the action set at the end of the pipeline
	frozenInPacketOut                        // a packet-out's action list
)

// afterApply is what a rule's instructions do after its apply-actions.
type afterApply struct {
	rule     *Rule
	clearSet bool
	write    []ofp.Action
	metadata *ofp.InstrWriteMetadata
	next     int // goto_table, -1 for none
}

// frozenState is a translation stopped at a recirculation, to be resumed
// when the recirculated packet misses.
type frozenState struct {
	where     freezeWhere
	actions   []ofp.Action // what is left of the action list
	rule      *Rule        // the rule the actions belong to (nil: action set, packet-out)
	tableID   uint8
	after     afterApply // frozenInApply: the rule's remaining instructions
	metadata  uint64
	tunID     uint64
	actionSet []ofp.Action
}

// recircTable maps recirculation ids to frozen states. Ids are never
// reused. States live for two generations of megaflows: invalidation starts
// a new generation, so a packet recirculating across a table change still
// finds its state, and states of flushed megaflows are dropped after the
// next change.
type recircTable struct {
	next atomic.Uint32

	mu   sync.Mutex
	cur  map[uint32]*frozenState // guarded by mu
	prev map[uint32]*frozenState // guarded by mu
	ids  map[string]uint32       // guarded by mu: identical states share an id
}

func newRecircTable() *recircTable {
	return &recircTable{cur: map[uint32]*frozenState{}, prev: map[uint32]*frozenState{}, ids: map[string]uint32{}}
}

// add registers st and returns its id (an existing one for an identical
// state of this generation).
func (t *recircTable) add(st *frozenState) uint32 {
	sig := st.signature()
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.ids[sig]; ok {
		return id
	}
	id := t.next.Add(1)
	t.cur[id] = st
	t.ids[sig] = id
	return id
}

// get returns the state of id, or nil.
func (t *recircTable) get(id uint32) *frozenState {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.cur[id]; st != nil {
		return st
	}
	return t.prev[id]
}

// newGeneration starts a new generation (on invalidation).
func (t *recircTable) newGeneration() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prev = t.cur
	t.cur = map[uint32]*frozenState{}
	t.ids = map[string]uint32{}
}

// signature identifies a state by what it would do: the same rule, position
// and pipeline state give the same string.
func (st *frozenState) signature() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d|%p|%d|%x|%x|", st.where, st.rule, st.tableID, st.metadata, st.tunID)
	for _, a := range st.actions {
		fmt.Fprintf(&b, "%p,", a)
	}
	fmt.Fprintf(&b, "|%p|%v|%d|", st.after.rule, st.after.clearSet, st.after.next)
	for _, a := range st.after.write {
		fmt.Fprintf(&b, "%p,", a)
	}
	if st.after.metadata != nil {
		fmt.Fprintf(&b, "|%x/%x", st.after.metadata.Metadata, st.after.metadata.Mask)
	}
	b.WriteString("|")
	for _, a := range st.actionSet {
		fmt.Fprintf(&b, "%p,", a)
	}
	return b.String()
}

// freeze stops the translation after the current action (rest is what is
// left of its list): it registers the frozen state and emits the
// recirculation. It reports false when nothing would follow, so there is
// no need to recirculate.
func (x *xlate) freeze(rest []ofp.Action, r *Rule, tableID uint8) bool {
	st := &frozenState{
		where:     x.where,
		actions:   rest,
		rule:      r,
		tableID:   tableID,
		metadata:  x.metadata,
		tunID:     datapath.FieldTunID.Get(&x.flow),
		actionSet: append([]ofp.Action(nil), x.actionSet...),
	}
	if x.where == frozenInApply && x.after != nil {
		st.after = *x.after
	}
	if len(rest) == 0 && len(st.actionSet) == 0 && (x.where != frozenInApply ||
		(!st.after.clearSet && len(st.after.write) == 0 && st.after.metadata == nil && st.after.next < 0)) {
		return false
	}
	id := x.recircID(st)
	x.tracef("recirculate (id %d): the rest of the pipeline needs the headers the last action exposed", id)
	x.acts = append(x.acts, datapath.Action{Type: datapath.ActRecirc, Port: id})
	x.frozen = true
	return true
}

// resume continues a frozen translation for a recirculated packet.
func (x *xlate) resume(st *frozenState) {
	x.metadata = st.metadata
	x.actionSet = append(x.actionSet[:0], st.actionSet...)
	datapath.FieldTunID.Set(&x.flow, st.tunID)
	x.where = st.where
	switch st.where {
	case frozenInApply:
		after := st.after
		x.after = &after
		if !x.doActions(st.actions, st.rule, st.tableID) {
			return
		}
		if next := x.finishApply(&after); next >= 0 {
			x.runTable(uint8(next))
		} else {
			x.executeActionSet()
		}
	case frozenInActionSet:
		x.doActions(st.actions, nil, ofp.TableAll)
	case frozenInPacketOut:
		x.packetOut = true
		x.doActions(st.actions, nil, ofp.TableAll)
	}
}
