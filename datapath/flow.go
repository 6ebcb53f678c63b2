package datapath

import (
	"sync/atomic"
	"time"
)

// Flow is one megaflow: a masked key and the actions for every packet that
// matches it. Key, Mask and Data never change after FlowPut; the actions may
// be replaced whole (FlowModify). Statistics are updated by the workers
// without locks.
type Flow struct {
	Key  Key // already masked by Mask
	Mask Key
	// Data is whatever the slow path attached when it installed the flow
	// (ofproto keeps what it needs to revalidate the flow and push its
	// statistics). The datapath never looks at it.
	Data any

	hash    uint64 // hash of Key over the subtable's words
	created time.Time
	actions atomic.Pointer[Actions]
	dead    atomic.Bool // set once the flow is removed; EMC entries check it

	packets  atomic.Uint64
	bytes    atomic.Uint64
	used     atomic.Int64 // unix nanoseconds of the last hit, 0 = never
	tcpFlags atomic.Uint32
}

// FlowStats are a megaflow's counters.
type FlowStats struct {
	Packets  uint64
	Bytes    uint64
	Used     time.Time // zero if never hit
	TCPFlags uint16
}

// Actions returns the flow's current actions.
func (f *Flow) Actions() Actions {
	if a := f.actions.Load(); a != nil {
		return *a
	}
	return nil
}

// Stats returns the flow's counters.
func (f *Flow) Stats() FlowStats {
	s := FlowStats{
		Packets:  f.packets.Load(),
		Bytes:    f.bytes.Load(),
		TCPFlags: uint16(f.tcpFlags.Load()),
	}
	if u := f.used.Load(); u != 0 {
		s.Used = time.Unix(0, u)
	}
	return s
}

// Created returns when the flow was installed.
func (f *Flow) Created() time.Time { return f.created }

// Dead reports whether the flow has been removed from the table.
func (f *Flow) Dead() bool { return f.dead.Load() }

// hit adds one batch's worth of packets to the flow's counters.
func (f *Flow) hit(packets, bytes uint64, tcpFlags uint16, now int64) {
	f.packets.Add(packets)
	f.bytes.Add(bytes)
	if tcpFlags != 0 && uint16(f.tcpFlags.Load())&tcpFlags != tcpFlags {
		f.tcpFlags.Or(uint32(tcpFlags))
	}
	f.used.Store(now)
}
