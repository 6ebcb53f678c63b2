package ofp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxMessageLen is the length of the longest OpenFlow message: the header's
// length field has 16 bits.
const MaxMessageLen = 0xffff

// ErrorDataLen is how much of an offending message an ERROR reply echoes.
const ErrorDataLen = 64

var be = binary.BigEndian

// ParseHeader decodes the 8-byte OpenFlow header at the start of b. It does
// not validate the fields.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, Errorf(ETBadRequest, BRCBadLen, "header: %d bytes", len(b))
	}
	return Header{
		Version: b[0],
		Type:    MsgType(b[1]),
		Length:  be.Uint16(b[2:]),
		Xid:     be.Uint32(b[4:]),
	}, nil
}

// ReadMessage reads exactly one whole OpenFlow message (header and body)
// from r and returns its bytes. It reuses buf when buf's capacity is large
// enough and allocates otherwise; the result aliases buf in the first case.
// A header whose length is below 8 gives an *Error (BRCBadLen); the
// connection cannot be resynchronised after it. io.EOF is returned only when
// r ends cleanly before a message starts.
func ReadMessage(r io.Reader, buf []byte) ([]byte, error) {
	if cap(buf) < HeaderLen {
		buf = make([]byte, HeaderLen, 512)
	}
	buf = buf[:HeaderLen]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	n := int(be.Uint16(buf[2:]))
	if n < HeaderLen {
		return nil, Errorf(ETBadRequest, BRCBadLen, "header length %d", n)
	}
	if cap(buf) < n {
		nb := make([]byte, n)
		copy(nb, buf)
		buf = nb
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf[HeaderLen:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// msgDecoders decodes each message type's body (the bytes after the
// header). Hello is decoded separately: it is the only message accepted with
// any version.
var msgDecoders = [...]func(body []byte) (Message, error){
	TypeError:                 decodeErrorMsg,
	TypeEchoRequest:           func(b []byte) (Message, error) { return &EchoRequest{Data: clone(b)}, nil },
	TypeEchoReply:             func(b []byte) (Message, error) { return &EchoReply{Data: clone(b)}, nil },
	TypeExperimenter:          decodeExperimenter,
	TypeFeaturesRequest:       emptyBody(func() Message { return &FeaturesRequest{} }),
	TypeFeaturesReply:         decodeFeaturesReply,
	TypeGetConfigRequest:      emptyBody(func() Message { return &GetConfigRequest{} }),
	TypeGetConfigReply:        decodeGetConfigReply,
	TypeSetConfig:             decodeSetConfig,
	TypePacketIn:              decodePacketIn,
	TypeFlowRemoved:           decodeFlowRemoved,
	TypePortStatus:            decodePortStatus,
	TypePacketOut:             decodePacketOut,
	TypeFlowMod:               decodeFlowMod,
	TypeGroupMod:              decodeGroupMod,
	TypePortMod:               decodePortMod,
	TypeTableMod:              decodeTableMod,
	TypeMultipartRequest:      decodeMultipartRequest,
	TypeMultipartReply:        decodeMultipartReply,
	TypeBarrierRequest:        emptyBody(func() Message { return &BarrierRequest{} }),
	TypeBarrierReply:          emptyBody(func() Message { return &BarrierReply{} }),
	TypeQueueGetConfigRequest: decodeQueueGetConfigRequest,
	TypeQueueGetConfigReply:   decodeQueueGetConfigReply,
	TypeRoleRequest:           decodeRoleRequest,
	TypeRoleReply:             decodeRoleReply,
	TypeGetAsyncRequest:       emptyBody(func() Message { return &GetAsyncRequest{} }),
	TypeGetAsyncReply:         decodeGetAsyncReply,
	TypeSetAsync:              decodeSetAsync,
	TypeMeterMod:              decodeMeterMod,
}

// Decode decodes one whole message b (header included; len(b) must equal
// the header's length). Hello is decoded whatever its version; every other
// message must be OpenFlow 1.3. On failure the error is an *Error carrying
// the type and code of the ERROR reply the switch should send, and the
// header is returned whenever it could be read (for the reply's xid).
// Decoded messages never alias b.
func Decode(b []byte) (Header, Message, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, nil, err
	}
	if int(h.Length) != len(b) {
		return h, nil, Errorf(ETBadRequest, BRCBadLen, "header length %d, message %d bytes", h.Length, len(b))
	}
	body := b[HeaderLen:]
	if h.Type == TypeHello {
		m, err := decodeHello(h.Version, body)
		return h, m, err
	}
	if h.Version != Version {
		return h, nil, Errorf(ETBadRequest, BRCBadVersion, "version %#x", h.Version)
	}
	if int(h.Type) >= len(msgDecoders) || msgDecoders[h.Type] == nil {
		return h, nil, Errorf(ETBadRequest, BRCBadType, "message type %d", h.Type)
	}
	m, err := msgDecoders[h.Type](body)
	if err != nil {
		return h, nil, err
	}
	return h, m, nil
}

// Marshal encodes m as one OpenFlow 1.3 message with the given xid (a Hello
// is sent with m.Version when that is non-zero). It fails only for values
// that cannot be encoded, such as a message longer than 65535 bytes; use
// MarshalMultipartReply for replies that may need splitting.
func Marshal(xid uint32, m Message) ([]byte, error) {
	return Append(make([]byte, 0, sizeHint(m)), xid, m)
}

// Append is Marshal appending the message to dst. On error dst is returned
// unchanged (same length).
func Append(dst []byte, xid uint32, m Message) ([]byte, error) {
	if isNil(m) {
		return dst, errors.New("ofp: marshal of a nil message")
	}
	start := len(dst)
	version := uint8(Version)
	if h, ok := m.(*Hello); ok && h.Version != 0 {
		version = h.Version
	}
	b := append(dst, version, uint8(m.Type()), 0, 0, 0, 0, 0, 0)
	be.PutUint32(b[start+4:], xid)
	b, err := appendBody(b, m)
	if err != nil {
		return dst[:start], err
	}
	return finishMessage(b, start, dst)
}

// finishMessage sets the length of the message starting at start, or fails
// if it is too long (returning orig).
func finishMessage(b []byte, start int, orig []byte) ([]byte, error) {
	n := len(b) - start
	if n > MaxMessageLen {
		return orig[:start], fmt.Errorf("ofp: message type %d is %d bytes, longer than %d", b[start+1], n, MaxMessageLen)
	}
	be.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

// ErrorData returns the part of an offending message that an ERROR reply
// carries: its first 64 bytes, or all of it if shorter (the spec asks for
// at least 64 bytes). The result is a copy.
func ErrorData(msg []byte) []byte {
	if len(msg) > ErrorDataLen {
		msg = msg[:ErrorDataLen]
	}
	return clone(msg)
}

// NewErrorMsg builds the ERROR message that answers msg (the offending
// message's bytes) with err. Experimenter errors (err.Experimenter non-zero
// or err.ErrType ETExperimenter) are sent as OFPET_EXPERIMENTER with err.Code
// as exp_type.
func NewErrorMsg(err *Error, msg []byte) *ErrorMsg {
	m := &ErrorMsg{ErrType: err.ErrType, Code: err.Code, Data: ErrorData(msg)}
	if err.Experimenter != 0 || err.ErrType == ETExperimenter {
		m.ErrType = ETExperimenter
		m.Experimenter = err.Experimenter
	}
	return m
}

// ---- small helpers shared by the codec ----

// clone copies b so decoded values never alias the input; empty gives nil.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// pad8 rounds n up to a multiple of 8.
func pad8(n int) int { return (n + 7) &^ 7 }

// appendZeros appends n zero bytes.
func appendZeros(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, 0)
	}
	return b
}

// appendPad8 pads b with zeros so that len(b)-start is a multiple of 8.
func appendPad8(b []byte, start int) []byte {
	return appendZeros(b, pad8(len(b)-start)-(len(b)-start))
}

// putLen16 stores len(b)-start as the 16-bit length at b[at:], failing if it
// does not fit.
func putLen16(b []byte, at, start int, what string) error {
	n := len(b) - start
	if n > 0xffff {
		return fmt.Errorf("ofp: %s is %d bytes, longer than 65535", what, n)
	}
	be.PutUint16(b[at:], uint16(n))
	return nil
}

// appendCString appends s as a NUL-terminated string in a field of n bytes,
// truncating it to n-1 bytes.
func appendCString(b []byte, s string, n int) []byte {
	if len(s) > n-1 {
		s = s[:n-1]
	}
	b = append(b, s...)
	return appendZeros(b, n-len(s))
}

// cString decodes a NUL-terminated string field, keeping at most
// len(field)-1 bytes so that it encodes back to the same bytes.
func cString(field []byte) string {
	if len(field) > 0 {
		field = field[:len(field)-1]
	}
	for i, c := range field {
		if c == 0 {
			return string(field[:i])
		}
	}
	return string(field)
}

// badLen is the framing error: ETBadRequest/BRCBadLen.
func badLen(what string, n int) *Error {
	return Errorf(ETBadRequest, BRCBadLen, "%s: bad length %d", what, n)
}

// emptyBody returns a decoder for messages that have no body.
func emptyBody(newMsg func() Message) func([]byte) (Message, error) {
	return func(b []byte) (Message, error) {
		if len(b) != 0 {
			return nil, badLen("message without body", len(b)+HeaderLen)
		}
		return newMsg(), nil
	}
}

// fixedLen checks that a fixed-size body has exactly n bytes.
func fixedLen(b []byte, n int, what string) error {
	if len(b) != n {
		return badLen(what, len(b)+HeaderLen)
	}
	return nil
}

// sizeHint guesses the encoded size of m so Marshal allocates once.
func sizeHint(m Message) int {
	n := 128
	switch m := m.(type) {
	case *PacketIn:
		n += len(m.Data) + 16*len(m.Match.Fields)
	case *PacketOut:
		n += len(m.Data) + 16*len(m.Actions)
	case *EchoRequest:
		n += len(m.Data)
	case *EchoReply:
		n += len(m.Data)
	case *ErrorMsg:
		n += len(m.Data)
	case *FlowMod:
		n += 16*len(m.Match.Fields) + 32*len(m.Instructions)
	case *MultipartReply:
		if fs, ok := m.Body.(*FlowStatsReply); ok {
			n += 160 * len(fs.Stats)
		}
	}
	return n
}
