package datapath

import (
	"sync"

	"github.com/govs/govs/vport"
)

// UpcallType says why a packet went to the slow path.
type UpcallType uint8

const (
	// UpcallMiss: the packet matched no megaflow.
	UpcallMiss UpcallType = iota + 1
	// UpcallAction: a megaflow's ActUserspace sent it (e.g. to a
	// controller).
	UpcallAction
)

// Upcall is a packet handed to the slow path.
type Upcall struct {
	Type   UpcallType
	InPort uint32
	// Key is the packet's flow key as received (before any action).
	Key Key
	// Packet is a copy of the frame: as received for a miss, as modified
	// by the actions before ActUserspace (and truncated to its MaxLen) for
	// an action upcall.
	Packet *vport.Packet
	// TotalLen is the frame's length before truncation.
	TotalLen int
	// Userdata is the ActUserspace's Userdata (nil for a miss). It aliases
	// the installed action: read it, do not modify it.
	Userdata []byte
}

// UpcallHandler is the slow path's hook. HandleUpcall is called by the
// datapath's handler goroutines, several at once; u is valid only during
// the call.
type UpcallHandler interface {
	HandleUpcall(u *Upcall)
}

// upcallQueues are the bounded queues between workers and handler
// goroutines. Upcalls come from a fixed free list allocated up front, so a
// burst of misses costs no allocation and no unbounded memory: when the free
// list or the chosen queue is empty/full the packet is dropped and counted
// in Stats.Lost. Workers never block on them.
type upcallQueues struct {
	dp     *Datapath
	queues []chan *Upcall
	free   chan *Upcall
	wg     sync.WaitGroup // handler goroutines
	once   sync.Once
}

func newUpcallQueues(dp *Datapath, handlers, qlen int) *upcallQueues {
	uq := &upcallQueues{dp: dp, free: make(chan *Upcall, handlers*qlen)}
	for i := 0; i < handlers*qlen; i++ {
		uq.free <- &Upcall{Packet: vport.NewPacket()}
	}
	for i := 0; i < handlers; i++ {
		q := make(chan *Upcall, qlen)
		uq.queues = append(uq.queues, q)
		uq.wg.Add(1)
		go uq.handle(q)
	}
	return uq
}

// handle runs one handler goroutine until its queue is closed.
func (uq *upcallQueues) handle(q chan *Upcall) {
	defer uq.wg.Done()
	for u := range q {
		if h := uq.dp.cfg.Handler; h != nil {
			h.HandleUpcall(u)
		}
		u.Userdata = nil
		uq.free <- u
	}
}

// enqueue takes a free upcall, lets fill set it up, and queues it on the
// queue chosen by hash. It counts a loss instead of blocking.
func (uq *upcallQueues) enqueue(hash uint64, fill func(u *Upcall)) {
	var u *Upcall
	select {
	case u = <-uq.free:
	default:
		uq.dp.stats.lost.Add(1)
		return
	}
	fill(u)
	select {
	case uq.queues[hash%uint64(len(uq.queues))] <- u:
	default:
		u.Userdata = nil
		uq.free <- u
		uq.dp.stats.lost.Add(1)
	}
}

// miss sends a packet that matched no megaflow to the slow path.
func (uq *upcallQueues) miss(p *vport.Packet, k *Key) {
	uq.enqueue(k.Hash(), func(u *Upcall) {
		u.Type = UpcallMiss
		u.InPort = uint32(FieldInPort.Get(k))
		u.Key = *k
		u.Packet.CopyFrom(p)
		u.TotalLen = p.Len()
		u.Userdata = nil
	})
}

// action sends a copy of p to the slow path for an ActUserspace action.
func (uq *upcallQueues) action(p *vport.Packet, k *Key, inPort uint32, a *Action) {
	uq.enqueue(k.Hash(), func(u *Upcall) {
		u.Type = UpcallAction
		u.InPort = inPort
		u.Key = *k
		u.Packet.CopyFrom(p)
		u.TotalLen = p.Len()
		if a.MaxLen > 0 {
			u.Packet.Truncate(int(a.MaxLen))
		}
		u.Userdata = a.Userdata
	})
}

// close stops the handler goroutines after the workers have stopped.
// Queued upcalls are still handled first.
func (uq *upcallQueues) close() {
	uq.once.Do(func() {
		for _, q := range uq.queues {
			close(q)
		}
		uq.wg.Wait()
	})
}
