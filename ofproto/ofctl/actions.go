package ofctl

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/govs/govs/ofproto/ofp"
)

// actionCtx is what action parsing needs to know about the flow's match:
// its protocol (for mod_tp_src and friends) and whether a VLAN tag is
// known to be present (mod_vlan_vid pushes one when it is not).
// In group buckets nothing is known (untracked): Open vSwitch checks no
// flow there, so every mod_vlan_vid and mod_vlan_pcp pushes a tag.
type actionCtx struct {
	ethType, proto   uint64
	hasEth, hasProto bool
	vlan             bool
	untracked        bool
}

func (b *matchBuilder) actionCtx() actionCtx {
	c := actionCtx{vlan: b.tciMask&0x1000 != 0 && b.tci&0x1000 != 0}
	c.ethType, c.hasEth = b.exact(ofp.OXMEthType)
	c.proto, c.hasProto = b.exact(ofp.OXMIPProto)
	return c
}

// instruction kinds in the order OpenFlow 1.1+ (and Open vSwitch) require.
const (
	instMeter = iota
	instApply
	instClear
	instWrite
	instMetadata
	instGoto
)

var instNames = [...]string{"meter", "apply_actions", "clear_actions", "write_actions", "write_metadata", "goto_table"}

// ovsExtensionActions are Open vSwitch actions that have no OpenFlow 1.3
// encoding (ovs-ofctl sends them as Nicira extensions).
var ovsExtensionActions = []string{"resubmit", "learn", "load", "move", "ct", "ct_clear", "nat", "note",
	"multipath", "bundle", "bundle_load", "output_reg", "set_tunnel", "set_tunnel64", "fin_timeout",
	"sample", "exit", "conjunction", "clone", "push_nsh", "pop_nsh", "check_pkt_larger", "dec_nsh_ttl",
	"encap", "decap", "enqueue", "stack_push", "stack_pop", "set_vlan_tci", "output_trunc", "debug_recirc",
	"debug_slow", "delete_field"}

// actionNames are the names parseActions knows, for suggestions.
var actionNames = []string{"output", "controller", "drop", "set_field", "mod_dl_src", "mod_dl_dst",
	"mod_nw_src", "mod_nw_dst", "mod_nw_tos", "mod_nw_ecn", "mod_nw_ttl", "set_nw_ttl", "mod_tp_src", "mod_tp_dst",
	"mod_vlan_vid", "mod_vlan_pcp", "set_vlan_vid", "set_vlan_pcp", "strip_vlan", "pop_vlan", "push_vlan",
	"push_mpls", "pop_mpls", "set_mpls_label", "set_mpls_tc", "set_mpls_ttl", "dec_mpls_ttl", "dec_ttl",
	"set_queue", "group", "copy_ttl_in", "copy_ttl_out", "push_pbb", "pop_pbb",
	"meter", "clear_actions", "write_actions", "write_metadata", "goto_table",
	"in_port", "local", "normal", "flood", "all", "table"}

// parsedInstr is one instruction (or, for instApply, one action) as
// parsed, in input order.
type parsedInstr struct {
	kind int
	pos  int
	act  ofp.Action
	inst ofp.Instruction
}

// parseInstructions parses s[start:end], an actions= clause: a list of
// actions (the apply-actions instruction) and instructions, in the order
// meter, actions, clear_actions, write_actions, write_metadata,
// goto_table.
func parseInstructions(s string, start, end int, c actionCtx) ([]ofp.Instruction, error) {
	items, err := parseActionList(s, start, end, &c, true)
	if err != nil {
		return nil, err
	}
	var out []ofp.Instruction
	var apply *ofp.InstrApplyActions
	for _, it := range items {
		if it.kind == instApply {
			if apply == nil {
				apply = &ofp.InstrApplyActions{}
				out = append(out, apply)
			}
			apply.Actions = append(apply.Actions, flattenActions([]ofp.Action{it.act})...)
			continue
		}
		if it.inst != nil {
			out = append(out, it.inst)
		}
	}
	return out, nil
}

