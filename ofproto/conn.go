package ofproto

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
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
// the writer, the keepalive and (with a packet-in rate limit) the pinsched
// drain, all started by serve and stopped by close.
type conn struct {
	mgr    *connMgr
	br     *Bridge
	nc     net.Conn
	kind   connKind
	name   string
	log    *logrus.Entry
	remote *remote   // the controller this connection was made for, or nil
	origin *listener // the listener that accepted it, or nil
	probe  time.Duration
	pins   *pinsched // packet-in rate limit; nil: none

	startedAt   time.Time
	connectedAt atomic.Int64 // unix nanoseconds of the handshake; 0 before
	errMu       sync.Mutex
	err         error // guarded by errMu; why the connection closed

	rxMsgs, txMsgs atomic.Uint64
	pinOffered     atomic.Uint64 // packet-ins for this connection

	out       chan []byte   // messages for the writer
	done      chan struct{} // closed by close
	closeOnce sync.Once
	wg        sync.WaitGroup // writer and keepalive

	lastRecv    atomic.Int64 // unix nanoseconds of the last message received
	echoPending atomic.Bool
	dropped     atomic.Uint64 // asynchronous messages dropped on a full queue
	pinOverflow atomic.Uint64 // of dropped, packet-ins
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
		probe:   time.Duration(mgr.probe.Load()),
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
	c.startedAt = time.Now()
	c.lastRecv.Store(c.startedAt.UnixNano())
	return c
}

// setErr records why the connection is closing (the first reason wins).
func (c *conn) setErr(err error) {
	c.errMu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.errMu.Unlock()
}

// closeErr returns why the connection closed (nil if not known).
func (c *conn) closeErr() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// errPeerClosed is the close reason of a peer that hung up.
var errPeerClosed = errors.New("connection closed by peer")

// serve runs the connection until the peer goes away or close is called.
func (c *conn) serve() {
	defer c.close()
	if tc, ok := c.nc.(*tls.Conn); ok && !tc.ConnectionState().HandshakeComplete {
		// Accepted on a pssl: listener.
		tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			err = fmt.Errorf("TLS handshake: %w", err)
			c.setErr(err)
			if c.origin != nil {
				c.origin.setErr(fmt.Errorf("%s: %w", c.name, err))
			}
			c.log.WithError(err).Warn("connection refused")
			return
		}
		tc.SetDeadline(time.Time{})
	}
	c.wg.Add(2)
	go c.writer()
	go c.keepalive()
	if c.pins != nil {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.pins.run(c.done, c.sendPacketIn)
		}()
	}
	c.sendMsg(0, &ofp.Hello{Version: ofp.Version, Bitmaps: []uint32{1 << ofp.Version}})
	r := bufio.NewReaderSize(c.nc, 64*1024)
	var buf []byte
	first := true
	for {
		msg, err := ofp.ReadMessage(r, buf)
		if err != nil {
			l := c.log.WithError(err)
			if errors.Is(err, io.EOF) {
				c.setErr(errPeerClosed)
				l = c.log
			} else if errors.Is(err, net.ErrClosed) {
				l = c.log
			} else {
				c.setErr(err)
			}
			if c.kind == connPrimary {
				l.Info("controller connection closed")
			} else {
				l.Debug("connection closed")
			}
			return
		}
		buf = msg[:0]
		c.rxMsgs.Add(1)
		covRecvOpenFlow.inc()
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
		c.setErr(fmt.Errorf("peer does not speak OpenFlow 1.3 (version %#x)", h.Version))
		c.flushAndClose()
		return false
	}
	c.connectedAt.Store(time.Now().UnixNano())
	c.handshaken.Store(true)
	covConnect.inc()
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
	// A peer that reads nothing for this long is dropped.
	stall := 2 * c.probe
	if stall <= 0 {
		stall = time.Minute
	}
	fail := func(err error) {
		c.setErr(fmt.Errorf("write: %w", err))
		c.nc.Close()
	}
	for {
		select {
		case b := <-c.out:
			n := 1
			c.nc.SetWriteDeadline(time.Now().Add(stall))
			if _, err := w.Write(b); err != nil {
				fail(err)
				return
			}
		drain:
			for {
				select {
				case b := <-c.out:
					n++
					if _, err := w.Write(b); err != nil {
						fail(err)
						return
					}
				default:
					break drain
				}
			}
			if err := w.Flush(); err != nil {
				fail(err)
				return
			}
			c.txMsgs.Add(uint64(n))
			covRconnSent.add(uint64(n))
		case <-c.done:
			return
		}
	}
}

// keepalive sends an echo request after ProbeInterval without traffic from
// the peer and drops the connection after twice that.
func (c *conn) keepalive() {
	defer c.wg.Done()
	probe := c.probe
	if probe <= 0 {
		<-c.done
		return
	}
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
				c.setErr(fmt.Errorf("no response to inactivity probe after %v", idle.Round(time.Second)))
				c.nc.Close()
				return
			case idle >= probe && !c.echoPending.Swap(true):
				covProbe.inc()
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
func (c *conn) sendAsync(b []byte) bool {
	select {
	case c.out <- b:
		return true
	default:
		covRconnOverflow.inc()
		if c.dropped.Add(1)&1023 == 1 {
			c.log.WithField("dropped", c.dropped.Load()).Warn("peer too slow: asynchronous messages dropped")
		}
		return false
	}
}

// packetIn offers a packet-in from inPort to the connection's rate limit
// (or sends it at once without one). encode returns its bytes. It never
// blocks.
func (c *conn) packetIn(inPort uint32, encode func() []byte) {
	c.pinOffered.Add(1)
	covPacketIn.inc()
	if c.pins == nil {
		if b := encode(); b != nil {
			c.sendPacketIn(b)
		}
		return
	}
	b, queued, dropped := c.pins.submit(inPort, encode)
	if b != nil {
		c.sendPacketIn(b)
	}
	if queued {
		covPinQueued.inc()
	}
	if dropped > 0 {
		covPinDrop.add(uint64(dropped))
		if n := c.pins.dropped.Load(); n&1023 == 1 {
			c.log.WithField("dropped", n).Info("packet-in rate limit: packet-ins dropped")
		}
	}
}

// sendPacketIn queues an encoded packet-in.
func (c *conn) sendPacketIn(b []byte) {
	if !c.sendAsync(b) {
		c.pinOverflow.Add(1)
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
		covDisconnect.inc()
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
