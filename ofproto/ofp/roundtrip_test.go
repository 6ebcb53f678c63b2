package ofp

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for i, s := range samples(t) {
		t.Run(s.name, func(t *testing.T) {
			xid := uint32(0x1000 + i)
			b := mustMarshal(t, xid, s.msg)
			h, got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v\n% x", err, b)
			}
			wantVersion := uint8(Version)
			if hello, ok := s.msg.(*Hello); ok && hello.Version != 0 {
				wantVersion = hello.Version
			}
			if h != (Header{Version: wantVersion, Type: s.msg.Type(), Length: uint16(len(b)), Xid: xid}) {
				t.Errorf("header %+v, message %d bytes", h, len(b))
			}
			if !reflect.DeepEqual(got, s.msg) {
				t.Errorf("decoded\n%#v\nwant\n%#v", got, s.msg)
			}
			// Re-encoding the decoded value gives the same bytes.
			b2 := mustMarshal(t, xid, got)
			if !bytes.Equal(b, b2) {
				t.Errorf("re-encoding differs:\n% x\n% x", b, b2)
			}
			// Every message is a multiple of 8 bytes when its parts are,
			// except where data (frames, strings, raw bytes) ends it; check
			// at least that Append agrees with Marshal after a prefix.
			prefix := []byte{1, 2, 3}
			b3, err := Append(prefix, xid, s.msg)
			if err != nil || !bytes.Equal(b3[:3], prefix) || !bytes.Equal(b3[3:], b) {
				t.Errorf("Append after a prefix: %v", err)
			}
		})
	}
}

// TestDecodeDoesNotAlias checks that decoded values do not share memory
// with the input buffer.
func TestDecodeDoesNotAlias(t *testing.T) {
	for _, s := range samples(t) {
		b := mustMarshal(t, 1, s.msg)
		_, m1, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		snapshot := mustMarshal(t, 1, m1)
		for i := range b {
			b[i] ^= 0xff
		}
		if after := mustMarshal(t, 1, m1); !bytes.Equal(after, snapshot) {
			t.Errorf("%s: decoded value changed with the input buffer", s.name)
		}
	}
}

func TestBundleAddFromInner(t *testing.T) {
	inner := &PacketOut{BufferID: NoBuffer, InPort: PortController, Actions: []Action{&ActionOutput{Port: 1}}, Data: []byte{1, 2}}
	b := mustMarshal(t, 5, &BundleAdd{BundleID: 3, Inner: inner, InnerXid: 5, Properties: []byte{0xff, 0xff, 0, 4}})
	_, m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	ba := m.(*BundleAdd)
	if !reflect.DeepEqual(ba.Inner, inner) || ba.InnerXid != 5 || ba.InnerErr != nil || !bytes.Equal(ba.Message, mustMarshal(t, 5, inner)) {
		t.Errorf("got %#v", ba)
	}
	if !bytes.Equal(ba.Properties, []byte{0xff, 0xff, 0, 4}) {
		t.Errorf("properties % x", ba.Properties)
	}
	// A bundled message that does not decode is reported in InnerErr.
	bad := mustMarshal(t, 6, &EchoRequest{})
	bad[0] = 1 // version 1
	b = mustMarshal(t, 6, &BundleAdd{BundleID: 3, Message: bad})
	_, m, err = Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	var oe *Error
	if ba := m.(*BundleAdd); !errors.As(ba.InnerErr, &oe) || oe.Code != BRCBadVersion || ba.Inner != nil {
		t.Errorf("InnerErr %v", ba.InnerErr)
	}
	// Bundle messages are not bundled.
	if _, err := Marshal(1, &BundleAdd{Inner: &BundleCtrl{}}); err == nil {
		t.Error("bundle in bundle marshalled")
	}
	if _, err := Marshal(1, &BundleAdd{}); err == nil {
		t.Error("empty bundle add marshalled")
	}
}

func TestReadMessage(t *testing.T) {
	var stream []byte
	var want [][]byte
	for _, s := range samples(t) {
		b := mustMarshal(t, 9, s.msg)
		want = append(want, b)
		stream = append(stream, b...)
	}
	r := bytes.NewReader(stream)
	buf := make([]byte, 0, 64)
	for i, w := range want {
		got, err := ReadMessage(r, buf)
		if err != nil || !bytes.Equal(got, w) {
			t.Fatalf("message %d: %v\n% x\n% x", i, err, got, w)
		}
		buf = got
	}
	if _, err := ReadMessage(r, buf); err != io.EOF {
		t.Errorf("at end: %v, want io.EOF", err)
	}
	// Truncated body.
	if _, err := ReadMessage(bytes.NewReader(want[0][:len(want[0])-1]), nil); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated: %v", err)
	}
	// Header length below 8.
	_, err := ReadMessage(bytes.NewReader([]byte{4, 0, 0, 7, 0, 0, 0, 0}), nil)
	checkErr(t, "short header length", err, ETBadRequest, BRCBadLen)
	// Reuses a large enough buffer.
	big := make([]byte, 0, 4096)
	got, err := ReadMessage(bytes.NewReader(want[0]), big)
	if err != nil || &got[0] != &big[:1][0] {
		t.Errorf("buffer not reused: %v", err)
	}
}

