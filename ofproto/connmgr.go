package ofproto

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// DefaultOpenFlowPort is the IANA OpenFlow port.
const DefaultOpenFlowPort = 6653

// Target is a parsed connection target: "tcp:HOST[:PORT]",
// "ssl:HOST[:PORT]", "unix:PATH" (active) or "ptcp:[PORT][:IP]",
// "pssl:[PORT][:IP]", "punix:PATH" (passive).
type Target struct {
	Network string // "tcp" or "unix"
	Addr    string // host:port or path
	Passive bool
	TLS     bool // ssl: or pssl: (Network is "tcp")
}

func (t Target) String() string {
	p := ""
	if t.Passive {
		p = "p"
	}
	if t.Network == "unix" {
		return p + "unix:" + t.Addr
	}
	method := "tcp"
	if t.TLS {
		method = "ssl"
	}
	if t.Passive {
		host, port, _ := net.SplitHostPort(t.Addr)
		if host == "" {
			return p + method + ":" + port
		}
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		return p + method + ":" + port + ":" + host
	}
	return method + ":" + t.Addr
}

// ParseTarget parses a connection target. passive says which kind is
// expected (controllers are active, listeners passive).
func ParseTarget(s string, passive bool) (Target, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Target{}, fmt.Errorf("%q: want METHOD:ADDRESS (tcp:, ssl:, unix:, ptcp:, pssl:, punix:)", s)
	}
	switch kind {
	case "tcp", "ptcp", "ssl", "pssl":
		if strings.HasPrefix(kind, "p") != passive {
			break
		}
		tls := strings.HasSuffix(kind, "ssl")
		if passive {
			// ptcp:[PORT][:IP]
			port, ip, _ := strings.Cut(rest, ":")
			ip = strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")
			if port == "" {
				port = strconv.Itoa(DefaultOpenFlowPort)
			}
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				return Target{}, fmt.Errorf("%q: bad port %q", s, port)
			}
			if ip != "" && net.ParseIP(ip) == nil {
				return Target{}, fmt.Errorf("%q: bad IP address %q", s, ip)
			}
			return Target{Network: "tcp", Addr: net.JoinHostPort(ip, port), Passive: true, TLS: tls}, nil
		}
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			host, port = strings.TrimSuffix(strings.TrimPrefix(rest, "["), "]"), strconv.Itoa(DefaultOpenFlowPort)
		}
		if host == "" {
			return Target{}, fmt.Errorf("%q: missing host", s)
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return Target{}, fmt.Errorf("%q: bad port %q", s, port)
		}
		return Target{Network: "tcp", Addr: net.JoinHostPort(host, port), TLS: tls}, nil
	case "unix", "punix":
		if (kind == "punix") != passive {
			break
		}
		if rest == "" {
			return Target{}, fmt.Errorf("%q: missing path", s)
		}
		return Target{Network: "unix", Addr: rest, Passive: passive}, nil
	default:
		return Target{}, fmt.Errorf("%q: unknown connection method %q", s, kind)
	}
	if passive {
		return Target{}, fmt.Errorf("%q: a listener must be ptcp:, pssl: or punix:", s)
	}
	return Target{}, fmt.Errorf("%q: a controller must be tcp:, ssl: or unix:", s)
}

// Connection states of a controller, named as Open vSwitch's rconn names
// them (ovs-vsctl list controller: status:state).
const (
	stateBackoff    = "BACKOFF"    // waiting before the next attempt
	stateConnecting = "CONNECTING" // connecting (TCP and TLS handshakes)
	stateActive     = "ACTIVE"     // connected
	stateIdle       = "IDLE"       // connected, an inactivity probe is unanswered
)

// remote is a configured controller (an active target): the state of the
// goroutine that keeps it connected.
type remote struct {
	target Target
	stop   chan struct{} // closed when the controller is removed

	mu        sync.Mutex
	state     string    // guarded by mu
	since     time.Time // guarded by mu; when state was entered
	conn      *conn     // guarded by mu; the current connection
	lastErr   string    // guarded by mu
	lastErrAt time.Time // guarded by mu
	connects  int       // guarded by mu; connections made
}

func (r *remote) setState(s string, c *conn) {
	r.mu.Lock()
	r.state, r.since, r.conn = s, time.Now(), c
	r.mu.Unlock()
}

