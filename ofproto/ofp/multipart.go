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

// DescRequest is the OFPMP_DESC request (no body).
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

// AggregateStatsRequest is the OFPMP_AGGREGATE request; its body has the
// flow stats request's layout.
type AggregateStatsRequest struct{ FlowStatsRequest }

// FlowStats is struct ofp_flow_stats, one flow of a flow stats reply.
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

// FlowStatsReply is the OFPMP_FLOW reply.
type FlowStatsReply struct{ Stats []FlowStats }

// AggregateStatsReply is the OFPMP_AGGREGATE reply.
type AggregateStatsReply struct {
	PacketCount uint64
	ByteCount   uint64
	FlowCount   uint32
}

// TableStatsRequest is the OFPMP_TABLE request (no body).
type TableStatsRequest struct{}

// TableStats is struct ofp_table_stats (OpenFlow 1.3: 24 bytes).
type TableStats struct {
	TableID      uint8
	ActiveCount  uint32
	LookupCount  uint64
	MatchedCount uint64
}

// TableStatsReply is the OFPMP_TABLE reply.
type TableStatsReply struct{ Stats []TableStats }

// PortStatsRequest is the OFPMP_PORT_STATS request (PortAny for all).
type PortStatsRequest struct{ PortNo uint32 }

// PortStats is struct ofp_port_stats (OpenFlow 1.3: 112 bytes, durations
// last).
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

// PortStatsReply is the OFPMP_PORT_STATS reply.
type PortStatsReply struct{ Stats []PortStats }

// QueueStatsRequest is the OFPMP_QUEUE request.
type QueueStatsRequest struct {
	PortNo  uint32
	QueueID uint32
}

// QueueAll is OFPQ_ALL.
const QueueAll uint32 = 0xffffffff

// QueueStats is struct ofp_queue_stats.
type QueueStats struct {
	PortNo       uint32
	QueueID      uint32
	TxBytes      uint64
	TxPackets    uint64
	TxErrors     uint64
	DurationSec  uint32
	DurationNsec uint32
}

// QueueStatsReply is the OFPMP_QUEUE reply.
type QueueStatsReply struct{ Stats []QueueStats }

// GroupStatsRequest is the OFPMP_GROUP request (GroupAll for all).
type GroupStatsRequest struct{ GroupID uint32 }

// BucketCounter is struct ofp_bucket_counter.
type BucketCounter struct {
	PacketCount uint64
	ByteCount   uint64
}

// GroupStats is struct ofp_group_stats with its bucket counters.
type GroupStats struct {
	GroupID      uint32
	RefCount     uint32
	PacketCount  uint64
	ByteCount    uint64
	DurationSec  uint32
	DurationNsec uint32
	Buckets      []BucketCounter
}

// GroupStatsReply is the OFPMP_GROUP reply.
type GroupStatsReply struct{ Stats []GroupStats }

// GroupDescRequest is the OFPMP_GROUP_DESC request (no body).
type GroupDescRequest struct{}

// GroupDesc is struct ofp_group_desc.
type GroupDesc struct {
	GroupType uint8
	GroupID   uint32
	Buckets   []Bucket
}

// GroupDescReply is the OFPMP_GROUP_DESC reply.
type GroupDescReply struct{ Groups []GroupDesc }

// GroupFeaturesRequest is the OFPMP_GROUP_FEATURES request (no body).
type GroupFeaturesRequest struct{}

// GroupFeaturesReply is struct ofp_group_features; arrays are indexed by
// group type.
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

// MeterStatsRequest is the OFPMP_METER request (MeterAll for all).
type MeterStatsRequest struct{ MeterID uint32 }

// MeterBandStats is struct ofp_meter_band_stats.
type MeterBandStats struct {
	PacketBandCount uint64
	ByteBandCount   uint64
}

// MeterStats is struct ofp_meter_stats with its band counters.
type MeterStats struct {
	MeterID       uint32
	FlowCount     uint32
	PacketInCount uint64
	ByteInCount   uint64
	DurationSec   uint32
	DurationNsec  uint32
	Bands         []MeterBandStats
}

// MeterStatsReply is the OFPMP_METER reply.
type MeterStatsReply struct{ Stats []MeterStats }

// MeterConfigRequest is the OFPMP_METER_CONFIG request (MeterAll for all).
type MeterConfigRequest struct{ MeterID uint32 }

// MeterConfig is struct ofp_meter_config.
type MeterConfig struct {
	Flags   uint16
	MeterID uint32
	Bands   []MeterBand
}

// MeterConfigReply is the OFPMP_METER_CONFIG reply.
type MeterConfigReply struct{ Configs []MeterConfig }

// MeterFeaturesRequest is the OFPMP_METER_FEATURES request (no body).
type MeterFeaturesRequest struct{}

// MeterFeaturesReply is struct ofp_meter_features.
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

// TableFeatures is struct ofp_table_features with its properties.
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

// TableFeaturesReply is the OFPMP_TABLE_FEATURES reply.
type TableFeaturesReply struct{ Features []TableFeatures }

// PortDescRequest is the OFPMP_PORT_DESC request (no body).
type PortDescRequest struct{}

// PortDescReply is the OFPMP_PORT_DESC reply: every port.
type PortDescReply struct{ Ports []Port }

// ExperimenterMPRequest is an experimenter multipart request body.
type ExperimenterMPRequest struct {
	Experimenter uint32
	ExpType      uint32
	Data         []byte
}

// ExperimenterMPReply is an experimenter multipart reply body.
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
