package ofp

import (
	"bytes"
	"reflect"
	"testing"
)

// checkIdempotent checks that a decoded message encodes and decodes back
// to itself.
func checkIdempotent(t testing.TB, m Message) {
	t.Helper()
	b, err := Marshal(3, m)
	if err != nil {
		t.Fatalf("Marshal of decoded %T: %v", m, err)
	}
	_, m2, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode of re-encoded %T: %v\n% x", m, err, b)
	}
	if h, ok := m.(*Hello); ok && h.Version == 0 {
		// Marshal sends a zero Version as OpenFlow 1.3 by design.
		m2.(*Hello).Version = 0
	}
	if !reflect.DeepEqual(m, m2) {
		t.Fatalf("not idempotent:\n%#v\n%#v", m, m2)
	}
	// And the encoding is stable from there on.
	if b2, err := Marshal(3, m); err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("second encoding differs: %v\n% x\n% x", err, b, b2)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range samples(f) {
		f.Add(mustMarshal(f, 1, s.msg))
	}
	for _, c := range decodeErrCases() {
		f.Add(c.wire)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, m, err := Decode(b)
		if err != nil {
			if m != nil {
				t.Fatalf("message and error: %v", err)
			}
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %v is %T, not *Error", err, err)
			}
			return
		}
		checkIdempotent(t, m)
	})
}

func FuzzDecodeMatch(f *testing.F) {
	f.Add(AppendMatch(nil, &Match{}))
	m := sampleMatch()
	f.Add(AppendMatch(nil, &m))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := DecodeMatch(b)
		if err != nil {
			return
		}
		if n > len(b) || n%8 != 0 {
			t.Fatalf("consumed %d of %d bytes", n, len(b))
		}
		enc := AppendMatch(nil, &m)
		m2, n2, err := DecodeMatch(enc)
		if err != nil || n2 != len(enc) || !reflect.DeepEqual(m, m2) {
			t.Fatalf("not idempotent: %v\n%#v\n%#v", err, m, m2)
		}
	})
}

func FuzzDecodeActions(f *testing.F) {
	f.Add(AppendActions(nil, sampleActions()))
	f.Add(AppendInstructions(nil, sampleInstructions()))
	f.Fuzz(func(t *testing.T, b []byte) {
		if acts, err := DecodeActions(b); err == nil {
			enc := AppendActions(nil, acts)
			acts2, err := DecodeActions(enc)
			if err != nil || !reflect.DeepEqual(acts, acts2) {
				t.Fatalf("actions not idempotent: %v", err)
			}
		}
		if ins, err := DecodeInstructions(b); err == nil {
			enc := AppendInstructions(nil, ins)
			ins2, err := DecodeInstructions(enc)
			if err != nil || !reflect.DeepEqual(ins, ins2) {
				t.Fatalf("instructions not idempotent: %v", err)
			}
		}
	})
}
