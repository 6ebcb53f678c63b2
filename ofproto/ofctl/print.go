package ofctl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/govs/govs/ofproto/ofp"
)

// msgNames are ovs-ofctl's names of OpenFlow 1.3 message types.
var msgNames = map[ofp.MsgType]string{
	ofp.TypeHello:                 "OFPT_HELLO",
	ofp.TypeError:                 "OFPT_ERROR",
	ofp.TypeEchoRequest:           "OFPT_ECHO_REQUEST",
	ofp.TypeEchoReply:             "OFPT_ECHO_REPLY",
	ofp.TypeExperimenter:          "OFPT_EXPERIMENTER",
	ofp.TypeFeaturesRequest:       "OFPT_FEATURES_REQUEST",
	ofp.TypeFeaturesReply:         "OFPT_FEATURES_REPLY",
	ofp.TypeGetConfigRequest:      "OFPT_GET_CONFIG_REQUEST",
	ofp.TypeGetConfigReply:        "OFPT_GET_CONFIG_REPLY",
	ofp.TypeSetConfig:             "OFPT_SET_CONFIG",
	ofp.TypePacketIn:              "OFPT_PACKET_IN",
	ofp.TypeFlowRemoved:           "OFPT_FLOW_REMOVED",
	ofp.TypePortStatus:            "OFPT_PORT_STATUS",
	ofp.TypePacketOut:             "OFPT_PACKET_OUT",
	ofp.TypeFlowMod:               "OFPT_FLOW_MOD",
	ofp.TypeGroupMod:              "OFPT_GROUP_MOD",
	ofp.TypePortMod:               "OFPT_PORT_MOD",
	ofp.TypeTableMod:              "OFPT_TABLE_MOD",
	ofp.TypeBarrierRequest:        "OFPT_BARRIER_REQUEST",
	ofp.TypeBarrierReply:          "OFPT_BARRIER_REPLY",
	ofp.TypeQueueGetConfigRequest: "OFPT_QUEUE_GET_CONFIG_REQUEST",
	ofp.TypeQueueGetConfigReply:   "OFPT_QUEUE_GET_CONFIG_REPLY",
	ofp.TypeRoleRequest:           "OFPT_ROLE_REQUEST",
	ofp.TypeRoleReply:             "OFPT_ROLE_REPLY",
	ofp.TypeGetAsyncRequest:       "OFPT_GET_ASYNC_REQUEST",
	ofp.TypeGetAsyncReply:         "OFPT_GET_ASYNC_REPLY",
	ofp.TypeSetAsync:              "OFPT_SET_ASYNC",
	ofp.TypeMeterMod:              "OFPT_METER_MOD",
}

// mpNames are ovs-ofctl's names of multipart types ("OFPST_FLOW").
var mpNames = map[ofp.MultipartType]string{
	ofp.MPDesc:          "OFPST_DESC",
	ofp.MPFlow:          "OFPST_FLOW",
	ofp.MPAggregate:     "OFPST_AGGREGATE",
	ofp.MPTable:         "OFPST_TABLE",
	ofp.MPPortStats:     "OFPST_PORT",
	ofp.MPQueue:         "OFPST_QUEUE",
	ofp.MPGroup:         "OFPST_GROUP",
	ofp.MPGroupDesc:     "OFPST_GROUP_DESC",
	ofp.MPGroupFeatures: "OFPST_GROUP_FEATURES",
	ofp.MPMeter:         "OFPST_METER",
	ofp.MPMeterConfig:   "OFPST_METER_CONFIG",
	ofp.MPMeterFeatures: "OFPST_METER_FEATURES",
	ofp.MPTableFeatures: "OFPST_TABLE_FEATURES",
	ofp.MPPortDesc:      "OFPST_PORT_DESC",
}

