package ofproto

import (
	"math/bits"
	"slices"

	"github.com/govs/govs/datapath"
)

// classifier holds one OpenFlow table's rules, grouped by mask into
// subtables (tuple space search), and finds the highest-priority rule that
// matches a flow while recording which key bits the decision depended on.
// The recorded bits become the megaflow's mask, so the fewer the better,
// as long as every packet that agrees on them gets the same answer. Three
// techniques keep them few, as in Open vSwitch's classifier:
//
//   - Priority order with early exit: subtables are searched by their
//     highest priority; once a match is found, subtables that cannot beat
//     it are not searched and need no bits.
//   - Staged lookup: a subtable's mask is split into the key's stages
//     (metadata, L2, L3, L4: datapath.StageEnd). Each stage but the last has
//     an index of the rules' masked keys up to it; a packet that misses the
//     index at a stage needs only the bits of the stages so far.
//   - Prefix tracking: for IPv4 and IPv6 source and destination, a binary
//     trie holds the prefixes of the rules whose mask on the field is a
//     prefix. Before a subtable's L3 stage, the trie tells whether any rule
//     with the subtable's prefix length can match the packet's address; if
//     none can, the subtable is skipped and only the address bits that the
//     trie walk read are needed (not the subtable's whole prefix). In the
//     same way, when the last stage of a subtable matching L4 ports misses,
//     a trie of that subtable's port values gives the port bits that tell
//     the packet apart from all of them.
//
// It is not safe for concurrent use: the Bridge guards it with its lock.
type classifier struct {
	subtables []*clsSubtable // by max priority, highest first
	n         int
	tries     [len(prefixFields)]prefixTrie // rules' prefixes on each prefix field
}

// clsSubtable holds the rules of one mask.
type clsSubtable struct {
	mask  datapath.Key
	words []uint8
	// rules maps a masked key to its rules, highest priority first.
	rules       map[datapath.Key][]*Rule
	maxPriority int
	n           int
	// priorities counts the rules of each priority, so that removing the
	// highest-priority rule finds the new maximum among the distinct
	// priorities instead of among all rules.
	priorities map[uint16]int

	// Staged lookup: stages lists the stages whose mask is not empty, in
	// order; stageMask[i] is the mask of stages[i] alone and cumMask[i] of
	// stages[0..i]; index[i] counts the rules per key masked with
	// cumMask[i] (every stage but the last, which is rules itself).
	stages    []int
	stageMask []datapath.Key
	cumMask   []datapath.Key
	index     []map[datapath.Key]int

	// plen is the subtable's prefix length on each prefix field (0: the
	// field is not matched, -1: matched with a mask that is not a prefix).
	plen [len(prefixFields)]int
	// ports: when the last stage is L4 and matches tp_src/tp_dst, the
	// trie of the rules' masked port values (tp_src high), and the mask.
	portsMask uint32
	portsLen  int
	ports     prefixTrie
}

// lookup returns the highest-priority rule matching key (nil for none) and
// ORs into wc every key bit that the answer depends on.
func (c *classifier) lookup(key, wc *datapath.Key) *Rule {
	var best *Rule
	var tl trieLookups
	for _, st := range c.subtables {
		if best != nil && st.maxPriority <= int(best.Priority) {
			break
		}
		if r := c.lookupSubtable(st, key, wc, &tl); r != nil && (best == nil || r.Priority > best.Priority) {
			best = r
		}
	}
	return best
}

// trieLookups caches, for one classifier lookup, the result of walking
// each prefix trie with the packet's address.
type trieLookups struct {
	done      [len(prefixFields)]bool
	plens     [len(prefixFields)]plenSet
	checkbits [len(prefixFields)]int
}

