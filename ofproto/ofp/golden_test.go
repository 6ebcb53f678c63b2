package ofp

import (
	"bytes"
	"reflect"
	"testing"
)

// cat concatenates byte slices, for writing messages field by field.
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// Messages written by hand from the OpenFlow 1.3.5 specification's
// structures, checked in both directions.
func TestGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		wire []byte
		xid  uint32
		msg  Message
	}{
		{
			name: "features-reply",
			wire: cat(
				[]byte{0x04, 0x06, 0x00, 0x20, 0x00, 0x00, 0x00, 0x01}, // header
				[]byte{0x00, 0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}, // datapath_id
				[]byte{0x00, 0x00, 0x01, 0x00},                         // n_buffers
				[]byte{0xfe, 0x00, 0x00, 0x00},                         // n_tables, auxiliary_id, pad2
				[]byte{0x00, 0x00, 0x00, 0x4f},                         // capabilities
				[]byte{0x00, 0x00, 0x00, 0x00},                         // reserved
			),
			xid: 1,
			msg: &FeaturesReply{DatapathID: 0xaabbccddeeff, NBuffers: 256, NTables: 254,
				Capabilities: CapFlowStats | CapTableStats | CapPortStats | CapGroupStats | CapQueueStats},
		},
		{
			name: "packet-in/in_port",
			wire: cat(
				[]byte{0x04, 0x0a, 0x00, 0x2e, 0x00, 0x00, 0x00, 0x02}, // header, 46 bytes
				[]byte{0xff, 0xff, 0xff, 0xff},                         // buffer_id: no buffer
				[]byte{0x00, 0x3c},                                     // total_len 60
				[]byte{0x01, 0x03},                                     // reason action, table 3
				[]byte{0, 0, 0, 0, 0, 0, 0x0a, 0xbc},                   // cookie
				[]byte{0x00, 0x01, 0x00, 0x0c},                         // match: OXM, length 12
				[]byte{0x80, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01}, // OXM_OF_IN_PORT 1
				[]byte{0, 0, 0, 0},                                     // match padding
				[]byte{0, 0},                                           // pad
				[]byte{0xde, 0xad, 0xbe, 0xef},                         // frame
			),
			xid: 2,
			msg: &PacketIn{BufferID: NoBuffer, TotalLen: 60, Reason: ReasonAction, TableID: 3, Cookie: 0xabc,
				Match: Match{Fields: []OXM{inPort(1)}}, Data: []byte{0xde, 0xad, 0xbe, 0xef}},
		},
		{
			name: "hello/bitmap",
			wire: []byte{0x04, 0x00, 0x00, 0x10, 0, 0, 0, 3, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x10},
			xid:  3,
			msg:  &Hello{Version: 4, Bitmaps: []uint32{1 << 4}},
		},
		{
			name: "multipart/port-stats",
			wire: cat(
				[]byte{0x04, 0x13, 0x00, 0x80, 0, 0, 0, 4}, // header, 128 bytes
				[]byte{0x00, 0x04, 0x00, 0x00, 0, 0, 0, 0}, // OFPMP_PORT_STATS, flags, pad
				[]byte{0, 0, 0, 1, 0, 0, 0, 0},             // port_no, pad
				[]byte{0, 0, 0, 0, 0, 0, 0, 1},             // rx_packets
				[]byte{0, 0, 0, 0, 0, 0, 0, 2},             // tx_packets
				[]byte{0, 0, 0, 0, 0, 0, 0, 3},             // rx_bytes
				[]byte{0, 0, 0, 0, 0, 0, 0, 4},             // tx_bytes
				[]byte{0, 0, 0, 0, 0, 0, 0, 5},             // rx_dropped
				[]byte{0, 0, 0, 0, 0, 0, 0, 6},             // tx_dropped
				[]byte{0, 0, 0, 0, 0, 0, 0, 7},             // rx_errors
				[]byte{0, 0, 0, 0, 0, 0, 0, 8},             // tx_errors
				[]byte{0, 0, 0, 0, 0, 0, 0, 9},             // rx_frame_err
				[]byte{0, 0, 0, 0, 0, 0, 0, 10},            // rx_over_err
				[]byte{0, 0, 0, 0, 0, 0, 0, 11},            // rx_crc_err
				[]byte{0, 0, 0, 0, 0, 0, 0, 12},            // collisions
				[]byte{0, 0, 0, 13, 0, 0, 0, 14},           // duration_sec, duration_nsec
			),
			xid: 4,
			msg: &MultipartReply{Body: &PortStatsReply{Stats: []PortStats{{PortNo: 1, RxPackets: 1, TxPackets: 2, RxBytes: 3,
				TxBytes: 4, RxDropped: 5, TxDropped: 6, RxErrors: 7, TxErrors: 8, RxFrameErr: 9, RxOverErr: 10, RxCRCErr: 11,
				Collisions: 12, DurationSec: 13, DurationNsec: 14}}}},
		},
		{
			name: "multipart/table-stats",
			wire: cat(
				[]byte{0x04, 0x13, 0x00, 0x28, 0, 0, 0, 5}, // header, 40 bytes
				[]byte{0x00, 0x03, 0x00, 0x00, 0, 0, 0, 0}, // OFPMP_TABLE
				[]byte{0x02, 0, 0, 0},                      // table_id, pad3
				[]byte{0, 0, 0, 7},                         // active_count
				[]byte{0, 0, 0, 0, 0, 0, 0x01, 0x00},       // lookup_count
				[]byte{0, 0, 0, 0, 0, 0, 0x00, 0xff},       // matched_count
			),
			xid: 5,
			msg: &MultipartReply{Body: &TableStatsReply{Stats: []TableStats{{TableID: 2, ActiveCount: 7, LookupCount: 256, MatchedCount: 255}}}},
		},
		{
			name: "multipart/flow-stats",
			wire: cat(
				[]byte{0x04, 0x13, 0x00, 0x68, 0, 0, 0, 6}, // header, 104 bytes
				[]byte{0x00, 0x01, 0x00, 0x00, 0, 0, 0, 0}, // OFPMP_FLOW
				[]byte{0x00, 0x58, 0x01, 0x00},             // length 88, table_id 1, pad
				[]byte{0, 0, 0, 30},                        // duration_sec
				[]byte{0, 0, 0, 40},                        // duration_nsec
				[]byte{0x80, 0x00},                         // priority
				[]byte{0, 10, 0, 20},                       // idle, hard timeout
				[]byte{0x00, 0x01, 0, 0, 0, 0},             // flags send_flow_rem, pad4
				[]byte{0, 0, 0, 0, 0, 0, 0, 0x99},          // cookie
				[]byte{0, 0, 0, 0, 0, 0, 0, 5},             // packet_count
				[]byte{0, 0, 0, 0, 0, 0, 1, 0},             // byte_count
				[]byte{0x00, 0x01, 0x00, 0x0c, 0x80, 0x00, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 0}, // match in_port=1
				[]byte{0x00, 0x04, 0x00, 0x18, 0, 0, 0, 0},                                     // apply actions, length 24
				[]byte{0x00, 0x00, 0x00, 0x10, 0, 0, 0, 2, 0xff, 0xe5, 0, 0, 0, 0, 0, 0},       // output 2 max_len 0xffe5
			),
			xid: 6,
			msg: &MultipartReply{Body: &FlowStatsReply{Stats: []FlowStats{{TableID: 1, DurationSec: 30, DurationNsec: 40,
				Priority: 0x8000, IdleTimeout: 10, HardTimeout: 20, Flags: FlagSendFlowRem, Cookie: 0x99, PacketCount: 5,
				ByteCount: 256, Match: Match{Fields: []OXM{inPort(1)}},
				Instructions: []Instruction{&InstrApplyActions{Actions: []Action{&ActionOutput{Port: 2, MaxLen: 0xffe5}}}}}}}},
		},
		{
			name: "multipart/table-features",
			wire: cat(
				[]byte{0x04, 0x13, 0x00, 0x58, 0, 0, 0, 7},             // header, 88 bytes
				[]byte{0x00, 0x0c, 0x00, 0x00, 0, 0, 0, 0},             // OFPMP_TABLE_FEATURES
				[]byte{0x00, 0x48, 0x00, 0, 0, 0, 0, 0},                // length 72, table_id 0, pad5
				append([]byte("t0"), make([]byte, 30)...),              // name[32]
				[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // metadata_match
				[]byte{0, 0, 0, 0, 0, 0, 0, 0},                         // metadata_write
				[]byte{0, 0, 0, 0},                                     // config
				[]byte{0, 0, 0x10, 0},                                  // max_entries 4096
				[]byte{0x00, 0x02, 0x00, 0x06, 0x01, 0x02, 0, 0},       // next_tables 1, 2: length 6, padded
			),
			xid: 7,
			msg: &MultipartReply{Body: &TableFeaturesReply{Features: []TableFeatures{{TableID: 0, Name: "t0",
				MetadataMatch: ^uint64(0), MaxEntries: 4096, Props: []TableFeatureProp{{Type: TFPNextTables, Tables: []uint8{1, 2}}}}}}},
		},
		{
			name: "flow-mod/set-field",
			wire: cat(
				[]byte{0x04, 0x0e, 0x00, 0x58, 0, 0, 0, 8}, // header, 88 bytes
				[]byte{0, 0, 0, 0, 0, 0, 0, 1},             // cookie
				[]byte{0, 0, 0, 0, 0, 0, 0, 0},             // cookie_mask
				[]byte{0x00, 0x00, 0x00, 0x00},             // table 0, add, idle 0
				[]byte{0x00, 0x00, 0x00, 0x64},             // hard 0, priority 100
				[]byte{0xff, 0xff, 0xff, 0xff},             // buffer_id
				[]byte{0xff, 0xff, 0xff, 0xff},             // out_port
				[]byte{0xff, 0xff, 0xff, 0xff},             // out_group
				[]byte{0x00, 0x00, 0x00, 0x00},             // flags, pad2
				[]byte{0x00, 0x01, 0x00, 0x0a, 0x80, 0x00, 0x0a, 0x02, 0x08, 0x00, 0, 0, 0, 0, 0, 0}, // match eth_type=0x0800
				[]byte{0x00, 0x04, 0x00, 0x18, 0, 0, 0, 0},                                           // apply actions, length 24
				[]byte{0x00, 0x19, 0x00, 0x10, 0x80, 0x00, 0x18, 0x04, 198, 18, 0, 1, 0, 0, 0, 0},    // set_field ipv4_dst
			),
			xid: 8,
			msg: &FlowMod{Cookie: 1, Priority: 100, BufferID: NoBuffer, OutPort: PortAny, OutGroup: GroupAny,
				Match: Match{Fields: []OXM{basic(OXMEthType, 0x08, 0x00)}},
				Instructions: []Instruction{&InstrApplyActions{Actions: []Action{
					&ActionSetField{Field: basic(OXMIPv4Dst, 198, 18, 0, 1)}}}}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			if len(c.wire)%8 != 0 && c.name != "packet-in/in_port" {
				t.Fatalf("literal is %d bytes", len(c.wire))
			}
			h, m, err := Decode(c.wire)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if h.Xid != c.xid || int(h.Length) != len(c.wire) {
				t.Errorf("header %+v", h)
			}
			if !reflect.DeepEqual(m, c.msg) {
				t.Errorf("decoded\n%#v\nwant\n%#v", m, c.msg)
			}
			if b := mustMarshal(t, c.xid, c.msg); !bytes.Equal(b, c.wire) {
				t.Errorf("encoded\n% x\nwant\n% x", b, c.wire)
			}
		})
	}
}

