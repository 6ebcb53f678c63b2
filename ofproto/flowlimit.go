package ofproto

import (
	"fmt"
	"strings"
	"time"
)

// The megaflow limit, as in Open vSwitch's udpif: Config.FlowLimit (default
// 200000) bounds the megaflows a bridge installs, and the limit in force
// (Bridge.flowLimit) adapts to how long the revalidator's pass over the
// megaflows takes (pushStats, every second):
//
//   - a pass of more than 2 s divides the limit by its length in seconds;
//     of more than 1.3 s, takes a quarter off;
//   - a pass of less than 1 s over more than 2000 megaflows, with the limit
//     below what a 1 s pass would cover, adds 1000 back;
//   - the limit stays between 1000 and Config.FlowLimit.
//
// At the limit an upcall executes its packet but installs no megaflow
// (upcall_flow_limit_hit). Over the limit, megaflows idle for more than
// 100 ms are evicted instead of MaxIdle; over twice the limit, all are
// (revalidate_del_flow_limit).
const (
	defaultFlowLimit = 200000
	minFlowLimit     = 1000
	// flowLimitIdle is the idle time after which megaflows are evicted
	// while there are more than the limit.
	flowLimitIdle = 100 * time.Millisecond
)

// Per-reason counters of upcalls and of megaflow evictions (coverage/show,
// upcall/show).
var (
	covUpcallMiss       = newCoverage("upcall_miss")           // packets that matched no megaflow
	covUpcallAction     = newCoverage("upcall_action")         // userspace actions (packet-ins)
	covUpcallFlowLimit  = newCoverage("upcall_flow_limit_hit") // misses executed without a megaflow: at the limit
	covUpcallRecircGone = newCoverage("upcall_recirc_gone")    // recirculated packets whose frozen state was gone: dropped
	covUpcallRaced      = newCoverage("upcall_put_raced")      // megaflows removed at once: the tables changed during translation

	covDelIdle       = newCoverage("revalidate_del_idle")       // evicted: unused for max-idle
	covDelFlowLimit  = newCoverage("revalidate_del_flow_limit") // evicted: over the flow limit
	covDelWildcarded = newCoverage("revalidate_del_wildcarded") // deleted: a change made the decision depend on bits the mask lacks
	covDelRecirc     = newCoverage("revalidate_del_recirc")     // deleted: its recirculation state is gone
	covDelMACStale   = newCoverage("revalidate_del_mac_stale")  // deleted: its packets would move a learned MAC address
	covModified      = newCoverage("revalidate_modified")       // re-translated to other actions in place
)

// adaptFlowLimit adjusts the limit in force after a revalidator pass over
// n megaflows that took d.
func (br *Bridge) adaptFlowLimit(n int, d time.Duration) {
	limit := int(br.flowLimit.Load())
	ms := int(d.Milliseconds())
	switch {
	case ms > 2000:
		limit /= ms / 1000
	case ms > 1300:
		limit = limit * 3 / 4
	case ms < 1000 && n > 2000 && limit < n*1000/max(ms, 1):
		limit += 1000
	}
	limit = min(br.cfg.FlowLimit, max(limit, minFlowLimit))
	br.flowLimit.Store(int64(limit))
}

// atFlowLimit reports whether an upcall may not install a megaflow.
func (br *Bridge) atFlowLimit() bool {
	return int64(br.dp.FlowCount()) >= br.flowLimit.Load()
}

// upcallCounters formats the per-reason counters for upcall/show.
func upcallCounters() string {
	var b strings.Builder
	b.WriteString("  upcalls       :")
	for _, c := range []*coverageCounter{covUpcallMiss, covUpcallAction, covUpcallFlowLimit, covUpcallRecircGone, covUpcallRaced} {
		fmt.Fprintf(&b, " (%s %d)", strings.TrimPrefix(c.name, "upcall_"), c.total())
	}
	b.WriteString("\n  evictions     :")
	for _, c := range []*coverageCounter{covDelIdle, covDelFlowLimit, covDelWildcarded, covDelRecirc, covDelMACStale} {
		fmt.Fprintf(&b, " (%s %d)", strings.TrimPrefix(c.name, "revalidate_del_"), c.total())
	}
	fmt.Fprintf(&b, "\n  modified      : %d\n", covModified.total())
	return b.String()
}
