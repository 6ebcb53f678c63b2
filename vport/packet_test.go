package vport

import (
	"bytes"
	"testing"
)

// seq returns n bytes 1, 2, 3, ... (mod 256), a frame whose every byte says
// where it came from.
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i + 1)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func fill(n int, v byte) []byte { return bytes.Repeat([]byte{v}, n) }

// checkInvariants verifies what every method must preserve: the frame lies
// inside the buffer and Data has Len bytes.
func checkInvariants(t *testing.T, p *Packet) {
	t.Helper()
	if p.start < 0 || p.start > p.end || p.end > len(p.buf) {
		t.Fatalf("bad bounds start=%d end=%d buf=%d", p.start, p.end, len(p.buf))
	}
	if len(p.Data()) != p.Len() {
		t.Fatalf("len(Data)=%d Len=%d", len(p.Data()), p.Len())
	}
}

func TestPacketPush(t *testing.T) {
	tests := []struct {
		name    string
		frame   int
		pull    int // Pull before Push (shrinks headroom use)
		push    int // Push after pulling
		wantNil bool
		wantLen int
	}{
		{"zero", 60, 0, 0, false, 60},
		{"vlan tag", 60, 0, 4, false, 64},
		{"whole headroom", 60, 0, Headroom, false, 60 + Headroom},
		{"beyond headroom moves frame", 60, 0, Headroom + 1, false, 61 + Headroom},
		{"after pull", 60, 14, 18, false, 64},
		{"max frame plus headroom", MaxFrameLen, 0, Headroom, false, MaxFrameLen + Headroom},
		{"max frame, one more than headroom", MaxFrameLen, 0, Headroom + 1, true, MaxFrameLen},
		{"empty frame, full buffer", 0, 0, MaxFrameLen, false, MaxFrameLen},
		{"empty frame, too much", 0, 0, BufSize + 1, true, 0},
		{"negative", 60, 0, -4, true, 60},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := seq(tc.frame)
			p := NewPacketFrom(f)
			p.Pull(tc.pull)
			got := p.Push(tc.push)
			checkInvariants(t, p)
			if (got == nil) != tc.wantNil {
				t.Fatalf("Push(%d) nil=%v, want nil=%v", tc.push, got == nil, tc.wantNil)
			}
			if p.Len() != tc.wantLen {
				t.Fatalf("Len=%d, want %d", p.Len(), tc.wantLen)
			}
			if got != nil {
				if len(got) != p.Len() {
					t.Fatalf("Push returned %d bytes, frame has %d", len(got), p.Len())
				}
				if !bytes.Equal(p.Data()[tc.push:], f[tc.pull:]) {
					t.Fatalf("frame body changed by Push")
				}
			} else if !bytes.Equal(p.Data(), f[tc.pull:]) {
				t.Fatalf("failed Push changed the frame")
			}
		})
	}
}

func TestPacketPull(t *testing.T) {
	for _, tc := range []struct{ frame, pull, want int }{
		{60, 0, 60}, {60, 14, 46}, {60, 60, 0}, {60, 61, 0}, {60, -1, 60},
	} {
		p := NewPacketFrom(seq(tc.frame))
		p.Pull(tc.pull)
		checkInvariants(t, p)
		if p.Len() != tc.want {
			t.Errorf("Pull(%d) of %d: Len=%d, want %d", tc.pull, tc.frame, p.Len(), tc.want)
		}
	}
}

func TestPacketInsertRemove(t *testing.T) {
	f := seq(64)
	tag := []byte{0x81, 0x00, 0x00, 0x05}
	tests := []struct {
		name    string
		setup   func(p *Packet)
		off, n  int
		wantNil bool
		want    []byte
	}{
		{"vlan after macs", nil, 12, 4, false, cat(f[:12], tag, f[12:])},
		{"at front", nil, 0, 4, false, cat(tag, f)},
		{"at end", nil, 64, 4, false, cat(f, tag)},
		{"zero bytes", nil, 12, 0, false, f},
		{"offset past end", nil, 65, 4, true, f},
		{"negative offset", nil, -1, 4, true, f},
		{"negative length", nil, 12, -4, true, f},
		{"no headroom left", func(p *Packet) { p.Push(Headroom) }, 12, 4, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPacketFrom(f)
			if tc.setup != nil {
				tc.setup(p)
			}
			before := append([]byte(nil), p.Data()...)
			gap := p.Insert(tc.off, tc.n)
			checkInvariants(t, p)
			if (gap == nil) != tc.wantNil {
				t.Fatalf("Insert(%d,%d) nil=%v, want %v", tc.off, tc.n, gap == nil, tc.wantNil)
			}
			if gap == nil {
				if !bytes.Equal(p.Data(), before) {
					t.Fatalf("failed Insert changed the frame")
				}
				return
			}
			if len(gap) != tc.n {
				t.Fatalf("gap has %d bytes, want %d", len(gap), tc.n)
			}
			copy(gap, tag)
			want := tc.want
			if want == nil {
				want = cat(before[:tc.off], tag[:tc.n], before[tc.off:])
			}
			if !bytes.Equal(p.Data(), want) {
				t.Fatalf("after Insert:\n got %x\nwant %x", p.Data(), want)
			}
			// Remove undoes Insert.
			p.Remove(tc.off, tc.n)
			checkInvariants(t, p)
			if !bytes.Equal(p.Data(), before) {
				t.Fatalf("Remove did not undo Insert:\n got %x\nwant %x", p.Data(), before)
			}
		})
	}
}

