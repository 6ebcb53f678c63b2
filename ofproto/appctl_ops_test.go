package ofproto

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCoverageShow: Open vSwitch's layout, rates from the samples.
func TestCoverageShow(t *testing.T) {
	before := covFailOpen.total()
	CoverageRun(time.Now().Add(-10 * time.Second))
	covFailOpen.add(50)
	out := CoverageShow()
	if !regexp.MustCompile(`^Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=[0-9a-f]{8}:\n`).MatchString(out) {
		t.Errorf("header:\n%s", out)
	}
	line := regexp.MustCompile(`(?m)^fail_open\s+(\d+\.\d)/sec\s+(\d+\.\d{3})/sec\s+(\d+\.\d{4})/sec\s+total: (\d+)$`).FindStringSubmatch(out)
	if line == nil {
		t.Fatalf("no fail_open line:\n%s", out)
	}
	if line[4] != strconv.FormatUint(before+50, 10) {
		t.Errorf("total %s, want %d", line[4], before+50)
	}
	if line[2] == "0.000" {
		t.Errorf("minute rate 0 after 50 events in the last 10 s:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^\d+ events never hit$`).MatchString(out) {
		t.Errorf("no never-hit line:\n%s", out)
	}
}

// TestAppctlShows: the datapath views on a fresh bridge.
func TestAppctlShows(t *testing.T) {
	tb := newTestBridge(t, 2, FailSecure)
	br := tb.br
	if out := br.DPIFShow(); !strings.Contains(out, "govs@br0: hit:0 missed:0\n  br0:\n    p1 1/1: (memory)\n    p2 2/2: (memory)\n") {
		t.Errorf("dpif/show:\n%s", out)
	}
	br.PMDStatsClear()
	if out := br.PMDStatsShow(); !strings.Contains(out, "  packets received: 0\n") || !strings.Contains(out, "  miss with failed upcall: 0\n") {
		t.Errorf("pmd-stats-show:\n%s", out)
	}
	CoverageRun(time.Now())
	if out := br.UpcallShow(); !regexp.MustCompile(`flows         : \(current 0\) \(avg 0\) \(max 0\) \(limit 200000\)\n  dump duration : \d+ms\n  ufid enabled : false\n  upcalls       : \(miss \d+\)`).MatchString(out) {
		t.Errorf("upcall/show:\n%s", out)
	}
	m := br.Metrics()
	if m.Name != "br0" || len(m.Ports) != 2 || len(m.Conns) != 0 {
		t.Errorf("metrics %+v", m)
	}
}
