package datapath

import "github.com/govs/govs/vport"

// maxRecircDepth bounds how many times one packet recirculates (as the
// kernel datapath bounds recursion with OVS_RECURSION_LIMIT).
const maxRecircDepth = 4

// recirc runs a packet, as the actions so far have changed it, through the
// lookup again: its key is extracted anew from the frame, with recirc_id
// id, so that headers an earlier action exposed (a popped MPLS label or PBB
// header) become visible. A hit executes that megaflow's actions; a miss
// goes to the slow path like any other miss (the slow path resumes the
// pipeline where it froze it when it emitted the ActRecirc).
func (ex *executor) recirc(p *vport.Packet, lay *Layout, inPort, id uint32, shared bool, depth int) {
	if depth >= maxRecircDepth {
		return
	}
	dp := ex.dp
	var k Key
	var l Layout
	Extract(p.Data(), inPort, &k, &l)
	FieldRecircID.Set(&k, uint64(id))
	f, searched := dp.table.lookup(&k)
	dp.stats.maskHit.Add(uint64(searched))
	if f == nil {
		dp.stats.missed.Add(1)
		dp.upcalls.miss(p, &k)
		return
	}
	dp.stats.hit.Add(1)
	var flags uint16
	if l.L4Proto == 6 {
		flags = uint16(FieldTCPFlags.Get(&k))
	}
	f.hit(1, uint64(p.Len()), flags, ex.now)
	ex.executeNested(p, &l, &k, inPort, f.Actions(), shared, depth+1)
}
