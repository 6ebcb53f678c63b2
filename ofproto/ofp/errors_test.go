package ofp

import (
	"errors"
	"testing"
)

// rawMsg builds an OpenFlow 1.3 message from body parts.
func rawMsg(typ MsgType, parts ...[]byte) []byte {
	b := cat(append([][]byte{{Version, uint8(typ), 0, 0, 0, 0, 0, 1}}, parts...)...)
	b[2], b[3] = byte(len(b)>>8), byte(len(b))
	return b
}

// flowModWith builds a FLOW_MOD around a raw match and instructions.
func flowModWith(match, instructions []byte) []byte {
	fixed := cat(make([]byte, 16), []byte{0, 0, 0, 0, 0, 0, 0, 1}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		[]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	return rawMsg(TypeFlowMod, fixed, match, instructions)
}

// oxmMatch builds a raw ofp_match from raw OXMs, with padding.
func oxmMatch(oxms ...[]byte) []byte {
	body := cat(oxms...)
	m := cat([]byte{0, 1}, u16b(uint16(4+len(body))), body)
	return append(m, make([]byte, pad8(len(m))-len(m))...)
}

// oxm builds a raw OXM TLV.
func oxm(class uint16, field uint8, hasMask bool, payload ...byte) []byte {
	return cat(u32b(OXMHeader(class, field, hasMask, len(payload))), payload)
}

// applyActions wraps raw actions in an apply-actions instruction.
func applyActions(acts ...[]byte) []byte {
	body := cat(acts...)
	return cat([]byte{0, 4}, u16b(uint16(8+len(body))), []byte{0, 0, 0, 0}, body)
}

// rawAction builds an action with an explicit length field.
func rawAction(typ, length uint16, rest ...byte) []byte {
	return cat(u16b(typ), u16b(length), rest)
}

var inPortOXM = oxm(OXMClassOpenFlowBasic, 0, false, 0, 0, 0, 1)

// decodeErrCase is a malformed message and the error it must give.
type decodeErrCase struct {
	name      string
	wire      []byte
	typ, code uint16
}

// decodeErrCases also seeds FuzzDecode.
func decodeErrCases() []decodeErrCase {
	goodMatch := oxmMatch(inPortOXM)
	out := rawAction(0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)
	return []decodeErrCase{
		// Framing and header.
		{"short header", []byte{4, 0, 0}, ETBadRequest, BRCBadLen},
		{"length mismatch", []byte{4, 2, 0, 9, 0, 0, 0, 0}, ETBadRequest, BRCBadLen},
		{"version 1", []byte{1, 2, 0, 8, 0, 0, 0, 0}, ETBadRequest, BRCBadVersion},
		{"version 5 flow mod", func() []byte { b := flowModWith(goodMatch, nil); b[0] = 5; return b }(), ETBadRequest, BRCBadVersion},
		{"unknown type 30", rawMsg(30), ETBadRequest, BRCBadType},
		{"unknown type 255", rawMsg(255), ETBadRequest, BRCBadType},
		{"features request with body", rawMsg(TypeFeaturesRequest, []byte{0}), ETBadRequest, BRCBadLen},
		{"role request too long", rawMsg(TypeRoleRequest, make([]byte, 17)), ETBadRequest, BRCBadLen},
		{"set config short", rawMsg(TypeSetConfig, []byte{0, 0, 0}), ETBadRequest, BRCBadLen},
		{"packet-out actions_len overflows", rawMsg(TypePacketOut, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 16, 0, 0, 0, 0, 0, 0}, out[:8]), ETBadRequest, BRCBadLen},
		{"packet-in without pad", rawMsg(TypePacketIn, make([]byte, 16), goodMatch), ETBadRequest, BRCBadLen},
		{"flow removed trailing bytes", rawMsg(TypeFlowRemoved, make([]byte, 40), goodMatch, make([]byte, 8)), ETBadRequest, BRCBadLen},

		// Hello.
		{"hello zero-length element", rawMsg(TypeHello, []byte{0, 1, 0, 0, 0, 0, 0, 0}), ETBadRequest, BRCBadLen},
		{"hello element overruns", rawMsg(TypeHello, []byte{0, 1, 0, 12, 0, 0, 0, 0x10}), ETBadRequest, BRCBadLen},
		{"hello element length 3", rawMsg(TypeHello, []byte{0, 2, 0, 3, 0, 0, 0, 0}), ETBadRequest, BRCBadLen},

		// Match.
		{"match type standard", flowModWith(cat([]byte{0, 0, 0, 88}, make([]byte, 84)), nil), ETBadMatch, BMCBadType},
		{"match type 2", flowModWith([]byte{0, 2, 0, 4, 0, 0, 0, 0}, nil), ETBadMatch, BMCBadType},
		{"match length 2", flowModWith([]byte{0, 1, 0, 2, 0, 0, 0, 0}, nil), ETBadMatch, BMCBadLen},
		{"match length overruns", flowModWith([]byte{0, 1, 0, 64, 0, 0, 0, 0}, nil), ETBadMatch, BMCBadLen},
		{"match padding missing", flowModWith(cat([]byte{0, 1, 0, 12}, inPortOXM), nil), ETBadMatch, BMCBadLen},
		{"oxm in_port length 3", flowModWith(oxmMatch(oxm(OXMClassOpenFlowBasic, 0, false, 0, 0, 1)), nil), ETBadMatch, BMCBadLen},
		{"oxm eth_dst length 12 without mask bit", flowModWith(oxmMatch(oxm(OXMClassOpenFlowBasic, 3, false, make([]byte, 12)...)), nil), ETBadMatch, BMCBadLen},
		{"oxm masked eth_dst length 6", flowModWith(oxmMatch(oxm(OXMClassOpenFlowBasic, 3, true, make([]byte, 6)...)), nil), ETBadMatch, BMCBadLen},
		{"oxm unknown field 40", flowModWith(oxmMatch(oxm(OXMClassOpenFlowBasic, 40, false, 1)), nil), ETBadMatch, BMCBadField},
		{"oxm unknown field 127", flowModWith(oxmMatch(oxm(OXMClassOpenFlowBasic, 127, false)), nil), ETBadMatch, BMCBadField},
		{"oxm mask on in_port", flowModWith(oxmMatch(oxm(OXMClassOpenFlowBasic, 0, true, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff)), nil), ETBadMatch, BMCBadMask},
		{"oxm mask on eth_type", flowModWith(oxmMatch(oxm(OXMClassOpenFlowBasic, 5, true, 8, 0, 0xff, 0xff)), nil), ETBadMatch, BMCBadMask},
		{"oxm duplicate in_port", flowModWith(oxmMatch(inPortOXM, inPortOXM), nil), ETBadMatch, BMCDupField},
		{"oxm duplicate masked and not", flowModWith(oxmMatch(oxm(OXMClassOpenFlowBasic, 11, false, 1, 2, 3, 4),
			oxm(OXMClassOpenFlowBasic, 11, true, 1, 2, 3, 4, 255, 255, 0, 0)), nil), ETBadMatch, BMCDupField},
		{"oxm header truncated", flowModWith(oxmMatch(inPortOXM, []byte{0x80, 0x00}), nil), ETBadMatch, BMCBadLen},
		{"oxm payload overruns", flowModWith(cat([]byte{0, 1, 0, 12}, []byte{0x80, 0, 0, 8, 0, 0, 0, 1}, make([]byte, 4)), nil), ETBadMatch, BMCBadLen},
		{"oxm experimenter too short", flowModWith(oxmMatch(oxm(OXMClassExperimenter, 1, false, 0, 0)), nil), ETBadMatch, BMCBadLen},
		{"oxm nxm odd masked", flowModWith(oxmMatch(oxm(OXMClassNXM1, 1, true, 1, 2, 3)), nil), ETBadMatch, BMCBadLen},

		// Actions.
		{"action unknown type 1", flowModWith(goodMatch, applyActions(rawAction(1, 8, 0, 0, 0, 0))), ETBadAction, BACBadType},
		{"action unknown type 13", flowModWith(goodMatch, applyActions(rawAction(13, 8, 0, 0, 0, 0))), ETBadAction, BACBadType},
		{"action unknown type 28", flowModWith(goodMatch, applyActions(rawAction(28, 8, 0, 0, 0, 0))), ETBadAction, BACBadType},
		{"action length 12", flowModWith(goodMatch, applyActions(rawAction(0, 12, make([]byte, 12)...))), ETBadAction, BACBadLen},
		{"action length 0", flowModWith(goodMatch, applyActions(rawAction(18, 0, 0, 0, 0, 0))), ETBadAction, BACBadLen},
		{"action length 4", flowModWith(goodMatch, applyActions(rawAction(18, 4, 0, 0, 0, 0))), ETBadAction, BACBadLen},
		{"action overruns", flowModWith(goodMatch, applyActions(rawAction(0, 24, make([]byte, 12)...))), ETBadAction, BACBadLen},
		{"output length 8", flowModWith(goodMatch, applyActions(rawAction(0, 8, 0, 0, 0, 1))), ETBadAction, BACBadLen},
		{"pop_vlan length 16", flowModWith(goodMatch, applyActions(rawAction(18, 16, make([]byte, 12)...))), ETBadAction, BACBadLen},
		{"set_field with mask", flowModWith(goodMatch, applyActions(rawAction(25, 16, oxm(OXMClassOpenFlowBasic, 12, true, 1, 2, 3, 4, 255, 255, 255, 0)...))), ETBadAction, BACBadSetArgument},
		{"set_field unknown field", flowModWith(goodMatch, applyActions(rawAction(25, 8, oxm(OXMClassOpenFlowBasic, 45, false)...))), ETBadAction, BACBadSetType},
		{"set_field bad length", flowModWith(goodMatch, applyActions(rawAction(25, 16, cat(oxm(OXMClassOpenFlowBasic, 12, false, 1, 2, 3, 4, 5, 6), make([]byte, 2))...))), ETBadAction, BACBadSetLen},
		{"set_field oxm overruns", flowModWith(goodMatch, applyActions(rawAction(25, 8, u32b(OXMHeader(OXMClassOpenFlowBasic, 12, false, 4))...))), ETBadAction, BACBadSetLen},
		{"set_field extra padding", flowModWith(goodMatch, applyActions(rawAction(25, 24, cat(oxm(OXMClassOpenFlowBasic, 5, false, 8, 0), make([]byte, 14))...))), ETBadAction, BACBadSetLen},
		{"set_field empty value", flowModWith(goodMatch, applyActions(rawAction(25, 8, oxm(OXMClassOpenFlowBasic, 12, false)...))), ETBadAction, BACBadSetLen},
		{"packet-out bad action", rawMsg(TypePacketOut, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0}, rawAction(99, 8, 0, 0, 0, 0)), ETBadAction, BACBadType},

		// Instructions.
		{"instruction unknown type 7", flowModWith(goodMatch, cat([]byte{0, 7, 0, 8}, make([]byte, 4))), ETBadInstruction, BICUnknownInst},
		{"instruction unknown type 0", flowModWith(goodMatch, cat([]byte{0, 0, 0, 8}, make([]byte, 4))), ETBadInstruction, BICUnknownInst},
		{"instruction length 4", flowModWith(goodMatch, []byte{0, 5, 0, 4, 0, 0, 0, 0}), ETBadInstruction, BICBadLen},
		{"instruction length 0", flowModWith(goodMatch, []byte{0, 5, 0, 0, 0, 0, 0, 0}), ETBadInstruction, BICBadLen},
		{"instruction length 12", flowModWith(goodMatch, cat([]byte{0, 6, 0, 12}, make([]byte, 12))), ETBadInstruction, BICBadLen},
		{"instruction overruns", flowModWith(goodMatch, []byte{0, 4, 0, 16, 0, 0, 0, 0}), ETBadInstruction, BICBadLen},
		{"instruction truncated header", flowModWith(goodMatch, []byte{0, 1}), ETBadInstruction, BICBadLen},
		{"goto_table length 16", flowModWith(goodMatch, cat([]byte{0, 1, 0, 16}, make([]byte, 12))), ETBadInstruction, BICBadLen},
		{"write_metadata length 16", flowModWith(goodMatch, cat([]byte{0, 2, 0, 16}, make([]byte, 12))), ETBadInstruction, BICBadLen},
		{"bad action inside write actions", flowModWith(goodMatch, cat([]byte{0, 3, 0, 16, 0, 0, 0, 0}, rawAction(0, 8, 0, 0, 0, 1))), ETBadAction, BACBadLen},

		// Groups and meters.
		{"bucket length 8", rawMsg(TypeGroupMod, make([]byte, 8), []byte{0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), ETGroupModFailed, GMFCBadBucket},
		{"bucket length 0", rawMsg(TypeGroupMod, make([]byte, 8), make([]byte, 16)), ETGroupModFailed, GMFCBadBucket},
		{"bucket overruns", rawMsg(TypeGroupMod, make([]byte, 8), []byte{0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), ETGroupModFailed, GMFCBadBucket},
		{"bucket truncated", rawMsg(TypeGroupMod, make([]byte, 8), []byte{0, 16, 0, 0}), ETGroupModFailed, GMFCBadBucket},
		{"bucket bad action", rawMsg(TypeGroupMod, make([]byte, 8), []byte{0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, rawAction(77, 8, 0, 0, 0, 0)), ETBadAction, BACBadType},
		{"meter band unknown type", rawMsg(TypeMeterMod, make([]byte, 8), cat([]byte{0, 3, 0, 16}, make([]byte, 12))), ETMeterModFailed, MMFCBadBand},
		{"meter band length 8", rawMsg(TypeMeterMod, make([]byte, 8), cat([]byte{0, 1, 0, 8}, make([]byte, 12))), ETBadRequest, BRCBadLen},
		{"meter band length 0", rawMsg(TypeMeterMod, make([]byte, 8), cat([]byte{0, 1, 0, 0}, make([]byte, 12))), ETBadRequest, BRCBadLen},
		{"meter drop band length 24", rawMsg(TypeMeterMod, make([]byte, 8), cat([]byte{0, 1, 0, 24}, make([]byte, 20))), ETBadRequest, BRCBadLen},

		// Multipart.
		{"multipart unknown type 14", rawMsg(TypeMultipartRequest, []byte{0, 14, 0, 0, 0, 0, 0, 0}), ETBadRequest, BRCBadMultipart},
		{"multipart unknown type 0x100", rawMsg(TypeMultipartReply, []byte{1, 0, 0, 0, 0, 0, 0, 0}), ETBadRequest, BRCBadMultipart},
		{"multipart header short", rawMsg(TypeMultipartRequest, []byte{0, 0, 0, 0}), ETBadRequest, BRCBadLen},
		{"desc request with body", rawMsg(TypeMultipartRequest, []byte{0, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 8)), ETBadRequest, BRCBadLen},
		{"port stats request short", rawMsg(TypeMultipartRequest, []byte{0, 4, 0, 0, 0, 0, 0, 0}, make([]byte, 4)), ETBadRequest, BRCBadLen},
		{"flow stats request bad match", rawMsg(TypeMultipartRequest, []byte{0, 1, 0, 0, 0, 0, 0, 0}, make([]byte, 32), oxmMatch(inPortOXM, inPortOXM)), ETBadMatch, BMCDupField},
		{"port stats reply not a multiple", rawMsg(TypeMultipartReply, []byte{0, 4, 0, 0, 0, 0, 0, 0}, make([]byte, 104)), ETBadRequest, BRCBadLen},
		{"flow stats entry length 0", rawMsg(TypeMultipartReply, []byte{0, 1, 0, 0, 0, 0, 0, 0}, make([]byte, 56)), ETBadRequest, BRCBadLen},
		{"table features length 8", rawMsg(TypeMultipartRequest, []byte{0, 12, 0, 0, 0, 0, 0, 0}, []byte{0, 8}, make([]byte, 62)), ETTableFeaturesFailed, TFFCBadLen},
		{"table features prop length 2", rawMsg(TypeMultipartRequest, []byte{0, 12, 0, 0, 0, 0, 0, 0}, []byte{0, 72}, make([]byte, 62), []byte{0, 2, 0, 2, 0, 0, 0, 0}), ETTableFeaturesFailed, TFFCBadLen},
		{"table features odd oxm ids", rawMsg(TypeMultipartRequest, []byte{0, 12, 0, 0, 0, 0, 0, 0}, []byte{0, 72}, make([]byte, 62), []byte{0, 8, 0, 6, 0, 0, 0, 0}), ETTableFeaturesFailed, TFFCBadLen},
		{"table features instruction id length 2", rawMsg(TypeMultipartRequest, []byte{0, 12, 0, 0, 0, 0, 0, 0}, []byte{0, 72}, make([]byte, 62), []byte{0, 0, 0, 8, 0, 1, 0, 2}), ETTableFeaturesFailed, TFFCBadLen},

		// Bundles: a badly framed bundled message.
		{"bundle add inner length 4", rawMsg(TypeExperimenter, u32b(ONFExperimenter), u32b(ONFTypeBundleAdd), make([]byte, 8), []byte{4, 2, 0, 4, 0, 0, 0, 0}), ETExperimenter, BFCMsgBadLen},
		{"bundle add inner overruns", rawMsg(TypeExperimenter, u32b(ONFExperimenter), u32b(ONFTypeBundleAdd), make([]byte, 8), []byte{4, 2, 0, 16, 0, 0, 0, 0}), ETExperimenter, BFCMsgBadLen},
		{"bundle ctrl short", rawMsg(TypeExperimenter, u32b(ONFExperimenter), u32b(ONFTypeBundleCtrl), make([]byte, 4)), ETBadRequest, BRCBadLen},
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, c := range decodeErrCases() {
		t.Run(c.name, func(t *testing.T) {
			_, m, err := Decode(c.wire)
			if m != nil {
				t.Errorf("message %#v returned with error", m)
			}
			checkErr(t, c.name, err, c.typ, c.code)
			var oe *Error
			if errors.As(err, &oe) && c.typ == ETExperimenter && oe.Experimenter != ONFExperimenter {
				t.Errorf("experimenter %#x", oe.Experimenter)
			}
		})
	}
}

// Things that are the switch's business, not the decoder's.
func TestDecodeLeavesToSwitch(t *testing.T) {
	for _, c := range []struct {
		name string
		wire []byte
	}{
		{"value bits outside mask", flowModWith(oxmMatch(oxm(OXMClassOpenFlowBasic, 11, true, 10, 1, 2, 3, 255, 0, 0, 0)), nil)},
		{"missing prerequisite", flowModWith(oxmMatch(oxm(OXMClassOpenFlowBasic, 14, false, 0, 80)), nil)},
		{"nxm fields repeated", flowModWith(oxmMatch(oxm(OXMClassNXM1, 0, false, 1, 2, 3, 4), oxm(OXMClassNXM1, 0, false, 1, 2, 3, 4)), nil)},
		{"unknown oxm class", flowModWith(oxmMatch(oxm(0x8001, 3, false, 1, 2)), nil)},
		{"set_field in_port", flowModWith(oxmMatch(), applyActions(rawAction(25, 16, cat(inPortOXM, make([]byte, 4))...)))},
		{"experimenter action", flowModWith(oxmMatch(), applyActions(rawAction(0xffff, 16, 0, 0, 0x23, 0x20, 1, 2, 3, 4, 5, 6, 7, 8)))},
		{"duplicate instruction", flowModWith(oxmMatch(), cat(applyActions(), applyActions()))},
	} {
		if _, _, err := Decode(c.wire); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// minLen is the shortest valid message of each type.
var minLen = map[MsgType]int{
	TypeHello: 8, TypeError: 12, TypeEchoRequest: 8, TypeEchoReply: 8, TypeExperimenter: 16,
	TypeFeaturesRequest: 8, TypeFeaturesReply: 32, TypeGetConfigRequest: 8, TypeGetConfigReply: 12,
	TypeSetConfig: 12, TypePacketIn: 34, TypeFlowRemoved: 56, TypePortStatus: 80, TypePacketOut: 24,
	TypeFlowMod: 56, TypeGroupMod: 16, TypePortMod: 40, TypeTableMod: 16, TypeMultipartRequest: 16,
	TypeMultipartReply: 16, TypeBarrierRequest: 8, TypeBarrierReply: 8, TypeQueueGetConfigRequest: 16,
	TypeQueueGetConfigReply: 16, TypeRoleRequest: 24, TypeRoleReply: 24, TypeGetAsyncRequest: 8,
	TypeGetAsyncReply: 32, TypeSetAsync: 32, TypeMeterMod: 16,
}

// TestTruncated cuts every sample message at every length: the decoder
// must fail cleanly (or, where the cut falls between list entries or in
// trailing data, succeed with something that round-trips), and cuts
// inside the fixed part must be BRCBadLen.
func TestTruncated(t *testing.T) {
	for _, s := range samples(t) {
		full := mustMarshal(t, 1, s.msg)
		for n := 0; n < len(full); n++ {
			// As received: header length no longer matches.
			_, _, err := Decode(full[:n])
			checkErr(t, s.name+" unpatched", err, ETBadRequest, BRCBadLen)
			if n < HeaderLen {
				continue
			}
			// With the header length patched.
			b := append([]byte(nil), full[:n]...)
			b[2], b[3] = byte(n>>8), byte(n)
			_, m, err := Decode(b)
			if n < minLen[s.msg.Type()] {
				checkErr(t, s.name, err, ETBadRequest, BRCBadLen)
				continue
			}
			if err != nil {
				var oe *Error
				if !errors.As(err, &oe) {
					t.Errorf("%s cut at %d: %v is not an *Error", s.name, n, err)
				}
				continue
			}
			checkIdempotent(t, m)
		}
	}
}
