package ofproto

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govs/govs/datapath"
)

// Coverage counters count events process-wide, as Open vSwitch's
// COVERAGE_DEFINE counters do, for `ovs-appctl coverage/show`. Incrementing
// one is a single atomic add: they may be used on the slow path freely
// (the datapath's own per-packet counters are read from datapath.Stats
// instead, see coverageDatapath).
type coverageCounter struct {
	name string
	n    atomic.Uint64
}

func (c *coverageCounter) inc()           { c.n.Add(1) }
func (c *coverageCounter) add(n uint64)   { c.n.Add(n) }
func (c *coverageCounter) total() uint64  { return c.n.Load() }
func (c *coverageCounter) String() string { return c.name }

var (
	coverageMu       sync.Mutex
	coverageCounters []*coverageCounter // guarded by coverageMu
)

// newCoverage defines a counter (at package initialisation).
func newCoverage(name string) *coverageCounter {
	c := &coverageCounter{name: name}
	coverageMu.Lock()
	coverageCounters = append(coverageCounters, c)
	coverageMu.Unlock()
	return c
}

// The counters of this package. Names follow Open vSwitch's where the
// event is the same.
var (
	covPacketIn      = newCoverage("connmgr_packet_in")     // packet-ins offered to a connection
	covPinQueued     = newCoverage("pinsched_queued")       // packet-ins that waited for the rate limit
	covPinDrop       = newCoverage("pinsched_drop")         // packet-ins dropped by the rate limit
	covRconnSent     = newCoverage("rconn_sent")            // OpenFlow messages written
	covRconnOverflow = newCoverage("rconn_overflow")        // asynchronous messages dropped: send queue full
	covRecvOpenFlow  = newCoverage("ofproto_recv_openflow") // OpenFlow messages received
	covConnect       = newCoverage("rconn_connected")       // OpenFlow handshakes completed
	covDisconnect    = newCoverage("rconn_disconnected")    // OpenFlow connections closed
	covProbe         = newCoverage("rconn_probe")           // inactivity probes sent
	covFailOpen      = newCoverage("fail_open")             // standalone fail-open activations
	covFlowFlush     = newCoverage("dpif_flow_flush")       // dpctl/del-flows
)

// coverageDatapath are counters derived from every bridge's datapath
// statistics.
var coverageDatapath = []struct {
	name string
	get  func(s *datapath.Stats) uint64
}{
	{"datapath_hit", func(s *datapath.Stats) uint64 { return s.Hit }},
	{"datapath_emc_hit", func(s *datapath.Stats) uint64 { return s.EMCHit }},
	{"datapath_megaflow_hit", func(s *datapath.Stats) uint64 { return s.Hit - s.EMCHit }},
	{"datapath_miss", func(s *datapath.Stats) uint64 { return s.Missed }},
	{"datapath_upcall_lost", func(s *datapath.Stats) uint64 { return s.Lost }}, // misses and controller actions
	{"datapath_subtable_lookup", func(s *datapath.Stats) uint64 { return s.MaskHit }},
}

var (
	liveMu      sync.Mutex
	liveBridges = map[*Bridge]*flowCountSamples{} // guarded by liveMu
	retiredDP   datapath.Stats                    // guarded by liveMu; closed bridges' final counters
)

// flowCountSamples are a bridge's megaflow counts sampled by CoverageRun.
type flowCountSamples struct {
	n, sum, max int
}

func registerBridge(br *Bridge) {
	liveMu.Lock()
	liveBridges[br] = &flowCountSamples{}
	liveMu.Unlock()
}

// flowSamples returns the average and maximum megaflow count of br,
// including the current count.
func flowSamples(br *Bridge, current int) (avg, maxFlows int) {
	liveMu.Lock()
	defer liveMu.Unlock()
	fs := liveBridges[br]
	if fs == nil || fs.n == 0 {
		return current, current
	}
	return (fs.sum + current) / (fs.n + 1), max(fs.max, current)
}

func unregisterBridge(br *Bridge) {
	liveMu.Lock()
	defer liveMu.Unlock()
	if _, ok := liveBridges[br]; !ok {
		return
	}
	delete(liveBridges, br)
	s := br.dp.Stats()
	retiredDP.Hit += s.Hit
	retiredDP.Missed += s.Missed
	retiredDP.Lost += s.Lost
	retiredDP.EMCHit += s.EMCHit
	retiredDP.MaskHit += s.MaskHit
}

