package ofproto

import (
	"slices"
	"time"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofp"
)

// Meters (OpenFlow 1.3.5 sections 5.7 and 7.3.4.4).
//
// The meters themselves run in the datapath (datapath/meter.go: token
// buckets per band, executed per packet by ActMeter); the bridge keeps
// each meter's configuration exactly as the controller sent it, for
// METER_CONFIG replies (burst sizes included: a band without OFPMF_BURST
// reports the burst_size it was sent with, though the datapath then uses
// its default, one second at the band's rate).
//
// What a METER_MOD may ask for:
//   - meter ids 1..OFPM_MAX; the virtual meters OFPM_SLOWPATH and
//     OFPM_CONTROLLER are refused with INVALID_METER, as Open vSwitch does
//     (packets to the controller are not rate-limited by meters here);
//   - exactly one of OFPMF_KBPS and OFPMF_PKTPS (BAD_FLAGS otherwise, and
//     for unknown flags);
//   - up to maxMeterBands drop or DSCP remark bands (experimenter bands:
//     BAD_BAND), each with a non-zero rate (BAD_RATE), with OFPMF_BURST a
//     non-zero burst_size (BAD_BURST), and for DSCP remark a prec_level of
//     1..3 (BAD_BAND_VALUE: the AF drop precedence has three levels).
//
// A delete removes the meter and every flow whose instructions use it
// (FLOW_REMOVED reason DELETE: OpenFlow 1.3 has no METER_DELETE reason);
// OFPM_ALL deletes them all; deleting a meter that does not exist does
// nothing. DSCP remark happens in the datapath after translation: tables
// later in the pipeline see the DSCP the packet arrived with.

// meter is one meter's configuration as it was sent.
type meter struct {
	id      uint32
	flags   uint16
	bands   []ofp.MeterBand
	created time.Time
}

// Limits of the meter table. maxMeters is a variable so that tests can
// lower it (before creating a bridge).
var maxMeters = 65536

const maxMeterBands = 8

const knownMeterFlags = ofp.MeterFlagKbps | ofp.MeterFlagPktps | ofp.MeterFlagBurst | ofp.MeterFlagStats

// meterMod applies a METER_MOD.
func (br *Bridge) meterMod(m *ofp.MeterMod) error {
	switch m.Command {
	case ofp.MeterAdd, ofp.MeterModify:
	case ofp.MeterDelete:
		return br.meterDelete(m.MeterID)
	default:
		return ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCBadCommand, "meter command %d", m.Command)
	}
	if m.MeterID == 0 || m.MeterID > ofp.MeterMax {
		return ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCInvalidMeter, "meter id %#x", m.MeterID)
	}
	cfg, err := datapathMeter(m)
	if err != nil {
		return err
	}
	br.mu.Lock()
	defer br.mu.Unlock()
	old := br.meters[m.MeterID]
	if m.Command == ofp.MeterAdd {
		if old != nil {
			return ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCMeterExists, "meter %d exists", m.MeterID)
		}
		if len(br.meters) >= maxMeters {
			return ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCOutOfMeters, "meter table full (%d meters)", maxMeters)
		}
	} else if old == nil {
		return ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCUnknownMeter, "meter %d does not exist", m.MeterID)
	}
	if err := br.dp.MeterSet(m.MeterID, cfg); err != nil {
		// The checks above refuse everything the datapath would.
		return ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCUnknown, "meter %d: %v", m.MeterID, err)
	}
	br.meters[m.MeterID] = &meter{id: m.MeterID, flags: m.Flags, bands: slices.Clone(m.Bands), created: time.Now()}
	// No translation depends on a meter's configuration (megaflows name
	// meters by number, and no flow names a meter before it exists), so
	// there is nothing to revalidate; waiting for the datapath's workers
	// makes sure no packet runs through the old meter once this returns.
	br.dp.Synchronize()
	return nil
}

// datapathMeter checks a meter add/modify's flags and bands and converts
// them for the datapath.
func datapathMeter(m *ofp.MeterMod) (datapath.MeterConfig, error) {
	var cfg datapath.MeterConfig
	unit := m.Flags & (ofp.MeterFlagKbps | ofp.MeterFlagPktps)
	if m.Flags&^knownMeterFlags != 0 || unit == 0 || unit == ofp.MeterFlagKbps|ofp.MeterFlagPktps {
		return cfg, ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCBadFlags, "meter flags %#x", m.Flags)
	}
	if len(m.Bands) > maxMeterBands {
		return cfg, ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCOutOfBands, "%d bands (at most %d)", len(m.Bands), maxMeterBands)
	}
	cfg.Packets = unit == ofp.MeterFlagPktps
	for i := range m.Bands {
		b := &m.Bands[i]
		db := datapath.MeterBand{Rate: b.Rate}
		switch b.BandType {
		case ofp.MeterBandDrop:
			db.Type = datapath.MeterBandDrop
		case ofp.MeterBandDSCPRemark:
			db.Type = datapath.MeterBandDSCPRemark
			if b.PrecLevel < 1 || b.PrecLevel > 3 {
				return cfg, ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCBadBandValue, "band %d: prec_level %d (1..3)", i, b.PrecLevel)
			}
			db.PrecLevel = b.PrecLevel
		default:
			return cfg, ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCBadBand, "band %d: type %d is not supported", i, b.BandType)
		}
		if b.Rate == 0 {
			return cfg, ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCBadRate, "band %d: rate 0", i)
		}
		if m.Flags&ofp.MeterFlagBurst != 0 {
			if b.BurstSize == 0 {
				return cfg, ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCBadBurst, "band %d: burst_size 0 with OFPMF_BURST", i)
			}
			db.Burst = b.BurstSize
		}
		cfg.Bands = append(cfg.Bands, db)
	}
	return cfg, nil
}

