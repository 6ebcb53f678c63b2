package datapath

import "math/bits"

// Key is the flow key: every header field the switch can match on, in a
// fixed array of 64-bit words. A mask is a Key too: a 1 bit means "this bit
// of the key matters". Masking, hashing and comparing are loops over words.
//
// Layout (bit 0 is the least significant bit of a word). Multi-byte fields
// are stored as integers in network byte order value (a MAC 00:11:22:33:44:55
// is 0x001122334455); IPv6 addresses and the ND target take two words, high
// half first. The words are grouped into lookup stages (metadata, L2, L3,
// L4) so that a classifier can stop at the first stage that mismatches.
//
//	stage  word                 bits 0..63
//	meta    0 WordInPort        in_port:32  recirc_id:32
//	meta    1 WordMetadata      metadata:64 (OpenFlow pipeline only; always 0 in the datapath)
//	meta    2 WordTunID         tun_id:64
//	l2      3 WordEthDst        eth_dst:48  -
//	l2      4 WordEthSrc        eth_src:48  -
//	l2      5 WordEthType       eth_type:16 vlan_tci:16 vlan2_tci:16 -
//	l2      6 WordMPLS          mpls_lse:32 pbb_isid:24 pbb_uca:1 -
//	l3      7 WordNw            nw_proto:16 nw_tos:8 nw_ttl:8 ipv6_label:20 nw_frag:2 - ipv6_exthdr:9 -
//	l3      8 WordIPv4          nw_src:32 nw_dst:32         (IPv4 addresses, ARP spa/tpa)
//	l3      9 WordIPv6SrcHi     ipv6_src[0:8]
//	l3     10 WordIPv6SrcLo     ipv6_src[8:16]
//	l3     11 WordIPv6DstHi     ipv6_dst[0:8]
//	l3     12 WordIPv6DstLo     ipv6_dst[8:16]
//	l4     13 WordL4            tp_src:16 tp_dst:16 tcp_flags:12 -
//	l4     14 WordArpSha        arp_sha:48 -               (ND: source link-layer address)
//	l4     15 WordArpTha        arp_tha:48 -               (ND: target link-layer address)
//	l4     16 WordNdTargetHi    nd_target[0:8]
//	l4     17 WordNdTargetLo    nd_target[8:16]
//
// Field conventions (as in Open vSwitch's struct flow):
//   - eth_type is the type after any VLAN tags (the "inner" ethertype);
//     frames with a length field instead of a type have eth_type 0x05ff.
//   - vlan_tci is the outer 802.1Q/802.1ad tag's TCI with the CFI/DEI bit
//     replaced by "tag present" (0x1000); 0 means untagged. vlan2_tci is the
//     second tag, same convention.
//   - nw_proto holds the IP protocol, or the ARP opcode for ARP.
//   - nw_tos is the whole TOS/traffic-class byte: DSCP<<2 | ECN.
//   - nw_frag: bit 0 = fragment (any), bit 1 = later fragment (offset != 0).
//   - tp_src/tp_dst hold TCP/UDP/SCTP ports, or ICMP/ICMPv6 type/code.
//   - For ICMPv6 neighbour discovery, arp_sha/arp_tha hold the source/target
//     link-layer address options and nd_target the target address.
//   - ipv6_exthdr uses the OpenFlow OFPIEH_* bits.
type Key [KeyWords]uint64

// KeyWords is the number of 64-bit words in a Key.
const KeyWords = 18

// Word indexes.
const (
	WordInPort = iota
	WordMetadata
	WordTunID
	WordEthDst
	WordEthSrc
	WordEthType
	WordMPLS
	WordNw
	WordIPv4
	WordIPv6SrcHi
	WordIPv6SrcLo
	WordIPv6DstHi
	WordIPv6DstLo
	WordL4
	WordArpSha
	WordArpTha
	WordNdTargetHi
	WordNdTargetLo
)

// Stage boundaries: stage i covers words [StageEnd[i-1], StageEnd[i]).
const (
	StageMeta = iota
	StageL2
	StageL3
	StageL4
	NumStages
)

