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

// BenchmarkSwiGLURows measures a prefill batch's SwiGLU (256 rows of the
// 7B's 11008) in place on one goroutine and through swiGLURows on a pool of
// the machine's cores; bytes are the gate rows'. Each up value is
// 1 + e^(−gate), so silu(gate)·up is gate again (to rounding) and the rows
// neither drift towards subnormals nor need restoring between runs.
func BenchmarkSwiGLURows(b *testing.B) {
	const nr, ff = 256, 11008
	r := rand.New(rand.NewPCG(9, 9))
	g := make([]float32, nr*ff)
	u := make([]float32, nr*ff)
	for i := range g {
		g[i] = float32(r.NormFloat64())
		u[i] = float32(1 + math.Exp(-float64(g[i])))
	}
	pool := kernels.NewPool(0)
	defer pool.Close()
	for _, c := range []struct {
		name string
		run  func()
	}{
		{"inline", func() { kernels.SwiGLU(g, g, u) }},
		{"pool", func() { swiGLURows(pool, g, u, nr, ff) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(4 * nr * ff)
			for i := 0; i < b.N; i++ {
				c.run()
			}
		})
	}
}