// messageName returns ovs-ofctl's name of the message that starts b, if
// enough of it is there to tell.
func messageName(b []byte) (string, bool) {
	if len(b) < ofp.HeaderLen {
		return "", false
	}
	t := ofp.MsgType(b[1])
	switch t {
	case ofp.TypeMultipartRequest, ofp.TypeMultipartReply:
		if len(b) < 16 {
			return "", false
		}
		n, ok := mpNames[ofp.MultipartType(binary.BigEndian.Uint16(b[8:]))]
		if !ok {
			return "", false
		}
		if t == ofp.TypeMultipartRequest {
			return n + " request", true
		}
		return n + " reply", true
	case ofp.TypeExperimenter:
		if len(b) >= 16 && binary.BigEndian.Uint32(b[8:]) == ofp.ONFExperimenter {
			switch binary.BigEndian.Uint32(b[12:]) {
			case ofp.ONFTypeBundleCtrl:
				return "ONFT_BUNDLE_CONTROL", true
			case ofp.ONFTypeBundleAdd:
				return "ONFT_BUNDLE_ADD_MESSAGE", true
			}
		}
	}
	n, ok := msgNames[t]
	return n, ok
}

// headerString is "NAME (OF1.3) (xid=0x2):".
func headerString(name string, b []byte) string {
	v := ""
	switch b[0] {
	case 1:
	case 2:
		v = " (OF1.1)"
	case 3:
		v = " (OF1.2)"
	case 4:
		v = " (OF1.3)"
	case 5:
		v = " (OF1.4)"
	case 6:
		v = " (OF1.5)"
	default:
		v = fmt.Sprintf(" (OF 0x%02x)", b[0])
	}
	return fmt.Sprintf("%s%s (xid=0x%x):", name, v, binary.BigEndian.Uint32(b[4:]))
}

// hexDump is Open vSwitch's ds_put_hex_dump with ASCII: 16 bytes a line,
// a '-' after the eighth.
func hexDump(b []byte) string {
	var sb strings.Builder
	for off := 0; off < len(b); off += 16 {
		line := b[off:min(off+16, len(b))]
		fmt.Fprintf(&sb, "%08x  ", off)
		for i := 0; i < 16; i++ {
			if i < len(line) {
				sep := byte(' ')
				if i == 7 {
					sep = '-'
				}
				fmt.Fprintf(&sb, "%02x%c", line[i], sep)
			} else {
				sb.WriteString("   ")
			}
		}
		sb.WriteByte('|')
		for i := 0; i < 16; i++ {
			switch {
			case i >= len(line):
				sb.WriteByte(' ')
			case line[i] >= 32 && line[i] < 127:
				sb.WriteByte(line[i])
			default:
				sb.WriteByte('.')
			}
		}
		sb.WriteString("|\n")
	}
	return sb.String()
}

// ErrorName returns ovs-ofctl's name of an OpenFlow 1.3 error (e.g.
// "OFPBMC_BAD_PREREQ"), or "" if it has none.
func ErrorName(typ, code uint16, experimenter uint32) string {
	if typ == ofp.ETExperimenter {
		if experimenter == ofp.ONFExperimenter {
			return onfErrorNames[code]
		}
		return ""
	}
	return errorNames[[2]uint16{typ, code}]
}

// decodeErrorName names a decoding failure the way ovs-ofctl names its
// own.
func decodeErrorName(err error) string {
	var oe *ofp.Error
	if errors.As(err, &oe) {
		if n := ErrorName(oe.ErrType, oe.Code, oe.Experimenter); n != "" {
			return n
		}
	}
	return "OFPBRC_BAD_LEN"
}

