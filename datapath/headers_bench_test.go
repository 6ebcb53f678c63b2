package datapath

import (
	"testing"

	"github.com/govs/govs/vport"
)

var (
	actSetIPv4Dst = Action{Type: ActSetField, Field: SetIPv4Dst, Value: [2]uint64{0, 0xc6120063}, Mask: [2]uint64{0, 0xffffffff}}
	actSetIPv6Dst = Action{Type: ActSetField, Field: SetIPv6Dst, Value: [2]uint64{0x20010db800000000, 9}, Mask: [2]uint64{^uint64(0), ^uint64(0)}}
	actSetTpDst   = Action{Type: ActSetField, Field: SetTpDst, Value: [2]uint64{0, 8080}, Mask: [2]uint64{0, 0xffff}}
	actPushVLAN   = Action{Type: ActPushVLAN, Ethertype: 0x8100, Value: [2]uint64{0, 10}}
	actPopVLAN    = Action{Type: ActPopVLAN}
	actPushMPLS   = Action{Type: ActPushMPLS, Ethertype: 0x8847, Value: [2]uint64{0, 0x1140}}
	actPopMPLS    = Action{Type: ActPopMPLS, Ethertype: 0x0800}
)

// TestHeaderAllocs proves the header actions allocate nothing.
func TestHeaderAllocs(t *testing.T) {
	fr := headerFrames(t)
	cases := []struct {
		frame string
		acts  []Action
	}{
		{"tcp4", []Action{actSetIPv4Dst, actSetTpDst}},
		{"tcp6", []Action{actSetIPv6Dst}},
		{"routing6", []Action{actSetIPv6Dst}},
		{"sctp4", []Action{actSetTpDst}},
		{"ns", []Action{{Type: ActSetField, Field: SetNdSll, Value: [2]uint64{0, 1}, Mask: [2]uint64{0, 0xffffffffffff}}}},
		{"tcp4", []Action{actPushVLAN, actPopVLAN}},
		{"qinq-udp6", []Action{actPushVLAN, actPopVLAN}},
		{"tcp4", []Action{actPushMPLS, actPopMPLS}},
		{"tcp4", []Action{{Type: ActPushPBB, Ethertype: 0x88e7, Value: [2]uint64{0, 1}}, {Type: ActPopPBB}}},
		{"tcp4", []Action{{Type: ActSetField, Field: SetIPProto, Value: [2]uint64{0, 17}, Mask: [2]uint64{0, 0xff}}}},
	}
	for _, c := range cases {
		p := vport.NewPacketFrom(fr[c.frame])
		var k Key
		var l Layout
		Extract(p.Data(), 0, &k, &l)
		n := testing.AllocsPerRun(100, func() {
			for i := range c.acts {
				applyHeaderAction(p, &l, &c.acts[i])
			}
		})
		if n != 0 {
			t.Errorf("%s %v: %v allocations", c.frame, c.acts[0].Type, n)
		}
	}
}

func benchActions(b *testing.B, frame []byte, acts ...Action) {
	p := vport.NewPacketFrom(frame)
	var k Key
	var l Layout
	Extract(p.Data(), 0, &k, &l)
	b.ReportAllocs()
	for b.Loop() {
		for i := range acts {
			applyHeaderAction(p, &l, &acts[i])
		}
	}
}

func BenchmarkSetIPv4DstTCP(b *testing.B) {
	a, c := actSetIPv4Dst, actSetIPv4Dst
	c.Value[1] = 0xc6120002 // alternate, so every run changes the address
	benchActions(b, headerFrames(b)["tcp4"], a, c)
}

func BenchmarkSetIPv6DstTCP(b *testing.B) {
	a, c := actSetIPv6Dst, actSetIPv6Dst
	c.Value[1] = 2
	benchActions(b, headerFrames(b)["tcp6"], a, c)
}

func BenchmarkSetTpDstSCTP(b *testing.B) {
	a, c := actSetTpDst, actSetTpDst
	c.Value[1] = 9090 // alternate, so that every run recomputes the CRC32c
	benchActions(b, headerFrames(b)["sctp4"], a, c)
}

func BenchmarkPushPopVLAN(b *testing.B) {
	benchActions(b, headerFrames(b)["tcp4"], actPushVLAN, actPopVLAN)
}

func BenchmarkPushPopMPLS(b *testing.B) {
	benchActions(b, headerFrames(b)["tcp4"], actPushMPLS, actPopMPLS)
}
