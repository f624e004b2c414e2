package kernels

import (
	"sync/atomic"
	"testing"
)

func TestPoolRows(t *testing.T) {
	for _, threads := range []int{1, 2, 3} {
		p := NewPool(threads)
		for _, tc := range []struct{ n, grain int }{{0, 4}, {1, 4}, {7, 1}, {100, 7}, {64, 64}, {65, 64}, {10, 0}} {
			hits := make([]int32, tc.n)
			var calls atomic.Int32
			p.Rows(tc.n, tc.grain, func(lo, hi int) {
				calls.Add(1)
				if lo >= hi {
					t.Errorf("threads %d n %d grain %d: empty range [%d,%d)", threads, tc.n, tc.grain, lo, hi)
				}
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("threads %d n %d grain %d: item %d visited %d times", threads, tc.n, tc.grain, i, h)
				}
			}
			g := max(tc.grain, 1)
			if want := (tc.n + g - 1) / g; int(calls.Load()) != want {
				t.Errorf("threads %d n %d grain %d: %d calls, want %d", threads, tc.n, tc.grain, calls.Load(), want)
			}
		}
		p.Close()
	}
}
