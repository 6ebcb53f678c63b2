package vport

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// rxRing is a TPACKET_V2 PACKET_RX_RING: memory shared with the kernel, in
// which it writes each received frame (after a tpacket2_hdr and, with vnet
// headers, a struct virtio_net_hdr) and hands it over by setting
// TP_STATUS_USER. A receive points the caller's packets at the frames in
// place and remembers their slots; the next receive gives them back
// (TP_STATUS_KERNEL). PACKET_RESERVE leaves Headroom bytes free in front of
// every frame, so pushed headers fit in the slot.
//
// The ring is used only under the port's read lock; Close unmaps it under
// the write lock.
type rxRing struct {
	mem       []byte // mapped ring; unmapped by AFPacketPort.Close
	frameSize int
	frames    int
	blockSize int
	perBlock  int // slots per block
	vnet      bool
	head      int   // next slot to look at
	held      []int // slots lent to the caller by the last receive
}

// tpacket2_hdr offsets; the frame data starts at tp_mac from the header.
const (
	tp2Len     = 4
	tp2Snaplen = 8
	tp2Mac     = 12
	tp2VlanTCI = 24
	tp2VlanTPI = 26
	// tp2HdrEnd is TPACKET2_HDRLEN: the aligned tpacket2_hdr and the
	// sockaddr_ll after it. A lent frame's buffer starts here.
	tp2HdrEnd = 52
	// ringMacOff is where the kernel puts the Ethernet header of a
	// SOCK_RAW frame without reserve and vnet header:
	// TPACKET_ALIGN(TPACKET2_HDRLEN + 16) - 14.
	ringMacOff = 66
	// maxGSOFrame is the longest frame with vnet headers: a 64 KiB GSO
	// super-frame with its Ethernet header and two VLAN tags.
	maxGSOFrame = 65536 + 14 + 8
	// gsoBlockSize is the ring block size with vnet headers: 68 KiB slots
	// in 1 MiB blocks waste 6 % of the memory the kernel allocates
	// (a block is allocated as a power of two of pages).
	gsoBlockSize = 1 << 20
)

// setupRing asks for a ring of about frames slots, each big enough for a
// frame of the interface's MTU with two VLAN tags (or a GSO super-frame
// with vnet headers) behind Headroom bytes of reserve, and maps it. It must
// run before bind, after PACKET_VNET_HDR.
func setupRing(fd, frames, mtu int, vnet bool) (*rxRing, error) {
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V2); err != nil {
		return nil, fmt.Errorf("PACKET_VERSION: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_RESERVE, Headroom); err != nil {
		return nil, fmt.Errorf("PACKET_RESERVE: %w", err)
	}
	page := os.Getpagesize()
	macOff := ringMacOff + Headroom
	var frameSize, blockSize int
	if vnet {
		macOff += vnetHdrLen
		frameSize = (macOff + max(maxGSOFrame, mtu+14+8) + page - 1) / page * page
		blockSize = max(gsoBlockSize, frameSize)
	} else {
		frameSize = 2048
		for frameSize < macOff+14+8+max(mtu, 1500) {
			frameSize *= 2
		}
		blockSize = max(frameSize, 16*page)
	}
	perBlock := blockSize / frameSize
	blocks := (frames + perBlock - 1) / perBlock
	frames = blocks * perBlock
	req := unix.TpacketReq{Block_size: uint32(blockSize), Block_nr: uint32(blocks),
		Frame_size: uint32(frameSize), Frame_nr: uint32(frames)}
	if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, fmt.Errorf("PACKET_RX_RING (%d frames of %d bytes): %w", frames, frameSize, err)
	}
	mem, err := unix.Mmap(fd, 0, blockSize*blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap rx ring: %w", err)
	}
	// Slots never straddle blocks; with several frames per block the
	// slots are contiguous only inside a block.
	return &rxRing{mem: mem, frameSize: frameSize, frames: frames, vnet: vnet,
		held: make([]int, 0, 256), blockSize: blockSize, perBlock: perBlock}, nil
}

// slot returns the memory of ring slot i.
func (r *rxRing) slot(i int) []byte {
	off := i/r.perBlock*r.blockSize + i%r.perBlock*r.frameSize
	return r.mem[off : off+r.frameSize : off+r.frameSize]
}

// release gives the slots lent by the last receive back to the kernel.
func (r *rxRing) release() {
	for _, i := range r.held {
		ringStatus(r.slot(i)).Store(unix.TP_STATUS_KERNEL)
	}
	r.held = r.held[:0]
}

// receive lends the frames waiting in the ring to pkts (up to len(pkts))
// and returns how many, their bytes, and how many slots held frames that
// could not be received (cut short, or an inconsistent header), which are
// given back at once.
func (r *rxRing) receive(pkts []*Packet) (n, bytes, bad int) {
	for n < len(pkts) {
		i := r.head
		s := r.slot(i)
		st := ringStatus(s)
		status := st.Load()
		if status&unix.TP_STATUS_USER == 0 {
			break
		}
		r.head++
		if r.head == r.frames {
			r.head = 0
		}
		if !r.lend(s, status, pkts[n]) {
			st.Store(unix.TP_STATUS_KERNEL)
			bad++
			continue
		}
		r.held = append(r.held, i)
		bytes += pkts[n].Len()
		n++
	}
	return n, bytes, bad
}

// lend points pkt at the frame in slot s, with its offload state, and
// restores its VLAN tag. It returns false for frames that were cut short
// (longer than a slot) or whose header is inconsistent.
func (r *rxRing) lend(s []byte, status uint32, pkt *Packet) bool {
	l := int(binary.NativeEndian.Uint32(s[tp2Len:]))
	snap := int(binary.NativeEndian.Uint32(s[tp2Snaplen:]))
	mac := int(binary.NativeEndian.Uint16(s[tp2Mac:]))
	lo := tp2HdrEnd
	if r.vnet {
		lo += vnetHdrLen
	}
	if snap < l || mac < lo || mac+snap > len(s) {
		return false
	}
	pkt.setExternal(s[tp2HdrEnd:], mac-tp2HdrEnd, mac-tp2HdrEnd+snap)
	if r.vnet {
		pkt.off = decodeVnetHdr(s[mac-vnetHdrLen : mac])
	}
	if status&unix.TP_STATUS_VLAN_VALID != 0 {
		tpid := uint16(unix.ETH_P_8021Q)
		if status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
			tpid = binary.NativeEndian.Uint16(s[tp2VlanTPI:])
		}
		return insertTag(pkt, tpid, binary.NativeEndian.Uint16(s[tp2VlanTCI:]))
	}
	return true
}