func (r *remote) setErr(err error) {
	r.mu.Lock()
	r.lastErr, r.lastErrAt = err.Error(), time.Now()
	r.mu.Unlock()
}

// listener is a passive target and the connections it accepted.
type listener struct {
	target Target
	kind   connKind
	l      net.Listener
	done   chan struct{} // closed when the accept loop has returned

	mu        sync.Mutex
	lastErr   string    // guarded by mu
	lastErrAt time.Time // guarded by mu
	accepted  uint64    // guarded by mu
}

func (l *listener) setErr(err error) {
	l.mu.Lock()
	l.lastErr, l.lastErrAt = err.Error(), time.Now()
	l.mu.Unlock()
}

// connMgr owns a bridge's OpenFlow connections: the active connections to
// controllers (reconnecting with backoff), the listeners and the
// connections accepted on them. Controllers and listeners can be added and
// removed while the bridge runs (SetControllers, SetListeners).
//
// Goroutines: one dialer per controller, one accept loop per listener, one
// serve goroutine per connection; close stops them all and waits.
//
// Lock order: connMgr.mu, then remote.mu / listener.mu, then conn.mu.
type connMgr struct {
	br *Bridge

	mu          sync.Mutex
	conns       map[*conn]struct{}   // guarded by mu
	primaryUp   int                  // guarded by mu; handshaken primary connections
	remotes     map[string]*remote   // guarded by mu; configured controllers by target
	listeners   map[string]*listener // guarded by mu; by target
	tls         *tlsIdentity         // guarded by mu; nil without [ssl]
	rate, burst int                  // guarded by mu; packet-in limit of new connections
	failMode    FailMode             // guarded by mu

	list atomic.Pointer[[]*conn] // copy of conns' keys, for the packet-in path

	probe      atomic.Int64 // inactivity probe of new connections (ns; <= 0: none)
	maxBackoff atomic.Int64 // ns

	stop chan struct{}
	wg   sync.WaitGroup
}

func newConnMgr(br *Bridge) (*connMgr, error) {
	m := &connMgr{
		br:        br,
		conns:     map[*conn]struct{}{},
		remotes:   map[string]*remote{},
		listeners: map[string]*listener{},
		rate:      br.cfg.RateLimit,
		burst:     br.cfg.BurstLimit,
		failMode:  br.cfg.FailMode,
		stop:      make(chan struct{}),
	}
	m.list.Store(&[]*conn{})
	m.probe.Store(int64(br.cfg.ProbeInterval))
	m.maxBackoff.Store(int64(br.cfg.MaxBackoff))
	if br.cfg.SSL != nil {
		id, err := loadSSL(*br.cfg.SSL)
		if err != nil {
			return nil, fmt.Errorf("bridge %s: ssl: %w", br.cfg.Name, err)
		}
		m.tls = id
	}
	if br.cfg.Rundir != "" {
		path := filepath.Join(br.cfg.Rundir, br.cfg.Name+".mgmt")
		if err := m.listen(Target{Network: "unix", Addr: path, Passive: true}, connService); err != nil {
			m.close()
			return nil, err
		}
	}
	if err := m.SetListeners(br.cfg.Listen); err != nil {
		m.close()
		return nil, err
	}
	if err := m.SetControllers(br.cfg.Controllers); err != nil {
		m.close()
		return nil, err
	}
	registerBridge(br)
	return m, nil
}

// parseTargets parses a list of targets, refusing duplicates and TLS
// without an identity.
func (m *connMgr) parseTargets(list []string, passive bool, what string) ([]Target, error) {
	var out []Target
	seen := map[string]bool{}
	for _, s := range list {
		t, err := ParseTarget(s, passive)
		if err != nil {
			return nil, fmt.Errorf("bridge %s: %s: %w", m.br.cfg.Name, what, err)
		}
		if seen[t.String()] {
			return nil, fmt.Errorf("bridge %s: %s: %s listed twice", m.br.cfg.Name, what, t)
		}
		seen[t.String()] = true
		m.mu.Lock()
		noTLS := m.tls == nil
		m.mu.Unlock()
		if t.TLS && noTLS {
			return nil, fmt.Errorf("bridge %s: %s: %s needs a private key, certificate and CA certificate ([ssl])", m.br.cfg.Name, what, t)
		}
		out = append(out, t)
	}
	return out, nil
}