// meterDelete deletes meter id (OFPM_ALL: every meter) and the flows that
// use it.
func (br *Bridge) meterDelete(id uint32) error {
	if id == 0 || (id > ofp.MeterMax && id != ofp.MeterAll) {
		return ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCInvalidMeter, "meter id %#x", id)
	}
	br.mu.Lock()
	defer br.mu.Unlock()
	if id != ofp.MeterAll && br.meters[id] == nil {
		return nil
	}
	if len(br.meters) == 0 {
		return nil
	}
	var rules []*Rule
	for _, t := range br.tables {
		if t.cls.n == 0 {
			continue
		}
		t.cls.forEach(func(r *Rule) bool {
			if m := ruleMeter(r); m != 0 && (id == ofp.MeterAll || m == id) {
				rules = append(rules, r)
			}
			return true
		})
	}
	// Flows first: once they and their megaflows are gone (removing rules
	// revalidates), no packet names the meter any more.
	br.removeRulesLocked(rules, ofp.RemovedDelete)
	for _, mid := range br.meterIDsLocked(id) {
		delete(br.meters, mid)
		br.dp.MeterDel(mid)
	}
	br.dp.Synchronize()
	return nil
}

// ruleMeter returns the meter a rule's instructions use, or 0.
func ruleMeter(r *Rule) uint32 {
	for _, in := range r.Instructions {
		if m, ok := in.(*ofp.InstrMeter); ok {
			return m.MeterID
		}
	}
	return 0
}

// meterIDsLocked returns id (if it exists) or, for OFPM_ALL, every meter
// id, in ascending order.
func (br *Bridge) meterIDsLocked(id uint32) []uint32 {
	if id != ofp.MeterAll {
		if br.meters[id] == nil {
			return nil
		}
		return []uint32{id}
	}
	ids := make([]uint32, 0, len(br.meters))
	for mid := range br.meters {
		ids = append(ids, mid)
	}
	slices.Sort(ids)
	return ids
}

// unknownMeter is the error for a stats or config request naming a meter
// that does not exist (as Open vSwitch answers).
func unknownMeter(id uint32) error {
	return ofp.Errorf(ofp.ETMeterModFailed, ofp.MMFCUnknownMeter, "meter %d does not exist", id)
}

// meterStats answers a meter stats request (OFPM_ALL: every meter).
func (br *Bridge) meterStats(id uint32) ([]ofp.MeterStats, error) {
	br.mu.RLock()
	defer br.mu.RUnlock()
	ids := br.meterIDsLocked(id)
	if len(ids) == 0 && id != ofp.MeterAll {
		return nil, unknownMeter(id)
	}
	flows := map[uint32]uint32{}
	for _, t := range br.tables {
		if t.cls.n == 0 {
			continue
		}
		t.cls.forEach(func(r *Rule) bool {
			if m := ruleMeter(r); m != 0 {
				flows[m]++
			}
			return true
		})
	}
	now := time.Now()
	out := make([]ofp.MeterStats, 0, len(ids))
	for _, mid := range ids {
		m := br.meters[mid]
		ds, _ := br.dp.MeterStats(mid)
		d := max(now.Sub(m.created), 0)
		s := ofp.MeterStats{
			MeterID:       mid,
			FlowCount:     flows[mid],
			PacketInCount: ds.Packets,
			ByteInCount:   ds.Bytes,
			DurationSec:   uint32(d / time.Second),
			DurationNsec:  uint32(d % time.Second),
			Bands:         make([]ofp.MeterBandStats, len(m.bands)),
		}
		for i := range s.Bands {
			if i < len(ds.Bands) {
				s.Bands[i] = ofp.MeterBandStats{PacketBandCount: ds.Bands[i].Packets, ByteBandCount: ds.Bands[i].Bytes}
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// meterConfigs answers a meter config request (OFPM_ALL: every meter):
// flags and bands exactly as they were sent.
func (br *Bridge) meterConfigs(id uint32) ([]ofp.MeterConfig, error) {
	br.mu.RLock()
	defer br.mu.RUnlock()
	ids := br.meterIDsLocked(id)
	if len(ids) == 0 && id != ofp.MeterAll {
		return nil, unknownMeter(id)
	}
	out := make([]ofp.MeterConfig, len(ids))
	for i, mid := range ids {
		m := br.meters[mid]
		out[i] = ofp.MeterConfig{Flags: m.flags, MeterID: mid, Bands: slices.Clone(m.bands)}
	}
	return out, nil
}

// meterFeatures answers a meter features request.
func meterFeatures() *ofp.MeterFeaturesReply {
	return &ofp.MeterFeaturesReply{
		MaxMeter:     uint32(maxMeters),
		BandTypes:    1<<ofp.MeterBandDrop | 1<<ofp.MeterBandDSCPRemark,
		Capabilities: knownMeterFlags,
		MaxBands:     maxMeterBands,
		MaxColor:     0,
	}
}
