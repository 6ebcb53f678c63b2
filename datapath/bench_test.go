package datapath

import (
	"fmt"
	"testing"

	"github.com/govs/govs/vport"
)

// batchRig is a worker for in_port 1 that is driven by hand (no goroutine),
// with port 2 attached to the datapath as the output.
type batchRig struct {
	dp      *Datapath
	w       *worker
	in      *dpPort
	frames  [][]byte
	out     *vport.MemPort
	sink    *vport.MemPort
	drained uint64
	buf     [vport.BatchSize]*vport.Packet
}

func newBatchRig(tb testing.TB, frames [][]byte, acts Actions, mask Key) *batchRig {
	tb.Helper()
	dp := New(Config{})
	out, sink := vport.NewMemPair("out", "sink")
	if err := dp.AddPort(2, out); err != nil {
		tb.Fatal(err)
	}
	in, peer := vport.NewMemPair("in", "peer")
	w := newWorkerBase(dp)
	inPort := &dpPort{no: 1, port: in}
	for _, f := range frames {
		var k Key
		var l Layout
		Extract(f, 1, &k, &l)
		if _, err := dp.FlowPut(&k, &mask, acts, nil); err != nil && err != ErrFlowExists {
			tb.Fatal(err)
		}
	}
	tb.Cleanup(func() {
		dp.Close()
		in.Close()
		peer.Close()
		sink.Close()
	})
	r := &batchRig{dp: dp, w: w, in: inPort, frames: frames, out: out, sink: sink}
	for i := range r.buf {
		r.buf[i] = vport.NewPacket()
	}
	return r
}

// run processes one batch of vport.BatchSize packets.
func (r *batchRig) run() {
	for i := range r.w.pkts {
		r.w.pkts[i].SetFrame(r.frames[i%len(r.frames)])
	}
	r.w.epoch.Add(1)
	r.w.process(r.in, len(r.w.pkts))
	r.w.epoch.Add(1)
	// Drain what reached the sink, as a peer would.
	for sent := r.out.Stats().TxPackets; r.drained < sent; {
		n, err := r.sink.Recv(r.buf[:])
		if err != nil {
			return
		}
		r.drained += uint64(n)
	}
}

func TestZeroAllocsOnHit(t *testing.T) {
	frame := udpFrame(t, "198.18.0.1", "198.18.0.2", 1, 2)
	for _, tc := range []struct {
		name string
		acts Actions
	}{
		{"output", Actions{Output(2)}},
		{"set-field then output", Actions{
			{Type: ActSetField, Field: SetIPv4Dst, Value: [2]uint64{0, 0xc6120063}, Mask: [2]uint64{0, 0xffffffff}},
			Output(2)}},
		{"output, modify, output", Actions{Output(2), {Type: ActPushVLAN, Ethertype: 0x8100, Value: [2]uint64{0, 10}}, Output(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newBatchRig(t, [][]byte{frame}, tc.acts, maskOf(FieldInPort, FieldIPv4Dst))
			// Warm up: EMC, send batches, clone buffers, and every slot of
			// the memory port's ring (allocated on first use).
			for i := 0; i < 64; i++ {
				r.run()
			}
			if n := testing.AllocsPerRun(100, r.run); n != 0 {
				t.Errorf("%.1f allocations per batch of %d packets, want 0", n, vport.BatchSize)
			}
			if s := r.dp.Stats(); s.Missed != 0 || s.Hit == 0 {
				t.Errorf("stats %+v: the batch should hit", s)
			}
		})
	}
}

func TestZeroAllocsOnMiss(t *testing.T) {
	frame := udpFrame(t, "198.18.0.1", "198.18.0.2", 1, 2)
	r := newBatchRig(t, [][]byte{frame}, nil, maskOf(FieldInPort))
	r.dp.FlowFlush()
	r.run()
	if n := testing.AllocsPerRun(50, r.run); n != 0 {
		t.Errorf("%.1f allocations per batch of misses, want 0", n)
	}
}

// BenchmarkBatchHit is a whole batch through the fast path: extract, EMC
// or megaflow lookup, execute, send on a memory port.
func BenchmarkBatchHit(b *testing.B) {
	for _, flows := range []int{1, 32} {
		b.Run(fmt.Sprintf("flows=%d", flows), func(b *testing.B) {
			var frames [][]byte
			for i := 0; i < flows; i++ {
				frames = append(frames, udpFrame(b, "198.18.0.1", "198.18.0.2", uint16(1000+i), 2))
			}
			r := newBatchRig(b, frames, Actions{Output(2)}, maskOf(FieldInPort, FieldEthType, FieldIPv4Src, FieldIPv4Dst, FieldTpSrc, FieldTpDst))
			r.run()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.run()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*vport.BatchSize), "ns/pkt")
		})
	}
}