// StageEnd is the first word after each stage.
var StageEnd = [NumStages]int{WordEthDst, WordNw, WordL4, KeyWords}

// Field is one field of the key: width bits at shift within word.
// Fields of 128 bits (IPv6 addresses, ND target) are described by two
// Fields, hi and lo.
type Field struct {
	Name  string
	Word  uint8
	Shift uint8
	Bits  uint8
}

// The key's fields. The names are those Open vSwitch prints in
// `dpctl/dump-flows` where one exists.
var (
	FieldInPort     = Field{"in_port", WordInPort, 0, 32}
	FieldRecircID   = Field{"recirc_id", WordInPort, 32, 32}
	FieldMetadata   = Field{"metadata", WordMetadata, 0, 64}
	FieldTunID      = Field{"tun_id", WordTunID, 0, 64}
	FieldEthDst     = Field{"eth_dst", WordEthDst, 0, 48}
	FieldEthSrc     = Field{"eth_src", WordEthSrc, 0, 48}
	FieldEthType    = Field{"eth_type", WordEthType, 0, 16}
	FieldVlanTCI    = Field{"vlan_tci", WordEthType, 16, 16}
	FieldVlan2TCI   = Field{"vlan2_tci", WordEthType, 32, 16}
	FieldMPLSLSE    = Field{"mpls_lse", WordMPLS, 0, 32}
	FieldPBBISID    = Field{"pbb_isid", WordMPLS, 32, 24}
	FieldPBBUCA     = Field{"pbb_uca", WordMPLS, 56, 1}
	FieldNwProto    = Field{"nw_proto", WordNw, 0, 16}
	FieldNwTos      = Field{"nw_tos", WordNw, 16, 8}
	FieldNwTTL      = Field{"nw_ttl", WordNw, 24, 8}
	FieldIPv6Label  = Field{"ipv6_label", WordNw, 32, 20}
	FieldNwFrag     = Field{"nw_frag", WordNw, 52, 2}
	FieldIPv6Exthdr = Field{"ipv6_exthdr", WordNw, 54, 9}
	FieldIPv4Src    = Field{"nw_src", WordIPv4, 0, 32}
	FieldIPv4Dst    = Field{"nw_dst", WordIPv4, 32, 32}
	FieldIPv6SrcHi  = Field{"ipv6_src_hi", WordIPv6SrcHi, 0, 64}
	FieldIPv6SrcLo  = Field{"ipv6_src_lo", WordIPv6SrcLo, 0, 64}
	FieldIPv6DstHi  = Field{"ipv6_dst_hi", WordIPv6DstHi, 0, 64}
	FieldIPv6DstLo  = Field{"ipv6_dst_lo", WordIPv6DstLo, 0, 64}
	FieldTpSrc      = Field{"tp_src", WordL4, 0, 16}
	FieldTpDst      = Field{"tp_dst", WordL4, 16, 16}
	FieldTCPFlags   = Field{"tcp_flags", WordL4, 32, 12}
	FieldArpSha     = Field{"arp_sha", WordArpSha, 0, 48}
	FieldArpTha     = Field{"arp_tha", WordArpTha, 0, 48}
	FieldNdTargetHi = Field{"nd_target_hi", WordNdTargetHi, 0, 64}
	FieldNdTargetLo = Field{"nd_target_lo", WordNdTargetLo, 0, 64}
)

// Values of FieldNwFrag.
const (
	FragAny   = 1 // the packet is a fragment
	FragLater = 2 // the packet is a fragment with a non-zero offset
)

// VlanCFI is the "tag present" bit of FieldVlanTCI/FieldVlan2TCI.
const VlanCFI = 0x1000

// EthTypeNone is the eth_type of frames without an Ethernet II type (802.3
// frames with a length field), as in Open vSwitch.
const EthTypeNone = 0x05ff

