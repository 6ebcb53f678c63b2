package vport

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// rxRing is a TPACKET_V2 PACKET_RX_RING: memory shared with the kernel, in
// which it writes each received frame (with a tpacket2_hdr in front) and
// hands it over by setting TP_STATUS_USER; Recv copies frames into the
// caller's packets and gives the slots back. Compared with recvmmsg, frames
// are not queued as skbs on the socket and a Recv that finds frames waiting
// makes no system call.
//
// The ring is touched only inside the RawConn.Read callback (ready), which
// holds a reference on the socket: Close closes the socket, which waits for
// that callback to return, and only then unmaps the ring.
type rxRing struct {
	mem       []byte // mapped ring; unmapped by AFPacketPort.Close
	frameSize int
	frames    int
	head      int                // next slot to look at
	readyFn   func(uintptr) bool // r.ready, bound once so Recv does not allocate

	// The Recv in progress (only the goroutine in Recv touches these).
	pkts  []*Packet
	n     int
	bytes int
	bad   int
}

// tpacket2_hdr offsets; the frame data starts at tp_mac from the header.
const (
	tp2Len     = 4
	tp2Snaplen = 8
	tp2Mac     = 12
	tp2VlanTCI = 24
	tp2VlanTPI = 26
	// ringMacOff is where the kernel puts the Ethernet header of a
	// SOCK_RAW frame: TPACKET_ALIGN(TPACKET2_HDRLEN(52) + 16) - 14.
	ringMacOff = 66
)

// setupRing asks for a ring of about frames slots, each big enough for a
// frame of the interface's MTU with two VLAN tags, and maps it. It must run
// before bind.
func setupRing(fd, frames, mtu int) (*rxRing, error) {
	frameSize := 2048
	for frameSize < ringMacOff+14+8+max(mtu, 1500) {
		frameSize *= 2
	}
	blockSize := max(frameSize, os.Getpagesize())
	perBlock := blockSize / frameSize
	blocks := (frames + perBlock - 1) / perBlock
	frames = blocks * perBlock
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V2); err != nil {
		return nil, fmt.Errorf("PACKET_VERSION: %w", err)
	}
	req := unix.TpacketReq{Block_size: uint32(blockSize), Block_nr: uint32(blocks),
		Frame_size: uint32(frameSize), Frame_nr: uint32(frames)}
	if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, fmt.Errorf("PACKET_RX_RING: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, blockSize*blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap rx ring: %w", err)
	}
	r := &rxRing{mem: mem, frameSize: frameSize, frames: frames}
	r.readyFn = r.ready
	return r, nil
}

// slot returns the memory of ring slot i.
func (r *rxRing) slot(i int) []byte {
	return r.mem[i*r.frameSize : (i+1)*r.frameSize : (i+1)*r.frameSize]
}

// ready copies the frames waiting in the ring into r.pkts; it returns false,
// to wait for the socket to become readable, while there are none.
func (r *rxRing) ready(uintptr) bool {
	for r.n < len(r.pkts) {
		s := r.slot(r.head)
		st := ringStatus(s)
		status := st.Load()
		if status&unix.TP_STATUS_USER == 0 {
			break
		}
		if r.copyOut(s, status, r.pkts[r.n]) {
			r.n++
		} else {
			r.bad++
		}
		st.Store(unix.TP_STATUS_KERNEL)
		r.head++
		if r.head == r.frames {
			r.head = 0
		}
	}
	return r.n > 0
}

// copyOut copies the frame in slot s into pkt and restores its VLAN tag. It
// returns false for frames that were cut short (longer than a slot or a
// packet buffer) or whose header is inconsistent.
func (r *rxRing) copyOut(s []byte, status uint32, pkt *Packet) bool {
	l := int(binary.NativeEndian.Uint32(s[tp2Len:]))
	snap := int(binary.NativeEndian.Uint32(s[tp2Snaplen:]))
	mac := int(binary.NativeEndian.Uint16(s[tp2Mac:]))
	buf := pkt.RecvBuf()
	if snap < l || mac+snap > len(s) || snap > len(buf) {
		return false
	}
	pkt.SetLen(copy(buf, s[mac:mac+snap]))
	if status&unix.TP_STATUS_VLAN_VALID != 0 {
		tpid := uint16(unix.ETH_P_8021Q)
		if status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
			tpid = binary.NativeEndian.Uint16(s[tp2VlanTPI:])
		}
		tag := pkt.Insert(12, 4)
		if tag == nil {
			return false
		}
		binary.BigEndian.PutUint16(tag[0:], tpid)
		binary.BigEndian.PutUint16(tag[2:], binary.NativeEndian.Uint16(s[tp2VlanTCI:]))
	}
	r.bytes += pkt.Len()
	return true
}

// recvRing is Recv through the ring.
func (p *AFPacketPort) recvRing(pkts []*Packet) (int, error) {
	r := p.ring
	r.pkts, r.n, r.bytes, r.bad = pkts, 0, 0, 0
	err := p.fd.rc.Read(r.readyFn)
	r.pkts = nil
	p.stats.rx.add(r.n, r.bytes)
	p.stats.rx.fail(r.bad)
	if err != nil {
		return 0, p.fd.closedErr(err)
	}
	return r.n, nil
}
