//go:build linux || darwin

package model

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// allocAnon returns n bytes of anonymous private memory (transparent huge
// pages requested where the OS has them) and the function that frees it.
func allocAnon(n int) ([]byte, func(), error) {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap %d anonymous bytes: %w", n, err)
	}
	adviseHuge(b)
	return b, func() { _ = unix.Munmap(b) }, nil
}
