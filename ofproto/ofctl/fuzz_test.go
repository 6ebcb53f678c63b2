package ofctl

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/govs/govs/ofproto/ofp"
)

// FuzzParseFlow gives ParseFlow arbitrary text with each flow-mod command.
// It must never panic; a flow it accepts must encode (ofp.Marshal),
// decode back (ofp.Decode) to a FLOW_MOD that encodes to the same bytes,
// and print (FormatFlowMod) as a flow that parses again to the same
// message; a refusal must be a *SyntaxError with a column inside the
// input (or 0) or a plain error with a message.
func FuzzParseFlow(f *testing.F) {
	for _, name := range []string{"flows.txt", "flowcmds.txt"} {
		fh, err := os.Open("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if l == "" || l[0] == '#' {
				continue
			}
			if strings.ContainsRune("+!~", rune(l[0])) {
				l = l[1:]
			}
			if name == "flowcmds.txt" {
				// "mod-flows [--strict] FLOW": keep the flow.
				fields := strings.Fields(l)
				l = strings.Join(fields[min(1, len(fields)):], " ")
				l = strings.TrimSpace(strings.TrimPrefix(l, "--strict"))
			}
			for cmd := uint8(0); cmd <= ofp.FlowDeleteStrict; cmd++ {
				f.Add(l, cmd)
			}
		}
		fh.Close()
	}
	f.Fuzz(func(t *testing.T, s string, cmd uint8) {
		cmd %= ofp.FlowDeleteStrict + 1
		fm, err := ParseFlow(s, cmd)
		if err != nil {
			if se, ok := err.(*SyntaxError); ok && (se.Col < 0 || se.Col > len(s)+1) {
				t.Fatalf("ParseFlow(%q): error column %d outside the input: %v", s, se.Col, err)
			}
			if err.Error() == "" {
				t.Fatalf("ParseFlow(%q): empty error", s)
			}
			return
		}
		b, err := ofp.Marshal(7, fm)
		if err != nil {
			t.Fatalf("ParseFlow(%q) accepted a flow that does not encode: %v\n%#v", s, err, fm)
		}
		_, m, err := ofp.Decode(b)
		if err != nil {
			t.Fatalf("ParseFlow(%q): its FLOW_MOD does not decode: %v\n% x", s, err, b)
		}
		fm2, ok := m.(*ofp.FlowMod)
		if !ok {
			t.Fatalf("ParseFlow(%q): decoded as %T", s, m)
		}
		b2, err := ofp.Marshal(7, fm2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("ParseFlow(%q): FLOW_MOD changes through decode and encode: %v\n% x\n% x", s, err, b, b2)
		}
		// What ovs-ofctl would print parses back to the same message.
		if !utf8.ValidString(s) {
			return
		}
		text := FormatFlowMod(fm2)
		fm3, err := ParseFlow(text, cmd)
		if err != nil {
			t.Fatalf("ParseFlow(%q) printed as %q, which does not parse: %v", s, text, err)
		}
		if b3, err := ofp.Marshal(7, fm3); err != nil || !bytes.Equal(b, b3) {
			t.Fatalf("ParseFlow(%q) printed as %q, which parses to another FLOW_MOD:\n% x\n% x", s, text, b, b3)
		}
	})
}
