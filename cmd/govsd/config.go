package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/sirupsen/logrus"

	"github.com/govs/govs/ofproto"
)

// Config is govsd's configuration file (config.toml).
type Config struct {
	Rundir string `toml:"rundir"`
	// Metrics is the address of the Prometheus endpoint (http://ADDR/metrics);
	// empty: off.
	Metrics string       `toml:"metrics"`
	Log     LogConfig    `toml:"log"`
	SSL     *SSLConf     `toml:"ssl"`
	Lab     *LabConfig   `toml:"lab"`
	Bridge  []BridgeConf `toml:"bridge"`
}

// SSLConf is the [ssl] table: the switch's TLS identity for ssl: and pssl:
// targets, as PEM files (relative paths are relative to the configuration
// file's directory). With ovs-pki: sc-privkey.pem, sc-cert.pem and
// controllerca/cacert.pem.
type SSLConf struct {
	PrivateKey  string `toml:"private_key"`
	Certificate string `toml:"certificate"`
	CACert      string `toml:"ca_cert"`
}

// LogConfig is the [log] table.
type LogConfig struct {
	Level LogLevel `toml:"level"`
}

// BridgeConf is one [[bridge]] table.
type BridgeConf struct {
	Name        string             `toml:"name"`
	DatapathID  DatapathID         `toml:"datapath_id"`
	FailMode    FailMode           `toml:"fail_mode"`
	Controllers []ControllerTarget `toml:"controllers"`
	Listen      []ListenTarget     `toml:"listen"`
	// ProbeInterval is the inactivity probe: an echo request after this
	// long without a message, a disconnect after twice it ("0": off).
	ProbeInterval *Duration `toml:"probe_interval"`
	// MaxBackoff caps the reconnect delay (1 s, doubling).
	MaxBackoff *Duration `toml:"max_backoff"`
	// RateLimit limits packet-ins to each controller connection to this
	// many a second (0: no limit), BurstLimit is the burst (default
	// RateLimit/4), as Open vSwitch's controller_rate_limit and
	// controller_burst_limit.
	RateLimit  int `toml:"controller_rate_limit"`
	BurstLimit int `toml:"controller_burst_limit"`
	// FlowLimit bounds the megaflows (default 200000; the limit in force
	// adapts below it), MaxIdle is how long an unused megaflow stays
	// (default 10s), as Open vSwitch's other_config:flow-limit and
	// max-idle.
	FlowLimit int       `toml:"flow_limit"`
	MaxIdle   *Duration `toml:"max_idle"`
	// Workers is the number of datapath receive workers that poll the
	// bridge's ports (default 0: one per cpu minus one, at least one): what
	// Open vSwitch's pmd-cpu-mask decides for its pmd threads.
	Workers int        `toml:"workers"`
	Port    []PortConf `toml:"port"`
}

// maxWorkers bounds a bridge's workers setting.
const maxWorkers = 256

// Duration is a Go duration string: "5s", "500ms", "1m".
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: want a number with a unit, e.g. \"5s\" or \"500ms\"", b)
	}
	if v < 0 {
		return fmt.Errorf("duration %q: must not be negative", b)
	}
	d.Duration = v
	return nil
}

// PortConf is one [[bridge.port]] table.
type PortConf struct {
	Name   string `toml:"name"`
	OFPort uint32 `toml:"ofport"`
}

// LabConfig is the [lab] table: network namespaces that govsd creates at
// start and removes at exit, each a host with one veth whose other end is a
// bridge port. It is what `make run` uses to have something to switch.
type LabConfig struct {
	Host []LabHost `toml:"host"`
}

// LabHost is one [[lab.host]].
type LabHost struct {
	Name    string  `toml:"name"`    // network namespace (and hostname in messages)
	Address CIDR    `toml:"address"` // address of the host's eth0, e.g. "198.18.0.1/24"
	Port    string  `toml:"port"`    // the switch end of the veth: a [[bridge.port]] name
	MAC     MACAddr `toml:"mac"`     // optional MAC of the host's eth0
}