// lookupSubtable looks key up in st, stage by stage, adding to wc the bits
// it consulted.
func (c *classifier) lookupSubtable(st *clsSubtable, key, wc *datapath.Key, tl *trieLookups) *Rule {
	last := len(st.stages) - 1
	for i, s := range st.stages {
		if s == datapath.StageL3 && c.skipByTries(st, key, wc, tl) {
			return nil
		}
		if i < last {
			wc.Or(&st.stageMask[i])
			if st.index[i][key.And(&st.cumMask[i])] == 0 {
				return nil
			}
			continue
		}
		rs := st.rules[key.And(&st.mask)]
		if len(rs) == 0 && st.portsLen > 0 {
			// Only the port bits that tell the packet apart from every
			// rule's ports, unless its ports do match some rule (then
			// another field of the stage decided: all of it).
			v := portsOf(key) & st.portsMask
			plens, checkbits := st.ports.lookup(prefixValue{uint64(v) << 32, 0}, 32)
			if !plens.has(st.portsLen) {
				orPorts(wc, st.portsMask&prefixMask32(checkbits))
				return nil
			}
		}
		wc.Or(&st.stageMask[i])
		if len(rs) == 0 {
			return nil
		}
		return rs[0] // highest priority first
	}
	// A subtable with an empty mask: its rules match everything.
	if rs := st.rules[datapath.Key{}]; len(rs) > 0 {
		return rs[0]
	}
	return nil
}

// skipByTries reports whether the prefix tries prove that no rule of st
// matches key; it then adds to wc the address bits the proof read.
func (c *classifier) skipByTries(st *clsSubtable, key, wc *datapath.Key, tl *trieLookups) bool {
	for f, pf := range prefixFields {
		l := st.plen[f]
		if l <= 0 {
			continue
		}
		if !tl.done[f] {
			tl.done[f] = true
			tl.plens[f], tl.checkbits[f] = c.tries[f].lookup(pf.get(key), pf.bits)
		}
		if !tl.plens[f].has(l) {
			pf.orPrefix(wc, tl.checkbits[f])
			return true
		}
	}
	return false
}

// insert adds r. The caller has removed any rule with the same match and
// priority.
func (c *classifier) insert(r *Rule) {
	st := c.subtable(&r.mask, true)
	rs := st.rules[r.key]
	i, _ := slices.BinarySearchFunc(rs, r.Priority, func(x *Rule, p uint16) int {
		// descending priority; equal priorities keep insertion order
		if x.Priority >= p {
			return -1
		}
		return 1
	})
	st.rules[r.key] = slices.Insert(rs, i, r)
	st.n++
	c.n++
	for i := range st.index {
		st.index[i][r.key.And(&st.cumMask[i])]++
	}
	for f, pf := range prefixFields {
		if l := st.plen[f]; l > 0 {
			c.tries[f].insert(pf.get(&r.key), l)
		}
	}
	if st.portsLen > 0 {
		st.ports.insert(prefixValue{uint64(portsOf(&r.key)) << 32, 0}, st.portsLen)
	}
	st.priorities[r.Priority]++
	if int(r.Priority) > st.maxPriority {
		st.maxPriority = int(r.Priority)
		c.sort()
	}
}

// remove deletes r; it reports whether r was in the classifier.
func (c *classifier) remove(r *Rule) bool {
	st := c.subtable(&r.mask, false)
	if st == nil {
		return false
	}
	rs := st.rules[r.key]
	i := slices.Index(rs, r)
	if i < 0 {
		return false
	}
	rs = slices.Delete(rs, i, i+1)
	if len(rs) == 0 {
		delete(st.rules, r.key)
	} else {
		st.rules[r.key] = rs
	}
	st.n--
	c.n--
	for i := range st.index {
		k := r.key.And(&st.cumMask[i])
		if st.index[i][k]--; st.index[i][k] == 0 {
			delete(st.index[i], k)
		}
	}
	for f, pf := range prefixFields {
		if l := st.plen[f]; l > 0 {
			c.tries[f].remove(pf.get(&r.key), l)
		}
	}
	if st.portsLen > 0 {
		st.ports.remove(prefixValue{uint64(portsOf(&r.key)) << 32, 0}, st.portsLen)
	}
	if st.n == 0 {
		c.subtables = slices.DeleteFunc(c.subtables, func(s *clsSubtable) bool { return s == st })
		return true
	}
	if st.priorities[r.Priority]--; st.priorities[r.Priority] == 0 {
		delete(st.priorities, r.Priority)
		if int(r.Priority) == st.maxPriority {
			st.maxPriority = 0
			for p := range st.priorities {
				st.maxPriority = max(st.maxPriority, int(p))
			}
			c.sort()
		}
	}
	return true
}

