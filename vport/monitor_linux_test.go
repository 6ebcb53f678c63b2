package vport

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func newMonitor(t testing.TB, ns string) *LinkMonitor {
	t.Helper()
	var m *LinkMonitor
	err := InNamespace(ns, func() (err error) {
		m, err = NewLinkMonitor()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// waitEvent returns the first event that match accepts.
func waitEvent(t testing.TB, m *LinkMonitor, what string, match func(LinkEvent) bool) LinkEvent {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-m.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no event: %s", what)
		}
	}
}

func TestLinkMonitor(t *testing.T) {
	checkLeaks(t)
	ns := newNetns(t)
	newVeth(t, ns, "va", "vb")
	m := newMonitor(t, ns)
	vb := openAF(t, ns, "vb", AFPacketOptions{})
	vbIndex := vb.Info().Ifindex

	run(t, "ip", "-n", ns, "link", "set", "vb", "down")
	ev := waitEvent(t, m, "vb down", func(ev LinkEvent) bool { return ev.Name == "vb" && !ev.State.AdminUp })
	if ev.Ifindex != vbIndex || ev.State.Carrier || ev.Deleted {
		t.Fatalf("event %+v", ev)
	}
	if vb.State() != ev.State {
		t.Fatalf("port state %+v, event %+v", vb.State(), ev.State)
	}
	waitEvent(t, m, "va carrier down", func(ev LinkEvent) bool {
		return ev.Name == "va" && ev.State.AdminUp && !ev.State.Carrier
	})
	run(t, "ip", "-n", ns, "link", "set", "vb", "up")
	waitEvent(t, m, "vb up", func(ev LinkEvent) bool { return ev.Name == "vb" && ev.State.AdminUp && ev.State.Carrier })
	waitEvent(t, m, "va carrier up", func(ev LinkEvent) bool { return ev.Name == "va" && ev.State.Carrier })

	// Through the port, too.
	if err := vb.SetAdminUp(false); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, m, "vb down by SetAdminUp", func(ev LinkEvent) bool { return ev.Name == "vb" && !ev.State.AdminUp })

	// After lost notifications the monitor reports every interface.
	m.requestDump()
	seen := map[string]bool{}
	waitEvent(t, m, "dump", func(ev LinkEvent) bool { seen[ev.Name] = true; return seen["lo"] && seen["va"] && seen["vb"] })

	run(t, "ip", "-n", ns, "link", "del", "va")
	waitEvent(t, m, "vb deleted", func(ev LinkEvent) bool { return ev.Name == "vb" && ev.Deleted && ev.Ifindex == vbIndex })

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m.Close()
	for range m.Events() { // drains, then ends: Close closed the channel
	}
}

func TestLinkMonitorCloseWhileBlocked(t *testing.T) {
	checkLeaks(t)
	ns := newNetns(t)
	m := newMonitor(t, ns)
	// Fill the channel without reading it, so the goroutine blocks sending.
	for i := range linkEventQueue + 5 {
		if i%2 == 0 {
			run(t, "ip", "-n", ns, "link", "set", "lo", "down")
		} else {
			run(t, "ip", "-n", ns, "link", "set", "lo", "up")
		}
	}
	done := make(chan struct{})
	go func() { m.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs while the goroutine waits to send")
	}
}

// nlMsg builds one rtnetlink link message.
func nlMsg(typ uint16, family byte, index int32, flags uint32, name string) []byte {
	attr := make([]byte, nlAlign(4+len(name)+1))
	binary.NativeEndian.PutUint16(attr[0:], uint16(4+len(name)+1))
	binary.NativeEndian.PutUint16(attr[2:], unix.IFLA_IFNAME)
	copy(attr[4:], name)
	info := make([]byte, unix.SizeofIfInfomsg)
	info[0] = family
	binary.NativeEndian.PutUint32(info[4:], uint32(index))
	binary.NativeEndian.PutUint32(info[8:], flags)
	// An attribute before the name, to be skipped.
	mtu := make([]byte, 8)
	binary.NativeEndian.PutUint16(mtu[0:], 8)
	binary.NativeEndian.PutUint16(mtu[2:], unix.IFLA_MTU)
	binary.NativeEndian.PutUint32(mtu[4:], 1500)
	body := append(append(info, mtu...), attr...)
	hdr := make([]byte, unix.SizeofNlMsghdr)
	binary.NativeEndian.PutUint32(hdr[0:], uint32(len(hdr)+len(body)))
	binary.NativeEndian.PutUint16(hdr[4:], typ)
	return append(hdr, body...)
}

func TestParseLinkMessages(t *testing.T) {
	up := uint32(unix.IFF_UP | unix.IFF_RUNNING | unix.IFF_LOWER_UP)
	buf := append(nlMsg(unix.RTM_NEWLINK, unix.AF_UNSPEC, 3, up, "veth0"),
		nlMsg(unix.RTM_NEWLINK, unix.AF_BRIDGE, 3, up, "veth0")...) // bridge port event: skipped
	buf = append(buf, nlMsg(unix.RTM_NEWADDR, unix.AF_UNSPEC, 3, up, "x")...)
	buf = append(buf, nlMsg(unix.RTM_NEWLINK, unix.AF_UNSPEC, 4, unix.IFF_UP, "eth1")...)
	buf = append(buf, nlMsg(unix.RTM_DELLINK, unix.AF_UNSPEC, 5, 0, "ab")...)
	got := parseLinkMessages(buf, nil)
	want := []LinkEvent{
		{Ifindex: 3, Name: "veth0", State: LinkState{AdminUp: true, Carrier: true}},
		{Ifindex: 4, Name: "eth1", State: LinkState{AdminUp: true}},
		{Ifindex: 5, Name: "ab", Deleted: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: got %+v want %+v", i, got[i], want[i])
		}
	}
	// Truncations of a valid buffer never panic and never invent events.
	for n := range len(buf) {
		if evs := parseLinkMessages(buf[:n], nil); len(evs) > len(want) {
			t.Fatalf("truncated to %d: %+v", n, evs)
		}
	}
}

func FuzzParseLinkMessages(f *testing.F) {
	f.Add(nlMsg(unix.RTM_NEWLINK, unix.AF_UNSPEC, 3, unix.IFF_UP, "veth0"))
	f.Add(append(nlMsg(unix.RTM_DELLINK, 0, 1, 0, "a"), nlMsg(unix.RTM_NEWLINK, 0, 2, 0, "bb")...))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseLinkMessages(b, nil)
	})
}