// SetControllers makes the set of controllers (active targets) the given
// one: new ones start connecting, removed ones are disconnected, the
// others are left alone.
func (m *connMgr) SetControllers(list []string) error {
	targets, err := m.parseTargets(list, false, "controller")
	if err != nil {
		return err
	}
	want := map[string]Target{}
	for _, t := range targets {
		want[t.String()] = t
	}
	m.mu.Lock()
	select {
	case <-m.stop:
		m.mu.Unlock()
		return errBridgeClosed
	default:
	}
	var removed []*remote
	for name, r := range m.remotes {
		if _, ok := want[name]; !ok {
			delete(m.remotes, name)
			removed = append(removed, r)
		}
	}
	for _, t := range targets {
		if m.remotes[t.String()] != nil {
			continue
		}
		r := &remote{target: t, stop: make(chan struct{}), state: stateConnecting, since: time.Now()}
		m.remotes[t.String()] = r
		m.wg.Add(1)
		go m.dial(r)
		m.br.log.WithField("conn", t.String()).Info("controller added")
	}
	m.mu.Unlock()
	for _, r := range removed {
		m.br.log.WithField("conn", r.target.String()).Info("controller removed")
		close(r.stop)
		r.mu.Lock()
		c := r.conn
		r.mu.Unlock()
		if c != nil {
			c.nc.Close()
		}
	}
	m.updateFailOpen()
	return nil
}

// SetListeners makes the set of configured listeners (passive targets) the
// given one. A removed listener's connections are closed; the management
// socket is not affected.
func (m *connMgr) SetListeners(list []string) error {
	targets, err := m.parseTargets(list, true, "listen")
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, t := range targets {
		want[t.String()] = true
	}
	m.mu.Lock()
	var removed []*listener
	for name, l := range m.listeners {
		if l.kind == connPrimary && !want[name] {
			delete(m.listeners, name)
			removed = append(removed, l)
		}
	}
	m.mu.Unlock()
	for _, l := range removed {
		m.closeListener(l)
	}
	for _, t := range targets {
		m.mu.Lock()
		exists := m.listeners[t.String()] != nil
		m.mu.Unlock()
		if exists {
			continue
		}
		if err := m.listen(t, connPrimary); err != nil {
			return err
		}
	}
	return nil
}

// closeListener stops a listener and closes the connections it accepted.
func (m *connMgr) closeListener(l *listener) {
	m.br.log.WithField("listen", l.target.String()).Info("listener removed")
	l.l.Close()
	<-l.done
	for _, c := range m.snapshot() {
		if c.origin == l {
			c.nc.Close()
		}
	}
	if l.target.Network == "unix" {
		os.Remove(l.target.Addr)
	}
}

// listen opens a passive target and starts accepting connections.
func (m *connMgr) listen(t Target, kind connKind) error {
	if t.Network == "unix" {
		if err := os.MkdirAll(filepath.Dir(t.Addr), 0o755); err != nil {
			return fmt.Errorf("bridge %s: %s: %w", m.br.cfg.Name, t, err)
		}
		os.Remove(t.Addr) // a stale socket from a previous run
	}
	nl, err := net.Listen(t.Network, t.Addr)
	if err != nil {
		return fmt.Errorf("bridge %s: listen %s: %w", m.br.cfg.Name, t, err)
	}
	l := &listener{target: t, kind: kind, l: nl, done: make(chan struct{})}
	m.mu.Lock()
	select {
	case <-m.stop:
		m.mu.Unlock()
		nl.Close()
		return errBridgeClosed
	default:
	}
	m.listeners[t.String()] = l
	m.wg.Add(1)
	m.mu.Unlock()
	m.br.log.WithField("listen", t.String()).Info("listening")
	go m.accept(l)
	return nil
}

func (m *connMgr) accept(l *listener) {
	defer m.wg.Done()
	defer close(l.done)
	for {
		nc, err := l.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-m.stop:
				return
			default:
			}
			l.setErr(err)
			m.br.log.WithError(err).Warn("accept failed")
			time.Sleep(100 * time.Millisecond)
			continue
		}
		name := nc.RemoteAddr().String()
		if name == "" || name == "@" {
			name = l.l.Addr().String()
		}
		if l.target.TLS {
			m.mu.Lock()
			id := m.tls
			m.mu.Unlock()
			nc = tls.Server(nc, id.serverConfig())
		}
		l.mu.Lock()
		l.accepted++
		l.mu.Unlock()
		m.start(nc, l.kind, name, nil, l)
	}
}