// LogLevel is a logrus level name.
type LogLevel struct{ logrus.Level }

func (l *LogLevel) UnmarshalText(b []byte) error {
	lv, err := logrus.ParseLevel(string(b))
	if err != nil {
		return fmt.Errorf("unknown log level %q (want panic, fatal, error, warn, info, debug or trace)", b)
	}
	l.Level = lv
	return nil
}

// DatapathID is 16 hex digits.
type DatapathID uint64

func (d *DatapathID) UnmarshalText(b []byte) error {
	s := strings.TrimPrefix(string(b), "0x")
	if len(s) != 16 {
		return fmt.Errorf("datapath_id %q: want 16 hex digits", b)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return fmt.Errorf("datapath_id %q: want 16 hex digits", b)
	}
	v, _ := strconv.ParseUint(s, 16, 64)
	*d = DatapathID(v)
	return nil
}

// FailMode is "standalone" or "secure".
type FailMode struct{ ofproto.FailMode }

func (m *FailMode) UnmarshalText(b []byte) error {
	switch string(b) {
	case "standalone":
		m.FailMode = ofproto.FailStandalone
	case "secure":
		m.FailMode = ofproto.FailSecure
	default:
		return fmt.Errorf("fail_mode %q: want standalone or secure", b)
	}
	return nil
}

// ControllerTarget is an active connection target.
type ControllerTarget struct{ ofproto.Target }

func (t *ControllerTarget) UnmarshalText(b []byte) error {
	var err error
	t.Target, err = ofproto.ParseTarget(string(b), false)
	return err
}

// ListenTarget is a passive connection target.
type ListenTarget struct{ ofproto.Target }

func (t *ListenTarget) UnmarshalText(b []byte) error {
	var err error
	t.Target, err = ofproto.ParseTarget(string(b), true)
	return err
}

// CIDR is an address with prefix length.
type CIDR struct{ netip.Prefix }

func (c *CIDR) UnmarshalText(b []byte) error {
	p, err := netip.ParsePrefix(string(b))
	if err != nil {
		return fmt.Errorf("address %q: want ADDRESS/PREFIXLEN", b)
	}
	c.Prefix = p
	return nil
}

// MACAddr is an Ethernet address.
type MACAddr string

func (m *MACAddr) UnmarshalText(b []byte) error {
	if _, err := parseMAC(string(b)); err != nil {
		return fmt.Errorf("mac %q: want six hex bytes separated by colons", b)
	}
	*m = MACAddr(b)
	return nil
}

func parseMAC(s string) ([6]byte, error) {
	var mac [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return mac, errors.New("bad MAC")
	}
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) != 2 {
			return mac, errors.New("bad MAC")
		}
		mac[i] = byte(v)
	}
	return mac, nil
}

// ConfigError is a configuration error located in the file.
type ConfigError struct {
	File   string
	Line   int // 0 if unknown
	Column int
	Key    string
	Msg    string
}

func (e *ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
		if e.Column > 0 {
			loc += fmt.Sprintf(":%d", e.Column)
		}
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// LoadConfig reads and checks a configuration file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig parses and checks a configuration; name is used in errors.
func ParseConfig(name string, data []byte) (*Config, error) {
	cfg := &Config{Rundir: "/run/govs", Log: LogConfig{Level: LogLevel{logrus.InfoLevel}}}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return nil, tomlError(name, err)
	}
	if cfg.SSL != nil {
		dir := filepath.Dir(name)
		for _, p := range []*string{&cfg.SSL.PrivateKey, &cfg.SSL.Certificate, &cfg.SSL.CACert} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(dir, *p)
			}
		}
	}
	lines := keyLines(data)
	if err := cfg.check(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.File = name
			ce.Line = lines.find(ce.Key)
		}
		return nil, err
	}
	return cfg, nil
}

// tomlError turns a go-toml error into a ConfigError with its position.
func tomlError(name string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		e := strict.Errors[0]
		row, col := e.Position()
		return &ConfigError{File: name, Line: row, Column: col, Key: strings.Join(e.Key(), "."), Msg: "unknown key"}
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		return &ConfigError{File: name, Line: row, Column: col, Key: strings.Join(de.Key(), "."), Msg: msg}
	}
	return &ConfigError{File: name, Msg: err.Error()}
}

