package ofproto

import (
	"slices"
	"strings"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofp"
	"github.com/govs/govs/vport"
)

// BridgeMetrics is a snapshot of a bridge's counters for monitoring (govsd
// serves them in Prometheus' text format).
type BridgeMetrics struct {
	Name     string
	FailOpen bool
	Datapath datapath.Stats
	Ports    []PortMetrics
	Tables   []TableMetrics // tables with rules or lookups
	Conns    []ConnMetrics
}

// PortMetrics are one port's counters.
type PortMetrics struct {
	Name   string
	OFPort string // as ovs-ofctl prints it ("1", "LOCAL")
	Stats  vport.Stats
	LinkUp bool
}

// TableMetrics are one OpenFlow table's counters.
type TableMetrics struct {
	ID      uint8
	Rules   int
	Lookups uint64
	Matches uint64
}

// ConnMetrics are one controller's or connection's counters. A configured
// controller that is not connected has State BACKOFF or CONNECTING and
// zero counters.
type ConnMetrics struct {
	Target    string // the controller target, or the listener's target
	Peer      string // the peer's address (accepted connections)
	Kind      string // "controller", "listener" or "management"
	State     string
	Connected bool
	Role      string
	Connects  int // connections made (controllers)

	RxMessages, TxMessages uint64
	PacketIns              uint64 // offered to the connection
	PacketInsSent          uint64 // through the rate limit (all, without one)
	PacketInsRateDropped   uint64 // dropped by the rate limit
	PacketInsQueueDropped  uint64 // dropped on a full send queue
	AsyncDropped           uint64 // all asynchronous messages dropped on a full send queue
}

// Metrics returns the bridge's counters.
func (br *Bridge) Metrics() BridgeMetrics {
	out := BridgeMetrics{Name: br.cfg.Name, FailOpen: br.failOpen.Load(), Datapath: br.dp.Stats()}
	br.pushStats()
	br.mu.RLock()
	for _, no := range br.portOrder {
		p := br.ports[no]
		out.Ports = append(out.Ports, PortMetrics{Name: p.info.Name, OFPort: portName(no), Stats: p.vp.Stats(),
			LinkUp: p.state&ofp.PortStateLinkDown == 0})
	}
	for _, t := range br.tables {
		n := len(t.cls.rules())
		l, m := t.lookups.Load(), t.matches.Load()
		if n > 0 || l > 0 {
			out.Tables = append(out.Tables, TableMetrics{ID: t.id, Rules: n, Lookups: l, Matches: m})
		}
	}
	br.mu.RUnlock()

	m := br.conns
	m.mu.Lock()
	remotes := make([]*remote, 0, len(m.remotes))
	for _, r := range m.remotes {
		remotes = append(remotes, r)
	}
	m.mu.Unlock()
	slices.SortFunc(remotes, func(a, b *remote) int { return strings.Compare(a.target.String(), b.target.String()) })
	for _, r := range remotes {
		r.mu.Lock()
		cm := ConnMetrics{Target: r.target.String(), Kind: "controller", State: r.state, Connects: r.connects}
		c := r.conn
		r.mu.Unlock()
		if c != nil {
			if c.echoPending.Load() {
				cm.State = stateIdle
			}
			c.fillMetrics(&cm)
		}
		out.Conns = append(out.Conns, cm)
	}
	for _, c := range m.snapshot() {
		if c.origin == nil {
			continue
		}
		kind := "listener"
		if c.kind == connService {
			kind = "management"
		}
		cm := ConnMetrics{Target: c.origin.target.String(), Peer: c.name, Kind: kind, State: stateActive}
		c.fillMetrics(&cm)
		out.Conns = append(out.Conns, cm)
	}
	return out
}

func (c *conn) fillMetrics(cm *ConnMetrics) {
	cm.Connected = c.handshaken.Load()
	c.mu.Lock()
	cm.Role = roleName(c.role)
	c.mu.Unlock()
	cm.RxMessages, cm.TxMessages = c.rxMsgs.Load(), c.txMsgs.Load()
	cm.PacketIns = c.pinOffered.Load()
	cm.PacketInsSent = cm.PacketIns
	if c.pins != nil {
		cm.PacketInsSent = c.pins.sent.Load()
		cm.PacketInsRateDropped = c.pins.dropped.Load()
	}
	cm.PacketInsQueueDropped = c.pinOverflow.Load()
	cm.AsyncDropped = c.dropped.Load()
}

// CoverageTotals returns the coverage counters (coverage/show) by name.
func CoverageTotals() map[string]uint64 { return coverageTotals() }
