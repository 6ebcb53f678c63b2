package datapath

import (
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govs/govs/vport"
)

// Meters are token-bucket rate limiters. The slow path installs them with
// MeterSet and removes them with MeterDel; megaflows name them by number in
// ActMeter, and every packet that executes an ActMeter runs through the
// meter here, in the fast path.
//
// A meter has bands, each a token bucket that fills at the band's rate up
// to its burst size. A packet that finds enough tokens in a band's bucket
// conforms to that band and takes its tokens; a packet that does not
// exceeds the band. Of the bands a packet exceeds, the one with the highest
// rate applies (OpenFlow 1.3.5 section 5.7: "the band with the highest
// configured rate that is lower than the current measured rate"): a drop
// band drops the packet, a DSCP remark band raises its drop precedence and
// lets it go on. A packet that exceeds no band passes unchanged.
//
// Rates are in kbit/s (1 kbit = 1000 bits, as Open vSwitch counts) of
// Ethernet frame bytes as the packet is at the meter, or in packets/s.
// Burst sizes are in kbits or packets; a band without one (0) gets its rate,
// i.e. one second's worth of traffic, as Open vSwitch does. Buckets start
// full.
//
// Locking: the meter table is a copy-on-write map behind an atomic pointer,
// read per packet without locks. Each meter has its own mutex, held for the
// few arithmetic operations a packet needs (no allocation, no call out);
// it is contended only when packets from several ports' workers hit the
// same meter at the same moment, which a per-meter lock serialises exactly
// as the token buckets need anyway.

// MeterBandType says what a meter band does to a packet that exceeds it.
type MeterBandType uint8

const (
	// MeterBandDrop drops the packet.
	MeterBandDrop MeterBandType = 1
	// MeterBandDSCPRemark raises the drop precedence of an IP packet's DSCP
	// by PrecLevel (see MeterBand); non-IP packets pass unchanged.
	MeterBandDSCPRemark MeterBandType = 2
)

// MeterBand is one band of a meter.
//
// DSCP remark: the drop precedence is the two bits above the lowest bit of
// the DSCP (the "y" of an assured-forwarding class AFxy = 8x+2y, RFC 2597).
// PrecLevel is added to it, saturating at 3, and the other DSCP bits and
// ECN stay as they were: AF21 (18) with PrecLevel 1 becomes AF22 (20), with
// PrecLevel 2 or more AF23 (22). The IPv4 header checksum is updated.
type MeterBand struct {
	Type      MeterBandType
	Rate      uint32 // kbit/s, or packets/s for a packet meter; > 0
	Burst     uint32 // kbits or packets; 0: Rate
	PrecLevel uint8  // MeterBandDSCPRemark only
}

// MeterConfig configures a meter.
type MeterConfig struct {
	Packets bool // rates and bursts count packets, not kbits
	Bands   []MeterBand
}

// MeterBandStats are a band's counters: the packets that exceeded the
// band and had it applied.
type MeterBandStats struct {
	Packets, Bytes uint64
}

// MeterStats are a meter's counters: every packet that ran through it, and
// per band (in configuration order) those the band applied to.
type MeterStats struct {
	Packets, Bytes uint64
	Bands          []MeterBandStats
}

// ErrBadMeter is returned by MeterSet for a configuration it cannot run.
var ErrBadMeter = errors.New("datapath: bad meter configuration")

// tokenScale converts rates and bursts into bucket units: a band's bucket
// gains Rate units per nanosecond and holds Burst*tokenScale units. One
// unit is then 1e-6 bit for kbit/s meters (so a packet costs bytes*8e6)
// and 1e-9 packet for packet meters (a packet costs 1e9).
const (
	tokenScale    = 1_000_000_000
	unitsPerByte  = 8_000_000
	unitsPerPkt   = 1_000_000_000
	maxMeterBands = 255
)

// meterTable holds the datapath's meters (see the comment at the top).
type meterTable struct {
	mu     sync.Mutex                          // serialises writers
	meters atomic.Pointer[map[uint32]*dpMeter] // copy-on-write, read per packet
}

// dpMeter is one installed meter.
type dpMeter struct {
	packets bool // a packet meter (else kbit/s)

	mu    sync.Mutex // guards what follows
	last  int64      // unix nanoseconds of the last refill
	nPkts uint64
	nByte uint64
	bands []dpBand
}

type dpBand struct {
	typ    MeterBandType
	prec   uint8
	rate   uint64 // bucket units per nanosecond
	max    uint64 // bucket capacity in units
	tokens uint64
	nPkts  uint64
	nByte  uint64
}

// meterVerdict is what a meter decided for a packet.
type meterVerdict uint8

const (
	meterPass meterVerdict = iota
	meterDrop
	meterRemark
)

func newDPMeter(cfg *MeterConfig, now int64) (*dpMeter, error) {
	if len(cfg.Bands) > maxMeterBands {
		return nil, ErrBadMeter
	}
	m := &dpMeter{packets: cfg.Packets, last: now, bands: make([]dpBand, len(cfg.Bands))}
	for i, b := range cfg.Bands {
		if b.Rate == 0 || (b.Type != MeterBandDrop && b.Type != MeterBandDSCPRemark) {
			return nil, ErrBadMeter
		}
		burst := b.Burst
		if burst == 0 {
			burst = b.Rate
		}
		max := uint64(burst) * tokenScale
		m.bands[i] = dpBand{typ: b.Type, prec: b.PrecLevel, rate: uint64(b.Rate), max: max, tokens: max}
	}
	return m, nil
}

// set installs (or replaces, with fresh buckets and counters) meter id.
func (t *meterTable) set(id uint32, cfg *MeterConfig, now int64) error {
	m, err := newDPMeter(cfg, now)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var next map[uint32]*dpMeter
	if old := t.meters.Load(); old != nil {
		next = maps.Clone(*old)
	} else {
		next = map[uint32]*dpMeter{}
	}
	next[id] = m
	t.meters.Store(&next)
	return nil
}