// BenchmarkMegaflowLookup looks up a key in a table with 1, 8 and 64 masks
// (the matching subtable searched last: the worst case before ranking).
func BenchmarkMegaflowLookup(b *testing.B) {
	fields := []Field{FieldEthType, FieldIPv4Src, FieldIPv4Dst, FieldTpSrc, FieldTpDst, FieldNwProto, FieldEthSrc, FieldEthDst}
	for _, masks := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("masks=%d", masks), func(b *testing.B) {
			tbl := newFlowTable()
			for m := 0; m < masks; m++ {
				mask := maskOf(FieldInPort)
				for j, f := range fields {
					if m&(1<<j) != 0 {
						f.Exact(&mask)
					}
				}
				FieldTpDst.Or(&mask, uint64(m)) // make every mask distinct
				for i := 0; i < 100; i++ {
					k := keyWith(uint32(2+i), 0x800, 1, 2, uint64(i))
					tbl.put(&k, &mask, nil, nil)
				}
			}
			// The flow to find lives in the last subtable.
			last := (*tbl.subtables.Load())[masks-1]
			k := keyWith(1, 0x800, 1, 2, 3)
			tbl.put(&k, &last.mask, nil, nil)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if f, _ := tbl.lookup(&k); f == nil {
					b.Fatal("miss")
				}
			}
		})
	}
}

// BenchmarkEMCHit is the exact-match cache's lookup.
func BenchmarkEMCHit(b *testing.B) {
	var c emc
	k := keyWith(1, 0x800, 1, 2, 3)
	f := &Flow{}
	h := k.Hash()
	c.insert(&k, h, f)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if c.lookup(&k, k.Hash()) != f {
			b.Fatal("miss")
		}
	}
}

// BenchmarkExecute runs a set-field and an output on one packet.
func BenchmarkExecute(b *testing.B) {
	frame := udpFrame(b, "198.18.0.1", "198.18.0.2", 1, 2)
	r := newBatchRig(b, [][]byte{frame}, nil, maskOf(FieldInPort))
	acts := Actions{
		{Type: ActSetField, Field: SetIPv4Dst, Value: [2]uint64{0, 0xc6120063}, Mask: [2]uint64{0, 0xffffffff}},
		Output(2),
	}
	p := vport.NewPacketFrom(frame)
	var k Key
	var l Layout
	Extract(frame, 1, &k, &l)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.w.ex.execute(p, &l, &k, 1, acts)
		if i%vport.BatchSize == vport.BatchSize-1 {
			r.w.ex.flush()
		}
	}
}

// BenchmarkMegaflowLookupLarge is a lookup in one subtable of 50 000 flows
// (the flow-setup test's exact tp_dst rules), keys taken in a scattered
// order: the table no longer fits the caches, so it counts memory accesses.
func BenchmarkMegaflowLookupLarge(b *testing.B) {
	const n = 50000
	tbl := newFlowTable()
	mask := maskOf(FieldInPort, FieldEthType, FieldTpDst)
	keys := make([]Key, n)
	for i := range keys {
		keys[i] = keyWith(1, 0x800, 1, 2, uint64(1024+i))
		tbl.put(&keys[i], &mask, nil, nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	j := 0
	for i := 0; i < b.N; i++ {
		j = (j + 7919) % n // a prime stride: every key, scattered
		if f, _ := tbl.lookup(&keys[j]); f == nil {
			b.Fatal("miss")
		}
	}
}
