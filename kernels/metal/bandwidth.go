package metal

import (
	"fmt"
	"time"
)

// ReadBandwidth measures the device's read bandwidth in bytes per second:
// the read_sum kernel streams a buffer of size bytes (rounded down to 4)
// once per command buffer, and the best of reps timed runs after a warm-up
// counts (as kernels.StreamReadBandwidth does for the CPU). The partial
// sums are checked against each other, so a run that read nothing fails.
func ReadBandwidth(o *Ops, size, reps int) (float64, error) {
	words := size / 4
	if words < 1 || reps < 1 {
		return 0, fmt.Errorf("metal: ReadBandwidth: %d bytes, %d runs", size, reps)
	}
	dev := o.Device()
	src, err := dev.NewBuffer(4 * words)
	if err != nil {
		return 0, err
	}
	defer dev.Free(src)
	h := src.Host()
	for i := 0; i < len(h); i += 4096 {
		h[i] = 1 // one word per page is 1: the total is the page count
	}
	const groups, threads = 1024, 256
	out, err := dev.NewBuffer(4 * groups * threads)
	if err != nil {
		return 0, err
	}
	defer dev.Free(out)
	want := uint32((len(h) + 4095) / 4096)
	best := time.Duration(0)
	for i := 0; i <= reps; i++ {
		t0 := time.Now()
		if err := o.ReadSum(View{out, 0}, View{src, 0}, words, groups, threads); err != nil {
			return 0, err
		}
		if err := dev.Sync(); err != nil {
			return 0, err
		}
		d := time.Since(t0)
		var got uint32
		o := out.Host()
		for j := 0; j < len(o); j += 4 {
			got += uint32(o[j]) | uint32(o[j+1])<<8 | uint32(o[j+2])<<16 | uint32(o[j+3])<<24
		}
		if got != want {
			return 0, fmt.Errorf("metal: ReadBandwidth: the read kernel summed %d, want %d", got, want)
		}
		if i > 0 && (best == 0 || d < best) { // run 0 warms up
			best = d
		}
	}
	return float64(4*words) / max(best, time.Nanosecond).Seconds(), nil
}
