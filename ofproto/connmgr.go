package ofproto

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// DefaultOpenFlowPort is the IANA OpenFlow port.
const DefaultOpenFlowPort = 6653

// Target is a parsed connection target: "tcp:HOST[:PORT]",
// "unix:PATH" (active) or "ptcp:[PORT][:IP]", "punix:PATH" (passive).
type Target struct {
	Network string // "tcp" or "unix"
	Addr    string // host:port or path
	Passive bool
}

func (t Target) String() string {
	p := ""
	if t.Passive {
		p = "p"
	}
	if t.Network == "unix" {
		return p + "unix:" + t.Addr
	}
	if t.Passive {
		host, port, _ := net.SplitHostPort(t.Addr)
		if host == "" {
			return "ptcp:" + port
		}
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		return "ptcp:" + port + ":" + host
	}
	return "tcp:" + t.Addr
}

// ParseTarget parses a connection target. passive says which kind is
// expected (controllers are active, listeners passive).
func ParseTarget(s string, passive bool) (Target, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Target{}, fmt.Errorf("%q: want METHOD:ADDRESS (tcp:, unix:, ptcp:, punix:)", s)
	}
	switch kind {
	case "tcp", "ptcp":
		if (kind == "ptcp") != passive {
			break
		}
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
			return Target{Network: "tcp", Addr: net.JoinHostPort(ip, port), Passive: true}, nil
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
		return Target{Network: "tcp", Addr: net.JoinHostPort(host, port)}, nil
	case "unix", "punix":
		if (kind == "punix") != passive {
			break
		}
		if rest == "" {
			return Target{}, fmt.Errorf("%q: missing path", s)
		}
		return Target{Network: "unix", Addr: rest, Passive: passive}, nil
	case "ssl", "pssl":
		return Target{}, fmt.Errorf("%q: TLS connections are not supported yet", s)
	default:
		return Target{}, fmt.Errorf("%q: unknown connection method %q", s, kind)
	}
	if passive {
		return Target{}, fmt.Errorf("%q: a listener must be ptcp: or punix:", s)
	}
	return Target{}, fmt.Errorf("%q: a controller must be tcp: or unix:", s)
}

// connMgr owns a bridge's OpenFlow connections: the active connections to
// controllers (reconnecting with backoff), the listeners and the
// connections accepted on them.
//
// Goroutines: one dialer per controller, one accept loop per listener, one
// serve goroutine per connection; close stops them all and waits.
type connMgr struct {
	br *Bridge

	mu          sync.Mutex
	conns       map[*conn]struct{} // guarded by mu
	primaryUp   int                // handshaken primary connections; guarded by mu
	listeners   []net.Listener
	socketPaths []string

	stop chan struct{}
	wg   sync.WaitGroup
}

func newConnMgr(br *Bridge) (*connMgr, error) {
	m := &connMgr{br: br, conns: map[*conn]struct{}{}, stop: make(chan struct{})}
	if br.cfg.Rundir != "" {
		path := filepath.Join(br.cfg.Rundir, br.cfg.Name+".mgmt")
		if err := m.listen(Target{Network: "unix", Addr: path, Passive: true}, connService); err != nil {
			m.close()
			return nil, err
		}
	}
	for _, s := range br.cfg.Listen {
		t, err := ParseTarget(s, true)
		if err != nil {
			m.close()
			return nil, fmt.Errorf("bridge %s: listen: %w", br.cfg.Name, err)
		}
		if err := m.listen(t, connPrimary); err != nil {
			m.close()
			return nil, err
		}
	}
	for _, s := range br.cfg.Controllers {
		t, err := ParseTarget(s, false)
		if err != nil {
			m.close()
			return nil, fmt.Errorf("bridge %s: controller: %w", br.cfg.Name, err)
		}
		m.wg.Add(1)
		go m.dial(t)
	}
	return m, nil
}

