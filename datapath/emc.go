package datapath

import "math/bits"

// emcEntries is the number of entries of a worker's exact-match cache
// (a power of two).
const emcEntries = 8192

// emc is a worker's exact-match cache in front of the megaflow table: a
// direct-mapped array from a packet's full key to the megaflow it matched.
// It is owned by one worker and never shared, so it needs no locks. An entry
// whose flow has since been removed (Flow.Dead) is treated as a miss.
type emc struct {
	entries [emcEntries]emcEntry
	rnd     uint64 // xorshift state for probabilistic insertion
}

// emcInsertInvProb: a megaflow hit replaces an occupied EMC entry with
// probability 1/emcInsertInvProb (Open vSwitch's emc-insert-inv-prob, 100
// there). With more flows than entries, replacing on every hit only
// thrashes: each replacement writes a whole key, and the entry is replaced
// again before its flow comes back. A few hot flows still get their entries
// after a few dozen packets; empty and dead entries are always taken.
const emcInsertInvProb = 32

type emcEntry struct {
	hash uint64
	key  Key
	flow *Flow
}

// emcHash is the hash of a whole key that the EMC and the upcall queues
// use. It mixes the words in three independent lanes (so the multiplies
// overlap instead of waiting on each other, unlike Key.Hash) and folds them
// with a final multiply, so every key bit reaches the low bits the EMC
// indexes with.
func emcHash(k *Key) uint64 {
	const m0, m1, m2 = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
	a, b, c := uint64(0x243F6A8885A308D3), uint64(0x13198A2E03707344), uint64(0xA4093822299F31D0)
	for i := 0; i+2 < KeyWords; i += 3 {
		hi, lo := bits.Mul64(a^k[i], m0)
		a = hi ^ lo
		hi, lo = bits.Mul64(b^k[i+1], m1)
		b = hi ^ lo
		hi, lo = bits.Mul64(c^k[i+2], m2)
		c = hi ^ lo
	}
	hi, lo := bits.Mul64(a^bits.RotateLeft64(b, 21)^bits.RotateLeft64(c, 42), m0)
	return hi ^ lo
}

// lookup returns the cached live flow for key (whose emcHash is h).
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

// maybeInsert caches key -> f if its slot is free or holds a dead flow,
// and otherwise with probability 1/emcInsertInvProb.
func (c *emc) maybeInsert(key *Key, h uint64, f *Flow) {
	e := &c.entries[h&(emcEntries-1)]
	if e.flow != nil && !e.flow.dead.Load() {
		x := c.rnd
		if x == 0 {
			x = 0x9E3779B97F4A7C15
		}
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		c.rnd = x
		if x%emcInsertInvProb != 0 {
			return
		}
	}
	c.insert(key, h, f)
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
