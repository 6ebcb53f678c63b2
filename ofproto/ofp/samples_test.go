package ofp

import "testing"

// Builders for test values, shared by the round-trip, error, fuzz and
// benchmark tests.

func u16b(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }
func u32b(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

// basic returns an OpenFlow basic OXM without a mask.
func basic(f OXMField, value ...byte) OXM {
	return OXM{Class: OXMClassOpenFlowBasic, Field: uint8(f), Value: value}
}

// masked returns an OpenFlow basic OXM with a mask.
func masked(f OXMField, value, mask []byte) OXM {
	return OXM{Class: OXMClassOpenFlowBasic, Field: uint8(f), HasMask: true, Value: value, Mask: mask}
}

func inPort(p uint32) OXM { return basic(OXMInPort, u32b(p)...) }

// sampleMatch exercises masks, odd lengths and non-basic classes.
func sampleMatch() Match {
	return Match{Fields: []OXM{
		inPort(7),
		basic(OXMEthType, 0x08, 0x00),
		masked(OXMEthDst, []byte{0x02, 0, 0, 0, 0, 1}, []byte{0xff, 0xff, 0xff, 0, 0, 0}),
		masked(OXMVlanVID, u16b(VIDPresent|10), u16b(0x1fff)),
		basic(OXMIPProto, 6),
		masked(OXMIPv4Src, []byte{198, 18, 0, 0}, []byte{255, 254, 0, 0}),
		basic(OXMTCPDst, 0, 80),
		masked(OXMPBBISID, []byte{1, 2, 3}, []byte{0xff, 0xff, 0}),
		{Class: OXMClassNXM1, Field: 0, HasMask: true, Value: []byte{0, 0, 0, 5}, Mask: []byte{0, 0, 0, 0xff}}, // NXM_NX_REG0/mask
		{Class: OXMClassExperimenter, Field: 3, Experimenter: 0x4f4e4600, Value: []byte{0xab, 0xcd}},
	}}
}

func sampleActions() []Action {
	return []Action{
		&ActionOutput{Port: 3, MaxLen: 0},
		&ActionOutput{Port: PortController, MaxLen: ControllerMaxLenNoBuffer},
		&ActionCopyTTLOut{}, &ActionCopyTTLIn{},
		&ActionSetMPLSTTL{TTL: 9}, &ActionDecMPLSTTL{},
		&ActionPushVLAN{EtherType: 0x8100}, &ActionPopVLAN{},
		&ActionPushMPLS{EtherType: 0x8847}, &ActionPopMPLS{EtherType: 0x0800},
		&ActionSetQueue{QueueID: 4}, &ActionGroup{GroupID: 12},
		&ActionSetNwTTL{TTL: 33}, &ActionDecNwTTL{},
		&ActionSetField{Field: basic(OXMVlanVID, u16b(VIDPresent|42)...)},
		&ActionSetField{Field: basic(OXMIPv6Src, make16(0x20)...)},
		&ActionSetField{Field: basic(OXMEthSrc, 2, 0, 0, 0, 0, 9)},
		&ActionPushPBB{EtherType: 0x88e7}, &ActionPopPBB{},
		&ActionExperimenter{Experimenter: 0x2320, Data: []byte{0, 1, 2, 3, 4, 5, 6, 7}},
	}
}

func make16(start byte) []byte {
	b := make([]byte, 16)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func sampleInstructions() []Instruction {
	return []Instruction{
		&InstrMeter{MeterID: 2},
		&InstrApplyActions{Actions: []Action{&ActionPopVLAN{}, &ActionSetField{Field: basic(OXMIPDSCP, 46)}}},
		&InstrClearActions{},
		&InstrWriteActions{Actions: []Action{&ActionGroup{GroupID: 1}, &ActionOutput{Port: 2}}},
		&InstrWriteMetadata{Metadata: 0xfeedface, Mask: 0xffffffff},
		&InstrApplyActions{}, // empty action list
		&InstrGotoTable{TableID: 5},
		&InstrExperimenter{Experimenter: 0x2320, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
	}
}

func samplePort(no uint32, name string) Port {
	return Port{
		PortNo: no, HWAddr: [6]byte{2, 0, 0, 0, 0, byte(no)}, Name: name,
		Config: PortConfigNoPacketIn, State: PortStateLive,
		Curr: PortFeature10GbFD | PortFeatureFiber, Advertised: 1, Supported: 2, Peer: 3,
		CurrSpeed: 10000000, MaxSpeed: 10000000,
	}
}

func sampleFlowMod() *FlowMod {
	return &FlowMod{
		Cookie: 0x1122334455667788, CookieMask: 0xffffffffffffffff,
		TableID: 1, Command: FlowAdd, IdleTimeout: 10, HardTimeout: 20, Priority: 1000,
		BufferID: NoBuffer, OutPort: PortAny, OutGroup: GroupAny,
		Flags: FlagSendFlowRem | FlagCheckOverlap, Match: sampleMatch(), Instructions: sampleInstructions(),
	}
}

func sampleFlowStats(i int) FlowStats {
	return FlowStats{
		TableID: uint8(i), DurationSec: 100, DurationNsec: 5000, Priority: uint16(i),
		IdleTimeout: 60, HardTimeout: 0, Flags: FlagSendFlowRem, Cookie: uint64(i) << 32,
		PacketCount: 1000 + uint64(i), ByteCount: 64000, Match: sampleMatch(),
		Instructions: []Instruction{&InstrApplyActions{Actions: []Action{&ActionOutput{Port: 1}}}, &InstrGotoTable{TableID: 2}},
	}
}

func sampleTableFeatures(id uint8) TableFeatures {
	return TableFeatures{
		TableID: id, Name: "table-" + string('a'+rune(id%26)), MetadataMatch: ^uint64(0), MetadataWrite: ^uint64(0),
		Config: 3, MaxEntries: 1000000,
		Props: []TableFeatureProp{
			{Type: TFPInstructions, IDs: []uint16{1, 2, 3, 4, 5, 6}},
			{Type: TFPNextTablesMiss, Tables: []uint8{id + 1, id + 2, id + 3}},
			{Type: TFPApplyActions, IDs: []uint16{0, 17, 18, 25}},
			{Type: TFPMatch, OXMs: []uint32{OXMHeader(OXMClassOpenFlowBasic, 0, false, 4), OXMHeader(OXMClassOpenFlowBasic, 3, true, 12)}},
			{Type: TFPExperimenter, Experimenter: 0x2320, ExpType: 7, Data: []byte{9, 9}},
			{Type: 0x7777, Data: []byte{1, 2, 3}}, // unknown type, kept raw
		},
	}
}

// sample is a named message for table tests.
type sample struct {
	name string
	msg  Message
}

func mustMarshal(t testing.TB, xid uint32, m Message) []byte {
	t.Helper()
	b, err := Marshal(xid, m)
	if err != nil {
		t.Fatalf("Marshal %T: %v", m, err)
	}
	return b
}

// samples returns one or more values of every message and multipart body
// type, written so that decoding their encoding gives them back exactly.
func samples(t testing.TB) []sample {
	inner := &FlowMod{Command: FlowDelete, TableID: TableAll, OutPort: PortAny, OutGroup: GroupAny, BufferID: NoBuffer}
	innerBytes := mustMarshal(t, 77, inner)
	req := func(body MultipartBody) Message { return &MultipartRequest{Body: body} }
	rep := func(body MultipartBody) Message { return &MultipartReply{Body: body} }
	return []sample{
		{"hello", &Hello{Version: Version, Bitmaps: []uint32{1 << 4}}},
		{"hello/no-bitmap", &Hello{Version: 1}},
		{"hello/two-words", &Hello{Version: 6, Bitmaps: []uint32{0x52, 0x1}}},
		{"error", &ErrorMsg{ErrType: ETBadMatch, Code: BMCBadField, Data: []byte{4, 14, 0, 8, 0, 0, 0, 1}}},
		{"error/experimenter", &ErrorMsg{ErrType: ETExperimenter, Code: BFCBadID, Experimenter: ONFExperimenter, Data: []byte{1}}},
		{"echo-request", &EchoRequest{Data: []byte("ping")}},
		{"echo-request/empty", &EchoRequest{}},
		{"echo-reply", &EchoReply{Data: []byte("pong")}},
		{"experimenter", &Experimenter{Experimenter: 0x2320, ExpType: 20, Data: []byte{1, 2, 3}}},
		{"experimenter/onf-other", &Experimenter{Experimenter: ONFExperimenter, ExpType: 2350}},
		{"bundle-ctrl", &BundleCtrl{BundleID: 9, CtrlType: BundleOpenRequest, Flags: BundleFlagAtomic | BundleFlagOrdered}},
		{"bundle-ctrl/props", &BundleCtrl{BundleID: 9, CtrlType: BundleCommitReply, Properties: []byte{0xff, 0xff, 0, 12, 0, 0, 0, 1, 0, 0, 0, 2}}},
		{"bundle-add", &BundleAdd{BundleID: 9, Flags: BundleFlagAtomic, Message: innerBytes, Inner: inner, InnerXid: 77}},
		{"bundle-add/props", &BundleAdd{BundleID: 10, Message: innerBytes, Inner: inner, InnerXid: 77, Properties: []byte{0xff, 0xff, 0, 8, 0, 0, 0, 1}}},
		{"features-request", &FeaturesRequest{}},
		{"features-reply", &FeaturesReply{DatapathID: 0x0000aabbccddeeff, NBuffers: 256, NTables: 254, AuxiliaryID: 0,
			Capabilities: CapFlowStats | CapTableStats | CapPortStats | CapGroupStats | CapQueueStats}},
		{"get-config-request", &GetConfigRequest{}},
		{"get-config-reply", &GetConfigReply{Flags: ConfigFragDrop, MissSendLen: 128}},
		{"set-config", &SetConfig{Flags: ConfigFragNormal, MissSendLen: 0xffff}},
		{"packet-in", &PacketIn{BufferID: NoBuffer, TotalLen: 60, Reason: ReasonAction, TableID: 3, Cookie: 0xabc,
			Match: Match{Fields: []OXM{inPort(1), basic(OXMMetadata, 0, 0, 0, 0, 0, 0, 0, 9)}}, Data: make([]byte, 60)}},
		{"packet-in/empty-match", &PacketIn{BufferID: 5, TotalLen: 1500, Reason: ReasonNoMatch, Data: []byte{1, 2, 3}}},
		{"flow-removed", &FlowRemoved{Cookie: 1, Priority: 2, Reason: RemovedIdleTimeout, TableID: 3, DurationSec: 4,
			DurationNsec: 5, IdleTimeout: 6, HardTimeout: 7, PacketCount: 8, ByteCount: 9, Match: sampleMatch()}},
		{"port-status", &PortStatus{Reason: PortReasonModify, Desc: samplePort(3, "veth-abcdefghij")}},
		{"packet-out", &PacketOut{BufferID: NoBuffer, InPort: PortController, Actions: sampleActions(), Data: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}},
		{"packet-out/buffered", &PacketOut{BufferID: 17, InPort: 1, Actions: []Action{&ActionOutput{Port: PortTable}}}},
		{"flow-mod", sampleFlowMod()},
		{"flow-mod/delete", inner},
		{"group-mod", &GroupMod{Command: GroupAdd, GroupType: GroupTypeSelect, GroupID: 1, Buckets: []Bucket{
			{Weight: 50, WatchPort: PortAny, WatchGroup: GroupAny, Actions: []Action{&ActionOutput{Port: 1}}},
			{Weight: 50, WatchPort: 2, WatchGroup: GroupAny, Actions: []Action{&ActionSetField{Field: basic(OXMEthDst, 2, 0, 0, 0, 0, 2)}, &ActionOutput{Port: 2}}},
			{Weight: 0, WatchPort: PortAny, WatchGroup: GroupAny}, // no actions: drop
		}}},
		{"group-mod/delete", &GroupMod{Command: GroupDelete, GroupID: GroupAll}},
		{"port-mod", &PortMod{PortNo: 2, HWAddr: [6]byte{2, 0, 0, 0, 0, 2}, Config: PortConfigDown, Mask: PortConfigDown, Advertise: PortFeature1GbFD}},
		{"table-mod", &TableMod{TableID: TableAll, Config: 3}},
		{"barrier-request", &BarrierRequest{}},
		{"barrier-reply", &BarrierReply{}},
		{"queue-get-config-request", &QueueGetConfigRequest{Port: PortAny}},
		{"queue-get-config-reply", &QueueGetConfigReply{Port: 1, Queues: []PacketQueue{
			{QueueID: 0, Port: 1},
			{QueueID: 1, Port: 1, HasMin: true, MinRate: 100, HasMax: true, MaxRate: 500},
			{QueueID: 2, Port: 1, HasMax: true, MaxRate: 0xffff},
		}}},
		{"role-request", &RoleRequest{Role: RoleMaster, GenerationID: 0x0102030405060708}},
		{"role-reply", &RoleReply{Role: RoleSlave, GenerationID: 1}},
		{"get-async-request", &GetAsyncRequest{}},
		{"get-async-reply", &GetAsyncReply{AsyncConfig{PacketInMask: [2]uint32{7, 0}, PortStatusMask: [2]uint32{7, 7}, FlowRemovedMask: [2]uint32{15, 0}}}},
		{"set-async", &SetAsync{AsyncConfig{PacketInMask: [2]uint32{1, 2}, PortStatusMask: [2]uint32{3, 4}, FlowRemovedMask: [2]uint32{5, 6}}}},
		{"meter-mod", &MeterMod{Command: MeterAdd, Flags: MeterFlagKbps | MeterFlagBurst | MeterFlagStats, MeterID: 1, Bands: []MeterBand{
			{BandType: MeterBandDrop, Rate: 1000, BurstSize: 100},
			{BandType: MeterBandDSCPRemark, Rate: 500, BurstSize: 50, PrecLevel: 2},
			{BandType: MeterBandExperimenter, Rate: 1, BurstSize: 2, Experimenter: 0x2320, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		}}},
		{"meter-mod/delete", &MeterMod{Command: MeterDelete, MeterID: MeterAll}},

		{"mp-req/desc", req(&DescRequest{})},
		{"mp-req/flow", &MultipartRequest{Flags: MPFlagMore, Body: &FlowStatsRequest{TableID: TableAll, OutPort: PortAny, OutGroup: GroupAny,
			Cookie: 1, CookieMask: 1, Match: Match{Fields: []OXM{inPort(3)}}}}},
		{"mp-req/aggregate", req(&AggregateStatsRequest{FlowStatsRequest{TableID: 1, OutPort: 2, OutGroup: GroupAny}})},
		{"mp-req/table", req(&TableStatsRequest{})},
		{"mp-req/port-stats", req(&PortStatsRequest{PortNo: PortAny})},
		{"mp-req/queue", req(&QueueStatsRequest{PortNo: PortAny, QueueID: QueueAll})},
		{"mp-req/group", req(&GroupStatsRequest{GroupID: GroupAll})},
		{"mp-req/group-desc", req(&GroupDescRequest{})},
		{"mp-req/group-features", req(&GroupFeaturesRequest{})},
		{"mp-req/meter", req(&MeterStatsRequest{MeterID: MeterAll})},
		{"mp-req/meter-config", req(&MeterConfigRequest{MeterID: 3})},
		{"mp-req/meter-features", req(&MeterFeaturesRequest{})},
		{"mp-req/table-features", req(&TableFeaturesRequest{})},
		{"mp-req/table-features-set", req(&TableFeaturesRequest{Features: []TableFeatures{sampleTableFeatures(0), sampleTableFeatures(1)}})},
		{"mp-req/port-desc", req(&PortDescRequest{})},
		{"mp-req/experimenter", req(&ExperimenterMPRequest{Experimenter: 0x2320, ExpType: 1, Data: []byte{5}})},

		{"mp-rep/desc", rep(&DescReply{MfrDesc: "govs", HWDesc: "userspace", SWDesc: "govs 0.1", SerialNum: "none", DPDesc: "br0"})},
		{"mp-rep/flow", rep(&FlowStatsReply{Stats: []FlowStats{sampleFlowStats(0), sampleFlowStats(1)}})},
		{"mp-rep/flow-empty", rep(&FlowStatsReply{})},
		{"mp-rep/aggregate", rep(&AggregateStatsReply{PacketCount: 1, ByteCount: 2, FlowCount: 3})},
		{"mp-rep/table", rep(&TableStatsReply{Stats: []TableStats{{TableID: 0, ActiveCount: 4, LookupCount: 100, MatchedCount: 90}, {TableID: 1}}})},
		{"mp-rep/port-stats", rep(&PortStatsReply{Stats: []PortStats{{PortNo: 1, RxPackets: 1, TxPackets: 2, RxBytes: 3, TxBytes: 4, RxDropped: 5,
			TxDropped: 6, RxErrors: 7, TxErrors: 8, RxFrameErr: 9, RxOverErr: 10, RxCRCErr: 11, Collisions: 12, DurationSec: 13, DurationNsec: 14}}})},
		{"mp-rep/queue", rep(&QueueStatsReply{Stats: []QueueStats{{PortNo: 1, QueueID: 2, TxBytes: 3, TxPackets: 4, TxErrors: 5, DurationSec: 6, DurationNsec: 7}}})},
		{"mp-rep/group", rep(&GroupStatsReply{Stats: []GroupStats{
			{GroupID: 1, RefCount: 2, PacketCount: 3, ByteCount: 4, DurationSec: 5, DurationNsec: 6, Buckets: []BucketCounter{{1, 2}, {3, 4}}},
			{GroupID: 2},
		}})},
		{"mp-rep/group-desc", rep(&GroupDescReply{Groups: []GroupDesc{
			{GroupType: GroupTypeFastFailover, GroupID: 4, Buckets: []Bucket{{WatchPort: 1, WatchGroup: GroupAny, Actions: []Action{&ActionOutput{Port: 1}}}}},
			{GroupType: GroupTypeIndirect, GroupID: 5},
		}})},
		{"mp-rep/group-features", rep(&GroupFeaturesReply{Types: 0xf, Capabilities: GroupCapSelectWeight | GroupCapChaining,
			MaxGroups: [4]uint32{1, 2, 3, 4}, Actions: [4]uint32{5, 6, 7, 8}})},
		{"mp-rep/meter", rep(&MeterStatsReply{Stats: []MeterStats{
			{MeterID: 1, FlowCount: 2, PacketInCount: 3, ByteInCount: 4, DurationSec: 5, DurationNsec: 6, Bands: []MeterBandStats{{7, 8}}},
			{MeterID: 2},
		}})},
		{"mp-rep/meter-config", rep(&MeterConfigReply{Configs: []MeterConfig{
			{Flags: MeterFlagPktps, MeterID: 1, Bands: []MeterBand{{BandType: MeterBandDrop, Rate: 10}}},
			{Flags: MeterFlagKbps, MeterID: 2},
		}})},
		{"mp-rep/meter-features", rep(&MeterFeaturesReply{MaxMeter: 100, BandTypes: 6, Capabilities: 0xf, MaxBands: 8, MaxColor: 1})},
		{"mp-rep/table-features", rep(&TableFeaturesReply{Features: []TableFeatures{sampleTableFeatures(0), {TableID: 254, Name: "last"}}})},
		{"mp-rep/port-desc", rep(&PortDescReply{Ports: []Port{samplePort(1, "eth0"), samplePort(PortLocal, "br0")}})},
		{"mp-rep/experimenter", rep(&ExperimenterMPReply{Experimenter: 0x2320, ExpType: 2})},
	}
}
