package ofproto

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// TestSetControllers: controllers added at run time connect, removed ones
// are disconnected, and the others keep their connection.
func TestSetControllers(t *testing.T) {
	l1, _ := net.Listen("tcp", "127.0.0.1:0")
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l1.Close()
	defer l2.Close()
	t1, t2 := "tcp:"+l1.Addr().String(), "tcp:"+l2.Addr().String()
	tb := newTestBridge(t, 1, FailSecure, func(c *Config) { c.Controllers = []string{t1} })
	accept := func(l net.Listener) *ofClient {
		l.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		nc, err := l.Accept()
		if err != nil {
			t.Fatalf("switch did not connect: %v", err)
		}
		c := &ofClient{t: t, nc: nc, r: bufio.NewReader(nc)}
		c.send(&ofp.Hello{Version: ofp.Version})
		c.recvType(ofp.TypeHello)
		c.request(&ofp.FeaturesRequest{})
		return c
	}
	c1 := accept(l1)
	if err := tb.br.SetControllers([]string{t1, t2}); err != nil {
		t.Fatal(err)
	}
	c2 := accept(l2)
	if err := tb.br.SetControllers([]string{t2}); err != nil {
		t.Fatal(err)
	}
	c1.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := ofp.ReadMessage(c1.r, nil); err == nil {
		for {
			if _, err := ofp.ReadMessage(c1.r, nil); err != nil {
				break
			}
		}
	}
	// c2 was not disturbed.
	c2.request(&ofp.FeaturesRequest{})
	show := tb.br.Show()
	if strings.Contains(show, t1) || !strings.Contains(show, `Controller "`+t2+`"`) {
		t.Errorf("show:\n%s", show)
	}
	if err := tb.br.SetControllers([]string{"ptcp:1"}); err == nil {
		t.Error("a passive target accepted as a controller")
	}
}

// TestControllerStateShown: a controller that refuses connections shows
// BACKOFF with the error.
func TestControllerStateShown(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	tb := newTestBridge(t, 1, FailStandalone, func(c *Config) { c.Controllers = []string{"tcp:" + addr} })
	if !waitUntil(5*time.Second, func() bool {
		s := tb.br.Show()
		return strings.Contains(s, "state: BACKOFF") && strings.Contains(s, "connection refused")
	}) {
		t.Fatalf("show:\n%s", tb.br.Show())
	}
	s := tb.br.Show()
	if !strings.Contains(s, "is_connected: false") || !strings.Contains(s, "fail_open: active") {
		t.Errorf("show:\n%s", s)
	}
}

// TestSetListenersAndFailMode: a listener added at run time accepts, a
// removed one closes with its connections; the management socket stays.
// A standalone bridge's NORMAL flow follows the controller list.
func TestSetListenersAndFailMode(t *testing.T) {
	tb := newTestBridge(t, 1, FailStandalone)
	port := freeTCPPort(t)
	if err := tb.br.SetListeners([]string{"ptcp:" + port + ":127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	c := &ofClient{t: t, nc: nc, r: bufio.NewReader(nc)}
	c.send(&ofp.Hello{Version: ofp.Version})
	c.recvType(ofp.TypeHello)
	c.request(&ofp.FeaturesRequest{})
	if err := tb.br.SetListeners(nil); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, err := ofp.ReadMessage(c.r, nil); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("connection of a removed listener still open")
			}
			break
		}
	}
	if _, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
		t.Error("removed listener still accepts")
	}
	mgmt := tb.dial(t)
	countNormal := func() int {
		n := 0
		for _, r := range tb.br.tables[0].cls.rules() {
			if r.Priority == 0 && strings.Contains(formatInstructions(r.Instructions), "NORMAL") {
				n++
			}
		}
		return n
	}
	if countNormal() != 1 {
		t.Fatal("standalone bridge without controllers lacks the NORMAL flow")
	}
	tb.br.SetControllers([]string{"tcp:127.0.0.1:1"})
	if countNormal() != 0 {
		t.Error("NORMAL flow kept after a controller was configured")
	}
	if !waitUntil(2*time.Second, func() bool { return tb.br.failOpen.Load() }) {
		t.Error("not fail-open with an unreachable controller")
	}
	tb.br.SetFailMode(FailSecure)
	if tb.br.failOpen.Load() {
		t.Error("fail-open in secure mode")
	}
	tb.br.SetControllers(nil)
	tb.br.SetFailMode(FailStandalone)
	if countNormal() != 1 {
		t.Error("NORMAL flow not back in standalone without controllers")
	}
	mgmt.request(&ofp.FeaturesRequest{})
}
