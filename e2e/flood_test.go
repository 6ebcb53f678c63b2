package e2e

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/govs/govs/ofproto/ofp"
	"github.com/govs/govs/vport"
)

// TestPacketInFlood: h1 floods the switch with frames that its table-miss
// entry sends to the controller, while h2 and h3 exchange TCP over flows
// the controller installed. The packet-in rate limit holds (the
// controller counts what it receives) and the drops are counted. The
// figures (packet-ins a second, TCP throughput with and without the flood)
// are logged, not asserted: run with -v to see them.
func TestPacketInFlood(t *testing.T) {
	const rate, burst = 100, 25
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := startSwitchTop(t, opsOpts{switchOpts: switchOpts{hosts: 3, failMode: "secure",
		controllers: []string{"tcp:" + l.Addr().String()},
		extra:       fmt.Sprintf("controller_rate_limit = %d\ncontroller_burst_limit = %d\n", rate, burst)}})
	l.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second))
	nc, err := l.Accept()
	if err != nil {
		t.Fatalf("the switch did not connect: %v", err)
	}
	defer nc.Close()
	ctl := &ofPeer{t: t, nc: nc, r: bufio.NewReader(nc)}
	ctl.send(&ofp.Hello{Version: ofp.Version, Bitmaps: []uint32{1 << ofp.Version}})
	ctl.recvType(ofp.TypeHello)
	flow := func(prio uint16, in uint32, out uint32, maxLen uint16) {
		var match ofp.Match
		if in != 0 {
			v := make([]byte, 4)
			binary.BigEndian.PutUint32(v, in)
			match.Fields = append(match.Fields, ofp.OXM{Class: ofp.OXMClassOpenFlowBasic, Field: uint8(ofp.OXMInPort), Value: v})
		}
		ctl.send(&ofp.FlowMod{Command: ofp.FlowAdd, Priority: prio, BufferID: ofp.NoBuffer, OutPort: ofp.PortAny,
			OutGroup: ofp.GroupAny, Match: match,
			Instructions: []ofp.Instruction{&ofp.InstrApplyActions{Actions: []ofp.Action{&ofp.ActionOutput{Port: out, MaxLen: maxLen}}}}})
	}
	flow(0, 0, ofp.PortController, 128)
	flow(100, 2, 3, 0)
	flow(100, 3, 2, 0)
	if ctl.request(&ofp.BarrierRequest{}) == nil {
		t.Fatal("no barrier reply")
	}

	// The controller: count packet-ins per second, answer echoes.
	var pins atomic.Int64
	var readerDone sync.WaitGroup
	readerDone.Add(1)
	go func() {
		defer readerDone.Done()
		for {
			nc.SetReadDeadline(time.Now().Add(60 * time.Second))
			b, err := ofp.ReadMessage(ctl.r, nil)
			if err != nil {
				return
			}
			h, err := ofp.ParseHeader(b)
			if err != nil {
				return
			}
			switch h.Type {
			case ofp.TypePacketIn:
				pins.Add(1)
			case ofp.TypeEchoRequest:
				r, _ := ofp.Marshal(h.Xid, &ofp.EchoReply{})
				nc.Write(r)
			}
		}
	}()
	defer func() { nc.Close(); readerDone.Wait() }()

	// Warm the h2<->h3 path (ARP, megaflows).
	s.mustPing(1, 2)
	baseline := tcpThroughput(t, s, 1, 2, 3*time.Second)

	// The flood: h1 sends UDP frames to an unknown MAC as fast as it can.
	fd := rawSocket(t, s.hosts[0])
	defer unix.Close(fd)
	var sent atomic.Int64
	flood := func() (stop func()) {
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			frame := udpFrame()
			for i := uint16(0); ; i++ {
				select {
				case <-done:
					return
				default:
				}
				binary.BigEndian.PutUint16(frame[34:], 1024+i%512) // UDP source port
				if _, err := unix.Write(fd, frame); err == nil {
					sent.Add(1)
				}
			}
		}()
		return func() { close(done); wg.Wait() }
	}
	stop := flood()
	time.Sleep(time.Second) // let the burst pass and the flood settle
	p0, s0, t0 := pins.Load(), sent.Load(), time.Now()
	flooded := tcpThroughput(t, s, 1, 2, 5*time.Second)
	p1, s1, t1 := pins.Load(), sent.Load(), time.Now()
	stop()
	el := t1.Sub(t0).Seconds()

	// For comparison, the same flood dropped by a flow: what the flood
	// costs without the packet-in path.
	ctl.send(&ofp.FlowMod{Command: ofp.FlowAdd, Priority: 50, BufferID: ofp.NoBuffer, OutPort: ofp.PortAny,
		OutGroup: ofp.GroupAny, Match: ofp.Match{Fields: []ofp.OXM{{Class: ofp.OXMClassOpenFlowBasic,
			Field: uint8(ofp.OXMInPort), Value: []byte{0, 0, 0, 1}}}}})
	ctl.send(&ofp.BarrierRequest{})
	time.Sleep(200 * time.Millisecond)
	stop = flood()
	time.Sleep(time.Second)
	s2, t2 := sent.Load(), time.Now()
	dropped := tcpThroughput(t, s, 1, 2, 5*time.Second)
	s3, t3 := sent.Load(), time.Now()
	stop()
	t.Logf("same flood dropped by a flow (no packet-ins): h1 sent %.0f frames/s; h2->h3 %.1f Mbit/s",
		float64(s3-s2)/t3.Sub(t2).Seconds(), dropped*8/1e6)
	pinRate := float64(p1-p0) / el
	t.Logf("flood: h1 sent %.0f frames/s; controller received %.1f packet-ins/s (limit %d/s, burst %d)",
		float64(s1-s0)/el, pinRate, rate, burst)
	t.Logf("forwarding h2->h3 over an installed flow: %.1f Mbit/s without the flood, %.1f Mbit/s during it",
		baseline*8/1e6, flooded*8/1e6)
	if pinRate > rate*1.3+float64(burst)/el {
		t.Errorf("controller received %.1f packet-ins/s, over the limit of %d/s", pinRate, rate)
	}
	if p1 == p0 {
		t.Error("no packet-in at all during the flood")
	}
	if flooded == 0 {
		t.Error("no forwarding during the flood")
	}
	out := show(s)
	m := regexp.MustCompile(`dropped by rate limit (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("show has no rate limit counter:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n == 0 {
		t.Errorf("no packet-in dropped by the rate limit:\n%s", out)
	}
	t.Logf("govs show:\n%s", out)
	t.Logf("coverage/show:\n%s", mustAppctl(s, "coverage/show"))
	t.Logf("dpctl/show:\n%s", mustAppctl(s, "dpctl/show"))
}

// rawSocket opens an AF_PACKET socket on eth0 of namespace ns.
func rawSocket(t *testing.T, ns string) int {
	t.Helper()
	fd := -1
	err := vport.InNamespace(ns, func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: 0, Ifindex: ifi.Index})
	})
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// udpFrame is a 64-byte UDP/IPv4 frame from h1 to an unknown MAC.
func udpFrame() []byte {
	f := make([]byte, 64)
	copy(f[0:], []byte{0x02, 0, 0, 0, 0x99, 0x99}) // dst
	copy(f[6:], []byte{0x02, 0, 0, 0, 0, 0x01})    // src: h1
	binary.BigEndian.PutUint16(f[12:], 0x0800)     // IPv4
	ip := f[14:34]
	ip[0], ip[8], ip[9] = 0x45, 64, 17                // version/IHL, TTL, UDP
	binary.BigEndian.PutUint16(ip[2:], uint16(64-14)) // total length
	copy(ip[12:], []byte{198, 18, 0, 1})
	copy(ip[16:], []byte{198, 18, 0, 99})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	binary.BigEndian.PutUint16(f[36:], 9)     // UDP dst port
	binary.BigEndian.PutUint16(f[38:], 64-34) // UDP length
	return f
}

// tcpThroughput sends as much TCP as it can from host a to host b (0-based)
// for d and returns the bytes received per second.
func tcpThroughput(t *testing.T, s *labSwitch, a, b int, d time.Duration) float64 {
	t.Helper()
	addr := fmt.Sprintf("198.18.0.%d:5301", b+1)
	var ln net.Listener
	if err := vport.InNamespace(s.hosts[b], func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- 0
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(d + 10*time.Second))
		n, _ := io.Copy(io.Discard, c)
		got <- n
	}()
	var c net.Conn
	if err := vport.InNamespace(s.hosts[a], func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 5*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	start := time.Now()
	c.SetWriteDeadline(start.Add(d))
	for time.Since(start) < d {
		if _, err := c.Write(buf); err != nil {
			break
		}
	}
	c.Close()
	n := <-got
	return float64(n) / time.Since(start).Seconds()
}
