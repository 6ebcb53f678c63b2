package ofp

// Interoperability with github.com/contiv/libOpenflow/openflow13, used here
// only as an independent controller-side peer: it encodes what a
// controller sends and we decode it, and it decodes what we send.
//
// What libOpenflow (v0.0.0-20210609050114-d967b14cc688) gets wrong, found
// while writing these tests; those directions are not used as references:
//
//   - FEATURES_REPLY encoder never writes datapath_id (the fields after the
//     header start at offset 8 and the message ends in 8 zero bytes).
//   - PACKET_IN encoder writes the cookie over buffer_id, total_len, reason
//     and table_id, and leaves the header length at 8.
//   - FLOW_MOD encoder writes out_port into the out_group field too.
//   - FLOW_REMOVED constructor leaves the header type at 0 (HELLO) and its
//     encoder leaves the length at 8; PORT_MOD's constructor leaves the
//     header version and xid at 0.
//   - Port stats, table stats and queue stats (requests and replies) use
//     the OpenFlow 1.0 layouts (16-bit port numbers, 104-byte port stats
//     without durations, 64-byte table stats with a name): it misreads or
//     panics on OpenFlow 1.3 replies and sends 1.0-shaped requests.
//   - Its hello decoder loops forever on an element of unknown type and
//     reads a version bitmap to the end of the message, not the element.
//   - Its action decoder maps pop_vlan, copy_ttl_*, dec_mpls_ttl and
//     pop_pbb to a 4-byte ActionHeader, so a FLOW_MOD or bucket with
//     pop_vlan is misframed (and then panics); experimenter actions other
//     than Nicira's are a nil interface call (panic); set_mpls_ttl and
//     set_nw_ttl encode as 4-byte actions.
//   - It has no decoder for PACKET_OUT (its action loop never ends),
//     TABLE_MOD, ROLE_REQUEST/REPLY, GET_ASYNC/SET_ASYNC, QUEUE_GET_CONFIG,
//     GROUP_MOD/PORT_MOD in Parse, and multipart replies other than desc,
//     flow, aggregate, port, table and queue (port desc panics); it has no
//     encoder at all for ROLE_REQUEST, TABLE_MOD and SET_ASYNC.
//   - Its eth_src/eth_dst (and ND sll/tll) OXM decoders copy into a nil
//     slice and return empty addresses; its experimenter-class OXM encoder
//     counts the experimenter id in the length but never writes it.
//   - Parse's PORT_STATUS reads the port 7 bytes early (its padding is a
//     nil slice, so the decoder does not skip it) and leaves hw_addr and
//     name empty (copied into nil slices); only NewPortStatus with a
//     NewPhyPort decodes right. Parse's desc reply has empty strings for
//     the same reason.
//
// Its decoders index without length checks and can panic; libDo recovers
// in the test only.

import (
	"bytes"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/contiv/libOpenflow/common"
	of13 "github.com/contiv/libOpenflow/openflow13"
	"github.com/contiv/libOpenflow/protocol"
	"github.com/contiv/libOpenflow/util"
)

// libDo runs f, turning a libOpenflow panic into an error.
func libDo(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("libOpenflow panicked: %v", r)
		}
	}()
	return f()
}

// libMarshal encodes m with libOpenflow.
func libMarshal(t *testing.T, m util.Message) []byte {
	t.Helper()
	var b []byte
	if err := libDo(func() (err error) { b, err = m.MarshalBinary(); return err }); err != nil {
		t.Fatalf("libOpenflow MarshalBinary %T: %v", m, err)
	}
	return b
}

// libParse decodes b with libOpenflow's Parse.
func libParse(t *testing.T, b []byte) util.Message {
	t.Helper()
	var m util.Message
	if err := libDo(func() (err error) { m, err = of13.Parse(b); return err }); err != nil {
		t.Fatalf("libOpenflow Parse: %v", err)
	}
	return m
}

func u64b(v uint64) []byte { return append(u32b(uint32(v>>32)), u32b(uint32(v))...) }

var (
	macA    = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB    = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	macMask = net.HardwareAddr{0xff, 0xff, 0xff, 0, 0, 0}
)