// dial keeps one active connection to r up, reconnecting with exponential
// backoff (1 s doubling to MaxBackoff) until r is removed or the manager
// closes.
func (m *connMgr) dial(r *remote) {
	defer m.wg.Done()
	t := r.target
	backoff := time.Second
	for {
		r.setState(stateConnecting, nil)
		nc, err := m.connect(r)
		if err == nil {
			r.mu.Lock()
			r.connects++
			r.mu.Unlock()
			c := m.start(nc, connPrimary, t.String(), r, nil)
			if c == nil {
				return
			}
			r.setState(stateActive, c)
			select {
			case <-c.done:
				if e := c.closeErr(); e != nil {
					r.setErr(e)
				}
				// A connection that lasted resets the backoff.
				if time.Since(c.startedAt) > m.maxBackoffDur() {
					backoff = time.Second
				}
			case <-r.stop:
				c.nc.Close()
				<-c.done
				return
			case <-m.stop:
				return
			}
		} else {
			r.mu.Lock()
			repeated := r.lastErr == err.Error()
			r.mu.Unlock()
			r.setErr(err)
			l := m.br.log.WithError(err).WithField("conn", t.String())
			if repeated {
				l.Debug("connection attempt failed")
			} else {
				l.Warn("connection attempt failed")
			}
		}
		r.setState(stateBackoff, nil)
		select {
		case <-time.After(backoff):
		case <-r.stop:
			return
		case <-m.stop:
			return
		}
		backoff = min(2*backoff, m.maxBackoffDur())
	}
}

func (m *connMgr) maxBackoffDur() time.Duration {
	return max(time.Duration(m.maxBackoff.Load()), time.Second)
}

// connect makes one connection to r's target, with the TLS handshake for
// ssl:. It gives up when r is removed or the manager closes.
func (m *connMgr) connect(r *remote) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		select {
		case <-r.stop:
		case <-m.stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	t := r.target
	var d net.Dialer
	nc, err := d.DialContext(ctx, t.Network, t.Addr)
	if err != nil {
		return nil, err
	}
	if !t.TLS {
		return nc, nil
	}
	m.mu.Lock()
	id := m.tls
	m.mu.Unlock()
	tc := tls.Client(nc, id.clientConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return tc, nil
}

// start registers and serves a new connection; nil when the manager is
// closing. r is the controller it was made for, l the listener that
// accepted it (one of them is nil).
func (m *connMgr) start(nc net.Conn, kind connKind, name string, r *remote, l *listener) *conn {
	m.mu.Lock()
	select {
	case <-m.stop:
		m.mu.Unlock()
		nc.Close()
		return nil
	default:
	}
	c := newConn(m, nc, kind, name)
	c.remote, c.origin = r, l
	c.pins = newPinsched(m.rate, m.burst)
	m.conns[c] = struct{}{}
	m.publishLocked()
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		c.serve()
	}()
	return c
}

// publishLocked refreshes the connection list read by the packet-in path.
func (m *connMgr) publishLocked() {
	l := make([]*conn, 0, len(m.conns))
	for c := range m.conns {
		l = append(l, c)
	}
	slices.SortFunc(l, func(a, b *conn) int { return strings.Compare(a.name, b.name) })
	m.list.Store(&l)
}

// connected is called when a connection completes its handshake.
func (m *connMgr) connected(c *conn) {
	if c.kind != connPrimary {
		return
	}
	m.mu.Lock()
	m.primaryUp++
	m.mu.Unlock()
	m.updateFailOpen()
}

// disconnected is called once when a connection closes.
func (m *connMgr) disconnected(c *conn) {
	m.mu.Lock()
	delete(m.conns, c)
	m.publishLocked()
	if c.kind == connPrimary && c.handshaken.Load() {
		m.primaryUp--
	}
	m.mu.Unlock()
	m.updateFailOpen()
	// Bundles die with their connection.
	c.bundles = nil
}

// controllersUp returns the number of connected controllers.
func (m *connMgr) controllersUp() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.primaryUp
}

