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
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

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
	d := &daemon{cfg: cfg, log: entry, exit: make(chan struct{}, 1)}
	if err := d.start(); err != nil {
		entry.WithError(err).Error("startup failed")
		d.stop()
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sigs:
		entry.WithField("signal", s.String()).Info("shutting down")
	case <-d.exit:
		entry.Info("exit requested: shutting down")
	}
	d.stop()
	return 0
}

// daemon is a running govsd.
type daemon struct {
	cfg     *Config
	log     *logrus.Entry
	lab     *lab
	bridges []*ofproto.Bridge
	ctl     *unixctl
	exit    chan struct{}
}

func (d *daemon) start() error {
	if err := os.MkdirAll(d.cfg.Rundir, 0o755); err != nil {
		return fmt.Errorf("rundir: %w", err)
	}
	if d.cfg.Lab != nil {
		d.lab = &lab{cfg: d.cfg.Lab, log: d.log}
		if err := d.lab.Up(); err != nil {
			return err
		}
	}
	for _, bc := range d.cfg.Bridge {
		bcfg := ofproto.Config{
			Name:       bc.Name,
			DatapathID: uint64(bc.DatapathID),
			FailMode:   bc.FailMode.FailMode,
			Rundir:     d.cfg.Rundir,
			Log:        d.log,
		}
		for _, c := range bc.Controllers {
			bcfg.Controllers = append(bcfg.Controllers, c.String())
		}
		for _, l := range bc.Listen {
			bcfg.Listen = append(bcfg.Listen, l.String())
		}
		for _, p := range bc.Port {
			bcfg.Ports = append(bcfg.Ports, ofproto.PortConfig{Name: p.Name, OFPort: p.OFPort})
		}
		br, err := ofproto.New(bcfg)
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
	d.log.WithField("rundir", d.cfg.Rundir).Info("govsd running")
	return nil
}

// stop undoes start, in reverse order.
func (d *daemon) stop() {
	if d.ctl != nil {
		d.ctl.Close()
	}
	for i := len(d.bridges) - 1; i >= 0; i-- {
		d.bridges[i].Close()
	}
	if d.lab != nil {
		d.lab.Down()
	}
}

// bridge finds a bridge by name; with no name and one bridge, that one.
func (d *daemon) bridge(args []string) (*ofproto.Bridge, error) {
	if len(args) == 0 {
		if len(d.bridges) == 1 {
			return d.bridges[0], nil
		}
		return nil, errors.New("several bridges: name one")
	}
	name := strings.TrimPrefix(args[0], "govs@")
	for _, br := range d.bridges {
		if br.Name() == name {
			return br, nil
		}
	}
	return nil, fmt.Errorf("no bridge named %s", args[0])
}

// registerCommands installs the control socket's commands.
func (d *daemon) registerCommands() {
	c := d.ctl
	c.register("version", "", 0, 0, func([]string) (string, error) {
		return fmt.Sprintf("govsd (govs) %s\n", ofproto.Version), nil
	})
	c.register("exit", "", 0, 1, func([]string) (string, error) {
		select {
		case d.exit <- struct{}{}:
		default:
		}
		return "", nil
	})
	c.register("dpctl/show", "[DP]", 0, 1, func(args []string) (string, error) {
		var b strings.Builder
		for _, br := range d.bridges {
			if len(args) == 0 || strings.TrimPrefix(args[0], "govs@") == br.Name() {
				b.WriteString(br.DPShow())
			}
		}
		if b.Len() == 0 {
			return "", fmt.Errorf("no datapath named %s", args[0])
		}
		return b.String(), nil
	})
	c.register("dpctl/del-flows", "[DP]", 0, 1, func(args []string) (string, error) {
		for _, br := range d.bridges {
			if len(args) == 0 || strings.TrimPrefix(args[0], "govs@") == br.Name() {
				br.DPDelFlows()
			}
		}
		return "", nil
	})
	c.register("dpctl/dump-flows", "[DP]", 0, 1, func(args []string) (string, error) {
		var b strings.Builder
		for _, br := range d.bridges {
			if len(args) == 0 || strings.TrimPrefix(args[0], "govs@") == br.Name() {
				b.WriteString(br.DPDumpFlows())
			}
		}
		return b.String(), nil
	})
	c.register("fdb/show", "BRIDGE", 1, 1, func(args []string) (string, error) {
		br, err := d.bridge(args)
		if err != nil {
			return "", err
		}
		return br.FDBShow(), nil
	})
	c.register("show", "", 0, 0, func([]string) (string, error) {
		var b strings.Builder
		for _, br := range d.bridges {
			b.WriteString(br.Show())
		}
		return b.String(), nil
	})
}
