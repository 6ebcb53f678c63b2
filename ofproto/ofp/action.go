package ofp

// ActionType is ofp_action_type.
type ActionType uint16

const (
	ActTypeOutput       ActionType = 0
	ActTypeCopyTTLOut   ActionType = 11
	ActTypeCopyTTLIn    ActionType = 12
	ActTypeSetMPLSTTL   ActionType = 15
	ActTypeDecMPLSTTL   ActionType = 16
	ActTypePushVLAN     ActionType = 17
	ActTypePopVLAN      ActionType = 18
	ActTypePushMPLS     ActionType = 19
	ActTypePopMPLS      ActionType = 20
	ActTypeSetQueue     ActionType = 21
	ActTypeGroup        ActionType = 22
	ActTypeSetNwTTL     ActionType = 23
	ActTypeDecNwTTL     ActionType = 24
	ActTypeSetField     ActionType = 25
	ActTypePushPBB      ActionType = 26
	ActTypePopPBB       ActionType = 27
	ActTypeExperimenter ActionType = 0xffff
)

// Action is one OpenFlow action.
type Action interface {
	ActionType() ActionType
}

// ActionOutput is OFPAT_OUTPUT: send to Port, at most MaxLen bytes to the controller.
type ActionOutput struct {
	Port   uint32
	MaxLen uint16
}

// ActionCopyTTLOut is OFPAT_COPY_TTL_OUT.
type ActionCopyTTLOut struct{}

// ActionCopyTTLIn is OFPAT_COPY_TTL_IN.
type ActionCopyTTLIn struct{}

// ActionSetMPLSTTL is OFPAT_SET_MPLS_TTL.
type ActionSetMPLSTTL struct{ TTL uint8 }

// ActionDecMPLSTTL is OFPAT_DEC_MPLS_TTL.
type ActionDecMPLSTTL struct{}

// ActionPushVLAN is OFPAT_PUSH_VLAN with the new tag's EtherType.
type ActionPushVLAN struct{ EtherType uint16 }

// ActionPopVLAN is OFPAT_POP_VLAN.
type ActionPopVLAN struct{}

// ActionPushMPLS is OFPAT_PUSH_MPLS with the new label's EtherType.
type ActionPushMPLS struct{ EtherType uint16 }

// ActionPopMPLS is OFPAT_POP_MPLS with the EtherType of what follows.
type ActionPopMPLS struct{ EtherType uint16 }

// ActionSetQueue is OFPAT_SET_QUEUE.
type ActionSetQueue struct{ QueueID uint32 }

// ActionGroup is OFPAT_GROUP.
type ActionGroup struct{ GroupID uint32 }

// ActionSetNwTTL is OFPAT_SET_NW_TTL.
type ActionSetNwTTL struct{ TTL uint8 }

// ActionDecNwTTL is OFPAT_DEC_NW_TTL.
type ActionDecNwTTL struct{}

// ActionSetField carries exactly one OXM (no mask in OpenFlow 1.3).
type ActionSetField struct{ Field OXM }

// ActionPushPBB is OFPAT_PUSH_PBB.
type ActionPushPBB struct{ EtherType uint16 }

// ActionPopPBB is OFPAT_POP_PBB.
type ActionPopPBB struct{}

// ActionExperimenter is an experimenter action; Data is what follows the
// experimenter id (padding included).
type ActionExperimenter struct {
	Experimenter uint32
	Data         []byte
}

func (*ActionOutput) ActionType() ActionType       { return ActTypeOutput }
func (*ActionCopyTTLOut) ActionType() ActionType   { return ActTypeCopyTTLOut }
func (*ActionCopyTTLIn) ActionType() ActionType    { return ActTypeCopyTTLIn }
func (*ActionSetMPLSTTL) ActionType() ActionType   { return ActTypeSetMPLSTTL }
func (*ActionDecMPLSTTL) ActionType() ActionType   { return ActTypeDecMPLSTTL }
func (*ActionPushVLAN) ActionType() ActionType     { return ActTypePushVLAN }
func (*ActionPopVLAN) ActionType() ActionType      { return ActTypePopVLAN }
func (*ActionPushMPLS) ActionType() ActionType     { return ActTypePushMPLS }
func (*ActionPopMPLS) ActionType() ActionType      { return ActTypePopMPLS }
func (*ActionSetQueue) ActionType() ActionType     { return ActTypeSetQueue }
func (*ActionGroup) ActionType() ActionType        { return ActTypeGroup }
func (*ActionSetNwTTL) ActionType() ActionType     { return ActTypeSetNwTTL }
func (*ActionDecNwTTL) ActionType() ActionType     { return ActTypeDecNwTTL }
func (*ActionSetField) ActionType() ActionType     { return ActTypeSetField }
func (*ActionPushPBB) ActionType() ActionType      { return ActTypePushPBB }
func (*ActionPopPBB) ActionType() ActionType       { return ActTypePopPBB }
func (*ActionExperimenter) ActionType() ActionType { return ActTypeExperimenter }

// InstructionType is ofp_instruction_type.
type InstructionType uint16

const (
	InstrTypeGotoTable     InstructionType = 1
	InstrTypeWriteMetadata InstructionType = 2
	InstrTypeWriteActions  InstructionType = 3
	InstrTypeApplyActions  InstructionType = 4
	InstrTypeClearActions  InstructionType = 5
	InstrTypeMeter         InstructionType = 6
	InstrTypeExperimenter  InstructionType = 0xffff
)

// Instruction is one OpenFlow instruction.
type Instruction interface {
	InstructionType() InstructionType
}

// InstrGotoTable is OFPIT_GOTO_TABLE.
type InstrGotoTable struct{ TableID uint8 }

// InstrWriteMetadata is OFPIT_WRITE_METADATA.
type InstrWriteMetadata struct{ Metadata, Mask uint64 }

// InstrWriteActions is OFPIT_WRITE_ACTIONS: merge Actions into the action set.
type InstrWriteActions struct{ Actions []Action }

// InstrApplyActions is OFPIT_APPLY_ACTIONS: apply Actions now.
type InstrApplyActions struct{ Actions []Action }

// InstrClearActions is OFPIT_CLEAR_ACTIONS.
type InstrClearActions struct{}

// InstrMeter is OFPIT_METER.
type InstrMeter struct{ MeterID uint32 }

// InstrExperimenter is an experimenter instruction; Data is what follows
// the experimenter id (padding included).
type InstrExperimenter struct {
	Experimenter uint32
	Data         []byte
}

func (*InstrGotoTable) InstructionType() InstructionType     { return InstrTypeGotoTable }
func (*InstrWriteMetadata) InstructionType() InstructionType { return InstrTypeWriteMetadata }
func (*InstrWriteActions) InstructionType() InstructionType  { return InstrTypeWriteActions }
func (*InstrApplyActions) InstructionType() InstructionType  { return InstrTypeApplyActions }
func (*InstrClearActions) InstructionType() InstructionType  { return InstrTypeClearActions }
func (*InstrMeter) InstructionType() InstructionType         { return InstrTypeMeter }
func (*InstrExperimenter) InstructionType() InstructionType  { return InstrTypeExperimenter }
