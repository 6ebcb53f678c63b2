package main

import (
	"strings"
	"testing"

	"github.com/govs/govs/ofproto/ofp"
)

// TestOfctlUsage checks the command line's errors, which need no switch.
func TestOfctlUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dump-flows"}, 2, "usage: govs ofctl"},
		{[]string{"frobnicate", "br0"}, 2, "unknown command 'frobnicate'"},
		{[]string{"-O", "OpenFlow10", "dump-flows", "br0"}, 2, "only OpenFlow13"},
		{[]string{"--bogus", "dump-flows", "br0"}, 2, "unknown option --bogus"},
		{[]string{"add-flow", "br0"}, 2, "usage: govs ofctl add-flow SWITCH FLOW"},
		{[]string{"-rundir"}, 2, "-rundir needs a value"},
		{[]string{"dump-flows", "ssl:1.2.3.4:6653"}, 1, "ssl targets are not supported"},
		{[]string{"-rundir", t.TempDir(), "dump-flows", "br0"}, 1, "br0.mgmt"},
	} {
		var out, errOut strings.Builder
		code := runOfctl(c.args, "/nonexistent", &out, &errOut)
		if code != c.code || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("govs ofctl %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, errOut.String(), c.code, c.want)
		}
	}
	var out strings.Builder
	if code := runOfctl([]string{"--help"}, "", &out, &out); code != 0 || !strings.Contains(out.String(), "dump-group-stats SWITCH [GROUP]") {
		t.Errorf("--help: exit %d\n%s", code, out.String())
	}
}

// TestParsePacketOut checks packet-out's syntax.
func TestParsePacketOut(t *testing.T) {
	po, err := parsePacketOut("in_port=1 packet=ffffffffffff0200000000010806 actions=output:2,CONTROLLER:64")
	if err != nil {
		t.Fatal(err)
	}
	if po.InPort != 1 || len(po.Data) != 14 || len(po.Actions) != 2 || po.BufferID != ofp.NoBuffer {
		t.Errorf("parsed %+v", po)
	}
	for in, want := range map[string]string{
		"in_port=1 packet=ffff":                 "expected actions=",
		"in_port=1 actions=output:2":            "expected packet=HEX",
		"in_port=1 packet=xyz actions=output:2": "hexadecimal",
		"in_port=nope packet=ff actions=drop":   "in_port",
		"color=red packet=ff actions=drop":      `unknown packet-out field "color"`,
		"packet=ff actions=outptu:2":            "unknown action",
	} {
		if _, err := parsePacketOut(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parsePacketOut(%q) = %v, want an error with %q", in, err, want)
		}
	}
}
