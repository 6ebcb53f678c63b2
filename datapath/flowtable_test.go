package datapath

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
)

func keyWith(inPort uint32, ethType uint64, ipSrc, ipDst uint32, tpDst uint64) Key {
	var k Key
	FieldInPort.Set(&k, uint64(inPort))
	FieldEthType.Set(&k, ethType)
	FieldIPv4Src.Set(&k, uint64(ipSrc))
	FieldIPv4Dst.Set(&k, uint64(ipDst))
	FieldTpDst.Set(&k, tpDst)
	return k
}

func maskOf(fields ...Field) Key {
	var m Key
	for _, f := range fields {
		f.Exact(&m)
	}
	return m
}

func TestFlowTableLookup(t *testing.T) {
	tbl := newFlowTable()
	inPortOnly := maskOf(FieldInPort)
	fiveTuple := maskOf(FieldInPort, FieldEthType, FieldIPv4Src, FieldIPv4Dst, FieldTpDst)

	k1 := keyWith(1, 0x800, 0xc6120001, 0xc6120002, 80)
	f1, err := tbl.put(&k1, &inPortOnly, Actions{Output(2)}, "f1")
	if err != nil {
		t.Fatal(err)
	}
	k2 := keyWith(2, 0x800, 0xc6120002, 0xc6120001, 53)
	f2, err := tbl.put(&k2, &fiveTuple, Actions{Output(1)}, "f2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.put(&k1, &inPortOnly, nil, nil); !errors.Is(err, ErrFlowExists) {
		t.Fatalf("duplicate put: %v, want ErrFlowExists", err)
	}

	tests := []struct {
		name string
		key  Key
		want *Flow
	}{
		{"in_port 1, any payload", keyWith(1, 0x86dd, 0, 0, 0), f1},
		{"in_port 1, same as installed", k1, f1},
		{"exact 5-tuple", k2, f2},
		{"5-tuple differs in port", keyWith(2, 0x800, 0xc6120002, 0xc6120001, 54), nil},
		{"unknown in_port", keyWith(3, 0x800, 0xc6120001, 0xc6120002, 80), nil},
	}
	for _, tc := range tests {
		got, searched := tbl.lookup(&tc.key)
		if got != tc.want {
			t.Errorf("%s: lookup = %v, want %v", tc.name, got, tc.want)
		}
		if searched < 1 || searched > 2 {
			t.Errorf("%s: searched %d subtables", tc.name, searched)
		}
	}
	if n := tbl.count.Load(); n != 2 {
		t.Errorf("count = %d, want 2", n)
	}
	if tbl.masks() != 2 {
		t.Errorf("masks = %d, want 2", tbl.masks())
	}

	if !tbl.remove(f1) || tbl.remove(f1) {
		t.Fatal("remove should succeed once")
	}
	if !f1.Dead() {
		t.Error("removed flow not dead")
	}
	if got, _ := tbl.lookup(&k1); got != nil {
		t.Error("removed flow still found")
	}
	if tbl.masks() != 1 {
		t.Errorf("empty subtable not removed: masks = %d", tbl.masks())
	}
	if n := tbl.flush(); n != 1 || !f2.Dead() || tbl.masks() != 0 {
		t.Errorf("flush removed %d, dead=%v, masks=%d", n, f2.Dead(), tbl.masks())
	}
}

// TestFlowTableGrowAndRemove puts enough flows in one subtable to grow it
// several times, removes a random half and checks every lookup.
func TestFlowTableGrowAndRemove(t *testing.T) {
	tbl := newFlowTable()
	mask := maskOf(FieldInPort, FieldTpDst)
	const n = 5000
	flows := make([]*Flow, n)
	for i := range flows {
		k := keyWith(1, 0, 0, 0, uint64(i))
		f, err := tbl.put(&k, &mask, Actions{Output(2)}, i)
		if err != nil {
			t.Fatal(err)
		}
		flows[i] = f
	}
	rng := rand.New(rand.NewPCG(1, 2))
	removed := map[int]bool{}
	for _, i := range rng.Perm(n)[:n/2] {
		tbl.remove(flows[i])
		removed[i] = true
	}
	for i := range flows {
		k := keyWith(1, 0, 0, 0, uint64(i))
		got, _ := tbl.lookup(&k)
		if removed[i] != (got == nil) || (got != nil && got.Data.(int) != i) {
			t.Fatalf("flow %d: removed=%v, lookup=%v", i, removed[i], got)
		}
	}
	seen := 0
	tbl.dump(func(*Flow) bool { seen++; return true })
	if seen != n/2 {
		t.Errorf("dump saw %d flows, want %d", seen, n/2)
	}
}

// TestFlowTableConcurrentReaders runs lookups while a writer inserts and
// removes flows (meaningful under -race).
func TestFlowTableConcurrentReaders(t *testing.T) {
	tbl := newFlowTable()
	stable := maskOf(FieldInPort)
	k := keyWith(7, 0, 0, 0, 0)
	if _, err := tbl.put(&k, &stable, Actions{Output(1)}, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if f, _ := tbl.lookup(&k); f == nil {
					t.Error("stable flow disappeared during concurrent updates")
					return
				}
			}
		}()
	}
	mask := maskOf(FieldInPort, FieldTpDst)
	for i := 0; i < 3000; i++ {
		kk := keyWith(1, 0, 0, 0, uint64(i))
		f, err := tbl.put(&kk, &mask, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			tbl.remove(f)
		}
		if i%500 == 0 {
			tbl.rank()
		}
	}
	close(stop)
	wg.Wait()
}

func TestFlowTableRank(t *testing.T) {
	tbl := newFlowTable()
	cold := maskOf(FieldInPort, FieldEthType)
	hot := maskOf(FieldInPort)
	kc := keyWith(1, 0x800, 0, 0, 0)
	kh := keyWith(2, 0, 0, 0, 0)
	tbl.put(&kc, &cold, nil, nil)
	tbl.put(&kh, &hot, nil, nil)
	for i := 0; i < 10; i++ {
		tbl.lookup(&kh)
	}
	tbl.rank()
	if _, searched := tbl.lookup(&kh); searched != 1 {
		t.Errorf("hot subtable searched at position %d after ranking, want 1", searched)
	}
}