// parseActions parses s[start:end] as a plain action list (no
// instructions).
func parseActions(s string, start, end int, c actionCtx) ([]ofp.Action, error) {
	items, err := parseActionList(s, start, end, &c, false)
	if err != nil {
		return nil, err
	}
	acts := make([]ofp.Action, 0, len(items))
	for _, it := range items {
		acts = append(acts, it.act)
	}
	return flattenActions(acts), nil
}

// parseActionList parses actions and, when allowInstr, instructions,
// checking the order of instructions as ovs-ofctl does.
func parseActionList(s string, start, end int, c *actionCtx, allowInstr bool) ([]parsedInstr, error) {
	lx := newLexer(s, start, end)
	var items []parsedInstr
	dropPos := -1
	for {
		t, ok := lx.next()
		if !ok {
			break
		}
		if strings.EqualFold(t.key, "drop") {
			dropPos = t.keyPos
			continue
		}
		it, err := parseAction(s, t, c)
		if err != nil {
			return nil, err
		}
		if it.kind != instApply && !allowInstr {
			return nil, errAt(t.keyPos, "%s instruction not allowed here", instNames[it.kind])
		}
		if n := len(items); n > 0 {
			prev := items[n-1].kind
			if prev == instApply && it.kind < prev || prev != instApply && it.kind <= prev {
				if it.kind == prev {
					return nil, errAt(t.keyPos, "duplicate %s instruction not allowed, for OpenFlow 1.1+ compatibility", instNames[prev])
				}
				return nil, errAt(t.keyPos, "invalid instruction ordering: %s must appear before %s, for OpenFlow 1.1+ compatibility", instNames[it.kind], instNames[prev])
			}
		}
		items = append(items, it)
	}
	if dropPos >= 0 && len(items) > 0 {
		return nil, errAt(dropPos, "\"drop\" must not be accompanied by any other action or instruction")
	}
	return items, nil
}

