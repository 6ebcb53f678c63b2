package ofproto

import (
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// This file holds what a configuration reload changes on a running
// bridge. Every change leaves the rest alone: connections that stay
// configured stay up, and flows are kept.

// SetControllers replaces the bridge's controllers: new ones start
// connecting, removed ones are disconnected, the others are untouched.
//
// As in Open vSwitch, a standalone bridge without controllers has a
// visible priority-0 NORMAL flow: it is removed when the first controller
// is configured and added back when the last one is removed. Other flows
// are kept.
func (br *Bridge) SetControllers(list []string) error {
	m := br.conns
	m.mu.Lock()
	had := len(m.remotes) > 0
	mode := m.failMode
	m.mu.Unlock()
	if err := m.SetControllers(list); err != nil {
		return err
	}
	m.mu.Lock()
	has := len(m.remotes) > 0
	m.mu.Unlock()
	if mode == FailStandalone && had != has {
		if has {
			br.delDefaultNormalFlow()
		} else {
			br.addDefaultNormalFlow()
		}
	}
	return nil
}

// delDefaultNormalFlow removes the flow addDefaultNormalFlow adds.
func (br *Bridge) delDefaultNormalFlow() {
	err := br.FlowMod(&ofp.FlowMod{
		Command:  ofp.FlowDeleteStrict,
		TableID:  0,
		Priority: 0,
		BufferID: ofp.NoBuffer,
		OutPort:  ofp.PortNormal,
		OutGroup: ofp.GroupAny,
	})
	if err != nil {
		br.log.WithError(err).Warn("removing the default NORMAL flow")
	}
}

// SetListeners replaces the bridge's listeners (ptcp:, pssl:, punix:).
// Removed listeners are closed with their connections; the management
// socket stays.
func (br *Bridge) SetListeners(list []string) error { return br.conns.SetListeners(list) }

// SetFailMode changes the fail mode. Switching from standalone to secure
// ends fail-open mode at once; the default NORMAL flow of a bridge without
// controllers is added or removed to match.
func (br *Bridge) SetFailMode(mode FailMode) {
	m := br.conns
	m.mu.Lock()
	old := m.failMode
	m.failMode = mode
	noControllers := len(m.remotes) == 0
	m.mu.Unlock()
	if old == mode {
		return
	}
	br.log.WithField("fail_mode", mode.String()).Info("fail mode changed")
	if noControllers {
		if mode == FailStandalone {
			br.addDefaultNormalFlow()
		} else {
			br.delDefaultNormalFlow()
		}
	}
	m.updateFailOpen()
}

// SetSSL replaces the TLS identity (re-reading the files). Connections
// already up keep the identity they were made with.
func (br *Bridge) SetSSL(c *SSLConfig) error {
	var id *tlsIdentity
	if c != nil {
		var err error
		if id, err = loadSSL(*c); err != nil {
			return err
		}
	}
	br.conns.mu.Lock()
	br.conns.tls = id
	br.conns.mu.Unlock()
	return nil
}

// ConnOptions are the connection settings a reload may change. They apply
// to connections made from then on (and, for MaxBackoff, to the next
// reconnect delay).
type ConnOptions struct {
	ProbeInterval time.Duration // 0: 5 s; negative: no probes
	MaxBackoff    time.Duration // 0: 8 s
	RateLimit     int           // packet-ins a second; 0: no limit
	BurstLimit    int           // 0: RateLimit/4
}

// SetConnOptions changes the connection settings.
func (br *Bridge) SetConnOptions(o ConnOptions) {
	if o.ProbeInterval == 0 {
		o.ProbeInterval = 5 * time.Second
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 8 * time.Second
	}
	m := br.conns
	m.probe.Store(int64(o.ProbeInterval))
	m.maxBackoff.Store(int64(o.MaxBackoff))
	m.mu.Lock()
	m.rate, m.burst = o.RateLimit, o.BurstLimit
	m.mu.Unlock()
}

// PortNumbers returns the bridge's ports (LOCAL excluded) by interface
// name.
func (br *Bridge) PortNumbers() map[string]uint32 {
	br.mu.RLock()
	defer br.mu.RUnlock()
	out := map[string]uint32{}
	for no, p := range br.ports {
		if no != ofp.PortLocal {
			out[p.info.Name] = no
		}
	}
	return out
}
