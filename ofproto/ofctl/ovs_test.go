package ofctl

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/govs/govs/ofproto/ofp"
)

// corpusLine is one line of a testdata corpus.
type corpusLine struct {
	text     string
	line     int
	govsOnly bool // '+': govs accepts, ovs-ofctl refuses
	ovsOnly  bool // '!': ovs-ofctl accepts, govs refuses (stricter)
	differs  bool // '~': both accept, ovs-ofctl encodes it with an extension
}

func readCorpus(t *testing.T, name string) []corpusLine {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusLine
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		l := sc.Text()
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		c := corpusLine{text: l, line: n}
		switch l[0] {
		case '+':
			c.govsOnly, c.text = true, l[1:]
		case '!':
			c.ovsOnly, c.text = true, l[1:]
		case '~':
			c.differs, c.text = true, l[1:]
		}
		out = append(out, c)
	}
	return out
}

// sameExceptXid compares two encoded messages, ignoring the xid.
func sameExceptXid(a, b []byte) bool {
	if len(a) < 8 || len(b) < 8 {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(a[:4], b[:4]) && bytes.Equal(a[8:], b[8:])
}

// TestOvsOfctlAddFlow gives every flow of testdata/flows.txt to ovs-ofctl
// add-flow and to ParseFlow and checks that both accept or refuse it and,
// when they accept it, that they send the same FLOW_MOD byte for byte.
// Then it has ovs-ofctl dump the accepted flows and checks that
// FormatFlowStats prints each the same.
func TestOvsOfctlAddFlow(t *testing.T) {
	needOvsOfctl(t)
	fs := newFakeSwitch(t)
	var stats []ofp.FlowStats
	for _, c := range readCorpus(t, "flows.txt") {
		out, ok := fs.ovsOfctl("add-flow", c.text)
		sent := fs.take()
		fm, err := ParseFlow(c.text, ofp.FlowAdd)
		where := fmt.Sprintf("flows.txt:%d: %q", c.line, c.text)
		switch {
		case ok && len(sent) != 1:
			t.Errorf("%s: ovs-ofctl sent %d messages", where, len(sent))
			continue
		case ok && err != nil:
			if !c.ovsOnly {
				t.Errorf("%s: ovs-ofctl accepts it, ParseFlow says %v", where, err)
			}
			continue
		case !ok && err == nil:
			if !c.govsOnly {
				t.Errorf("%s: ParseFlow accepts it, ovs-ofctl says %s", where, strings.TrimSpace(out))
			}
			continue
		case !ok:
			if c.ovsOnly || c.govsOnly {
				t.Errorf("%s: both refuse it (ovs-ofctl: %s; govs: %v)", where, strings.TrimSpace(out), err)
			}
			continue
		}
		if c.ovsOnly || c.govsOnly {
			t.Errorf("%s: both accept it", where)
		}
		if c.differs {
			continue
		}
		b, merr := ofp.Marshal(0, fm)
		if merr != nil {
			t.Errorf("%s: marshal: %v", where, merr)
			continue
		}
		if !sameExceptXid(b, sent[0]) {
			t.Errorf("%s: FLOW_MOD differs\n ovs-ofctl: %x\n govs:      %x", where, sent[0], b)
			continue
		}
		_, m, derr := ofp.Decode(sent[0])
		if derr != nil {
			t.Errorf("%s: decode: %v", where, derr)
			continue
		}
		ofm := m.(*ofp.FlowMod)
		n := uint64(len(stats))
		stats = append(stats, ofp.FlowStats{TableID: ofm.TableID, DurationSec: uint32(n), DurationNsec: uint32(n * 1234567),
			Priority: ofm.Priority, IdleTimeout: ofm.IdleTimeout, HardTimeout: ofm.HardTimeout, Flags: ofm.Flags,
			Cookie: ofm.Cookie, PacketCount: n * 3, ByteCount: n * 300, Match: ofm.Match, Instructions: ofm.Instructions})
	}
	compareDumpFlows(t, fs, stats)
}

// compareDumpFlows has ovs-ofctl dump flow stats from the fake switch and
// compares each line with FormatFlowStats.
func compareDumpFlows(t *testing.T, fs *fakeSwitch, stats []ofp.FlowStats) {
	t.Helper()
	fs.setReply(&ofp.FlowStatsReply{Stats: stats})
	out, ok := fs.ovsOfctl("dump-flows")
	if !ok {
		t.Fatalf("ovs-ofctl dump-flows: %s", out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if strings.HasPrefix(l, " ") {
			lines = append(lines, l[1:])
		}
	}
	if len(lines) != len(stats) {
		t.Fatalf("ovs-ofctl dump-flows printed %d flows, want %d:\n%s", len(lines), len(stats), out)
	}
	for i := range stats {
		if got := FormatFlowStats(&stats[i]); got != lines[i] {
			t.Errorf("flow %d:\n ovs-ofctl: %s\n govs:      %s", i, lines[i], got)
		}
	}
}