// find returns the rule with exactly this match (masked key and mask) and
// priority, or nil.
func (c *classifier) find(key, mask *datapath.Key, priority uint16) *Rule {
	st := c.subtable(mask, false)
	if st == nil {
		return nil
	}
	for _, r := range st.rules[*key] {
		if r.Priority == priority {
			return r
		}
	}
	return nil
}

// forEach calls fn for every rule until fn returns false. fn must not
// change the classifier.
func (c *classifier) forEach(fn func(*Rule) bool) {
	for _, st := range c.subtables {
		for _, rs := range st.rules {
			for _, r := range rs {
				if !fn(r) {
					return
				}
			}
		}
	}
}

// rules returns every rule (in no particular order).
func (c *classifier) rules() []*Rule {
	out := make([]*Rule, 0, c.n)
	c.forEach(func(r *Rule) bool { out = append(out, r); return true })
	return out
}

func (c *classifier) subtable(mask *datapath.Key, create bool) *clsSubtable {
	for _, st := range c.subtables {
		if st.mask == *mask {
			return st
		}
	}
	if !create {
		return nil
	}
	st := newSubtable(mask)
	c.subtables = append(c.subtables, st)
	return st
}

// newSubtable prepares an empty subtable for mask: its stages, indexes and
// prefix lengths.
func newSubtable(mask *datapath.Key) *clsSubtable {
	st := &clsSubtable{mask: *mask, words: mask.MaskWords(), rules: map[datapath.Key][]*Rule{}, maxPriority: -1,
		priorities: map[uint16]int{}}
	var cum datapath.Key
	start := 0
	for s, end := range datapath.StageEnd {
		var sm datapath.Key
		copy(sm[start:end], mask[start:end])
		start = end
		if sm.IsZero() {
			continue
		}
		cum.Or(&sm)
		st.stages = append(st.stages, s)
		st.stageMask = append(st.stageMask, sm)
		st.cumMask = append(st.cumMask, cum)
	}
	for range max(len(st.stages)-1, 0) {
		st.index = append(st.index, map[datapath.Key]int{})
	}
	for f, pf := range prefixFields {
		st.plen[f] = pf.prefixLen(mask)
	}
	if n := len(st.stages); n > 0 && st.stages[n-1] == datapath.StageL4 {
		if pm := portsOf(mask); pm != 0 {
			st.portsMask = pm
			st.portsLen = 32 - bits.TrailingZeros32(pm)
		}
	}
	return st
}

func (c *classifier) sort() {
	slices.SortStableFunc(c.subtables, func(a, b *clsSubtable) int { return b.maxPriority - a.maxPriority })
}

// ---- prefix fields and tries ----

// prefixField is a key field tracked by a prefix trie: an address of 32
// bits (in the low or high half of a word) or of 128 bits (two words, high
// first).
type prefixField struct {
	name  string
	hi    int  // word of the address (of its high half for 128 bits)
	shift uint // for 32 bits: the address's position in its word
	bits  int
}

var prefixFields = [...]prefixField{
	{"nw_src", datapath.WordIPv4, 0, 32},
	{"nw_dst", datapath.WordIPv4, 32, 32},
	{"ipv6_src", datapath.WordIPv6SrcHi, 0, 128},
	{"ipv6_dst", datapath.WordIPv6DstHi, 0, 128},
}

// prefixValue is an address left-aligned in 128 bits: bit 0 is the most
// significant bit of hi.
type prefixValue [2]uint64

func (v prefixValue) bit(i int) int {
	if i < 64 {
		return int(v[0]>>(63-i)) & 1
	}
	return int(v[1]>>(127-i)) & 1
}

// prefixMask128 returns n leading one bits.
func prefixMask128(n int) prefixValue {
	switch {
	case n <= 0:
		return prefixValue{}
	case n < 64:
		return prefixValue{^uint64(0) << (64 - n), 0}
	case n == 64:
		return prefixValue{^uint64(0), 0}
	case n < 128:
		return prefixValue{^uint64(0), ^uint64(0) << (128 - n)}
	}
	return prefixValue{^uint64(0), ^uint64(0)}
}

