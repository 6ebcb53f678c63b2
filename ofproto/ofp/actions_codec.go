package ofp

import "fmt"

// actionSpec is how one action type is laid out on the wire. Every action
// starts with type(16) and len(16); len is a multiple of 8.
type actionSpec struct {
	// len is the exact length of the action, 0 for variable-length ones
	// (which take at least 8 bytes).
	len int
	// decode builds the action from its whole encoding a (len(a) is
	// checked against len before it is called).
	decode func(a []byte) (Action, error)
}

// actionSpecs is the table of OpenFlow 1.3 actions indexed by type (the
// experimenter action, type 0xffff, is handled apart). A zero entry is a
// type OpenFlow 1.3 does not define.
var actionSpecs = [...]actionSpec{
	ActTypeOutput: {16, func(a []byte) (Action, error) {
		return &ActionOutput{Port: be.Uint32(a[4:]), MaxLen: be.Uint16(a[8:])}, nil
	}},
	ActTypeCopyTTLOut: {8, func([]byte) (Action, error) { return &ActionCopyTTLOut{}, nil }},
	ActTypeCopyTTLIn:  {8, func([]byte) (Action, error) { return &ActionCopyTTLIn{}, nil }},
	ActTypeSetMPLSTTL: {8, func(a []byte) (Action, error) { return &ActionSetMPLSTTL{TTL: a[4]}, nil }},
	ActTypeDecMPLSTTL: {8, func([]byte) (Action, error) { return &ActionDecMPLSTTL{}, nil }},
	ActTypePushVLAN:   {8, func(a []byte) (Action, error) { return &ActionPushVLAN{EtherType: be.Uint16(a[4:])}, nil }},
	ActTypePopVLAN:    {8, func([]byte) (Action, error) { return &ActionPopVLAN{}, nil }},
	ActTypePushMPLS:   {8, func(a []byte) (Action, error) { return &ActionPushMPLS{EtherType: be.Uint16(a[4:])}, nil }},
	ActTypePopMPLS:    {8, func(a []byte) (Action, error) { return &ActionPopMPLS{EtherType: be.Uint16(a[4:])}, nil }},
	ActTypeSetQueue:   {8, func(a []byte) (Action, error) { return &ActionSetQueue{QueueID: be.Uint32(a[4:])}, nil }},
	ActTypeGroup:      {8, func(a []byte) (Action, error) { return &ActionGroup{GroupID: be.Uint32(a[4:])}, nil }},
	ActTypeSetNwTTL:   {8, func(a []byte) (Action, error) { return &ActionSetNwTTL{TTL: a[4]}, nil }},
	ActTypeDecNwTTL:   {8, func([]byte) (Action, error) { return &ActionDecNwTTL{}, nil }},
	ActTypeSetField:   {0, decodeSetField},
	ActTypePushPBB:    {8, func(a []byte) (Action, error) { return &ActionPushPBB{EtherType: be.Uint16(a[4:])}, nil }},
	ActTypePopPBB:     {8, func([]byte) (Action, error) { return &ActionPopPBB{}, nil }},
}

// setFieldOXMErrors maps oxmErr to the set-field action error codes.
var setFieldOXMErrors = [...]uint16{
	oxmTruncated: BACBadSetLen,
	oxmBadField:  BACBadSetType,
	oxmBadLen:    BACBadSetLen,
	oxmBadMask:   BACBadSetArgument,
}

// decodeSetField decodes set_field: type, len, one OXM without a mask,
// zero padding to 8.
func decodeSetField(a []byte) (Action, error) {
	p := a[4:]
	if len(p) >= 4 && be.Uint32(p)&(1<<8) != 0 {
		return nil, Errorf(ETBadAction, BACBadSetArgument, "set_field with a mask")
	}
	t, n, e := nextOXM(p)
	if e != oxmOK {
		return nil, Errorf(ETBadAction, setFieldOXMErrors[e], "set_field oxm class %#x field %d", t.class, t.field)
	}
	if pad8(4+n) != len(a) {
		return nil, Errorf(ETBadAction, BACBadSetLen, "set_field length %d for a %d-byte oxm", len(a), n)
	}
	store := make([]byte, 0, len(t.payload))
	return &ActionSetField{Field: t.oxm(&store)}, nil
}

