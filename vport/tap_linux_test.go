package vport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

var (
	hostIP  = net.IPv4(198, 18, 0, 1).To4() // the tap's address in the host stack
	peerIP  = net.IPv4(198, 18, 0, 2).To4() // a station behind the switch
	peerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
)

func openInternal(t testing.TB, ns, name string, mac net.HardwareAddr) *InternalPort {
	t.Helper()
	var p *InternalPort
	err := InNamespace(ns, func() (err error) {
		p, err = OpenInternal(name, mac)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func arpRequest(srcMAC net.HardwareAddr, srcIP, dstIP net.IP) []byte {
	f := make([]byte, 42, 60)
	copy(f[0:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:], srcMAC)
	binary.BigEndian.PutUint16(f[12:], 0x0806)
	copy(f[14:], []byte{0, 1, 8, 0, 6, 4, 0, 1}) // Ethernet, IPv4, request
	copy(f[22:], srcMAC)
	copy(f[28:], srcIP)
	copy(f[38:], dstIP)
	return f[:60]
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

func icmpEcho(dstMAC, srcMAC net.HardwareAddr, src, dst net.IP, id uint16) []byte {
	f := make([]byte, 14+20+8+16)
	copy(f[0:], dstMAC)
	copy(f[6:], srcMAC)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0], ip[8], ip[9] = 0x45, 64, 1
	binary.BigEndian.PutUint16(ip[2:], uint16(len(f)-14))
	copy(ip[12:], src)
	copy(ip[16:], dst)
	binary.BigEndian.PutUint16(ip[10:], checksum(ip))
	icmp := f[34:]
	icmp[0] = 8 // echo request
	binary.BigEndian.PutUint16(icmp[4:], id)
	binary.BigEndian.PutUint16(icmp[6:], 1)
	copy(icmp[8:], "govs vport test!")
	binary.BigEndian.PutUint16(icmp[2:], checksum(icmp))
	return f
}

// recvUntil receives from p until match accepts a frame, and returns it.
func recvUntil(t testing.TB, p Port, timeout time.Duration, match func([]byte) bool) []byte {
	t.Helper()
	timer := time.AfterFunc(timeout, func() { p.Close() })
	defer timer.Stop()
	pkts := newPackets(BatchSize)
	for {
		n, err := p.Recv(pkts)
		if err != nil {
			t.Fatalf("no matching frame: %v", err)
		}
		for _, pkt := range pkts[:n] {
			if match(pkt.Data()) {
				return append([]byte(nil), pkt.Data()...)
			}
		}
	}
}

func TestInternalPort(t *testing.T) {
	checkLeaks(t)
	ns := newNetns(t)
	mac := net.HardwareAddr{0x02, 0x42, 0, 0, 0, 1}
	p := openInternal(t, ns, "br0", mac)
	run(t, "ip", "-n", ns, "addr", "add", "198.18.0.1/24", "dev", "br0")

	out := run(t, "ip", "-n", ns, "-o", "link", "show", "br0")
	i := p.Info()
	if i.Name != "br0" || i.Kind != KindInternal || i.MTU != 1500 || !bytes.Equal(i.MAC, mac) || i.Ifindex == 0 {
		t.Fatalf("info %+v", i)
	}
	if !strings.Contains(out, "link/ether "+mac.String()) || !strings.Contains(out, "mtu 1500") ||
		!strings.Contains(out, "UP") {
		t.Fatalf("ip says %q", out)
	}
	if s := p.State(); !s.AdminUp || !s.Carrier {
		t.Fatalf("state %+v", s)
	}

	// Frames sent into the tap reach the host stack, which answers on the
	// tap: the answers come out of Recv.
	req := arpRequest(peerMAC, peerIP, hostIP)
	if n, err := p.Send(packetsOf(req)); n != 1 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	reply := recvUntil(t, p, 5*time.Second, func(f []byte) bool {
		return len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == 0x0806 && f[21] == 2
	})
	if !bytes.Equal(reply[0:6], peerMAC) || !bytes.Equal(reply[6:12], mac) || !bytes.Equal(reply[28:32], hostIP) {
		t.Fatalf("bad ARP reply %x", reply)
	}
	echo := icmpEcho(mac, peerMAC, peerIP, hostIP, 0x4242)
	if n, err := p.Send(packetsOf(echo)); n != 1 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	pong := recvUntil(t, p, 5*time.Second, func(f []byte) bool {
		return len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 1 && f[34] == 0
	})
	if !bytes.Equal(pong[26:30], hostIP) || !bytes.Equal(pong[30:34], peerIP) || binary.BigEndian.Uint16(pong[38:]) != 0x4242 {
		t.Fatalf("bad echo reply %x", pong)
	}
	// What the host stack emits on its own: an ARP request for a neighbour.
	ping := exec.Command("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", "198.18.0.3")
	if err := ping.Start(); err != nil {
		t.Fatal(err)
	}
	defer ping.Wait()
	who := recvUntil(t, p, 5*time.Second, func(f []byte) bool {
		return len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == 0x0806 && f[21] == 1
	})
	if !bytes.Equal(who[38:42], net.IPv4(198, 18, 0, 3).To4()) {
		t.Fatalf("bad ARP request %x", who)
	}
	s := p.Stats()
	if s.TxPackets != 2 || s.RxPackets < 3 || s.TxBytes != uint64(len(req)+len(echo)) {
		t.Fatalf("stats %+v", s)
	}

	// Invalid frames are counted.
	if n, _ := p.Send([]*Packet{NewPacket(), NewPacketFrom([]byte{1, 2, 3})}); n != 0 || p.Stats().TxErrors != 2 {
		t.Fatalf("bad frames: n=%d stats %+v", n, p.Stats())
	}
}

func TestInternalPortAdmin(t *testing.T) {
	ns := newNetns(t)
	p := openInternal(t, ns, "br0", nil)
	if mac := p.Info().MAC; len(mac) != 6 || mac[0]&3 != 2 {
		t.Fatalf("random MAC %v is not locally administered unicast", mac)
	}
	if err := p.SetAdminUp(false); err != nil {
		t.Fatal(err)
	}
	if s := p.State(); s.AdminUp || s.Carrier {
		t.Fatalf("state %+v, want down", s)
	}
	// A down tap does not take frames.
	n, err := p.Send(packetsOf(arpRequest(peerMAC, peerIP, hostIP)))
	if s := p.Stats(); n != 0 || err != nil || s.TxDropped != 1 {
		t.Fatalf("Send while down = %d, %v; %+v", n, err, s)
	}
	if err := p.SetAdminUp(true); err != nil {
		t.Fatal(err)
	}
	if s := p.State(); !s.AdminUp || !s.Carrier {
		t.Fatalf("state %+v, want up", s)
	}
}

func TestInternalPortClose(t *testing.T) {
	checkLeaks(t)
	ns := newNetns(t)
	p := openInternal(t, ns, "br0", nil)
	errc := make(chan error, 1)
	go func() {
		_, err := p.Recv(newPackets(BatchSize))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Recv returned %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Recv")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := p.Send(packetsOf(frameFrom(1, 1, 60))); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if err := p.SetAdminUp(true); !errors.Is(err, ErrClosed) {
		t.Fatalf("SetAdminUp after Close: %v", err)
	}
	// The tap is not persistent: it went away with its file.
	if out, err := exec.Command("ip", "-n", ns, "link", "show", "br0").CombinedOutput(); err == nil {
		t.Fatalf("br0 still exists after Close: %s", out)
	}
	// And the name can be used again.
	q := openInternal(t, ns, "br0", nil)
	q.Close()
}