// parseAction parses one action or instruction.
func parseAction(s string, t token, c *actionCtx) (parsedInstr, error) {
	name := strings.ToLower(t.key)
	act := func(a ofp.Action) (parsedInstr, error) {
		return parsedInstr{kind: instApply, pos: t.keyPos, act: a}, nil
	}
	needArg := func() error {
		if !t.hasValue() || t.value == "" {
			return errAt(t.keyPos, "%s needs an argument (%s:VALUE)", name, name)
		}
		return nil
	}
	noArg := func() error {
		if t.value != "" {
			return errAt(t.valPos, "%s takes no argument", name)
		}
		return nil
	}
	num := func(what string, bits int) (uint64, error) {
		if err := needArg(); err != nil {
			return 0, err
		}
		v, ok := parseUint(t.value, bits)
		if !ok {
			return 0, errAt(t.valPos, "%s: %q is not a valid %s (a number of at most %d bits)", name, t.value, what, bits)
		}
		return v, nil
	}
	setField := func(f ofp.OXMField, v uint64) (parsedInstr, error) {
		return act(&ofp.ActionSetField{Field: ofp.OXM{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(f), Value: beBytes(v, ofp.OXMFields[f].Len)}})
	}
	switch name {
	case "output":
		if err := needArg(); err != nil {
			return parsedInstr{}, err
		}
		if t.delim == '(' || strings.Contains(t.value, "=") {
			return parsedInstr{}, errAt(t.valPos, "output(port=...,max_len=...) truncates packets, an Open vSwitch extension that OpenFlow 1.3 lacks")
		}
		if strings.Contains(t.value, "[") {
			return parsedInstr{}, errAt(t.valPos, "output to a register field is an Open vSwitch extension that OpenFlow 1.3 lacks")
		}
		p, err := parsePort(t.value)
		if err != nil {
			return parsedInstr{}, errAt(t.valPos, "output: %v", err)
		}
		return act(outputAction(p))
	case "controller":
		maxLen := uint64(ofp.ControllerMaxLenNoBuffer)
		if t.value != "" {
			if !strings.Contains(t.value, "=") {
				v, ok := parseUint(t.value, 16)
				if !ok {
					return parsedInstr{}, errAt(t.valPos, "controller: %q is not a valid max_len (0..65535)", t.value)
				}
				maxLen = v
			} else {
				lx := newLexer(s, t.valPos, t.valPos+len(t.value))
				for {
					kv, ok := lx.next()
					if !ok {
						break
					}
					switch {
					case kv.key == "max_len":
						v, ok := parseUint(kv.value, 16)
						if !ok {
							return parsedInstr{}, errAt(kv.valPos, "controller: %q is not a valid max_len (0..65535)", kv.value)
						}
						maxLen = v
					case kv.key == "reason" && kv.value == "action", kv.key == "id" && kv.value == "0":
					default:
						return parsedInstr{}, errAt(kv.keyPos, "controller: %s is an Open vSwitch extension that OpenFlow 1.3 lacks (only max_len is supported)", kv.key)
					}
				}
			}
		}
		return act(&ofp.ActionOutput{Port: ofp.PortController, MaxLen: uint16(maxLen)})
	case "set_field":
		return parseSetField(t, c)
	case "mod_dl_src", "mod_dl_dst":
		if err := needArg(); err != nil {
			return parsedInstr{}, err
		}
		m, ok := parseMAC(t.value)
		if !ok {
			return parsedInstr{}, errAt(t.valPos, "%s: %q is not an Ethernet address", name, t.value)
		}
		f := ofp.OXMEthSrc
		if name == "mod_dl_dst" {
			f = ofp.OXMEthDst
		}
		return act(&ofp.ActionSetField{Field: ofp.OXM{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(f), Value: m[:]}})
	case "mod_nw_src", "mod_nw_dst":
		if err := needArg(); err != nil {
			return parsedInstr{}, err
		}
		v, m, err := parseIPMasked(t.value, 4)
		if err != nil || m != nil {
			return parsedInstr{}, errAt(t.valPos, "%s: %q is not an IPv4 address", name, t.value)
		}
		f := ofp.OXMIPv4Src
		if name == "mod_nw_dst" {
			f = ofp.OXMIPv4Dst
		}
		return act(&ofp.ActionSetField{Field: ofp.OXM{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(f), Value: v}})
	case "mod_nw_tos":
		v, err := num("TOS", 8)
		if err != nil {
			return parsedInstr{}, err
		}
		if v&3 != 0 {
			return parsedInstr{}, errAt(t.valPos, "mod_nw_tos: %s: not a valid TOS (the low 2 bits are ECN: use a multiple of 4)", t.value)
		}
		return setField(ofp.OXMIPDSCP, v>>2)
	case "mod_nw_ecn":
		v, err := num("ECN", 2)
		if err != nil {
			return parsedInstr{}, err
		}
		return setField(ofp.OXMIPECN, v)
	case "mod_nw_ttl", "set_nw_ttl":
		v, err := num("TTL", 8)
		if err != nil {
			return parsedInstr{}, err
		}
		return act(&ofp.ActionSetNwTTL{TTL: uint8(v)})
	case "mod_tp_src", "mod_tp_dst":
		v, err := num("port", 16)
		if err != nil {
			return parsedInstr{}, err
		}
		src, dst, ok := l4Fields(c.ethType, c.proto)
		if !ok || !c.hasProto || !(c.proto == protoTCP || c.proto == protoUDP || c.proto == protoSCTP) {
			return parsedInstr{}, errAt(t.keyPos, "%s needs tcp, udp or sctp (or tcp6, udp6, sctp6) in the match", name)
		}
		if name == "mod_tp_dst" {
			src = dst
		}
		return setField(src, v)
	case "mod_vlan_vid", "set_vlan_vid", "mod_vlan_pcp", "set_vlan_pcp":
		isVID := strings.HasSuffix(name, "vid")
		bits := 3
		if isVID {
			bits = 12
		}
		v, err := num("VLAN "+name[len(name)-3:], bits)
		if err != nil {
			return parsedInstr{}, err
		}
		var acts []ofp.Action
		if strings.HasPrefix(name, "mod_") && !c.vlan {
			acts = append(acts, &ofp.ActionPushVLAN{EtherType: 0x8100})
		}
		c.vlan = !c.untracked
		if isVID {
			acts = append(acts, &ofp.ActionSetField{Field: ofp.OXM{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(ofp.OXMVlanVID), Value: beBytes(v|0x1000, 2)}})
		} else {
			acts = append(acts, &ofp.ActionSetField{Field: ofp.OXM{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(ofp.OXMVlanPCP), Value: []byte{byte(v)}}})
		}
		if len(acts) == 2 {
			return parsedInstr{kind: instApply, pos: t.keyPos, act: multiAction(acts)}, nil
		}
		return act(acts[0])
	case "strip_vlan", "pop_vlan":
		if err := noArg(); err != nil {
			return parsedInstr{}, err
		}
		c.vlan = false
		return act(&ofp.ActionPopVLAN{})
	case "push_vlan":
		v, err := num("ethertype", 16)
		if err != nil {
			return parsedInstr{}, err
		}
		if v != 0x8100 && v != 0x88a8 {
			return parsedInstr{}, errAt(t.valPos, "push_vlan: %s: not a valid VLAN ethertype (0x8100 or 0x88a8)", t.value)
		}
		c.vlan = !c.untracked
		return act(&ofp.ActionPushVLAN{EtherType: uint16(v)})
	case "push_mpls":
		v, err := num("ethertype", 16)
		if err != nil {
			return parsedInstr{}, err
		}
		if v != ethMPLS && v != ethMPLSMcst {
			return parsedInstr{}, errAt(t.valPos, "push_mpls: %s is not an MPLS ethertype (0x8847 or 0x8848)", t.value)
		}
		return act(&ofp.ActionPushMPLS{EtherType: uint16(v)})
	case "pop_mpls":
		v, err := num("ethertype", 16)
		if err != nil {
			return parsedInstr{}, err
		}
		return act(&ofp.ActionPopMPLS{EtherType: uint16(v)})
	case "set_mpls_label":
		v, err := num("MPLS label", 20)
		if err != nil {
			return parsedInstr{}, err
		}
		return setField(ofp.OXMMPLSLabel, v)
	case "set_mpls_tc":
		v, err := num("MPLS TC", 3)
		if err != nil {
			return parsedInstr{}, err
		}
		return setField(ofp.OXMMPLSTC, v)
	case "set_mpls_ttl":
		v, err := num("MPLS TTL", 8)
		if err != nil {
			return parsedInstr{}, err
		}
		return act(&ofp.ActionSetMPLSTTL{TTL: uint8(v)})
	case "dec_mpls_ttl":
		if err := noArg(); err != nil {
			return parsedInstr{}, err
		}
		return act(&ofp.ActionDecMPLSTTL{})
	case "dec_ttl":
		if t.value != "" {
			return parsedInstr{}, errAt(t.valPos, "dec_ttl with controller ids is an Open vSwitch extension that OpenFlow 1.3 lacks")
		}
		return act(&ofp.ActionDecNwTTL{})
	case "set_queue":
		v, err := num("queue id", 32)
		if err != nil {
			return parsedInstr{}, err
		}
		return act(&ofp.ActionSetQueue{QueueID: uint32(v)})
	case "group":
		v, err := num("group id", 32)
		if err != nil {
			return parsedInstr{}, err
		}
		return act(&ofp.ActionGroup{GroupID: uint32(v)})
	case "copy_ttl_in", "copy_ttl_out", "pop_pbb":
		if err := noArg(); err != nil {
			return parsedInstr{}, err
		}
		switch name {
		case "copy_ttl_in":
			return act(&ofp.ActionCopyTTLIn{})
		case "copy_ttl_out":
			return act(&ofp.ActionCopyTTLOut{})
		}
		return act(&ofp.ActionPopPBB{})
	case "push_pbb":
		v, err := num("ethertype", 16)
		if err != nil {
			return parsedInstr{}, err
		}
		return act(&ofp.ActionPushPBB{EtherType: uint16(v)})
	case "meter":
		v, err := num("meter id", 32)
		if err != nil {
			return parsedInstr{}, err
		}
		if v == 0 || v > uint64(ofp.MeterMax) && v != uint64(ofp.MeterSlowpath) && v != uint64(ofp.MeterController) {
			return parsedInstr{}, errAt(t.valPos, "meter: %s is not a valid meter id (1..0xffff0000)", t.value)
		}
		return parsedInstr{kind: instMeter, pos: t.keyPos, inst: &ofp.InstrMeter{MeterID: uint32(v)}}, nil
	case "clear_actions":
		if err := noArg(); err != nil {
			return parsedInstr{}, err
		}
		return parsedInstr{kind: instClear, pos: t.keyPos, inst: &ofp.InstrClearActions{}}, nil
	case "write_actions":
		if t.delim != '(' && t.value != "" {
			return parsedInstr{}, errAt(t.valPos, "write_actions takes a parenthesized action list: write_actions(ACTIONS)")
		}
		nested := *c
		acts, err := parseActions(s, t.valPos, t.valPos+len(t.value), nested)
		if err != nil {
			return parsedInstr{}, err
		}
		if len(acts) == 0 {
			// ovs-ofctl leaves out an empty write_actions (a no-op).
			return parsedInstr{kind: instWrite, pos: t.keyPos}, nil
		}
		return parsedInstr{kind: instWrite, pos: t.keyPos, inst: &ofp.InstrWriteActions{Actions: flattenActions(acts)}}, nil
	case "write_metadata":
		if err := needArg(); err != nil {
			return parsedInstr{}, err
		}
		vs, ms, hasMask := strings.Cut(t.value, "/")
		v, ok := parseUint(vs, 64)
		m := ^uint64(0)
		if hasMask && ok {
			m, ok = parseUint(ms, 64)
		}
		if !ok {
			return parsedInstr{}, errAt(t.valPos, "write_metadata: %q is not VALUE[/MASK] (64-bit numbers)", t.value)
		}
		return parsedInstr{kind: instMetadata, pos: t.keyPos, inst: &ofp.InstrWriteMetadata{Metadata: v, Mask: m}}, nil
	case "goto_table":
		v, err := num("table", 8)
		if err != nil {
			return parsedInstr{}, err
		}
		if v > uint64(ofp.TableMax) {
			return parsedInstr{}, errAt(t.valPos, "goto_table: table %d is outside 0..254", v)
		}
		return parsedInstr{kind: instGoto, pos: t.keyPos, inst: &ofp.InstrGotoTable{TableID: uint8(v)}}, nil
	case "apply_actions":
		return parsedInstr{}, errAt(t.keyPos, "apply_actions is the default instruction: list the actions without it")
	}
	if slices.Contains(ovsExtensionActions, name) {
		return parsedInstr{}, errAt(t.keyPos, "%s is an Open vSwitch extension action that OpenFlow 1.3 lacks", t.key)
	}
	if p, err := parsePort(t.key); err == nil && !t.hasValue() {
		return act(outputAction(p))
	}
	return parsedInstr{}, errAt(t.keyPos, "unknown action %q%s", t.key, suggest(t.key, actionNames))
}