// datapathTotals sums the datapath counters of every bridge, past and
// present.
func datapathTotals() datapath.Stats {
	liveMu.Lock()
	defer liveMu.Unlock()
	t := retiredDP
	for br := range liveBridges {
		s := br.dp.Stats()
		t.Hit += s.Hit
		t.Missed += s.Missed
		t.Lost += s.Lost
		t.EMCHit += s.EMCHit
		t.MaskHit += s.MaskHit
		t.Flows += s.Flows
		t.Masks += s.Masks
	}
	return t
}

// coverageTotals returns every counter's total by name.
func coverageTotals() map[string]uint64 {
	out := map[string]uint64{}
	coverageMu.Lock()
	for _, c := range coverageCounters {
		out[c.name] = c.total()
	}
	coverageMu.Unlock()
	s := datapathTotals()
	for _, d := range coverageDatapath {
		out[d.name] = d.get(&s)
	}
	return out
}

// coverageSample is the totals at one time.
type coverageSample struct {
	at     time.Time
	totals map[string]uint64
}

// coverageHistory keeps samples for the rates: one every 5 s for the last
// minute and one a minute for the last hour.
var coverageHistory struct {
	sync.Mutex
	recent  []coverageSample // newest last, at most 13 (a minute and one)
	minutes []coverageSample // newest last, at most 61
}

// CoverageRun takes a sample of the coverage counters for the rates that
// coverage/show prints. govsd calls it every 5 seconds.
func CoverageRun(now time.Time) {
	liveMu.Lock()
	for br, fs := range liveBridges {
		n := br.dp.Stats().Flows
		fs.n++
		fs.sum += n
		fs.max = max(fs.max, n)
	}
	liveMu.Unlock()
	s := coverageSample{at: now, totals: coverageTotals()}
	h := &coverageHistory
	h.Lock()
	defer h.Unlock()
	h.recent = append(h.recent, s)
	if len(h.recent) > 13 {
		h.recent = h.recent[len(h.recent)-13:]
	}
	if n := len(h.minutes); n == 0 || now.Sub(h.minutes[n-1].at) >= time.Minute-time.Second {
		h.minutes = append(h.minutes, s)
		if len(h.minutes) > 61 {
			h.minutes = h.minutes[len(h.minutes)-61:]
		}
	}
}

// rate returns the average rate of counter name since the oldest sample in
// samples that is at most span old (or the oldest there is).
func rate(samples []coverageSample, now time.Time, span time.Duration, name string, total uint64) float64 {
	for _, s := range samples {
		if now.Sub(s.at) <= span+time.Second {
			d := now.Sub(s.at).Seconds()
			if d <= 0 {
				return 0
			}
			return float64(total-s.totals[name]) / d
		}
	}
	return 0
}

// CoverageShow prints the counters as `ovs-appctl coverage/show` does:
// average rates over the last 5 seconds, minute and hour, and the total,
// for every counter that was ever hit.
func CoverageShow() string {
	now := time.Now()
	totals := coverageTotals()
	names := make([]string, 0, len(totals))
	for n := range totals {
		names = append(names, n)
	}
	sort.Strings(names)
	h := &coverageHistory
	h.Lock()
	recent := append([]coverageSample(nil), h.recent...)
	minutes := append([]coverageSample(nil), h.minutes...)
	h.Unlock()
	var body strings.Builder
	hash := fnv.New32a()
	never := 0
	for _, n := range names {
		t := totals[n]
		if t == 0 {
			never++
			continue
		}
		hash.Write([]byte(n))
		fmt.Fprintf(&body, "%-24s %5.1f/sec %9.3f/sec %13.4f/sec   total: %d\n", n,
			rate(recent, now, 5*time.Second, n, t),
			rate(recent, now, time.Minute, n, t),
			rate(minutes, now, time.Hour, n, t), t)
	}
	fmt.Fprintf(&body, "%d events never hit\n", never)
	return fmt.Sprintf("Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=%08x:\n", hash.Sum32()) + body.String()
}
