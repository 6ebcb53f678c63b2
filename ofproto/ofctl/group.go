package ofctl

import (
	"fmt"
	"io"
	"strings"

	"github.com/govs/govs/ofproto/ofp"
)

var groupTypes = []struct {
	name string
	typ  uint8
}{
	{"all", ofp.GroupTypeAll},
	{"select", ofp.GroupTypeSelect},
	{"indirect", ofp.GroupTypeIndirect},
	{"ff", ofp.GroupTypeFastFailover},
	{"fast_failover", ofp.GroupTypeFastFailover},
}

// ParseGroup parses a group in ovs-ofctl's syntax for the group-mod
// command cmd (ofp.GroupAdd for add-group, ofp.GroupModify for mod-group,
// ofp.GroupDelete for del-groups), e.g.
//
//	group_id=1,type=select,bucket=weight:2,output:1,bucket=weight:1,actions=output:2
//
// A bucket is weight:W, watch_port:P, watch_group:G and its actions
// (after actions= or directly). For ofp.GroupDelete the empty string
// means every group. The result is what ovs-ofctl -O OpenFlow13 sends.
func ParseGroup(s string, cmd uint16) (*ofp.GroupMod, error) {
	gm := &ofp.GroupMod{Command: cmd, GroupID: ofp.GroupAny}
	switch cmd {
	case ofp.GroupAdd, ofp.GroupModify, ofp.GroupDelete:
	default:
		return nil, fmt.Errorf("unknown group-mod command %d", cmd)
	}
	if cmd == ofp.GroupDelete && strings.TrimSpace(s) == "" {
		gm.GroupID = ofp.GroupAll
		return gm, nil
	}
	end := len(s)
	bkt := strings.Index(s, "bucket=")
	if bkt >= 0 {
		if cmd == ofp.GroupDelete {
			return nil, errAt(bkt, "del-groups takes no buckets")
		}
		end = bkt
	}
	hadType := false
	lx := newLexer(s, 0, end)
	for {
		t, ok := lx.next()
		if !ok {
			break
		}
		switch t.key {
		case "group_id":
			if strings.EqualFold(t.value, "all") {
				gm.GroupID = ofp.GroupAll
				continue
			}
			v, ok := parseUint(t.value, 32)
			if !ok || v > uint64(ofp.GroupMax) {
				return nil, errAt(t.valPos, "group_id: %q is not a group id (0..0xffffff00, or all)", t.value)
			}
			gm.GroupID = uint32(v)
		case "type":
			if cmd == ofp.GroupDelete {
				return nil, errAt(t.keyPos, "del-groups takes no type")
			}
			found := false
			for _, gt := range groupTypes {
				if t.value == gt.name {
					gm.GroupType, found = gt.typ, true
				}
			}
			if !found {
				return nil, errAt(t.valPos, "invalid group type %q (all, select, indirect or fast_failover)", t.value)
			}
			hadType = true
		case "selection_method", "selection_method_param", "fields", "command_bucket_id", "bucket_id":
			return nil, errAt(t.keyPos, "%s needs OpenFlow 1.5 or an Open vSwitch extension; govs speaks OpenFlow 1.3", t.key)
		default:
			return nil, errAt(t.keyPos, "unknown keyword %q%s", t.key, suggest(t.key, []string{"group_id", "type", "bucket"}))
		}
	}
	if gm.GroupID == ofp.GroupAny {
		return nil, errAt(0, "must specify a group_id")
	}
	if cmd != ofp.GroupDelete && !hadType {
		return nil, errAt(0, "must specify a type (type=all, select, indirect or fast_failover)")
	}
	for bkt >= 0 {
		start := bkt + len("bucket=")
		next := strings.Index(s[start:], "bucket=")
		bend := len(s)
		if next >= 0 {
			bend = start + next
		}
		b, err := parseBucket(s, start, bend, gm.GroupType)
		if err != nil {
			return nil, err
		}
		if gm.GroupType != ofp.GroupTypeSelect && b.Weight != 0 {
			return nil, errAt(bkt, "only select groups can have bucket weights")
		}
		gm.Buckets = append(gm.Buckets, b)
		bkt = -1
		if next >= 0 {
			bkt = start + next
		}
	}
	if gm.GroupType == ofp.GroupTypeIndirect && len(gm.Buckets) > 1 {
		return nil, errAt(0, "indirect groups can have at most one bucket")
	}
	return gm, nil
}

// parseBucket parses one bucket's text, s[start:end].
func parseBucket(s string, start, end int, typ uint8) (ofp.Bucket, error) {
	b := ofp.Bucket{WatchPort: ofp.PortAny, WatchGroup: ofp.GroupAny}
	if typ == ofp.GroupTypeSelect {
		b.Weight = 1
	}
	c := actionCtx{untracked: true}
	var items []parsedInstr
	hasActions := false
	lx := newLexer(s, start, end)
	for {
		t, ok := lx.next()
		if !ok {
			break
		}
		switch strings.ToLower(t.key) {
		case "weight":
			v, ok := parseUint(t.value, 16)
			if !ok {
				return b, errAt(t.valPos, "weight: %q is not a number (0..65535)", t.value)
			}
			b.Weight = uint16(v)
		case "watch_port":
			p, err := parsePort(t.value)
			if err != nil || (p >= 0xff00 && p != ofp.PortAny && p != ofp.PortController) {
				return b, errAt(t.valPos, "%s: invalid watch_port", t.value)
			}
			b.WatchPort = p
		case "watch_group":
			v, ok := parseUint(t.value, 32)
			if !ok || v > uint64(ofp.GroupMax) {
				return b, errAt(t.valPos, "invalid watch_group id %q", t.value)
			}
			b.WatchGroup = uint32(v)
		case "bucket_id":
			return b, errAt(t.keyPos, "bucket_id needs OpenFlow 1.5; govs speaks OpenFlow 1.3")
		case "action", "actions":
			hasActions = true
			acts, err := parseActionList(s, t.valPos, t.valPos+len(t.value), &c, false)
			if err != nil {
				return b, err
			}
			items = append(items, acts...)
		default:
			hasActions = true
			if strings.EqualFold(t.key, "drop") {
				continue
			}
			it, err := parseAction(s, t, &c)
			if err != nil {
				return b, err
			}
			if it.kind != instApply {
				return b, errAt(t.keyPos, "%s instruction not allowed here", instNames[it.kind])
			}
			items = append(items, it)
		}
	}
	if !hasActions {
		return b, errAt(start, "bucket must specify actions")
	}
	if typ == ofp.GroupTypeFastFailover && b.WatchPort == ofp.PortAny && b.WatchGroup == ofp.GroupAny {
		return b, errAt(start, "fast failover bucket requires watch_port or watch_group")
	}
	for _, it := range items {
		b.Actions = append(b.Actions, it.act)
	}
	b.Actions = flattenActions(b.Actions)
	return b, nil
}

