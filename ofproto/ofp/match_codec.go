package ofp

import "fmt"

// matchTypeOXM is OFPMT_OXM; OFPMT_STANDARD (0) is OpenFlow 1.1's.
const matchTypeOXM = 1

// OXMHeader builds the 32-bit OXM header: class(16) field(7) hasmask(1)
// length(8), where length is the payload length (value and mask, plus the
// experimenter id for experimenter classes).
func OXMHeader(class uint16, field uint8, hasMask bool, length int) uint32 {
	h := uint32(class)<<16 | uint32(field&0x7f)<<9 | uint32(length&0xff)
	if hasMask {
		h |= 1 << 8
	}
	return h
}

// oxmErr says what is wrong with one OXM TLV; match and set-field decoding
// map it to different error codes.
type oxmErr uint8

const (
	oxmOK        oxmErr = iota
	oxmTruncated        // header or payload runs past the end
	oxmBadField         // unknown OpenFlow basic field
	oxmBadLen           // payload length wrong for the field
	oxmBadMask          // mask on a field that is not maskable
)

// matchOXMErrors maps oxmErr to the match error codes.
var matchOXMErrors = [...]uint16{
	oxmTruncated: BMCBadLen,
	oxmBadField:  BMCBadField,
	oxmBadLen:    BMCBadLen,
	oxmBadMask:   BMCBadMask,
}

// oxmTLV is one OXM as found on the wire: its header and payload (value
// then mask; for experimenter classes the experimenter id first).
type oxmTLV struct {
	class   uint16
	field   uint8
	hasMask bool
	payload []byte
}

// nextOXM splits the OXM at the start of b, validating its length against
// the field table, and returns it with the bytes it takes.
func nextOXM(b []byte) (oxmTLV, int, oxmErr) {
	if len(b) < 4 {
		return oxmTLV{}, 0, oxmTruncated
	}
	h := be.Uint32(b)
	t := oxmTLV{class: uint16(h >> 16), field: uint8(h>>9) & 0x7f, hasMask: h&(1<<8) != 0}
	n := int(h & 0xff)
	if 4+n > len(b) {
		return t, 0, oxmTruncated
	}
	t.payload = b[4 : 4+n]
	switch t.class {
	case OXMClassOpenFlowBasic:
		if int(t.field) >= NumOXMFields {
			return t, 0, oxmBadField
		}
		info := &OXMFields[t.field]
		want := info.Len
		if t.hasMask {
			want *= 2
		}
		if n != want {
			return t, 0, oxmBadLen
		}
		if t.hasMask && !info.Maskable {
			return t, 0, oxmBadMask
		}
	case OXMClassExperimenter:
		if n < 4 {
			return t, 0, oxmBadLen
		}
	default:
		if t.hasMask && n%2 != 0 {
			return t, 0, oxmBadLen
		}
	}
	return t, 4 + n, oxmOK
}

// oxm converts t to an OXM whose Value and Mask are carved out of *store
// (which has room for them), so a match's values share one allocation
// without aliasing the input. Experimenter classes keep the payload after
// the experimenter id whole in Value (mask included if any).
func (t *oxmTLV) oxm(store *[]byte) OXM {
	o := OXM{Class: t.class, Field: t.field, HasMask: t.hasMask}
	p := t.payload
	if t.class == OXMClassExperimenter {
		o.Experimenter = be.Uint32(p)
		o.Value = carve(store, p[4:])
		return o
	}
	if !t.hasMask {
		o.Value = carve(store, p)
		return o
	}
	o.Value = carve(store, p[:len(p)/2])
	o.Mask = carve(store, p[len(p)/2:])
	return o
}

// carve copies p to the end of *store and returns the copy with its
// capacity capped; empty p gives nil.
func carve(store *[]byte, p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	s := *store
	start := len(s)
	s = append(s, p...)
	*store = s
	return s[start:len(s):len(s)]
}

// DecodeMatch decodes the ofp_match at the start of b and returns it with
// the number of bytes it takes (its length rounded up to 8: the padding
// must be present). The match type must be OFPMT_OXM. Basic-class fields
// are checked against OXMFields (known field, value length, maskable) and
// may not repeat; other classes are kept raw. Prerequisites and value bits
// outside the mask are left to the switch.
func DecodeMatch(b []byte) (Match, int, error) {
	if len(b) < 4 {
		return Match{}, 0, Errorf(ETBadMatch, BMCBadLen, "match: %d bytes", len(b))
	}
	if typ := be.Uint16(b); typ != matchTypeOXM {
		return Match{}, 0, Errorf(ETBadMatch, BMCBadType, "match type %d", typ)
	}
	n := int(be.Uint16(b[2:]))
	if n < 4 || pad8(n) > len(b) {
		return Match{}, 0, Errorf(ETBadMatch, BMCBadLen, "match length %d, %d bytes available", n, len(b))
	}
	// First pass: validate and size; second: build with one allocation
	// for the fields and one for their bytes.
	count, size := 0, 0
	var seen uint64
	for p := b[4:n]; len(p) > 0; {
		t, m, e := nextOXM(p)
		if e != oxmOK {
			return Match{}, 0, Errorf(ETBadMatch, matchOXMErrors[e], "oxm class %#x field %d", t.class, t.field)
		}
		if t.class == OXMClassOpenFlowBasic {
			bit := uint64(1) << t.field
			if seen&bit != 0 {
				return Match{}, 0, Errorf(ETBadMatch, BMCDupField, "duplicate field %s", OXMFields[t.field].Name)
			}
			seen |= bit
		}
		count++
		size += len(t.payload)
		p = p[m:]
	}
	if count == 0 {
		return Match{}, pad8(n), nil
	}
	fields := make([]OXM, 0, count)
	store := make([]byte, 0, size)
	for p := b[4:n]; len(p) > 0; {
		t, m, _ := nextOXM(p)
		fields = append(fields, t.oxm(&store))
		p = p[m:]
	}
	return Match{Fields: fields}, pad8(n), nil
}

// AppendMatch appends m as an OXM ofp_match padded to 8 bytes. Fields are
// written in order with the bytes they hold, valid or not; a field whose
// payload exceeds the 255 bytes an OXM can carry is left out (Marshal
// reports it as an error).
func AppendMatch(dst []byte, m *Match) []byte {
	b, _ := appendMatch(dst, m)
	return b
}

func appendMatch(b []byte, m *Match) ([]byte, error) {
	start := len(b)
	b = append(b, 0, matchTypeOXM, 0, 0)
	var err error
	for i := range m.Fields {
		var e error
		if b, e = appendOXM(b, &m.Fields[i]); e != nil && err == nil {
			err = e
		}
	}
	be.PutUint16(b[start+2:], uint16(min(len(b)-start, 0xffff)))
	return appendPad8(b, start), err
}

// appendOXM appends one OXM TLV (header, experimenter id for experimenter
// classes, value, mask).
func appendOXM(b []byte, o *OXM) ([]byte, error) {
	n := len(o.Value) + len(o.Mask)
	if o.Class == OXMClassExperimenter {
		n += 4
	}
	if n > 0xff {
		return b, fmt.Errorf("ofp: oxm class %#x field %d: %d payload bytes, more than 255", o.Class, o.Field, n)
	}
	b = be.AppendUint32(b, OXMHeader(o.Class, o.Field, o.HasMask, n))
	if o.Class == OXMClassExperimenter {
		b = be.AppendUint32(b, o.Experimenter)
	}
	b = append(b, o.Value...)
	return append(b, o.Mask...), nil
}
