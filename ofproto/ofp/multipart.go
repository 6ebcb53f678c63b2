package ofp

// MultipartType is ofp_multipart_type.
type MultipartType uint16

const (
	MPDesc          MultipartType = 0
	MPFlow          MultipartType = 1
	MPAggregate     MultipartType = 2
	MPTable         MultipartType = 3
	MPPortStats     MultipartType = 4
	MPQueue         MultipartType = 5
	MPGroup         MultipartType = 6
	MPGroupDesc     MultipartType = 7
	MPGroupFeatures MultipartType = 8
	MPMeter         MultipartType = 9
	MPMeterConfig   MultipartType = 10
	MPMeterFeatures MultipartType = 11
	MPTableFeatures MultipartType = 12
	MPPortDesc      MultipartType = 13
	MPExperimenter  MultipartType = 0xffff
)

// Multipart flags.
const (
	MPFlagMore = 1 << 0 // OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE
)

// MultipartRequest is one MULTIPART_REQUEST message. Body is one of the
// *...Request types below, matching the multipart type.
type MultipartRequest struct {
	Flags uint16
	Body  MultipartBody
}

// MultipartReply is one MULTIPART_REPLY message (or, before encoding, a
// whole reply that the encoder splits into several messages with
// MPFlagMore). Body is one of the *...Reply types below.
type MultipartReply struct {
	Flags uint16
	Body  MultipartBody
}

// MultipartBody is the typed body of a multipart request or reply.
type MultipartBody interface {
	MultipartType() MultipartType
}

type DescRequest struct{}

// DescReply is ofp_desc; strings are truncated to 255 (serial 31) bytes.
type DescReply struct {
	MfrDesc   string
	HWDesc    string
	SWDesc    string
	SerialNum string
	DPDesc    string
}

// FlowStatsRequest is also the body of an aggregate request.
type FlowStatsRequest struct {
	TableID    uint8
	OutPort    uint32
	OutGroup   uint32
	Cookie     uint64
	CookieMask uint64
	Match      Match
}

type AggregateStatsRequest struct{ FlowStatsRequest }

type FlowStats struct {
	TableID      uint8
	DurationSec  uint32
	DurationNsec uint32
	Priority     uint16
	IdleTimeout  uint16
	HardTimeout  uint16
	Flags        uint16
	Cookie       uint64
	PacketCount  uint64
	ByteCount    uint64
	Match        Match
	Instructions []Instruction
}

type FlowStatsReply struct{ Stats []FlowStats }

type AggregateStatsReply struct {
	PacketCount uint64
	ByteCount   uint64
	FlowCount   uint32
}

type TableStatsRequest struct{}

type TableStats struct {
	TableID      uint8
	ActiveCount  uint32
	LookupCount  uint64
	MatchedCount uint64
}

type TableStatsReply struct{ Stats []TableStats }

type PortStatsRequest struct{ PortNo uint32 }

type PortStats struct {
	PortNo       uint32
	RxPackets    uint64
	TxPackets    uint64
	RxBytes      uint64
	TxBytes      uint64
	RxDropped    uint64
	TxDropped    uint64
	RxErrors     uint64
	TxErrors     uint64
	RxFrameErr   uint64
	RxOverErr    uint64
	RxCRCErr     uint64
	Collisions   uint64
	DurationSec  uint32
	DurationNsec uint32
}

type PortStatsReply struct{ Stats []PortStats }

type QueueStatsRequest struct {
	PortNo  uint32
	QueueID uint32
}

// QueueAll is OFPQ_ALL.
const QueueAll uint32 = 0xffffffff

type QueueStats struct {
	PortNo       uint32
	QueueID      uint32
	TxBytes      uint64
	TxPackets    uint64
	TxErrors     uint64
	DurationSec  uint32
	DurationNsec uint32
}

type QueueStatsReply struct{ Stats []QueueStats }

type GroupStatsRequest struct{ GroupID uint32 }

type BucketCounter struct {
	PacketCount uint64
	ByteCount   uint64
}

type GroupStats struct {
	GroupID      uint32
	RefCount     uint32
	PacketCount  uint64
	ByteCount    uint64
	DurationSec  uint32
	DurationNsec uint32
	Buckets      []BucketCounter
}

type GroupStatsReply struct{ Stats []GroupStats }

type GroupDescRequest struct{}

type GroupDesc struct {
	GroupType uint8
	GroupID   uint32
	Buckets   []Bucket
}

type GroupDescReply struct{ Groups []GroupDesc }

type GroupFeaturesRequest struct{}

type GroupFeaturesReply struct {
	Types        uint32
	Capabilities uint32
	MaxGroups    [4]uint32
	Actions      [4]uint32
}

// Group capabilities.
const (
	GroupCapSelectWeight   = 1 << 0
	GroupCapSelectLiveness = 1 << 1
	GroupCapChaining       = 1 << 2
	GroupCapChainingChecks = 1 << 3
)

type MeterStatsRequest struct{ MeterID uint32 }

type MeterBandStats struct {
	PacketBandCount uint64
	ByteBandCount   uint64
}

type MeterStats struct {
	MeterID       uint32
	FlowCount     uint32
	PacketInCount uint64
	ByteInCount   uint64
	DurationSec   uint32
	DurationNsec  uint32
	Bands         []MeterBandStats
}

