// Package ofp is govs' OpenFlow 1.3 wire codec, written for the switch side:
// it decodes every message a controller may send and encodes every message
// a switch sends (and, for tests and tools, the reverse directions too).
//
// Decoding is length-checked before every slice index and never panics;
// malformed input yields an *Error carrying the OpenFlow error type and code
// the switch should answer with. Decoded messages do not alias the input
// buffer unless a field's comment says so.
package ofp

// Version is the OpenFlow version this package speaks (1.3).
const Version = 0x04

// HeaderLen is the length of the OpenFlow header.
const HeaderLen = 8

// MsgType is the type byte of the OpenFlow header.
type MsgType uint8

const (
	TypeHello                 MsgType = 0
	TypeError                 MsgType = 1
	TypeEchoRequest           MsgType = 2
	TypeEchoReply             MsgType = 3
	TypeExperimenter          MsgType = 4
	TypeFeaturesRequest       MsgType = 5
	TypeFeaturesReply         MsgType = 6
	TypeGetConfigRequest      MsgType = 7
	TypeGetConfigReply        MsgType = 8
	TypeSetConfig             MsgType = 9
	TypePacketIn              MsgType = 10
	TypeFlowRemoved           MsgType = 11
	TypePortStatus            MsgType = 12
	TypePacketOut             MsgType = 13
	TypeFlowMod               MsgType = 14
	TypeGroupMod              MsgType = 15
	TypePortMod               MsgType = 16
	TypeTableMod              MsgType = 17
	TypeMultipartRequest      MsgType = 18
	TypeMultipartReply        MsgType = 19
	TypeBarrierRequest        MsgType = 20
	TypeBarrierReply          MsgType = 21
	TypeQueueGetConfigRequest MsgType = 22
	TypeQueueGetConfigReply   MsgType = 23
	TypeRoleRequest           MsgType = 24
	TypeRoleReply             MsgType = 25
	TypeGetAsyncRequest       MsgType = 26
	TypeGetAsyncReply         MsgType = 27
	TypeSetAsync              MsgType = 28
	TypeMeterMod              MsgType = 29
)

// Header is the common OpenFlow header.
type Header struct {
	Version uint8
	Type    MsgType
	Length  uint16
	Xid     uint32
}

// Message is any decoded OpenFlow message body. Type returns the header type
// the message is sent with.
type Message interface {
	Type() MsgType
}

// Special port numbers (ofp_port_no).
const (
	PortMax        uint32 = 0xffffff00
	PortInPort     uint32 = 0xfffffff8
	PortTable      uint32 = 0xfffffff9
	PortNormal     uint32 = 0xfffffffa
	PortFlood      uint32 = 0xfffffffb
	PortAll        uint32 = 0xfffffffc
	PortController uint32 = 0xfffffffd
	PortLocal      uint32 = 0xfffffffe
	PortAny        uint32 = 0xffffffff
)

// Special table, group, meter and buffer numbers.
const (
	TableMax                 uint8  = 0xfe
	TableAll                 uint8  = 0xff
	GroupMax                 uint32 = 0xffffff00
	GroupAll                 uint32 = 0xfffffffc
	GroupAny                 uint32 = 0xffffffff
	MeterMax                 uint32 = 0xffff0000
	MeterSlowpath            uint32 = 0xfffffffd
	MeterController          uint32 = 0xfffffffe
	MeterAll                 uint32 = 0xffffffff
	NoBuffer                 uint32 = 0xffffffff
	ControllerMaxLenNoBuffer uint16 = 0xffff
)

// ---- symmetric and simple messages ----

// HelloElemVersionBitmap is the only hello element type of OpenFlow 1.3.
const HelloElemVersionBitmap = 1

// Hello carries the sender's supported versions. The header's version is
// kept in Version (a peer may send any version). Elements of unknown type
// are skipped by the decoder.
type Hello struct {
	Version uint8
	// Bitmaps is the version bitmap element's words, empty if the peer
	// sent no bitmap (then Version alone says what it speaks).
	Bitmaps []uint32
}

// Error is an ERROR message. For OFPET_EXPERIMENTER (0xffff), Code is the
// exp_type and Experimenter is set.
type ErrorMsg struct {
	ErrType      uint16
	Code         uint16
	Experimenter uint32
	Data         []byte
}

// EchoRequest is OFPT_ECHO_REQUEST with arbitrary data.
type EchoRequest struct{ Data []byte }

// EchoReply is OFPT_ECHO_REPLY, echoing the request's data.
type EchoReply struct{ Data []byte }