// FormatMessage formats one OpenFlow message (header included) the way
// ovs-ofctl prints it, ending in a newline: the header
// ("OFPST_FLOW reply (OF1.3) (xid=0x2):"), then the body. Truncated
// messages (such as the copy of the offending message in an error) are
// printed as ovs-ofctl does: their name and a hex dump.
func FormatMessage(b []byte) string {
	switch {
	case len(b) == 0:
		return "OpenFlow message is empty\n"
	case len(b) < ofp.HeaderLen:
		return fmt.Sprintf("OpenFlow packet too short (only %d bytes):\n", len(b)) + hexDump(b)
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	switch {
	case n > len(b):
		var sb strings.Builder
		if name, ok := messageName(b); ok {
			sb.WriteString(headerString(name, b) + "\n")
		}
		fmt.Fprintf(&sb, "(***truncated to %d bytes from %d***)\n", len(b), n)
		return sb.String() + hexDump(b)
	case n < len(b):
		return fmt.Sprintf("(***only uses %d bytes out of %d***)\n", n, len(b)) + hexDump(b)
	}
	name, ok := messageName(b)
	if !ok {
		return "***decode error: OFPBRC_BAD_TYPE***\n" + hexDump(b)
	}
	head := headerString(name, b)
	body, err := formatBody(b)
	s := head + body
	if err != nil {
		if len(s) > len(head) {
			s = strings.TrimRight(s, " ")
			if !strings.HasSuffix(s, "\n") {
				s += "\n"
			}
		} else {
			s += " "
		}
		s += "***decode error: " + decodeErrorName(err) + "***\n"
		return s + hexDump(b)
	}
	s = strings.TrimRight(s, " ")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

// formatBody formats what follows a message's header.
func formatBody(b []byte) (string, error) {
	_, m, err := ofp.Decode(b)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	switch m := m.(type) {
	case *ofp.ErrorMsg:
		name := ErrorName(m.ErrType, m.Code, m.Experimenter)
		if name == "" {
			return "", ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadLen, "unknown error")
		}
		sb.WriteString(" " + name + "\n")
		if m.ErrType == ofp.ETHelloFailed {
			sb.WriteString(printable(m.Data))
		} else {
			sb.WriteString(FormatMessage(m.Data))
		}
	case *ofp.FeaturesReply:
		fmt.Fprintf(&sb, " dpid:%016x\nn_tables:%d, n_buffers:%d", m.DatapathID, m.NTables, m.NBuffers)
		if m.AuxiliaryID != 0 {
			fmt.Fprintf(&sb, ", auxiliary_id:%d", m.AuxiliaryID)
		}
		sb.WriteString("\ncapabilities: " + formatCapabilities(m.Capabilities) + "\n")
	case *ofp.GetConfigReply:
		sb.WriteString(formatSwitchConfig(m.Flags, m.MissSendLen))
	case *ofp.SetConfig:
		sb.WriteString(formatSwitchConfig(m.Flags, m.MissSendLen))
	case *ofp.FlowMod:
		sb.WriteString(formatFlowModOVS(m))
	case *ofp.GroupMod:
		cmd := map[uint16]string{ofp.GroupAdd: "ADD", ofp.GroupModify: "MOD", ofp.GroupDelete: "DEL"}[m.Command]
		if cmd == "" {
			cmd = fmt.Sprintf("cmd:%d", m.Command)
		}
		sb.WriteString("\n " + cmd + " " + formatGroup(m.GroupID, m.GroupType, m.Buckets, true))
	case *ofp.MeterMod:
		cmd := map[uint16]string{ofp.MeterAdd: "ADD", ofp.MeterModify: "MOD", ofp.MeterDelete: "DEL"}[m.Command]
		if cmd == "" {
			cmd = fmt.Sprintf("cmd:%d", m.Command)
		}
		sb.WriteString(" " + cmd + " " + formatMeter(m.MeterID, m.Flags, m.Bands, "\n") + "\n")
	case *ofp.PacketOut:
		in := ofp.Match{Fields: []ofp.OXM{{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(ofp.OXMInPort), Value: beBytes(uint64(m.InPort), 4)}}}
		sb.WriteString(" " + FormatMatch(&in) + " actions=" + FormatActions(m.Actions))
		if m.BufferID == ofp.NoBuffer {
			fmt.Fprintf(&sb, " data_len=%d", len(m.Data))
		} else {
			fmt.Fprintf(&sb, " buffer=0x%08x", m.BufferID)
		}
	case *ofp.PacketIn:
		sb.WriteString(formatPacketIn(m))
	case *ofp.PortStatus:
		reason := map[uint8]string{ofp.PortReasonAdd: "ADD", ofp.PortReasonDelete: "DEL", ofp.PortReasonModify: "MOD"}[m.Reason]
		if reason == "" {
			reason = fmt.Sprintf("reason=%d", m.Reason)
		}
		sb.WriteString(" " + reason + ":" + formatPort16(m.Desc))
	case *ofp.FlowRemoved:
		sb.WriteString(formatFlowRemoved(m))
	case *ofp.MultipartReply:
		if m.Flags != 0 {
			sb.WriteString(" flags=")
			if m.Flags&ofp.MPFlagMore != 0 {
				sb.WriteString("[more]")
			}
			if rest := m.Flags &^ ofp.MPFlagMore; rest != 0 {
				fmt.Fprintf(&sb, "[***unknown flags 0x%04x***]", rest)
			}
		}
		sb.WriteString(formatMultipartReply(m.Body))
	case *ofp.MultipartRequest:
		sb.WriteString(formatMultipartRequest(m.Body))
	case *ofp.EchoRequest, *ofp.EchoReply, *ofp.BarrierRequest, *ofp.BarrierReply, *ofp.FeaturesRequest,
		*ofp.GetConfigRequest, *ofp.Hello:
	case *ofp.RoleRequest:
		sb.WriteString(formatRole(m.Role, m.GenerationID))
	case *ofp.RoleReply:
		sb.WriteString(formatRole(m.Role, m.GenerationID))
	case *ofp.BundleCtrl:
		sb.WriteString(formatBundleCtrl(m))
	case *ofp.BundleAdd:
		fmt.Fprintf(&sb, "\n bundle_id=%#x flags=%s\n", m.BundleID, formatBundleFlags(m.Flags))
		sb.WriteString(FormatMessage(m.Message))
	}
	return sb.String(), nil
}

// printable is Open vSwitch's ds_put_printable.
func printable(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 32 && c < 127 && c != '\\' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "\\%03o", c)
		}
	}
	return sb.String()
}