// libFlowMod builds a FLOW_MOD with libOpenflow exercising many match
// fields, instructions and actions, and the value we must decode from it.
func libFlowMod() (*of13.FlowMod, *FlowMod) {
	fm := of13.NewFlowMod()
	fm.TableId, fm.Command, fm.Cookie = 2, of13.FC_ADD, 0xc0ffee
	fm.IdleTimeout, fm.HardTimeout, fm.Priority, fm.Flags = 30, 300, 200, of13.FF_SEND_FLOW_REM
	vidMask, mdMask, ipMask := uint16(0x1fff), uint64(0xff), net.IPv4(255, 255, 0, 0)
	for _, f := range []*of13.MatchField{
		of13.NewInPortField(3),
		of13.NewEthTypeField(0x0800),
		of13.NewEthDstField(macA, &macMask),
		of13.NewVlanIdField(10, &vidMask),
		of13.NewIpProtoField(6),
		of13.NewIpv4SrcField(net.IPv4(198, 18, 1, 2), &ipMask),
		of13.NewTcpDstField(443),
		of13.NewMetadataField(0x12, &mdMask),
		of13.NewRegMatchField(1, 7, nil),
	} {
		fm.Match.AddField(*f)
	}
	apply := of13.NewInstrApplyActions()
	for _, a := range []of13.Action{
		of13.NewActionSetField(*of13.NewEthSrcField(macB, nil)),
		of13.NewActionPushVlan(0x8100),
		of13.NewActionSetField(*of13.NewVlanIdField(20, nil)),
		of13.NewActionSetQueue(1),
		of13.NewActionDecNwTtl(),
		of13.NewActionPopVlan(),
		of13.NewActionPushMpls(0x8847),
		of13.NewActionPopMpls(0x0800),
		of13.NewActionOutput(of13.P_CONTROLLER),
	} {
		apply.AddAction(a, false)
	}
	write := of13.NewInstrWriteActions()
	write.AddAction(of13.NewActionGroup(5), false)
	fm.AddInstruction(apply)
	fm.AddInstruction(write)
	fm.AddInstruction(of13.NewInstrWriteMetadata(0xab, 0xff))
	fm.AddInstruction(of13.NewInstrMeter(3))
	fm.AddInstruction(of13.NewInstrGotoTable(4))

	want := &FlowMod{
		Cookie: 0xc0ffee, TableID: 2, Command: FlowAdd, IdleTimeout: 30, HardTimeout: 300, Priority: 200,
		BufferID: NoBuffer, OutPort: PortAny, OutGroup: GroupAny, Flags: FlagSendFlowRem,
		Match: Match{Fields: []OXM{
			inPort(3),
			basic(OXMEthType, 0x08, 0x00),
			masked(OXMEthDst, macA, macMask),
			masked(OXMVlanVID, u16b(VIDPresent|10), u16b(0x1fff)),
			basic(OXMIPProto, 6),
			masked(OXMIPv4Src, []byte{198, 18, 1, 2}, []byte{255, 255, 0, 0}),
			basic(OXMTCPDst, 0x01, 0xbb),
			masked(OXMMetadata, u64b(0x12), u64b(0xff)),
			{Class: OXMClassNXM1, Field: 1, Value: u32b(7)},
		}},
		Instructions: []Instruction{
			&InstrApplyActions{Actions: []Action{
				&ActionSetField{Field: basic(OXMEthSrc, macB...)},
				&ActionPushVLAN{EtherType: 0x8100},
				&ActionSetField{Field: basic(OXMVlanVID, u16b(VIDPresent|20)...)},
				&ActionSetQueue{QueueID: 1},
				&ActionDecNwTTL{},
				&ActionPopVLAN{},
				&ActionPushMPLS{EtherType: 0x8847},
				&ActionPopMPLS{EtherType: 0x0800},
				&ActionOutput{Port: PortController, MaxLen: 256},
			}},
			&InstrWriteActions{Actions: []Action{&ActionGroup{GroupID: 5}}},
			&InstrWriteMetadata{Metadata: 0xab, Mask: 0xff},
			&InstrMeter{MeterID: 3},
			&InstrGotoTable{TableID: 4},
		},
	}
	return fm, want
}