// check validates what the types alone cannot. Keys in errors are indexed
// paths ("bridge[0].port[1].ofport") that keyLines can locate.
func (c *Config) check() error {
	bad := func(key, format string, args ...any) error {
		return &ConfigError{Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if c.Rundir == "" {
		return bad("rundir", "must not be empty")
	}
	if len(c.Bridge) == 0 {
		return bad("bridge", "at least one [[bridge]] is required")
	}
	if c.Metrics != "" {
		if _, _, err := net.SplitHostPort(c.Metrics); err != nil {
			return bad("metrics", "%q: want HOST:PORT, e.g. \"127.0.0.1:9108\"", c.Metrics)
		}
	}
	if c.SSL != nil {
		for _, k := range []struct{ key, val string }{
			{"private_key", c.SSL.PrivateKey}, {"certificate", c.SSL.Certificate}, {"ca_cert", c.SSL.CACert},
		} {
			if k.val == "" {
				return bad("ssl."+k.key, "required in [ssl]")
			}
		}
		err := ofproto.CheckSSL(c.SSL.ofproto())
		var fe *ofproto.SSLFileError
		if errors.As(err, &fe) {
			return bad("ssl."+fe.Key, "%v", fe)
		} else if err != nil {
			return bad("ssl", "%v", err)
		}
	}
	bridges := map[string]bool{}
	ports := map[string]string{}
	for i, b := range c.Bridge {
		key := fmt.Sprintf("bridge[%d]", i)
		for j, t := range b.Controllers {
			if t.TLS && c.SSL == nil {
				return bad(fmt.Sprintf("%s.controllers", key), "controller %d (%s) needs the [ssl] table (private_key, certificate, ca_cert)", j+1, t)
			}
		}
		for j, t := range b.Listen {
			if t.TLS && c.SSL == nil {
				return bad(fmt.Sprintf("%s.listen", key), "listener %d (%s) needs the [ssl] table (private_key, certificate, ca_cert)", j+1, t)
			}
		}
		if b.RateLimit < 0 {
			return bad(key+".controller_rate_limit", "must not be negative")
		}
		if b.BurstLimit < 0 {
			return bad(key+".controller_burst_limit", "must not be negative")
		}
		if b.FlowLimit < 0 {
			return bad(key+".flow_limit", "must not be negative")
		}
		if b.Workers < 0 || b.Workers > maxWorkers {
			return bad(key+".workers", "%d: from 0 (one per cpu minus one) to %d", b.Workers, maxWorkers)
		}
		if b.MaxIdle != nil && b.MaxIdle.Duration < 100*time.Millisecond {
			return bad(key+".max_idle", "%v: at least 100ms", b.MaxIdle.Duration)
		}
		if b.MaxBackoff != nil && b.MaxBackoff.Duration < time.Second {
			return bad(key+".max_backoff", "%v: at least 1s (the first reconnect delay)", b.MaxBackoff.Duration)
		}
		if err := checkIfname(b.Name); err != nil {
			return bad(key+".name", "%v", err)
		}
		if bridges[b.Name] {
			return bad(key+".name", "bridge %q is defined twice", b.Name)
		}
		bridges[b.Name] = true
		ofports := map[uint32]string{}
		for j, p := range b.Port {
			pkey := fmt.Sprintf("%s.port[%d]", key, j)
			if err := checkIfname(p.Name); err != nil {
				return bad(pkey+".name", "%v", err)
			}
			if p.Name == b.Name {
				return bad(pkey+".name", "%q is the bridge's own (LOCAL) port", p.Name)
			}
			if other, ok := ports[p.Name]; ok {
				return bad(pkey+".name", "port %q is already in bridge %s", p.Name, other)
			}
			ports[p.Name] = b.Name
			if p.OFPort != 0 {
				if p.OFPort >= 0xffffff00 {
					return bad(pkey+".ofport", "%d is out of range (1..4294967039)", p.OFPort)
				}
				if other, ok := ofports[p.OFPort]; ok {
					return bad(pkey+".ofport", "%d is already used by port %s", p.OFPort, other)
				}
				ofports[p.OFPort] = p.Name
			}
		}
	}
	if c.Lab != nil {
		names := map[string]bool{}
		for i, h := range c.Lab.Host {
			key := fmt.Sprintf("lab.host[%d]", i)
			if h.Name == "" || strings.ContainsAny(h.Name, "/ ") {
				return bad(key+".name", "want a namespace name")
			}
			if names[h.Name] {
				return bad(key+".name", "host %q is defined twice", h.Name)
			}
			names[h.Name] = true
			if !h.Address.IsValid() {
				return bad(key+".address", "required")
			}
			if _, ok := ports[h.Port]; !ok {
				return bad(key+".port", "%q is not a [[bridge.port]]", h.Port)
			}
		}
	}
	return nil
}

// ofproto converts the [ssl] table.
func (s *SSLConf) ofproto() ofproto.SSLConfig {
	return ofproto.SSLConfig{PrivateKey: s.PrivateKey, Certificate: s.Certificate, CACert: s.CACert}
}

// checkIfname checks a Linux interface name.
func checkIfname(s string) error {
	switch {
	case s == "":
		return errors.New("required")
	case len(s) > 15:
		return fmt.Errorf("%q is longer than 15 characters (a Linux interface name)", s)
	case strings.ContainsAny(s, "/ :\t"):
		return fmt.Errorf("%q is not a valid interface name", s)
	}
	return nil
}

// lineMap maps indexed key paths to the line they are on.
type lineMap map[string]int

// find returns the line of key, or of its closest parent that has one.
func (m lineMap) find(key string) int {
	for key != "" {
		if l, ok := m[key]; ok {
			return l
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}

// keyLines indexes the document's keys by indexed path: "rundir",
// "bridge[0]", "bridge[0].name", "bridge[0].port[1].ofport", ... It relies
// on the document being valid TOML (it was decoded already).
func keyLines(data []byte) lineMap {
	m := lineMap{}
	var p unstable.Parser
	p.Reset(data)
	counts := map[string]int{} // array table path (indexed parents) -> elements seen
	prefix := ""
	resolve := func(parts []string) string {
		// Index every array-table component by its latest element.
		path := ""
		for _, part := range parts {
			if path != "" {
				path += "."
			}
			path += part
			if n, ok := counts[path]; ok {
				path = fmt.Sprintf("%s[%d]", path, n-1)
			}
		}
		return path
	}
	keyParts := func(n *unstable.Node) []string {
		var parts []string
		it := n.Key()
		for it.Next() {
			parts = append(parts, string(it.Node().Data))
		}
		return parts
	}
	for p.NextExpression() {
		e := p.Expression()
		line := p.Shape(e.Raw).Start.Line
		if e.Raw.Length == 0 && e.Kind != unstable.KeyValue {
			// Tables carry no range of their own either.
			if it := e.Key(); it.Next() {
				line = p.Shape(it.Node().Raw).Start.Line
			}
		}
		switch e.Kind {
		case unstable.Table:
			prefix = resolve(keyParts(e))
			m[prefix] = line
		case unstable.ArrayTable:
			parts := keyParts(e)
			parent := resolve(parts[:len(parts)-1])
			arr := parts[len(parts)-1]
			if parent != "" {
				arr = parent + "." + arr
			}
			counts[arr]++
			prefix = fmt.Sprintf("%s[%d]", arr, counts[arr]-1)
			m[prefix] = line
		case unstable.KeyValue:
			k := strings.Join(keyParts(e), ".")
			if prefix != "" {
				k = prefix + "." + k
			}
			if e.Raw.Length == 0 {
				// Key-values carry no range of their own; use the key's.
				if it := e.Key(); it.Next() {
					line = p.Shape(it.Node().Raw).Start.Line
				}
			}
			m[k] = line
		}
	}
	return m
}