// formatCapabilities prints OpenFlow 1.3 capability bits in Open
// vSwitch's order (group stats after port stats) and names.
func formatCapabilities(c uint32) string {
	type bit struct {
		wire uint32
		name string
	}
	bits := []bit{{ofp.CapFlowStats, "FLOW_STATS"}, {ofp.CapTableStats, "TABLE_STATS"}, {ofp.CapPortStats, "PORT_STATS"},
		{ofp.CapGroupStats, "GROUP_STATS"}, {ofp.CapIPReasm, "IP_REASM"}, {ofp.CapQueueStats, "QUEUE_STATS"},
		{ofp.CapPortBlocked, "PORT_BLOCKED"}}
	var names []string
	for _, b := range bits {
		if c&b.wire != 0 {
			names = append(names, b.name)
		}
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, " ")
}

func formatSwitchConfig(flags, missSendLen uint16) string {
	frags := [...]string{"normal", "drop", "reassemble", "nx-match"}[flags&ofp.ConfigFragMask]
	return fmt.Sprintf(" frags=%s miss_send_len=%d\n", frags, missSendLen)
}

// formatFlowModOVS prints a FLOW_MOD the way ovs-ofctl does in messages
// (" ADD table:1 priority=5,ip actions=drop").
func formatFlowModOVS(fm *ofp.FlowMod) string {
	var sb strings.Builder
	cmd := [...]string{"ADD", "MOD", "MOD_STRICT", "DEL", "DEL_STRICT"}
	if int(fm.Command) < len(cmd) {
		sb.WriteString(" " + cmd[fm.Command])
	} else {
		fmt.Fprintf(&sb, " cmd:%d", fm.Command)
	}
	if fm.TableID != 0 {
		fmt.Fprintf(&sb, " table:%d", fm.TableID)
	}
	sb.WriteString(" " + formatMatch(&fm.Match, int(fm.Priority)))
	if !strings.HasSuffix(sb.String(), " ") {
		sb.WriteByte(' ')
	}
	if fm.Command == ofp.FlowAdd {
		if fm.Cookie != 0 && fm.Cookie != ^uint64(0) {
			fmt.Fprintf(&sb, "cookie:0x%x ", fm.Cookie)
		}
	} else if fm.CookieMask != 0 {
		fmt.Fprintf(&sb, "cookie:0x%x/0x%x ", fm.Cookie, fm.CookieMask)
	}
	if fm.IdleTimeout != 0 {
		fmt.Fprintf(&sb, "idle:%d ", fm.IdleTimeout)
	}
	if fm.HardTimeout != 0 {
		fmt.Fprintf(&sb, "hard:%d ", fm.HardTimeout)
	}
	if fm.BufferID != ofp.NoBuffer {
		fmt.Fprintf(&sb, "buf:0x%x ", fm.BufferID)
	}
	if fm.OutPort != ofp.PortAny {
		fmt.Fprintf(&sb, "out_port:%s ", formatPort(fm.OutPort))
	}
	sb.WriteString(formatFlags(fm.Flags))
	sb.WriteString("actions=" + FormatInstructions(fm.Instructions))
	return sb.String()
}

