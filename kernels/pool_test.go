package kernels

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// countJob records which tasks ran and how often.
type countJob struct{ hits []atomic.Int32 }

func (j *countJob) run(w, t int) { j.hits[t].Add(1) }

// TestPoolHandOff runs jobs through every way a worker can receive one:
// while spinning (back to back), after blocking (gaps longer than
// spinFor), and with spinning off (the oversubscribed case), checking
// that every task of every job runs exactly once and that Close returns
// with workers parked.
func TestPoolHandOff(t *testing.T) {
	for _, tc := range []struct {
		threads int
		spin    bool
		gap     time.Duration
	}{
		{2, true, 0},
		{2, true, 2 * spinFor},
		{2, false, 0},
		{3, false, 50 * time.Microsecond},
		{4, true, spinFor / 2},
	} {
		t.Run(fmt.Sprintf("t%d-spin%v-gap%v", tc.threads, tc.spin, tc.gap), func(t *testing.T) {
			p := newPool(tc.threads, tc.spin)
			p.mu.Lock()
			for round := range 40 {
				n := 1 + round%(3*tc.threads)
				j := &countJob{hits: make([]atomic.Int32, n)}
				p.parallel(j, n)
				for i := range j.hits {
					if h := j.hits[i].Load(); h != 1 {
						t.Fatalf("round %d: task %d of %d ran %d times", round, i, n, h)
					}
				}
				if tc.gap > 0 {
					time.Sleep(tc.gap)
				}
			}
			p.mu.Unlock()
			done := make(chan struct{})
			go func() { p.Close(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Close did not return")
			}
		})
	}
}
