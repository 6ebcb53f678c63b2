package ofproto

import (
	"fmt"
	"slices"
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// Version is govs' version, reported in DESC and by `govs version`.
var Version = "0.1.0"

// multipart answers a MULTIPART_REQUEST. A request split with REQ_MORE is
// collected until its last part.
func (c *conn) multipart(h ofp.Header, m *ofp.MultipartRequest, raw []byte) error {
	if m.Flags&ofp.MPFlagMore != 0 {
		tf, ok := m.Body.(*ofp.TableFeaturesRequest)
		if !ok {
			return ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadMultipart, "REQ_MORE only for table features")
		}
		if c.mpPending == nil {
			c.mpPending = &ofp.TableFeaturesRequest{}
		}
		c.mpPending.Features = append(c.mpPending.Features, tf.Features...)
		return nil
	}
	if tf, ok := m.Body.(*ofp.TableFeaturesRequest); ok && c.mpPending != nil {
		tf.Features = append(c.mpPending.Features, tf.Features...)
		c.mpPending = nil
	}
	br := c.br
	var body ofp.MultipartBody
	switch req := m.Body.(type) {
	case *ofp.DescRequest:
		body = &ofp.DescReply{
			MfrDesc:   "govs",
			HWDesc:    "govs userspace switch",
			SWDesc:    Version,
			SerialNum: "None",
			DPDesc:    br.cfg.Name,
		}
	case *ofp.FlowStatsRequest:
		stats, err := br.flowStats(req)
		if err != nil {
			return err
		}
		body = &ofp.FlowStatsReply{Stats: stats}
	case *ofp.AggregateStatsRequest:
		stats, err := br.flowStats(&req.FlowStatsRequest)
		if err != nil {
			return err
		}
		agg := &ofp.AggregateStatsReply{FlowCount: uint32(len(stats))}
		for _, s := range stats {
			if s.PacketCount != ^uint64(0) {
				agg.PacketCount += s.PacketCount
			}
			if s.ByteCount != ^uint64(0) {
				agg.ByteCount += s.ByteCount
			}
		}
		body = agg
	case *ofp.TableStatsRequest:
		body = &ofp.TableStatsReply{Stats: br.tableStats()}
	case *ofp.PortStatsRequest:
		stats, err := br.portStats(req.PortNo)
		if err != nil {
			return err
		}
		body = &ofp.PortStatsReply{Stats: stats}
	case *ofp.PortDescRequest:
		body = &ofp.PortDescReply{Ports: br.portDescs()}
	case *ofp.TableFeaturesRequest:
		if len(req.Features) > 0 {
			return ofp.Errorf(ofp.ETTableFeaturesFailed, ofp.TFFCEPerm, "table features cannot be changed")
		}
		body = &ofp.TableFeaturesReply{Features: tableFeatures()}
	case *ofp.QueueStatsRequest:
		body = &ofp.QueueStatsReply{}
	case *ofp.GroupStatsRequest:
		stats, err := br.groupStats(req.GroupID)
		if err != nil {
			return err
		}
		body = &ofp.GroupStatsReply{Stats: stats}
	case *ofp.GroupDescRequest:
		body = &ofp.GroupDescReply{Groups: br.groupDescs()}
	case *ofp.GroupFeaturesRequest:
		body = groupFeatures()
	case *ofp.MeterStatsRequest:
		stats, err := br.meterStats(req.MeterID)
		if err != nil {
			return err
		}
		body = &ofp.MeterStatsReply{Stats: stats}
	case *ofp.MeterConfigRequest:
		cfgs, err := br.meterConfigs(req.MeterID)
		if err != nil {
			return err
		}
		body = &ofp.MeterConfigReply{Configs: cfgs}
	case *ofp.MeterFeaturesRequest:
		body = meterFeatures()
	case *ofp.ExperimenterMPRequest:
		return ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadExperimenter, "experimenter %#x", req.Experimenter)
	default:
		return ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadMultipart, "multipart %T", m.Body)
	}
	msgs, err := ofp.MarshalMultipartReply(h.Xid, &ofp.MultipartReply{Body: body})
	if err != nil {
		return fmt.Errorf("encoding multipart reply: %w", err)
	}
	for _, b := range msgs {
		c.sendRaw(b)
	}
	return nil
}

// flowStats returns the flow stats entries a request selects, ordered by
// table, then priority (highest first).
func (br *Bridge) flowStats(req *ofp.FlowStatsRequest) ([]ofp.FlowStats, error) {
	if req.TableID != ofp.TableAll && int(req.TableID) >= NumTables {
		return nil, ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadTableID, "table %d", req.TableID)
	}
	mf, oerr := convertMatch(&req.Match)
	if oerr != nil {
		return nil, oerr
	}
	br.pushStats()
	br.mu.RLock()
	rules := br.selectRulesLocked(req.TableID, mf, false, 0, req.Cookie, req.CookieMask, req.OutPort, req.OutGroup)
	br.mu.RUnlock()
	slices.SortStableFunc(rules, func(a, b *Rule) int {
		if a.TableID != b.TableID {
			return int(a.TableID) - int(b.TableID)
		}
		return int(b.Priority) - int(a.Priority)
	})
	now := time.Now()
	out := make([]ofp.FlowStats, len(rules))
	for i, r := range rules {
		out[i] = r.flowStats(now)
	}
	return out, nil
}

