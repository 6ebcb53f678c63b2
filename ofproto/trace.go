package ofproto

import (
	"fmt"
	"slices"
	"strings"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofctl"
	"github.com/govs/govs/ofproto/ofp"
)

// ofproto/trace: a packet's walk through the OpenFlow tables, printed the
// way Open vSwitch's `ovs-appctl ofproto/trace` prints it. Translation
// records what it does in a traceLog, a tree like Open vSwitch's: a bridge
// node holds the first table's node, each table node the actions its rule
// ran (one line each, with details, warnings and group buckets under
// them), and goto_table nests the next table in the one before. The
// action set executed at the end of the pipeline hangs under the first
// table, as "--. Executing action set:".
//
// A trace has no side effects: no MAC learning, no statistics, no
// megaflow, no packet-in, and a recirculation gets an id of the trace's
// own instead of a frozen state registered with the bridge.

// traceKind is the kind of a trace node; it decides how the node is
// printed and whether what follows it nests under it.
type traceKind uint8

const (
	traceAction traceKind = iota // an action: "output:2"
	traceDetail                  // " -> what an action did"
	traceWarn                    // " >> why something did not happen"
	traceError                   // " >>>> an error <<<<"
	traceBucket                  // "bucket 1" of a group, its actions under it
	traceBridge                  // bridge("br0") and its underline
	traceTable                   // " 1. match, priority 10, cookie 0x5"
)

// terminal reports whether a node of this kind is a leaf of the pipeline
// (the printer indents the nodes after a non-terminal last node at its
// level, as Open vSwitch does, so that a goto_table chain does not drift
// right).
func (k traceKind) terminal() bool { return k < traceBridge }

type traceNode struct {
	kind traceKind
	text string
	subs []*traceNode
}

// traceLog collects the steps of an ofproto/trace. Its methods do nothing
// on a nil *traceLog, so that translation calls them unconditionally.
type traceLog struct {
	root     traceNode
	cur      *traceNode // new nodes are appended to cur.subs
	pipeline *traceNode // the first table of the pipeline being run
	recircs  int        // recirculations the trace would do
}

func newTraceLog() *traceLog {
	t := &traceLog{}
	t.cur = &t.root
	return t
}

// add appends a node under the current parent.
func (t *traceLog) add(kind traceKind, text string) *traceNode {
	if t == nil {
		return nil
	}
	n := &traceNode{kind: kind, text: text}
	t.cur.subs = append(t.cur.subs, n)
	return n
}

// addf appends a detail line.
func (t *traceLog) addf(format string, args ...any) {
	if t != nil {
		t.add(traceDetail, fmt.Sprintf(format, args...))
	}
}

// enter appends a node and makes it the parent of what follows until the
// returned function is called.
func (t *traceLog) enter(kind traceKind, text string) (leave func()) {
	if t == nil {
		return func() {}
	}
	prev := t.cur
	t.cur = t.add(kind, text)
	return func() { t.cur = prev }
}

// print writes the tree in Open vSwitch's layout (ofproto-dpif-trace.c):
// a node is indented by four spaces a level, one level more when it is a
// leaf or has a sibling after it; its children nest two levels deeper in
// that case and at its own level otherwise.
func (t *traceLog) print(b *strings.Builder, nodes []*traceNode, level int) {
	for i, n := range nodes {
		if n.kind == traceBridge {
			b.WriteByte('\n')
		}
		more := 0
		if i < len(nodes)-1 || n.kind.terminal() {
			more = 1
		}
		indent := strings.Repeat(" ", (level+more)*4)
		b.WriteString(indent)
		switch n.kind {
		case traceDetail:
			b.WriteString(" -> " + n.text + "\n")
		case traceWarn:
			b.WriteString(" >> " + n.text + "\n")
		case traceError:
			b.WriteString(" >>>> " + n.text + " <<<<\n")
		case traceBridge:
			b.WriteString(n.text + "\n" + indent + strings.Repeat("-", len(n.text)) + "\n")
		default:
			b.WriteString(n.text + "\n")
		}
		t.print(b, n.subs, level+2*more)
	}
}

// ---- hooks called by translation ----

// tracing reports whether the translation is traced (so that callers can
// skip formatting otherwise).
func (x *xlate) tracing() bool { return x.trace != nil }

// traceWarn records a warning: something the pipeline asked for did not
// happen.
func (x *xlate) traceWarn(format string, args ...any) {
	if x.trace != nil {
		x.trace.add(traceWarn, fmt.Sprintf(format, args...))
	}
}

// traceAction records an action about to be translated.
func (x *xlate) traceAction(a ofp.Action) {
	if x.trace != nil {
		x.trace.add(traceAction, ofctl.FormatActions([]ofp.Action{a}))
	}
}

// traceInstruction records an instruction other than apply-actions, as
// ovs-ofctl prints it.
func (x *xlate) traceInstruction(in ofp.Instruction) {
	if x.trace != nil {
		x.trace.add(traceAction, ofctl.FormatInstructions([]ofp.Instruction{in}))
	}
}