// Experimenter is an EXPERIMENTER message not decoded further (see
// BundleCtrl and BundleAdd for the ones that are).
type Experimenter struct {
	Experimenter uint32
	ExpType      uint32
	Data         []byte
}

// FeaturesRequest is OFPT_FEATURES_REQUEST (no body).
type FeaturesRequest struct{}

// Capabilities (ofp_capabilities).
const (
	CapFlowStats   = 1 << 0
	CapTableStats  = 1 << 1
	CapPortStats   = 1 << 2
	CapGroupStats  = 1 << 3
	CapIPReasm     = 1 << 5
	CapQueueStats  = 1 << 6
	CapPortBlocked = 1 << 8
)

// FeaturesReply is OFPT_FEATURES_REPLY (struct ofp_switch_features).
type FeaturesReply struct {
	DatapathID   uint64
	NBuffers     uint32
	NTables      uint8
	AuxiliaryID  uint8
	Capabilities uint32
}

// GetConfigRequest is OFPT_GET_CONFIG_REQUEST (no body).
type GetConfigRequest struct{}

// Config flags (ofp_config_flags).
const (
	ConfigFragNormal = 0
	ConfigFragDrop   = 1
	ConfigFragReasm  = 2
	ConfigFragMask   = 3
)

// GetConfigReply is OFPT_GET_CONFIG_REPLY (struct ofp_switch_config).
type GetConfigReply struct {
	Flags       uint16
	MissSendLen uint16
}

// SetConfig is OFPT_SET_CONFIG (struct ofp_switch_config).
type SetConfig struct {
	Flags       uint16
	MissSendLen uint16
}

// BarrierRequest is OFPT_BARRIER_REQUEST (no body).
type BarrierRequest struct{}

// BarrierReply is OFPT_BARRIER_REPLY (no body).
type BarrierReply struct{}

// ---- switch to controller ----

// Packet-in reasons.
const (
	ReasonNoMatch    = 0
	ReasonAction     = 1
	ReasonInvalidTTL = 2
)

// PacketIn is OFPT_PACKET_IN; Data is the frame (or its first bytes).
type PacketIn struct {
	BufferID uint32
	TotalLen uint16
	Reason   uint8
	TableID  uint8
	Cookie   uint64
	Match    Match
	Data     []byte
}

// Flow-removed reasons.
const (
	RemovedIdleTimeout = 0
	RemovedHardTimeout = 1
	RemovedDelete      = 2
	RemovedGroupDelete = 3
)

// FlowRemoved is OFPT_FLOW_REMOVED.
type FlowRemoved struct {
	Cookie       uint64
	Priority     uint16
	Reason       uint8
	TableID      uint8
	DurationSec  uint32
	DurationNsec uint32
	IdleTimeout  uint16
	HardTimeout  uint16
	PacketCount  uint64
	ByteCount    uint64
	Match        Match
}

// Port-status reasons.
const (
	PortReasonAdd    = 0
	PortReasonDelete = 1
	PortReasonModify = 2
)

// PortStatus is OFPT_PORT_STATUS.
type PortStatus struct {
	Reason uint8
	Desc   Port
}

// Port config bits (ofp_port_config).
const (
	PortConfigDown       = 1 << 0
	PortConfigNoRecv     = 1 << 2
	PortConfigNoFwd      = 1 << 5
	PortConfigNoPacketIn = 1 << 6
)

// Port state bits (ofp_port_state).
const (
	PortStateLinkDown = 1 << 0
	PortStateBlocked  = 1 << 1
	PortStateLive     = 1 << 2
)

// Port feature bits (ofp_port_features), the ones a switch reports most.
const (
	PortFeature10MbHD    = 1 << 0
	PortFeature10MbFD    = 1 << 1
	PortFeature100MbHD   = 1 << 2
	PortFeature100MbFD   = 1 << 3
	PortFeature1GbHD     = 1 << 4
	PortFeature1GbFD     = 1 << 5
	PortFeature10GbFD    = 1 << 6
	PortFeature40GbFD    = 1 << 7
	PortFeature100GbFD   = 1 << 8
	PortFeature1TbFD     = 1 << 9
	PortFeatureOther     = 1 << 10
	PortFeatureCopper    = 1 << 11
	PortFeatureFiber     = 1 << 12
	PortFeatureAutoneg   = 1 << 13
	PortFeaturePause     = 1 << 14
	PortFeaturePauseAsym = 1 << 15
)

