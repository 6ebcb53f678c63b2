package ofctl

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/govs/govs/ofproto/ofp"
)

// flowMode is what a flow string is for: which keywords it may use.
type flowMode uint8

const (
	modeAdd flowMode = iota
	modeModify
	modeModifyStrict
	modeDelete
	modeDeleteStrict
	modeStats // dump-flows, dump-aggregate
)

func (m flowMode) hasActions() bool  { return m <= modeModifyStrict }
func (m flowMode) hasFlags() bool    { return m <= modeModifyStrict }
func (m flowMode) hasPriority() bool { return m <= modeModifyStrict || m == modeDeleteStrict }
func (m flowMode) hasOutPort() bool  { return m >= modeDelete }

func (m flowMode) command() string {
	return [...]string{"add-flow", "mod-flows", "mod-flows --strict", "del-flows", "del-flows --strict", "dump-flows"}[m]
}

// parsedFlow is what a flow string says.
type parsedFlow struct {
	mode         flowMode
	cookie, mask uint64
	hasCookie    bool
	table        uint8
	hasTable     bool
	priority     uint16
	idle, hard   uint16
	flags        uint16
	outPort      uint32
	outGroup     uint32
	match        ofp.Match
	instructions []ofp.Instruction
}

// flowFlags are the flow-mod flag keywords.
var flowFlags = []struct {
	name string
	bit  uint16
}{
	{"send_flow_rem", ofp.FlagSendFlowRem},
	{"check_overlap", ofp.FlagCheckOverlap},
	{"reset_counts", ofp.FlagResetCounts},
	{"no_packet_counts", ofp.FlagNoPktCounts},
	{"no_byte_counts", ofp.FlagNoBytCounts},
}

// flowKeywords are the non-field keywords of a flow, for suggestions.
var flowKeywords = []string{"table", "priority", "cookie", "idle_timeout", "hard_timeout", "out_port", "out_group",
	"actions", "send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts", "no_byte_counts"}

// parseFlow parses a flow in ovs-ofctl's syntax: comma- or
// space-separated keywords and fields, and, for commands that take them,
// "actions=..." last.
func parseFlow(s string, mode flowMode) (*parsedFlow, error) {
	pf := &parsedFlow{mode: mode, priority: defaultPriority, outPort: ofp.PortAny, outGroup: ofp.GroupAny}
	end := len(s)
	actStart := -1
	if i := strings.Index(s, "action"); i >= 0 {
		j := strings.IndexByte(s[i:], '=')
		if !mode.hasActions() {
			return nil, errAt(i, "%s takes no actions", mode.command())
		}
		if j < 0 {
			return nil, errAt(i, "actions needs '=' (actions=ACTIONS)")
		}
		end, actStart = i, i+j+1
	} else if mode.hasActions() {
		return nil, errAt(len(s), "must specify an action (actions=...; actions=drop to drop)")
	}
	var mb matchBuilder
	lx := newLexer(s, 0, end)
	for {
		t, ok := lx.next()
		if !ok {
			break
		}
		if err := pf.keyword(t, &mb); err != nil {
			return nil, err
		}
	}
	m, err := mb.finish()
	if err != nil {
		return nil, err
	}
	pf.match = m
	if actStart >= 0 {
		ins, err := parseInstructions(s, actStart, len(s), mb.actionCtx())
		if err != nil {
			return nil, err
		}
		pf.instructions = ins
	}
	return pf, nil
}

