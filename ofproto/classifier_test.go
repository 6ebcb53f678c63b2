package ofproto

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/govs/govs/datapath"
)

// clsRule makes a rule with a masked key.
func clsRule(prio uint16, key, mask datapath.Key) *Rule {
	return &Rule{Priority: prio, key: key.And(&mask), mask: mask}
}

func ip4(a, b, c, d byte) uint64 { return uint64(a)<<24 | uint64(b)<<16 | uint64(c)<<8 | uint64(d) }

// lpmRule is an IPv4 route: eth_type=0x0800, nw_dst=addr/plen at priority
// plen.
func lpmRule(addr uint64, plen int) *Rule {
	var k, m datapath.Key
	datapath.FieldEthType.Set(&k, 0x0800)
	datapath.FieldEthType.Exact(&m)
	datapath.FieldIPv4Dst.Set(&k, addr)
	datapath.FieldIPv4Dst.Or(&m, uint64(prefixMask32(plen)))
	return clsRule(uint16(plen), k, m)
}

// TestClassifierPrefixMasks: in a longest-prefix-match table, the mask of
// a lookup keeps only the nw_dst bits that decided, as Open vSwitch's
// prefix tries do.
func TestClassifierPrefixMasks(t *testing.T) {
	var c classifier
	for _, r := range []*Rule{
		lpmRule(ip4(10, 0, 0, 0), 8), lpmRule(ip4(10, 1, 0, 0), 16), lpmRule(ip4(10, 1, 2, 0), 24),
		lpmRule(ip4(10, 1, 2, 200), 32), lpmRule(ip4(192, 168, 0, 0), 16),
	} {
		c.insert(r)
	}
	tests := []struct {
		dst      uint64
		wantPrio int // -1: no match
		wantBits int // nw_dst bits in the mask
	}{
		{ip4(10, 1, 2, 200), 32, 32},
		{ip4(10, 1, 2, 7), 24, 25}, // /32 ruled out by bit 24; /24 matched
		{ip4(10, 1, 9, 9), 16, 21}, // /24 and /32 ruled out by bit 20 (10.1.2 vs 10.1.9)
		{ip4(10, 77, 0, 1), 8, 10}, // /16: 10.77 leaves 10.1 at bit 9
		{ip4(11, 0, 0, 1), -1, 8},  // 11 leaves 10 at bit 7
		{ip4(128, 0, 0, 1), -1, 2}, // bit 0 rules out 10/8, bit 1 192.168/16
		{ip4(192, 168, 3, 4), 16, 16},
	}
	for _, tc := range tests {
		var k, wc datapath.Key
		datapath.FieldEthType.Set(&k, 0x0800)
		datapath.FieldIPv4Dst.Set(&k, tc.dst)
		datapath.FieldIPv4Src.Set(&k, ip4(198, 18, 0, 1))
		r := c.lookup(&k, &wc)
		prio := -1
		if r != nil {
			prio = int(r.Priority)
		}
		want := uint64(prefixMask32(tc.wantBits))
		if prio != tc.wantPrio || datapath.FieldIPv4Dst.Get(&wc) != want || datapath.FieldIPv4Src.Get(&wc) != 0 {
			t.Errorf("dst %#x: rule priority %d, nw_dst mask %#x, nw_src mask %#x; want priority %d, nw_dst mask %#x, nw_src mask 0",
				tc.dst, prio, datapath.FieldIPv4Dst.Get(&wc), datapath.FieldIPv4Src.Get(&wc), tc.wantPrio, want)
		}
	}
}

// TestClassifierPortMasks: when an ACL subtable on an exact L4 port
// misses, only the port bits that tell the packet from the rules' ports
// are in the mask.
func TestClassifierPortMasks(t *testing.T) {
	var c classifier
	for _, port := range []uint64{22, 23} {
		var k, m datapath.Key
		datapath.FieldEthType.Set(&k, 0x0800)
		datapath.FieldEthType.Exact(&m)
		datapath.FieldNwProto.Set(&k, 6)
		datapath.FieldNwProto.Exact(&m)
		datapath.FieldTpDst.Set(&k, port)
		datapath.FieldTpDst.Exact(&m)
		c.insert(clsRule(100, k, m))
	}
	var k, wc datapath.Key
	datapath.FieldEthType.Set(&k, 0x0800)
	datapath.FieldNwProto.Set(&k, 6)
	datapath.FieldTpSrc.Set(&k, 40000)
	datapath.FieldTpDst.Set(&k, 0x8000|22) // differs from 22 and 23 in the first bit
	if r := c.lookup(&k, &wc); r != nil {
		t.Fatalf("matched %v", r)
	}
	if got := datapath.FieldTpDst.Get(&wc); got != 0x8000 {
		t.Errorf("tp_dst mask %#x, want 0x8000", got)
	}
	if got := datapath.FieldTpSrc.Get(&wc); got != 0 {
		t.Errorf("tp_src mask %#x, want 0", got)
	}
	// A UDP packet misses at the L3 stage: no L4 bits at all.
	wc = datapath.Key{}
	datapath.FieldNwProto.Set(&k, 17)
	c.lookup(&k, &wc)
	if got := wc[datapath.WordL4]; got != 0 {
		t.Errorf("UDP packet: L4 mask %#x, want 0 (the L3 stage decided)", got)
	}
}

