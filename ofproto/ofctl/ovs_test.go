package ofctl

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"reflect"
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
		out, _ := fs.ovsOfctl("add-flow", c.text)
		sent := fs.take()
		fm, err := ParseFlow(c.text, ofp.FlowAdd)
		where := fmt.Sprintf("flows.txt:%d: %q", c.line, c.text)
		ovsSent := len(sent) == 1
		switch {
		case len(sent) > 1:
			t.Errorf("%s: ovs-ofctl sent %d messages", where, len(sent))
			continue
		case !ovsSent && err != nil:
			if c.ovsOnly || c.govsOnly || c.differs {
				t.Errorf("%s: both refuse it (ovs-ofctl: %s; govs: %v)", where, strings.TrimSpace(out), err)
			}
			continue
		case !ovsSent:
			if !c.govsOnly {
				t.Errorf("%s: ParseFlow accepts it, ovs-ofctl says %s", where, strings.TrimSpace(out))
			}
			continue
		case err != nil:
			if !c.ovsOnly {
				t.Errorf("%s: ovs-ofctl accepts it, ParseFlow says %v", where, err)
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

// TestOvsOfctlFlowCommands checks mod-flows, del-flows, dump-flows and
// dump-aggregate arguments of testdata/flowcmds.txt the same way as
// TestOvsOfctlAddFlow: same acceptance, same message.
func TestOvsOfctlFlowCommands(t *testing.T) {
	needOvsOfctl(t)
	fs := newFakeSwitch(t)
	for _, c := range readCorpus(t, "flowcmds.txt") {
		args := strings.SplitN(c.text, " ", 3)
		cmd, arg := args[0], ""
		strict := len(args) > 1 && args[1] == "--strict"
		if strict {
			args = append(args[:1], args[2:]...)
		}
		if len(args) > 1 {
			arg = strings.Join(args[1:], " ")
		}
		ovsArgs := []string{}
		if strict {
			ovsArgs = append(ovsArgs, "--strict")
		}
		if arg != "" {
			ovsArgs = append(ovsArgs, arg)
		}
		out, _ := fs.ovsOfctl(cmd, ovsArgs...)
		sent := fs.take()
		var msg ofp.Message
		var err error
		switch cmd {
		case "mod-flows", "del-flows":
			code := map[string]uint8{"mod-flows": ofp.FlowModify, "del-flows": ofp.FlowDelete}[cmd]
			if strict {
				code++
			}
			var fm *ofp.FlowMod
			if fm, err = ParseFlow(arg, code); err == nil {
				msg = fm
			}
		case "dump-flows", "dump-aggregate":
			var r *ofp.FlowStatsRequest
			if r, err = ParseFlowStatsRequest(arg); err == nil {
				var body ofp.MultipartBody = r
				if cmd == "dump-aggregate" {
					body = &ofp.AggregateStatsRequest{FlowStatsRequest: *r}
				}
				msg = &ofp.MultipartRequest{Body: body}
			}
		default:
			t.Fatalf("flowcmds.txt:%d: unknown command %s", c.line, cmd)
		}
		checkSame(t, fmt.Sprintf("flowcmds.txt:%d: %q", c.line, c.text), c, out, sent, msg, err)
	}
}

// checkSame checks that ovs-ofctl (which printed out and sent sent) and
// govs (which built msg, or failed with err) agree about a command.
func checkSame(t *testing.T, where string, c corpusLine, out string, sent [][]byte, msg ofp.Message, err error) {
	t.Helper()
	switch {
	case len(sent) > 1:
		t.Errorf("%s: ovs-ofctl sent %d messages", where, len(sent))
	case len(sent) == 0 && err != nil:
		if c.ovsOnly || c.govsOnly || c.differs {
			t.Errorf("%s: both refuse it (ovs-ofctl: %s; govs: %v)", where, strings.TrimSpace(out), err)
		}
	case len(sent) == 0:
		if !c.govsOnly {
			t.Errorf("%s: govs accepts it, ovs-ofctl says %s", where, strings.TrimSpace(out))
		}
	case err != nil:
		if !c.ovsOnly {
			t.Errorf("%s: ovs-ofctl accepts it, govs says %v", where, err)
		}
	case c.ovsOnly || c.govsOnly:
		t.Errorf("%s: both accept it", where)
	case !c.differs:
		b, merr := ofp.Marshal(0, msg)
		if merr != nil {
			t.Errorf("%s: marshal: %v", where, merr)
		} else if !sameExceptXid(b, sent[0]) {
			t.Errorf("%s: message differs\n ovs-ofctl: %x\n govs:      %x", where, sent[0], b)
		}
	}
}

// TestOvsOfctlGroupMeter checks the group and meter commands of
// testdata/groupmeter.txt against ovs-ofctl.
func TestOvsOfctlGroupMeter(t *testing.T) {
	needOvsOfctl(t)
	fs := newFakeSwitch(t)
	for _, c := range readCorpus(t, "groupmeter.txt") {
		cmd, arg, _ := strings.Cut(c.text, " ")
		var ovsArgs []string
		if arg != "" {
			ovsArgs = []string{arg}
		}
		out, _ := fs.ovsOfctl(cmd, ovsArgs...)
		sent := fs.take()
		var msg ofp.Message
		var err error
		switch cmd {
		case "add-group", "mod-group", "del-groups":
			code := map[string]uint16{"add-group": ofp.GroupAdd, "mod-group": ofp.GroupModify, "del-groups": ofp.GroupDelete}[cmd]
			var gm *ofp.GroupMod
			if gm, err = ParseGroup(arg, code); err == nil {
				msg = gm
				if g2, err2 := ParseGroup(FormatGroupMod(gm), code); err2 != nil || !reflect.DeepEqual(g2, gm) {
					t.Errorf("groupmeter.txt:%d: %q does not reparse the same: %v", c.line, FormatGroupMod(gm), err2)
				}
			}
		case "dump-group-stats":
			var gm *ofp.GroupMod
			if gm, err = ParseGroup(arg, ofp.GroupDelete); err == nil {
				msg = &ofp.MultipartRequest{Body: &ofp.GroupStatsRequest{GroupID: gm.GroupID}}
			}
		case "add-meter", "mod-meter", "del-meters":
			code := map[string]uint16{"add-meter": ofp.MeterAdd, "mod-meter": ofp.MeterModify, "del-meters": ofp.MeterDelete}[cmd]
			var mm *ofp.MeterMod
			if mm, err = ParseMeter(arg, code); err == nil {
				msg = mm
				if m2, err2 := ParseMeter(FormatMeterMod(mm), code); err2 != nil || !reflect.DeepEqual(m2, mm) {
					t.Errorf("groupmeter.txt:%d: %q does not reparse the same: %v", c.line, FormatMeterMod(mm), err2)
				}
			}
		case "dump-meters", "meter-stats":
			var id uint32
			if id, err = ParseMeterID(arg); err == nil {
				if cmd == "dump-meters" {
					msg = &ofp.MultipartRequest{Body: &ofp.MeterConfigRequest{MeterID: id}}
				} else {
					msg = &ofp.MultipartRequest{Body: &ofp.MeterStatsRequest{MeterID: id}}
				}
			}
		default:
			t.Fatalf("groupmeter.txt:%d: unknown command %s", c.line, cmd)
		}
		checkSame(t, fmt.Sprintf("groupmeter.txt:%d: %q", c.line, c.text), c, out, sent, msg, err)
	}
}
