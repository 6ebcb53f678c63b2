package ofp

// This file holds the multipart replies that are lists of entries. Each has
// an entry encoder, used both by Marshal and by MarshalMultipartReply (which
// splits lists between messages), and a list decoder.

// entryList is a list reply's entries, to encode one at a time.
type entryList interface {
	len() int
	appendEntry(b []byte, i int) ([]byte, error)
}

type listOf[T any] struct {
	items []T
	enc   func([]byte, *T) ([]byte, error)
}

func (l listOf[T]) len() int { return len(l.items) }
func (l listOf[T]) appendEntry(b []byte, i int) ([]byte, error) {
	return l.enc(b, &l.items[i])
}

// replyList returns the entries of a list reply body; ok is false for
// bodies that are not lists.
func replyList(body MultipartBody) (l entryList, ok bool) {
	switch m := body.(type) {
	case *FlowStatsReply:
		return listOf[FlowStats]{m.Stats, appendFlowStats}, true
	case *TableStatsReply:
		return listOf[TableStats]{m.Stats, appendTableStats}, true
	case *PortStatsReply:
		return listOf[PortStats]{m.Stats, appendPortStats}, true
	case *QueueStatsReply:
		return listOf[QueueStats]{m.Stats, appendQueueStats}, true
	case *GroupStatsReply:
		return listOf[GroupStats]{m.Stats, appendGroupStats}, true
	case *GroupDescReply:
		return listOf[GroupDesc]{m.Groups, appendGroupDesc}, true
	case *MeterStatsReply:
		return listOf[MeterStats]{m.Stats, appendMeterStats}, true
	case *MeterConfigReply:
		return listOf[MeterConfig]{m.Configs, appendMeterConfig}, true
	case *TableFeaturesReply:
		return listOf[TableFeatures]{m.Features, appendTableFeatures}, true
	case *PortDescReply:
		return listOf[Port]{m.Ports, func(b []byte, p *Port) ([]byte, error) { return appendPort(b, p), nil }}, true
	}
	return nil, false
}

// appendReplyList appends all entries of a list reply body.
func appendReplyList(b []byte, body MultipartBody) ([]byte, bool, error) {
	l, ok := replyList(body)
	if !ok {
		return b, false, nil
	}
	for i := range l.len() {
		var err error
		if b, err = l.appendEntry(b, i); err != nil {
			return b, true, err
		}
	}
	return b, true, nil
}

// decodeFixed decodes a list of size-byte entries filling b.
func decodeFixed[T any](b []byte, size int, what string, dec func([]byte) T) ([]T, error) {
	if len(b)%size != 0 {
		return nil, badLen(what, len(b))
	}
	if len(b) == 0 {
		return nil, nil
	}
	out := make([]T, len(b)/size)
	for i := range out {
		out[i] = dec(b[i*size : (i+1)*size])
	}
	return out, nil
}

// decodeVar decodes a list of entries filling b whose 16-bit length is at
// offset lenAt of each entry and is at least minLen.
func decodeVar[T any](b []byte, lenAt, minLen int, what string, dec func(e []byte) (T, error)) ([]T, error) {
	var out []T
	for len(b) > 0 {
		if len(b) < minLen {
			return nil, badLen(what, len(b))
		}
		n := int(be.Uint16(b[lenAt:]))
		if n < minLen || n > len(b) {
			return nil, badLen(what, n)
		}
		e, err := dec(b[:n])
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		b = b[n:]
	}
	return out, nil
}

// ---- flow stats ----

// flowStatsLen is the fixed part of struct ofp_flow_stats.
const flowStatsLen = 48

