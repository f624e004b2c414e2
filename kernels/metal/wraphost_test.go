//go:build linux || darwin

package metal

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMapHostAliases: MapHost's views of a mapped file are the mapping
// itself, not copies: the device reads what the host wrote after the views
// were made, through a view that is not the first, and Allocated does not
// grow by the file's size. (On the simulator the runner maps the same file
// pages; on a Mac newBufferWithBytesNoCopy wraps the mapping.)
func TestMapHostAliases(t *testing.T) {
	o := needDevice(t)
	page := os.Getpagesize()
	const n = 1000 // floats per vector
	size := 16*page + 123
	path := filepath.Join(t.TempDir(), "weights")
	if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
		t.Fatal(err)
	}
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := unix.Mmap(int(fh.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)

	before := dev.Allocated()
	// buffer limit small enough for several overlapping views when the
	// device allows it: limit with a fake device wrapper
	m, err := MapHost(limited{dev, 6 * page}, mem, 4*n, page)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(m.spans) < 3 {
		t.Fatalf("%d views of a %d-byte mapping under a %d-byte limit", len(m.spans), size, 6*page)
	}
	if grew := dev.Allocated() - before; grew != 0 {
		t.Fatalf("wrapping the %d-byte mapping allocated %d bytes of device memory: a copy", size, grew)
	}

	r := rand.New(rand.NewPCG(3, 4))
	off := size - 8*n - 100 // two vectors near the end: in the last views
	off -= off % 4
	y := alloc(t, 4*n)
	for round := range 2 {
		a, b := randF32(r, n, 1), randF32(r, n, 1)
		copy(mem[off:], f32Bytes(a)) // written after MapHost: only an alias sees it
		copy(mem[off+4*n:], f32Bytes(b))
		va, err := m.View(off, 4*n)
		if err != nil {
			t.Fatal(err)
		}
		vb, err := m.View(off+4*n, 4*n)
		if err != nil {
			t.Fatal(err)
		}
		if va.Buf == m.bufs[0] {
			t.Fatalf("range at %d found in the first view: the test does not cross views", off)
		}
		run(t, o, o.Add(y, va, vb, n, n))
		got := readF32(y, n)
		want := make([]float32, n)
		for i := range want {
			want[i] = a[i] + b[i]
		}
		check(t, "add through mapped views, round "+string(rune('0'+round)), got, want, func(int) float64 { return 0 })
	}

	// memory that maps no file cannot be aliased: it is copied, and counted
	anon, err := unix.Mmap(-1, 0, 2*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(anon)
	before = dev.Allocated()
	buf, err := dev.WrapHost(anon)
	if err != nil {
		t.Fatal(err)
	}
	grew := dev.Allocated() - before
	dev.Free(buf)
	if wrapCopiesAnon && grew < len(anon) {
		t.Fatalf("the simulator wrapped anonymous memory with %d bytes allocated, want a counted copy of %d", grew, len(anon))
	}
	if left := dev.Allocated() - before; left != 0 {
		t.Fatalf("Free left %d bytes counted", left)
	}
}

// limited is a device with a smaller buffer limit, so a small mapping needs
// several views.
type limited struct {
	Device
	max int
}

func (l limited) MaxBufferLength() int { return l.max }
