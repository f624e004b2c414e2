package memstat

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSamplerWindow allocates and touches 32 MiB of anonymous memory inside
// one window and frees it before the next: the first window's anonymous
// maximum must include it and the second's end must not.
func TestSamplerWindow(t *testing.T) {
	const size = 32 << 20
	s := StartSampler(5 * time.Millisecond)
	defer s.Stop()
	t0 := time.Now()
	time.Sleep(20 * time.Millisecond)
	s.Sample()
	base := s.Window(t0, time.Now())
	t1 := time.Now()
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < size; i += 4096 {
		b[i] = 1
	}
	time.Sleep(30 * time.Millisecond)
	unix.Munmap(b)
	t2 := time.Now()
	time.Sleep(20 * time.Millisecond)
	s.Sample()
	during := s.Window(t1, t2)
	after := s.Window(t2, time.Now())
	if during.N < 2 || during.Max.Anon < base.End.Anon+size*9/10 {
		t.Errorf("window with 32 MiB touched: %d samples, max anon %d, before %d", during.N, during.Max.Anon, base.End.Anon)
	}
	if after.End.Anon > base.End.Anon+size/2 {
		t.Errorf("after unmapping: anon %d, before %d", after.End.Anon, base.End.Anon)
	}
	if during.Wall < 30*time.Millisecond || during.Max.Peak < during.Max.Resident {
		t.Errorf("window %+v: want wall ≥ 30ms and peak ≥ resident", during)
	}
}

// TestSamplerWindowCPU: a window in which the process burns 60 ms of CPU
// (counted by getrusage, so a loaded machine only stretches the wall
// time) reports that much, a window of sleep next to none.
func TestSamplerWindowCPU(t *testing.T) {
	s := StartSampler(time.Hour) // only the explicit samples
	defer s.Stop()
	time.Sleep(time.Millisecond)
	t0 := time.Now()
	c0 := processCPU()
	x := uint64(1)
	for processCPU()-c0 < 60*time.Millisecond {
		for i := 0; i < 10000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	s.Sample()
	t1 := time.Now()
	time.Sleep(60 * time.Millisecond)
	s.Sample()
	busy, idle := s.Window(t0, t1), s.Window(t1, time.Now())
	if busy.CPU < 55*time.Millisecond || busy.CPU > 2*busy.Wall+20*time.Millisecond {
		t.Errorf("busy window: CPU %v over %v wall (x=%d)", busy.CPU, busy.Wall, x&1)
	}
	if idle.CPU < 0 || idle.CPU > 20*time.Millisecond {
		t.Errorf("sleeping window: CPU %v over %v wall", idle.CPU, idle.Wall)
	}
}
