package ofp

import "fmt"

// Error types (ofp_error_type).
const (
	ETHelloFailed         = 0
	ETBadRequest          = 1
	ETBadAction           = 2
	ETBadInstruction      = 3
	ETBadMatch            = 4
	ETFlowModFailed       = 5
	ETGroupModFailed      = 6
	ETPortModFailed       = 7
	ETTableModFailed      = 8
	ETQueueOpFailed       = 9
	ETSwitchConfigFailed  = 10
	ETRoleRequestFailed   = 11
	ETMeterModFailed      = 12
	ETTableFeaturesFailed = 13
	ETExperimenter        = 0xffff
)

// Hello failed codes.
const (
	HFCIncompatible = 0
	HFCEPerm        = 1
)

// Bad request codes.
const (
	BRCBadVersion              = 0
	BRCBadType                 = 1
	BRCBadMultipart            = 2
	BRCBadExperimenter         = 3
	BRCBadExpType              = 4
	BRCEPerm                   = 5
	BRCBadLen                  = 6
	BRCBufferEmpty             = 7
	BRCBufferUnknown           = 8
	BRCBadTableID              = 9
	BRCIsSlave                 = 10
	BRCBadPort                 = 11
	BRCBadPacket               = 12
	BRCMultipartBufferOverflow = 13
)

// Bad action codes.
const (
	BACBadType           = 0
	BACBadLen            = 1
	BACBadExperimenter   = 2
	BACBadExpType        = 3
	BACBadOutPort        = 4
	BACBadArgument       = 5
	BACEPerm             = 6
	BACTooMany           = 7
	BACBadQueue          = 8
	BACBadOutGroup       = 9
	BACMatchInconsistent = 10
	BACUnsupportedOrder  = 11
	BACBadTag            = 12
	BACBadSetType        = 13
	BACBadSetLen         = 14
	BACBadSetArgument    = 15
)

// Bad instruction codes.
const (
	BICUnknownInst       = 0
	BICUnsupInst         = 1
	BICBadTableID        = 2
	BICUnsupMetadata     = 3
	BICUnsupMetadataMask = 4
	BICBadExperimenter   = 5
	BICBadExpType        = 6
	BICBadLen            = 7
	BICEPerm             = 8
)

// Bad match codes.
const (
	BMCBadType       = 0
	BMCBadLen        = 1
	BMCBadTag        = 2
	BMCBadDlAddrMask = 3
	BMCBadNwAddrMask = 4
	BMCBadWildcards  = 5
	BMCBadField      = 6
	BMCBadValue      = 7
	BMCBadMask       = 8
	BMCBadPrereq     = 9
	BMCDupField      = 10
	BMCEPerm         = 11
)

// Flow mod failed codes.
const (
	FMFCUnknown    = 0
	FMFCTableFull  = 1
	FMFCBadTableID = 2
	FMFCOverlap    = 3
	FMFCEPerm      = 4
	FMFCBadTimeout = 5
	FMFCBadCommand = 6
	FMFCBadFlags   = 7
)

// Group mod failed codes.
const (
	GMFCGroupExists         = 0
	GMFCInvalidGroup        = 1
	GMFCWeightUnsupported   = 2
	GMFCOutOfGroups         = 3
	GMFCOutOfBuckets        = 4
	GMFCChainingUnsupported = 5
	GMFCWatchUnsupported    = 6
	GMFCLoop                = 7
	GMFCUnknownGroup        = 8
	GMFCChainedGroup        = 9
	GMFCBadType             = 10
	GMFCBadCommand          = 11
	GMFCBadBucket           = 12
	GMFCBadWatch            = 13
	GMFCEPerm               = 14
)

// Port mod failed codes.
const (
	PMFCBadPort      = 0
	PMFCBadHWAddr    = 1
	PMFCBadConfig    = 2
	PMFCBadAdvertise = 3
	PMFCEPerm        = 4
)

// Table mod failed codes.
const (
	TMFCBadTable  = 0
	TMFCBadConfig = 1
	TMFCEPerm     = 2
)

// Queue op failed codes.
const (
	QOFCBadPort  = 0
	QOFCBadQueue = 1
	QOFCEPerm    = 2
)

// Switch config failed codes.
const (
	SCFCBadFlags = 0
	SCFCBadLen   = 1
	SCFCEPerm    = 2
)

// Role request failed codes.
const (
	RRFCStale   = 0
	RRFCUnsup   = 1
	RRFCBadRole = 2
)

// Meter mod failed codes.
const (
	MMFCUnknown      = 0
	MMFCMeterExists  = 1
	MMFCInvalidMeter = 2
	MMFCUnknownMeter = 3
	MMFCBadCommand   = 4
	MMFCBadFlags     = 5
	MMFCBadRate      = 6
	MMFCBadBurst     = 7
	MMFCBadBand      = 8
	MMFCBadBandValue = 9
	MMFCOutOfMeters  = 10
	MMFCOutOfBands   = 11
)

// Table features failed codes.
const (
	TFFCBadTable    = 0
	TFFCBadMetadata = 1
	TFFCBadType     = 2
	TFFCBadLen      = 3
	TFFCBadArgument = 4
	TFFCEPerm       = 5
)

// ONF bundle error codes (experimenter errors, experimenter ONFExperimenter).
const (
	BFCUnknown          = 2300
	BFCEPerm            = 2301
	BFCBadID            = 2302
	BFCBundleExist      = 2303
	BFCBundleClosed     = 2304
	BFCOutOfBundles     = 2305
	BFCBadType          = 2306
	BFCBadFlags         = 2307
	BFCMsgBadLen        = 2308
	BFCMsgBadXid        = 2309
	BFCMsgUnsup         = 2310
	BFCMsgConflict      = 2311
	BFCMsgTooMany       = 2312
	BFCMsgFailed        = 2313
	BFCTimeout          = 2314
	BFCBundleInProgress = 2315
)

// Error is an OpenFlow error condition: decoding and processing return it,
// and the connection answers with an ERROR message of this type and code.
// Experimenter is non-zero for experimenter errors (Type ETExperimenter).
type Error struct {
	ErrType      uint16
	Code         uint16
	Experimenter uint32
	Msg          string // human-readable detail for logs
}

func (e *Error) Error() string {
	if e.Msg != "" {
		return fmt.Sprintf("openflow error type %d code %d: %s", e.ErrType, e.Code, e.Msg)
	}
	return fmt.Sprintf("openflow error type %d code %d", e.ErrType, e.Code)
}

// Errorf returns an *Error with the given type, code and detail.
func Errorf(typ, code uint16, format string, args ...any) *Error {
	return &Error{ErrType: typ, Code: code, Msg: fmt.Sprintf(format, args...)}
}
