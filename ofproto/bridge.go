// Package ofproto is the OpenFlow switch: the flow tables and their
// classifier, translation of packets through the pipeline into datapath
// actions and megaflow masks, the upcall handler, statistics and timeouts,
// and the connections to controllers and tools.
package ofproto

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/govs/govs/datapath"
	"github.com/govs/govs/ofproto/ofp"
	"github.com/govs/govs/vport"
)

// NumTables is the number of OpenFlow tables (0..253), as in Open vSwitch.
const NumTables = 254

// FailMode says what the bridge does while no controller is connected.
type FailMode int

const (
	// FailSecure keeps the flow table as it is.
	FailSecure FailMode = iota
	// FailStandalone acts as a MAC-learning switch.
	FailStandalone
)

func (m FailMode) String() string {
	if m == FailStandalone {
		return "standalone"
	}
	return "secure"
}

// PortConfig names a port to attach at start.
type PortConfig struct {
	Name   string
	OFPort uint32 // 0: the next free number
}

// Config configures a Bridge.
type Config struct {
	Name        string
	DatapathID  uint64
	FailMode    FailMode
	Controllers []string // active connections: "tcp:HOST:PORT"
	Listen      []string // passive: "ptcp:PORT[:IP]", "punix:PATH"
	// Rundir, when set, holds the management socket <Rundir>/<Name>.mgmt.
	Rundir string
	Ports  []PortConfig

	// OpenPort opens a port by name; nil opens a Linux interface with
	// AF_PACKET. Tests pass memory ports here.
	OpenPort func(name string) (vport.Port, error)
	// OpenLocal opens the LOCAL port; nil creates a tap named Name.
	// NoLocal skips the LOCAL port altogether.
	OpenLocal func(name string) (vport.Port, error)
	NoLocal   bool

	// ProbeInterval is the inactivity probe interval of connections
	// (default 5 s): an idle connection gets an echo request after it and
	// is dropped after twice it.
	ProbeInterval time.Duration
	// MaxBackoff caps the reconnect delay of active connections (default
	// 8 s; it starts at 1 s and doubles).
	MaxBackoff time.Duration
	// SSL is the TLS identity for ssl: and pssl: targets (nil: none).
	SSL *SSLConfig
	// RateLimit limits the packet-ins sent to each connection to this
	// many a second (0: no limit), with bursts of BurstLimit (default
	// RateLimit/4), fairly across input ports; see pinsched.
	RateLimit  int
	BurstLimit int
	// MaxIdle is how long an unused megaflow stays installed (default
	// 10 s).
	MaxIdle time.Duration
	// FlowLimit is the most megaflows the bridge installs (default
	// 200000); the limit in force adapts below it when revalidation falls
	// behind (see flowlimit.go).
	FlowLimit int
	// Handlers is the number of upcall handler goroutines (default 2).
	Handlers int

	Log *logrus.Entry

	// Workers is the number of datapath receive workers (0: one per cpu
	// minus one, at least one; see datapath.Config).
	Workers int
	// UpcallQueueLen is the capacity of each upcall handler's queue (0:
	// the datapath's default, 1024).
	UpcallQueueLen int
	// PortOptions tune the AF_PACKET ports opened by name (receive ring
	// size, receive mode, vnet headers); the zero value is the defaults.
	PortOptions vport.AFPacketOptions
}

// Bridge is one OpenFlow switch.
//
// Lock order: mu, then (inside) connMgr.mu, statsMu, macTable.mu, and the
// datapath's locks. Translation runs under mu's read lock; every change to
// tables, groups, meters or ports takes the write lock and invalidates the
// megaflows before releasing it, so that by the time a reply (or barrier
// reply) to the change is sent no packet takes a stale path.
type Bridge struct {
	cfg Config
	log *logrus.Entry
	dp  *datapath.Datapath

	mu        sync.RWMutex
	tables    [NumTables]*table  // guarded by mu
	ports     map[uint32]*ofPort // guarded by mu
	portOrder []uint32           // guarded by mu; sorted port numbers incl. LOCAL
	groups    map[uint32]*group  // guarded by mu
	meters    map[uint32]*meter  // guarded by mu
	swConfig  atomic.Uint32      // SET_CONFIG flags
	genID     generationID       // guarded by mu
	txn       *txn               // the transaction in progress; guarded by mu (write)
	failOpen  atomic.Bool        // standalone mode's learning rule is active

	// version changes whenever cached translations may have become stale;
	// upcall handlers compare it around a translation.
	version atomic.Uint64
	macs    *macTable
	recirc  *recircTable

	statsMu sync.Mutex // serialises pushing megaflow stats to rules
	// flowLimit is the megaflow limit in force (flowlimit.go).
	flowLimit atomic.Int64

	pmdBase atomic.Pointer[datapath.Stats] // dpif-netdev/pmd-stats-clear baseline

	conns *connMgr
	links *vport.LinkMonitor

	started time.Time
	stop    chan struct{}
	wg      sync.WaitGroup // bridge goroutines (stats, link monitor)
}

