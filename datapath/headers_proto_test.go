package datapath

import (
	"encoding/binary"
	"testing"

	"github.com/govs/govs/vport"
)

// onesSum adds b as big-endian 16-bit words (odd length padded).
func onesSum(sum uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	return sum
}

// TestSetIPProtoKeepsPseudoHeaderChecksum: after set_field ip_proto the
// L4 checksum is valid for a pseudo header with the new protocol, as a
// receiver (and os-ken's expected packets) compute it.
func TestSetIPProtoKeepsPseudoHeaderChecksum(t *testing.T) {
	f := udpFrame(t, "198.18.0.1", "198.18.0.2", 1000, 53) // UDP: checksum at L4+6
	p := vport.NewPacketFrom(f)
	var k Key
	var l Layout
	Extract(p.Data(), 1, &k, &l)
	applyHeaderAction(p, &l, &Action{Type: ActSetField, Field: SetIPProto, Value: [2]uint64{0, 99}, Mask: [2]uint64{0, 0xff}})
	g := p.Data()
	ip := g[14:34]
	if ip[9] != 99 {
		t.Fatalf("protocol %d, want 99", ip[9])
	}
	seg := g[34:]
	var pseudo [12]byte
	copy(pseudo[0:8], ip[12:20])
	pseudo[9] = 99
	binary.BigEndian.PutUint16(pseudo[10:], uint16(len(seg)))
	sum := onesSum(onesSum(0, pseudo[:]), seg)
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	if sum != 0xffff {
		t.Errorf("L4 checksum does not verify with the new protocol in the pseudo header (sum %#x)", sum)
	}
	// The IPv4 header checksum is right too.
	if s := onesSum(0, ip); (s&0xffff)+(s>>16) != 0xffff {
		t.Errorf("IPv4 header checksum wrong")
	}
}
