package ofctl

import (
	"fmt"
	"strings"

	"github.com/govs/govs/ofproto/ofp"
)

// meterTokens splits s[start:end] at '=', ',' and white space, the way
// ovs-ofctl's meter parser (strtok) does, keeping offsets.
func meterTokens(s string, start, end int) (toks []string, pos []int) {
	i := start
	for i < end {
		for i < end && strings.IndexByte("=, \t\r\n", s[i]) >= 0 {
			i++
		}
		j := i
		for j < end && strings.IndexByte("=, \t\r\n", s[j]) < 0 {
			j++
		}
		if j > i {
			toks, pos = append(toks, s[i:j]), append(pos, i)
		}
		i = j
	}
	return toks, pos
}

// parseMeterID parses a meter number or all, controller, slowpath.
func parseMeterID(s string) (uint32, bool) {
	switch s {
	case "all":
		return ofp.MeterAll, true
	case "controller":
		return ofp.MeterController, true
	case "slowpath":
		return ofp.MeterSlowpath, true
	}
	v, ok := parseUint(s, 32)
	if !ok || v == 0 || v > uint64(ofp.MeterMax) {
		return 0, false
	}
	return uint32(v), true
}

// ParseMeter parses a meter in ovs-ofctl's syntax for the meter-mod
// command cmd (ofp.MeterAdd for add-meter, ofp.MeterModify for
// mod-meter, ofp.MeterDelete for del-meters), e.g.
//
//	meter=1 kbps burst stats bands=type=drop rate=1000 burst_size=100
//
// For ofp.MeterDelete the empty string means every meter. The result is
// what ovs-ofctl -O OpenFlow13 sends.
func ParseMeter(s string, cmd uint16) (*ofp.MeterMod, error) {
	mm := &ofp.MeterMod{Command: cmd}
	switch cmd {
	case ofp.MeterAdd, ofp.MeterModify, ofp.MeterDelete:
	default:
		return nil, fmt.Errorf("unknown meter-mod command %d", cmd)
	}
	if cmd == ofp.MeterDelete && strings.TrimSpace(s) == "" {
		mm.MeterID = ofp.MeterAll
		return mm, nil
	}
	id, err := parseMeterHead(s, cmd != ofp.MeterDelete, mm)
	if err != nil {
		return nil, err
	}
	mm.MeterID = id
	return mm, nil
}

// ParseMeterID parses the argument of dump-meters and meter-stats
// ("meter=N"; empty for all meters).
func ParseMeterID(s string) (uint32, error) {
	if strings.TrimSpace(s) == "" {
		return ofp.MeterAll, nil
	}
	var mm ofp.MeterMod
	return parseMeterHead(s, false, &mm)
}

// parseMeterHead parses meter=N, the flags and (withBands) the bands.
func parseMeterHead(s string, withBands bool, mm *ofp.MeterMod) (uint32, error) {
	end, bandStart := len(s), -1
	if withBands {
		i := strings.Index(s, "band")
		if i < 0 {
			return 0, errAt(len(s), "must specify bands (bands=type=drop rate=RATE)")
		}
		j := strings.IndexByte(s[i:], '=')
		if j < 0 {
			return 0, errAt(i, "must specify bands (bands=type=drop rate=RATE)")
		}
		end, bandStart = i, i+j+1
	}
	var id uint32
	toks, pos := meterTokens(s, 0, end)
	for i := 0; i < len(toks); i++ {
		name := toks[i]
		if withBands {
			flag := map[string]uint16{"kbps": ofp.MeterFlagKbps, "pktps": ofp.MeterFlagPktps,
				"burst": ofp.MeterFlagBurst, "stats": ofp.MeterFlagStats}[name]
			if flag != 0 {
				mm.Flags |= flag
				continue
			}
		}
		if name != "meter" {
			return 0, errAt(pos[i], "unknown keyword %q%s", name, suggest(name, []string{"meter", "kbps", "pktps", "burst", "stats", "bands"}))
		}
		if i+1 >= len(toks) {
			return 0, errAt(pos[i], "field meter missing value")
		}
		i++
		v, ok := parseMeterID(toks[i])
		if !ok {
			return 0, errAt(pos[i], "invalid value %q for meter (1..0xffff0000, all, controller or slowpath)", toks[i])
		}
		id = v
	}
	if id == 0 {
		return 0, errAt(0, "must specify 'meter'")
	}
	if !withBands {
		return id, nil
	}
	if mm.Flags == 0 {
		return 0, errAt(0, "meter must specify either 'kbps' or 'pktps'")
	}
	toks, pos = meterTokens(s, bandStart, len(s))
	var band *ofp.MeterBand
	for i := 0; i < len(toks); i += 2 {
		name := toks[i]
		if i+1 >= len(toks) {
			return 0, errAt(pos[i], "field %s missing value", name)
		}
		value, vpos := toks[i+1], pos[i+1]
		num := func(bits int) (uint64, error) {
			v, ok := parseUint(value, bits)
			if !ok {
				return 0, errAt(vpos, "%s: %q is not a number of at most %d bits", name, value, bits)
			}
			return v, nil
		}
		switch {
		case name == "type":
			mm.Bands = append(mm.Bands, ofp.MeterBand{})
			band = &mm.Bands[len(mm.Bands)-1]
			switch value {
			case "drop":
				band.BandType = ofp.MeterBandDrop
			case "dscp_remark":
				band.BandType = ofp.MeterBandDSCPRemark
			default:
				return 0, errAt(vpos, "unknown band type %q (drop or dscp_remark)", value)
			}
		case band == nil:
			return 0, errAt(pos[i], "band must start with the 'type' keyword")
		case name == "rate":
			v, err := num(32)
			if err != nil {
				return 0, err
			}
			band.Rate = uint32(v)
		case name == "burst_size":
			v, err := num(32)
			if err != nil {
				return 0, err
			}
			band.BurstSize = uint32(v)
		case name == "prec_level":
			v, err := num(8)
			if err != nil {
				return 0, err
			}
			band.PrecLevel = uint8(v)
		default:
			return 0, errAt(pos[i], "unknown band keyword %q%s", name, suggest(name, []string{"type", "rate", "burst_size", "prec_level"}))
		}
	}
	if len(mm.Bands) == 0 {
		return 0, errAt(bandStart, "meter must have bands")
	}
	for i := range mm.Bands {
		b := &mm.Bands[i]
		switch {
		case b.BandType == ofp.MeterBandDSCPRemark && b.PrecLevel == 0:
			return 0, errAt(bandStart, "'dscp_remark' band must have 'prec_level'")
		case b.BandType != ofp.MeterBandDSCPRemark && b.PrecLevel != 0:
			return 0, errAt(bandStart, "only 'dscp_remark' band may have 'prec_level'")
		case b.Rate == 0:
			return 0, errAt(bandStart, "band must have 'rate'")
		case mm.Flags&ofp.MeterFlagBurst != 0 && b.BurstSize == 0:
			return 0, errAt(bandStart, "band must have 'burst_size' when 'burst' flag is set")
		case mm.Flags&ofp.MeterFlagBurst == 0 && b.BurstSize != 0:
			return 0, errAt(bandStart, "band may have 'burst_size' only when 'burst' flag is set")
		}
	}
	return id, nil
}

