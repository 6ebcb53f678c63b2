package ofproto

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/govs/govs/datapath"
)

// Defaults of the MAC learning table, as in Open vSwitch.
const (
	macMaxAge  = 300 * time.Second
	macMaxSize = 8192
)

// macTable is the learning table of the NORMAL action: which port each
// (VLAN, MAC) was last seen on. It has its own lock because translations
// run concurrently under the bridge's read lock.
type macTable struct {
	mu      sync.Mutex
	entries map[macKey]*macEntry // guarded by mu
}

type macKey struct {
	vlan uint16
	mac  uint64
}

type macEntry struct {
	port uint32
	seen time.Time
}

func newMACTable() *macTable {
	return &macTable{entries: map[macKey]*macEntry{}}
}

// learn records that mac was seen on port in vlan. It reports whether this
// changed a forwarding decision (a new address or one that moved), in which
// case megaflows that used NORMAL must be revalidated.
func (t *macTable) learn(vlan uint16, mac uint64, port uint32, now time.Time) bool {
	t.mu.Lock()
	k := macKey{vlan, mac}
	e := t.entries[k]
	changed := false
	switch {
	case e == nil:
		if len(t.entries) >= macMaxSize {
			t.evictOldestLocked()
		}
		t.entries[k] = &macEntry{port: port, seen: now}
		changed = true
	case e.port != port:
		e.port, e.seen = port, now
		changed = true
	default:
		e.seen = now
	}
	t.mu.Unlock()
	return changed
}

// refresh marks an entry as seen (packets that hit a NORMAL megaflow keep
// their source address alive without an upcall).
func (t *macTable) refresh(vlan uint16, mac uint64, port uint32, now time.Time) {
	t.mu.Lock()
	if e := t.entries[macKey{vlan, mac}]; e != nil && e.port == port {
		e.seen = now
	}
	t.mu.Unlock()
}

// lookup returns the port mac was learned on in vlan.
func (t *macTable) lookup(vlan uint16, mac uint64) (uint32, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.entries[macKey{vlan, mac}]; e != nil {
		return e.port, true
	}
	return 0, false
}

func (t *macTable) evictOldestLocked() {
	var oldest macKey
	var ot time.Time
	for k, e := range t.entries {
		if ot.IsZero() || e.seen.Before(ot) {
			oldest, ot = k, e.seen
		}
	}
	delete(t.entries, oldest)
}

// expire removes entries not seen for macMaxAge and entries on port
// (when removePort is set); it reports how many it removed (the caller
// revalidates megaflows that used NORMAL when any were).
func (t *macTable) expire(now time.Time, port uint32, removePort bool) int {
	t.mu.Lock()
	n := 0
	for k, e := range t.entries {
		if now.Sub(e.seen) > macMaxAge || (removePort && e.port == port) {
			delete(t.entries, k)
			n++
		}
	}
	t.mu.Unlock()
	return n
}

// show formats the table as `ovs-appctl fdb/show` does.
func (t *macTable) show(now time.Time) string {
	t.mu.Lock()
	type row struct {
		port uint32
		vlan uint16
		mac  uint64
		age  int
	}
	rows := make([]row, 0, len(t.entries))
	for k, e := range t.entries {
		rows = append(rows, row{e.port, k.vlan, k.mac, int(now.Sub(e.seen) / time.Second)})
	}
	t.mu.Unlock()
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].port != rows[j].port {
			return rows[i].port < rows[j].port
		}
		return rows[i].mac < rows[j].mac
	})
	s := " port  VLAN  MAC                Age\n"
	for _, r := range rows {
		s += fmt.Sprintf("%5s  %4d  %s  %3d\n", portName(r.port), r.vlan, formatMAC(r.mac), r.age)
	}
	return s
}

func isMulticastMAC(mac uint64) bool { return mac&(1<<40) != 0 }

func formatMAC(mac uint64) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x",
		byte(mac>>40), byte(mac>>32), byte(mac>>24), byte(mac>>16), byte(mac>>8), byte(mac))
}

// normal translates the NORMAL action: forward like a MAC-learning switch
// on the packet's VLAN, learning its source address.
func (x *xlate) normal() {
	x.usedNormal = true
	datapath.FieldEthSrc.Exact(&x.wc)
	datapath.FieldEthDst.Exact(&x.wc)
	datapath.FieldVlanTCI.Or(&x.wc, 0x1fff)
	tci := datapath.FieldVlanTCI.Get(&x.flow)
	vlan := uint16(tci & 0x0fff)
	src := datapath.FieldEthSrc.Get(&x.flow)
	dst := datapath.FieldEthDst.Get(&x.flow)
	if !isMulticastMAC(src) {
		x.normalLearned = append(x.normalLearned, macKey{vlan, src})
		if x.learn && x.br.macs.learn(vlan, src, x.inPort, time.Now()) {
			x.macMoved = true
		}
	}
	if !isMulticastMAC(dst) {
		if port, ok := x.br.macs.lookup(vlan, dst); ok {
			x.tracef("forwarding to learned port %s", portName(port))
			x.outputPort(port, false)
			return
		}
	}
	x.tracef("no learned MAC for destination, flooding")
	x.flood(true)
}
