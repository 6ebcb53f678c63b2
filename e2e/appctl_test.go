package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// TestAppctl drives govsd's control socket with ovs-appctl: the commands
// of Open vSwitch that scripts use, with output in its formats. It also
// reads the Prometheus endpoint and ends with `exit`.
func TestAppctl(t *testing.T) {
	mport := freePort(t)
	s := startSwitchTop(t, opsOpts{top: fmt.Sprintf("metrics = \"127.0.0.1:%d\"\n", mport),
		switchOpts: switchOpts{hosts: 2, failMode: "standalone"}})
	s.mustPing(0, 1)
	expect := func(cmd, out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !regexp.MustCompile(w).MatchString(out) {
				t.Errorf("ovs-appctl %s: output lacks %q:\n%s", cmd, w, out)
			}
		}
	}
	expect("version", mustAppctl(s, "version"), `^govsd \(govs\) \d+\.\d+`)
	expect("dpctl/show", mustAppctl(s, "dpctl/show"), `(?m)^govs@`+s.bridge+`:$`,
		`lookups: hit:\d+ missed:[1-9]\d* lost:\d+`, `flows: \d+`, `masks: hit:\d+ total:\d+ hit/pkt:\d+\.\d\d`,
		`port 1: `+s.ports[0])
	expect("dpctl/dump-flows", mustAppctl(s, "dpctl/dump-flows"),
		`(?m)^recirc_id\(0\),in_port\(\d\),.*packets:\d+, bytes:\d+, used:.*, actions:`)
	expect("dpif/show", mustAppctl(s, "dpif/show"), `(?m)^govs@`+s.bridge+`: hit:\d+ missed:\d+$`,
		`(?m)^  `+s.bridge+`:$`, `(?m)^    `+s.ports[0]+` 1/1: \(system\)$`, `(?m)^    `+s.bridge+` 65534/\d+: \(internal\)$`)
	expect("fdb/show", mustAppctl(s, "fdb/show", s.bridge), `port\s+VLAN\s+MAC\s+Age`,
		`(?m)^\s+1\s+0\s+02:00:00:00:00:01\s+\d+$`, `(?m)^\s+2\s+0\s+02:00:00:00:00:02\s+\d+$`)

	// pmd-stats: what the perf harness reads.
	received := func() int {
		m := regexp.MustCompile(`(?m)^\s*packets received: (\d+)$`).FindStringSubmatch(mustAppctl(s, "dpif-netdev/pmd-stats-show"))
		if m == nil {
			t.Fatal("pmd-stats-show without packets received")
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	before := received()
	mustAppctl(s, "dpif-netdev/pmd-stats-clear")
	if after := received(); after >= before || before < 6 {
		t.Errorf("pmd-stats-show: %d packets received before pmd-stats-clear, %d after", before, after)
	}
	mustAppctl(s, "dpctl/del-flows")
	s.mustPing(0, 1)
	expect("pmd-stats-show", mustAppctl(s, "dpif-netdev/pmd-stats-show"),
		`(?m)^\s*packets received: [1-9]\d*$`, `(?m)^\s*emc hits: \d+$`, `(?m)^\s*megaflow hits: \d+$`,
		`(?m)^\s*miss with success upcall: [1-9]\d*$`, `(?m)^\s*miss with failed upcall: \d+$`)
	expect("upcall/show", mustAppctl(s, "upcall/show"),
		`flows\s*:\s*\(current \d+\) \(avg \d+\) \(max \d+\) \(limit \d+\)`)
	cov := mustAppctl(s, "coverage/show")
	expect("coverage/show", cov, `^Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=[0-9a-f]{8}:`,
		`(?m)^datapath_miss\s+\d+\.\d/sec\s+\d+\.\d{3}/sec\s+\d+\.\d{4}/sec\s+total: [1-9]\d*$`,
		`(?m)^dpif_flow_flush\s+.*total: 1$`, `(?m)^\d+ events never hit$`)

	// Log levels.
	mustAppctl(s, "vlog/set", "info")
	expect("vlog/list", mustAppctl(s, "vlog/list"), `console\s+syslog\s+file`, `(?m)^ofproto\s+INFO\s`)
	mustAppctl(s, "vlog/set", "ANY:console:dbg")
	expect("vlog/list", mustAppctl(s, "vlog/list"), `(?m)^ofproto\s+DBG\s`)
	if out, err := appctl(s, "vlog/set", "nosuchmodule:dbg"); err == nil || !strings.Contains(out, "unknown module") {
		t.Errorf("vlog/set with a bad module: %v\n%s", err, out)
	}
	expect("show", mustAppctl(s, "show"), `(?m)^Bridge `+s.bridge+`$`, `fail_mode: standalone`,
		`Management "punix:.*\.mgmt"`, `Port 1 \(system\): `+s.ports[0]+`, link up`)

	// Metrics in the Prometheus text format.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", mport))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	expect("metrics", string(body), `(?m)^# TYPE govs_datapath_hit_total counter$`,
		`(?m)^govs_port_rx_packets_total\{bridge="`+s.bridge+`",port="`+s.ports[0]+`",ofport="1"\} [1-9]\d*$`,
		`(?m)^govs_table_lookups_total\{bridge="`+s.bridge+`",table="0"\} [1-9]\d*$`,
		`(?m)^govs_datapath_flows\{bridge="`+s.bridge+`"\} \d+$`,
		`(?m)^govs_coverage_total\{event="datapath_miss"\} [1-9]\d*$`)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("metrics content type %q", ct)
	}

	// exit stops govsd cleanly (the harness checks what it leaves behind).
	mustAppctl(s, "exit")
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("govsd after exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("govsd did not exit")
	}
	s.cmd.Process = nil // already reaped: the cleanup has nothing to stop
}