// Port is struct ofp_port (64 bytes on the wire). Name is at most 15 bytes.
type Port struct {
	PortNo     uint32
	HWAddr     [6]byte
	Name       string
	Config     uint32
	State      uint32
	Curr       uint32
	Advertised uint32
	Supported  uint32
	Peer       uint32
	CurrSpeed  uint32 // kbps
	MaxSpeed   uint32 // kbps
}

// ---- controller to switch: modifications ----

// PacketOut. Data is the frame when BufferID is NoBuffer.
type PacketOut struct {
	BufferID uint32
	InPort   uint32
	Actions  []Action
	Data     []byte
}

// Flow-mod commands.
const (
	FlowAdd          = 0
	FlowModify       = 1
	FlowModifyStrict = 2
	FlowDelete       = 3
	FlowDeleteStrict = 4
)

// Flow-mod flags.
const (
	FlagSendFlowRem  = 1 << 0
	FlagCheckOverlap = 1 << 1
	FlagResetCounts  = 1 << 2
	FlagNoPktCounts  = 1 << 3
	FlagNoBytCounts  = 1 << 4
)

// FlowMod is OFPT_FLOW_MOD.
type FlowMod struct {
	Cookie       uint64
	CookieMask   uint64
	TableID      uint8
	Command      uint8
	IdleTimeout  uint16
	HardTimeout  uint16
	Priority     uint16
	BufferID     uint32
	OutPort      uint32
	OutGroup     uint32
	Flags        uint16
	Match        Match
	Instructions []Instruction
}

// Group-mod commands and group types.
const (
	GroupAdd    = 0
	GroupModify = 1
	GroupDelete = 2

	GroupTypeAll          = 0
	GroupTypeSelect       = 1
	GroupTypeIndirect     = 2
	GroupTypeFastFailover = 3
)

// Bucket is struct ofp_bucket of a group.
type Bucket struct {
	Weight     uint16
	WatchPort  uint32
	WatchGroup uint32
	Actions    []Action
}

// GroupMod is OFPT_GROUP_MOD.
type GroupMod struct {
	Command   uint16
	GroupType uint8
	GroupID   uint32
	Buckets   []Bucket
}

// PortMod is OFPT_PORT_MOD.
type PortMod struct {
	PortNo    uint32
	HWAddr    [6]byte
	Config    uint32
	Mask      uint32
	Advertise uint32
}

// TableMod is OFPT_TABLE_MOD.
type TableMod struct {
	TableID uint8
	Config  uint32
}

// Meter-mod commands, flags and band types.
const (
	MeterAdd    = 0
	MeterModify = 1
	MeterDelete = 2

	MeterFlagKbps  = 1 << 0
	MeterFlagPktps = 1 << 1
	MeterFlagBurst = 1 << 2
	MeterFlagStats = 1 << 3

	MeterBandDrop         = 1
	MeterBandDSCPRemark   = 2
	MeterBandExperimenter = 0xffff
)

// MeterBand is one band of a meter. PrecLevel is meaningful for DSCP
// remark bands, Experimenter and Data for experimenter bands (Data is what
// follows the experimenter id, padding included).
type MeterBand struct {
	BandType     uint16
	Rate         uint32
	BurstSize    uint32
	PrecLevel    uint8
	Experimenter uint32
	Data         []byte
}

// MeterMod is OFPT_METER_MOD.
type MeterMod struct {
	Command uint16
	Flags   uint16
	MeterID uint32
	Bands   []MeterBand
}

// ---- roles, async config, queues ----

// Controller roles.
const (
	RoleNoChange = 0
	RoleEqual    = 1
	RoleMaster   = 2
	RoleSlave    = 3
)

// RoleRequest is OFPT_ROLE_REQUEST.
type RoleRequest struct {
	Role         uint32
	GenerationID uint64
}

// RoleReply is OFPT_ROLE_REPLY.
type RoleReply struct {
	Role         uint32
	GenerationID uint64
}

// GetAsyncRequest is OFPT_GET_ASYNC_REQUEST (no body).
type GetAsyncRequest struct{}

// AsyncConfig is the body of GET_ASYNC_REPLY and SET_ASYNC: index 0 is the
// mask for master/equal roles, index 1 for slave.
type AsyncConfig struct {
	PacketInMask    [2]uint32
	PortStatusMask  [2]uint32
	FlowRemovedMask [2]uint32
}

// GetAsyncReply is OFPT_GET_ASYNC_REPLY.
type GetAsyncReply struct{ AsyncConfig }

// SetAsync is OFPT_SET_ASYNC.
type SetAsync struct{ AsyncConfig }

