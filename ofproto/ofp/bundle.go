package ofp

import (
	"errors"
	"fmt"
)

// ONF bundle messages are EXPERIMENTER messages (experimenter 0x4F4E4600,
// 32-bit exp_type) whose payload is OpenFlow 1.4's bundle bodies:
//
//	bundle control: bundle_id(32) type(16) flags(16) properties
//	bundle add:     bundle_id(32) pad(16) flags(16) message properties
//
// where message is a whole OpenFlow message with its own header, followed
// (only when properties are present) by zero padding to 8 bytes.

// bundleErr is an ONF bundle experimenter error.
func bundleErr(code uint16, format string, args ...any) *Error {
	e := Errorf(ETExperimenter, code, format, args...)
	e.Experimenter = ONFExperimenter
	return e
}

func appendONFHeader(b []byte, expType uint32) []byte {
	b = be.AppendUint32(b, ONFExperimenter)
	return be.AppendUint32(b, expType)
}

func appendBundleCtrl(b []byte, m *BundleCtrl) []byte {
	b = appendONFHeader(b, ONFTypeBundleCtrl)
	b = be.AppendUint32(b, m.BundleID)
	b = be.AppendUint16(b, m.CtrlType)
	b = be.AppendUint16(b, m.Flags)
	return append(b, m.Properties...)
}

// decodeBundleCtrl decodes the body after the experimenter header.
func decodeBundleCtrl(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, badLen("bundle control", len(b)+16)
	}
	return &BundleCtrl{
		BundleID:   be.Uint32(b),
		CtrlType:   be.Uint16(b[4:]),
		Flags:      be.Uint16(b[6:]),
		Properties: clone(b[8:]),
	}, nil
}

// appendBundleAdd encodes m.Message verbatim when set, otherwise
// m.Inner with m.InnerXid.
func appendBundleAdd(b []byte, m *BundleAdd) ([]byte, error) {
	start := len(b) - HeaderLen
	b = appendONFHeader(b, ONFTypeBundleAdd)
	b = be.AppendUint32(b, m.BundleID)
	b = append(b, 0, 0)
	b = be.AppendUint16(b, m.Flags)
	switch {
	case m.Message != nil:
		h, err := ParseHeader(m.Message)
		if err != nil || int(h.Length) != len(m.Message) {
			return b, errors.New("ofp: bundle add: Message is not one whole OpenFlow message")
		}
		b = append(b, m.Message...)
	case !isNil(m.Inner):
		if isBundleMsg(m.Inner) {
			return b, errors.New("ofp: bundle add: bundle messages cannot be bundled")
		}
		var err error
		if b, err = Append(b, m.InnerXid, m.Inner); err != nil {
			return b, fmt.Errorf("ofp: bundle add: %w", err)
		}
	default:
		return b, errors.New("ofp: bundle add without a message")
	}
	if len(m.Properties) > 0 {
		b = appendPad8(b, start)
		b = append(b, m.Properties...)
	}
	return b, nil
}

func isBundleMsg(m Message) bool {
	switch m.(type) {
	case *BundleCtrl, *BundleAdd:
		return true
	}
	return false
}

// decodeBundleAdd decodes the body after the experimenter header. A badly
// framed inner message is BFCMsgBadLen; an inner message that does not
// decode is reported in InnerErr, not as an error of the bundle add.
func decodeBundleAdd(b []byte) (Message, error) {
	if len(b) < 8+HeaderLen {
		return nil, badLen("bundle add", len(b)+16)
	}
	m := &BundleAdd{BundleID: be.Uint32(b), Flags: be.Uint16(b[6:])}
	inner := b[8:]
	n := int(be.Uint16(inner[2:]))
	if n < HeaderLen || n > len(inner) {
		return nil, bundleErr(BFCMsgBadLen, "bundled message length %d, %d bytes available", n, len(inner))
	}
	m.Message = clone(inner[:n])
	m.InnerXid = be.Uint32(inner[4:])
	if isBundleWire(m.Message) {
		m.InnerErr = bundleErr(BFCMsgUnsup, "bundle message inside a bundle")
	} else if _, msg, err := decodeInner(m.Message); err != nil {
		m.InnerErr = err
	} else {
		m.Inner = msg
	}
	// Properties follow the message's padding to 8 bytes (counted from
	// the start of the bundle add message, whose fixed part is 24 bytes).
	rest := inner[n:]
	if p := pad8(n) - n; len(rest) > p {
		m.Properties = clone(rest[p:])
	}
	return m, nil
}

// decodeInner is Decode, called through a variable to break the
// initialization cycle Decode -> msgDecoders -> decodeBundleAdd -> Decode.
var decodeInner func([]byte) (Header, Message, error)

func init() { decodeInner = Decode }

// isBundleWire reports whether the encoded message b is an ONF bundle
// message; those are not decoded inside a bundle, which bounds recursion.
func isBundleWire(b []byte) bool {
	if len(b) < 16 || MsgType(b[1]) != TypeExperimenter || be.Uint32(b[8:]) != ONFExperimenter {
		return false
	}
	t := be.Uint32(b[12:])
	return t == ONFTypeBundleCtrl || t == ONFTypeBundleAdd
}