func TestErrorHelpers(t *testing.T) {
	msg := make([]byte, 100)
	for i := range msg {
		msg[i] = byte(i)
	}
	if d := ErrorData(msg); len(d) != 64 || d[63] != 63 {
		t.Errorf("ErrorData: %d bytes", len(d))
	}
	if d := ErrorData(msg[:10]); len(d) != 10 {
		t.Errorf("ErrorData short: %d bytes", len(d))
	}
	em := NewErrorMsg(Errorf(ETBadMatch, BMCDupField, "x"), msg)
	if em.ErrType != ETBadMatch || em.Code != BMCDupField || em.Experimenter != 0 || len(em.Data) != 64 {
		t.Errorf("NewErrorMsg: %+v", em)
	}
	em = NewErrorMsg(bundleErr(BFCBadID, "x"), msg[:8])
	if em.ErrType != ETExperimenter || em.Code != BFCBadID || em.Experimenter != ONFExperimenter || len(em.Data) != 8 {
		t.Errorf("NewErrorMsg experimenter: %+v", em)
	}
	b := mustMarshal(t, 1, em)
	want := append([]byte{4, 1, 0, 24, 0, 0, 0, 1, 0xff, 0xff, 0x08, 0xfe, 0x4f, 0x4e, 0x46, 0x00}, msg[:8]...)
	if !bytes.Equal(b, want) {
		t.Errorf("experimenter error:\n% x\n% x", b, want)
	}
}

func TestMarshalErrors(t *testing.T) {
	bigOXM := OXM{Class: OXMClassNXM1, Field: 1, Value: make([]byte, 300)}
	for _, c := range []struct {
		name string
		msg  Message
	}{
		{"nil", nil},
		{"typed nil", (*FlowMod)(nil)},
		{"too long", &EchoRequest{Data: make([]byte, 70000)}},
		{"oxm too long", &FlowMod{Match: Match{Fields: []OXM{bigOXM}}}},
		{"set-field oxm too long", &PacketOut{Actions: []Action{&ActionSetField{Field: bigOXM}}}},
		{"nil action", &PacketOut{Actions: []Action{nil}}},
		{"nil instruction", &FlowMod{Instructions: []Instruction{(*InstrMeter)(nil)}}},
		{"multipart no body", &MultipartRequest{}},
		{"reply body in request", &MultipartRequest{Body: &DescReply{}}},
		{"request body in reply", &MultipartReply{Body: &DescRequest{}}},
		{"huge reply", &MultipartReply{Body: &PortDescReply{Ports: make([]Port, 1100)}}},
		{"bundle add bad message", &BundleAdd{Message: []byte{4, 2, 0, 9, 0, 0, 0, 0}}},
	} {
		dst := []byte{7}
		b, err := Append(dst, 1, c.msg)
		if err == nil {
			t.Errorf("%s: no error", c.name)
		}
		if len(b) != 1 {
			t.Errorf("%s: dst changed on error", c.name)
		}
	}
}

func TestMarshalMultipartReply(t *testing.T) {
	// 2000 flow stats entries of 160+ bytes need several messages.
	stats := make([]FlowStats, 2000)
	for i := range stats {
		stats[i] = sampleFlowStats(i)
	}
	r := &MultipartReply{Body: &FlowStatsReply{Stats: stats}}
	msgs, err := MarshalMultipartReply(42, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) < 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	var all []FlowStats
	for i, b := range msgs {
		if len(b) > MaxMessageLen {
			t.Errorf("message %d: %d bytes", i, len(b))
		}
		h, m, err := Decode(b)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		rep := m.(*MultipartReply)
		if h.Xid != 42 || (rep.Flags&MPFlagMore != 0) != (i < len(msgs)-1) {
			t.Errorf("message %d: xid %d flags %#x", i, h.Xid, rep.Flags)
		}
		all = append(all, rep.Body.(*FlowStatsReply).Stats...)
	}
	if !reflect.DeepEqual(all, stats) {
		t.Error("entries differ after splitting")
	}
	// Port desc replies split too; a small reply is one message equal
	// to Marshal's.
	ports := make([]Port, 1100)
	msgs, err = MarshalMultipartReply(1, &MultipartReply{Body: &PortDescReply{Ports: ports}})
	if err != nil || len(msgs) != 2 {
		t.Fatalf("port desc: %d messages, %v", len(msgs), err)
	}
	for _, s := range samples(t) {
		rep, ok := s.msg.(*MultipartReply)
		if !ok {
			continue
		}
		msgs, err := MarshalMultipartReply(3, rep)
		if err != nil || len(msgs) != 1 || !bytes.Equal(msgs[0], mustMarshal(t, 3, rep)) {
			t.Errorf("%s: %d messages, %v", s.name, len(msgs), err)
		}
	}
	// An entry too long for any message.
	huge := TableFeatures{Props: []TableFeatureProp{{Type: TFPNextTables, Tables: make([]byte, 65500)}}}
	if _, err := MarshalMultipartReply(1, &MultipartReply{Body: &TableFeaturesReply{Features: []TableFeatures{huge}}}); err == nil {
		t.Error("oversized entry accepted")
	}
}

// A bundle message inside a bundle add is not decoded (that bounds the
// recursion) and is reported in InnerErr.
func TestBundleInBundle(t *testing.T) {
	inner := mustMarshal(t, 5, &BundleCtrl{BundleID: 1})
	_, m, err := Decode(mustMarshal(t, 6, &BundleAdd{BundleID: 2, Message: inner}))
	if err != nil {
		t.Fatal(err)
	}
	ba := m.(*BundleAdd)
	checkErr(t, "bundle in bundle", ba.InnerErr, ETExperimenter, BFCMsgUnsup)
	if ba.Inner != nil || ba.InnerXid != 5 {
		t.Errorf("got %#v", ba)
	}
}
