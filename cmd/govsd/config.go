package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/sirupsen/logrus"

	"github.com/govs/govs/ofproto"
)

// Config is govsd's configuration file (config.toml).
type Config struct {
	Rundir string       `toml:"rundir"`
	Log    LogConfig    `toml:"log"`
	Lab    *LabConfig   `toml:"lab"`
	Bridge []BridgeConf `toml:"bridge"`
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
	Port        []PortConf         `toml:"port"`
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
	bridges := map[string]bool{}
	ports := map[string]string{}
	for i, b := range c.Bridge {
		key := fmt.Sprintf("bridge[%d]", i)
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
