package datapath

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrFlowExists is returned by FlowPut when a flow with the same masked key
// and mask is already installed.
var ErrFlowExists = errors.New("datapath: flow exists")

// flowTable is the tuple-space megaflow classifier: one hash table
// (subtable) per distinct mask. Lookups take no locks: they read immutable
// snapshots published through atomic pointers (the subtable list, each
// subtable's bucket array, and each bucket's immutable chain). Writers
// serialise on mu and publish new snapshots; a reader that holds an old
// snapshot sees a consistent, possibly slightly stale, table, and the
// garbage collector keeps what it reads alive.
type flowTable struct {
	mu sync.Mutex // serialises writers; readers never take it

	subtables atomic.Pointer[[]*subtable] // ranked by hits, most hit first
	count     atomic.Int64                // installed flows
}

// subtable holds the flows of one mask.
type subtable struct {
	mask  Key
	words []uint8 // the words in which mask is non-zero

	hits    atomic.Uint64
	buckets atomic.Pointer[bucketArray]
	n       int // flows in this subtable; guarded by flowTable.mu
}

// bucketArray is a power-of-two array of chain heads.
type bucketArray struct {
	heads []atomic.Pointer[chain]
	mask  uint64
}

// chain is an immutable singly linked list node. Chains are never modified
// in place: removal publishes a rebuilt prefix. The node carries its flow's
// hash, so that a lookup skips the other flows of a bucket without reading
// them (with tens of thousands of flows each is a cache miss).
type chain struct {
	hash uint64
	flow *Flow
	next *chain
}

func newFlowTable() *flowTable {
	t := &flowTable{}
	t.subtables.Store(&[]*subtable{})
	return t
}

func newBucketArray(n int) *bucketArray {
	return &bucketArray{heads: make([]atomic.Pointer[chain], n), mask: uint64(n - 1)}
}

// lookup returns the flow matching key, or nil, and how many subtables it
// searched. It takes no locks and does not allocate.
func (t *flowTable) lookup(key *Key) (*Flow, int) {
	sts := *t.subtables.Load()
	for i, st := range sts {
		h := key.HashMasked(&st.mask, st.words)
		b := st.buckets.Load()
		for c := b.heads[h&b.mask].Load(); c != nil; c = c.next {
			if c.hash == h && key.EqualMasked(&st.mask, &c.flow.Key, st.words) {
				st.hits.Add(1)
				return c.flow, i + 1
			}
		}
	}
	return nil, len(sts)
}

// put installs a new flow. The key is masked here. It fails with
// ErrFlowExists (returning the existing flow) if the masked key is already
// in the subtable of its mask.
func (t *flowTable) put(key, mask *Key, acts Actions, data any) (*Flow, error) {
	f := &Flow{Mask: *mask, Data: data, created: time.Now()}
	key.AndInto(mask, &f.Key)
	a := slices.Clone(acts)
	f.actions.Store((*Actions)(&a))

	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.subtableLocked(mask, true)
	f.hash = f.Key.HashMasked(&st.mask, st.words)
	b := st.buckets.Load()
	head := &b.heads[f.hash&b.mask]
	for c := head.Load(); c != nil; c = c.next {
		if c.hash == f.hash && c.flow.Key == f.Key {
			return c.flow, ErrFlowExists
		}
	}
	head.Store(&chain{hash: f.hash, flow: f, next: head.Load()})
	st.n++
	t.count.Add(1)
	if st.n > len(b.heads) {
		t.growLocked(st)
	}
	return f, nil
}

// subtableLocked returns the subtable for mask, creating and publishing it
// if create is set. t.mu must be held.
func (t *flowTable) subtableLocked(mask *Key, create bool) *subtable {
	sts := *t.subtables.Load()
	for _, st := range sts {
		if st.mask == *mask {
			return st
		}
	}
	if !create {
		return nil
	}
	st := &subtable{mask: *mask, words: mask.MaskWords()}
	st.buckets.Store(newBucketArray(16))
	n := append(slices.Clone(sts), st)
	t.subtables.Store(&n)
	return st
}

// growLocked doubles a subtable's bucket array. Readers on the old array
// keep seeing its (still valid) chains.
func (t *flowTable) growLocked(st *subtable) {
	old := st.buckets.Load()
	nb := newBucketArray(2 * len(old.heads))
	for i := range old.heads {
		for c := old.heads[i].Load(); c != nil; c = c.next {
			h := &nb.heads[c.flow.hash&nb.mask]
			h.Store(&chain{hash: c.hash, flow: c.flow, next: h.Load()})
		}
	}
	st.buckets.Store(nb)
}

// remove deletes f from the table and marks it dead. It reports whether f
// was installed.
func (t *flowTable) remove(f *Flow) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.removeLocked(f)
}

func (t *flowTable) removeLocked(f *Flow) bool {
	st := t.subtableLocked(&f.Mask, false)
	if st == nil {
		return false
	}
	b := st.buckets.Load()
	head := &b.heads[f.hash&b.mask]
	// Rebuild the chain without f: copy the nodes in front of it.
	var prefix []*Flow
	c := head.Load()
	for ; c != nil && c.flow != f; c = c.next {
		prefix = append(prefix, c.flow)
	}
	if c == nil {
		return false
	}
	rest := c.next
	for i := len(prefix) - 1; i >= 0; i-- {
		rest = &chain{hash: prefix[i].hash, flow: prefix[i], next: rest}
	}
	head.Store(rest)
	f.dead.Store(true)
	st.n--
	t.count.Add(-1)
	if st.n == 0 {
		sts := *t.subtables.Load()
		n := slices.DeleteFunc(slices.Clone(sts), func(s *subtable) bool { return s == st })
		t.subtables.Store(&n)
	}
	return true
}

// flush removes every flow.
func (t *flowTable) flush() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, st := range *t.subtables.Load() {
		b := st.buckets.Load()
		for i := range b.heads {
			for c := b.heads[i].Load(); c != nil; c = c.next {
				c.flow.dead.Store(true)
				n++
			}
		}
	}
	t.subtables.Store(&[]*subtable{})
	t.count.Store(0)
	return n
}

// dump calls fn for every installed flow until fn returns false. Flows
// installed or removed during the walk may or may not be seen.
func (t *flowTable) dump(fn func(*Flow) bool) {
	for _, st := range *t.subtables.Load() {
		b := st.buckets.Load()
		for i := range b.heads {
			for c := b.heads[i].Load(); c != nil; c = c.next {
				if !c.flow.dead.Load() && !fn(c.flow) {
					return
				}
			}
		}
	}
}

// rank re-orders the subtables by hits (most hit first) and decays the
// counts, so that the lookup tries the busiest masks first.
func (t *flowTable) rank() {
	t.mu.Lock()
	defer t.mu.Unlock()
	sts := slices.Clone(*t.subtables.Load())
	hits := make(map[*subtable]uint64, len(sts))
	for _, st := range sts {
		hits[st] = st.hits.Load()
		st.hits.Store(hits[st] / 2)
	}
	slices.SortStableFunc(sts, func(a, b *subtable) int {
		switch {
		case hits[a] > hits[b]:
			return -1
		case hits[a] < hits[b]:
			return 1
		}
		return 0
	})
	t.subtables.Store(&sts)
}

// masks returns the number of subtables.
func (t *flowTable) masks() int { return len(*t.subtables.Load()) }
