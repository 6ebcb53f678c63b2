package datapath

import "github.com/govs/govs/vport"

// executor runs action lists on packets and batches the resulting sends per
// output port. Each worker owns one; the slow path owns one under
// Datapath.execMu. It allocates nothing in steady state: send batches and
// clone buffers are kept and reused.
type executor struct {
	dp    *Datapath
	now   int64           // unix nanoseconds of the batch being executed (meters)
	outs  []txBatch       // pending sends, one entry per output port used this batch
	spare []*vport.Packet // free clone buffers
	inUse []*vport.Packet // clones referenced by outs until flush
}

// txBatch is the packets waiting to be sent on one port.
type txBatch struct {
	port *dpPort
	pkts []*vport.Packet
}

func newExecutor(dp *Datapath) *executor { return &executor{dp: dp} }

// clonePacket returns a copy of p in one of the executor's buffers, kept
// until the next flush.
func (ex *executor) clonePacket(p *vport.Packet) *vport.Packet {
	q := ex.newPacket()
	q.CopyFrom(p)
	return q
}

// newPacket returns one of the executor's buffers, kept until the next
// flush.
func (ex *executor) newPacket() *vport.Packet {
	var q *vport.Packet
	if n := len(ex.spare); n > 0 {
		q = ex.spare[n-1]
		ex.spare = ex.spare[:n-1]
	} else {
		q = vport.NewPacket()
	}
	ex.inUse = append(ex.inUse, q)
	return q
}

// maxCloneDepth bounds nested ActClone lists (the slow path never nests
// deeper than its group chaining limit).
const maxCloneDepth = 8

// execute applies acts to p (received on inPort, with key and layout l).
// Sends are queued until flush. Once p has been queued for output it is
// shared: a later action that modifies it works on a copy.
func (ex *executor) execute(p *vport.Packet, lay *Layout, key *Key, inPort uint32, acts Actions) {
	ex.executeNested(p, lay, key, inPort, acts, false, 0)
}

// executeNested is execute for a packet that may already be shared (an
// ActClone's copy must not change the original), at nesting depth.
func (ex *executor) executeNested(p *vport.Packet, lay *Layout, key *Key, inPort uint32, acts Actions, shared bool, depth int) {
	l := *lay
	for i := range acts {
		a := &acts[i]
		switch a.Type {
		case ActOutput:
			ex.output(a.Port, p)
			shared = true
		case ActUserspace:
			ex.dp.upcalls.action(p, key, inPort, a)
		case ActClone:
			if depth < maxCloneDepth {
				ex.executeNested(p, &l, key, inPort, a.Nested, true, depth+1)
				shared = true // the clone may have queued p for output
			}
		case ActMeter:
			var pass bool
			if p, shared, pass = ex.meter(a.Port, p, &l, shared); !pass {
				return
			}
		case ActRecirc:
			ex.recirc(p, &l, inPort, a.Port, shared, depth)
			shared = true // the recirculated pass may have queued p for output
		default:
			if !isHeaderAction(a.Type) {
				// Actions this datapath does not implement end the
				// list: dropping is the only safe reading.
				return
			}
			if shared {
				p = ex.clonePacket(p)
				shared = false
			}
			applyHeaderAction(p, &l, a)
		}
	}
}

// output queues p for sending on port no. Unknown ports drop the packet.
func (ex *executor) output(no uint32, p *vport.Packet) {
	if b := ex.batch(no); b != nil {
		b.pkts = append(b.pkts, p)
	}
}

// outputGroup queues the packets of a worker's group list (from first,
// through next) for sending on port no.
func (ex *executor) outputGroup(no uint32, pkts *[vport.BatchSize]*vport.Packet, next *[vport.BatchSize]int8, first int8) {
	b := ex.batch(no)
	if b == nil {
		return
	}
	for i := first; i >= 0; i = next[i] {
		b.pkts = append(b.pkts, pkts[i])
	}
}

