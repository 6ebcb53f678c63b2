package datapath

// emcEntries is the number of entries of a worker's exact-match cache
// (a power of two).
const emcEntries = 8192

// emc is a worker's exact-match cache in front of the megaflow table: a
// direct-mapped array from a packet's full key to the megaflow it matched.
// It is owned by one worker and never shared, so it needs no locks. An entry
// whose flow has since been removed (Flow.Dead) is treated as a miss.
type emc struct {
	entries [emcEntries]emcEntry
}

type emcEntry struct {
	hash uint64
	key  Key
	flow *Flow
}

// lookup returns the cached live flow for key (whose full hash is h).
func (c *emc) lookup(key *Key, h uint64) *Flow {
	e := &c.entries[h&(emcEntries-1)]
	if e.flow == nil || e.hash != h || e.key != *key {
		return nil
	}
	if e.flow.dead.Load() {
		e.flow = nil
		return nil
	}
	return e.flow
}

// insert caches key -> f, replacing whatever the slot held.
func (c *emc) insert(key *Key, h uint64, f *Flow) {
	e := &c.entries[h&(emcEntries-1)]
	e.hash = h
	e.key = *key
	e.flow = f
}

// clear drops every entry (so that removed flows can be collected).
func (c *emc) clear() {
	for i := range c.entries {
		c.entries[i].flow = nil
	}
}
