//go:build linux || darwin

package model

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// allocAnon returns n bytes of anonymous private memory (transparent huge
// pages requested where the OS has them) and the function that frees it.
// Where huge pages exist, a block of at least one starts on a huge-page
// boundary: the mapping is made one huge page longer and the block placed
// at its first boundary, so that only the block's last partial huge page
// is left to small pages (an unaligned block loses its first and last
// one: about 0.6 of the 17B's 3.7 GB of repacked weights were small pages
// before). The slack is never touched, so it is never resident.
func allocAnon(n int) ([]byte, func(), error) {
	pad := 0
	if hugePage > 0 && n >= hugePage {
		pad = hugePage
	}
	m, err := unix.Mmap(-1, 0, n+pad, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap %d anonymous bytes: %w", n, err)
	}
	off := 0
	if pad > 0 {
		p, align := uintptr(unsafe.Pointer(unsafe.SliceData(m))), uintptr(pad)
		off = int((align - p%align) % align)
	}
	b := m[off : off+n : off+n]
	adviseHuge(b)
	return b, func() { _ = unix.Munmap(m) }, nil
}
