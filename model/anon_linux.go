package model

import "golang.org/x/sys/unix"

// hugePage is the transparent huge page size allocAnon aligns blocks to
// (2 MiB on amd64 and on arm64 with 4 KiB pages; a larger base page size
// gives larger huge pages, which a 2 MiB alignment does not fit, but
// changes nothing else).
const hugePage = 2 << 20

// adviseHuge asks for transparent huge pages (fewer TLB misses when decode
// streams the weights); a hint, failure changes nothing.
func adviseHuge(b []byte) { _ = unix.Madvise(b, unix.MADV_HUGEPAGE) }
