package datapath

import "testing"

// Words of each stage of the key that belong to a header class.
var (
	l3Words = []int{WordNw, WordIPv4, WordIPv6SrcHi, WordIPv6SrcLo, WordIPv6DstHi, WordIPv6DstLo}
	l4Words = []int{WordL4, WordArpSha, WordArpTha, WordNdTargetHi, WordNdTargetLo}
)

func wordsZero(k *Key, words []int) bool {
	for _, w := range words {
		if k[w] != 0 {
			return false
		}
	}
	return true
}

// checkInvariants checks properties every key and layout must have,
// whatever the frame.
func checkInvariants(t testing.TB, frame []byte, k *Key, l *Layout) {
	t.Helper()
	fail := func(what string) {
		t.Helper()
		t.Errorf("%s\n key %s\n layout %+v\n frame %x", what, fieldsOf(k), *l, frame)
	}
	if len(frame) < ethHdrLen {
		if *l != (Layout{}) || *k != (Key{WordInPort: k[WordInPort]}) {
			fail("runt frame with more than in_port")
		}
		return
	}
	if k[WordMetadata] != 0 || k[WordTunID] != 0 || FieldRecircID.Get(k) != 0 {
		fail("metadata set by Extract")
	}
	for _, o := range []uint16{l.Vlan, l.MPLS, l.PBB, l.L3, l.L4} {
		if int(o) >= len(frame) {
			fail("offset beyond the frame")
		}
	}
	if FieldVlan2TCI.Get(k) != 0 && FieldVlanTCI.Get(k) == 0 {
		fail("inner tag without outer tag")
	}
	if (FieldVlanTCI.Get(k) != 0) != (l.Vlan != 0) {
		fail("vlan_tci and Layout.Vlan disagree")
	}
	typ := uint16(FieldEthType.Get(k))
	if typ != l.EthType {
		fail("eth_type and Layout.EthType disagree")
	}
	switch typ {
	case ethTypeMPLS, ethTypeMPLSMC, ethTypePBB:
	default:
		if k[WordMPLS] != 0 || l.MPLS != 0 || l.PBB != 0 {
			fail("MPLS/PBB fields without MPLS/PBB")
		}
	}
	switch typ {
	case ethTypeIPv4, ethTypeIPv6, ethTypeARP:
	default:
		if !wordsZero(k, l3Words) || !wordsZero(k, l4Words) || l.L3 != 0 || l.L4 != 0 {
			fail("L3/L4 fields without IP or ARP")
		}
	}
	if l.L3 == 0 && (!wordsZero(k, l3Words) || !wordsZero(k, l4Words) || l.L4 != 0) {
		fail("L3/L4 fields without an L3 header")
	}
	if typ == ethTypeARP && (k[WordL4] != 0 || !wordsZero(k, l3Words[2:]) || k[WordNdTargetHi] != 0 || k[WordNdTargetLo] != 0) {
		fail("ARP with IPv6 or L4 fields")
	}
	if typ == ethTypeIPv4 && (!wordsZero(k, l3Words[2:]) || FieldIPv6Label.Get(k) != 0 || FieldIPv6Exthdr.Get(k) != 0) {
		fail("IPv4 with IPv6 fields")
	}
	if typ == ethTypeIPv6 && k[WordIPv4] != 0 {
		fail("IPv6 with IPv4 fields")
	}
	if typ != ethTypeARP && l.L4 == 0 && !wordsZero(k, l4Words) {
		fail("L4 fields without an L4 header")
	}
	if FieldNwFrag.Get(k)&FragLater != 0 && l.L4 != 0 {
		fail("L4 header parsed in a later fragment")
	}

	// Cut after the L3 header's start, then right before the L4 header:
	// the first has no L3, the second no L4, and both keep the rest.
	if l.L3 != 0 {
		var k2 Key
		var l2 Layout
		Extract(frame[:l.L3+1], 0, &k2, &l2)
		if l2.L3 != 0 || !wordsZero(&k2, l3Words) {
			t.Errorf("frame cut inside L3 still has L3 fields: %s", fieldsOf(&k2))
		}
	}
	if l.L4 != 0 {
		var k2 Key
		var l2 Layout
		Extract(frame[:l.L4], uint32(FieldInPort.Get(k)), &k2, &l2)
		want := *k
		for _, w := range l4Words {
			want[w] = 0
		}
		wl := *l
		wl.L4, wl.L4Proto = 0, 0
		if k2 != want || l2 != wl {
			t.Errorf("frame cut before L4:%s\n layout %+v want %+v", diffKeys(&k2, &want), l2, wl)
		}
	}
}

// FuzzExtract checks that Extract never panics, is deterministic, keeps
// the key's invariants, and agrees with the gopacket oracle.
func FuzzExtract(f *testing.F) {
	for _, fr := range craftedFrames(f) {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var k1, k2 Key
		var l1, l2 Layout
		Extract(frame, 5, &k1, &l1)
		Extract(frame, 5, &k2, &l2)
		if k1 != k2 || l1 != l2 {
			t.Fatalf("Extract is not deterministic on %x", frame)
		}
		checkInvariants(t, frame, &k1, &l1)
		checkOracle(t, frame, "fuzz")
	})
}
