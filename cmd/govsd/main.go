// Command govsd is the govs switch daemon: it reads config.toml, creates the
// bridges (and the [lab] hosts, if any), serves OpenFlow on every bridge's
// management socket and listeners, connects to the configured controllers,
// and serves `ovs-appctl`/`govs` commands on <rundir>/govsd.ctl.
//
// SIGINT and SIGTERM shut it down cleanly: connections and sockets closed,
// socket files and lab hosts removed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/govs/govs/ofproto"
)

func main() {
	os.Exit(realMain())
}

func realMain() int {
	configPath := flag.String("config", "config.toml", "configuration `file`")
	logLevel := flag.String("log-level", "", "log `level` (overrides [log] level): panic, fatal, error, warn, info, debug, trace")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: govsd -config FILE [-log-level LEVEL]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		return 2
	}
	cfg, err := LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "govsd: %v\n", err)
		return 2
	}
	log := logrus.New()
	log.SetOutput(os.Stderr)
	log.SetLevel(cfg.Log.Level.Level)
	if *logLevel != "" {
		lv, err := logrus.ParseLevel(*logLevel)
		if err != nil {
			fmt.Fprintf(os.Stderr, "govsd: -log-level: %v\n", err)
			return 2
		}
		log.SetLevel(lv)
	}
	entry := logrus.NewEntry(log)
	d := &daemon{cfg: cfg, path: *configPath, logger: log, log: entry, levelFlag: *logLevel != "",
		exit: make(chan struct{}, 1), stopCh: make(chan struct{})}
	// Signals that come during start-up are handled once it is done (a
	// SIGTERM then still removes what start made).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := d.start(); err != nil {
		entry.WithError(err).Error("startup failed")
		d.stop()
		return 1
	}
	for {
		select {
		case s := <-sigs:
			if s == syscall.SIGHUP {
				d.reload()
				continue
			}
			entry.WithField("signal", s.String()).Info("shutting down")
		case <-d.exit:
			entry.Info("exit requested: shutting down")
		}
		break
	}
	d.stop()
	return 0
}

// daemon is a running govsd.
type daemon struct {
	path      string // the configuration file, for reloads
	logger    *logrus.Logger
	log       *logrus.Entry
	levelFlag bool // -log-level given: [log] level is not applied on reload
	lab       *lab
	ctl       *unixctl
	exit      chan struct{}

	mu      sync.RWMutex
	cfg     *Config           // guarded by mu
	bridges []*ofproto.Bridge // guarded by mu; in configuration order
	metrics *metricsServer    // guarded by mu

	madeRundir bool // start created the rundir: stop removes it if empty

	stopCh chan struct{} // closed by stop: ends the coverage sampler
	wg     sync.WaitGroup
}

// bridgeConfig turns a [[bridge]] into the bridge's configuration.
func (d *daemon) bridgeConfig(cfg *Config, bc *BridgeConf) ofproto.Config {
	bcfg := ofproto.Config{
		Name:       bc.Name,
		DatapathID: uint64(bc.DatapathID),
		FailMode:   bc.FailMode.FailMode,
		Rundir:     cfg.Rundir,
		Log:        d.log,
	}
	o := connOptions(bc)
	bcfg.ProbeInterval, bcfg.MaxBackoff = o.ProbeInterval, o.MaxBackoff
	bcfg.RateLimit, bcfg.BurstLimit = o.RateLimit, o.BurstLimit
	bcfg.FlowLimit = bc.FlowLimit
	bcfg.Workers = bc.Workers
	if bc.MaxIdle != nil {
		bcfg.MaxIdle = bc.MaxIdle.Duration
	}
	if cfg.SSL != nil {
		s := cfg.SSL.ofproto()
		bcfg.SSL = &s
	}
	bcfg.Controllers = targetStrings(bc.Controllers)
	bcfg.Listen = listenStrings(bc.Listen)
	for _, p := range bc.Port {
		bcfg.Ports = append(bcfg.Ports, ofproto.PortConfig{Name: p.Name, OFPort: p.OFPort})
	}
	return bcfg
}

