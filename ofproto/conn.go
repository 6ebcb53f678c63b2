package ofproto

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/govs/govs/ofproto/ofp"
)

// connKind distinguishes controllers from service connections.
type connKind int

const (
	// connPrimary is a controller: an active connection we made, or a
	// controller that connected to one of the configured listeners. It
	// receives asynchronous messages by default and counts for fail mode.
	connPrimary connKind = iota
	// connService is a tool on the management socket (ovs-ofctl). As in
	// Open vSwitch, it gets asynchronous messages only after it sets a
	// non-zero miss_send_len.
	connService
)

// outQueueLen bounds the messages waiting to be written to one peer.
// Replies wait for room; asynchronous messages are dropped (and counted)
// when it is full, so that a slow controller never stalls the switch.
const outQueueLen = 1024

// conn is one OpenFlow connection.
//
// Goroutines: serve (reading and handling messages, owned by the connMgr),
// the writer and the keepalive, both started by serve and stopped by close.
type conn struct {
	mgr  *connMgr
	br   *Bridge
	nc   net.Conn
	kind connKind
	name string
	log  *logrus.Entry

	out       chan []byte   // messages for the writer
	done      chan struct{} // closed by close
	closeOnce sync.Once
	wg        sync.WaitGroup // writer and keepalive

	lastRecv    atomic.Int64 // unix nanoseconds of the last message received
	echoPending atomic.Bool
	dropped     atomic.Uint64 // asynchronous messages dropped on a full queue
	handshaken  atomic.Bool

	mu          sync.Mutex // guards role, async, missSendLen
	role        uint32
	async       ofp.AsyncConfig
	missSendLen uint16

	// Owned by the serve goroutine.
	bundles   map[uint32]*bundle
	mpPending *ofp.TableFeaturesRequest // a table features request split with REQ_MORE
	xidNext   uint32                    // guarded by mu
}

// defaultAsync is the OpenFlow 1.3 default asynchronous configuration:
// masters and equals get packet-ins for no-match and action, every port
// status and flow removed message; slaves only port status.
var defaultAsync = ofp.AsyncConfig{
	PacketInMask:    [2]uint32{1<<ofp.ReasonNoMatch | 1<<ofp.ReasonAction, 0},
	PortStatusMask:  [2]uint32{0x7, 0x7},
	FlowRemovedMask: [2]uint32{0xf, 0},
}

func newConn(mgr *connMgr, nc net.Conn, kind connKind, name string) *conn {
	c := &conn{
		mgr:     mgr,
		br:      mgr.br,
		nc:      nc,
		kind:    kind,
		name:    name,
		log:     mgr.br.log.WithField("conn", name),
		out:     make(chan []byte, outQueueLen),
		done:    make(chan struct{}),
		role:    ofp.RoleEqual,
		async:   defaultAsync,
		bundles: map[uint32]*bundle{},
		xidNext: 1,
	}
	if kind == connPrimary {
		c.missSendLen = 128
	}
	c.lastRecv.Store(time.Now().UnixNano())
	return c
}

// serve runs the connection until the peer goes away or close is called.
func (c *conn) serve() {
	defer c.close()
	c.wg.Add(2)
	go c.writer()
	go c.keepalive()
	c.sendMsg(0, &ofp.Hello{Version: ofp.Version, Bitmaps: []uint32{1 << ofp.Version}})
	r := bufio.NewReaderSize(c.nc, 64*1024)
	var buf []byte
	first := true
	for {
		msg, err := ofp.ReadMessage(r, buf)
		if err != nil {
			l := c.log.WithError(err)
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				l = c.log
			}
			if c.kind == connPrimary {
				l.Info("controller connection closed")
			} else {
				l.Debug("connection closed")
			}
			return
		}
		buf = msg[:0]
		c.lastRecv.Store(time.Now().UnixNano())
		c.echoPending.Store(false)
		if first {
			first = false
			if !c.handshake(msg) {
				return
			}
			continue
		}
		c.handle(msg)
	}
}

// handshake negotiates the version from the peer's first message, which
// should be a HELLO: with a version bitmap, 1.3 must be in it; without one,
// the peer's header version must be at least 1.3.
func (c *conn) handshake(msg []byte) bool {
	h, err := ofp.ParseHeader(msg)
	if err != nil {
		return false
	}
	ok := h.Version >= ofp.Version
	if h.Type == ofp.TypeHello {
		if _, m, err := ofp.Decode(msg); err == nil {
			hello := m.(*ofp.Hello)
			if len(hello.Bitmaps) > 0 {
				ok = hello.Bitmaps[0]&(1<<ofp.Version) != 0
			}
		}
	}
	if !ok {
		c.log.WithField("peer_version", h.Version).Warn("peer does not speak OpenFlow 1.3")
		e := &ofp.ErrorMsg{ErrType: ofp.ETHelloFailed, Code: ofp.HFCIncompatible,
			Data: []byte("govs supports OpenFlow 1.3 (version 0x04) only")}
		c.sendMsg(h.Xid, e)
		c.flushAndClose()
		return false
	}
	c.handshaken.Store(true)
	if c.kind == connPrimary {
		c.log.Info("controller connected (OpenFlow 1.3)")
	} else {
		c.log.Debug("connected (OpenFlow 1.3)")
	}
	c.mgr.connected(c)
	if h.Type != ofp.TypeHello {
		c.handle(msg)
	}
	return true
}

