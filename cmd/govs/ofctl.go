package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/govs/govs/ofproto/ofctl"
	"github.com/govs/govs/ofproto/ofp"
)

// govs ofctl: ovs-ofctl's commands, in its syntax and with its output,
// spoken over OpenFlow 1.3 to a bridge's management socket (or any
// OpenFlow listener), for machines without Open vSwitch.

// ofctlCommand is one `govs ofctl` command.
type ofctlCommand struct {
	name    string
	args    string // usage of the arguments after the switch
	minArgs int
	maxArgs int
	run     func(c *ofctl.Client, o *ofctlOpts, args []string) error
}

// ofctlOpts are the options given on the command line.
type ofctlOpts struct {
	strict bool
	out    io.Writer
}

var ofctlCommands = []ofctlCommand{
	{"show", "", 0, 0, func(c *ofctl.Client, o *ofctlOpts, _ []string) error {
		return printTransacts(c, o, &ofp.FeaturesRequest{}, mp(&ofp.PortDescRequest{}), &ofp.GetConfigRequest{})
	}},
	{"dump-desc", "", 0, 0, func(c *ofctl.Client, o *ofctlOpts, _ []string) error {
		return printTransacts(c, o, mp(&ofp.DescRequest{}))
	}},
	{"dump-tables", "", 0, 0, func(c *ofctl.Client, o *ofctlOpts, _ []string) error {
		return printTransacts(c, o, mp(&ofp.TableStatsRequest{}))
	}},
	{"dump-table-features", "", 0, 0, func(c *ofctl.Client, o *ofctlOpts, _ []string) error {
		replies, err := c.Transact(mp(&ofp.TableFeaturesRequest{}))
		if err != nil {
			return err
		}
		var all []ofp.TableFeatures
		for _, r := range replies {
			_, m, err := ofp.Decode(r)
			if err != nil {
				fmt.Fprint(o.out, ofctl.FormatMessage(r))
				return err
			}
			if tf, ok := m.(*ofp.MultipartReply).Body.(*ofp.TableFeaturesReply); ok {
				all = append(all, tf.Features...)
			}
		}
		fmt.Fprint(o.out, ofctl.FormatTableFeatures(all))
		return nil
	}},
	{"dump-ports", "[PORT]", 0, 1, func(c *ofctl.Client, o *ofctlOpts, args []string) error {
		port := ofp.PortAny
		if len(args) > 0 {
			p, err := ofctl.ParsePort(args[0])
			if err != nil {
				return err
			}
			port = p
		}
		return printTransacts(c, o, mp(&ofp.PortStatsRequest{PortNo: port}))
	}},
	{"dump-ports-desc", "", 0, 0, func(c *ofctl.Client, o *ofctlOpts, _ []string) error {
		return printTransacts(c, o, mp(&ofp.PortDescRequest{}))
	}},
	{"dump-flows", "[FLOW]", 0, 1, func(c *ofctl.Client, o *ofctlOpts, args []string) error {
		r, err := ofctl.ParseFlowStatsRequest(strings.Join(args, ","))
		if err != nil {
			return err
		}
		return printTransacts(c, o, mp(r))
	}},
	{"dump-aggregate", "[FLOW]", 0, 1, func(c *ofctl.Client, o *ofctlOpts, args []string) error {
		r, err := ofctl.ParseFlowStatsRequest(strings.Join(args, ","))
		if err != nil {
			return err
		}
		return printTransacts(c, o, mp(&ofp.AggregateStatsRequest{FlowStatsRequest: *r}))
	}},
	{"add-flow", "FLOW", 1, 1, flowMod(ofp.FlowAdd)},
	{"add-flows", "FILE", 1, 1, flowFile(ofp.FlowAdd)},
	{"mod-flows", "FLOW", 1, 1, flowMod(ofp.FlowModify)},
	{"del-flows", "[FLOW]", 0, 1, flowMod(ofp.FlowDelete)},
	{"dump-groups", "[GROUP]", 0, 1, func(c *ofctl.Client, o *ofctlOpts, _ []string) error {
		return printTransacts(c, o, mp(&ofp.GroupDescRequest{}))
	}},
	{"dump-group-stats", "[GROUP]", 0, 1, func(c *ofctl.Client, o *ofctlOpts, args []string) error {
		gm, err := ofctl.ParseGroup(strings.Join(args, ","), ofp.GroupDelete)
		if err != nil {
			return err
		}
		return printTransacts(c, o, mp(&ofp.GroupStatsRequest{GroupID: gm.GroupID}))
	}},
	{"dump-group-features", "", 0, 0, func(c *ofctl.Client, o *ofctlOpts, _ []string) error {
		return printTransacts(c, o, mp(&ofp.GroupFeaturesRequest{}))
	}},
	{"add-group", "GROUP", 1, 1, groupMod(ofp.GroupAdd)},
	{"add-groups", "FILE", 1, 1, groupFile(ofp.GroupAdd)},
	{"mod-group", "GROUP", 1, 1, groupMod(ofp.GroupModify)},
	{"del-groups", "[GROUP]", 0, 1, groupMod(ofp.GroupDelete)},
	{"dump-meters", "[METER]", 0, 1, func(c *ofctl.Client, o *ofctlOpts, args []string) error {
		id, err := ofctl.ParseMeterID(strings.Join(args, ","))
		if err != nil {
			return err
		}
		return printTransacts(c, o, mp(&ofp.MeterConfigRequest{MeterID: id}))
	}},
	{"meter-stats", "[METER]", 0, 1, func(c *ofctl.Client, o *ofctlOpts, args []string) error {
		id, err := ofctl.ParseMeterID(strings.Join(args, ","))
		if err != nil {
			return err
		}
		return printTransacts(c, o, mp(&ofp.MeterStatsRequest{MeterID: id}))
	}},
	{"meter-features", "", 0, 0, func(c *ofctl.Client, o *ofctlOpts, _ []string) error {
		return printTransacts(c, o, mp(&ofp.MeterFeaturesRequest{}))
	}},
	{"packet-out", "in_port=PORT packet=HEX actions=ACTIONS", 1, 3, func(c *ofctl.Client, o *ofctlOpts, args []string) error {
		po, err := parsePacketOut(strings.Join(args, " "))
		if err != nil {
			return err
		}
		return sendMods(c, []ofp.Message{po})
	}},
	{"add-meter", "METER", 1, 1, meterMod(ofp.MeterAdd)},
	{"mod-meter", "METER", 1, 1, meterMod(ofp.MeterModify)},
	{"del-meters", "[METER]", 0, 1, meterMod(ofp.MeterDelete)},
}

