package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/kernels"
)

// TestRopeTableMatchesDirect checks that rotating by the cached cos and sin
// gives bit for bit what computing each row's angles did, for the three
// kinds of frequencies, at positions up to a long context.
func TestRopeTableMatchesDirect(t *testing.T) {
	const nHeads, headDim, base = 4, 64, 10000
	neox := make([]float32, headDim/2)
	adj := make([]float32, headDim/2)
	given := make([]float32, headDim/2)
	for i := range neox {
		neox[i] = kernels.RoPEInvFreq(i, headDim, base)
		adj[i] = float32(math.Pow(base, -2*float64(i)/headDim))
		given[i] = float32(math.Pow(500000, -2*float64(i)/headDim))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name   string
		freq   []float32
		table  func(x []float32, cos, sin []float32)
		direct func(x []float32, pos float32)
	}{
		{"rotate-half base", neox,
			func(x, cos, sin []float32) { rotateHalf(x, nHeads, headDim, cos, sin) },
			func(x []float32, p float32) { kernels.RoPENeoX(x, nHeads, headDim, p, base) }},
		{"rotate-half given", given,
			func(x, cos, sin []float32) { rotateHalf(x, nHeads, headDim, cos, sin) },
			func(x []float32, p float32) { ropeNeoXFreqs(x, nHeads, headDim, p, given) }},
		{"adjacent", adj,
			func(x, cos, sin []float32) { rotateAdjacent(x, nHeads, headDim, cos, sin) },
			func(x []float32, p float32) { ropeAdjacent(x, nHeads, headDim, p, adj) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := &ropeTable{freq: tc.freq}
			tab.ensure(10)
			tab.ensure(5000) // grows in two steps, as a context does
			for _, p := range []int{0, 1, 2, 9, 10, 11, 1227, 2047, 4999} {
				x := make([]float32, nHeads*headDim)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				want := append([]float32(nil), x...)
				tc.direct(want, float32(p))
				cos, sin := tab.at(p)
				tc.table(x, cos, sin)
				for i := range x {
					if math.Float32bits(x[i]) != math.Float32bits(want[i]) {
						t.Fatalf("pos %d, element %d: table %g, direct %g", p, i, x[i], want[i])
					}
				}
			}
		})
	}
}