// TestInteropDecodeLibOpenflow decodes what libOpenflow encodes.
func TestInteropDecodeLibOpenflow(t *testing.T) {
	fm, fmWant := libFlowMod()
	fmBytes := libMarshal(t, fm)

	hdr := func(typ uint8) *common.Header {
		h := of13.NewOfp13Header()
		h.Type = typ
		return &h
	}
	mpReq := func(typ uint16, body util.Message) *of13.MultipartRequest {
		return &of13.MultipartRequest{Header: *hdr(of13.Type_MultiPartRequest), Type: typ, Body: body}
	}

	cases := []struct {
		name string
		lib  util.Message
		want Message
	}{
		{"flow-mod", fm, fmWant},
		{"hello", func() util.Message { h, _ := common.NewHello(4); return h }(), &Hello{Version: 4, Bitmaps: []uint32{0x12}}},
		{"echo-request", of13.NewEchoRequest(), &EchoRequest{}},
		{"echo-reply", of13.NewEchoReply(), &EchoReply{}},
		{"barrier-request", hdr(of13.Type_BarrierRequest), &BarrierRequest{}},
		{"features-request", of13.NewFeaturesRequest(), &FeaturesRequest{}},
		{"get-config-request", of13.NewConfigRequest(), &GetConfigRequest{}},
		{"set-config", func() util.Message {
			c := of13.NewSetConfig()
			c.Flags, c.MissSendLen = of13.C_FRAG_DROP, 128
			return c
		}(), &SetConfig{Flags: ConfigFragDrop, MissSendLen: 128}},
		{"packet-out", func() util.Message {
			po := of13.NewPacketOut()
			po.InPort = 1
			po.AddAction(of13.NewActionOutput(of13.P_FLOOD))
			eth := protocol.NewEthernet()
			eth.HWDst, eth.HWSrc, eth.Ethertype = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, macA, 0x88b5
			po.Data = eth
			return po
		}(), &PacketOut{BufferID: NoBuffer, InPort: 1, Actions: []Action{&ActionOutput{Port: PortFlood, MaxLen: 256}},
			Data: cat([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, macA, []byte{0x88, 0xb5})}},
		{"group-mod", func() util.Message {
			gm := of13.NewGroupMod()
			gm.GroupId, gm.Type = 10, of13.OFPGT_SELECT
			b1 := of13.NewBucket()
			b1.Weight = 60
			b1.AddAction(of13.NewActionOutput(1))
			b2 := of13.NewBucket()
			b2.Weight = 40
			b2.AddAction(of13.NewActionSetField(*of13.NewIpv4DstField(net.IPv4(198, 18, 0, 9), nil)))
			b2.AddAction(of13.NewActionOutput(2))
			gm.AddBucket(*b1)
			gm.AddBucket(*b2)
			return gm
		}(), &GroupMod{Command: GroupAdd, GroupType: GroupTypeSelect, GroupID: 10, Buckets: []Bucket{
			{Weight: 60, WatchPort: PortAny, WatchGroup: GroupAny, Actions: []Action{&ActionOutput{Port: 1, MaxLen: 256}}},
			{Weight: 40, WatchPort: PortAny, WatchGroup: GroupAny, Actions: []Action{
				&ActionSetField{Field: basic(OXMIPv4Dst, 198, 18, 0, 9)}, &ActionOutput{Port: 2, MaxLen: 256}}},
		}}},
		{"meter-mod", func() util.Message {
			mm := of13.NewMeterMod()
			mm.MeterId, mm.Flags = 4, of13.OFPMF13_KBPS|of13.OFPMF13_BURST
			mm.AddMeterBand(&of13.MeterBandDrop{MeterBandHeader: of13.MeterBandHeader{Type: of13.OFPMBT13_DROP, Length: 16, Rate: 1000, BurstSize: 100}})
			mm.AddMeterBand(&of13.MeterBandDSCP{MeterBandHeader: of13.MeterBandHeader{Type: of13.OFPMBT13_DSCP_REMARK, Length: 16, Rate: 500, BurstSize: 50}, PrecLevel: 1})
			mm.AddMeterBand(&of13.MeterBandExperimenter{MeterBandHeader: of13.MeterBandHeader{Type: of13.OFPMBT13_EXPERIMENTER, Length: 16, Rate: 1, BurstSize: 2}, Experimenter: 0x2320})
			return mm
		}(), &MeterMod{Command: MeterAdd, Flags: MeterFlagKbps | MeterFlagBurst, MeterID: 4, Bands: []MeterBand{
			{BandType: MeterBandDrop, Rate: 1000, BurstSize: 100},
			{BandType: MeterBandDSCPRemark, Rate: 500, BurstSize: 50, PrecLevel: 1},
			{BandType: MeterBandExperimenter, Rate: 1, BurstSize: 2, Experimenter: 0x2320},
		}}},
		{"port-mod", func() util.Message {
			pm := of13.NewPortMod(3)
			pm.Header.Version = of13.VERSION // its constructor leaves it 0
			copy(pm.HWAddr, macA)
			pm.Config, pm.Mask, pm.Advertise = of13.PC_PORT_DOWN, of13.PC_PORT_DOWN, of13.PF_1GB_FD
			return pm
		}(), &PortMod{PortNo: 3, HWAddr: [6]byte(macA), Config: PortConfigDown, Mask: PortConfigDown, Advertise: PortFeature1GbFD}},
		{"mp-flow-stats-request", func() util.Message {
			r := of13.NewFlowStatsRequest()
			r.TableId, r.Cookie, r.CookieMask = of13.OFPTT_ALL, 1, 1
			r.Match.AddField(*of13.NewInPortField(2))
			return mpReq(of13.MultipartType_Flow, r)
		}(), &MultipartRequest{Body: &FlowStatsRequest{TableID: TableAll, OutPort: PortAny, OutGroup: GroupAny,
			Cookie: 1, CookieMask: 1, Match: Match{Fields: []OXM{inPort(2)}}}}},
		{"mp-aggregate-request", func() util.Message {
			r := of13.NewAggregateStatsRequest()
			r.TableId, r.OutPort, r.OutGroup = 1, of13.P_ANY, of13.OFPG_ANY
			return mpReq(of13.MultipartType_Aggregate, r)
		}(), &MultipartRequest{Body: &AggregateStatsRequest{FlowStatsRequest{TableID: 1, OutPort: PortAny, OutGroup: GroupAny}}}},
		{"mp-port-desc-request", mpReq(of13.MultipartType_PortDesc, util.NewBuffer(nil)), &MultipartRequest{Body: &PortDescRequest{}}},
		{"mp-desc-request", mpReq(of13.MultipartType_Desc, util.NewBuffer(nil)), &MultipartRequest{Body: &DescRequest{}}},
		{"bundle-ctrl", of13.NewBundleControl(&of13.BundleControl{BundleID: 7, Type: of13.OFPBCT_OPEN_REQUEST, Flags: of13.OFPBCT_ATOMIC}),
			&BundleCtrl{BundleID: 7, CtrlType: BundleOpenRequest, Flags: BundleFlagAtomic}},
		{"bundle-add", of13.NewBundleAdd(&of13.BundleAdd{BundleID: 7, Flags: of13.OFPBCT_ATOMIC, Message: fm}),
			&BundleAdd{BundleID: 7, Flags: BundleFlagAtomic, Message: fmBytes, Inner: fmWant, InnerXid: fm.Header.Xid}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := libMarshal(t, c.lib)
			_, m, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v\n% x", err, b)
			}
			if !reflect.DeepEqual(m, c.want) {
				t.Errorf("decoded\n%#v\nwant\n%#v", m, c.want)
			}
			// Our encoding of the value is what libOpenflow sent (its
			// encoders pad as the spec says for these messages).
			if c.name != "hello" {
				if ours := mustMarshal(t, be.Uint32(b[4:]), m); !bytes.Equal(ours, b) {
					t.Errorf("our encoding differs:\n% x\n% x", ours, b)
				}
			}
		})
	}
}

