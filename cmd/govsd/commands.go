package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/govs/govs/ofproto"
)

// registerCommands installs the control socket's commands: Open vSwitch's
// ovs-appctl commands with their output formats, and `show`.
//
// To add one, call d.ctl.register(name, usage, minArgs, maxArgs, fn): fn
// gets the arguments and returns the text to print or an error (printed by
// ovs-appctl on stderr, exit status 2). d.bridge(args) resolves a bridge
// argument, d.snapshot() lists the bridges.
func (d *daemon) registerCommands() {
	c := d.ctl
	c.register("version", "", 0, 0, func([]string) (string, error) {
		return fmt.Sprintf("govsd (govs) %s\n", ofproto.Version), nil
	})
	c.register("exit", "[--cleanup]", 0, 1, func([]string) (string, error) {
		select {
		case d.exit <- struct{}{}:
		default:
		}
		return "", nil
	})
	c.register("show", "", 0, 0, func([]string) (string, error) {
		var b strings.Builder
		for _, br := range d.snapshot() {
			b.WriteString(br.Show())
		}
		return b.String(), nil
	})
	c.register("dpctl/show", "[DP]", 0, 2, func(args []string) (string, error) {
		var b strings.Builder
		err := d.forDatapaths(dropOptions(args), func(br *ofproto.Bridge) { b.WriteString(br.DPShow()) })
		return b.String(), err
	})
	c.register("dpctl/del-flows", "[DP]", 0, 1, func(args []string) (string, error) {
		return "", d.forDatapaths(dropOptions(args), func(br *ofproto.Bridge) { br.DPDelFlows() })
	})
	c.register("dpctl/dump-flows", "[-m] [DP]", 0, 3, func(args []string) (string, error) {
		var b strings.Builder
		err := d.forDatapaths(dropOptions(args), func(br *ofproto.Bridge) { b.WriteString(br.DPDumpFlows()) })
		return b.String(), err
	})
	c.register("dpif/show", "", 0, 0, func([]string) (string, error) {
		var b strings.Builder
		for _, br := range d.snapshot() {
			b.WriteString(br.DPIFShow())
		}
		return b.String(), nil
	})
	c.register("dpif-netdev/pmd-stats-show", "[DP]", 0, 3, func(args []string) (string, error) {
		var b strings.Builder
		err := d.forDatapaths(dropOptions(args), func(br *ofproto.Bridge) { b.WriteString(br.PMDStatsShow()) })
		return b.String(), err
	})
	c.register("dpif-netdev/pmd-stats-clear", "[DP]", 0, 3, func(args []string) (string, error) {
		return "", d.forDatapaths(dropOptions(args), func(br *ofproto.Bridge) { br.PMDStatsClear() })
	})
	c.register("upcall/show", "", 0, 0, func([]string) (string, error) {
		var b strings.Builder
		for _, br := range d.snapshot() {
			b.WriteString(br.UpcallShow())
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
	c.register("ofproto/trace", "[BRIDGE] FLOW", 1, 3, d.ofprotoTrace)
	c.register("coverage/show", "", 0, 0, func([]string) (string, error) {
		return ofproto.CoverageShow(), nil
	})
	c.register("vlog/set", "{spec | PATTERN:destination:pattern}", 0, 8, d.vlogSet)
	c.register("vlog/list", "", 0, 0, func([]string) (string, error) { return d.vlogList(), nil })
	c.register("vlog/reopen", "", 0, 0, func([]string) (string, error) {
		return "", nil // govsd logs to stderr: nothing to reopen
	})
}

// ofprotoTrace implements `ofproto/trace [BRIDGE] FLOW`: with one bridge
// the bridge may be left out. Options and packets (-generate, a hex
// packet) are refused: a govs trace never has side effects.
func (d *daemon) ofprotoTrace(args []string) (string, error) {
	if len(args) == 3 || (len(args) == 2 && strings.HasPrefix(args[1], "-")) {
		return "", fmt.Errorf("%s: govs traces a flow without side effects; packets and -generate are not supported", args[len(args)-1])
	}
	br, err := d.bridge(args[:len(args)-1])
	if err != nil {
		return "", err
	}
	return br.Trace(args[len(args)-1])
}

// dropOptions removes "-m", "--names" and other options that Open vSwitch
// accepts before a datapath name and that change nothing here.
func dropOptions(args []string) []string {
	return slices.DeleteFunc(slices.Clone(args), func(a string) bool { return strings.HasPrefix(a, "-") })
}

// vlogModules are the names vlog/set accepts for modules. govsd has one log
// level for everything, so setting any module sets it for all.
var vlogModules = []string{"govsd", "ofproto", "connmgr", "datapath", "vport", "unixctl"}

// vlogLevels maps Open vSwitch's level names to logrus levels ("off" keeps
// only panics).
var vlogLevels = map[string]logrus.Level{
	"off": logrus.PanicLevel, "emer": logrus.FatalLevel, "err": logrus.ErrorLevel,
	"warn": logrus.WarnLevel, "info": logrus.InfoLevel, "dbg": logrus.DebugLevel,
}

// vlogSet implements `vlog/set`: each argument is words separated by
// colons, each word a module (or ANY), a destination (console, syslog,
// file or ANY) or a level (off, emer, err, warn, info, dbg), as with
// Open vSwitch; e.g. `vlog/set dbg`, `vlog/set ANY:console:info`. govsd
// logs to the console (stderr) only; the level applies to every module.
// `vlog/set PATTERN:...` is accepted and ignored.
func (d *daemon) vlogSet(args []string) (string, error) {
	if len(args) == 0 {
		args = []string{"ANY:ANY:dbg"} // as ovs-appctl vlog/set with no argument
	}
	for _, arg := range args {
		if strings.HasPrefix(strings.ToUpper(arg), "PATTERN:") {
			continue
		}
		var level *logrus.Level
		for _, w := range strings.FieldsFunc(arg, func(r rune) bool { return r == ':' || r == ' ' || r == ',' }) {
			lw := strings.ToLower(w)
			if lv, ok := vlogLevels[lw]; ok {
				level = &lv
				continue
			}
			switch lw {
			case "any", "console", "syslog", "file":
				continue
			}
			if !slices.Contains(vlogModules, lw) {
				return "", fmt.Errorf("unknown module, facility, or level \"%s\"", w)
			}
		}
		if level != nil {
			d.logger.SetLevel(*level)
			d.log.WithField("level", d.logger.GetLevel().String()).Info("log level changed (vlog/set)")
		}
	}
	return "", nil
}

// vlogList implements `vlog/list` in Open vSwitch's layout.
func (d *daemon) vlogList() string {
	name := map[logrus.Level]string{
		logrus.PanicLevel: "OFF", logrus.FatalLevel: "EMER", logrus.ErrorLevel: "ERR",
		logrus.WarnLevel: "WARN", logrus.InfoLevel: "INFO", logrus.DebugLevel: "DBG", logrus.TraceLevel: "DBG",
	}[d.logger.GetLevel()]
	var b strings.Builder
	b.WriteString("                 console    syslog    file\n")
	b.WriteString("                 -------    ------    ------\n")
	for _, m := range vlogModules {
		fmt.Fprintf(&b, "%-16s  %4s       %4s       %4s\n", m, name, "OFF", "OFF")
	}
	return b.String()
}
