package model

import (
	"testing"
	"unsafe"
)

// TestAllocAnonAligned: blocks of at least a huge page start on a
// huge-page boundary (so that transparent huge pages can back all but the
// last partial one), have the asked length, and are zeroed and writable
// up to their end; smaller blocks are still whole.
func TestAllocAnonAligned(t *testing.T) {
	for _, n := range []int{1, 4096, hugePage - 1, hugePage, hugePage + 1, 5*hugePage + 12345} {
		b, free, err := allocAnon(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != n || cap(b) != n {
			t.Fatalf("n=%d: len %d cap %d", n, len(b), cap(b))
		}
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(b))); n >= hugePage && p%hugePage != 0 {
			t.Errorf("n=%d: block at %#x, not on a %d-byte boundary", n, p, hugePage)
		}
		if b[0] != 0 || b[n-1] != 0 {
			t.Errorf("n=%d: not zeroed", n)
		}
		b[0], b[n-1] = 1, 2
		free()
	}
}