// appendFlowStats: length, table_id, pad, duration_sec, duration_nsec,
// priority, idle_timeout, hard_timeout, flags, pad4, cookie, packet_count,
// byte_count, match, instructions.
func appendFlowStats(b []byte, s *FlowStats) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, s.TableID, 0)
	b = be.AppendUint32(b, s.DurationSec)
	b = be.AppendUint32(b, s.DurationNsec)
	b = be.AppendUint16(b, s.Priority)
	b = be.AppendUint16(b, s.IdleTimeout)
	b = be.AppendUint16(b, s.HardTimeout)
	b = be.AppendUint16(b, s.Flags)
	b = append(b, 0, 0, 0, 0)
	b = be.AppendUint64(b, s.Cookie)
	b = be.AppendUint64(b, s.PacketCount)
	b = be.AppendUint64(b, s.ByteCount)
	b, err := appendMatch(b, &s.Match)
	if err != nil {
		return b, err
	}
	if b, err = appendInstructions(b, s.Instructions); err != nil {
		return b, err
	}
	return b, putLen16(b, start, start, "flow stats entry")
}

func decodeFlowStats(e []byte) (FlowStats, error) {
	s := FlowStats{
		TableID:      e[2],
		DurationSec:  be.Uint32(e[4:]),
		DurationNsec: be.Uint32(e[8:]),
		Priority:     be.Uint16(e[12:]),
		IdleTimeout:  be.Uint16(e[14:]),
		HardTimeout:  be.Uint16(e[16:]),
		Flags:        be.Uint16(e[18:]),
		Cookie:       be.Uint64(e[24:]),
		PacketCount:  be.Uint64(e[32:]),
		ByteCount:    be.Uint64(e[40:]),
	}
	match, n, err := DecodeMatch(e[flowStatsLen:])
	if err != nil {
		return FlowStats{}, err
	}
	s.Match = match
	if s.Instructions, err = DecodeInstructions(e[flowStatsLen+n:]); err != nil {
		return FlowStats{}, err
	}
	return s, nil
}

func decodeFlowStatsReply(b []byte) (MultipartBody, error) {
	stats, err := decodeVar(b, 0, flowStatsLen+8, "flow stats", decodeFlowStats)
	if err != nil {
		return nil, err
	}
	return &FlowStatsReply{Stats: stats}, nil
}

// ---- table, port and queue stats (fixed-size entries) ----

const (
	tableStatsLen = 24
	portStatsLen  = 112
	queueStatsLen = 40
)

// appendTableStats: table_id, pad3, active_count, lookup_count,
// matched_count.
func appendTableStats(b []byte, s *TableStats) ([]byte, error) {
	b = append(b, s.TableID, 0, 0, 0)
	b = be.AppendUint32(b, s.ActiveCount)
	b = be.AppendUint64(b, s.LookupCount)
	return be.AppendUint64(b, s.MatchedCount), nil
}

func decodeTableStatsReply(b []byte) (MultipartBody, error) {
	stats, err := decodeFixed(b, tableStatsLen, "table stats", func(e []byte) TableStats {
		return TableStats{
			TableID:      e[0],
			ActiveCount:  be.Uint32(e[4:]),
			LookupCount:  be.Uint64(e[8:]),
			MatchedCount: be.Uint64(e[16:]),
		}
	})
	if err != nil {
		return nil, err
	}
	return &TableStatsReply{Stats: stats}, nil
}

// appendPortStats: port_no, pad4, twelve 64-bit counters, duration_sec,
// duration_nsec (OpenFlow 1.3 puts the durations last).
func appendPortStats(b []byte, s *PortStats) ([]byte, error) {
	b = be.AppendUint32(b, s.PortNo)
	b = append(b, 0, 0, 0, 0)
	for _, v := range [...]uint64{s.RxPackets, s.TxPackets, s.RxBytes, s.TxBytes, s.RxDropped, s.TxDropped,
		s.RxErrors, s.TxErrors, s.RxFrameErr, s.RxOverErr, s.RxCRCErr, s.Collisions} {
		b = be.AppendUint64(b, v)
	}
	b = be.AppendUint32(b, s.DurationSec)
	return be.AppendUint32(b, s.DurationNsec), nil
}

