package main

import (
	"os"
	"strings"
	"testing"

	"github.com/govs/govs/ofproto"
)

const goodConfig = `rundir = "/run/govs"
[log]
level = "debug"
[[bridge]]
name = "br0"
datapath_id = "0000000000000001"
fail_mode = "standalone"
controllers = ["tcp:127.0.0.1:6653"]
listen = ["ptcp:6634:127.0.0.1"]
[[bridge.port]]
name = "veth-h1"
ofport = 1
[[bridge.port]]
name = "veth-h2"
[lab]
[[lab.host]]
name = "h1"
address = "198.18.0.1/24"
port = "veth-h1"
`

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig("config.toml", []byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Bridge[0]
	if b.Name != "br0" || b.DatapathID != 1 || b.FailMode.FailMode != ofproto.FailStandalone {
		t.Errorf("bridge %+v", b)
	}
	if len(b.Controllers) != 1 || b.Controllers[0].String() != "tcp:127.0.0.1:6653" {
		t.Errorf("controllers %+v", b.Controllers)
	}
	if len(b.Listen) != 1 || b.Listen[0].String() != "ptcp:6634:127.0.0.1" {
		t.Errorf("listen %+v", b.Listen)
	}
	if len(b.Port) != 2 || b.Port[0].OFPort != 1 || b.Port[1].OFPort != 0 {
		t.Errorf("ports %+v", b.Port)
	}
	if cfg.Log.Level.String() != "debug" || cfg.Lab == nil || cfg.Lab.Host[0].Address.String() != "198.18.0.1/24" {
		t.Errorf("log %v lab %+v", cfg.Log.Level, cfg.Lab)
	}
}

// TestShippedConfig checks that the config.toml in the repository parses.
func TestShippedConfig(t *testing.T) {
	if _, err := LoadConfig("../../config.toml"); err != nil {
		if os.IsNotExist(err) {
			t.Skip("no config.toml")
		}
		t.Fatal(err)
	}
}

// TestConfigErrors checks that every error names the file, the line and
// the key.
func TestConfigErrors(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(goodConfig, old) {
			t.Fatalf("test bug: %q not in config", old)
		}
		return strings.Replace(goodConfig, old, new, 1)
	}
	tests := []struct {
		name, config, want string
	}{
		{"unknown top key", replace(`rundir = "/run/govs"`, `rundir = "/run/govs"`+"\nfoo = 1"), "config.toml:2:1: foo: unknown key"},
		{"unknown port key", replace("ofport = 1", "ofport = 1\nspeed = 10"), "config.toml:13:1: bridge.port.speed: unknown key"},
		{"bad dpid", replace(`"0000000000000001"`, `"12"`), `config.toml:6:15: bridge.datapath_id: datapath_id "12": want 16 hex digits`},
		{"bad fail mode", replace(`"standalone"`, `"open"`), `config.toml:7:13: bridge.fail_mode: fail_mode "open": want standalone or secure`},
		{"bad controller", replace(`"tcp:127.0.0.1:6653"`, `"tcp:127.0.0.1:99999"`), `config.toml:8:`},
		{"listener as controller", replace(`"tcp:127.0.0.1:6653"`, `"ptcp:6653"`), `bridge.controllers: "ptcp:6653": a controller must be tcp:, ssl: or unix:`},
		{"ssl without [ssl]", replace(`"tcp:127.0.0.1:6653"`, `"ssl:127.0.0.1:6653"`), `config.toml:8: bridge[0].controllers: controller 1 (ssl:127.0.0.1:6653) needs the [ssl] table`},
		{"pssl without [ssl]", replace(`"ptcp:6634:127.0.0.1"`, `"pssl:6634:127.0.0.1"`), `config.toml:9: bridge[0].listen: listener 1 (pssl:6634:127.0.0.1) needs the [ssl] table`},
		{"missing ssl file", replace("[log]", "[ssl]\nprivate_key = \"/nonexistent/key.pem\"\ncertificate = \"/nonexistent/cert.pem\"\nca_cert = \"/nonexistent/ca.pem\"\n[log]"),
			`config.toml:4: ssl.certificate: /nonexistent/cert.pem: open /nonexistent/cert.pem: no such file or directory`},
		{"ssl key missing", replace("[log]", "[ssl]\ncertificate = \"c.pem\"\nca_cert = \"ca.pem\"\n[log]"), `config.toml:2: ssl.private_key: required in [ssl]`},
		{"bad duration", replace(`name = "br0"`, `name = "br0"`+"\nprobe_interval = \"5\""), `config.toml:6:18: bridge.probe_interval: duration "5": want a number with a unit`},
		{"small backoff", replace(`name = "br0"`, `name = "br0"`+"\nmax_backoff = \"100ms\""), `config.toml:6: bridge[0].max_backoff: 100ms: at least 1s`},
		{"negative flow limit", replace(`name = "br0"`, `name = "br0"`+"\nflow_limit = -1"), `config.toml:6: bridge[0].flow_limit: must not be negative`},
		{"negative workers", replace(`name = "br0"`, `name = "br0"`+"\nworkers = -1"), `config.toml:6: bridge[0].workers: -1: from 0 (one per cpu minus one) to 256`},
		{"too many workers", replace(`name = "br0"`, `name = "br0"`+"\nworkers = 1000"), `config.toml:6: bridge[0].workers: 1000: from 0 (one per cpu minus one) to 256`},
		{"small max idle", replace(`name = "br0"`, `name = "br0"`+"\nmax_idle = \"10ms\""), `config.toml:6: bridge[0].max_idle: 10ms: at least 100ms`},
		{"negative rate", replace(`name = "br0"`, `name = "br0"`+"\ncontroller_rate_limit = -5"), `config.toml:6: bridge[0].controller_rate_limit: must not be negative`},
		{"bad metrics", replace(`rundir = "/run/govs"`, `rundir = "/run/govs"`+"\nmetrics = \"9108\""), `config.toml:2: metrics: "9108": want HOST:PORT`},
		{"wrong type", replace("ofport = 1", `ofport = "one"`), "config.toml:12:10: bridge.port.ofport:"},
		{"negative ofport", replace("ofport = 1", `ofport = -1`), "config.toml:12:10: bridge.port.ofport:"},
		{"bad level", replace(`"debug"`, `"loud"`), `config.toml:3:9: log.level: unknown log level "loud"`},
		{"duplicate ofport", replace(`name = "veth-h2"`, `name = "veth-h2"`+"\nofport = 1"), "config.toml:15: bridge[0].port[1].ofport: 1 is already used by port veth-h1"},
		{"long port name", replace(`"veth-h1"`, `"a-very-long-interface-name"`), "config.toml:11: bridge[0].port[0].name: \"a-very-long-interface-name\" is longer than 15 characters"},
		{"lab port not in bridge", replace(`port = "veth-h1"`, `port = "veth-h9"`), `config.toml:19: lab.host[0].port: "veth-h9" is not a [[bridge.port]]`},
		{"no bridge", "rundir = \"/tmp/x\"\n", "config.toml: bridge: at least one [[bridge]] is required"},
		{"syntax", "rundir = \n", "config.toml:1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("config.toml", []byte(tc.config))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}
