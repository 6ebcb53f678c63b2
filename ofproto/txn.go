package ofproto

// Transactions: a bundle commit applies several modifications so that
// nobody sees a state in between. The bridge's write lock keeps
// controllers out; for the datapath, the changes are collected and the
// megaflows revalidated once, at the end. A modification that fails undoes
// the ones before it (each records how to undo itself), and messages the
// modifications would send (FLOW_REMOVED, PORT_STATUS) wait for the
// commit, so that an aborted commit leaves no trace.

// txn is a transaction in progress. It lives in Bridge.txn while the
// bridge's write lock is held.
type txn struct {
	cs       changeSet // what to revalidate at the commit
	undo     []func()  // how to undo what was applied, in order
	deferred []func()  // what to do after the commit (messages, packet-outs)
}

// merge adds o's changes to cs.
func (cs *changeSet) merge(o *changeSet) {
	cs.all = cs.all || o.all
	cs.normal = cs.normal || o.normal
	cs.rules = append(cs.rules, o.rules...)
	for r := range o.used {
		if cs.used == nil {
			cs.used = map[*Rule]bool{}
		}
		cs.used[r] = true
	}
}

// changedLocked records a change to the OpenFlow state: its megaflows are
// revalidated now, or when the transaction in progress commits. mu must be
// held.
func (br *Bridge) changedLocked(cs *changeSet) {
	if t := br.txn; t != nil {
		t.cs.merge(cs)
		return
	}
	br.revalidateLocked(cs)
}

// onUndo records how to undo a modification, when a transaction is in
// progress. mu must be held for writing.
func (br *Bridge) onUndo(f func()) {
	if t := br.txn; t != nil {
		t.undo = append(t.undo, f)
	}
}

// afterCommit runs f now, or after the transaction in progress commits
// (never, if it aborts). mu must be held.
func (br *Bridge) afterCommit(f func()) {
	if t := br.txn; t != nil {
		t.deferred = append(t.deferred, f)
		return
	}
	f()
}

// runTxnLocked applies ops as one transaction. mu must be held for
// writing. On the first error the ops before are undone and the error
// returned (with its index); otherwise the changes are revalidated and the
// deferred work is returned, to be run once mu is released.
func (br *Bridge) runTxnLocked(ops []func() error) (deferred []func(), failed int, err error) {
	t := &txn{}
	br.txn = t
	for i, op := range ops {
		if err := op(); err != nil {
			for j := len(t.undo) - 1; j >= 0; j-- {
				t.undo[j]()
			}
			br.txn = nil
			return nil, i, err
		}
	}
	br.txn = nil
	br.revalidateLocked(&t.cs)
	return t.deferred, -1, nil
}
