package ofproto

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// TestPortStatusOnLinkChange: the far end of port 2 goes down and up;
// controllers get PORT_STATUS (modify) with the link state.
func TestPortStatusOnLinkChange(t *testing.T) {
	tb := newTestBridge(t, 2, FailSecure)
	c := tb.dial(t)
	c.send(&ofp.SetConfig{MissSendLen: 128})
	c.barrier()
	tb.hosts[1].SetAdminUp(false)
	_, m := c.recvType(ofp.TypePortStatus)
	ps := m.(*ofp.PortStatus)
	if ps.Reason != ofp.PortReasonModify || ps.Desc.PortNo != 2 || ps.Desc.State&ofp.PortStateLinkDown == 0 {
		t.Fatalf("port status %+v, want port 2 link down", ps)
	}
	tb.hosts[1].SetAdminUp(true)
	_, m = c.recvType(ofp.TypePortStatus)
	if ps := m.(*ofp.PortStatus); ps.Desc.State&ofp.PortStateLinkDown != 0 || ps.Desc.State&ofp.PortStateLive == 0 {
		t.Fatalf("port status %+v, want port 2 live", ps)
	}
}

// TestInactivityProbe: a peer that never answers gets an echo request
// after the probe interval and is disconnected after twice that.
func TestInactivityProbe(t *testing.T) {
	tb := newTestBridge(t, 1, FailSecure, func(c *Config) { c.ProbeInterval = 500 * time.Millisecond })
	c := tb.dial(t)
	start := time.Now()
	_, m := c.recv()
	if m.Type() != ofp.TypeEchoRequest {
		t.Fatalf("got %T, want an echo request", m)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("echo request after %v, before the probe interval", d)
	}
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	for {
		if _, err := c.nc.Read(buf); err != nil {
			break // closed by the switch
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("disconnected after %v", d)
	}
}

// TestProbeAnswered: a peer that answers the echo requests stays
// connected through many probe intervals.
func TestProbeAnswered(t *testing.T) {
	tb := newTestBridge(t, 1, FailSecure, func(c *Config) { c.ProbeInterval = time.Second })
	c := tb.dial(t)
	echoes := 0
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		h, m := c.recv()
		if m.Type() == ofp.TypeEchoRequest {
			echoes++
			c.xid = h.Xid - 1
			c.send(&ofp.EchoReply{})
		}
	}
	if echoes == 0 {
		t.Error("no echo request in 4 probe intervals")
	}
	if _, ok := c.request(&ofp.FeaturesRequest{}).(*ofp.FeaturesReply); !ok {
		t.Fatal("a peer answering echoes was disconnected")
	}
}

// TestControllerReconnect: the switch connects to a configured controller,
// and connects again (with backoff) after the controller drops it.
func TestControllerReconnect(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tb := newTestBridge(t, 1, FailStandalone, func(c *Config) {
		c.Controllers = []string{"tcp:" + l.Addr().String()}
		c.MaxBackoff = time.Second
	})
	accept := func() *ofClient {
		l.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		nc, err := l.Accept()
		if err != nil {
			t.Fatalf("switch did not connect: %v", err)
		}
		c := &ofClient{t: t, nc: nc, r: bufio.NewReader(nc)}
		c.send(&ofp.Hello{Version: ofp.Version})
		c.recvType(ofp.TypeHello)
		return c
	}
	c := accept()
	if fr := c.request(&ofp.FeaturesRequest{}).(*ofp.FeaturesReply); fr.DatapathID != 0x42 {
		t.Fatalf("features %+v", fr)
	}
	// Connected: standalone hands over to the controller.
	if tb.br.failOpen.Load() {
		t.Error("fail-open still active with a controller connected")
	}
	c.nc.Close()
	start := time.Now()
	c = accept()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("reconnect took %v", d)
	}
	c.request(&ofp.FeaturesRequest{})
	c.nc.Close()
	// While disconnected, standalone mode acts as a learning switch.
	if !waitUntil(2*time.Second, func() bool { return tb.br.failOpen.Load() }) {
		t.Error("fail-open not active after the controller went away")
	}
}

func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}
