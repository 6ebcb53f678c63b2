package main

import (
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/govs/govs/ofproto"
)

// reload re-reads the configuration file (on SIGHUP) and applies what
// changed: bridges, ports, controllers and listeners added or removed,
// fail mode, connection settings, [ssl] files, the metrics endpoint and the
// log level. What is unchanged is left alone: connections stay up and flows
// are kept. A configuration that does not load is logged (file, line, key)
// and the running one stays. rundir and [lab] changes need a restart.
func (d *daemon) reload() {
	d.log.WithField("config", d.path).Info("SIGHUP: reloading the configuration")
	cfg, err := LoadConfig(d.path)
	if err != nil {
		d.log.WithError(err).Error("configuration not reloaded: keeping the running one")
		return
	}
	if err := d.apply(cfg); err != nil {
		d.log.WithError(err).Error("configuration partly applied")
		return
	}
	d.log.Info("configuration reloaded")
}

// apply makes the running daemon match cfg as far as it can without a
// restart. Errors are collected; each change is independent.
func (d *daemon) apply(cfg *Config) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	old := d.cfg
	var errs []error
	fail := func(err error) {
		d.log.WithError(err).Error("reload")
		errs = append(errs, err)
	}
	if cfg.Rundir != old.Rundir {
		d.log.Warn("reload: a new rundir needs a restart: keeping " + old.Rundir)
		cfg.Rundir = old.Rundir
	}
	if !reflect.DeepEqual(cfg.Lab, old.Lab) {
		d.log.Warn("reload: [lab] changes need a restart")
	}
	if cfg.Log.Level != old.Log.Level {
		d.logger.SetLevel(cfg.Log.Level.Level)
	}
	if cfg.Metrics != old.Metrics {
		if d.metrics != nil {
			d.metrics.Close()
			d.metrics = nil
		}
		if cfg.Metrics != "" {
			m, err := newMetricsServer(cfg.Metrics, d)
			if err != nil {
				fail(err)
			} else {
				d.metrics = m
			}
		}
	}
	sslChanged := !reflect.DeepEqual(cfg.SSL, old.SSL)

	byName := map[string]*ofproto.Bridge{}
	for _, br := range d.bridges {
		byName[br.Name()] = br
	}
	oldConf := map[string]*BridgeConf{}
	for i := range old.Bridge {
		oldConf[old.Bridge[i].Name] = &old.Bridge[i]
	}
	// Bridges removed.
	var kept []*ofproto.Bridge
	for _, br := range d.bridges {
		if !slices.ContainsFunc(cfg.Bridge, func(b BridgeConf) bool { return b.Name == br.Name() }) {
			d.log.WithField("bridge", br.Name()).Info("reload: bridge removed")
			br.Close()
			delete(byName, br.Name())
			continue
		}
		kept = append(kept, br)
	}
	d.bridges = kept
	for i := range cfg.Bridge {
		bc := &cfg.Bridge[i]
		br := byName[bc.Name]
		if br == nil {
			nb, err := ofproto.New(d.bridgeConfig(cfg, bc))
			if err != nil {
				fail(err)
				continue
			}
			d.log.WithField("bridge", bc.Name).Info("reload: bridge added")
			d.bridges = append(d.bridges, nb)
			continue
		}
		ob := oldConf[bc.Name]
		if bc.DatapathID != ob.DatapathID {
			d.log.WithField("bridge", bc.Name).Warn("reload: a new datapath_id needs a restart")
		}
		if bc.FlowLimit != ob.FlowLimit || bc.Workers != ob.Workers || (bc.MaxIdle == nil) != (ob.MaxIdle == nil) ||
			(bc.MaxIdle != nil && ob.MaxIdle != nil && *bc.MaxIdle != *ob.MaxIdle) {
			d.log.WithField("bridge", bc.Name).Warn("reload: a new flow_limit, max_idle or workers needs a restart")
		}
		if sslChanged {
			var s *ofproto.SSLConfig
			if cfg.SSL != nil {
				c := cfg.SSL.ofproto()
				s = &c
			}
			if err := br.SetSSL(s); err != nil {
				fail(fmt.Errorf("bridge %s: ssl: %w", bc.Name, err))
			}
		}
		br.SetConnOptions(connOptions(bc))
		if bc.FailMode != ob.FailMode {
			br.SetFailMode(bc.FailMode.FailMode)
		}
		d.applyPorts(br, bc, fail)
		if err := br.SetListeners(listenStrings(bc.Listen)); err != nil {
			fail(err)
		}
		if err := br.SetControllers(targetStrings(bc.Controllers)); err != nil {
			fail(err)
		}
	}
	// Keep the configuration order.
	slices.SortFunc(d.bridges, func(a, b *ofproto.Bridge) int {
		return slices.IndexFunc(cfg.Bridge, func(c BridgeConf) bool { return c.Name == a.Name() }) -
			slices.IndexFunc(cfg.Bridge, func(c BridgeConf) bool { return c.Name == b.Name() })
	})
	d.cfg = cfg
	return errors.Join(errs...)
}

// applyPorts adds and removes ports by name; a port whose ofport changed
// is re-added with the new number.
func (d *daemon) applyPorts(br *ofproto.Bridge, bc *BridgeConf, fail func(error)) {
	want := map[string]uint32{}
	for _, p := range bc.Port {
		want[p.Name] = p.OFPort
	}
	have := br.PortNumbers()
	for name, no := range have {
		w, ok := want[name]
		if ok && (w == 0 || w == no) {
			continue
		}
		d.log.WithField("bridge", bc.Name).WithField("port", name).Info("reload: port removed")
		if err := br.DelPort(no); err != nil {
			fail(err)
		}
		delete(have, name)
	}
	for _, p := range bc.Port {
		if _, ok := have[p.Name]; ok {
			continue
		}
		if _, err := br.AddPort(p.Name, p.OFPort); err != nil {
			fail(err)
		}
	}
}