// table is one OpenFlow table.
type table struct {
	id         uint8
	cls        classifier
	lookups    atomic.Uint64
	matches    atomic.Uint64
	maxEntries uint32
	config     uint32
}

// ofPort is an OpenFlow port.
type ofPort struct {
	no      uint32
	vp      vport.Port
	info    vport.Info
	config  uint32 // OFPPC_* bits
	state   uint32 // OFPPS_* bits
	created time.Time
}

// generationID is the last master/slave generation id seen.
type generationID struct {
	defined bool
	id      uint64
}

// New creates a bridge: it opens its ports, starts the datapath and the
// connections. Close undoes everything.
func New(cfg Config) (*Bridge, error) {
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = 5 * time.Second
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 8 * time.Second
	}
	if cfg.MaxIdle == 0 {
		cfg.MaxIdle = 10 * time.Second
	}
	if cfg.FlowLimit <= 0 {
		cfg.FlowLimit = defaultFlowLimit
	}
	if cfg.Log == nil {
		cfg.Log = logrus.NewEntry(logrus.StandardLogger())
	}
	br := &Bridge{
		cfg:     cfg,
		log:     cfg.Log.WithField("bridge", cfg.Name),
		ports:   map[uint32]*ofPort{},
		groups:  map[uint32]*group{},
		meters:  map[uint32]*meter{},
		started: time.Now(),
		stop:    make(chan struct{}),
	}
	br.flowLimit.Store(int64(cfg.FlowLimit))
	br.swConfig.Store(0)
	for i := range br.tables {
		br.tables[i] = &table{id: uint8(i), maxEntries: 1000000}
	}
	br.macs = newMACTable()
	br.recirc = newRecircTable()
	br.dp = datapath.New(datapath.Config{Handler: br, Handlers: cfg.Handlers,
		QueueLen: cfg.UpcallQueueLen, Workers: cfg.Workers})
	if err := br.openPorts(); err != nil {
		br.dp.Close()
		return nil, err
	}
	if cfg.FailMode == FailStandalone && len(cfg.Controllers) == 0 {
		br.addDefaultNormalFlow()
	}
	var err error
	br.conns, err = newConnMgr(br)
	if err != nil {
		br.dp.Close()
		return nil, err
	}
	br.updateFailOpen()
	if links, err := vport.NewLinkMonitor(); err == nil {
		br.links = links
		br.wg.Add(1)
		go br.watchLinks()
	} else {
		br.log.WithError(err).Warn("no link monitor: port status changes are polled")
	}
	br.wg.Add(1)
	go br.housekeeping()
	return br, nil
}

// Datapath returns the bridge's datapath (for introspection).
func (br *Bridge) Datapath() *datapath.Datapath { return br.dp }

// Name returns the bridge's name.
func (br *Bridge) Name() string { return br.cfg.Name }

// Close stops the connections, the datapath and every goroutine of the
// bridge, and closes its ports and sockets.
func (br *Bridge) Close() error {
	select {
	case <-br.stop:
		return nil
	default:
	}
	close(br.stop)
	br.conns.close()
	if br.links != nil {
		br.links.Close()
	}
	br.wg.Wait()
	return br.dp.Close()
}

// openPorts opens LOCAL and the configured ports.
func (br *Bridge) openPorts() error {
	if !br.cfg.NoLocal {
		open := br.cfg.OpenLocal
		if open == nil {
			open = func(name string) (vport.Port, error) { return vport.OpenInternal(name, nil) }
		}
		p, err := open(br.cfg.Name)
		if err != nil {
			return fmt.Errorf("bridge %s: local port: %w", br.cfg.Name, err)
		}
		if err := br.attachPort(ofp.PortLocal, p); err != nil {
			p.Close()
			return err
		}
	}
	for _, pc := range br.cfg.Ports {
		if _, err := br.AddPort(pc.Name, pc.OFPort); err != nil {
			return err
		}
	}
	return nil
}

// AddPort opens the named port and attaches it as OpenFlow port ofport (0:
// the lowest free number). It sends PORT_STATUS (add) to controllers.
func (br *Bridge) AddPort(name string, ofport uint32) (uint32, error) {
	open := br.cfg.OpenPort
	if open == nil {
		open = func(name string) (vport.Port, error) { return vport.OpenAFPacket(name, br.cfg.PortOptions) }
	}
	br.mu.Lock()
	for _, p := range br.ports {
		if p.info.Name == name {
			br.mu.Unlock()
			return 0, fmt.Errorf("bridge %s: port %s already attached as %d", br.cfg.Name, name, p.no)
		}
	}
	if ofport == 0 {
		ofport = 1
		for br.ports[ofport] != nil {
			ofport++
		}
	} else if ofport >= ofp.PortMax {
		br.mu.Unlock()
		return 0, fmt.Errorf("bridge %s: port %s: ofport %d out of range", br.cfg.Name, name, ofport)
	} else if br.ports[ofport] != nil {
		br.mu.Unlock()
		return 0, fmt.Errorf("bridge %s: port %s: ofport %d in use", br.cfg.Name, name, ofport)
	}
	br.mu.Unlock()
	p, err := open(name)
	if err != nil {
		return 0, fmt.Errorf("bridge %s: port %s: %w", br.cfg.Name, name, err)
	}
	if err := br.attachPort(ofport, p); err != nil {
		p.Close()
		return 0, err
	}
	return ofport, nil
}

