package model_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/internal/memstat"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
	"golang.org/x/sys/unix"
)

var pageSink byte

// TestPhaseRelease reads every tensor of the tiny model's mapping, then
// releases the vision tower and the visual experts the way cogedge run
// does after their phases, and checks in /proc/self/smaps that the
// mapping's resident size fell by their pages: at least every page lying
// wholly inside one of their tensors, at most those pages widened to whole
// pages at both ends.
func TestPhaseRelease(t *testing.T) {
	m := openTiny(t, quant.F32)
	f := m.File()
	page := os.Getpagesize()
	var any []byte
	var lo, hi int64
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		data, err := f.TensorData(ti)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) == 0 {
			continue
		}
		any = data
		for j := 0; j < len(data); j += page / 2 {
			pageSink += data[j]
		}
		pageSink += data[len(data)-1]
		if n := ti.Name; strings.HasPrefix(n, "v.") || strings.HasPrefix(n, "mm.") || strings.Contains(n, ".vis_") {
			start := int64(f.DataOffset + ti.Offset)
			end := start + int64(len(data))
			first, last := (start+int64(page)-1)/int64(page), end/int64(page)
			lo += max(0, last-first) * int64(page)
			hi += ((end+int64(page)-1)/int64(page) - start/int64(page)) * int64(page)
		}
	}
	if lo == 0 {
		t.Fatal("the tiny model has no whole page of vision weights to release")
	}
	before, err := memstat.MappingResident(any)
	if err != nil {
		t.Fatal(err)
	}
	m.Advise(model.PartVision, gguf.AdviceDontNeed)
	m.Advise(model.PartExperts, gguf.AdviceDontNeed)
	after, err := memstat.MappingResident(any)
	if err != nil {
		t.Fatal(err)
	}
	if d := before - after; d < lo || d > hi {
		t.Errorf("released %d resident bytes (%d → %d), want between %d and %d", d, before, after, lo, hi)
	}
}

// TestLockLanguage pins the language path. A process allowed to lock must
// succeed; with RLIMIT_MEMLOCK lowered to one page (checked only where the
// process lacks CAP_IPC_LOCK, e.g. not as root) it must fail with a
// message naming the limit and leave nothing locked.
func TestLockLanguage(t *testing.T) {
	m := openTiny(t, quant.Q4_0)
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &old); err != nil {
		t.Fatal(err)
	}
	if err := m.LockLanguage(); err != nil && !strings.Contains(err.Error(), "RLIMIT_MEMLOCK") {
		t.Fatalf("LockLanguage: %v", err)
	}
	low := unix.Rlimit{Cur: uint64(os.Getpagesize()), Max: old.Max}
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &low); err != nil {
		t.Fatal(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_MEMLOCK, &old)
	m2 := openTiny(t, quant.F32)
	err := m2.LockLanguage()
	if os.Geteuid() == 0 {
		t.Skipf("running as root (CAP_IPC_LOCK ignores RLIMIT_MEMLOCK): the refusal path is not exercised (LockLanguage: %v)", err)
	}
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("RLIMIT_MEMLOCK is %d bytes", low.Cur)) || !errors.Is(err, unix.ENOMEM) && !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EAGAIN) {
		t.Errorf("LockLanguage under a one-page RLIMIT_MEMLOCK: %v, want a refusal naming the limit", err)
	}
}