// TestInteropLibOpenflowDecodes checks that libOpenflow decodes what we
// send the way the spec says, in the directions it gets right.
func TestInteropLibOpenflowDecodes(t *testing.T) {
	t.Run("features-reply", func(t *testing.T) {
		b := mustMarshal(t, 1, &FeaturesReply{DatapathID: 0x0000aabbccddeeff, NBuffers: 256, NTables: 254, AuxiliaryID: 1,
			Capabilities: CapFlowStats | CapPortStats})
		f := of13.NewFeaturesReply()
		if err := libDo(func() error { return f.UnmarshalBinary(b) }); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.DPID, []byte{0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}) || f.Buffers != 256 || f.NumTables != 254 ||
			f.AuxilaryId != 1 || f.Capabilities != of13.C_FLOW_STATS|of13.C_PORT_STATS || f.Header.Length != 32 {
			t.Errorf("libOpenflow decoded %+v", f)
		}
	})
	t.Run("packet-in", func(t *testing.T) {
		frame := cat([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, macA, []byte{0x88, 0xb5}, []byte("payload"))
		b := mustMarshal(t, 2, &PacketIn{BufferID: NoBuffer, TotalLen: uint16(len(frame)), Reason: ReasonAction, TableID: 3,
			Cookie: 0x1122334455667788, Match: Match{Fields: []OXM{inPort(5), basic(OXMMetadata, u64b(9)...)}}, Data: frame})
		p, ok := libParse(t, b).(*of13.PacketIn)
		if !ok {
			t.Fatal("not a packet-in")
		}
		if p.BufferId != NoBuffer || p.TotalLen != uint16(len(frame)) || p.Reason != of13.R_ACTION || p.TableId != 3 ||
			p.Cookie != 0x1122334455667788 || len(p.Match.Fields) != 2 {
			t.Errorf("libOpenflow decoded %+v", p)
		}
		if v, ok := p.Match.Fields[0].Value.(*of13.InPortField); !ok || v.InPort != 5 {
			t.Errorf("in_port %#v", p.Match.Fields[0].Value)
		}
		if v, ok := p.Match.Fields[1].Value.(*of13.MetadataField); !ok || v.Metadata != 9 {
			t.Errorf("metadata %#v", p.Match.Fields[1].Value)
		}
		if !bytes.Equal(p.Data.HWSrc, macA) || p.Data.Ethertype != 0x88b5 {
			t.Errorf("frame %+v", p.Data)
		}
		if d, ok := p.Data.Data.(*util.Buffer); !ok || d.String() != "payload" {
			t.Errorf("payload %#v", p.Data.Data)
		}
	})
	t.Run("error", func(t *testing.T) {
		data := ErrorData(fmBytesForTest(t))
		b := mustMarshal(t, 3, &ErrorMsg{ErrType: ETBadMatch, Code: BMCDupField, Data: data})
		e, ok := libParse(t, b).(*of13.ErrorMsg)
		if !ok || e.Type != of13.PET_BAD_MATCH || e.Code != of13.BMC_DUP_FIELD || !bytes.Equal(e.Data.Bytes(), data) {
			t.Errorf("libOpenflow decoded %+v", e)
		}
		b = mustMarshal(t, 3, NewErrorMsg(bundleErr(BFCBadID, "x"), data))
		ve, ok := libParse(t, b).(*of13.VendorError)
		if !ok || ve.Type != of13.ET_EXPERIMENTER || ve.Code != of13.BEC_BAD_ID || ve.ExperimenterID != of13.ONF_EXPERIMENTER_ID ||
			!bytes.Equal(ve.Data.Bytes(), data) {
			t.Errorf("libOpenflow decoded %+v", ve)
		}
	})
	t.Run("echo-reply", func(t *testing.T) {
		b := mustMarshal(t, 4, &EchoReply{})
		h, ok := libParse(t, b).(*common.Header)
		if !ok || h.Type != of13.Type_EchoReply || h.Length != 8 || h.Xid != 4 {
			t.Errorf("libOpenflow decoded %+v", h)
		}
	})
	t.Run("hello", func(t *testing.T) {
		b := mustMarshal(t, 5, &Hello{Bitmaps: []uint32{1 << 4}})
		h, ok := libParse(t, b).(*common.Hello)
		if !ok || h.Version != 4 || len(h.Elements) != 1 {
			t.Fatalf("libOpenflow decoded %+v", h)
		}
		if bm, ok := h.Elements[0].(*common.HelloElemVersionBitmap); !ok || !reflect.DeepEqual(bm.Bitmaps, []uint32{1 << 4}) {
			t.Errorf("bitmap %+v", h.Elements[0])
		}
	})
	t.Run("port-status", func(t *testing.T) {
		port := samplePort(7, "veth7")
		b := mustMarshal(t, 6, &PortStatus{Reason: PortReasonAdd, Desc: port})
		ps := of13.NewPortStatus() // not Parse: see the list above
		ps.Desc = *of13.NewPhyPort()
		if err := libDo(func() error { return ps.UnmarshalBinary(b) }); err != nil {
			t.Fatal(err)
		}
		d := &ps.Desc
		if ps.Reason != of13.PR_ADD || d.PortNo != 7 || !bytes.Equal(d.HWAddr, port.HWAddr[:]) ||
			strings.TrimRight(string(d.Name), "\x00") != "veth7" || d.Config != port.Config || d.State != port.State ||
			d.Curr != port.Curr || d.Advertised != 1 || d.Supported != 2 || d.Peer != 3 ||
			d.CurrSpeed != port.CurrSpeed || d.MaxSpeed != port.MaxSpeed {
			t.Errorf("libOpenflow decoded %+v", ps)
		}
	})
	t.Run("flow-removed", func(t *testing.T) {
		b := mustMarshal(t, 7, &FlowRemoved{Cookie: 1, Priority: 2, Reason: RemovedHardTimeout, TableID: 3, DurationSec: 4,
			DurationNsec: 5, IdleTimeout: 6, HardTimeout: 7, PacketCount: 8, ByteCount: 9, Match: Match{Fields: []OXM{inPort(3)}}})
		f, ok := libParse(t, b).(*of13.FlowRemoved)
		if !ok || f.Cookie != 1 || f.Priority != 2 || f.Reason != of13.RR_HARD_TIMEOUT || f.TableId != 3 || f.DurationSec != 4 ||
			f.DurationNSec != 5 || f.IdleTimeout != 6 || f.HardTimeout != 7 || f.PacketCount != 8 || f.ByteCount != 9 ||
			len(f.Match.Fields) != 1 || f.Match.Fields[0].Value.(*of13.InPortField).InPort != 3 {
			t.Errorf("libOpenflow decoded %+v", f)
		}
	})
	t.Run("get-config-reply", func(t *testing.T) {
		b := mustMarshal(t, 8, &GetConfigReply{Flags: ConfigFragReasm, MissSendLen: 0xffe5})
		c, ok := libParse(t, b).(*of13.SwitchConfig)
		if !ok || c.Flags != of13.C_FRAG_REASM || c.MissSendLen != 0xffe5 {
			t.Errorf("libOpenflow decoded %+v", c)
		}
	})
	t.Run("flow-stats-reply", func(t *testing.T) {
		stats := []FlowStats{sampleFlowStats(1), sampleFlowStats(2)}
		for i := range stats {
			stats[i].Match = Match{Fields: []OXM{inPort(uint32(i + 1)), basic(OXMEthType, 0x86, 0xdd)}}
		}
		b := mustMarshal(t, 9, &MultipartReply{Body: &FlowStatsReply{Stats: stats}})
		r, ok := libParse(t, b).(*of13.MultipartReply)
		if !ok || r.Type != of13.MultipartType_Flow || len(r.Body) != 2 {
			t.Fatalf("libOpenflow decoded %+v", r)
		}
		for i, m := range r.Body {
			s, want := m.(*of13.FlowStats), &stats[i]
			if s.TableId != want.TableID || s.DurationSec != want.DurationSec || s.DurationNSec != want.DurationNsec ||
				s.Priority != want.Priority || s.IdleTimeout != want.IdleTimeout || s.Flags != want.Flags ||
				s.Cookie != want.Cookie || s.PacketCount != want.PacketCount || s.ByteCount != want.ByteCount {
				t.Errorf("entry %d: libOpenflow decoded %+v", i, s)
			}
			if len(s.Match.Fields) != 2 || s.Match.Fields[0].Value.(*of13.InPortField).InPort != uint32(i+1) ||
				s.Match.Fields[1].Value.(*of13.EthTypeField).EthType != 0x86dd {
				t.Errorf("entry %d: match %+v", i, s.Match)
			}
			if len(s.Instructions) != 2 {
				t.Fatalf("entry %d: %d instructions", i, len(s.Instructions))
			}
			apply, ok := s.Instructions[0].(*of13.InstrActions)
			if !ok || apply.Type != of13.InstrType_APPLY_ACTIONS || len(apply.Actions) != 1 || apply.Actions[0].(*of13.ActionOutput).Port != 1 {
				t.Errorf("entry %d: apply-actions %+v", i, s.Instructions[0])
			}
			if g, ok := s.Instructions[1].(*of13.InstrGotoTable); !ok || g.TableId != 2 {
				t.Errorf("entry %d: goto-table %+v", i, s.Instructions[1])
			}
		}
	})
	t.Run("desc-reply", func(t *testing.T) {
		b := mustMarshal(t, 10, &MultipartReply{Body: &DescReply{MfrDesc: "govs", HWDesc: "hw", SWDesc: "sw", SerialNum: "42", DPDesc: "br0"}})
		if r, ok := libParse(t, b).(*of13.MultipartReply); !ok || len(r.Body) != 1 {
			t.Fatalf("libOpenflow decoded %+v", r)
		}
		// Parse's DescStats has nil strings; decode the body into a
		// preallocated one.
		d := of13.NewDescStats()
		if err := libDo(func() error { return d.UnmarshalBinary(b[16:]) }); err != nil {
			t.Fatal(err)
		}
		str := func(b []byte) string { return strings.TrimRight(string(b), "\x00") }
		if str(d.MfrDesc) != "govs" || str(d.HWDesc) != "hw" || str(d.SWDesc) != "sw" || str(d.SerialNum) != "42" || str(d.DPDesc) != "br0" {
			t.Errorf("libOpenflow decoded %+v", d)
		}
	})
	t.Run("aggregate-reply", func(t *testing.T) {
		b := mustMarshal(t, 11, &MultipartReply{Body: &AggregateStatsReply{PacketCount: 1, ByteCount: 2, FlowCount: 3}})
		r, ok := libParse(t, b).(*of13.MultipartReply)
		if !ok || len(r.Body) != 1 {
			t.Fatalf("libOpenflow decoded %+v", r)
		}
		if a := r.Body[0].(*of13.AggregateStats); a.PacketCount != 1 || a.ByteCount != 2 || a.FlowCount != 3 {
			t.Errorf("libOpenflow decoded %+v", a)
		}
	})
	t.Run("bundle-ctrl-reply", func(t *testing.T) {
		b := mustMarshal(t, 12, &BundleCtrl{BundleID: 9, CtrlType: BundleCommitReply, Flags: BundleFlagOrdered})
		v, ok := libParse(t, b).(*of13.VendorHeader)
		if !ok || v.Vendor != of13.ONF_EXPERIMENTER_ID || v.ExperimenterType != of13.Type_BundleCtrl {
			t.Fatalf("libOpenflow decoded %+v", v)
		}
		if c := v.VendorData.(*of13.BundleControl); c.BundleID != 9 || c.Type != of13.OFPBCT_COMMIT_REPLY || c.Flags != of13.OFPBCT_ORDERED {
			t.Errorf("libOpenflow decoded %+v", c)
		}
	})
}

