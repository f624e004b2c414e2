package model

import "golang.org/x/sys/unix"

// adviseHuge asks for transparent huge pages (fewer TLB misses when decode
// streams the weights); a hint, failure changes nothing.
func adviseHuge(b []byte) { _ = unix.Madvise(b, unix.MADV_HUGEPAGE) }