type MeterStatsReply struct{ Stats []MeterStats }

type MeterConfigRequest struct{ MeterID uint32 }

type MeterConfig struct {
	Flags   uint16
	MeterID uint32
	Bands   []MeterBand
}

type MeterConfigReply struct{ Configs []MeterConfig }

type MeterFeaturesRequest struct{}

type MeterFeaturesReply struct {
	MaxMeter     uint32
	BandTypes    uint32
	Capabilities uint32
	MaxBands     uint8
	MaxColor     uint8
}

// Table feature property types.
const (
	TFPInstructions      = 0
	TFPInstructionsMiss  = 1
	TFPNextTables        = 2
	TFPNextTablesMiss    = 3
	TFPWriteActions      = 4
	TFPWriteActionsMiss  = 5
	TFPApplyActions      = 6
	TFPApplyActionsMiss  = 7
	TFPMatch             = 8
	TFPWildcards         = 10
	TFPWriteSetfield     = 12
	TFPWriteSetfieldMiss = 13
	TFPApplySetfield     = 14
	TFPApplySetfieldMiss = 15
	TFPExperimenter      = 0xfffe
	TFPExperimenterMiss  = 0xffff
)

// TableFeatureProp is one table feature property. Which slice is used
// depends on Type: Instructions/actions props list type ids in IDs
// (instruction or action types), next-tables props list table ids in
// Tables, match/wildcards/setfield props list OXM headers (32-bit
// class<<16|field<<9|hasmask<<8|len) in OXMs, experimenter props keep Data.
type TableFeatureProp struct {
	Type         uint16
	IDs          []uint16
	Tables       []uint8
	OXMs         []uint32
	Experimenter uint32
	ExpType      uint32
	Data         []byte
}

type TableFeatures struct {
	TableID       uint8
	Name          string
	MetadataMatch uint64
	MetadataWrite uint64
	Config        uint32
	MaxEntries    uint32
	Props         []TableFeatureProp
}

// TableFeaturesRequest with no Features asks for the current features; with
// Features it sets them.
type TableFeaturesRequest struct{ Features []TableFeatures }
type TableFeaturesReply struct{ Features []TableFeatures }

type PortDescRequest struct{}
type PortDescReply struct{ Ports []Port }

type ExperimenterMPRequest struct {
	Experimenter uint32
	ExpType      uint32
	Data         []byte
}

type ExperimenterMPReply struct {
	Experimenter uint32
	ExpType      uint32
	Data         []byte
}

func (*DescRequest) MultipartType() MultipartType           { return MPDesc }
func (*DescReply) MultipartType() MultipartType             { return MPDesc }
func (*FlowStatsRequest) MultipartType() MultipartType      { return MPFlow }
func (*FlowStatsReply) MultipartType() MultipartType        { return MPFlow }
func (*AggregateStatsRequest) MultipartType() MultipartType { return MPAggregate }
func (*AggregateStatsReply) MultipartType() MultipartType   { return MPAggregate }
func (*TableStatsRequest) MultipartType() MultipartType     { return MPTable }
func (*TableStatsReply) MultipartType() MultipartType       { return MPTable }
func (*PortStatsRequest) MultipartType() MultipartType      { return MPPortStats }
func (*PortStatsReply) MultipartType() MultipartType        { return MPPortStats }
func (*QueueStatsRequest) MultipartType() MultipartType     { return MPQueue }
func (*QueueStatsReply) MultipartType() MultipartType       { return MPQueue }
func (*GroupStatsRequest) MultipartType() MultipartType     { return MPGroup }
func (*GroupStatsReply) MultipartType() MultipartType       { return MPGroup }
func (*GroupDescRequest) MultipartType() MultipartType      { return MPGroupDesc }
func (*GroupDescReply) MultipartType() MultipartType        { return MPGroupDesc }
func (*GroupFeaturesRequest) MultipartType() MultipartType  { return MPGroupFeatures }
func (*GroupFeaturesReply) MultipartType() MultipartType    { return MPGroupFeatures }
func (*MeterStatsRequest) MultipartType() MultipartType     { return MPMeter }
func (*MeterStatsReply) MultipartType() MultipartType       { return MPMeter }
func (*MeterConfigRequest) MultipartType() MultipartType    { return MPMeterConfig }
func (*MeterConfigReply) MultipartType() MultipartType      { return MPMeterConfig }
func (*MeterFeaturesRequest) MultipartType() MultipartType  { return MPMeterFeatures }
func (*MeterFeaturesReply) MultipartType() MultipartType    { return MPMeterFeatures }
func (*TableFeaturesRequest) MultipartType() MultipartType  { return MPTableFeatures }
func (*TableFeaturesReply) MultipartType() MultipartType    { return MPTableFeatures }
func (*PortDescRequest) MultipartType() MultipartType       { return MPPortDesc }
func (*PortDescReply) MultipartType() MultipartType         { return MPPortDesc }
func (*ExperimenterMPRequest) MultipartType() MultipartType { return MPExperimenter }
func (*ExperimenterMPReply) MultipartType() MultipartType   { return MPExperimenter }