// outputAction is an output to port p (the controller gets whole
// packets, as ovs-ofctl's default max_len).
func outputAction(p uint32) *ofp.ActionOutput {
	a := &ofp.ActionOutput{Port: p}
	if p == ofp.PortController {
		a.MaxLen = ofp.ControllerMaxLenNoBuffer
	}
	return a
}

// multiAction is several actions written as one (mod_vlan_vid's push and
// set); flattenActions expands it.
type multiAction []ofp.Action

func (multiAction) ActionType() ofp.ActionType { return ofp.ActTypeExperimenter }

func flattenActions(acts []ofp.Action) []ofp.Action {
	var out []ofp.Action
	for _, a := range acts {
		if m, ok := a.(multiAction); ok {
			out = append(out, m...)
		} else {
			out = append(out, a)
		}
	}
	return out
}

// setFieldNames maps the names set_field accepts to fields; tp_src and
// tp_dst (and mkTpSrc/mkTpDst) are resolved by the match's protocol.
func setFieldTarget(name string, c *actionCtx) (ofp.OXMField, bool, error) {
	switch name {
	case "icmp_type":
		return ofp.OXMICMPv4Type, false, nil
	case "icmp_code":
		return ofp.OXMICMPv4Code, false, nil
	case "dl_vlan":
		return ofp.OXMVlanVID, true, nil
	case "dl_vlan_pcp", "vlan_pcp":
		return ofp.OXMVlanPCP, false, nil
	case "vlan_vid":
		return ofp.OXMVlanVID, false, nil
	case "nw_tos":
		return ofp.OXMIPDSCP, true, nil
	case "tp_src", "tp_dst":
		src, dst, ok := l4Fields(c.ethType, c.proto)
		if !ok || !c.hasProto || !(c.proto == protoTCP || c.proto == protoUDP || c.proto == protoSCTP) {
			return 0, false, fmt.Errorf("%s needs tcp, udp or sctp in the match (or use tcp_src, udp_src, ...)", name)
		}
		if name == "tp_dst" {
			return dst, false, nil
		}
		return src, false, nil
	}
	if kw, ok := matchKeywords[name]; ok && kw.kind == mkOXM {
		return kw.f, false, nil
	}
	for f := range ofp.OXMField(ofp.NumOXMFields) {
		if fieldInfos[f].name == name || ofp.OXMFields[f].Name == name {
			return f, false, nil
		}
	}
	return 0, false, fmt.Errorf("unknown field %q%s", name, suggest(name, keywordNames()))
}

