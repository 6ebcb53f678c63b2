package datapath

import (
	"encoding/binary"
	"testing"

	"github.com/govs/govs/vport"
)

// fuzzAction decodes one header action from 12 bytes of fuzz input.
func fuzzAction(b []byte) Action {
	types := []ActionType{ActSetField, ActSetField, ActSetField, ActPushVLAN, ActPopVLAN,
		ActPushMPLS, ActPopMPLS, ActPushPBB, ActPopPBB}
	ethertypes := []uint16{0x8100, 0x88a8, 0x8847, 0x8848, 0x88e7, 0x0800, 0x86dd, 0x0806, 0x1234}
	v := binary.BigEndian.Uint64(b[4:12])
	return Action{
		Type:      types[int(b[0])%len(types)],
		Field:     SetField(1 + int(b[1])%int(SetNdTll)),
		Ethertype: ethertypes[int(b[2])%len(ethertypes)],
		Value:     [2]uint64{v * 0x9e3779b97f4a7c15, v},
		Mask:      [2]uint64{^uint64(0) >> (b[3] & 63), ^uint64(0) >> (b[3] >> 2 & 63)},
	}
}

// FuzzHeaderActions applies header actions to arbitrary frames: no panic,
// and after every action the layout is what Extract finds in the frame.
func FuzzHeaderActions(f *testing.F) {
	for _, fr := range headerFrames(f) {
		f.Add(fr, []byte{0, 7, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 10})
	}
	f.Fuzz(func(t *testing.T, frame, acts []byte) {
		p := vport.NewPacketFrom(frame)
		var k Key
		var l Layout
		Extract(p.Data(), 0, &k, &l)
		for len(acts) >= 12 {
			a := fuzzAction(acts)
			acts = acts[12:]
			before := append([]byte(nil), p.Data()...)
			l0 := l
			ok := applyHeaderAction(p, &l, &a)
			var l2 Layout
			Extract(p.Data(), 0, &k, &l2)
			if l != l2 {
				t.Fatalf("action %+v on %x (layout %+v):\n layout %+v, Extract says %+v", a, before, l0, l, l2)
			}
			if !ok && len(before)+ethHdrLen+pbbITagLen <= vport.MaxFrameLen {
				t.Fatalf("action %+v failed on a %d-byte frame", a, len(before))
			}
			if !ok && (string(p.Data()) != string(before) || l != l0) {
				t.Fatalf("failed action %+v changed the packet", a)
			}
		}
	})
}
