package kernels

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestStreamBufferHuge: the yardstick's buffer is a mapping of its own
// advised for transparent huge pages (VmFlags "hg" in /proc/self/smaps),
// like the repacked weights, writable, and unmapped by free.
func TestStreamBufferHuge(t *testing.T) {
	if os.Getenv("QEMU_CPU") != "" {
		t.Skip("under qemu-user: it does not pass madvise hints on to the host kernel")
	}
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err != nil {
		t.Skipf("this kernel has no transparent huge pages: %v", err)
	}
	const words = 1 << 19 // 4 MiB
	buf, free := streamBuffer(words)
	if len(buf) != words {
		t.Fatalf("len %d, want %d", len(buf), words)
	}
	for i := range buf {
		buf[i] = uint64(i)
	}
	addr := uint64(uintptr(unsafe.Pointer(&buf[0])))
	flags, err := vmFlags(addr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("buffer mapping's VmFlags %q lack hg (MADV_HUGEPAGE)", flags)
	}
	free()
	if _, err := vmFlags(addr); err == nil {
		t.Error("the buffer is still mapped after free")
	}
}

// vmFlags returns the VmFlags line of the mapping of /proc/self/smaps
// holding addr.
func vmFlags(addr uint64) (string, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uint64
		// a mapping's header line is "lo-hi perms …"; its fields follow
		if n, _ := fmt.Sscanf(line, "%x-%x ", &lo, &hi); n == 2 {
			in = lo <= addr && addr < hi
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:")), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("no mapping holds %#x", addr)
}