// parseSetField parses set_field:VALUE->FIELD.
func parseSetField(t token, c *actionCtx) (parsedInstr, error) {
	val, name, ok := strings.Cut(t.value, "->")
	if !ok || val == "" || name == "" {
		return parsedInstr{}, errAt(t.valPos, "set_field needs VALUE->FIELD, e.g. set_field:10.0.0.1->ip_dst")
	}
	if t.delim == '(' {
		// set_field(VALUE)->FIELD
		val = strings.TrimSuffix(val, ")")
	}
	namePos := t.valPos + len(t.value) - len(name)
	f, special, err := setFieldTarget(name, c)
	if err != nil {
		return parsedInstr{}, errAt(namePos, "set_field: %v", err)
	}
	var v, m []byte
	switch {
	case special && f == ofp.OXMVlanVID: // dl_vlan: a VID, tag present
		x, ok := parseUint(val, 12)
		if !ok {
			return parsedInstr{}, errAt(t.valPos, "set_field: %q is not a VLAN id (0..4095)", val)
		}
		v = beBytes(x|0x1000, 2)
	case special && f == ofp.OXMIPDSCP: // nw_tos: the TOS byte
		x, ok := parseUint(val, 8)
		if !ok || x&3 != 0 {
			return parsedInstr{}, errAt(t.valPos, "set_field: %q is not a valid TOS (a multiple of 4)", val)
		}
		v = []byte{byte(x >> 2)}
	default:
		v, m, err = parseFieldValue(f, val)
		if err != nil {
			return parsedInstr{}, errAt(t.valPos, "set_field: %v", err)
		}
	}
	if m != nil {
		return parsedInstr{}, errAt(t.valPos, "set_field: OpenFlow 1.3 cannot set part of a field (a masked set_field needs OpenFlow 1.5)")
	}
	if f == ofp.OXMVlanVID || f == ofp.OXMVlanPCP {
		c.vlan = !c.untracked
	}
	return parsedInstr{kind: instApply, pos: t.keyPos, act: &ofp.ActionSetField{Field: ofp.OXM{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(f), Value: v}}}, nil
}