// tableStats returns every table's counters.
func (br *Bridge) tableStats() []ofp.TableStats {
	br.pushStats()
	br.mu.RLock()
	defer br.mu.RUnlock()
	out := make([]ofp.TableStats, NumTables)
	for i, t := range br.tables {
		out[i] = ofp.TableStats{
			TableID:      t.id,
			ActiveCount:  uint32(t.cls.n),
			LookupCount:  t.lookups.Load(),
			MatchedCount: t.matches.Load(),
		}
	}
	return out
}

// portStats returns the counters of one port or (OFPP_ANY) all.
func (br *Bridge) portStats(no uint32) ([]ofp.PortStats, error) {
	br.mu.RLock()
	defer br.mu.RUnlock()
	var ports []*ofPort
	if no == ofp.PortAny {
		for _, n := range br.portOrder {
			ports = append(ports, br.ports[n])
		}
	} else if p := br.ports[no]; p != nil {
		ports = append(ports, p)
	} else {
		return nil, ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadPort, "port %d", no)
	}
	now := time.Now()
	out := make([]ofp.PortStats, len(ports))
	for i, p := range ports {
		s := p.vp.Stats()
		d := now.Sub(p.created)
		out[i] = ofp.PortStats{
			PortNo:       p.no,
			RxPackets:    s.RxPackets,
			TxPackets:    s.TxPackets,
			RxBytes:      s.RxBytes,
			TxBytes:      s.TxBytes,
			RxDropped:    s.RxDropped,
			TxDropped:    s.TxDropped,
			RxErrors:     s.RxErrors,
			TxErrors:     s.TxErrors,
			DurationSec:  uint32(d / time.Second),
			DurationNsec: uint32(d % time.Second),
		}
	}
	return out, nil
}

// portDescs returns every port's description, LOCAL last as Open vSwitch
// lists it.
func (br *Bridge) portDescs() []ofp.Port {
	br.mu.RLock()
	defer br.mu.RUnlock()
	out := make([]ofp.Port, 0, len(br.ports))
	for _, n := range br.portOrder {
		out = append(out, br.portDesc(br.ports[n]))
	}
	return out
}

// tableFeatures describes every table: what it can match, which
// instructions and actions it takes, and where goto_table may go.
func tableFeatures() []ofp.TableFeatures {
	ins := []uint16{
		uint16(ofp.InstrTypeGotoTable), uint16(ofp.InstrTypeWriteMetadata), uint16(ofp.InstrTypeWriteActions),
		uint16(ofp.InstrTypeApplyActions), uint16(ofp.InstrTypeClearActions),
	}
	acts := []uint16{
		uint16(ofp.ActTypeOutput), uint16(ofp.ActTypeSetMPLSTTL), uint16(ofp.ActTypeDecMPLSTTL),
		uint16(ofp.ActTypePushVLAN), uint16(ofp.ActTypePopVLAN), uint16(ofp.ActTypePushMPLS),
		uint16(ofp.ActTypePopMPLS), uint16(ofp.ActTypeSetQueue), uint16(ofp.ActTypeSetNwTTL),
		uint16(ofp.ActTypeDecNwTTL), uint16(ofp.ActTypeSetField),
	}
	var match, wild, set []uint32
	for f := range ofp.OXMField(ofp.NumOXMFields) {
		info := ofp.OXMFields[f]
		n := info.Len
		if info.Maskable {
			n *= 2 // a masked OXM's length covers value and mask
		}
		match = append(match, ofp.OXMHeader(ofp.OXMClassOpenFlowBasic, uint8(f), info.Maskable, n))
		wild = append(wild, ofp.OXMHeader(ofp.OXMClassOpenFlowBasic, uint8(f), false, info.Len))
		if oxmMap[f].set != 0 || f == ofp.OXMTunnelID {
			set = append(set, ofp.OXMHeader(ofp.OXMClassOpenFlowBasic, uint8(f), false, info.Len))
		}
	}
	out := make([]ofp.TableFeatures, NumTables)
	for i := range out {
		var next []uint8
		for t := i + 1; t < NumTables; t++ {
			next = append(next, uint8(t))
		}
		tins := ins
		if i == NumTables-1 {
			tins = ins[1:] // no goto_table from the last table
		}
		props := []ofp.TableFeatureProp{
			{Type: ofp.TFPInstructions, IDs: tins},
			{Type: ofp.TFPInstructionsMiss, IDs: tins},
			{Type: ofp.TFPNextTables, Tables: next},
			{Type: ofp.TFPNextTablesMiss, Tables: next},
			{Type: ofp.TFPWriteActions, IDs: acts},
			{Type: ofp.TFPWriteActionsMiss, IDs: acts},
			{Type: ofp.TFPApplyActions, IDs: acts},
			{Type: ofp.TFPApplyActionsMiss, IDs: acts},
			{Type: ofp.TFPMatch, OXMs: match},
			{Type: ofp.TFPWildcards, OXMs: wild},
			{Type: ofp.TFPWriteSetfield, OXMs: set},
			{Type: ofp.TFPWriteSetfieldMiss, OXMs: set},
			{Type: ofp.TFPApplySetfield, OXMs: set},
			{Type: ofp.TFPApplySetfieldMiss, OXMs: set},
		}
		out[i] = ofp.TableFeatures{
			TableID:       uint8(i),
			Name:          fmt.Sprintf("table%d", i),
			MetadataMatch: ^uint64(0),
			MetadataWrite: ^uint64(0),
			MaxEntries:    1000000,
			Props:         props,
		}
	}
	return out
}