// connOptions returns a bridge's connection settings.
func connOptions(bc *BridgeConf) ofproto.ConnOptions {
	var o ofproto.ConnOptions
	if bc.ProbeInterval != nil {
		o.ProbeInterval = bc.ProbeInterval.Duration
		if o.ProbeInterval == 0 {
			o.ProbeInterval = -1 // "0": no probes
		}
	}
	if bc.MaxBackoff != nil {
		o.MaxBackoff = bc.MaxBackoff.Duration
	}
	o.RateLimit, o.BurstLimit = bc.RateLimit, bc.BurstLimit
	return o
}

func targetStrings(l []ControllerTarget) []string {
	out := make([]string, len(l))
	for i, t := range l {
		out[i] = t.String()
	}
	return out
}

func listenStrings(l []ListenTarget) []string {
	out := make([]string, len(l))
	for i, t := range l {
		out[i] = t.String()
	}
	return out
}

func (d *daemon) start() error {
	if _, err := os.Stat(d.cfg.Rundir); errors.Is(err, fs.ErrNotExist) {
		d.madeRundir = true
	}
	if err := os.MkdirAll(d.cfg.Rundir, 0o755); err != nil {
		return fmt.Errorf("rundir: %w", err)
	}
	if d.cfg.Lab != nil {
		d.lab = &lab{cfg: d.cfg.Lab, log: d.log}
		if err := d.lab.Up(); err != nil {
			return err
		}
	}
	for i := range d.cfg.Bridge {
		br, err := ofproto.New(d.bridgeConfig(d.cfg, &d.cfg.Bridge[i]))
		if err != nil {
			return err
		}
		d.bridges = append(d.bridges, br)
	}
	ctl, err := newUnixctl(filepath.Join(d.cfg.Rundir, "govsd.ctl"), d.log)
	if err != nil {
		return err
	}
	d.ctl = ctl
	d.registerCommands()
	if d.cfg.Metrics != "" {
		m, err := newMetricsServer(d.cfg.Metrics, d)
		if err != nil {
			return err
		}
		d.metrics = m
	}
	d.wg.Add(1)
	go d.sampleCoverage()
	d.log.WithField("rundir", d.cfg.Rundir).Info("govsd running")
	return nil
}

// sampleCoverage feeds the coverage/show rates every 5 seconds until stop.
func (d *daemon) sampleCoverage() {
	defer d.wg.Done()
	ofproto.CoverageRun(time.Now())
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-d.stopCh:
			return
		case now := <-t.C:
			ofproto.CoverageRun(now)
		}
	}
}

// stop undoes start, in reverse order.
func (d *daemon) stop() {
	close(d.stopCh)
	d.wg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.metrics != nil {
		d.metrics.Close()
	}
	if d.ctl != nil {
		d.ctl.Close()
	}
	for i := len(d.bridges) - 1; i >= 0; i-- {
		d.bridges[i].Close()
	}
	if d.lab != nil {
		d.lab.Down()
	}
	if d.madeRundir {
		os.Remove(d.cfg.Rundir) // only if empty: files someone else put there stay
	}
}

// snapshot returns the bridges.
func (d *daemon) snapshot() []*ofproto.Bridge {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return append([]*ofproto.Bridge(nil), d.bridges...)
}

// bridge finds a bridge by name; with no name and one bridge, that one.
func (d *daemon) bridge(args []string) (*ofproto.Bridge, error) {
	bridges := d.snapshot()
	if len(args) == 0 {
		if len(bridges) == 1 {
			return bridges[0], nil
		}
		return nil, errors.New("several bridges: name one")
	}
	name := strings.TrimPrefix(args[0], "govs@")
	for _, br := range bridges {
		if br.Name() == name {
			return br, nil
		}
	}
	return nil, fmt.Errorf("no bridge named %s", args[0])
}

// forDatapaths runs fn on the bridge named by args[0] ("br0" or
// "govs@br0"), or on every bridge without an argument.
func (d *daemon) forDatapaths(args []string, fn func(*ofproto.Bridge)) error {
	found := false
	for _, br := range d.snapshot() {
		if len(args) == 0 || strings.TrimPrefix(args[0], "govs@") == br.Name() {
			fn(br)
			found = true
		}
	}
	if !found && len(args) > 0 {
		return fmt.Errorf("no datapath named %s", args[0])
	}
	return nil
}
