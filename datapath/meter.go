package datapath

// meterTable holds the datapath's meters. Meters are not implemented yet:
// the slow path installs none (METER_MOD is refused), so no megaflow has an
// ActMeter and pass is never asked about a real meter.
type meterTable struct{}

// pass reports whether a packet of size bytes passes meter id at time now
// (unix nanoseconds).
func (m *meterTable) pass(id uint32, size int, now int64) bool { return true }