// TestSlaveRefused: a controller that makes itself slave on a ptcp:
// listener cannot change the flow table; a master can, and govs show lists
// both with their roles.
func TestSlaveRefused(t *testing.T) {
	lport := freePort(t)
	s := startSwitch(t, switchOpts{hosts: 1, failMode: "secure",
		extra: fmt.Sprintf("listen = [\"ptcp:%d:127.0.0.1\"]\n", lport)})
	dial := func() *ofPeer {
		var nc net.Conn
		if !waitFor(10*time.Second, func() bool {
			var err error
			nc, err = net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", lport), 5*time.Second)
			return err == nil
		}) {
			t.Fatalf("listener ptcp:%d never accepted", lport)
		}
		t.Cleanup(func() { nc.Close() })
		p := &ofPeer{t: t, nc: nc, r: bufio.NewReader(nc)}
		p.send(&ofp.Hello{Version: ofp.Version, Bitmaps: []uint32{1 << ofp.Version}})
		p.recvType(ofp.TypeHello)
		return p
	}
	slave, master := dial(), dial()
	if r, ok := slave.request(&ofp.RoleRequest{Role: ofp.RoleSlave, GenerationID: 1}).(*ofp.RoleReply); !ok || r.Role != ofp.RoleSlave {
		t.Fatalf("role reply %+v", r)
	}
	if r, ok := master.request(&ofp.RoleRequest{Role: ofp.RoleMaster, GenerationID: 2}).(*ofp.RoleReply); !ok || r.Role != ofp.RoleMaster {
		t.Fatalf("role reply %+v", r)
	}
	fm := &ofp.FlowMod{Command: ofp.FlowAdd, Priority: 7, BufferID: ofp.NoBuffer, OutPort: ofp.PortAny, OutGroup: ofp.GroupAny,
		Instructions: []ofp.Instruction{&ofp.InstrApplyActions{Actions: []ofp.Action{&ofp.ActionOutput{Port: 1}}}}}
	xid := slave.send(fm)
	slave.send(&ofp.BarrierRequest{})
	h, m := slave.recvType(ofp.TypeError)
	if e := m.(*ofp.ErrorMsg); h.Xid != xid || e.ErrType != ofp.ETBadRequest || e.Code != ofp.BRCIsSlave {
		t.Errorf("slave flow mod: error %+v (xid %d), want BAD_REQUEST/IS_SLAVE", e, h.Xid)
	}
	if strings.Contains(s.ofctl("dump-flows"), "priority=7") {
		t.Fatal("a slave's flow mod changed the table")
	}
	master.send(fm)
	master.request(&ofp.BarrierRequest{})
	if !strings.Contains(s.ofctl("dump-flows"), "priority=7") {
		t.Error("the master's flow mod was not applied")
	}
	out := show(s)
	if !strings.Contains(out, "role: slave") || !strings.Contains(out, "role: master") {
		t.Errorf("show:\n%s", out)
	}
}

// ofPeer is a minimal controller-side OpenFlow peer using our codec.
type ofPeer struct {
	t   *testing.T
	nc  net.Conn
	r   *bufio.Reader
	xid uint32
}

func (p *ofPeer) send(m ofp.Message) uint32 {
	p.t.Helper()
	p.xid++
	b, err := ofp.Marshal(p.xid, m)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.nc.Write(b); err != nil {
		p.t.Fatal(err)
	}
	return p.xid
}

func (p *ofPeer) recv() (ofp.Header, ofp.Message, error) {
	p.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := ofp.ReadMessage(p.r, nil)
	if err != nil {
		return ofp.Header{}, nil, err
	}
	return ofp.Decode(b)
}

// recvType reads until a message of type ty, answering echo requests.
func (p *ofPeer) recvType(ty ofp.MsgType) (ofp.Header, ofp.Message) {
	p.t.Helper()
	for {
		h, m, err := p.recv()
		if err != nil {
			p.t.Fatalf("waiting for message type %d: %v", ty, err)
		}
		if m.Type() == ty {
			return h, m
		}
		if m.Type() == ofp.TypeEchoRequest {
			b, _ := ofp.Marshal(h.Xid, &ofp.EchoReply{})
			p.nc.Write(b)
		}
	}
}

// request sends m and a barrier and returns the reply to m (nil if the
// barrier reply came first, i.e. m has no reply).
func (p *ofPeer) request(m ofp.Message) ofp.Message {
	p.t.Helper()
	xid := p.send(m)
	bx := p.send(&ofp.BarrierRequest{})
	var reply ofp.Message
	for {
		h, r, err := p.recv()
		if err != nil {
			p.t.Fatalf("reply to %T: %v", m, err)
		}
		if h.Xid == xid && reply == nil {
			reply = r
		}
		if h.Xid == bx && r.Type() == ofp.TypeBarrierReply {
			return reply
		}
	}
}
