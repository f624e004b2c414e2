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
// about size bytes (at least 1 MiB per thread) with the widest vector
// loads the CPU has (AVX-512 or AVX2 on amd64), after writing it once so
// that its pages exist. The buffer is in transparent huge pages where
// Linux grants them, like the repacked weights decode reads. It returns
// the best of several passes (at least 5 and at least ~0.3 s of reading),
// the figure a memory-bound matrix-vector product can hope to reach with
// that many threads; it is meant to agree with a plain C read loop over
// memory of the same kind (vector loads, OpenMP threads, best of 5). The
// buffer is unmapped when it returns.
func StreamReadBandwidth(threads, size int) float64 {
	threads = max(threads, 1)
	words := max(size/8, threads<<17)
	words -= words % (32 * threads)
	buf, free := streamBuffer(words)
	defer free()
	for i := range buf {
		buf[i] = uint64(i)
	}
	sum := impl.sumWords
	best := time.Duration(math.MaxInt64)
	var total time.Duration
	for i := 0; i < 5 || (total < 300*time.Millisecond && i < 100); i++ {
		t0 := time.Now()
		streamSink += streamPass(buf, threads, sum)
		d := max(time.Since(t0), 1)
		best = min(best, d)
		total += d
	}
	return float64(len(buf)*8) / best.Seconds()
}

// streamPass reads buf once with sum, split evenly over threads
// goroutines, and returns the total.
func streamPass(buf []uint64, threads int, sum func([]uint64) uint64) uint64 {
	part := len(buf) / threads
	sums := make([]uint64, threads)
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			sums[t] = sum(buf[t*part : (t+1)*part])
		}(t)
	}
	wg.Wait()
	var total uint64
	for _, s := range sums {
		total += s
	}
	return total
}

// sumWordsGo adds s with eight independent accumulators, so that the
// loads, not the additions, set the pace (the generic twin of the
// assembly loops).
func sumWordsGo(s []uint64) uint64 {
	var a0, a1, a2, a3, a4, a5, a6, a7 uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		a0 += s[i]
		a1 += s[i+1]
		a2 += s[i+2]
		a3 += s[i+3]
		a4 += s[i+4]
		a5 += s[i+5]
		a6 += s[i+6]
		a7 += s[i+7]
	}
	for ; i < len(s); i++ {
		a0 += s[i]
	}
	return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7
}