// keyword applies one token of the match part.
func (pf *parsedFlow) keyword(t token, mb *matchBuilder) error {
	mode := pf.mode
	notHere := func() error {
		return errAt(t.keyPos, "%s is not allowed with %s", t.key, mode.command())
	}
	if _, ok := protocols[t.key]; ok && !t.hasValue() {
		mb.setProtocol(t.key, t.keyPos)
		return nil
	}
	for _, f := range flowFlags {
		if t.key == f.name {
			if !mode.hasFlags() {
				return notHere()
			}
			if t.hasValue() {
				return errAt(t.valPos, "%s takes no value", t.key)
			}
			pf.flags |= f.bit
			return nil
		}
	}
	switch t.key {
	case "eth", "no_readonly_table", "allow_hidden_fields":
		return nil
	}
	if kw, ok := matchKeywords[t.key]; ok {
		return mb.setField(t, kw)
	}
	if strings.Contains(t.key, "[") {
		return errAt(t.keyPos, "matching on a subfield (%s) is an Open vSwitch extension that OpenFlow 1.3 lacks", t.key)
	}
	if isOVSOnlyField(t.key) {
		return errAt(t.keyPos, "%s is not an OpenFlow 1.3 match field (Open vSwitch matches it with an extension)", t.key)
	}
	known := slices.Contains(flowKeywords, t.key) || t.key == "importance" ||
		slices.Contains([]string{"duration", "n_packets", "n_bytes", "idle_age", "hard_age"}, t.key)
	if !known {
		return errAt(t.keyPos, "unknown field %q%s", t.key, suggest(t.key, keywordNames(flowKeywords...)))
	}
	if !t.hasValue() || t.value == "" {
		return errAt(t.keyPos, "%s needs a value (%s=VALUE)", t.key, t.key)
	}
	num := func(bits int) (uint64, error) {
		v, ok := parseUint(t.value, bits)
		if !ok {
			return 0, errAt(t.valPos, "%s: %q is not a number of at most %d bits", t.key, t.value, bits)
		}
		return v, nil
	}
	switch t.key {
	case "table":
		v, ok := parseUint(t.value, 64)
		if !ok || v > 255 {
			return errAt(t.valPos, "table: %q is not a table number (0..254, or 255 for all)", t.value)
		}
		pf.table, pf.hasTable = uint8(v), true
	case "out_port":
		if !mode.hasOutPort() {
			return notHere()
		}
		p, err := parsePort(t.value)
		if err != nil {
			return errAt(t.valPos, "out_port: %v", err)
		}
		pf.outPort = p
	case "out_group":
		if !mode.hasOutPort() {
			return notHere()
		}
		g, err := parseGroupID(t.value)
		if err != nil {
			return errAt(t.valPos, "out_group: %v", err)
		}
		pf.outGroup = g
	case "priority":
		if !mode.hasPriority() {
			if mode == modeDelete {
				return errAt(t.keyPos, "priority is not allowed with del-flows unless --strict")
			}
			return notHere()
		}
		v, err := num(16)
		if err != nil {
			return err
		}
		pf.priority = uint16(v)
	case "idle_timeout", "hard_timeout":
		if !mode.hasFlags() {
			return notHere()
		}
		v, err := num(16)
		if err != nil {
			return err
		}
		if t.key == "idle_timeout" {
			pf.idle = uint16(v)
		} else {
			pf.hard = uint16(v)
		}
	case "importance":
		return errAt(t.keyPos, "importance needs OpenFlow 1.4; govs speaks OpenFlow 1.3")
	case "cookie":
		vs, ms, hasMask := strings.Cut(t.value, "/")
		v, ok := parseU64Signed(vs)
		if !ok {
			return errAt(t.valPos, "cookie: %q is not a 64-bit number", vs)
		}
		if hasMask {
			if mode == modeAdd {
				return errAt(t.valPos, "flow additions cannot use a cookie mask")
			}
			m, ok := parseU64Signed(ms)
			if !ok {
				return errAt(t.valPos+len(vs)+1, "cookie: mask %q is not a 64-bit number", ms)
			}
			pf.cookie, pf.mask = v, m
		} else {
			if mode != modeAdd && mode != modeModify && mode != modeModifyStrict {
				return errAt(t.valPos, "cannot set cookie (to match on a cookie, specify a mask, e.g. cookie=%s/-1)", vs)
			}
			pf.cookie, pf.mask = v, 0
		}
		pf.hasCookie = true
	case "duration", "n_packets", "n_bytes", "idle_age", "hard_age":
		// Ignored, so that dump-flows output can be fed back.
	default:
		return notHere()
	}
	return nil
}

