//go:build linux || darwin

package gguf

import (
	"fmt"
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// maxMapSize bounds the size of a file Open accepts.
const maxMapSize = math.MaxInt

// mapFile maps size bytes of fh read-only and shared. The mapping outlives
// fh (closing the descriptor does not unmap).
func mapFile(fh *os.File, size int) (data []byte, release func() error, mapped bool, err error) {
	m, err := unix.Mmap(int(fh.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, false, fmt.Errorf("mmap %d bytes: %w", size, err)
	}
	return m, func() error { return unix.Munmap(m) }, true, nil
}

// advise applies madvise to data[start:end], widened to whole pages.
func advise(data []byte, start, end, advice int) {
	var a int
	switch advice {
	case AdviceNormal:
		a = unix.MADV_NORMAL
	case AdviceRandom:
		a = unix.MADV_RANDOM
	case AdviceSequential:
		a = unix.MADV_SEQUENTIAL
	case AdviceWillNeed:
		a = unix.MADV_WILLNEED
	case AdviceDontNeed:
		a = unix.MADV_DONTNEED
	default:
		return
	}
	page := os.Getpagesize()
	start -= start % page
	_ = unix.Madvise(data[start:end], a) // a hint: failure changes nothing
}
