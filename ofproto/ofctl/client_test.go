package ofctl

import (
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// TestClientMultipartMore checks that a request collects every part of a
// multipart reply the switch splits with REPLY_MORE, and that the parts
// print as ovs-ofctl prints them, "flags=[more]" on all but the last.
func TestClientMultipartMore(t *testing.T) {
	fs := newFakeSwitch(t)
	var stats []ofp.FlowStats
	for i := 0; i < 2000; i++ {
		m, err := ParseMatch("tcp,nw_src=198.18.0.1,tp_dst=" + itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		acts, _ := ParseInstructions("output:2", &m)
		stats = append(stats, ofp.FlowStats{Priority: uint16(i), Match: m, Instructions: acts})
	}
	fs.setReply(&ofp.FlowStatsReply{Stats: stats})
	c, err := Dial("unix:"+fs.path, "", 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, _ := ParseFlowStatsRequest("")
	replies, err := c.Transact(&ofp.MultipartRequest{Body: r})
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) < 2 {
		t.Fatalf("%d replies: the switch should have split 2000 flows", len(replies))
	}
	n := 0
	for i, b := range replies {
		s := FormatMessage(b)
		more := strings.Contains(strings.SplitN(s, "\n", 2)[0], "flags=[more]")
		if more != (i < len(replies)-1) {
			t.Errorf("reply %d of %d: first line %q", i, len(replies), strings.SplitN(s, "\n", 2)[0])
		}
		n += strings.Count(s, " cookie=")
	}
	if n != len(stats) {
		t.Errorf("printed %d flows, want %d", n, len(stats))
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// TestClientErrors checks that modifications sent before a barrier come
// back with the switch's errors, printed as ovs-ofctl prints them, and that
// an erroring request is a *SwitchError.
func TestClientErrors(t *testing.T) {
	fs := newFakeSwitch(t)
	fs.mu.Lock()
	fs.errorOn[ofp.TypeGroupMod] = ofp.Errorf(ofp.ETGroupModFailed, ofp.GMFCGroupExists, "")
	fs.mu.Unlock()
	c, err := Dial("unix:"+fs.path, "", 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fm, _ := ParseFlow("in_port=1,actions=output:2", ofp.FlowAdd)
	gm, _ := ParseGroup("group_id=1,type=all,bucket=output:2", ofp.GroupAdd)
	errs, err := c.SendAll([]ofp.Message{fm, gm})
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 {
		t.Fatalf("%d errors, want 1 (the group's)", len(errs))
	}
	want := "OFPT_ERROR (OF1.3) (xid=0x3): OFPGMFC_GROUP_EXISTS\nOFPT_GROUP_MOD (OF1.3) (xid=0x3):\n ADD group_id=1,type=all,bucket=actions=output:2"
	if got := errs[0].Error(); got != want {
		t.Errorf("error printed as\n%s\nwant\n%s", got, want)
	}
	if got := len(fs.take()); got != 2 {
		t.Errorf("the switch got %d modifications, want 2", got)
	}
	// A request answered by an error.
	fs.mu.Lock()
	fs.errorOn[ofp.TypeGetConfigRequest] = ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadType, "")
	fs.mu.Unlock()
	_, err = c.Transact(&ofp.GetConfigRequest{})
	se, ok := err.(*SwitchError)
	if !ok || !strings.Contains(se.Error(), "OFPBRC_BAD_TYPE") {
		t.Errorf("GET_CONFIG answered by an error: %v", err)
	}
}

// TestTarget checks how switch names become sockets.
func TestTarget(t *testing.T) {
	for in, want := range map[string]string{
		"br0":             "unix /run/x/br0.mgmt",
		"unix:/tmp/s":     "unix /tmp/s",
		"tcp:127.0.0.1":   "tcp 127.0.0.1:6653",
		"tcp:[::1]:6634":  "tcp [::1]:6634",
		"tcp:host:6634":   "tcp host:6634",
		"ssl:1.2.3.4:665": "error",
		"/tmp/x":          "error",
	} {
		n, a, err := Target(in, "/run/x")
		got := n + " " + a
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("Target(%q) = %q, want %q", in, got, want)
		}
	}
}