func fmBytesForTest(t *testing.T) []byte { return mustMarshal(t, 1, sampleFlowMod()) }

// TestInteropLibOpenflowBugs pins down the libOpenflow defects listed at
// the top of this file where a test shows our side is the one following
// the spec.
func TestInteropLibOpenflowBugs(t *testing.T) {
	t.Run("flow-mod out_group", func(t *testing.T) {
		fm := of13.NewFlowMod()
		fm.Command, fm.OutPort, fm.OutGroup = of13.FC_DELETE, 5, 7
		_, m, err := Decode(libMarshal(t, fm))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.(*FlowMod); got.OutPort != 5 || got.OutGroup != 5 {
			t.Errorf("out_port %d out_group %d: libOpenflow fixed? update the list", got.OutPort, got.OutGroup)
		}
	})
	t.Run("features-reply without datapath_id", func(t *testing.T) {
		f := of13.NewFeaturesReply()
		copy(f.DPID, []byte{1, 2, 3, 4, 5, 6, 7, 8})
		f.Buffers, f.NumTables = 0x100, 0xfe
		_, m, err := Decode(libMarshal(t, f))
		if err != nil {
			t.Fatal(err)
		}
		// Its fields start where datapath_id should be.
		if got := m.(*FeaturesReply); got.DatapathID != 0x00000100fe000000 {
			t.Errorf("decoded %+v: libOpenflow fixed? update the list", got)
		}
	})
	t.Run("packet-in cookie over fixed fields", func(t *testing.T) {
		p := of13.NewPacketIn()
		p.BufferId, p.TotalLen, p.Reason, p.TableId, p.Cookie = 7, 60, 1, 2, 0x1122334455667788
		p.Match.AddField(*of13.NewInPortField(1))
		p.Data = *protocol.NewEthernet()
		b := libMarshal(t, p)
		if _, _, err := Decode(b); err == nil {
			t.Error("header length was right: libOpenflow fixed? update the list")
		}
		b[2], b[3] = byte(len(b)>>8), byte(len(b))
		_, m, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.(*PacketIn); got.BufferID != 0x11223344 || got.TotalLen != 0x5566 {
			t.Errorf("decoded %+v: libOpenflow fixed? update the list", got)
		}
	})
	t.Run("port and table stats are OpenFlow 1.0 shaped", func(t *testing.T) {
		for _, body := range []MultipartBody{
			&PortStatsReply{Stats: []PortStats{{PortNo: 1, RxPackets: 2, DurationSec: 3}}},
			&TableStatsReply{Stats: []TableStats{{TableID: 1, ActiveCount: 2}}},
		} {
			b := mustMarshal(t, 1, &MultipartReply{Body: body})
			if err := libDo(func() error { _, err := of13.Parse(b); return err }); err == nil {
				t.Errorf("%T: libOpenflow decoded an OpenFlow 1.3 reply: fixed? update the list", body)
			}
		}
		// Its port stats request carries a 16-bit port number.
		r := of13.NewPortStatsRequest()
		r.PortNo = 0xffff
		b := libMarshal(t, &of13.MultipartRequest{Header: of13.NewOfp13Header(), Type: of13.MultipartType_Port, Body: r})
		b[1] = uint8(TypeMultipartRequest)
		_, m, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.(*MultipartRequest).Body.(*PortStatsRequest).PortNo; got != 0xffff0000 {
			t.Errorf("port %#x", got)
		}
	})
	t.Run("Parse port-status misaligned", func(t *testing.T) {
		b := mustMarshal(t, 6, &PortStatus{Reason: PortReasonAdd, Desc: samplePort(7, "veth7")})
		if ps, ok := libParse(t, b).(*of13.PortStatus); !ok || ps.Desc.PortNo == 7 {
			t.Errorf("libOpenflow decoded %+v: fixed? update the list", ps)
		}
	})
	t.Run("pop_vlan", func(t *testing.T) {
		fm, want := libFlowMod()
		b := libMarshal(t, fm)
		if _, m, err := Decode(b); err != nil || !reflect.DeepEqual(m, want) {
			t.Fatalf("we decode it: %v", err)
		}
		back := of13.NewFlowMod()
		if err := libDo(func() error { return back.UnmarshalBinary(b) }); err == nil && reflect.DeepEqual(back.Instructions, fm.Instructions) {
			t.Error("libOpenflow decoded pop_vlan: fixed? update the list")
		}
	})
}