// parseGroupID parses a group number, "all" or "any".
func parseGroupID(s string) (uint32, error) {
	switch strings.ToLower(s) {
	case "all":
		return ofp.GroupAll, nil
	case "any":
		return ofp.GroupAny, nil
	}
	v, ok := parseUint(s, 32)
	if !ok || (v > uint64(ofp.GroupMax) && v != uint64(ofp.GroupAll) && v != uint64(ofp.GroupAny)) {
		return 0, fmt.Errorf("%q is not a group id (0..0xffffff00, all or any)", s)
	}
	return uint32(v), nil
}

// commandMode maps a flow-mod command to a parsing mode.
func commandMode(cmd uint8) (flowMode, error) {
	switch cmd {
	case ofp.FlowAdd:
		return modeAdd, nil
	case ofp.FlowModify:
		return modeModify, nil
	case ofp.FlowModifyStrict:
		return modeModifyStrict, nil
	case ofp.FlowDelete:
		return modeDelete, nil
	case ofp.FlowDeleteStrict:
		return modeDeleteStrict, nil
	}
	return 0, fmt.Errorf("unknown flow-mod command %d", cmd)
}

// ParseFlow parses a flow in ovs-ofctl's syntax for the flow-mod command
// cmd (ofp.FlowAdd for add-flow, ofp.FlowModify[Strict] for mod-flows,
// ofp.FlowDelete[Strict] for del-flows) and returns the FLOW_MOD that
// ovs-ofctl -O OpenFlow13 would send for it. Errors are *SyntaxError and
// name the column.
func ParseFlow(s string, cmd uint8) (*ofp.FlowMod, error) {
	mode, err := commandMode(cmd)
	if err != nil {
		return nil, err
	}
	pf, err := parseFlow(s, mode)
	if err != nil {
		return nil, err
	}
	return pf.flowMod(cmd), nil
}

// flowMod builds the FLOW_MOD as ovs-ofctl encodes it for OpenFlow 1.3.
func (pf *parsedFlow) flowMod(cmd uint8) *ofp.FlowMod {
	fm := &ofp.FlowMod{
		Command:      cmd,
		TableID:      pf.table,
		IdleTimeout:  pf.idle,
		HardTimeout:  pf.hard,
		Priority:     pf.priority,
		BufferID:     ofp.NoBuffer,
		OutPort:      pf.outPort,
		OutGroup:     pf.outGroup,
		Flags:        pf.flags,
		Match:        pf.match,
		Instructions: pf.instructions,
	}
	switch cmd {
	case ofp.FlowAdd:
		fm.Cookie = pf.cookie
	default:
		fm.Cookie, fm.CookieMask = pf.cookie&pf.mask, pf.mask
	}
	switch cmd {
	case ofp.FlowDelete, ofp.FlowDeleteStrict:
		if !pf.hasTable {
			fm.TableID = ofp.TableAll
		}
	default:
		if fm.TableID == ofp.TableAll {
			fm.TableID = 0
		}
	}
	return fm
}

// ParseFlowStatsRequest parses the flow argument of dump-flows and
// dump-aggregate: a match with table=, cookie=VALUE/MASK, out_port= and
// out_group=. The empty string asks for every flow of every table.
func ParseFlowStatsRequest(s string) (*ofp.FlowStatsRequest, error) {
	pf, err := parseFlow(s, modeStats)
	if err != nil {
		return nil, err
	}
	r := &ofp.FlowStatsRequest{TableID: ofp.TableAll, OutPort: pf.outPort, OutGroup: pf.outGroup,
		Cookie: pf.cookie & pf.mask, CookieMask: pf.mask, Match: pf.match}
	if pf.hasTable {
		r.TableID = pf.table
	}
	return r, nil
}

// ParseMatch parses a match alone (fields and protocol shorthands).
func ParseMatch(s string) (ofp.Match, error) {
	var mb matchBuilder
	lx := newLexer(s, 0, len(s))
	for {
		t, ok := lx.next()
		if !ok {
			break
		}
		if _, ok := protocols[t.key]; ok && !t.hasValue() {
			mb.setProtocol(t.key, t.keyPos)
			continue
		}
		kw, ok := matchKeywords[t.key]
		if !ok {
			if isOVSOnlyField(t.key) {
				return ofp.Match{}, errAt(t.keyPos, "%s is not an OpenFlow 1.3 match field (Open vSwitch matches it with an extension)", t.key)
			}
			return ofp.Match{}, errAt(t.keyPos, "unknown field %q%s", t.key, suggest(t.key, keywordNames()))
		}
		if err := mb.setField(t, kw); err != nil {
			return ofp.Match{}, err
		}
	}
	return mb.finish()
}

