package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/kernels"
)

// TestSwiGLURows: the pooled SwiGLU over a batch writes every row as the
// one-call kernel does, bit for bit, and nothing past nr rows, inline (a
// few rows) and spread over the workers (more rows than a task takes,
// with a ragged last task).
func TestSwiGLURows(t *testing.T) {
	pool := kernels.NewPool(3)
	defer pool.Close()
	r := rand.New(rand.NewPCG(4, 4))
	const ff = 45
	for _, nr := range []int{1, swiGLUGrain, swiGLUGrain + 1, 7*swiGLUGrain + 3} {
		g := make([]float32, (nr+1)*ff)
		u := make([]float32, len(g))
		for i := range g {
			g[i] = float32(r.NormFloat64() * 4)
			u[i] = float32(r.NormFloat64())
		}
		want := make([]float32, nr*ff)
		kernels.SwiGLU(want, g[:nr*ff], u)
		tail := append([]float32(nil), g[nr*ff:]...)
		swiGLURows(pool, g, u, nr, ff)
		for i, w := range want {
			if math.Float32bits(g[i]) != math.Float32bits(w) {
				t.Fatalf("nr=%d: element %d (row %d) = %g, want %g", nr, i, i/ff, g[i], w)
			}
		}
		for i, v := range tail {
			if g[nr*ff+i] != v {
				t.Fatalf("nr=%d: element %d past the rows changed", nr, nr*ff+i)
			}
		}
	}
}
