package kernels

import (
	"math"
	"sync"
	"time"
)

// streamSink keeps the streaming sums alive.
var streamSink uint64

// StreamReadBandwidth measures the machine's streaming-read bandwidth in
// bytes per second: threads goroutines each sum their share of a buffer of
// about size bytes (at least 1 MiB per thread), which is first written so
// that its pages exist. It returns the best of several passes (at least 3
// and at least ~0.3 s of reading), the figure a memory-bound matrix-vector
// product can hope to reach with that many threads. The buffer is
// garbage once it returns.
func StreamReadBandwidth(threads, size int) float64 {
	threads = max(threads, 1)
	words := max(size/8, threads<<17)
	words -= words % (8 * threads)
	buf := make([]uint64, words)
	for i := range buf {
		buf[i] = uint64(i)
	}
	best := time.Duration(math.MaxInt64)
	var total time.Duration
	for i := 0; i < 3 || (total < 300*time.Millisecond && i < 100); i++ {
		t0 := time.Now()
		streamSink += streamPass(buf, threads)
		d := max(time.Since(t0), 1)
		best = min(best, d)
		total += d
	}
	return float64(len(buf)*8) / best.Seconds()
}

// streamPass reads buf once, split evenly over threads goroutines, and
// returns the sum of its words.
func streamPass(buf []uint64, threads int) uint64 {
	part := len(buf) / threads
	sums := make([]uint64, threads)
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			sums[t] = sumWords(buf[t*part : (t+1)*part])
		}(t)
	}
	wg.Wait()
	var total uint64
	for _, s := range sums {
		total += s
	}
	return total
}

// sumWords adds s with eight independent accumulators (len(s) is a
// multiple of 8), so that the loads, not the additions, set the pace.
func sumWords(s []uint64) uint64 {
	var a0, a1, a2, a3, a4, a5, a6, a7 uint64
	for i := 0; i+8 <= len(s); i += 8 {
		a0 += s[i]
		a1 += s[i+1]
		a2 += s[i+2]
		a3 += s[i+3]
		a4 += s[i+4]
		a5 += s[i+5]
		a6 += s[i+6]
		a7 += s[i+7]
	}
	return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7
}