func prefixMask32(n int) uint32 {
	if n <= 0 {
		return 0
	}
	if n >= 32 {
		return ^uint32(0)
	}
	return ^uint32(0) << (32 - n)
}

// get returns the field of k, left-aligned.
func (pf *prefixField) get(k *datapath.Key) prefixValue {
	if pf.bits == 32 {
		return prefixValue{uint64(uint32(k[pf.hi]>>pf.shift)) << 32, 0}
	}
	return prefixValue{k[pf.hi], k[pf.hi+1]}
}

// orPrefix adds the n leading bits of the field to wc.
func (pf *prefixField) orPrefix(wc *datapath.Key, n int) {
	m := prefixMask128(n)
	if pf.bits == 32 {
		wc[pf.hi] |= uint64(uint32(m[0]>>32)) << pf.shift
		return
	}
	wc[pf.hi] |= m[0]
	wc[pf.hi+1] |= m[1]
}

// prefixLen returns the length of mask's prefix on the field, 0 when the
// field is not matched and -1 when its mask is not a prefix.
func (pf *prefixField) prefixLen(mask *datapath.Key) int {
	m := pf.get(mask)
	n := bits.LeadingZeros64(^m[0])
	if n == 64 {
		n += bits.LeadingZeros64(^m[1])
	}
	n = min(n, pf.bits)
	if m != prefixMask128(n) {
		return -1
	}
	return n
}

// portsOf returns a key's L4 ports as one value, tp_src in the high half
// (the order of the ports trie).
func portsOf(k *datapath.Key) uint32 {
	return uint32(datapath.FieldTpSrc.Get(k))<<16 | uint32(datapath.FieldTpDst.Get(k))
}

// orPorts adds the port bits of m (as portsOf orders them) to wc.
func orPorts(wc *datapath.Key, m uint32) {
	datapath.FieldTpSrc.Or(wc, uint64(m>>16))
	datapath.FieldTpDst.Or(wc, uint64(m&0xffff))
}

// plenSet is a set of prefix lengths 0..128.
type plenSet [3]uint64

func (s *plenSet) add(n int)     { s[n/64] |= 1 << (n % 64) }
func (s plenSet) has(n int) bool { return s[n/64]&(1<<(n%64)) != 0 }

// prefixTrie is a binary trie of prefixes (with multiplicity).
type prefixTrie struct {
	root *trieNode
}

type trieNode struct {
	child [2]*trieNode
	here  int // prefixes that end at this node
	below int // prefixes that end at this node or under it
}

func (t *prefixTrie) insert(v prefixValue, n int) {
	if t.root == nil {
		t.root = &trieNode{}
	}
	node := t.root
	node.below++
	for i := 0; i < n; i++ {
		b := v.bit(i)
		if node.child[b] == nil {
			node.child[b] = &trieNode{}
		}
		node = node.child[b]
		node.below++
	}
	node.here++
}

func (t *prefixTrie) remove(v prefixValue, n int) {
	node := t.root
	if node == nil {
		return
	}
	if node.below--; node.below == 0 {
		t.root = nil
		return
	}
	for i := 0; i < n; i++ {
		b := v.bit(i)
		next := node.child[b]
		if next == nil {
			return // not there: cannot happen
		}
		if next.below--; next.below == 0 {
			node.child[b] = nil
			return
		}
		node = next
	}
	node.here--
}

// lookup walks the trie along v (of width bits) and returns the lengths of
// the prefixes that v matches and the number of leading bits of v the walk
// read: every v' that agrees with v on those bits matches exactly the same
// prefixes.
func (t *prefixTrie) lookup(v prefixValue, width int) (plens plenSet, checkbits int) {
	node := t.root
	for depth := 0; node != nil; depth++ {
		if node.here > 0 {
			plens.add(depth)
		}
		if depth == width {
			return plens, depth
		}
		b := v.bit(depth)
		next := node.child[b]
		if next == nil {
			if node.child[1-b] != nil {
				return plens, depth + 1 // this bit tells v from the longer prefixes
			}
			return plens, depth
		}
		node = next
	}
	return plens, 0
}