func formatRole(role uint32, gen uint64) string {
	names := map[uint32]string{ofp.RoleNoChange: "nochange", ofp.RoleEqual: "equal", ofp.RoleMaster: "master", ofp.RoleSlave: "slave"}
	s := " role=" + names[role]
	if role != ofp.RoleNoChange {
		s += fmt.Sprintf(" generation_id=%d", gen)
	}
	return s
}

func formatBundleFlags(f uint16) string {
	var parts []string
	if f&ofp.BundleFlagAtomic != 0 {
		parts = append(parts, "atomic")
	}
	if f&ofp.BundleFlagOrdered != 0 {
		parts = append(parts, "ordered")
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, " ")
}

func formatBundleCtrl(m *ofp.BundleCtrl) string {
	types := [...]string{"OPEN_REQUEST", "OPEN_REPLY", "CLOSE_REQUEST", "CLOSE_REPLY", "COMMIT_REQUEST", "COMMIT_REPLY",
		"DISCARD_REQUEST", "DISCARD_REPLY"}
	t := fmt.Sprintf("%d", m.CtrlType)
	if int(m.CtrlType) < len(types) {
		t = types[m.CtrlType]
	}
	return fmt.Sprintf("\n bundle_id=%#x type=%s flags=%s", m.BundleID, t, formatBundleFlags(m.Flags))
}

// ---- ports ----

// port16 is a port number as Open vSwitch numbers ports internally
// (16 bits), which is how it sorts them.
func port16(p uint32) uint32 {
	if p >= ofp.PortMax {
		return p - 0xffff0000
	}
	return p
}

func bitNames(bits uint32, names map[uint32]string) string {
	if bits == 0 {
		return "0"
	}
	var parts []string
	for i := 0; i < 32; i++ {
		b := uint32(1) << i
		if bits&b != 0 {
			if n, ok := names[b]; ok {
				parts = append(parts, n)
				bits &^= b
			}
		}
	}
	if bits != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", bits))
	}
	return strings.Join(parts, " ")
}

var portConfigNames = map[uint32]string{ofp.PortConfigDown: "PORT_DOWN", ofp.PortConfigNoRecv: "NO_RECV",
	ofp.PortConfigNoFwd: "NO_FWD", ofp.PortConfigNoPacketIn: "NO_PACKET_IN"}
var portStateNames = map[uint32]string{ofp.PortStateLinkDown: "LINK_DOWN", ofp.PortStateBlocked: "BLOCKED", ofp.PortStateLive: "LIVE"}
var portFeatureNames = map[uint32]string{
	ofp.PortFeature10MbHD: "10MB-HD", ofp.PortFeature10MbFD: "10MB-FD", ofp.PortFeature100MbHD: "100MB-HD",
	ofp.PortFeature100MbFD: "100MB-FD", ofp.PortFeature1GbHD: "1GB-HD", ofp.PortFeature1GbFD: "1GB-FD",
	ofp.PortFeature10GbFD: "10GB-FD", ofp.PortFeature40GbFD: "40GB-FD", ofp.PortFeature100GbFD: "100GB-FD",
	ofp.PortFeature1TbFD: "1TB-FD", ofp.PortFeatureOther: "OTHER", ofp.PortFeatureCopper: "COPPER",
	ofp.PortFeatureFiber: "FIBER", ofp.PortFeatureAutoneg: "AUTO_NEG", ofp.PortFeaturePause: "AUTO_PAUSE",
	ofp.PortFeaturePauseAsym: "AUTO_PAUSE_ASYM"}

