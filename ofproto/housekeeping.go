package ofproto

import (
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// housekeeping runs the bridge's periodic work every second: pushing
// megaflow statistics to rules and tables (and expiring idle megaflows),
// rule idle and hard timeouts, MAC aging, and polling link state (the link
// monitor reports changes at once; polling catches ports it cannot see,
// such as memory ports). Owned by the bridge; stopped by Close.
func (br *Bridge) housekeeping() {
	defer br.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-br.stop:
			return
		case now := <-t.C:
			br.pushStatsEvict(true)
			br.expireRules(now)
			if br.macs.expire(now, 0, false) > 0 {
				br.macsChanged()
			}
			br.checkLinks()
		}
	}
}

// watchLinks turns kernel link events into PORT_STATUS messages. Owned by
// the bridge; it ends when the link monitor is closed.
func (br *Bridge) watchLinks() {
	defer br.wg.Done()
	for {
		select {
		case <-br.stop:
			return
		case ev, ok := <-br.links.Events():
			if !ok {
				return
			}
			if !ev.Deleted {
				br.checkLinks()
			}
		}
	}
}

// checkLinks re-reads every port's link state and reports changes with
// PORT_STATUS. The write lock is taken only when something changed.
func (br *Bridge) checkLinks() {
	br.mu.RLock()
	changed := false
	for _, no := range br.portOrder {
		if op := br.ports[no]; portState(op.vp.State()) != op.state {
			changed = true
			break
		}
	}
	br.mu.RUnlock()
	if !changed {
		return
	}
	br.mu.Lock()
	defer br.mu.Unlock()
	for _, no := range br.portOrder {
		op := br.ports[no]
		st := portState(op.vp.State())
		if st == op.state {
			continue
		}
		op.state = st
		br.log.WithField("port", op.info.Name).WithField("link", st&ofp.PortStateLinkDown == 0).Info("link state changed")
		br.invalidateLocked()
		br.conns.portStatus(ofp.PortReasonModify, br.portDesc(op))
	}
}

// updateFailOpen switches standalone fail-open mode on while a bridge that
// has controllers configured (active connections) has no controller
// connected, and off when one connects (actively or through a listener).
// A standalone bridge without configured controllers instead has a visible
// NORMAL flow from the start, as in Open vSwitch.
//
// The connection manager decides (connMgr.updateFailOpen): it owns the
// controller list, which can change at run time.
func (br *Bridge) updateFailOpen() {
	if br.conns != nil {
		br.conns.updateFailOpen()
	}
}