// ---- printing ----

// FormatActions formats an action list the way ovs-ofctl prints it
// ("drop" when empty).
func FormatActions(acts []ofp.Action) string {
	if len(acts) == 0 {
		return "drop"
	}
	parts := make([]string, len(acts))
	for i, a := range acts {
		parts[i] = formatAction(a)
	}
	return strings.Join(parts, ",")
}

// formatAction formats one action as Open vSwitch decodes and prints it.
func formatAction(a ofp.Action) string {
	switch a := a.(type) {
	case *ofp.ActionOutput:
		switch {
		case a.Port == ofp.PortController:
			return "CONTROLLER:" + strconv.Itoa(int(a.MaxLen))
		case a.Port < 0xff00:
			return "output:" + strconv.FormatUint(uint64(a.Port), 10)
		case a.Port < ofp.PortMax:
			return "output:" + strconv.FormatUint(uint64(a.Port), 10) // not encodable by ovs-ofctl
		}
		return formatPort(a.Port)
	case *ofp.ActionSetField:
		o := &a.Field
		if o.Class != ofp.OXMClassOpenFlowBasic || int(o.Field) >= ofp.NumOXMFields || len(o.Value) != ofp.OXMFields[o.Field].Len {
			return "set_field:" + formatOXMRaw(o)
		}
		f := ofp.OXMField(o.Field)
		s := "set_field:" + formatFieldValue(f, o.Value)
		if o.HasMask && len(o.Mask) == len(o.Value) {
			s += "/" + formatFieldValue(f, o.Mask)
		}
		return s + "->" + fieldInfos[f].name
	case *ofp.ActionPushVLAN:
		return fmt.Sprintf("push_vlan:%#x", a.EtherType)
	case *ofp.ActionPopVLAN:
		return "pop_vlan"
	case *ofp.ActionPushMPLS:
		return fmt.Sprintf("push_mpls:0x%04x", a.EtherType)
	case *ofp.ActionPopMPLS:
		return fmt.Sprintf("pop_mpls:0x%04x", a.EtherType)
	case *ofp.ActionSetMPLSTTL:
		return fmt.Sprintf("set_mpls_ttl(%d)", a.TTL)
	case *ofp.ActionDecMPLSTTL:
		return "dec_mpls_ttl"
	case *ofp.ActionSetNwTTL:
		return fmt.Sprintf("mod_nw_ttl:%d", a.TTL)
	case *ofp.ActionDecNwTTL:
		return "dec_ttl"
	case *ofp.ActionSetQueue:
		return fmt.Sprintf("set_queue:%d", a.QueueID)
	case *ofp.ActionGroup:
		return fmt.Sprintf("group:%d", a.GroupID)
	case *ofp.ActionCopyTTLIn:
		return "copy_ttl_in"
	case *ofp.ActionCopyTTLOut:
		return "copy_ttl_out"
	case *ofp.ActionPushPBB:
		return fmt.Sprintf("push_pbb:%#x", a.EtherType)
	case *ofp.ActionPopPBB:
		return "pop_pbb"
	case *ofp.ActionExperimenter:
		return fmt.Sprintf("experimenter(0x%08x,data=0x%x)", a.Experimenter, a.Data)
	case multiAction:
		return FormatActions(a)
	}
	return fmt.Sprintf("unknown_action(%T)", a)
}

