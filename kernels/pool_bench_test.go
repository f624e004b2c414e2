package kernels

import (
	"fmt"
	"testing"
)

// emptyJob is a parallel job whose tasks do nothing: what remains is the
// pool's own cost (waking the workers, handing out tasks, waiting).
type emptyJob struct{}

func (emptyJob) run(w, t int) {}

// BenchmarkPoolDispatch measures one Pool.parallel call over 8 tasks per
// thread with empty tasks: the overhead every parallel op of a decode step
// pays (a 17B decode step makes about 7 per layer: the five language
// matrices, attention and the row ops, so roughly 230 per token).
func BenchmarkPoolDispatch(b *testing.B) {
	for _, threads := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("t%d", threads), func(b *testing.B) {
			p := NewPool(threads)
			defer p.Close()
			p.mu.Lock()
			defer p.mu.Unlock()
			for b.Loop() {
				p.parallel(emptyJob{}, 8*threads)
			}
		})
	}
}
