package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestMetricsFormat: families are grouped under one HELP and TYPE each,
// labels are escaped, and every sample line has the exposition syntax.
func TestMetricsFormat(t *testing.T) {
	var f families
	f.add("govs_x_total", "counter", "An x.", []string{"bridge", "br0", "port", `we"ird\`}, 3)
	f.add("govs_y", "gauge", "A y.", nil, 1.5)
	f.add("govs_x_total", "counter", "An x.", []string{"bridge", "br1", "port", "p1"}, 4)
	var b bytes.Buffer
	f.write(&b)
	want := `# HELP govs_x_total An x.
# TYPE govs_x_total counter
govs_x_total{bridge="br0",port="we\"ird\\"} 3
govs_x_total{bridge="br1",port="p1"} 4
# HELP govs_y A y.
# TYPE govs_y gauge
govs_y 1.5
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestWriteMetricsCoverage: coverage counters come out sorted as one
// family, even without bridges.
func TestWriteMetricsCoverage(t *testing.T) {
	var b bytes.Buffer
	writeMetrics(&b, nil, map[string]uint64{"b_event": 2, "a_event": 1})
	sample := regexp.MustCompile(`^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$`)
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if !strings.HasPrefix(l, "#") && !sample.MatchString(l) {
			t.Errorf("bad sample line %q", l)
		}
	}
	if !strings.Contains(b.String(), "govs_coverage_total{event=\"a_event\"} 1\ngovs_coverage_total{event=\"b_event\"} 2\n") {
		t.Errorf("metrics:\n%s", b.String())
	}
}
