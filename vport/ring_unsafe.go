//go:build linux

package vport

import (
	"sync/atomic"
	"unsafe"
)

// ringStatus returns the tp_status word at the start of a ring frame header
// for atomic access: the kernel hands a frame over by storing a status with
// TP_STATUS_USER, and takes it back when we store TP_STATUS_KERNEL. The
// frame header is 16-byte aligned in page-aligned ring memory.
func ringStatus(hdr []byte) *atomic.Uint32 {
	_ = hdr[3]
	return (*atomic.Uint32)(unsafe.Pointer(&hdr[0]))
}