// A hello with an element of unknown type before the version bitmap: the
// unknown element is skipped (libOpenflow loops forever on it).
func TestGoldenHelloUnknownElement(t *testing.T) {
	wire := cat(
		[]byte{0x05, 0x00, 0x00, 0x18, 0, 0, 0, 9},             // OpenFlow 1.4 hello, 24 bytes
		[]byte{0x77, 0x77, 0x00, 0x06, 0xaa, 0xbb},             // unknown element, length 6
		[]byte{0x00, 0x00},                                     // its padding
		[]byte{0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x32}, // bitmap: 1.0, 1.3, 1.4
	)
	_, m, err := Decode(wire)
	if err != nil {
		t.Fatal(err)
	}
	if want := (&Hello{Version: 5, Bitmaps: []uint32{0x32}}); !reflect.DeepEqual(m, want) {
		t.Errorf("got %#v, want %#v", m, want)
	}
	// A hello without padding after the last element, and with trailing
	// bytes too short for an element, still decodes.
	wire = []byte{0x04, 0x00, 0x00, 0x0f, 0, 0, 0, 1, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00}
	wire = append(wire[:8], 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x10, 0xee)
	wire[3] = byte(len(wire))
	if _, m, err := Decode(wire); err != nil || !reflect.DeepEqual(m, &Hello{Version: 4, Bitmaps: []uint32{0x10}}) {
		t.Errorf("got %#v, %v", m, err)
	}
}