// DecodeActions decodes a whole action list (an apply/write-actions
// instruction's, a bucket's or a packet-out's). Each action's length must
// be a multiple of 8 and at least 8 (BACBadLen); unknown types give
// BACBadType. An empty list gives nil.
func DecodeActions(b []byte) ([]Action, error) {
	if len(b) == 0 {
		return nil, nil
	}
	acts := make([]Action, 0, max(len(b)/16, 1))
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, Errorf(ETBadAction, BACBadLen, "action header: %d bytes", len(b))
		}
		typ, n := ActionType(be.Uint16(b)), int(be.Uint16(b[2:]))
		if n < 8 || n%8 != 0 || n > len(b) {
			return nil, Errorf(ETBadAction, BACBadLen, "action type %d: length %d, %d bytes available", typ, n, len(b))
		}
		a := b[:n]
		var act Action
		if typ == ActTypeExperimenter {
			act = &ActionExperimenter{Experimenter: be.Uint32(a[4:]), Data: clone(a[8:])}
		} else {
			if int(typ) >= len(actionSpecs) || actionSpecs[typ].decode == nil {
				return nil, Errorf(ETBadAction, BACBadType, "action type %d", typ)
			}
			spec := &actionSpecs[typ]
			if spec.len != 0 && n != spec.len {
				return nil, Errorf(ETBadAction, BACBadLen, "action type %d: length %d, want %d", typ, n, spec.len)
			}
			var err error
			if act, err = spec.decode(a); err != nil {
				return nil, err
			}
		}
		acts = append(acts, act)
		b = b[n:]
	}
	return acts, nil
}

// AppendActions appends an action list. Actions that cannot be encoded (a
// nil action, a type this package does not know, a set-field OXM over 255
// bytes) are left out; Marshal reports them as errors.
func AppendActions(dst []byte, acts []Action) []byte {
	b, _ := appendActions(dst, acts)
	return b
}

func appendActions(b []byte, acts []Action) ([]byte, error) {
	var err error
	for _, a := range acts {
		var e error
		if b, e = appendAction(b, a); e != nil && err == nil {
			err = e
		}
	}
	return b, err
}

// appendAction appends one action, or nothing if it cannot be encoded.
func appendAction(b []byte, a Action) ([]byte, error) {
	if isNil(a) {
		return b, fmt.Errorf("ofp: nil action")
	}
	start := len(b)
	b = be.AppendUint16(b, uint16(a.ActionType()))
	b = append(b, 0, 0) // length, set below
	switch a := a.(type) {
	case *ActionOutput:
		b = be.AppendUint32(b, a.Port)
		b = be.AppendUint16(b, a.MaxLen)
		b = appendZeros(b, 6)
	case *ActionCopyTTLOut, *ActionCopyTTLIn, *ActionDecMPLSTTL, *ActionPopVLAN, *ActionDecNwTTL, *ActionPopPBB:
		b = append(b, 0, 0, 0, 0)
	case *ActionSetMPLSTTL:
		b = append(b, a.TTL, 0, 0, 0)
	case *ActionSetNwTTL:
		b = append(b, a.TTL, 0, 0, 0)
	case *ActionPushVLAN:
		b = appendEtherType(b, a.EtherType)
	case *ActionPushMPLS:
		b = appendEtherType(b, a.EtherType)
	case *ActionPopMPLS:
		b = appendEtherType(b, a.EtherType)
	case *ActionPushPBB:
		b = appendEtherType(b, a.EtherType)
	case *ActionSetQueue:
		b = be.AppendUint32(b, a.QueueID)
	case *ActionGroup:
		b = be.AppendUint32(b, a.GroupID)
	case *ActionSetField:
		var err error
		if b, err = appendOXM(b, &a.Field); err != nil {
			return b[:start], err
		}
	case *ActionExperimenter:
		b = be.AppendUint32(b, a.Experimenter)
		b = append(b, a.Data...)
	default:
		return b[:start], fmt.Errorf("ofp: cannot marshal action %T", a)
	}
	b = appendPad8(b, start)
	if err := putLen16(b, start+2, start, "action"); err != nil {
		return b[:start], err
	}
	return b, nil
}

func appendEtherType(b []byte, et uint16) []byte {
	b = be.AppendUint16(b, et)
	return append(b, 0, 0)
}

// ---- instructions ----

// instrSpec is how one instruction type is laid out; like actions, every
// instruction starts with type(16) and len(16), len a multiple of 8.
type instrSpec struct {
	len    int // exact length, 0 for variable (at least 8)
	decode func(in []byte) (Instruction, error)
}

