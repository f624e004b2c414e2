package kernels

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// streamBuffer returns words uint64s of fresh anonymous memory in
// transparent huge pages where the kernel grants them (MADV_HUGEPAGE), as
// the repacked weights decode streams are (model.allocAnon): on a VM the
// page walks of 4 KiB pages cost a large share of a streaming read, so a
// yardstick in small pages would read low against them. free unmaps it.
// Without mmap it falls back to the Go heap.
func streamBuffer(words int) (buf []uint64, free func()) {
	b, err := unix.Mmap(-1, 0, words*8, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return make([]uint64, words), func() {}
	}
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE) // a hint: failure leaves small pages
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), words), func() { _ = unix.Munmap(b) }
}