// IPv6 extension header bits of FieldIPv6Exthdr (OpenFlow OFPIEH_*).
const (
	ExthdrNoNext = 1 << 0
	ExthdrESP    = 1 << 1
	ExthdrAuth   = 1 << 2
	ExthdrDest   = 1 << 3
	ExthdrFrag   = 1 << 4
	ExthdrRouter = 1 << 5
	ExthdrHop    = 1 << 6
	ExthdrUnrep  = 1 << 7
	ExthdrUnseq  = 1 << 8
)

// Mask returns the field's bits within its word.
func (f Field) Mask() uint64 {
	if f.Bits == 64 {
		return ^uint64(0)
	}
	return (uint64(1)<<f.Bits - 1) << f.Shift
}

// Get returns the field's value in k.
func (f Field) Get(k *Key) uint64 {
	return (k[f.Word] & f.Mask()) >> f.Shift
}

// Set stores v (truncated to the field's width) into k.
func (f Field) Set(k *Key, v uint64) {
	m := f.Mask()
	k[f.Word] = k[f.Word]&^m | (v<<f.Shift)&m
}

// SetMasked stores the bits of v selected by mask into k, leaving the other
// bits of the field unchanged.
func (f Field) SetMasked(k *Key, v, mask uint64) {
	m := (mask << f.Shift) & f.Mask()
	k[f.Word] = k[f.Word]&^m | (v<<f.Shift)&m
}

// Exact sets the field to all ones in mask k.
func (f Field) Exact(k *Key) { k[f.Word] |= f.Mask() }

// Or adds the bits of m (a field-width mask) to mask k.
func (f Field) Or(k *Key, m uint64) { k[f.Word] |= (m << f.Shift) & f.Mask() }

// And returns k masked by m (word by word).
func (k *Key) And(m *Key) Key {
	var r Key
	for i := range k {
		r[i] = k[i] & m[i]
	}
	return r
}

// AndInto sets *dst to k & m.
func (k *Key) AndInto(m *Key, dst *Key) {
	for i := range k {
		dst[i] = k[i] & m[i]
	}
}

// Or sets k to k | m.
func (k *Key) Or(m *Key) {
	for i := range k {
		k[i] |= m[i]
	}
}

// IsZero reports whether every bit of k is zero.
func (k *Key) IsZero() bool {
	var x uint64
	for _, w := range k {
		x |= w
	}
	return x == 0
}

// Subset reports whether every bit set in k is also set in m.
func (k *Key) Subset(m *Key) bool {
	for i := range k {
		if k[i]&^m[i] != 0 {
			return false
		}
	}
	return true
}

// hashWord mixes one word into a running hash (a 64-bit multiply-xorshift, in
// the spirit of wyhash; quality over speed is not needed here: keys are
// compared in full after a hash match).
func hashWord(h, w uint64) uint64 {
	hi, lo := bits.Mul64(h^w, 0x9E3779B97F4A7C15)
	return hi ^ lo
}

// Hash returns a hash of the whole key.
func (k *Key) Hash() uint64 {
	h := uint64(0x243F6A8885A308D3)
	for _, w := range k {
		h = hashWord(h, w)
	}
	return h
}

// HashMasked returns the hash of k&m over the given words only (the words in
// which m is non-zero). Equal masked keys hash equally.
func (k *Key) HashMasked(m *Key, words []uint8) uint64 {
	h := uint64(0x243F6A8885A308D3)
	for _, i := range words {
		h = hashWord(h, k[i]&m[i])
	}
	return h
}

// EqualMasked reports whether k&m equals masked (which must already be
// masked by m), looking only at the given words.
func (k *Key) EqualMasked(m, masked *Key, words []uint8) bool {
	for _, i := range words {
		if k[i]&m[i] != masked[i] {
			return false
		}
	}
	return true
}

// MaskWords returns the indexes of the words in which m is non-zero.
func (m *Key) MaskWords() []uint8 {
	var w []uint8
	for i, x := range m {
		if x != 0 {
			w = append(w, uint8(i))
		}
	}
	return w
}