// formatMeterID is "meter=N" (sep '=') or "meter:N" (sep ':').
func formatMeterID(id uint32, sep byte) string {
	if id <= ofp.MeterMax {
		return fmt.Sprintf("meter%c%d", sep, id)
	}
	name := map[uint32]string{ofp.MeterSlowpath: "slowpath", ofp.MeterController: "controller", ofp.MeterAll: "all"}[id]
	if name == "" {
		name = "unknown"
	}
	return fmt.Sprintf("meter%c%s", sep, name)
}

func formatMeterFlags(flags uint16) string {
	var sb strings.Builder
	for _, f := range []struct {
		bit  uint16
		name string
	}{{ofp.MeterFlagKbps, "kbps"}, {ofp.MeterFlagPktps, "pktps"}, {ofp.MeterFlagBurst, "burst"}, {ofp.MeterFlagStats, "stats"}} {
		if flags&f.bit != 0 {
			sb.WriteString(f.name + " ")
		}
	}
	if rest := flags &^ (ofp.MeterFlagKbps | ofp.MeterFlagPktps | ofp.MeterFlagBurst | ofp.MeterFlagStats); rest != 0 {
		fmt.Fprintf(&sb, "flags:0x%x ", rest)
	}
	return sb.String()
}

// formatMeter formats a meter's configuration the way ovs-ofctl does,
// each band after sep.
func formatMeter(id uint32, flags uint16, bands []ofp.MeterBand, sep string) string {
	var sb strings.Builder
	sb.WriteString(formatMeterID(id, '=') + " " + formatMeterFlags(flags) + "bands=")
	for _, b := range bands {
		sb.WriteString(sep + "type=")
		switch b.BandType {
		case ofp.MeterBandDrop:
			sb.WriteString("drop")
		case ofp.MeterBandDSCPRemark:
			sb.WriteString("dscp_remark")
		default:
			fmt.Fprintf(&sb, "%d", b.BandType)
		}
		fmt.Fprintf(&sb, " rate=%d", b.Rate)
		if flags&ofp.MeterFlagBurst != 0 {
			fmt.Fprintf(&sb, " burst_size=%d", b.BurstSize)
		}
		if b.BandType == ofp.MeterBandDSCPRemark {
			fmt.Fprintf(&sb, " prec_level=%d", b.PrecLevel)
		}
	}
	return sb.String()
}

// FormatMeterConfig formats one meter of a meter configuration reply as
// `ovs-ofctl -O OpenFlow13 dump-meters` prints it: "meter=1 kbps bands="
// and each band on a line of its own ("\ntype=drop rate=1000").
func FormatMeterConfig(mc *ofp.MeterConfig) string {
	return formatMeter(mc.MeterID, mc.Flags, mc.Bands, "\n")
}

// FormatMeterMod formats a METER_MOD on one line in the syntax ParseMeter
// reads for its command.
func FormatMeterMod(mm *ofp.MeterMod) string {
	if mm.Command == ofp.MeterDelete {
		return formatMeterID(mm.MeterID, '=')
	}
	return formatMeter(mm.MeterID, mm.Flags, mm.Bands, " ")
}

// FormatMeterStats formats one meter's statistics as
// `ovs-ofctl -O OpenFlow13 meter-stats` prints them (several lines).
func FormatMeterStats(ms *ofp.MeterStats) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s flow_count:%d packet_in_count:%d byte_in_count:%d duration:%s bands:\n",
		formatMeterID(ms.MeterID, ':'), ms.FlowCount, ms.PacketInCount, ms.ByteInCount,
		formatDuration(ms.DurationSec, ms.DurationNsec))
	for i, b := range ms.Bands {
		fmt.Fprintf(&sb, "%d: packet_count:%d byte_count:%d\n", i, b.PacketBandCount, b.ByteBandCount)
	}
	return sb.String()
}