// writer writes queued messages, batching whatever is queued into one
// write.
func (c *conn) writer() {
	defer c.wg.Done()
	w := bufio.NewWriterSize(c.nc, 64*1024)
	for {
		select {
		case b := <-c.out:
			if _, err := w.Write(b); err != nil {
				c.nc.Close()
				return
			}
		drain:
			for {
				select {
				case b := <-c.out:
					if _, err := w.Write(b); err != nil {
						c.nc.Close()
						return
					}
				default:
					break drain
				}
			}
			c.nc.SetWriteDeadline(time.Now().Add(2 * c.br.cfg.ProbeInterval))
			if err := w.Flush(); err != nil {
				c.nc.Close()
				return
			}
		case <-c.done:
			return
		}
	}
}

// keepalive sends an echo request after ProbeInterval without traffic from
// the peer and drops the connection after twice that.
func (c *conn) keepalive() {
	defer c.wg.Done()
	probe := c.br.cfg.ProbeInterval
	t := time.NewTicker(probe / 4)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			idle := now.Sub(time.Unix(0, c.lastRecv.Load()))
			switch {
			case idle >= 2*probe:
				c.log.WithField("idle", idle.Round(time.Millisecond)).Warn("no response to inactivity probe: disconnecting")
				c.nc.Close()
				return
			case idle >= probe && !c.echoPending.Swap(true):
				c.sendMsg(c.nextXid(), &ofp.EchoRequest{})
			}
		}
	}
}

func (c *conn) nextXid() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.xidNext++
	return c.xidNext
}

// sendMsg encodes and queues a message, waiting for room in the queue.
func (c *conn) sendMsg(xid uint32, m ofp.Message) {
	b, err := ofp.Marshal(xid, m)
	if err != nil {
		c.log.WithError(err).Errorf("cannot encode %T", m)
		return
	}
	c.sendRaw(b)
}

// sendRaw queues an encoded message, waiting for room.
func (c *conn) sendRaw(b []byte) {
	select {
	case c.out <- b:
	case <-c.done:
	}
}

// sendAsync queues an encoded asynchronous message without waiting: a full
// queue drops it.
func (c *conn) sendAsync(b []byte) {
	select {
	case c.out <- b:
	default:
		if c.dropped.Add(1)&1023 == 1 {
			c.log.WithField("dropped", c.dropped.Load()).Warn("peer too slow: asynchronous messages dropped")
		}
	}
}

// sendError replies to msg with an ERROR for err.
func (c *conn) sendError(xid uint32, err error, msg []byte) {
	var oe *ofp.Error
	if !errors.As(err, &oe) {
		oe = ofp.Errorf(ofp.ETBadRequest, ofp.BRCEPerm, "%v", err)
	}
	c.log.WithField("xid", xid).Debugf("error reply: %v", oe)
	c.sendMsg(xid, ofp.NewErrorMsg(oe, msg))
}

// flushAndClose gives the writer a moment to send what is queued, then
// closes the connection.
func (c *conn) flushAndClose() {
	deadline := time.Now().Add(time.Second)
	for len(c.out) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	c.close()
}

// close shuts the connection down (idempotent) and waits for its writer
// and keepalive goroutines.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.nc.Close()
		c.wg.Wait()
		c.mgr.disconnected(c)
	})
}

// wantsAsync reports whether the connection receives an asynchronous
// message of type t with reason (OpenFlow 1.3 roles and async config).
func (c *conn) wantsAsync(t ofp.MsgType, reason uint8) bool {
	if !c.handshaken.Load() {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kind == connService && c.missSendLen == 0 {
		return false
	}
	i := 0
	if c.role == ofp.RoleSlave {
		i = 1
	}
	var mask uint32
	switch t {
	case ofp.TypePacketIn:
		mask = c.async.PacketInMask[i]
	case ofp.TypePortStatus:
		mask = c.async.PortStatusMask[i]
	case ofp.TypeFlowRemoved:
		mask = c.async.FlowRemovedMask[i]
	}
	return mask&(1<<reason) != 0
}