// listen opens a passive target and starts accepting connections.
func (m *connMgr) listen(t Target, kind connKind) error {
	if t.Network == "unix" {
		if err := os.MkdirAll(filepath.Dir(t.Addr), 0o755); err != nil {
			return fmt.Errorf("bridge %s: %s: %w", m.br.cfg.Name, t, err)
		}
		os.Remove(t.Addr) // a stale socket from a previous run
	}
	l, err := net.Listen(t.Network, t.Addr)
	if err != nil {
		return fmt.Errorf("bridge %s: listen %s: %w", m.br.cfg.Name, t, err)
	}
	if t.Network == "unix" {
		m.socketPaths = append(m.socketPaths, t.Addr)
	}
	m.listeners = append(m.listeners, l)
	m.br.log.WithField("listen", t.String()).Info("listening")
	m.wg.Add(1)
	go m.accept(l, kind)
	return nil
}

func (m *connMgr) accept(l net.Listener, kind connKind) {
	defer m.wg.Done()
	for {
		nc, err := l.Accept()
		if err != nil {
			select {
			case <-m.stop:
				return
			default:
			}
			m.br.log.WithError(err).Warn("accept failed")
			time.Sleep(100 * time.Millisecond)
			continue
		}
		name := nc.RemoteAddr().String()
		if name == "" || name == "@" {
			name = l.Addr().String()
		}
		m.start(nc, kind, name)
	}
}

// dial keeps one active connection to t up, reconnecting with exponential
// backoff (1 s doubling to MaxBackoff).
func (m *connMgr) dial(t Target) {
	defer m.wg.Done()
	backoff := time.Second
	for {
		d := net.Dialer{Timeout: 5 * time.Second}
		nc, err := d.Dial(t.Network, t.Addr)
		if err == nil {
			backoff = time.Second
			c := m.start(nc, connPrimary, t.String())
			if c == nil {
				return
			}
			select {
			case <-c.done:
			case <-m.stop:
				return
			}
		} else {
			m.br.log.WithError(err).WithField("conn", t.String()).Debug("connection attempt failed")
		}
		select {
		case <-time.After(backoff):
		case <-m.stop:
			return
		}
		backoff = min(2*backoff, m.br.cfg.MaxBackoff)
	}
}

// start registers and serves a new connection; nil when the manager is
// closing.
func (m *connMgr) start(nc net.Conn, kind connKind, name string) *conn {
	c := newConn(m, nc, kind, name)
	m.mu.Lock()
	select {
	case <-m.stop:
		m.mu.Unlock()
		nc.Close()
		return nil
	default:
	}
	m.conns[c] = struct{}{}
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		c.serve()
	}()
	return c
}

// connected is called when a connection completes its handshake.
func (m *connMgr) connected(c *conn) {
	if c.kind != connPrimary {
		return
	}
	m.mu.Lock()
	m.primaryUp++
	m.mu.Unlock()
	m.br.updateFailOpen()
}

// disconnected is called once when a connection closes.
func (m *connMgr) disconnected(c *conn) {
	m.mu.Lock()
	delete(m.conns, c)
	if c.kind == connPrimary && c.handshaken.Load() {
		m.primaryUp--
	}
	m.mu.Unlock()
	m.br.updateFailOpen()
	// Bundles die with their connection.
	c.bundles = nil
}

// controllersUp returns the number of connected controllers.
func (m *connMgr) controllersUp() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.primaryUp
}

// snapshot returns the current connections.
func (m *connMgr) snapshot() []*conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*conn, 0, len(m.conns))
	for c := range m.conns {
		out = append(out, c)
	}
	return out
}

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

func (m *connMgr) packetIn(pin *ofp.PacketIn)      { m.broadcast(pin, pin.Reason) }
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
	m.mu.Unlock()
	for _, l := range m.listeners {
		l.Close()
	}
	for _, c := range conns {
		c.nc.Close()
	}
	m.wg.Wait()
	for _, p := range m.socketPaths {
		os.Remove(p)
	}
}