func mp(b ofp.MultipartBody) *ofp.MultipartRequest { return &ofp.MultipartRequest{Body: b} }

// printTransacts sends each request in turn and prints its replies as
// ovs-ofctl prints them.
func printTransacts(c *ofctl.Client, o *ofctlOpts, reqs ...ofp.Message) error {
	for _, req := range reqs {
		replies, err := c.Transact(req)
		for _, r := range replies {
			fmt.Fprint(o.out, ofctl.FormatMessage(r))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sendMods sends modifications and a barrier; the first error the switch
// reports is the command's error.
func sendMods(c *ofctl.Client, msgs []ofp.Message) error {
	errs, err := c.SendAll(msgs)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

func flowMod(cmd uint8) func(c *ofctl.Client, o *ofctlOpts, args []string) error {
	return func(c *ofctl.Client, o *ofctlOpts, args []string) error {
		if o.strict && (cmd == ofp.FlowModify || cmd == ofp.FlowDelete) {
			cmd++
		}
		fm, err := ofctl.ParseFlow(strings.Join(args, ","), cmd)
		if err != nil {
			return err
		}
		return sendMods(c, []ofp.Message{fm})
	}
}

func flowFile(cmd uint8) func(c *ofctl.Client, o *ofctlOpts, args []string) error {
	return func(c *ofctl.Client, o *ofctlOpts, args []string) error {
		fms, err := withFile(args[0], func(r io.Reader) ([]*ofp.FlowMod, error) { return ofctl.ParseFlows(r, cmd) })
		if err != nil {
			return err
		}
		msgs := make([]ofp.Message, len(fms))
		for i, fm := range fms {
			msgs[i] = fm
		}
		return sendMods(c, msgs)
	}
}

func groupMod(cmd uint16) func(c *ofctl.Client, o *ofctlOpts, args []string) error {
	return func(c *ofctl.Client, o *ofctlOpts, args []string) error {
		gm, err := ofctl.ParseGroup(strings.Join(args, ","), cmd)
		if err != nil {
			return err
		}
		return sendMods(c, []ofp.Message{gm})
	}
}

func groupFile(cmd uint16) func(c *ofctl.Client, o *ofctlOpts, args []string) error {
	return func(c *ofctl.Client, o *ofctlOpts, args []string) error {
		gms, err := withFile(args[0], func(r io.Reader) ([]*ofp.GroupMod, error) { return ofctl.ParseGroups(r, cmd) })
		if err != nil {
			return err
		}
		msgs := make([]ofp.Message, len(gms))
		for i, gm := range gms {
			msgs[i] = gm
		}
		return sendMods(c, msgs)
	}
}

func meterMod(cmd uint16) func(c *ofctl.Client, o *ofctlOpts, args []string) error {
	return func(c *ofctl.Client, o *ofctlOpts, args []string) error {
		mm, err := ofctl.ParseMeter(strings.Join(args, ","), cmd)
		if err != nil {
			return err
		}
		return sendMods(c, []ofp.Message{mm})
	}
}

// parsePacketOut reads ovs-ofctl's packet-out syntax: in_port=PORT (CONTROLLER
// if left out), packet=HEX (the frame), then actions=ACTIONS to the end.
func parsePacketOut(s string) (*ofp.PacketOut, error) {
	po := &ofp.PacketOut{BufferID: ofp.NoBuffer, InPort: ofp.PortController}
	i := strings.Index(s, "actions=")
	if i < 0 {
		return nil, errors.New("expected actions=ACTIONS at the end")
	}
	for _, item := range strings.FieldsFunc(s[:i], func(r rune) bool { return r == ',' || r == ' ' }) {
		k, v, _ := strings.Cut(item, "=")
		switch k {
		case "in_port":
			p, err := ofctl.ParsePort(v)
			if err != nil {
				return nil, fmt.Errorf("in_port: %w", err)
			}
			po.InPort = p
		case "packet":
			b, err := hex.DecodeString(v)
			if err != nil {
				return nil, fmt.Errorf("packet=%s: expected the frame in hexadecimal: %w", v, err)
			}
			po.Data = b
		default:
			return nil, fmt.Errorf("unknown packet-out field %q (expected in_port, packet or actions)", k)
		}
	}
	if len(po.Data) == 0 {
		return nil, errors.New("expected packet=HEX, the frame to send")
	}
	acts, err := ofctl.ParseActions(s[i+len("actions="):], &ofp.Match{})
	if err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	po.Actions = acts
	return po, nil
}

// withFile parses a file ("-" is standard input).
func withFile[T any](name string, parse func(io.Reader) ([]T, error)) ([]T, error) {
	if name == "-" {
		return parse(os.Stdin)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out, err := parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

const ofctlUsage = `usage: govs ofctl [OPTIONS] COMMAND SWITCH [ARG...]
Speaks OpenFlow 1.3 to SWITCH with ovs-ofctl's syntax and output. SWITCH is a
bridge name (its socket <rundir>/BRIDGE.mgmt), unix:PATH or tcp:HOST[:PORT].
Options: --strict (mod-flows, del-flows), -rundir DIR (default $GOVS_RUNDIR
or /run/govs), --timeout SECONDS; -O OpenFlow13 is accepted (the only version).
Commands:
`

// runOfctl runs `govs ofctl ARGS` and returns the exit status: 0, 1 when
// the switch or the arguments refused the command (as ovs-ofctl), 2 for
// usage errors.
func runOfctl(args []string, rundir string, stdout, stderr io.Writer) int {
	o := &ofctlOpts{out: stdout}
	timeout := 30 * time.Second
	var words []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, bool) {
			if i+1 < len(args) {
				i++
				return args[i], true
			}
			return "", false
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case !strings.HasPrefix(a, "-") || a == "-":
			words = append(words, a)
		case name == "strict":
			o.strict = true
		case name == "O" || name == "protocols" || strings.HasPrefix(a, "-O"):
			v := value
			if strings.HasPrefix(a, "-O") && len(a) > 2 && a[2] != '=' {
				v, hasValue = a[2:], true
			}
			if !hasValue {
				v, _ = next()
			}
			if !strings.EqualFold(v, "OpenFlow13") {
				fmt.Fprintf(stderr, "govs ofctl: %s: only OpenFlow13 is spoken\n", v)
				return 2
			}
		case name == "rundir" || name == "timeout":
			v := value
			if !hasValue {
				var ok bool
				if v, ok = next(); !ok {
					fmt.Fprintf(stderr, "govs ofctl: %s needs a value\n", a)
					return 2
				}
			}
			if name == "rundir" {
				rundir = v
			} else {
				d, err := time.ParseDuration(v + "s")
				if err != nil || d <= 0 {
					fmt.Fprintf(stderr, "govs ofctl: --timeout %s: expected seconds\n", v)
					return 2
				}
				timeout = d
			}
		case name == "h" || name == "help":
			printOfctlUsage(stdout)
			return 0
		default:
			fmt.Fprintf(stderr, "govs ofctl: unknown option %s\n", a)
			return 2
		}
	}
	if len(words) < 2 {
		printOfctlUsage(stderr)
		return 2
	}
	i := slices.IndexFunc(ofctlCommands, func(c ofctlCommand) bool { return c.name == words[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "govs ofctl: unknown command '%s'; use --help for help\n", words[0])
		return 2
	}
	cmd := ofctlCommands[i]
	rest := words[2:]
	if len(rest) < cmd.minArgs || len(rest) > cmd.maxArgs {
		fmt.Fprintf(stderr, "govs ofctl: usage: govs ofctl %s SWITCH %s\n", cmd.name, cmd.args)
		return 2
	}
	c, err := ofctl.Dial(words[1], rundir, timeout)
	if err != nil {
		fmt.Fprintf(stderr, "govs ofctl: %v\n", err)
		return 1
	}
	defer c.Close()
	if err := cmd.run(c, o, rest); err != nil {
		var se *ofctl.SwitchError
		if errors.As(err, &se) {
			fmt.Fprintln(stderr, se.Error())
		} else {
			fmt.Fprintf(stderr, "govs ofctl: %s: %v\n", cmd.name, err)
		}
		return 1
	}
	return 0
}

func printOfctlUsage(w io.Writer) {
	fmt.Fprint(w, ofctlUsage)
	for _, c := range ofctlCommands {
		fmt.Fprintf(w, "  %s SWITCH %s\n", c.name, c.args)
	}
}
