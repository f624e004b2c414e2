package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGELUTwin: every implementation of GELU matches the generic twin
// gelu32 bit for bit (the assembly fuses exactly the operations gelu32
// runs through fma32; fma32's double rounding could in principle differ
// by an ulp, but a sweep of every 31st float32 in [−16, 16], 7.1e7 values,
// finds no difference on any amd64 tier, nor every 311th on the NEON
// tiers), with NaN, ±Inf, ±0 and the edge z = |x|/√2 = 9.3 among the
// inputs, over lengths around the vector widths (the assembly takes a
// multiple of 8, 16 or 32, the twin the rest), starts off any vector
// alignment, and in place; elements past the end stay untouched.
// BiasGELU is held to gelu32(x + b) the same way.
func TestGELUTwin(t *testing.T) {
	const tol = 0
	inf := float32(math.Inf(1))
	in := []float32{0, float32(math.Copysign(0, -1)), inf, -inf, float32(math.NaN()), 0.70710677, -0.70710677,
		0.7071068, -0.7071068, 13.152186, -13.152186, 13.152187, -13.152187, 1e-30, -1e-30, 1e-45, 3e38, -3e38}
	for b := uint32(0); b <= math.Float32bits(20); b += 30011 {
		v := math.Float32frombits(b)
		in = append(in, v, -v)
	}
	in = append(in, randFloats(rand.New(rand.NewPCG(6, 6)), 1000, true)...)
	want := make([]float32, len(in))
	geluGeneric(want, in, nil)
	bias := randFloats(rand.New(rand.NewPCG(8, 8)), len(in), true)
	bias[3], bias[10] = float32(math.Inf(-1)), float32(math.NaN())
	wantB := make([]float32, len(in))
	for i := range in {
		wantB[i] = gelu32(in[i] + bias[i])
	}
	const guard = -4321.25
	withFeatures(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, len(in) - 2} {
			for _, off := range []int{0, 1, 2} {
				x := in[off : off+n]
				dst := make([]float32, n+off+5)
				for i := range dst {
					dst[i] = guard
				}
				GELU(dst[off:off+n], x)
				inPlace := append(make([]float32, 0, n+1), x...)[:n]
				GELU(inPlace, inPlace)
				for i := 0; i < n; i++ {
					w := want[off+i]
					if d := ulpDiff(dst[off+i], w); d > tol {
						t.Fatalf("n=%d off=%d: GELU(%g) = %g, generic %g (%d ulp)", n, off, x[i], dst[off+i], w, d)
					}
					if d := ulpDiff(inPlace[i], w); d > tol {
						t.Fatalf("n=%d off=%d in place: GELU(%g) = %g, generic %g (%d ulp)", n, off, x[i], inPlace[i], w, d)
					}
				}
				for i, v := range dst {
					if (i < off || i >= off+n) && v != guard {
						t.Fatalf("n=%d off=%d: dst[%d] = %g outside the row", n, off, i, v)
					}
				}
				b := bias[off : off+n]
				BiasGELU(dst[off:off+n], x, b)
				BiasGELU(inPlace, inPlace, b) // inPlace holds GELU(x)
				for i := 0; i < n; i++ {
					w := wantB[off+i]
					if d := ulpDiff(dst[off+i], w); d > tol {
						t.Fatalf("n=%d off=%d: BiasGELU(%g, %g) = %g, generic %g (%d ulp)", n, off, x[i], b[i], dst[off+i], w, d)
					}
					w2 := gelu32(want[off+i] + b[i])
					if d := ulpDiff(inPlace[i], w2); d > tol {
						t.Fatalf("n=%d off=%d in place: BiasGELU(%g, %g) = %g, generic %g (%d ulp)", n, off, want[off+i], b[i], inPlace[i], w2, d)
					}
				}
				if dst[off+n] != guard || (off > 0 && dst[off-1] != guard) {
					t.Fatalf("n=%d off=%d: BiasGELU wrote outside the row", n, off)
				}
			}
		}
	})
}