// ParseGroups parses a file of groups, one a line (add-groups); with cmd
// ofp.GroupAdd a line may start with add, modify or delete.
func ParseGroups(r io.Reader, cmd uint16) ([]*ofp.GroupMod, error) {
	var gms []*ofp.GroupMod
	err := readLines(r, func(line string, _ int) error {
		c := cmd
		if cmd == ofp.GroupAdd {
			tok := line[:strings.IndexAny(line+",", itemSeps)]
			for _, x := range []struct {
				name string
				cmd  uint16
			}{{"add", ofp.GroupAdd}, {"delete", ofp.GroupDelete}, {"modify", ofp.GroupModify}} {
				if tok != "" && strings.HasPrefix(x.name, tok) {
					c = x.cmd
					line = strings.Repeat(" ", len(tok)) + line[len(tok):]
					break
				}
			}
		}
		gm, err := ParseGroup(line, c)
		if err != nil {
			return err
		}
		gms = append(gms, gm)
		return nil
	})
	return gms, err
}

// groupTypeName is how ovs-ofctl prints a group type.
func groupTypeName(t uint8) string {
	switch t {
	case ofp.GroupTypeAll:
		return "all"
	case ofp.GroupTypeSelect:
		return "select"
	case ofp.GroupTypeIndirect:
		return "indirect"
	case ofp.GroupTypeFastFailover:
		return "ff"
	}
	return "unknown"
}

// formatGroup formats a group the way ovs-ofctl does: group_id, type and
// each bucket with its non-default weight, watch port and group.
func formatGroup(id uint32, typ uint8, buckets []ofp.Bucket, withType bool) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "group_id=%d", id)
	if withType {
		sb.WriteString(",type=" + groupTypeName(typ))
	}
	if buckets == nil {
		return sb.String()
	}
	sb.WriteByte(',')
	defWeight := uint16(0)
	if typ == ofp.GroupTypeSelect {
		defWeight = 1
	}
	for _, b := range buckets {
		sb.WriteString("bucket=")
		if b.Weight != defWeight {
			fmt.Fprintf(&sb, "weight:%d,", b.Weight)
		}
		if b.WatchPort != ofp.PortAny {
			fmt.Fprintf(&sb, "watch_port:%s,", formatPort(b.WatchPort))
		}
		if b.WatchGroup != ofp.GroupAny {
			fmt.Fprintf(&sb, "watch_group:%d,", b.WatchGroup)
		}
		sb.WriteString("actions=" + FormatActions(b.Actions) + ",")
	}
	return strings.TrimSuffix(sb.String(), ",")
}

// FormatGroupDesc formats one group of a group description reply as
// `ovs-ofctl -O OpenFlow13 dump-groups` prints it (without the leading
// space), e.g. "group_id=1,type=all,bucket=actions=output:1".
func FormatGroupDesc(g *ofp.GroupDesc) string {
	b := g.Buckets
	if b == nil {
		b = []ofp.Bucket{}
	}
	return formatGroup(g.GroupID, g.GroupType, b, true)
}

// FormatGroupMod formats a GROUP_MOD in the syntax ParseGroup reads for
// its command.
func FormatGroupMod(gm *ofp.GroupMod) string {
	if gm.Command == ofp.GroupDelete {
		if gm.GroupID == ofp.GroupAll {
			return "group_id=all"
		}
		return fmt.Sprintf("group_id=%d", gm.GroupID)
	}
	s := formatGroup(gm.GroupID, gm.GroupType, gm.Buckets, true)
	if gm.GroupType == ofp.GroupTypeFastFailover {
		s = strings.Replace(s, ",type=ff", ",type=fast_failover", 1)
	}
	return s
}

// FormatGroupStats formats one group's statistics as
// `ovs-ofctl -O OpenFlow13 dump-group-stats` prints them.
func FormatGroupStats(g *ofp.GroupStats) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "group_id=%d,", g.GroupID)
	if g.DurationSec != ^uint32(0) {
		fmt.Fprintf(&sb, "duration=%s,", formatDuration(g.DurationSec, g.DurationNsec))
	}
	fmt.Fprintf(&sb, "ref_count=%d,packet_count=%d,byte_count=%d", g.RefCount, g.PacketCount, g.ByteCount)
	for i, b := range g.Buckets {
		if b.PacketCount != ^uint64(0) {
			fmt.Fprintf(&sb, ",bucket%d:packet_count=%d,byte_count=%d", i, b.PacketCount, b.ByteCount)
		}
	}
	return sb.String()
}
