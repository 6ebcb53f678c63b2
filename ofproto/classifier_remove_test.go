package ofproto

import (
	"testing"

	"github.com/govs/govs/datapath"
)

// udpPortRule matches udp,tp_dst=port at prio: every such rule shares one
// subtable.
func udpPortRule(prio uint16, port uint64) *Rule {
	var k, m datapath.Key
	datapath.FieldEthType.Set(&k, 0x0800)
	datapath.FieldEthType.Exact(&m)
	datapath.FieldNwProto.Set(&k, 17)
	datapath.FieldNwProto.Exact(&m)
	datapath.FieldTpDst.Set(&k, port)
	datapath.FieldTpDst.Exact(&m)
	return clsRule(prio, k, m)
}

// TestClassifierRemoveKeepsMaxPriority: a subtable's max priority (which
// orders the subtables for early exit) follows removals, including of one
// of several rules at the top priority.
func TestClassifierRemoveKeepsMaxPriority(t *testing.T) {
	var c classifier
	rules := []*Rule{udpPortRule(5, 1), udpPortRule(10, 2), udpPortRule(10, 3), udpPortRule(3, 4)}
	for _, r := range rules {
		c.insert(r)
	}
	steps := []struct {
		remove *Rule
		want   int
	}{
		{rules[1], 10}, // another rule has priority 10
		{rules[2], 5},
		{rules[0], 3},
	}
	for _, s := range steps {
		if !c.remove(s.remove) {
			t.Fatalf("remove priority %d: not found", s.remove.Priority)
		}
		if got := c.subtables[0].maxPriority; got != s.want {
			t.Errorf("after removing a priority %d rule: max priority %d, want %d", s.remove.Priority, got, s.want)
		}
	}
	if c.remove(rules[1]) {
		t.Error("a removed rule was removed again")
	}
}

// BenchmarkClassifierRemoveEqualPriority removes rules of one priority
// from a large subtable (del-flows on thousands of controller rules): the
// cost per removal must not grow with the subtable.
func BenchmarkClassifierRemoveEqualPriority(b *testing.B) {
	const n = 50000
	rules := make([]*Rule, n)
	for i := range rules {
		rules[i] = udpPortRule(100, uint64(i))
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		var c classifier
		for _, r := range rules {
			c.insert(r)
		}
		b.StartTimer()
		for _, r := range rules {
			c.remove(r)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/remove")
}