// QueueGetConfigRequest is OFPT_QUEUE_GET_CONFIG_REQUEST for Port (PortAny
// for all).
type QueueGetConfigRequest struct{ Port uint32 }

// Queue properties.
const (
	QueuePropMinRate      = 1
	QueuePropMaxRate      = 2
	QueuePropExperimenter = 0xffff
)

// PacketQueue is struct ofp_packet_queue. MinRate/MaxRate are in 1/10 of a
// percent; 0xffff (or absent, HasMin/HasMax false) means not configured.
type PacketQueue struct {
	QueueID uint32
	Port    uint32
	HasMin  bool
	MinRate uint16
	HasMax  bool
	MaxRate uint16
}

// QueueGetConfigReply is OFPT_QUEUE_GET_CONFIG_REPLY.
type QueueGetConfigReply struct {
	Port   uint32
	Queues []PacketQueue
}

// ---- bundles (ONF extension 0x4F4E4600, used with OpenFlow 1.3) ----

const (
	ONFExperimenter   = 0x4F4E4600
	ONFTypeBundleCtrl = 2300
	ONFTypeBundleAdd  = 2301

	BundleOpenRequest    = 0
	BundleOpenReply      = 1
	BundleCloseRequest   = 2
	BundleCloseReply     = 3
	BundleCommitRequest  = 4
	BundleCommitReply    = 5
	BundleDiscardRequest = 6
	BundleDiscardReply   = 7

	BundleFlagAtomic  = 1 << 0
	BundleFlagOrdered = 1 << 1
)

// BundleCtrl is the ONF bundle control message.
type BundleCtrl struct {
	BundleID   uint32
	CtrlType   uint16
	Flags      uint16
	Properties []byte // raw property list
}

// BundleAdd is the ONF bundle add message. Message is the whole inner
// message as received (header included); Inner is its decoding (nil when it
// did not decode, InnerErr then says why).
type BundleAdd struct {
	BundleID   uint32
	Flags      uint16
	Message    []byte
	Inner      Message
	InnerXid   uint32
	InnerErr   error
	Properties []byte
}

func (*Hello) Type() MsgType                 { return TypeHello }
func (*ErrorMsg) Type() MsgType              { return TypeError }
func (*EchoRequest) Type() MsgType           { return TypeEchoRequest }
func (*EchoReply) Type() MsgType             { return TypeEchoReply }
func (*Experimenter) Type() MsgType          { return TypeExperimenter }
func (*BundleCtrl) Type() MsgType            { return TypeExperimenter }
func (*BundleAdd) Type() MsgType             { return TypeExperimenter }
func (*FeaturesRequest) Type() MsgType       { return TypeFeaturesRequest }
func (*FeaturesReply) Type() MsgType         { return TypeFeaturesReply }
func (*GetConfigRequest) Type() MsgType      { return TypeGetConfigRequest }
func (*GetConfigReply) Type() MsgType        { return TypeGetConfigReply }
func (*SetConfig) Type() MsgType             { return TypeSetConfig }
func (*PacketIn) Type() MsgType              { return TypePacketIn }
func (*FlowRemoved) Type() MsgType           { return TypeFlowRemoved }
func (*PortStatus) Type() MsgType            { return TypePortStatus }
func (*PacketOut) Type() MsgType             { return TypePacketOut }
func (*FlowMod) Type() MsgType               { return TypeFlowMod }
func (*GroupMod) Type() MsgType              { return TypeGroupMod }
func (*PortMod) Type() MsgType               { return TypePortMod }
func (*TableMod) Type() MsgType              { return TypeTableMod }
func (*MultipartRequest) Type() MsgType      { return TypeMultipartRequest }
func (*MultipartReply) Type() MsgType        { return TypeMultipartReply }
func (*BarrierRequest) Type() MsgType        { return TypeBarrierRequest }
func (*BarrierReply) Type() MsgType          { return TypeBarrierReply }
func (*QueueGetConfigRequest) Type() MsgType { return TypeQueueGetConfigRequest }
func (*QueueGetConfigReply) Type() MsgType   { return TypeQueueGetConfigReply }
func (*RoleRequest) Type() MsgType           { return TypeRoleRequest }
func (*RoleReply) Type() MsgType             { return TypeRoleReply }
func (*GetAsyncRequest) Type() MsgType       { return TypeGetAsyncRequest }
func (*GetAsyncReply) Type() MsgType         { return TypeGetAsyncReply }
func (*SetAsync) Type() MsgType              { return TypeSetAsync }
func (*MeterMod) Type() MsgType              { return TypeMeterMod }
