package vport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sockpairPort returns an AFPacketPort driving one end of a unix datagram
// socketpair, and the other end. The batching, error accounting, bounded
// send wait and Close logic do not depend on the socket being AF_PACKET, so
// they are tested here without root.
func sockpairPort(t *testing.T, opts AFPacketOptions) (*AFPacketPort, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	opts.setDefaults()
	p, err := newAFPacketPort(fds[0], Info{Name: "sockpair", Kind: KindSystem}, nil, false, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		unix.Close(fds[1])
	})
	return p, fds[1]
}

func TestAFPacketLogicRecv(t *testing.T) {
	checkLeaks(t)
	p, peer := sockpairPort(t, AFPacketOptions{MaxBatch: 8})
	for i := range 20 {
		if _, err := unix.Write(peer, frameFrom(1, i, 60+i)); err != nil {
			t.Fatal(err)
		}
	}
	// A datagram longer than the packet buffer is skipped and counted.
	if _, err := unix.Write(peer, frameFrom(1, 99, MaxFrameLen+1)); err != nil {
		t.Fatal(err)
	}
	unix.Write(peer, frameFrom(1, 20, 80))
	got, batches := recvFrames(t, p, 21, 5*time.Second)
	for i, f := range got {
		if !bytes.Equal(f, frameFrom(1, i, 60+i)) {
			t.Fatalf("frame %d: %x", i, f)
		}
	}
	for _, n := range batches {
		if n > 8 {
			t.Fatalf("Recv returned %d > MaxBatch frames", n)
		}
	}
	if s := p.Stats(); s.RxPackets != 21 || s.RxErrors != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestAFPacketLogicSendWait(t *testing.T) {
	checkLeaks(t)
	p, peer := sockpairPort(t, AFPacketOptions{SendTimeout: 20 * time.Millisecond})
	unix.SetsockoptInt(peer, unix.SOL_SOCKET, unix.SO_RCVBUF, 4096)

	// Nobody reads: the peer's queue fills, Send waits SendTimeout for room
	// (not forever) and drops the rest.
	const n = 2000
	tx := make([]*Packet, n)
	for i := range tx {
		tx[i] = NewPacketFrom(frameFrom(1, i, 60))
	}
	start := time.Now()
	sent, err := p.Send(tx)
	took := time.Since(start)
	if err != nil || sent == 0 || sent == n {
		t.Fatalf("Send = %d, %v; want some of %d sent", sent, err, n)
	}
	if took > 500*time.Millisecond { // one wait of 20ms, plus a loaded machine
		t.Fatalf("Send blocked for %v", took)
	}
	if s := p.Stats(); int(s.TxPackets) != sent || int(s.TxDropped) != n-sent || s.TxErrors != 0 {
		t.Fatalf("stats %+v, sent %d", s, sent)
	}

	// A reader that keeps up: the wait lets every frame through.
	drain := func() int {
		buf := make([]byte, 100)
		c := 0
		for {
			if _, err := unix.Read(peer, buf); err != nil {
				return c
			}
			c++
		}
	}
	drain()
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		total := 0
		for {
			select {
			case <-stop:
				done <- total + drain()
				return
			default:
				total += drain()
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	// The bound only has to outlast a reader descheduled on a loaded
	// machine; an unloaded run finishes in milliseconds.
	p.opts.SendTimeout = 20 * time.Second
	before := p.Stats()
	sent, err = p.Send(tx)
	close(stop)
	received := <-done
	if err != nil || sent != n || received != n {
		t.Fatalf("Send = %d, %v; peer read %d of %d; stats %+v (before %+v)", sent, err, received, n, p.Stats(), before)
	}
}

func TestAFPacketLogicCloseWhileWaiting(t *testing.T) {
	checkLeaks(t)
	p, _ := sockpairPort(t, AFPacketOptions{SendTimeout: time.Hour})
	tx := make([]*Packet, 5000)
	for i := range tx {
		tx[i] = NewPacketFrom(frameFrom(1, i, 60))
	}
	errc := make(chan error, 1)
	go func() {
		_, err := p.Send(tx)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	p.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Send returned %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock a waiting Send")
	}
}

func TestRestoreVLAN(t *testing.T) {
	aux := func(status uint32, tci, tpid uint16) []byte {
		b := make([]byte, auxSpace)
		binary.NativeEndian.PutUint32(b[unix.SizeofCmsghdr-8:], unix.SOL_PACKET)
		binary.NativeEndian.PutUint32(b[unix.SizeofCmsghdr-4:], unix.PACKET_AUXDATA)
		d := b[unix.CmsgLen(0):]
		binary.NativeEndian.PutUint32(d[0:], status)
		binary.NativeEndian.PutUint16(d[16:], tci)
		binary.NativeEndian.PutUint16(d[18:], tpid)
		return b
	}
	base := frameFrom(1, 1, 60)
	tagged := func(tpid, tci uint16) []byte {
		return cat(base[:12], []byte{byte(tpid >> 8), byte(tpid), byte(tci >> 8), byte(tci)}, base[12:])
	}
	const valid, tpidValid = unix.TP_STATUS_VLAN_VALID, unix.TP_STATUS_VLAN_TPID_VALID
	tests := []struct {
		name string
		cmsg []byte
		want []byte
	}{
		{"no control message", nil, base},
		{"no tag", aux(0, 0, 0), base},
		{"tci without valid flag", aux(0, 5, 0x8100), base},
		{"802.1Q", aux(valid|tpidValid, 100, 0x8100), tagged(0x8100, 100)},
		{"802.1ad", aux(valid|tpidValid, 0xe00a, 0x88a8), tagged(0x88a8, 0xe00a)},
		{"old kernel: no tpid", aux(valid, 7, 0), tagged(0x8100, 7)},
		{"priority tag", aux(valid|tpidValid, 0, 0x8100), tagged(0x8100, 0)},
		{"other control message", func() []byte { b := aux(valid, 7, 0); b[unix.SizeofCmsghdr-4]++; return b }(), base},
		{"short control message", aux(valid, 7, 0)[:unix.CmsgLen(0)+4], base},
	}
	for _, tc := range tests {
		pkt := NewPacketFrom(base)
		if !restoreVLAN(pkt, tc.cmsg) {
			t.Errorf("%s: restoreVLAN failed", tc.name)
			continue
		}
		if !bytes.Equal(pkt.Data(), tc.want) {
			t.Errorf("%s:\n got %x\nwant %x", tc.name, pkt.Data(), tc.want)
		}
	}
}