// del removes meter id; it reports whether it existed.
func (t *meterTable) del(id uint32) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.meters.Load()
	if old == nil || (*old)[id] == nil {
		return false
	}
	next := maps.Clone(*old)
	delete(next, id)
	t.meters.Store(&next)
	return true
}

// get returns meter id or nil. It takes no lock.
func (t *meterTable) get(id uint32) *dpMeter {
	mp := t.meters.Load()
	if mp == nil {
		return nil
	}
	return (*mp)[id]
}

// run passes a packet of size bytes through meter id at time now (unix
// nanoseconds) and returns the verdict and, for a remark, the precedence
// levels to add. A meter that does not exist passes every packet (the slow
// path removes the megaflows naming a meter before the meter).
func (t *meterTable) run(id uint32, size int, now int64) (meterVerdict, uint8) {
	m := t.get(id)
	if m == nil {
		return meterPass, 0
	}
	return m.run(size, now)
}

func (m *dpMeter) run(size int, now int64) (meterVerdict, uint8) {
	cost := uint64(unitsPerPkt)
	if !m.packets {
		cost = uint64(size) * unitsPerByte
	}
	m.mu.Lock()
	elapsed := now - m.last
	if elapsed > 0 {
		m.last = now
	} else {
		elapsed = 0 // the clock went back, or a batch of the same instant
	}
	m.nPkts++
	m.nByte += uint64(size)
	hit := -1
	for i := range m.bands {
		b := &m.bands[i]
		if elapsed > 0 && b.tokens < b.max {
			// Refill without overflow: a long pause fills the bucket.
			room := b.max - b.tokens
			if uint64(elapsed) >= room/b.rate+1 {
				b.tokens = b.max
			} else {
				b.tokens = min(b.max, b.tokens+uint64(elapsed)*b.rate)
			}
		}
		if b.tokens >= cost {
			b.tokens -= cost
		} else if hit < 0 || b.rate > m.bands[hit].rate {
			hit = i
		}
	}
	v, prec := meterPass, uint8(0)
	if hit >= 0 {
		b := &m.bands[hit]
		b.nPkts++
		b.nByte += uint64(size)
		if b.typ == MeterBandDrop {
			v = meterDrop
		} else {
			v, prec = meterRemark, b.prec
		}
	}
	m.mu.Unlock()
	return v, prec
}

func (m *dpMeter) stats() MeterStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := MeterStats{Packets: m.nPkts, Bytes: m.nByte, Bands: make([]MeterBandStats, len(m.bands))}
	for i := range m.bands {
		s.Bands[i] = MeterBandStats{Packets: m.bands[i].nPkts, Bytes: m.bands[i].nByte}
	}
	return s
}

// meter runs p (with layout l) through meter id. It returns the packet to
// go on with (a private copy when a DSCP remark had to change a packet that
// is shared, i.e. already queued for output), whether that packet is
// shared, and false when the meter dropped it.
func (ex *executor) meter(id uint32, p *vport.Packet, l *Layout, shared bool) (*vport.Packet, bool, bool) {
	v, prec := ex.dp.meters.run(id, p.Len(), ex.now)
	switch v {
	case meterDrop:
		return p, shared, false
	case meterRemark:
		p, shared = ex.remarkDSCP(p, l, shared, prec)
	}
	return p, shared, true
}

// remarkDSCP raises the drop precedence of an IPv4 or IPv6 packet's DSCP by
// prec (see MeterBand), copying the packet first if it is shared.
func (ex *executor) remarkDSCP(p *vport.Packet, l *Layout, shared bool, prec uint8) (*vport.Packet, bool) {
	l3 := int(l.L3)
	f := p.Data()
	if l3 == 0 || len(f) < l3+2 {
		return p, shared
	}
	var tos uint8
	switch l.EthType {
	case ethTypeIPv4:
		tos = f[l3+1]
	case ethTypeIPv6:
		tos = uint8(be.Uint16(f[l3:]) >> 4)
	default:
		return p, shared
	}
	ntos := remarkTOS(tos, prec)
	if ntos == tos {
		return p, shared
	}
	if shared {
		p = ex.clonePacket(p)
		shared = false
	}
	a := Action{Type: ActSetField, Field: SetIPTos, Value: [2]uint64{0, uint64(ntos)}, Mask: [2]uint64{0, 0xfc}}
	applyHeaderAction(p, l, &a)
	return p, shared
}

// remarkTOS returns the TOS byte (DSCP<<2 | ECN) with the DSCP's drop
// precedence raised by prec, saturating at 3.
func remarkTOS(tos, prec uint8) uint8 {
	dp := tos >> 3 & 3
	ndp := min(uint16(dp)+uint16(prec), 3)
	return tos&^0x18 | uint8(ndp)<<3
}

// MeterSet installs meter id with cfg, replacing (and resetting) a meter of
// that number. It returns ErrBadMeter for a band of rate 0, an unknown band
// type or more than 255 bands.
func (dp *Datapath) MeterSet(id uint32, cfg MeterConfig) error {
	return dp.meters.set(id, &cfg, time.Now().UnixNano())
}

// MeterDel removes meter id and reports whether it existed. Packets of
// megaflows that still name it pass unmetered.
func (dp *Datapath) MeterDel(id uint32) bool { return dp.meters.del(id) }

// MeterStats returns meter id's counters.
func (dp *Datapath) MeterStats(id uint32) (MeterStats, bool) {
	m := dp.meters.get(id)
	if m == nil {
		return MeterStats{}, false
	}
	return m.stats(), true
}