// ParseInstructions parses an actions= clause (without "actions=") for a
// flow with match m: actions, which become an apply-actions instruction,
// and the instructions meter:, clear_actions, write_actions(...),
// write_metadata: and goto_table:.
func ParseInstructions(s string, m *ofp.Match) ([]ofp.Instruction, error) {
	return parseInstructions(s, 0, len(s), ctxFromMatch(m))
}

// ParseActions parses a plain action list (as in a group bucket or a
// packet-out) for packets that match m (nil: anything).
func ParseActions(s string, m *ofp.Match) ([]ofp.Action, error) {
	return parseActions(s, 0, len(s), ctxFromMatch(m))
}

// ctxFromMatch is the action context of an encoded match.
func ctxFromMatch(m *ofp.Match) actionCtx {
	var c actionCtx
	if m == nil {
		return c
	}
	v := newMatchView(m)
	c.ethType, c.hasEth = v.exact(ofp.OXMEthType)
	c.proto, c.hasProto = v.exact(ofp.OXMIPProto)
	if o := v.f[ofp.OXMVlanVID]; o != nil && len(o.Value) == 2 {
		c.vlan = o.Value[0]&0x10 != 0 && (!o.HasMask || len(o.Mask) == 2 && o.Mask[0]&0x10 != 0)
	}
	return c
}

// flowFileCommands are the per-line commands of an add-flows file.
var flowFileCommands = []struct {
	name string
	cmd  uint8
}{
	{"add", ofp.FlowAdd},
	{"delete", ofp.FlowDelete},
	{"delete_strict", ofp.FlowDeleteStrict},
	{"modify", ofp.FlowModify},
	{"modify_strict", ofp.FlowModifyStrict},
}