// instKind is the order slot of an instruction.
func instKind(in ofp.Instruction) int {
	switch in.(type) {
	case *ofp.InstrMeter:
		return instMeter
	case *ofp.InstrApplyActions:
		return instApply
	case *ofp.InstrClearActions:
		return instClear
	case *ofp.InstrWriteActions:
		return instWrite
	case *ofp.InstrWriteMetadata:
		return instMetadata
	case *ofp.InstrGotoTable:
		return instGoto
	}
	return instGoto + 1
}

// FormatInstructions formats instructions as ovs-ofctl's actions= clause:
// in the order meter, actions, clear_actions, write_actions,
// write_metadata, goto_table (whatever their order on the wire), "drop"
// when there is nothing to do.
func FormatInstructions(ins []ofp.Instruction) string {
	sorted := slices.Clone(ins)
	slices.SortStableFunc(sorted, func(a, b ofp.Instruction) int { return instKind(a) - instKind(b) })
	var parts []string
	for _, in := range sorted {
		switch in := in.(type) {
		case *ofp.InstrApplyActions:
			for _, a := range in.Actions {
				parts = append(parts, formatAction(a))
			}
		case *ofp.InstrWriteActions:
			parts = append(parts, "write_actions("+FormatActions(in.Actions)+")")
		case *ofp.InstrClearActions:
			parts = append(parts, "clear_actions")
		case *ofp.InstrWriteMetadata:
			s := "write_metadata:" + hexValue(in.Metadata)
			if in.Mask != ^uint64(0) {
				s += "/" + hexValue(in.Mask)
			}
			parts = append(parts, s)
		case *ofp.InstrGotoTable:
			parts = append(parts, fmt.Sprintf("goto_table:%d", in.TableID))
		case *ofp.InstrMeter:
			parts = append(parts, fmt.Sprintf("meter:%d", in.MeterID))
		case *ofp.InstrExperimenter:
			parts = append(parts, fmt.Sprintf("experimenter_instruction(0x%08x,data=0x%x)", in.Experimenter, in.Data))
		}
	}
	if len(parts) == 0 {
		return "drop"
	}
	return strings.Join(parts, ",")
}