// traceActionSet records the action set after clear_actions ("was") or
// write_actions ("is"), in the order it would execute.
func (x *xlate) traceActionSet(verb string) {
	if x.trace == nil {
		return
	}
	set := x.orderedActionSet()
	if len(set) == 0 {
		x.trace.addf("action set %s empty", verb)
		return
	}
	x.trace.addf("action set %s: %s", verb, ofctl.FormatActions(set))
}

// orderedActionSet returns the action set in execution order (OpenFlow
// 1.3.5 section 5.10): sorted by kind, and without output when there is a
// group.
func (x *xlate) orderedActionSet() []ofp.Action {
	set := slices.Clone(x.actionSet)
	slices.SortStableFunc(set, func(a, b ofp.Action) int { return actionSetRank(a) - actionSetRank(b) })
	if slices.ContainsFunc(set, func(a ofp.Action) bool { _, ok := a.(*ofp.ActionGroup); return ok }) {
		set = slices.DeleteFunc(set, func(a ofp.Action) bool { _, ok := a.(*ofp.ActionOutput); return ok })
	}
	return set
}

// tracePipeline is called when a pipeline run starts (table 0, or a
// packet-out's output to TABLE); the returned function restores the trace
// position when the run ends.
func (x *xlate) tracePipeline() (leave func()) {
	t := x.trace
	if t == nil {
		return func() {}
	}
	cur, pipeline := t.cur, t.pipeline
	t.pipeline = nil
	return func() { t.cur, t.pipeline = cur, pipeline }
}

// traceLookup records a table lookup: the rule that matched (nil: none),
// which becomes the parent of what it does.
func (x *xlate) traceLookup(id uint8, r *Rule) {
	t := x.trace
	if t == nil {
		return
	}
	text := fmt.Sprintf("%2d. ", id)
	if r == nil {
		text += "No match."
	} else {
		if m := ofctl.FormatMatch(&r.Match); m != "" {
			text += m + ", "
		}
		text += fmt.Sprintf("priority %d", r.Priority)
		if r.Cookie != 0 {
			text += fmt.Sprintf(", cookie %#x", r.Cookie)
		}
	}
	n := t.add(traceTable, text)
	t.cur = n
	if t.pipeline == nil {
		t.pipeline = n
	}
	if r == nil {
		t.add(traceAction, "drop")
	}
}

// traceExecuteActionSet starts the execution of the action set: its
// actions go under "--. Executing action set:" in the pipeline's first
// table.
func (x *xlate) traceExecuteActionSet() (leave func()) {
	t := x.trace
	if t == nil {
		return func() {}
	}
	if t.pipeline != nil {
		t.cur = t.pipeline
	}
	return t.enter(traceTable, "--. Executing action set:")
}

// traceBucket records that a group bucket is translated; its actions go
// under it until the returned function is called.
func (x *xlate) traceBucket(i int) (leave func()) {
	return x.trace.enter(traceBucket, fmt.Sprintf("bucket %d", i))
}

// recircID returns the id of a frozen state: registered with the bridge
// for a real translation, the trace's own count for a trace (a trace must
// not leave state behind).
func (x *xlate) recircID(st *frozenState) uint32 {
	if x.trace != nil {
		x.trace.recircs++
		return uint32(x.trace.recircs)
	}
	return x.br.recirc.add(st)
}

// ---- the command ----

// Trace runs ofproto/trace: it translates a packet with the fields of flow
// (ovs-ofctl match syntax, plus nw_ttl, mpls_ttl, nw_frag and tcp_flags, and
// in_port may name a port; fields not given are zero) through the bridge's pipeline without side effects and
// describes the walk as Open vSwitch does: the flow, each table's matching
// rule and what its actions did, the final flow, the megaflow that the
// translation would install and its datapath actions.
func (br *Bridge) Trace(flow string) (string, error) {
	br.mu.RLock()
	key, err := parseTraceFlow(flow, br.portNumberLocked)
	if err != nil {
		br.mu.RUnlock()
		return "", err
	}
	tr := newTraceLog()
	leave := tr.enter(traceBridge, fmt.Sprintf("bridge(%q)", br.cfg.Name))
	x := br.newXlate(&key, false, tr)
	if id := uint32(datapath.FieldRecircID.Get(&key)); id != 0 {
		st := br.recirc.get(id)
		if st == nil {
			br.mu.RUnlock()
			return "", fmt.Errorf("recirc_id(%#x): no such recirculation (it went with a table change, or never was)", id)
		}
		tr.addf("resuming the translation frozen as recirc_id %#x", id)
		x.resume(st)
	} else {
		x.run()
	}
	leave()
	res := x.result()
	final := x.flow
	final[datapath.WordMetadata] = x.metadata
	br.mu.RUnlock()

	var b strings.Builder
	b.WriteString("Flow: " + FormatFlow(&x.key) + "\n")
	tr.print(&b, tr.root.subs, 0)
	b.WriteString("\nFinal flow: ")
	if final == x.key {
		b.WriteString("unchanged")
	} else {
		b.WriteString(FormatFlow(&final))
	}
	b.WriteString("\nMegaflow: " + FormatMegaflow(&x.key, &res.mask))
	b.WriteString("\nDatapath actions: " + datapath.FormatActions(res.acts) + "\n")
	return b.String(), nil
}