// LineError is an error in one line of a flow, group or meter file.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// readLines returns the non-empty lines of r with comments (from '#')
// and surrounding white space removed, joining lines that end in '\'.
func readLines(r io.Reader, each func(line string, n int) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	n, start := 0, 0
	var acc strings.Builder
	for sc.Scan() {
		n++
		line := sc.Text()
		if acc.Len() == 0 {
			start = n
		}
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if strings.HasSuffix(line, "\\") {
			acc.WriteString(line[:len(line)-1])
			continue
		}
		acc.WriteString(line)
		full := strings.TrimSpace(acc.String())
		acc.Reset()
		if full == "" {
			continue
		}
		if err := each(full, start); err != nil {
			return &LineError{Line: start, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if full := strings.TrimSpace(acc.String()); full != "" {
		if err := each(full, start); err != nil {
			return &LineError{Line: start, Err: err}
		}
	}
	return nil
}

// ParseFlows parses a file of flows, one a line, as add-flows, mod-flows
// and del-flows read it: '#' starts a comment, blank lines are skipped,
// and with cmd ofp.FlowAdd a line may start with add, delete,
// delete_strict, modify or modify_strict to choose its own command.
// Errors are *LineError.
func ParseFlows(r io.Reader, cmd uint8) ([]*ofp.FlowMod, error) {
	var fms []*ofp.FlowMod
	err := readLines(r, func(line string, _ int) error {
		c := cmd
		if cmd == ofp.FlowAdd {
			tok := line[:strings.IndexAny(line+",", itemSeps)]
			for _, fc := range flowFileCommands {
				if tok != "" && strings.HasPrefix(fc.name, tok) {
					c = fc.cmd
					line = strings.Repeat(" ", len(tok)) + line[len(tok):]
					break
				}
			}
		}
		fm, err := ParseFlow(line, c)
		if err != nil {
			return err
		}
		fms = append(fms, fm)
		return nil
	})
	return fms, err
}

// ---- printing ----

// formatDuration formats seconds and nanoseconds the way ovs-ofctl does:
// no decimals for whole seconds, 3 when milliseconds are exact, otherwise
// as many as needed.
func formatDuration(sec, nsec uint32) string {
	s := strconv.FormatUint(uint64(sec), 10)
	if nsec > 0 {
		if nsec%1000000 == 0 {
			s += fmt.Sprintf(".%03d", nsec/1000000)
		} else {
			s += strings.TrimRight(fmt.Sprintf(".%09d", nsec), "0")
		}
	}
	return s + "s"
}

// formatFlags formats flow-mod flags as ovs-ofctl does: each name
// followed by a space.
func formatFlags(flags uint16) string {
	var sb strings.Builder
	for _, f := range flowFlags {
		if flags&f.bit != 0 {
			sb.WriteString(f.name + " ")
		}
	}
	return sb.String()
}

func statValue(v uint64) string {
	if v == ^uint64(0) {
		return "?"
	}
	return strconv.FormatUint(v, 10)
}

// FormatFlowStats formats one flow of a flow stats reply exactly as
// `ovs-ofctl -O OpenFlow13 dump-flows` prints it (without the leading
// space), e.g. "cookie=0x0, duration=1.234s, table=0, n_packets=0,
// n_bytes=0, priority=100,in_port=1 actions=output:2".
func FormatFlowStats(fs *ofp.FlowStats) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "cookie=0x%x, duration=%s, table=%d, n_packets=%s, n_bytes=%s, ",
		fs.Cookie, formatDuration(fs.DurationSec, fs.DurationNsec), fs.TableID,
		statValue(fs.PacketCount), statValue(fs.ByteCount))
	if fs.IdleTimeout != 0 {
		fmt.Fprintf(&sb, "idle_timeout=%d, ", fs.IdleTimeout)
	}
	if fs.HardTimeout != 0 {
		fmt.Fprintf(&sb, "hard_timeout=%d, ", fs.HardTimeout)
	}
	sb.WriteString(formatFlags(fs.Flags))
	if m := formatMatch(&fs.Match, int(fs.Priority)); m != "" {
		sb.WriteString(m + " ")
	}
	sb.WriteString("actions=" + FormatInstructions(fs.Instructions))
	return sb.String()
}

// FormatFlowMod formats a FLOW_MOD in the syntax ParseFlow reads for its
// command, so that ParseFlow(FormatFlowMod(fm), fm.Command) gives fm back
// for any fm that ParseFlow produced.
func FormatFlowMod(fm *ofp.FlowMod) string {
	mode, err := commandMode(fm.Command)
	if err != nil {
		mode = modeAdd
	}
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	switch {
	case mode == modeAdd && fm.Cookie != 0:
		add("cookie=0x%x", fm.Cookie)
	case mode != modeAdd && fm.CookieMask != 0:
		add("cookie=0x%x/0x%x", fm.Cookie, fm.CookieMask)
	}
	if mode.hasOutPort() {
		if fm.TableID != ofp.TableAll {
			add("table=%d", fm.TableID)
		}
	} else if fm.TableID != 0 {
		add("table=%d", fm.TableID)
	}
	if mode.hasFlags() {
		if fm.IdleTimeout != 0 {
			add("idle_timeout=%d", fm.IdleTimeout)
		}
		if fm.HardTimeout != 0 {
			add("hard_timeout=%d", fm.HardTimeout)
		}
		for _, f := range flowFlags {
			if fm.Flags&f.bit != 0 {
				parts = append(parts, f.name)
			}
		}
	}
	if mode.hasOutPort() {
		if fm.OutPort != ofp.PortAny {
			add("out_port=%s", formatPort(fm.OutPort))
		}
		if fm.OutGroup != ofp.GroupAny {
			add("out_group=%d", fm.OutGroup)
		}
	}
	prio := -1
	if mode.hasPriority() {
		prio = int(fm.Priority)
	}
	if m := formatMatch(&fm.Match, prio); m != "" {
		parts = append(parts, m)
	}
	s := strings.Join(parts, ",")
	if mode.hasActions() {
		if s != "" {
			s += " "
		}
		s += "actions=" + FormatInstructions(fm.Instructions)
	}
	return s
}