func TestPacketRemove(t *testing.T) {
	f := seq(64)
	tests := []struct {
		off, n int
		want   []byte
	}{
		{12, 4, cat(f[:12], f[16:])},
		{0, 4, f[4:]},
		{60, 4, f[:60]},
		{0, 64, nil},
		{0, 0, f},
		{61, 4, f},  // past the end: no-op
		{-1, 4, f},  // negative: no-op
		{12, -4, f}, // negative: no-op
	}
	for _, tc := range tests {
		p := NewPacketFrom(f)
		p.Remove(tc.off, tc.n)
		checkInvariants(t, p)
		if !bytes.Equal(p.Data(), tc.want) {
			t.Errorf("Remove(%d,%d):\n got %x\nwant %x", tc.off, tc.n, p.Data(), tc.want)
		}
	}
}

func TestPacketTruncatePad(t *testing.T) {
	f := seq(60)
	tests := []struct {
		name string
		op   func(p *Packet)
		want []byte
	}{
		{"truncate shorter", func(p *Packet) { p.Truncate(14) }, f[:14]},
		{"truncate longer is no-op", func(p *Packet) { p.Truncate(100) }, f},
		{"truncate zero", func(p *Packet) { p.Truncate(0) }, nil},
		{"truncate negative", func(p *Packet) { p.Truncate(-1) }, nil},
		{"pad", func(p *Packet) { p.Pad(64) }, cat(f, fill(4, 0))},
		{"pad shorter is no-op", func(p *Packet) { p.Pad(14) }, f},
		{"pad negative is no-op", func(p *Packet) { p.Pad(-1) }, f},
		{"pad zeroes stale bytes", func(p *Packet) { p.Truncate(10); p.Pad(60) }, cat(f[:10], fill(50, 0))},
		{"pad to buffer end", func(p *Packet) { p.Pad(BufSize) }, cat(f, fill(MaxFrameLen-60, 0))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPacketFrom(f)
			tc.op(p)
			checkInvariants(t, p)
			if !bytes.Equal(p.Data(), tc.want) {
				t.Fatalf("got %d bytes %x\nwant %d bytes %x", p.Len(), p.Data(), len(tc.want), tc.want)
			}
		})
	}
}

func TestPacketRecvBufSetLen(t *testing.T) {
	p := NewPacketFrom(seq(100))
	p.Push(10)
	b := p.RecvBuf()
	if len(b) != MaxFrameLen {
		t.Fatalf("RecvBuf has %d bytes, want %d", len(b), MaxFrameLen)
	}
	copy(b, "hello")
	for _, tc := range []struct{ n, want int }{{5, 5}, {0, 0}, {-1, 0}, {MaxFrameLen, MaxFrameLen}, {MaxFrameLen + 1, MaxFrameLen}} {
		p.SetLen(tc.n)
		checkInvariants(t, p)
		if p.Len() != tc.want {
			t.Errorf("SetLen(%d): Len=%d, want %d", tc.n, p.Len(), tc.want)
		}
	}
	p.SetLen(5)
	if string(p.Data()) != "hello" {
		t.Fatalf("Data=%q", p.Data())
	}
	// The full headroom is available again after RecvBuf.
	if p.Push(Headroom) == nil || p.Len() != 5+Headroom {
		t.Fatalf("headroom not restored by RecvBuf")
	}
}

func TestPacketSetFrameCopyFrom(t *testing.T) {
	big := seq(MaxFrameLen + 10)
	p := NewPacketFrom(big)
	if p.Len() != MaxFrameLen || !bytes.Equal(p.Data(), big[:MaxFrameLen]) {
		t.Fatalf("NewPacketFrom did not truncate to MaxFrameLen")
	}
	q := NewPacket()
	q.CopyFrom(p)
	if !bytes.Equal(q.Data(), p.Data()) {
		t.Fatalf("CopyFrom differs")
	}
	// Copying a packet onto itself after a Push keeps the frame.
	r := NewPacketFrom(seq(60))
	copy(r.Push(4), "abcd")
	want := append([]byte(nil), r.Data()...)
	r.CopyFrom(r)
	if !bytes.Equal(r.Data(), want) || r.Push(Headroom) == nil {
		t.Fatalf("self CopyFrom broke the packet")
	}
}

func TestPacketZeroAllocs(t *testing.T) {
	p := NewPacketFrom(seq(60))
	allocs := testing.AllocsPerRun(100, func() {
		copy(p.Insert(12, 4), []byte{0x81, 0, 0, 1})
		p.Remove(12, 4)
		p.Push(14)
		p.Pull(14)
		p.Pad(64)
		p.Truncate(60)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run", allocs)
	}
}