func (br *Bridge) attachPort(no uint32, p vport.Port) error {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.ports[no] != nil {
		return fmt.Errorf("bridge %s: ofport %d in use", br.cfg.Name, no)
	}
	op := &ofPort{no: no, vp: p, info: p.Info(), created: time.Now()}
	op.state = portState(p.State())
	if err := br.dp.AddPort(no, p); err != nil {
		return err
	}
	br.ports[no] = op
	br.portOrder = append(br.portOrder, no)
	slices.Sort(br.portOrder)
	br.invalidateLocked()
	br.log.WithFields(logrus.Fields{"port": op.info.Name, "ofport": portName(no)}).Info("port added")
	if br.conns != nil {
		br.conns.portStatus(ofp.PortReasonAdd, br.portDesc(op))
	}
	return nil
}

// DelPort detaches and closes port no, sending PORT_STATUS (delete).
func (br *Bridge) DelPort(no uint32) error {
	br.mu.Lock()
	defer br.mu.Unlock()
	op := br.ports[no]
	if op == nil {
		return fmt.Errorf("bridge %s: no port %d", br.cfg.Name, no)
	}
	desc := br.portDesc(op)
	delete(br.ports, no)
	br.portOrder = slices.DeleteFunc(br.portOrder, func(n uint32) bool { return n == no })
	err := br.dp.DelPort(no)
	br.macs.expire(time.Now(), no, true)
	br.invalidateLocked()
	br.conns.portStatus(ofp.PortReasonDelete, desc)
	return err
}

// portState converts a link state to OFPPS_* bits.
func portState(s vport.LinkState) uint32 {
	if !s.Carrier {
		return ofp.PortStateLinkDown
	}
	return ofp.PortStateLive
}

// portDesc returns the OpenFlow description of a port. mu must be held.
func (br *Bridge) portDesc(op *ofPort) ofp.Port {
	d := ofp.Port{
		PortNo: op.no,
		Name:   op.info.Name,
		Config: op.config,
		State:  op.state,
	}
	copy(d.HWAddr[:], op.info.MAC)
	if op.info.SpeedKbps > 0 {
		d.CurrSpeed, d.MaxSpeed = op.info.SpeedKbps, op.info.SpeedKbps
		d.Curr = speedFeature(op.info.SpeedKbps) | ofp.PortFeatureCopper
		d.Supported = d.Curr
		d.Advertised = d.Curr
	}
	return d
}

// speedFeature maps a speed to the OFPPF_* full-duplex bit.
func speedFeature(kbps uint32) uint32 {
	switch {
	case kbps >= 1000000000:
		return ofp.PortFeature1TbFD
	case kbps >= 100000000:
		return ofp.PortFeature100GbFD
	case kbps >= 40000000:
		return ofp.PortFeature40GbFD
	case kbps >= 10000000:
		return ofp.PortFeature10GbFD
	case kbps >= 1000000:
		return ofp.PortFeature1GbFD
	case kbps >= 100000:
		return ofp.PortFeature100MbFD
	case kbps >= 10000:
		return ofp.PortFeature10MbFD
	}
	return ofp.PortFeatureOther
}

// table returns table id (tables 0..NumTables-1 always exist).
func (br *Bridge) table(id uint8) *table {
	if int(id) >= NumTables {
		return emptyTable
	}
	return br.tables[id]
}

var emptyTable = &table{id: ofp.TableMax}

// invalidTTLToController reports the SET_CONFIG flag
// OFPC_INVALID_TTL_TO_CONTROLLER.
func (br *Bridge) invalidTTLToController() bool { return br.swConfig.Load()&4 != 0 }

// addDefaultNormalFlow installs the visible table-0 flow a standalone
// bridge without controllers starts with, as Open vSwitch does.
func (br *Bridge) addDefaultNormalFlow() {
	br.mu.Lock()
	defer br.mu.Unlock()
	fm := &ofp.FlowMod{
		Command:  ofp.FlowAdd,
		Priority: 0,
		BufferID: ofp.NoBuffer,
		OutPort:  ofp.PortAny,
		OutGroup: ofp.GroupAny,
		Instructions: []ofp.Instruction{&ofp.InstrApplyActions{Actions: []ofp.Action{
			&ofp.ActionOutput{Port: ofp.PortNormal}}}},
	}
	if err := br.flowModLocked(fm, nil); err != nil {
		br.log.WithError(err).Error("default NORMAL flow")
	}
}

// errBridgeClosed is returned by operations on a closed bridge.
var errBridgeClosed = errors.New("bridge closed")