// batch returns the send batch of port no, starting one if the port has
// none yet, or nil when there is no such port.
func (ex *executor) batch(no uint32) *txBatch {
	for i := range ex.outs {
		if ex.outs[i].port.no == no {
			return &ex.outs[i]
		}
	}
	dport, ok := (*ex.dp.ports.Load())[no]
	if !ok {
		return nil
	}
	// Reuse a batch slot left from an earlier flush if there is one.
	n := len(ex.outs)
	if n < cap(ex.outs) {
		ex.outs = ex.outs[:n+1]
		ex.outs[n].port = dport
		ex.outs[n].pkts = ex.outs[n].pkts[:0]
		return &ex.outs[n]
	}
	ex.outs = append(ex.outs, txBatch{port: dport, pkts: make([]*vport.Packet, 0, vport.BatchSize)})
	return &ex.outs[n]
}

// flush sends every queued batch and recycles the clone buffers.
func (ex *executor) flush() {
	for i := range ex.outs {
		b := &ex.outs[i]
		b.port.txMu.Lock()
		b.port.port.Send(b.pkts)
		b.port.txMu.Unlock()
		clear(b.pkts)
		b.pkts = b.pkts[:0]
		b.port = nil
	}
	ex.outs = ex.outs[:0]
	ex.spare = append(ex.spare, ex.inUse...)
	clear(ex.inUse)
	ex.inUse = ex.inUse[:0]
}

// executeAny is execute for a packet that may have offload state.
func (ex *executor) executeAny(p *vport.Packet, lay *Layout, key *Key, inPort uint32, acts Actions) {
	if p.HasOffload() {
		ex.executeOffload(p, lay, key, inPort, acts)
		return
	}
	ex.execute(p, lay, key, inPort, acts)
}

// executeOffload executes acts on a packet with offload state (a partial
// checksum, or a GSO super-frame), which the executor owns (it may complete
// the checksum in place). When every action keeps the offload state valid
// and every output port takes it (offloadSafe), the packet goes through as
// it is and the kernel does the rest. Otherwise the checksum is completed,
// or the super-frame is cut into segments in software and each segment
// runs the actions.
func (ex *executor) executeOffload(p *vport.Packet, lay *Layout, key *Key, inPort uint32, acts Actions) {
	if ex.offloadSafe(acts, 0) {
		ex.execute(p, lay, key, inPort, acts)
		return
	}
	dp := ex.dp
	if !p.IsGSO() {
		if !p.FinishChecksum() {
			dp.stats.offloadDrops.Add(1)
			return
		}
		ex.execute(p, lay, key, inPort, acts)
		return
	}
	n := p.GSOSegments()
	if n == 0 {
		dp.stats.offloadDrops.Add(1)
		return
	}
	dp.stats.segmented.Add(1)
	var l Layout
	var k Key
	for i := 0; i < n; i++ {
		q := ex.newPacket()
		if !p.Segment(i, q) {
			dp.stats.offloadDrops.Add(1)
			continue
		}
		Extract(q.Data(), inPort, &k, &l)
		ex.execute(q, &l, &k, inPort, acts)
	}
}

// offloadSafe reports whether running acts on a packet with offload state
// leaves that state valid for every output: the actions only output to
// ports that take offloads, push or pop VLAN tags (the offsets follow),
// rewrite Ethernet addresses or the VLAN TCI, meter, or clone such actions.
// Actions that change what the L3/L4 checksums cover, hand the packet to
// the slow path or recirculate it need a complete packet.
func (ex *executor) offloadSafe(acts Actions, depth int) bool {
	for i := range acts {
		a := &acts[i]
		switch a.Type {
		case ActOutput:
			dport, ok := (*ex.dp.ports.Load())[a.Port]
			if ok && !dport.offload {
				return false
			}
		case ActPushVLAN, ActPopVLAN, ActMeter:
		case ActSetField:
			switch a.Field {
			case SetEthDst, SetEthSrc, SetVlanTCI:
			default:
				return false
			}
		case ActClone:
			if depth >= maxCloneDepth || !ex.offloadSafe(a.Nested, depth+1) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