func decodePortStatsReply(b []byte) (MultipartBody, error) {
	stats, err := decodeFixed(b, portStatsLen, "port stats", func(e []byte) PortStats {
		s := PortStats{PortNo: be.Uint32(e), DurationSec: be.Uint32(e[104:]), DurationNsec: be.Uint32(e[108:])}
		for i, p := range [...]*uint64{&s.RxPackets, &s.TxPackets, &s.RxBytes, &s.TxBytes, &s.RxDropped, &s.TxDropped,
			&s.RxErrors, &s.TxErrors, &s.RxFrameErr, &s.RxOverErr, &s.RxCRCErr, &s.Collisions} {
			*p = be.Uint64(e[8+8*i:])
		}
		return s
	})
	if err != nil {
		return nil, err
	}
	return &PortStatsReply{Stats: stats}, nil
}

// appendQueueStats: port_no, queue_id, tx_bytes, tx_packets, tx_errors,
// duration_sec, duration_nsec.
func appendQueueStats(b []byte, s *QueueStats) ([]byte, error) {
	b = be.AppendUint32(b, s.PortNo)
	b = be.AppendUint32(b, s.QueueID)
	b = be.AppendUint64(b, s.TxBytes)
	b = be.AppendUint64(b, s.TxPackets)
	b = be.AppendUint64(b, s.TxErrors)
	b = be.AppendUint32(b, s.DurationSec)
	return be.AppendUint32(b, s.DurationNsec), nil
}

func decodeQueueStatsReply(b []byte) (MultipartBody, error) {
	stats, err := decodeFixed(b, queueStatsLen, "queue stats", func(e []byte) QueueStats {
		return QueueStats{
			PortNo:       be.Uint32(e),
			QueueID:      be.Uint32(e[4:]),
			TxBytes:      be.Uint64(e[8:]),
			TxPackets:    be.Uint64(e[16:]),
			TxErrors:     be.Uint64(e[24:]),
			DurationSec:  be.Uint32(e[32:]),
			DurationNsec: be.Uint32(e[36:]),
		}
	})
	if err != nil {
		return nil, err
	}
	return &QueueStatsReply{Stats: stats}, nil
}

func decodePortDescReply(b []byte) (MultipartBody, error) {
	ports, err := decodeFixed(b, portLen, "port desc", decodePort)
	if err != nil {
		return nil, err
	}
	return &PortDescReply{Ports: ports}, nil
}

// ---- groups ----

// groupStatsLen is the fixed part of struct ofp_group_stats; each bucket
// counter adds 16 bytes.
const groupStatsLen = 40

// appendGroupStats: length, pad2, group_id, ref_count, pad4, packet_count,
// byte_count, duration_sec, duration_nsec, bucket counters.
func appendGroupStats(b []byte, s *GroupStats) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	b = be.AppendUint32(b, s.GroupID)
	b = be.AppendUint32(b, s.RefCount)
	b = append(b, 0, 0, 0, 0)
	b = be.AppendUint64(b, s.PacketCount)
	b = be.AppendUint64(b, s.ByteCount)
	b = be.AppendUint32(b, s.DurationSec)
	b = be.AppendUint32(b, s.DurationNsec)
	for _, c := range s.Buckets {
		b = be.AppendUint64(b, c.PacketCount)
		b = be.AppendUint64(b, c.ByteCount)
	}
	return b, putLen16(b, start, start, "group stats entry")
}

func decodeGroupStats(e []byte) (GroupStats, error) {
	s := GroupStats{
		GroupID:      be.Uint32(e[4:]),
		RefCount:     be.Uint32(e[8:]),
		PacketCount:  be.Uint64(e[16:]),
		ByteCount:    be.Uint64(e[24:]),
		DurationSec:  be.Uint32(e[32:]),
		DurationNsec: be.Uint32(e[36:]),
	}
	var err error
	s.Buckets, err = decodeFixed(e[groupStatsLen:], 16, "bucket counters", func(c []byte) BucketCounter {
		return BucketCounter{PacketCount: be.Uint64(c), ByteCount: be.Uint64(c[8:])}
	})
	return s, err
}

