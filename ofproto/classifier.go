package ofproto

import (
	"slices"

	"github.com/govs/govs/datapath"
)

// classifier holds one OpenFlow table's rules, grouped by mask into
// subtables (tuple space search), and finds the highest-priority rule that
// matches a flow while recording which key bits the decision depended on.
//
// It is not safe for concurrent use: the Bridge guards it with its lock.
type classifier struct {
	subtables []*clsSubtable // by max priority, highest first
	n         int
}

// clsSubtable holds the rules of one mask.
type clsSubtable struct {
	mask  datapath.Key
	words []uint8
	// rules maps a masked key to its rules, highest priority first.
	rules       map[datapath.Key][]*Rule
	maxPriority int
	n           int
}

// lookup returns the highest-priority rule matching key (nil for none) and
// ORs into wc every key bit that the answer depends on: the masks of the
// subtables it had to search. Subtables whose rules all have a lower
// priority than a match already found are skipped, which needs no bits.
func (c *classifier) lookup(key, wc *datapath.Key) *Rule {
	var best *Rule
	for _, st := range c.subtables {
		if best != nil && st.maxPriority <= int(best.Priority) {
			break
		}
		wc.Or(&st.mask)
		mk := key.And(&st.mask)
		for _, r := range st.rules[mk] {
			if best == nil || r.Priority > best.Priority {
				best = r
			}
			break // highest priority first
		}
	}
	return best
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
	if st.n == 0 {
		c.subtables = slices.DeleteFunc(c.subtables, func(s *clsSubtable) bool { return s == st })
		return true
	}
	if int(r.Priority) == st.maxPriority {
		st.maxPriority = 0
		for _, rs := range st.rules {
			st.maxPriority = max(st.maxPriority, int(rs[0].Priority))
		}
		c.sort()
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
	st := &clsSubtable{mask: *mask, words: mask.MaskWords(), rules: map[datapath.Key][]*Rule{}, maxPriority: -1}
	c.subtables = append(c.subtables, st)
	return st
}

func (c *classifier) sort() {
	slices.SortStableFunc(c.subtables, func(a, b *clsSubtable) int { return b.maxPriority - a.maxPriority })
}
