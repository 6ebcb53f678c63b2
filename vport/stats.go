package vport

import "sync/atomic"

// counters are a port's statistics, updated with atomics by the goroutine
// that receives (rx) and the goroutine that sends (tx), once per batch, and
// read by Stats at any time. The rx and tx halves live on separate cache
// lines so that the two datapath goroutines of a port do not contend.
type counters struct {
	rx dirCounters
	tx dirCounters
}

type dirCounters struct {
	packets, bytes, dropped, errors atomic.Uint64
	_                               [32]byte // pad to a 64-byte cache line
}

// add counts n frames of b bytes in total.
func (d *dirCounters) add(n, b int) {
	if n > 0 {
		d.packets.Add(uint64(n))
		d.bytes.Add(uint64(b))
	}
}

func (d *dirCounters) drop(n int) {
	if n > 0 {
		d.dropped.Add(uint64(n))
	}
}

func (d *dirCounters) fail(n int) {
	if n > 0 {
		d.errors.Add(uint64(n))
	}
}

// snapshot returns the counters as Stats. The fields are read one by one,
// so a snapshot taken while traffic flows is not atomic as a whole.
func (c *counters) snapshot() Stats {
	return Stats{
		RxPackets: c.rx.packets.Load(),
		TxPackets: c.tx.packets.Load(),
		RxBytes:   c.rx.bytes.Load(),
		TxBytes:   c.tx.bytes.Load(),
		RxDropped: c.rx.dropped.Load(),
		TxDropped: c.tx.dropped.Load(),
		RxErrors:  c.rx.errors.Load(),
		TxErrors:  c.tx.errors.Load(),
	}
}
