package datapath

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/govs/govs/vport"
)

func joinBytes(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func beBytes16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func beBytes32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// TestPushPop checks the bytes, key and layout after each push and pop, and
// that a pop undoes a push.
func TestPushPop(t *testing.T) {
	fr := headerFrames(t)
	clearL3 := func(k Key) Key {
		for _, w := range append(l3Words, l4Words...) {
			k[w] = 0
		}
		return k
	}
	tests := []struct {
		name  string
		frame []byte
		push  Action
		pop   Action
		bytes func(f []byte) []byte // the frame after the push
		key   func(k Key) Key       // its key
	}{
		{"vlan", fr["tcp4"], Action{Type: ActPushVLAN, Ethertype: 0x8100, Value: [2]uint64{0, 0x300a}}, Action{Type: ActPopVLAN},
			func(f []byte) []byte { return joinBytes(f[:12], []byte{0x81, 0, 0x30, 0x0a}, f[12:]) },
			func(k Key) Key { FieldVlanTCI.Set(&k, 0x300a); return k }},
		{"vlan-dei", fr["udp6"], Action{Type: ActPushVLAN, Ethertype: 0x88a8, Value: [2]uint64{0, 0xf123}}, Action{Type: ActPopVLAN},
			func(f []byte) []byte { return joinBytes(f[:12], []byte{0x88, 0xa8, 0xf1, 0x23}, f[12:]) },
			func(k Key) Key { FieldVlanTCI.Set(&k, 0xf123); return k }},
		{"vlan-over-vlan", fr["vlan-tcp4"], Action{Type: ActPushVLAN, Ethertype: 0x88a8, Value: [2]uint64{0, 0x0064}}, Action{Type: ActPopVLAN},
			func(f []byte) []byte { return joinBytes(f[:12], []byte{0x88, 0xa8, 0, 0x64}, f[12:]) },
			func(k Key) Key {
				FieldVlan2TCI.Set(&k, FieldVlanTCI.Get(&k))
				FieldVlanTCI.Set(&k, 0x1064)
				return k
			}},
		{"vlan-over-qinq", fr["qinq-udp6"], Action{Type: ActPushVLAN, Ethertype: 0x8100, Value: [2]uint64{0, 7}}, Action{Type: ActPopVLAN},
			func(f []byte) []byte { return joinBytes(f[:12], []byte{0x81, 0, 0, 7}, f[12:]) },
			func(k Key) Key { // a third tag: eth_type is its TPID, no L3
				FieldVlan2TCI.Set(&k, FieldVlanTCI.Get(&k))
				FieldVlanTCI.Set(&k, 0x1007)
				FieldEthType.Set(&k, 0x8100)
				return clearL3(k)
			}},
		{"vlan-arp", fr["arp"], Action{Type: ActPushVLAN, Ethertype: 0x8100, Value: [2]uint64{0, 1}}, Action{Type: ActPopVLAN},
			func(f []byte) []byte { return joinBytes(f[:12], []byte{0x81, 0, 0, 1}, f[12:]) },
			func(k Key) Key { FieldVlanTCI.Set(&k, 0x1001); return k }},
		{"vlan-unknown", fr["unknown"], Action{Type: ActPushVLAN, Ethertype: 0x8100, Value: [2]uint64{0, 1}}, Action{Type: ActPopVLAN},
			func(f []byte) []byte { return joinBytes(f[:12], []byte{0x81, 0, 0, 1}, f[12:]) },
			func(k Key) Key { FieldVlanTCI.Set(&k, 0x1001); return k }},
		{"mpls", fr["tcp4"], Action{Type: ActPushMPLS, Ethertype: 0x8847, Value: [2]uint64{0, 0x12345140}}, Action{Type: ActPopMPLS, Ethertype: 0x0800},
			func(f []byte) []byte { return joinBytes(f[:12], []byte{0x88, 0x47}, beBytes32(0x12345140), f[14:]) },
			func(k Key) Key {
				k = clearL3(k)
				FieldEthType.Set(&k, 0x8847)
				FieldMPLSLSE.Set(&k, 0x12345140)
				return k
			}},
		{"mpls-vlan-ip6", fr["qinq-udp6"], Action{Type: ActPushMPLS, Ethertype: 0x8848, Value: [2]uint64{0, 0x00001140}}, Action{Type: ActPopMPLS, Ethertype: 0x86dd},
			func(f []byte) []byte { return joinBytes(f[:20], []byte{0x88, 0x48}, beBytes32(0x1140), f[22:]) },
			func(k Key) Key {
				k = clearL3(k)
				FieldEthType.Set(&k, 0x8848)
				FieldMPLSLSE.Set(&k, 0x1140)
				return k
			}},
		{"mpls-over-mpls", fr["mpls"], Action{Type: ActPushMPLS, Ethertype: 0x8847, Value: [2]uint64{0, 0x00002040}}, Action{Type: ActPopMPLS, Ethertype: 0x8847},
			func(f []byte) []byte { return joinBytes(f[:14], beBytes32(0x2040), f[14:]) },
			func(k Key) Key { FieldMPLSLSE.Set(&k, 0x2040); return k }},
		{"mpls-snap", fr["snap"], Action{Type: ActPushMPLS, Ethertype: 0x8847, Value: [2]uint64{0, 0x1140}}, Action{Type: ActPopMPLS, Ethertype: 0x0800},
			func(f []byte) []byte { return joinBytes(f[:20], []byte{0x88, 0x47}, beBytes32(0x1140), f[22:]) },
			func(k Key) Key {
				k = clearL3(k)
				FieldEthType.Set(&k, 0x8847)
				FieldMPLSLSE.Set(&k, 0x1140)
				return k
			}},
		{"pbb", fr["vlan-tcp4"], Action{Type: ActPushPBB, Ethertype: 0x88e7, Value: [2]uint64{0, 0x08abcdef}}, Action{Type: ActPopPBB},
			func(f []byte) []byte { return joinBytes(f[:12], []byte{0x88, 0xe7}, beBytes32(0x08abcdef), f) },
			func(k Key) Key {
				k = clearL3(k)
				FieldEthType.Set(&k, 0x88e7)
				FieldVlanTCI.Set(&k, 0)
				FieldPBBISID.Set(&k, 0xabcdef)
				FieldPBBUCA.Set(&k, 1)
				return k
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var k0 Key
			var l0 Layout
			Extract(tc.frame, 3, &k0, &l0)
			pushed, k, ok := applyOne(t, tc.frame, tc.push)
			if !ok {
				t.Fatal("push failed")
			}
			if want := tc.bytes(tc.frame); !bytes.Equal(pushed, want) {
				t.Errorf("after push\n got  %x\n want %x", pushed, want)
			}
			if want := tc.key(k0); k != want {
				t.Errorf("key after push:%s", diffKeys(&k, &want))
			}
			popped, k, _ := applyOne(t, pushed, tc.pop)
			if !bytes.Equal(popped, tc.frame) {
				t.Errorf("after pop\n got  %x\n want %x", popped, tc.frame)
			}
			if k != k0 {
				t.Errorf("key after pop:%s", diffKeys(&k, &k0))
			}
		})
	}
}

// TestPushPopSequences runs push and pop actions back to back on one
// packet, checking the layout against Extract after every step.
func TestPushPopSequences(t *testing.T) {
	vlan := func(tci uint64) Action { return Action{Type: ActPushVLAN, Ethertype: 0x8100, Value: [2]uint64{0, tci}} }
	qinq := Action{Type: ActPushVLAN, Ethertype: 0x88a8, Value: [2]uint64{0, 5}}
	mpls := Action{Type: ActPushMPLS, Ethertype: 0x8847, Value: [2]uint64{0, 0x1040}}
	pbb := Action{Type: ActPushPBB, Ethertype: 0x88e7, Value: [2]uint64{0, 99}}
	popV, popP := Action{Type: ActPopVLAN}, Action{Type: ActPopPBB}
	popM := func(typ uint16) Action { return Action{Type: ActPopMPLS, Ethertype: typ} }
	setDst := Action{Type: ActSetField, Field: SetIPv4Dst, Value: [2]uint64{0, 0x0a000001}, Mask: [2]uint64{0, 0xffffffff}}
	setTTL := Action{Type: ActSetField, Field: SetIPTTL, Value: [2]uint64{0, 5}, Mask: [2]uint64{0, 0xff}}
	seqs := [][]Action{
		{vlan(1), vlan(2), vlan(3), popV, popV, setDst, popV, setDst},
		{mpls, vlan(4), mpls, popM(0x8847), popV, popM(0x0800), setDst, setTTL},
		{qinq, vlan(1), pbb, vlan(2), popV, popP, popV, popV, setDst},
		{mpls, pbb, mpls, popP, popM(0x0800), setTTL},
		{vlan(1), mpls, popV, popM(0x0800), popM(0x0800), popV, popP},
	}
	for name, frame := range headerFrames(t) {
		for i, seq := range seqs {
			p := vport.NewPacketFrom(frame)
			var k Key
			var l Layout
			Extract(p.Data(), 0, &k, &l)
			for j, a := range seq {
				applyHeaderAction(p, &l, &a)
				var l2 Layout
				Extract(p.Data(), 0, &k, &l2)
				if l != l2 {
					t.Errorf("%s seq %d step %d: layout %+v, Extract says %+v", name, i, j, l, l2)
					break
				}
			}
			checkOracle(t, p.Data(), name)
		}
	}
}

// TestPushNoRoom checks that a push that does not fit leaves the packet and
// layout unchanged and reports it.
func TestPushNoRoom(t *testing.T) {
	big := make([]byte, vport.MaxFrameLen)
	copy(big, headerFrames(t)["tcp4"])
	for _, a := range []Action{
		{Type: ActPushVLAN, Ethertype: 0x8100, Value: [2]uint64{0, 1}},
		{Type: ActPushMPLS, Ethertype: 0x8847, Value: [2]uint64{0, 0x140}},
		{Type: ActPushPBB, Ethertype: 0x88e7, Value: [2]uint64{0, 1}},
	} {
		p := vport.NewPacketFrom(big)
		p.Push(vport.Headroom) // use up the headroom: the buffer is full
		copy(p.Data(), big)
		var k Key
		var l Layout
		Extract(p.Data(), 0, &k, &l)
		before := append([]byte(nil), p.Data()...)
		l0 := l
		if applyHeaderAction(p, &l, &a) {
			t.Errorf("action %d: push into a full buffer succeeded", a.Type)
		}
		if !bytes.Equal(p.Data(), before) || l != l0 {
			t.Errorf("action %d: failed push changed the packet", a.Type)
		}
	}
}

// TestHeaderNoOps checks that actions on headers a packet lacks change
// nothing.
func TestHeaderNoOps(t *testing.T) {
	fr := headerFrames(t)
	cases := []struct {
		frame string
		a     Action
	}{
		{"tcp4", Action{Type: ActPopVLAN}},
		{"tcp4", Action{Type: ActPopMPLS, Ethertype: 0x0800}},
		{"tcp4", Action{Type: ActPopPBB}},
		{"pbb", Action{Type: ActPushMPLS, Ethertype: 0x8847, Value: [2]uint64{0, 0x140}}},
		{"tcp4", Action{Type: ActSetField, Field: SetVlanTCI, Value: [2]uint64{0, 5}, Mask: [2]uint64{0, 0xffff}}},
		{"tcp4", Action{Type: ActSetField, Field: SetNdTarget, Value: [2]uint64{1, 5}, Mask: [2]uint64{^uint64(0), ^uint64(0)}}},
		{"ns-bare", Action{Type: ActSetField, Field: SetNdSll, Value: [2]uint64{0, 5}, Mask: [2]uint64{0, 0xffffffffffff}}},
		{"ns", Action{Type: ActSetField, Field: SetNdTll, Value: [2]uint64{0, 5}, Mask: [2]uint64{0, 0xffffffffffff}}},
		{"frag4-later", Action{Type: ActSetField, Field: SetTpSrc, Value: [2]uint64{0, 5}, Mask: [2]uint64{0, 0xffff}}},
		{"mpls", Action{Type: ActSetField, Field: SetIPv4Dst, Value: [2]uint64{0, 5}, Mask: [2]uint64{0, 0xffffffff}}},
		{"arp", Action{Type: ActSetField, Field: SetIPTTL, Value: [2]uint64{0, 5}, Mask: [2]uint64{0, 0xff}}},
		{"tcp4", Action{Type: ActSetField, Field: SetEthDst, Value: [2]uint64{0, 5}}}, // mask 0
		{"tcp4", Action{Type: ActMeter}},
	}
	for _, c := range cases {
		f := fr[c.frame]
		out, _, ok := applyOne(t, f, c.a)
		if !ok || !bytes.Equal(out, f) {
			t.Errorf("%s: action %d/%d changed the packet", c.frame, c.a.Type, c.a.Field)
		}
	}
	runt := vport.NewPacketFrom([]byte{1, 2, 3})
	var l Layout
	for _, a := range []Action{{Type: ActPushVLAN}, {Type: ActPushPBB}, {Type: ActPushMPLS},
		{Type: ActSetField, Field: SetEthDst, Mask: [2]uint64{0, ^uint64(0)}},
		{Type: ActSetField, Field: SetEthType, Mask: [2]uint64{0, ^uint64(0)}}} {
		if !applyHeaderAction(runt, &l, &a) || runt.Len() != 3 {
			t.Errorf("action %d on a runt frame", a.Type)
		}
	}
}

// TestSetEthTypeAndProto covers the set-fields that change how the frame
// parses: the layout follows.
func TestSetEthTypeAndProto(t *testing.T) {
	fr := headerFrames(t)
	set := func(f SetField, v, m uint64) Action {
		return Action{Type: ActSetField, Field: f, Value: [2]uint64{0, v}, Mask: [2]uint64{0, m}}
	}
	cases := []struct {
		frame string
		a     Action
		at    int // offset of the changed byte(s)
		want  []byte
	}{
		{"tcp4", set(SetEthType, 0x86dd, 0xffff), 12, []byte{0x86, 0xdd}},
		{"vlan-tcp4", set(SetEthType, 0x0806, 0xffff), 16, []byte{0x08, 0x06}},
		{"snap", set(SetEthType, 0x1234, 0xffff), 20, []byte{0x12, 0x34}},
		{"mpls", set(SetEthType, 0x8848, 0x00ff), 12, []byte{0x88, 0x48}},
		{"unknown", set(SetEthType, 0x0800, 0xffff), 12, []byte{0x08, 0x00}},
		{"tcp4", set(SetIPProto, 17, 0xff), 23, []byte{17}},
		{"udp4", set(SetIPProto, 1, 0xff), 23, []byte{1}},
		{"tcp6", set(SetIPProto, 17, 0xff), 20, []byte{17}},
		{"ext-udp6", set(SetIPProto, 6, 0xff), 14 + 48, []byte{6}},
		{"ext-udp6", set(SetIPProto, 60, 0xff), 14 + 48, []byte{60}},
	}
	for _, c := range cases {
		f := fr[c.frame]
		out, k, _ := applyOne(t, f, c.a)
		want := append([]byte(nil), f...)
		copy(want[c.at:], c.want)
		// The IPv4 header checksum changes with the protocol, and so does
		// the L4 checksum, whose pseudo header holds the protocol
		// (TestSetIPProtoKeepsPseudoHeaderChecksum checks its value).
		if out[12] == 0x08 && out[13] == 0 && c.a.Field == SetIPProto {
			copy(want[24:26], out[24:26])
			verifyIPv4Header(t, out[14:34])
		}
		if c.a.Field == SetIPProto {
			var ok Key
			var ol Layout
			Extract(f, 0, &ok, &ol)
			at := int(ol.L4) + map[uint8]int{6: 16, 17: 6}[ol.L4Proto]
			copy(want[at:at+2], out[at:at+2])
		}
		if !bytes.Equal(out, want) {
			t.Errorf("%s %d: got %x\n want %x", c.frame, c.a.Field, out, want)
		}
		if wk, _, _ := gopacketKey(out, 3); k != wk {
			t.Errorf("%s %d: key:%s", c.frame, c.a.Field, diffKeys(&k, &wk))
		}
	}
}

// verifyIPv4Header checks an IPv4 header's checksum with gopacket.
func verifyIPv4Header(t *testing.T, h []byte) {
	t.Helper()
	var ip layers.IPv4
	if err := ip.DecodeFromBytes(h, gopacket.NilDecodeFeedback); err != nil && ip.IHL != 5 {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, &ip)
	if !bytes.Equal(buf.Bytes()[:20], h[:20]) {
		t.Errorf("IPv4 header checksum: got %x, want %x", h[10:12], buf.Bytes()[10:12])
	}
}
