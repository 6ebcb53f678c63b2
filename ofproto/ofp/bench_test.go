package ofp

import "testing"

func BenchmarkDecodeFlowMod(b *testing.B) {
	msg := mustMarshal(b, 1, sampleFlowMod())
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, _, err := Decode(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPacketIn() *PacketIn {
	return &PacketIn{BufferID: NoBuffer, TotalLen: 1500, Reason: ReasonNoMatch, TableID: 0, Cookie: 0,
		Match: Match{Fields: []OXM{inPort(1)}}, Data: make([]byte, 1500)}
}

func BenchmarkMarshalPacketIn(b *testing.B) {
	pi := benchPacketIn()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(1, pi); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendPacketIn encodes into a reused buffer, as a connection's
// writer can.
func BenchmarkAppendPacketIn(b *testing.B) {
	pi := benchPacketIn()
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], 1, pi); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalFlowStatsReply(b *testing.B) {
	for _, n := range []int{10, 1000} {
		stats := make([]FlowStats, n)
		for i := range stats {
			stats[i] = sampleFlowStats(i)
		}
		r := &MultipartReply{Body: &FlowStatsReply{Stats: stats}}
		b.Run(map[int]string{10: "10", 1000: "1000"}[n], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := MarshalMultipartReply(1, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAppendPacketInDoesNotAllocate holds the writer path to zero
// allocations.
func TestAppendPacketInDoesNotAllocate(t *testing.T) {
	pi := benchPacketIn()
	buf := make([]byte, 0, 2048)
	if n := testing.AllocsPerRun(100, func() { buf, _ = Append(buf[:0], 1, pi) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
