package memstat

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMappingRss(t *testing.T) {
	smaps := "7f0000000000-7f0000100000 r--s 00000000 fd:00 12 /m.gguf\nSize: 1024 kB\nRss:  512 kB\n" +
		"7f0000100000-7f0000200000 rw-p 00000000 00:00 0\nRss: 4 kB\n"
	for _, c := range []struct {
		addr uint64
		want int64
		err  bool
	}{
		{0x7f0000000000, 512 << 10, false},
		{0x7f00000fffff, 512 << 10, false},
		{0x7f0000100000, 4 << 10, false},
		{0x7f0000200000, 0, true},
	} {
		got, err := mappingRss(smaps, c.addr)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("mappingRss(%#x) = %d, %v; want %d, error %v", c.addr, got, err, c.want, c.err)
		}
	}
}

// TestReleaseDropsResidentPages maps a 16 MiB file, reads every page, and
// checks through /proc/self/smaps that the mapping is resident and that
// madvise(MADV_DONTNEED) (what a phase release does) takes its pages out of
// the process; Read must count them as file-backed.
func TestReleaseDropsResidentPages(t *testing.T) {
	const size = 16 << 20
	path := filepath.Join(t.TempDir(), "weights")
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(fh.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	before, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < size; i += 4096 {
		touchSink += m[i]
	}
	r, err := MappingResident(m)
	if err != nil {
		t.Fatal(err)
	}
	if r < size*9/10 {
		t.Fatalf("after reading every page: %d bytes resident, want about %d", r, size)
	}
	after, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	if d := after.File - before.File; d < size*9/10 {
		t.Errorf("Read: file-backed grew by %d bytes, want about %d", d, size)
	}
	if after.Peak < after.Resident || after.Resident != after.File+after.Anon {
		t.Errorf("Read = %+v: want Peak ≥ Resident = File + Anon", after)
	}
	if err := unix.Madvise(m, unix.MADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	if r, err = MappingResident(m); err != nil || r > size/10 {
		t.Errorf("after MADV_DONTNEED: %d bytes resident (%v), want about 0", r, err)
	}
}

// touchSink keeps the page reads alive.
var touchSink byte

func TestAvailable(t *testing.T) {
	b, err := Available()
	if err != nil {
		t.Fatal(err)
	}
	if b.Total <= 0 || b.Available <= 0 || b.Available > b.Total || (b.Limit >= 0 && b.Available > b.Limit) {
		t.Errorf("Available() = %+v: want 0 < Available ≤ Total and ≤ Limit", b)
	}
}