// traceOnlyFields are fields a trace's flow may set that OpenFlow 1.3 does
// not match on (Open vSwitch's names), so ofctl.ParseMatch refuses them.
var traceOnlyFields = map[string]func(k *datapath.Key, v string) error{
	"nw_ttl": func(k *datapath.Key, v string) error {
		n, err := parseTraceUint(v, 8)
		datapath.FieldNwTTL.Set(k, n)
		return err
	},
	"mpls_ttl": func(k *datapath.Key, v string) error {
		n, err := parseTraceUint(v, 8)
		datapath.FieldMPLSLSE.SetMasked(k, n, 0xff)
		return err
	},
	"tcp_flags": func(k *datapath.Key, v string) error {
		n, err := parseTraceTCPFlags(v)
		datapath.FieldTCPFlags.Set(k, n)
		return err
	},
	"nw_frag": func(k *datapath.Key, v string) error {
		f, ok := map[string]uint64{"no": 0, "first": datapath.FragAny, "later": datapath.FragAny | datapath.FragLater,
			"yes": datapath.FragAny}[v]
		if !ok {
			return fmt.Errorf("nw_frag=%s: expected no, first, later or yes", v)
		}
		datapath.FieldNwFrag.Set(k, f)
		return nil
	},
}

func parseTraceUint(v string, bits int) (uint64, error) {
	var n uint64
	_, err := fmt.Sscan(v, &n)
	if err != nil || n >= 1<<bits {
		return 0, fmt.Errorf("%q: expected an integer below %d", v, 1<<bits)
	}
	return n, nil
}

var tcpFlagNames = []string{"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns"}

// parseTraceTCPFlags reads tcp_flags as a number or as flag names joined
// by '|' or '+' (syn|ack).
func parseTraceTCPFlags(v string) (uint64, error) {
	if v != "" && v[0] >= '0' && v[0] <= '9' {
		var n uint64
		if _, err := fmt.Sscanf(v, "%v", &n); err != nil || n >= 1<<12 {
			return 0, fmt.Errorf("tcp_flags=%s: expected a 12-bit number or flag names", v)
		}
		return n, nil
	}
	var n uint64
	for _, name := range strings.FieldsFunc(v, func(r rune) bool { return r == '|' || r == '+' }) {
		i := slices.Index(tcpFlagNames, name)
		if i < 0 {
			return 0, fmt.Errorf("tcp_flags=%s: unknown flag %q (expected %s)", v, name, strings.Join(tcpFlagNames, ", "))
		}
		n |= 1 << i
	}
	return n, nil
}

// portNumberLocked returns the number of the port named name. br.mu is
// held.
func (br *Bridge) portNumberLocked(name string) (uint32, bool) {
	for no, p := range br.ports {
		if p.info.Name == name {
			return no, true
		}
	}
	return 0, false
}

// ParseTraceFlow turns a flow in ovs-ofctl syntax, or in the datapath's
// (as dpctl/dump-flows prints megaflows, see trace_odp.go), into the key of
// a packet with those fields: what the flow sets, zero elsewhere (as
// Open vSwitch's trace does). Masked fields contribute their masked value.
func ParseTraceFlow(s string) (datapath.Key, error) { return parseTraceFlow(s, nil) }

// parseTraceFlow is ParseTraceFlow where in_port may also be a port's
// name, which portNumber resolves.
func parseTraceFlow(s string, portNumber func(name string) (uint32, bool)) (datapath.Key, error) {
	var key datapath.Key
	if isODPFlow(s) {
		key, err := parseODPFlow(s)
		if err != nil {
			return key, fmt.Errorf("%s: %w", s, err)
		}
		return key, nil
	}
	// Blank out the fields only a trace knows, keeping the columns of the
	// rest for ParseMatch's errors.
	rest := []byte(s)
	type extra struct{ name, value string }
	var extras []extra
	inPort := ""
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] != ',' && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		blank := func() {
			for k := i; k < j; k++ {
				rest[k] = ' '
			}
		}
		name, value, ok := strings.Cut(s[i:j], "=")
		switch {
		case !ok:
		case traceOnlyFields[name] != nil:
			extras = append(extras, extra{name, value})
			blank()
		case name == "in_port" && portNumber != nil:
			if _, err := ofctl.ParsePort(value); err != nil {
				if no, found := portNumber(value); found {
					inPort = fmt.Sprint(no) // a port's name: its number goes at the end
					blank()
				}
			}
		}
		i = j + 1
	}
	if inPort != "" {
		rest = append(rest, ",in_port="+inPort...)
	}
	m, err := ofctl.ParseMatch(string(rest))
	if err != nil {
		return key, fmt.Errorf("%s: %w", s, err)
	}
	mf, oerr := convertMatch(&m)
	if oerr != nil {
		return key, fmt.Errorf("%s: %s", s, oerr.Msg)
	}
	key = mf.key
	for _, e := range extras {
		if err := traceOnlyFields[e.name](&key, e.value); err != nil {
			return key, fmt.Errorf("%s: %w", s, err)
		}
	}
	return key, nil
}
