//go:build !linux

package kernels

// streamBuffer returns words uint64s from the Go heap (transparent huge
// pages are a Linux hint; macOS picks page sizes itself). free is a no-op.
func streamBuffer(words int) (buf []uint64, free func()) {
	return make([]uint64, words), func() {}
}