func decodeGroupStatsReply(b []byte) (MultipartBody, error) {
	stats, err := decodeVar(b, 0, groupStatsLen, "group stats", decodeGroupStats)
	if err != nil {
		return nil, err
	}
	return &GroupStatsReply{Stats: stats}, nil
}

// appendGroupDesc: length, type, pad, group_id, buckets.
func appendGroupDesc(b []byte, g *GroupDesc) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, g.GroupType, 0)
	b = be.AppendUint32(b, g.GroupID)
	b, err := appendBuckets(b, g.Buckets)
	if err != nil {
		return b, err
	}
	return b, putLen16(b, start, start, "group desc entry")
}

func decodeGroupDescReply(b []byte) (MultipartBody, error) {
	groups, err := decodeVar(b, 0, 8, "group desc", func(e []byte) (GroupDesc, error) {
		g := GroupDesc{GroupType: e[2], GroupID: be.Uint32(e[4:])}
		var err error
		g.Buckets, err = decodeBuckets(e[8:])
		return g, err
	})
	if err != nil {
		return nil, err
	}
	return &GroupDescReply{Groups: groups}, nil
}

// ---- meters ----

// meterStatsLen is the fixed part of struct ofp_meter_stats; each band
// adds 16 bytes.
const meterStatsLen = 40

// appendMeterStats: meter_id, len, pad6, flow_count, packet_in_count,
// byte_in_count, duration_sec, duration_nsec, band stats.
func appendMeterStats(b []byte, s *MeterStats) ([]byte, error) {
	start := len(b)
	b = be.AppendUint32(b, s.MeterID)
	b = appendZeros(b, 8) // len (set below), pad6
	b = be.AppendUint32(b, s.FlowCount)
	b = be.AppendUint64(b, s.PacketInCount)
	b = be.AppendUint64(b, s.ByteInCount)
	b = be.AppendUint32(b, s.DurationSec)
	b = be.AppendUint32(b, s.DurationNsec)
	for _, c := range s.Bands {
		b = be.AppendUint64(b, c.PacketBandCount)
		b = be.AppendUint64(b, c.ByteBandCount)
	}
	return b, putLen16(b, start+4, start, "meter stats entry")
}

func decodeMeterStats(e []byte) (MeterStats, error) {
	s := MeterStats{
		MeterID:       be.Uint32(e),
		FlowCount:     be.Uint32(e[12:]),
		PacketInCount: be.Uint64(e[16:]),
		ByteInCount:   be.Uint64(e[24:]),
		DurationSec:   be.Uint32(e[32:]),
		DurationNsec:  be.Uint32(e[36:]),
	}
	var err error
	s.Bands, err = decodeFixed(e[meterStatsLen:], 16, "meter band stats", func(c []byte) MeterBandStats {
		return MeterBandStats{PacketBandCount: be.Uint64(c), ByteBandCount: be.Uint64(c[8:])}
	})
	return s, err
}

func decodeMeterStatsReply(b []byte) (MultipartBody, error) {
	stats, err := decodeVar(b, 4, meterStatsLen, "meter stats", decodeMeterStats)
	if err != nil {
		return nil, err
	}
	return &MeterStatsReply{Stats: stats}, nil
}

// appendMeterConfig: length, flags, meter_id, bands.
func appendMeterConfig(b []byte, c *MeterConfig) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0)
	b = be.AppendUint16(b, c.Flags)
	b = be.AppendUint32(b, c.MeterID)
	b = appendMeterBands(b, c.Bands)
	return b, putLen16(b, start, start, "meter config entry")
}

func decodeMeterConfigReply(b []byte) (MultipartBody, error) {
	configs, err := decodeVar(b, 0, 8, "meter config", func(e []byte) (MeterConfig, error) {
		c := MeterConfig{Flags: be.Uint16(e[2:]), MeterID: be.Uint32(e[4:])}
		var err error
		c.Bands, err = decodeMeterBands(e[8:])
		return c, err
	})
	if err != nil {
		return nil, err
	}
	return &MeterConfigReply{Configs: configs}, nil
}
