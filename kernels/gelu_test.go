package kernels

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestGELUTwin: every implementation of GELU matches the generic twin, bit
// for bit on arm64 (the NEON code fuses the multiply-adds Go fuses there)
// and within 2 ulp on amd64 (the assembly fuses some that Go does not; a
// sweep of every 13th float32 in [−14, 14] finds 2 at 37047 of 1.7e8),
// with NaN, ±Inf, ±0 and the branch edges (z = |x|/√2 at ½ and 9.3) among
// the inputs, over lengths around the vector widths (the assembly takes a
// multiple of 4 or 8, the twin the rest), starts off any vector alignment,
// and in place; elements past the end stay untouched.
func TestGELUTwin(t *testing.T) {
	tol := int64(2)
	if runtime.GOARCH == "arm64" {
		tol = 0
	}
	inf := float32(math.Inf(1))
	in := []float32{0, float32(math.Copysign(0, -1)), inf, -inf, float32(math.NaN()), 0.70710677, -0.70710677,
		0.7071068, -0.7071068, 13.152186, -13.152186, 13.152187, -13.152187, 1e-30, -1e-30, 1e-45, 3e38, -3e38}
	for b := uint32(0); b <= math.Float32bits(20); b += 30011 {
		v := math.Float32frombits(b)
		in = append(in, v, -v)
	}
	in = append(in, randFloats(rand.New(rand.NewPCG(6, 6)), 1000, true)...)
	want := make([]float32, len(in))
	geluGeneric(want, in)
	const guard = -4321.25
	withFeatures(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 9, 17, len(in) - 2} {
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
			}
		}
	})
}