// TestClassifierMaskIsSound checks the property the megaflow cache rests
// on, over random tables and packets: every packet that agrees with a
// looked-up packet on the bits the lookup reported gets the same rule
// (and reports no bit the first did not). Rules overlap, use prefix and
// arbitrary masks on the addresses, exact and masked L4 ports, and are
// added and removed as the test goes.
func TestClassifierMaskIsSound(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { checkClassifierSound(t, seed) })
	}
}

func checkClassifierSound(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 99))
	vals := func(f datapath.Field, vs ...uint64) uint64 { return vs[r.IntN(len(vs))] & (f.Mask() >> f.Shift) }
	ips := []uint64{ip4(10, 0, 0, 1), ip4(10, 1, 2, 3), ip4(10, 1, 2, 200), ip4(10, 128, 0, 0), ip4(192, 168, 1, 1), ip4(11, 1, 2, 3)}
	ports := []uint64{22, 23, 80, 443, 8080, 0x8016}
	// packet draws a random key from the value space.
	packet := func() datapath.Key {
		var k datapath.Key
		datapath.FieldInPort.Set(&k, uint64(1+r.IntN(3)))
		datapath.FieldEthType.Set(&k, vals(datapath.FieldEthType, 0x0800, 0x0800, 0x86dd, 0x0806))
		datapath.FieldNwProto.Set(&k, vals(datapath.FieldNwProto, 6, 17))
		datapath.FieldIPv4Src.Set(&k, vals(datapath.FieldIPv4Src, ips...)^uint64(r.IntN(4)))
		datapath.FieldIPv4Dst.Set(&k, vals(datapath.FieldIPv4Dst, ips...)^uint64(r.IntN(256)))
		k[datapath.WordIPv6DstHi] = vals(datapath.FieldIPv6DstHi, 0x20010db800000000, 0x20010db880000000, 0x20010db800010000)
		k[datapath.WordIPv6DstLo] = uint64(r.IntN(3))
		datapath.FieldTpSrc.Set(&k, vals(datapath.FieldTpSrc, ports...))
		datapath.FieldTpDst.Set(&k, vals(datapath.FieldTpDst, ports...)^uint64(r.IntN(2)))
		datapath.FieldTCPFlags.Set(&k, vals(datapath.FieldTCPFlags, 0x02, 0x10))
		return k
	}
	rule := func() *Rule {
		k := packet()
		var m datapath.Key
		if r.IntN(3) == 0 {
			datapath.FieldInPort.Exact(&m)
		}
		datapath.FieldEthType.Exact(&m)
		if r.IntN(2) == 0 {
			datapath.FieldNwProto.Exact(&m)
			switch r.IntN(4) {
			case 0:
				datapath.FieldTpDst.Exact(&m)
			case 1:
				datapath.FieldTpSrc.Exact(&m)
			case 2:
				datapath.FieldTpDst.Or(&m, 0xff00)
			}
			if r.IntN(3) == 0 {
				datapath.FieldTCPFlags.Or(&m, 0x02) // another field in the ports' stage
			}
		}
		switch r.IntN(5) {
		case 0:
			datapath.FieldIPv4Dst.Or(&m, uint64(prefixMask32(r.IntN(33))))
		case 1:
			datapath.FieldIPv4Src.Or(&m, uint64(prefixMask32(8*r.IntN(5))))
			datapath.FieldIPv4Dst.Or(&m, uint64(prefixMask32(r.IntN(33))))
		case 2:
			datapath.FieldIPv4Dst.Or(&m, 0x00ff00ff) // not a prefix
		case 3:
			pm := prefixMask128(r.IntN(129))
			m[datapath.WordIPv6DstHi], m[datapath.WordIPv6DstLo] = pm[0], pm[1]
		}
		return clsRule(uint16(r.IntN(20)), k, m)
	}
	var c classifier
	var rules []*Rule
	for range 10 + r.IntN(30) {
		x := rule()
		if c.find(&x.key, &x.mask, x.Priority) == nil {
			c.insert(x)
			rules = append(rules, x)
		}
	}
	// best is the expected answer: the highest priority matching rule
	// (ties: any of them, so the test compares priorities).
	best := func(k *datapath.Key) int {
		p := -1
		for _, x := range rules {
			if k.And(&x.mask) == x.key && int(x.Priority) > p {
				p = int(x.Priority)
			}
		}
		return p
	}
	prio := func(x *Rule) int {
		if x == nil {
			return -1
		}
		return int(x.Priority)
	}
	for i := 0; i < 400; i++ {
		if i%50 == 49 && len(rules) > 0 { // the tables change
			j := r.IntN(len(rules))
			if !c.remove(rules[j]) {
				t.Fatalf("remove: rule not found")
			}
			rules = append(rules[:j], rules[j+1:]...)
			if x := rule(); c.find(&x.key, &x.mask, x.Priority) == nil {
				c.insert(x)
				rules = append(rules, x)
			}
		}
		k := packet()
		var wc datapath.Key
		got := c.lookup(&k, &wc)
		if prio(got) != best(&k) {
			t.Fatalf("lookup: priority %d, want %d", prio(got), best(&k))
		}
		// Packets that agree with k on wc: same answer.
		for j := 0; j < 8; j++ {
			o := packet()
			var k2 datapath.Key
			for w := range k2 {
				k2[w] = k[w]&wc[w] | o[w]&^wc[w]
			}
			var wc2 datapath.Key
			if got2 := c.lookup(&k2, &wc2); prio(got2) != prio(got) {
				t.Fatalf("key %v and key %v agree on mask %v but get priorities %d and %d",
					k, k2, wc, prio(got), prio(got2))
			}
		}
	}
}