// instrSpecs is the table of OpenFlow 1.3 instructions indexed by type
// (experimenter, 0xffff, apart).
var instrSpecs = [...]instrSpec{
	InstrTypeGotoTable: {8, func(in []byte) (Instruction, error) { return &InstrGotoTable{TableID: in[4]}, nil }},
	InstrTypeWriteMetadata: {24, func(in []byte) (Instruction, error) {
		return &InstrWriteMetadata{Metadata: be.Uint64(in[8:]), Mask: be.Uint64(in[16:])}, nil
	}},
	InstrTypeWriteActions: {0, func(in []byte) (Instruction, error) {
		acts, err := DecodeActions(in[8:])
		if err != nil {
			return nil, err
		}
		return &InstrWriteActions{Actions: acts}, nil
	}},
	InstrTypeApplyActions: {0, func(in []byte) (Instruction, error) {
		acts, err := DecodeActions(in[8:])
		if err != nil {
			return nil, err
		}
		return &InstrApplyActions{Actions: acts}, nil
	}},
	InstrTypeClearActions: {8, func([]byte) (Instruction, error) { return &InstrClearActions{}, nil }},
	InstrTypeMeter:        {8, func(in []byte) (Instruction, error) { return &InstrMeter{MeterID: be.Uint32(in[4:])}, nil }},
}

// DecodeInstructions decodes a whole instruction list. Unknown types give
// BICUnknownInst, bad lengths BICBadLen, and the actions inside follow
// DecodeActions' rules. An empty list gives nil.
func DecodeInstructions(b []byte) ([]Instruction, error) {
	var ins []Instruction
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, Errorf(ETBadInstruction, BICBadLen, "instruction header: %d bytes", len(b))
		}
		typ, n := InstructionType(be.Uint16(b)), int(be.Uint16(b[2:]))
		if n < 8 || n%8 != 0 || n > len(b) {
			return nil, Errorf(ETBadInstruction, BICBadLen, "instruction type %d: length %d, %d bytes available", typ, n, len(b))
		}
		in := b[:n]
		var inst Instruction
		if typ == InstrTypeExperimenter {
			inst = &InstrExperimenter{Experimenter: be.Uint32(in[4:]), Data: clone(in[8:])}
		} else {
			if int(typ) >= len(instrSpecs) || instrSpecs[typ].decode == nil {
				return nil, Errorf(ETBadInstruction, BICUnknownInst, "instruction type %d", typ)
			}
			spec := &instrSpecs[typ]
			if spec.len != 0 && n != spec.len {
				return nil, Errorf(ETBadInstruction, BICBadLen, "instruction type %d: length %d, want %d", typ, n, spec.len)
			}
			var err error
			if inst, err = spec.decode(in); err != nil {
				return nil, err
			}
		}
		ins = append(ins, inst)
		b = b[n:]
	}
	return ins, nil
}

// AppendInstructions appends an instruction list. Instructions that cannot
// be encoded are left out, like AppendActions' actions; Marshal reports
// them as errors.
func AppendInstructions(dst []byte, ins []Instruction) []byte {
	b, _ := appendInstructions(dst, ins)
	return b
}

func appendInstructions(b []byte, ins []Instruction) ([]byte, error) {
	var err error
	for _, in := range ins {
		var e error
		if b, e = appendInstruction(b, in); e != nil && err == nil {
			err = e
		}
	}
	return b, err
}

func appendInstruction(b []byte, in Instruction) ([]byte, error) {
	if isNil(in) {
		return b, fmt.Errorf("ofp: nil instruction")
	}
	start := len(b)
	b = be.AppendUint16(b, uint16(in.InstructionType()))
	b = append(b, 0, 0) // length, set below
	var err error
	switch in := in.(type) {
	case *InstrGotoTable:
		b = append(b, in.TableID, 0, 0, 0)
	case *InstrWriteMetadata:
		b = append(b, 0, 0, 0, 0)
		b = be.AppendUint64(b, in.Metadata)
		b = be.AppendUint64(b, in.Mask)
	case *InstrWriteActions:
		b = append(b, 0, 0, 0, 0)
		b, err = appendActions(b, in.Actions)
	case *InstrApplyActions:
		b = append(b, 0, 0, 0, 0)
		b, err = appendActions(b, in.Actions)
	case *InstrClearActions:
		b = append(b, 0, 0, 0, 0)
	case *InstrMeter:
		b = be.AppendUint32(b, in.MeterID)
	case *InstrExperimenter:
		b = be.AppendUint32(b, in.Experimenter)
		b = append(b, in.Data...)
		b = appendPad8(b, start)
	default:
		return b[:start], fmt.Errorf("ofp: cannot marshal instruction %T", in)
	}
	if e := putLen16(b, start+2, start, "instruction"); e != nil {
		return b[:start], e
	}
	return b, err
}