// FormatPort formats a port description the way ovs-ofctl's show and
// dump-ports-desc do (several lines, each ending in a newline).
func FormatPort(p *ofp.Port) string {
	name := p.Name
	for i := 0; i < len(name); i++ {
		if name[i] < 32 || name[i] >= 127 {
			name = name[:i]
			break
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, " %s(%s): addr:%s\n", formatPort(p.PortNo), name, formatMAC(p.HWAddr[:]))
	sb.WriteString("     config:     " + bitNames(p.Config&0x65, portConfigNames) + "\n")
	sb.WriteString("     state:      " + bitNames(p.State&7, portStateNames) + "\n")
	for _, f := range []struct {
		label string
		bits  uint32
	}{{"current:    ", p.Curr}, {"advertised: ", p.Advertised}, {"supported:  ", p.Supported}, {"peer:       ", p.Peer}} {
		if f.bits&0xffff != 0 {
			sb.WriteString("     " + f.label + bitNames(f.bits&0xffff, portFeatureNames) + "\n")
		}
	}
	fmt.Fprintf(&sb, "     speed: %d Mbps now, %d Mbps max\n", p.CurrSpeed/1000, p.MaxSpeed/1000)
	return sb.String()
}

// formatPort16 is FormatPort without the leading space (port status).
func formatPort16(p ofp.Port) string { return FormatPort(&p)[1:] }

// FormatPorts formats port descriptions in port number order, as
// ovs-ofctl sorts them.
func FormatPorts(ports []ofp.Port) string {
	sorted := slices.Clone(ports)
	slices.SortStableFunc(sorted, func(a, b ofp.Port) int { return int(port16(a.PortNo)) - int(port16(b.PortNo)) })
	var sb strings.Builder
	for i := range sorted {
		sb.WriteString(FormatPort(&sorted[i]))
	}
	return sb.String()
}

// FormatPortStats formats one port's counters as ovs-ofctl's dump-ports
// does (three lines).
func FormatPortStats(ps *ofp.PortStats) string {
	var sb strings.Builder
	sb.WriteString("  port ")
	if port16(ps.PortNo) < 10 {
		sb.WriteByte(' ')
	}
	sb.WriteString(formatPort(ps.PortNo))
	fmt.Fprintf(&sb, ": rx pkts=%s, bytes=%s, drop=%s, errs=%s, frame=%s, over=%s, crc=%s\n",
		statValue(ps.RxPackets), statValue(ps.RxBytes), statValue(ps.RxDropped), statValue(ps.RxErrors),
		statValue(ps.RxFrameErr), statValue(ps.RxOverErr), statValue(ps.RxCRCErr))
	fmt.Fprintf(&sb, "           tx pkts=%s, bytes=%s, drop=%s, errs=%s, coll=%s\n",
		statValue(ps.TxPackets), statValue(ps.TxBytes), statValue(ps.TxDropped), statValue(ps.TxErrors),
		statValue(ps.Collisions))
	if ps.DurationSec != ^uint32(0) {
		sb.WriteString("           duration=" + formatDuration(ps.DurationSec, ps.DurationNsec) + "\n")
	}
	return sb.String()
}

// dittoRun is a run of tables equal to the one printed before them, which
// ovs-ofctl prints as one "ditto" line (dump-tables, dump-table-features).
type dittoRun struct{ first, last int }

func newDittoRun() dittoRun { return dittoRun{first: -1} }

// add extends the run with table id.
func (d *dittoRun) add(id uint8) {
	if d.first < 0 {
		d.first = int(id)
	}
	d.last = int(id)
}

// flush prints the run, if there is one, and starts a new one.
func (d *dittoRun) flush(sb *strings.Builder) {
	switch {
	case d.first < 0:
	case d.first == d.last:
		fmt.Fprintf(sb, "\n  table %d: ditto\n", d.first)
	default:
		fmt.Fprintf(sb, "\n  tables %d...%d: ditto\n", d.first, d.last)
	}
	d.first = -1
}

// formatTableStats prints table statistics as ovs-ofctl's dump-tables:
// each table, and "ditto" for runs equal to the table before.
func formatTableStats(stats []ofp.TableStats) string {
	var sb strings.Builder
	ditto := newDittoRun()
	for i, st := range stats {
		if i > 0 && st.ActiveCount == stats[i-1].ActiveCount && st.LookupCount == stats[i-1].LookupCount &&
			st.MatchedCount == stats[i-1].MatchedCount {
			ditto.add(st.TableID)
			continue
		}
		ditto.flush(&sb)
		fmt.Fprintf(&sb, "\n  table %d:\n    active=%d, lookup=%d, matched=%d\n", st.TableID, st.ActiveCount,
			st.LookupCount, st.MatchedCount)
	}
	ditto.flush(&sb)
	return sb.String()
}

// ---- multipart ----

func formatMultipartReply(body ofp.MultipartBody) string {
	var sb strings.Builder
	switch b := body.(type) {
	case *ofp.DescReply:
		fmt.Fprintf(&sb, "\nManufacturer: %s\nHardware: %s\nSoftware: %s\nSerial Num: %s\nDP Description: %s\n",
			b.MfrDesc, b.HWDesc, b.SWDesc, b.SerialNum, b.DPDesc)
	case *ofp.FlowStatsReply:
		for i := range b.Stats {
			sb.WriteString("\n " + FormatFlowStats(&b.Stats[i]))
		}
	case *ofp.AggregateStatsReply:
		fmt.Fprintf(&sb, " packet_count=%d byte_count=%d flow_count=%d", b.PacketCount, b.ByteCount, b.FlowCount)
	case *ofp.TableStatsReply:
		sb.WriteString(formatTableStats(b.Stats))
	case *ofp.PortStatsReply:
		fmt.Fprintf(&sb, " %d ports\n", len(b.Stats))
		for i := range b.Stats {
			sb.WriteString(FormatPortStats(&b.Stats[i]))
		}
	case *ofp.PortDescReply:
		sb.WriteString("\n" + FormatPorts(b.Ports))
	case *ofp.GroupDescReply:
		for i := range b.Groups {
			sb.WriteString("\n " + FormatGroupDesc(&b.Groups[i]))
		}
	case *ofp.GroupStatsReply:
		for i := range b.Stats {
			sb.WriteString("\n " + FormatGroupStats(&b.Stats[i]))
		}
	case *ofp.GroupFeaturesReply:
		sb.WriteString(formatGroupFeatures(b))
	case *ofp.MeterConfigReply:
		for i := range b.Configs {
			sb.WriteString("\n" + FormatMeterConfig(&b.Configs[i]) + "\n")
		}
	case *ofp.MeterStatsReply:
		for i := range b.Stats {
			sb.WriteString("\n" + FormatMeterStats(&b.Stats[i]))
		}
	case *ofp.MeterFeaturesReply:
		fmt.Fprintf(&sb, "\nmax_meter:%d max_bands:%d max_color:%d\n", b.MaxMeter, b.MaxBands, b.MaxColor)
		sb.WriteString("band_types: " + bitNames(b.BandTypes, map[uint32]string{1 << ofp.MeterBandDrop: "drop", 1 << ofp.MeterBandDSCPRemark: "dscp_remark"}) + "\n")
		sb.WriteString("capabilities: " + bitNames(b.Capabilities, map[uint32]string{ofp.MeterFlagKbps: "kbps", ofp.MeterFlagPktps: "pktps", ofp.MeterFlagBurst: "burst", ofp.MeterFlagStats: "stats"}) + "\n")
	case *ofp.TableFeaturesReply:
		sb.WriteString(formatTableFeatures(b.Features))
	}
	return sb.String()
}

func formatMultipartRequest(body ofp.MultipartBody) string {
	switch b := body.(type) {
	case *ofp.FlowStatsRequest:
		return formatFlowStatsRequest(b)
	case *ofp.AggregateStatsRequest:
		return formatFlowStatsRequest(&b.FlowStatsRequest)
	case *ofp.PortStatsRequest:
		return " port_no=" + formatPort(b.PortNo)
	case *ofp.PortDescRequest:
		return " port=ANY"
	case *ofp.GroupStatsRequest:
		return " group_id=" + formatGroupID(b.GroupID)
	case *ofp.GroupDescRequest:
		return " group_id=ALL"
	case *ofp.MeterStatsRequest:
		return " " + formatMeterID(b.MeterID, '=')
	case *ofp.MeterConfigRequest:
		return " " + formatMeterID(b.MeterID, '=')
	}
	return ""
}

func formatGroupID(g uint32) string {
	switch g {
	case ofp.GroupAll:
		return "ALL"
	case ofp.GroupAny:
		return "ANY"
	}
	return fmt.Sprintf("%d", g)
}

func formatFlowStatsRequest(r *ofp.FlowStatsRequest) string {
	var sb strings.Builder
	if r.TableID != ofp.TableAll {
		fmt.Fprintf(&sb, " table=%d", r.TableID)
	}
	if r.OutPort != ofp.PortAny {
		sb.WriteString(" out_port=" + formatPort(r.OutPort))
	}
	sb.WriteString(" " + FormatMatch(&r.Match))
	return sb.String()
}

func formatGroupFeatures(g *ofp.GroupFeaturesReply) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n Group table:\n    Types:  0x%x\n    Capabilities:  0x%x\n", g.Types, g.Capabilities)
	for i, name := range []string{"all", "select", "indirect", "fast failover"} {
		if g.Types&(1<<i) != 0 {
			fmt.Fprintf(&sb, "    %s group:\n       max_groups=%#x\n       actions: %s\n", name, g.MaxGroups[i],
				formatActionBitmap(g.Actions[i]))
		}
	}
	return sb.String()
}

