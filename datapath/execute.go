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
	var q *vport.Packet
	if n := len(ex.spare); n > 0 {
		q = ex.spare[n-1]
		ex.spare = ex.spare[:n-1]
	} else {
		q = vport.NewPacket()
	}
	q.CopyFrom(p)
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
	for i := range ex.outs {
		if ex.outs[i].port.no == no {
			ex.outs[i].pkts = append(ex.outs[i].pkts, p)
			return
		}
	}
	dport, ok := (*ex.dp.ports.Load())[no]
	if !ok {
		return
	}
	// Reuse a batch slot left from an earlier flush if there is one.
	n := len(ex.outs)
	if n < cap(ex.outs) {
		ex.outs = ex.outs[:n+1]
		ex.outs[n].port = dport
		ex.outs[n].pkts = append(ex.outs[n].pkts[:0], p)
		return
	}
	ex.outs = append(ex.outs, txBatch{port: dport, pkts: []*vport.Packet{p}})
}

// flush sends every queued batch and recycles the clone buffers.
func (ex *executor) flush() {
	for i := range ex.outs {
		b := &ex.outs[i]
		b.port.port.Send(b.pkts)
		clear(b.pkts)
		b.pkts = b.pkts[:0]
		b.port = nil
	}
	ex.outs = ex.outs[:0]
	ex.spare = append(ex.spare, ex.inUse...)
	clear(ex.inUse)
	ex.inUse = ex.inUse[:0]
}
