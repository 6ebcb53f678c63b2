package ofproto

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/govs/govs/ofproto/ofp"
)

// portName returns a port number as ovs-ofctl prints it.
func portName(p uint32) string {
	switch p {
	case ofp.PortInPort:
		return "IN_PORT"
	case ofp.PortTable:
		return "TABLE"
	case ofp.PortNormal:
		return "NORMAL"
	case ofp.PortFlood:
		return "FLOOD"
	case ofp.PortAll:
		return "ALL"
	case ofp.PortController:
		return "CONTROLLER"
	case ofp.PortLocal:
		return "LOCAL"
	case ofp.PortAny:
		return "ANY"
	}
	return fmt.Sprint(p)
}

// formatOXMValue formats one field value the way ovs-ofctl does.
func formatOXMValue(f ofp.OXMField, b []byte) string {
	switch {
	case len(b) == 6:
		return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
	case len(b) == 16:
		return netip.AddrFrom16([16]byte(b)).String()
	case len(b) == 4 && (f == ofp.OXMIPv4Src || f == ofp.OXMIPv4Dst || f == ofp.OXMArpSpa || f == ofp.OXMArpTpa):
		return netip.AddrFrom4([4]byte(b)).String()
	case f == ofp.OXMInPort || f == ofp.OXMInPhyPort:
		return portName(uint32(beUint(b)))
	case f == ofp.OXMEthType || f == ofp.OXMMetadata || f == ofp.OXMTunnelID || f == ofp.OXMVlanVID:
		return fmt.Sprintf("%#x", beUint(b))
	}
	return fmt.Sprint(beUint(b))
}

// formatOXM formats a match field as name=value[/mask].
func formatOXM(o *ofp.OXM) string {
	if o.Class != ofp.OXMClassOpenFlowBasic || int(o.Field) >= ofp.NumOXMFields {
		return fmt.Sprintf("oxm(class=%#x,field=%d)", o.Class, o.Field)
	}
	f := ofp.OXMField(o.Field)
	s := ofp.OXMFields[f].Name + "=" + formatOXMValue(f, o.Value)
	if o.HasMask {
		s += "/" + formatOXMValue(f, o.Mask)
	}
	return s
}

// formatMatchShort formats a match as a comma-separated field list
// ("*" for the empty match).
func formatMatchShort(m *ofp.Match) string {
	if len(m.Fields) == 0 {
		return "*"
	}
	parts := make([]string, len(m.Fields))
	for i := range m.Fields {
		parts[i] = formatOXM(&m.Fields[i])
	}
	return strings.Join(parts, ",")
}

// formatAction formats one action in ovs-ofctl's syntax.
func formatAction(a ofp.Action) string {
	switch a := a.(type) {
	case *ofp.ActionOutput:
		if a.Port == ofp.PortController {
			return fmt.Sprintf("CONTROLLER:%d", a.MaxLen)
		}
		if a.Port < ofp.PortMax {
			return fmt.Sprintf("output:%d", a.Port)
		}
		return portName(a.Port)
	case *ofp.ActionSetField:
		if int(a.Field.Field) < ofp.NumOXMFields && a.Field.Class == ofp.OXMClassOpenFlowBasic {
			f := ofp.OXMField(a.Field.Field)
			return fmt.Sprintf("set_field:%s->%s", formatOXMValue(f, a.Field.Value), ofp.OXMFields[f].Name)
		}
		return "set_field:?"
	case *ofp.ActionPushVLAN:
		return fmt.Sprintf("push_vlan:%#x", a.EtherType)
	case *ofp.ActionPopVLAN:
		return "pop_vlan"
	case *ofp.ActionPushMPLS:
		return fmt.Sprintf("push_mpls:%#x", a.EtherType)
	case *ofp.ActionPopMPLS:
		return fmt.Sprintf("pop_mpls:%#x", a.EtherType)
	case *ofp.ActionPushPBB:
		return fmt.Sprintf("push_pbb:%#x", a.EtherType)
	case *ofp.ActionPopPBB:
		return "pop_pbb"
	case *ofp.ActionGroup:
		return fmt.Sprintf("group:%d", a.GroupID)
	case *ofp.ActionSetQueue:
		return fmt.Sprintf("set_queue:%d", a.QueueID)
	case *ofp.ActionSetNwTTL:
		return fmt.Sprintf("set_nw_ttl:%d", a.TTL)
	case *ofp.ActionDecNwTTL:
		return "dec_ttl"
	case *ofp.ActionSetMPLSTTL:
		return fmt.Sprintf("set_mpls_ttl:%d", a.TTL)
	case *ofp.ActionDecMPLSTTL:
		return "dec_mpls_ttl"
	case *ofp.ActionCopyTTLOut:
		return "copy_ttl_out"
	case *ofp.ActionCopyTTLIn:
		return "copy_ttl_in"
	}
	return fmt.Sprintf("%T", a)
}

// formatActions formats an action list ("drop" when empty).
func formatActions(acts []ofp.Action) string {
	if len(acts) == 0 {
		return "drop"
	}
	parts := make([]string, len(acts))
	for i, a := range acts {
		parts[i] = formatAction(a)
	}
	return strings.Join(parts, ",")
}

// formatInstructions formats instructions as ovs-ofctl's actions= clause.
func formatInstructions(ins []ofp.Instruction) string {
	var parts []string
	for _, in := range ins {
		switch in := in.(type) {
		case *ofp.InstrApplyActions:
			parts = append(parts, formatActions(in.Actions))
		case *ofp.InstrWriteActions:
			parts = append(parts, "write_actions("+formatActions(in.Actions)+")")
		case *ofp.InstrClearActions:
			parts = append(parts, "clear_actions")
		case *ofp.InstrWriteMetadata:
			parts = append(parts, fmt.Sprintf("write_metadata:%#x/%#x", in.Metadata, in.Mask))
		case *ofp.InstrGotoTable:
			parts = append(parts, fmt.Sprintf("goto_table:%d", in.TableID))
		case *ofp.InstrMeter:
			parts = append(parts, fmt.Sprintf("meter:%d", in.MeterID))
		}
	}
	if len(parts) == 0 {
		return "drop"
	}
	return strings.Join(parts, ",")
}
