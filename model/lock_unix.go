//go:build linux || darwin

package model

import (
	"fmt"
	"os"

	"unsafe"

	"golang.org/x/sys/unix"
)

// adviseBytes applies a non-destructive madvise hint (normal, random,
// sequential, will-need) to b widened to whole pages; other advice is
// ignored, since DONTNEED would zero anonymous memory. A hint: failure
// changes nothing.
func adviseBytes(b []byte, advice int) {
	var a int
	switch advice {
	case 0:
		a = unix.MADV_NORMAL
	case 1:
		a = unix.MADV_RANDOM
	case 2:
		a = unix.MADV_SEQUENTIAL
	case 3:
		a = unix.MADV_WILLNEED
	default:
		return
	}
	if len(b) > 0 {
		_ = unix.Madvise(pageAligned(b), a)
	}
}

// pageAligned widens b to start on a page boundary (b must lie in memory
// mapped by whole pages, as mappings and allocAnon's blocks do).
func pageAligned(b []byte) []byte {
	page := uintptr(os.Getpagesize())
	p := unsafe.Pointer(unsafe.SliceData(b))
	off := int(uintptr(p) % page)
	return unsafe.Slice((*byte)(unsafe.Add(p, -off)), len(b)+off)
}

// LockLanguage pins the language path (LanguageWeights: what every decode
// step reads) in memory with mlock, so that memory pressure from other
// processes cannot page it out. On failure nothing stays locked, and the
// error says how large the language path is and what RLIMIT_MEMLOCK
// allows.
func (m *Model) LockLanguage() error {
	ws := m.LanguageWeights()
	var total int64
	for _, w := range ws {
		total += int64(len(w.Data))
	}
	for i, w := range ws {
		if len(w.Data) == 0 {
			continue
		}
		if err := unix.Mlock(pageAligned(w.Data)); err != nil {
			for _, u := range ws[:i] {
				if len(u.Data) > 0 {
					_ = unix.Munlock(pageAligned(u.Data))
				}
			}
			var rl unix.Rlimit
			limit := "unknown"
			if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl) == nil {
				limit = fmt.Sprintf("%d bytes", rl.Cur)
				if rl.Cur == unix.RLIM_INFINITY {
					limit = "unlimited"
				}
			}
			return fmt.Errorf("model: cannot lock the language path (%.2f GiB) in memory: tensor %q: %w (RLIMIT_MEMLOCK is %s: raise it, e.g. ulimit -l unlimited, or run without --mlock)",
				float64(total)/(1<<30), w.Name, err, limit)
		}
	}
	return nil
}
