package datapath

// ActionType says what a datapath Action does.
type ActionType uint8

const (
	// ActOutput sends the packet (as modified so far) to Port.
	ActOutput ActionType = iota + 1
	// ActUserspace sends a copy of the packet (as modified so far) to the
	// slow path as an upcall of type UpcallAction carrying Userdata. The
	// packet is truncated to MaxLen bytes when MaxLen > 0.
	ActUserspace
	// ActPushVLAN inserts a tag with ethertype Ethertype and TCI Value
	// (the CFI/DEI bit as given) after the MAC addresses.
	ActPushVLAN
	// ActPopVLAN removes the outer VLAN tag, if any.
	ActPopVLAN
	// ActSetField writes Value into the packet's header field Field,
	// limited to the bits set in Mask, and fixes the checksums that cover
	// it. 128-bit fields use Value/Mask [0] for the high and [1] for the low
	// half; narrower fields use [1] only. Set-field on a header the packet
	// does not have does nothing.
	ActSetField
	// ActPushMPLS inserts an MPLS label stack entry Value (label, tc, bos,
	// ttl as on the wire) with ethertype Ethertype (0x8847 or 0x8848)
	// before the L3 header (or before the current top of stack).
	ActPushMPLS
	// ActPopMPLS removes the top MPLS label stack entry and sets the
	// ethertype to Ethertype.
	ActPopMPLS
	// ActPushPBB inserts a PBB I-TAG (ISID Value, ethertype Ethertype)
	// and a new outer Ethernet header copied from the current one.
	ActPushPBB
	// ActPopPBB removes the outer Ethernet header and the I-TAG.
	ActPopPBB
	// ActMeter passes the packet through meter Port; a packet the meter
	// drops ends here. (Meters are owned by the slow path and installed
	// with SetMeter.)
	ActMeter
	// ActRecirc hands the packet (as modified so far) back to the lookup
	// with recirc_id Port; used where the pipeline needs to look at headers
	// that an earlier action changed.
	ActRecirc
	// ActHash computes a hash of the packet's 5-tuple (or L2 addresses for
	// non-IP) into the packet's dp_hash, for select groups.
	ActHash
	// ActClone runs Nested on a copy of the packet; whatever Nested does to
	// the packet does not affect the actions after the clone. It is how the
	// buckets of an "all" group, each acting on its own copy, are executed.
	ActClone
	// ActCopyTTLOut copies the TTL of the second outermost header with a
	// TTL into the outermost one (IP or next label -> top MPLS label).
	ActCopyTTLOut
	// ActCopyTTLIn copies the TTL of the outermost header with a TTL into
	// the second outermost one (top MPLS label -> next label or IP).
	ActCopyTTLIn
)

// Action is one datapath action. Which fields are meaningful depends on
// Type; see the ActionType constants. Actions are values: a megaflow's
// action list never changes after it is installed (it is replaced whole).
type Action struct {
	Type      ActionType
	Ethertype uint16
	Port      uint32 // output port, meter id, recirc id
	MaxLen    uint16 // ActUserspace: bytes of the packet to keep (0: all)
	Field     SetField
	Value     [2]uint64
	Mask      [2]uint64
	Userdata  []byte  // ActUserspace
	Nested    Actions // ActClone
}

// SetField names a header field that ActSetField can write.
type SetField uint8

const (
	SetEthDst SetField = iota + 1
	SetEthSrc
	SetEthType   // the innermost ethertype
	SetVlanTCI   // outer tag's TCI (VID|PCP, CFI bit ignored); no-op when untagged
	SetMPLSLSE   // top label stack entry (32 bits as on the wire)
	SetPBBISID   // I-TAG ISID (24 bits)
	SetIPv4Src   // also ARP spa
	SetIPv4Dst   // also ARP tpa
	SetIPTos     // TOS / traffic class byte (DSCP<<2 | ECN)
	SetIPTTL     // TTL / hop limit
	SetIPProto   // IPv4 protocol / IPv6 next header of the L4 header
	SetIPv6Src   // 128 bits
	SetIPv6Dst   // 128 bits
	SetIPv6Label // 20 bits
	SetTpSrc     // TCP/UDP/SCTP source port, ICMP type
	SetTpDst     // TCP/UDP/SCTP destination port, ICMP code
	SetArpOp
	SetArpSha
	SetArpTha
	SetNdTarget // 128 bits
	SetNdSll
	SetNdTll
)

// Actions is a megaflow's action list.
type Actions []Action

// Output returns an output action.
func Output(port uint32) Action { return Action{Type: ActOutput, Port: port} }