// updateFailOpen switches standalone fail-open mode on while a bridge that
// has controllers configured (active connections) has no controller
// connected, and off when one connects (actively or through a listener).
func (m *connMgr) updateFailOpen() {
	m.mu.Lock()
	open := m.failMode == FailStandalone && len(m.remotes) > 0 && m.primaryUp == 0
	select {
	case <-m.stop:
		open = m.br.failOpen.Load() // closing: leave it as it is
	default:
	}
	m.mu.Unlock()
	br := m.br
	if br.failOpen.Swap(open) != open {
		if open {
			covFailOpen.inc()
			br.log.Info("no controller connected: standalone fail mode, acting as a learning switch")
		} else {
			br.log.Info("controller connected: leaving fail-open mode")
		}
		br.invalidate()
	}
}

// snapshot returns the current connections, sorted by name.
func (m *connMgr) snapshot() []*conn { return *m.list.Load() }

// broadcast sends an asynchronous message to every connection that wants
// it. The message is encoded once.
func (m *connMgr) broadcast(msg ofp.Message, reason uint8) {
	var b []byte
	for _, c := range m.snapshot() {
		if !c.wantsAsync(msg.Type(), reason) {
			continue
		}
		if b == nil {
			var err error
			if b, err = ofp.Marshal(0, msg); err != nil {
				m.br.log.WithError(err).Errorf("cannot encode %T", msg)
				return
			}
		}
		c.sendAsync(b)
	}
}

// packetIn sends a packet-in to the connections that want it, through
// each one's rate limiter. It never blocks: it runs on the datapath's
// upcall handlers.
func (m *connMgr) packetIn(pin *ofp.PacketIn) { m.sendPacketIn(pin, false) }

// packetInMissLen sends a packet-in that no output action caused (reason
// INVALID_TTL): each connection gets at most its miss_send_len bytes of
// pin.Data (OpenFlow 1.3.5 section 7.3.2; OFPCML_NO_BUFFER: all).
func (m *connMgr) packetInMissLen(pin *ofp.PacketIn) { m.sendPacketIn(pin, true) }

func (m *connMgr) sendPacketIn(pin *ofp.PacketIn, missLen bool) {
	inPort := uint32(ofp.PortAny)
	if o, ok := pin.Match.Field(ofp.OXMInPort); ok && len(o.Value) == 4 {
		inPort = uint32(beUint(o.Value))
	}
	// One encoding per data length (one in all unless missLen).
	encoded := map[int][]byte{}
	encoder := func(n int) func() []byte {
		return func() []byte {
			if b, ok := encoded[n]; ok {
				return b
			}
			p := *pin
			p.Data = pin.Data[:n]
			b, err := ofp.Marshal(0, &p)
			if err != nil {
				m.br.log.WithError(err).Error("cannot encode a packet-in")
			}
			encoded[n] = b
			return b
		}
	}
	for _, c := range m.snapshot() {
		if !c.wantsAsync(ofp.TypePacketIn, pin.Reason) {
			continue
		}
		n := len(pin.Data)
		if missLen {
			c.mu.Lock()
			if msl := c.missSendLen; msl != ofp.ControllerMaxLenNoBuffer {
				n = min(n, int(msl))
			}
			c.mu.Unlock()
		}
		c.packetIn(inPort, encoder(n))
	}
}

func (m *connMgr) flowRemoved(fr *ofp.FlowRemoved) { m.broadcast(fr, fr.Reason) }
func (m *connMgr) portStatus(reason uint8, desc ofp.Port) {
	m.broadcast(&ofp.PortStatus{Reason: reason, Desc: desc}, reason)
}

// close stops every goroutine, closes listeners and connections and
// removes the unix socket files.
func (m *connMgr) close() {
	m.mu.Lock()
	select {
	case <-m.stop:
		m.mu.Unlock()
		return
	default:
	}
	close(m.stop)
	conns := make([]*conn, 0, len(m.conns))
	for c := range m.conns {
		conns = append(conns, c)
	}
	listeners := make([]*listener, 0, len(m.listeners))
	for _, l := range m.listeners {
		listeners = append(listeners, l)
	}
	m.mu.Unlock()
	for _, l := range listeners {
		l.l.Close()
	}
	for _, c := range conns {
		c.nc.Close()
	}
	m.wg.Wait()
	unregisterBridge(m.br)
	for _, l := range listeners {
		if l.target.Network == "unix" {
			os.Remove(l.target.Addr)
		}
	}
}