// formatActionBitmap names OpenFlow 1.3 action types (a bitmap by type)
// by their Open vSwitch names, in its order.
func formatActionBitmap(bitmap uint32) string {
	var parts []string
	for _, a := range ovsActions {
		if bitmap&(1<<a.typ) != 0 {
			parts = append(parts, a.name)
		}
	}
	if len(parts) == 0 {
		return "<none>"
	}
	return strings.Join(parts, " ")
}

// ---- asynchronous messages ----

func formatPacketIn(m *ofp.PacketIn) string {
	var sb strings.Builder
	if m.TableID != 0 {
		fmt.Fprintf(&sb, " table_id=%d", m.TableID)
	}
	if m.Cookie != 0 && m.Cookie != ^uint64(0) {
		fmt.Fprintf(&sb, " cookie=0x%x", m.Cookie)
	}
	fmt.Fprintf(&sb, " total_len=%d %s", m.TotalLen, FormatMatch(&m.Match))
	reasons := [...]string{"no_match", "action", "invalid_ttl"}
	r := fmt.Sprintf("%d", m.Reason)
	if int(m.Reason) < len(reasons) {
		r = reasons[m.Reason]
	}
	fmt.Fprintf(&sb, " (via %s) data_len=%d", r, len(m.Data))
	if m.BufferID == ofp.NoBuffer {
		sb.WriteString(" (unbuffered)")
	} else {
		fmt.Fprintf(&sb, " buffer=0x%08x", m.BufferID)
	}
	sb.WriteString("\n" + hexDump(m.Data))
	return sb.String()
}

func formatFlowRemoved(m *ofp.FlowRemoved) string {
	var sb strings.Builder
	sb.WriteString(" " + formatMatch(&m.Match, int(m.Priority)))
	reasons := [...]string{"idle", "hard", "delete", "group_delete"}
	r := fmt.Sprintf("**%d**", m.Reason)
	if int(m.Reason) < len(reasons) {
		r = reasons[m.Reason]
	}
	fmt.Fprintf(&sb, " reason=%s", r)
	if m.TableID != 0 {
		fmt.Fprintf(&sb, " table_id=%d", m.TableID)
	}
	if m.Cookie != 0 {
		fmt.Fprintf(&sb, " cookie:0x%x", m.Cookie)
	}
	fmt.Fprintf(&sb, " duration%s", formatDuration(m.DurationSec, m.DurationNsec))
	fmt.Fprintf(&sb, " idle%d hard%d pkts%d bytes%d\n", m.IdleTimeout, m.HardTimeout, m.PacketCount, m.ByteCount)
	return sb.String()
}
