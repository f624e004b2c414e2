package kernels

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// swiGLUInputs returns gate values covering [−120, 120] by stepping through
// bit patterns (expInputs' sweep, both signs, past the exp clamps), the
// limits and specials, and an up row of ordinary, zero, signed and infinite
// factors in a pattern that does not repeat with the vector width.
func swiGLUInputs() (gate, up []float32) {
	inf := float32(math.Inf(1))
	gate = []float32{0, float32(math.Copysign(0, -1)), 1, -1, inf, -inf, float32(math.NaN()), 16.5, -16.5, 20, -20,
		88.72283, -88.72283, 89, -89, 89.5, -89.5, 103.9, -103.9, 104, -104, 105, -105, 200, -200, 3e38, -3e38,
		1e-30, -1e-30, 1e-45, -1e-45, 0.34657359, -0.34657359}
	for b := uint32(0); b <= math.Float32bits(120); b += 40009 {
		v := math.Float32frombits(b)
		gate = append(gate, v, -v)
	}
	r := rand.New(rand.NewPCG(3, 11))
	gate = append(gate, randFloats(r, 1000, true)...)
	up = randFloats(r, len(gate), false)
	for i := 0; i < len(up); i += 37 {
		up[i] = []float32{0, 1, -1, inf, -inf, 1e-30, 3e38}[i/37%7]
	}
	return gate, up
}

// TestSwiGLUTwin: every implementation of SwiGLU is within 4 ulp of the
// generic twin (each exp is within 2 ulp of e^x, the assembly's with fused
// multiply-adds, and for g ≪ 0 1+e^(−g) passes that error on whole; a
// sweep of every 7th float32 in [−120, 120] finds 4), with NaN and the
// infinities where the twin has them, over lengths around the vector
// widths (the assembly takes a multiple of 8 or 16, the twin the rest),
// starts off any vector alignment, and in place over gate or over up;
// elements past the end stay untouched. On arm64 the NEON code must match
// bit for bit: the Go compiler fuses the same multiply-adds in expf there.
func TestSwiGLUTwin(t *testing.T) {
	tol := int64(4)
	if runtime.GOARCH == "arm64" {
		tol = 0
	}
	gate, up := swiGLUInputs()
	want := make([]float32, len(gate))
	swiGLUGeneric(want, gate, up)
	const guard = 12345.5
	withFeatures(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 64, len(gate) - 3} {
			for _, off := range []int{0, 1, 3} {
				g, u := gate[off:off+n], up[off:off+n]
				dst := make([]float32, n+off+5)
				for i := range dst {
					dst[i] = guard
				}
				SwiGLU(dst[off:off+n], g, u)
				inG := append(make([]float32, 0, n+1), g...)[:n]
				SwiGLU(inG, inG, u)
				inU := append(make([]float32, 0, n+1), u...)[:n]
				SwiGLU(inU, g, inU)
				for i := 0; i < n; i++ {
					w := want[off+i]
					for _, c := range []struct {
						what string
						got  float32
					}{{"dst", dst[off+i]}, {"dst=gate", inG[i]}, {"dst=up", inU[i]}} {
						if d := ulpDiff(c.got, w); d > tol {
							t.Fatalf("n=%d off=%d %s: SwiGLU(%g, %g) = %g, generic %g (%d ulp)", n, off, c.what, g[i], u[i], c.got, w, d)
						}
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

// TestSwiGLUAccuracy: every implementation is within 3 ulp of the correctly
// rounded g·u/(1+e^(−g)) (float64) for finite u up to 1e6, or within 2⁻¹¹⁸
// of it where the result is that small (below g = −88.72 the float32
// e^(−g) overflows and silu is −0 instead of values under 2.5e-37); the
// sign follows g·u; for g ≥ 20 silu(g) is g itself and far below zero it
// is −0 (the float32 limits); silu(+Inf) is +Inf and silu(−Inf) NaN
// (−Inf/Inf), as in the twin.
func TestSwiGLUAccuracy(t *testing.T) {
	gate, up := swiGLUInputs()
	withFeatures(t, func(t *testing.T) {
		got := make([]float32, len(gate))
		SwiGLU(got, gate, up)
		var worst int64
		var worstI int
		for i, g := range gate {
			x, u := float64(g), float64(up[i])
			if math.Abs(u) > 1e6 { // the twin test covers 0·Inf and huge factors
				continue
			}
			want := float32(x / (1 + math.Exp(-x)) * u)
			switch {
			case math.IsInf(x, -1):
				want = float32(math.NaN())
			case math.IsInf(x, 1):
				want = float32(x * u) // e^(−Inf) = 0
			}
			if math.Abs(float64(got[i])-float64(want)) < 0x1p-118 && !math.IsNaN(float64(want)) && !math.IsInf(float64(want), 0) {
				continue
			}
			if d := ulpDiff(got[i], want); d > worst {
				worst, worstI = d, i
			}
		}
		if worst > 3 {
			t.Errorf("SwiGLU(%g, %g) = %g: %d ulp from the float64 value", gate[worstI], up[worstI], got[worstI], worst)
		}
		limits := []struct{ g, u, want float32 }{
			{20, 1, 20}, {88, 1, 88}, {1e30, 0.5, 5e29}, {3e38, 1, 3e38}, {20, -2, -40},
			{-200, 1, float32(math.Copysign(0, -1))}, {-3e38, 1, float32(math.Copysign(0, -1))}, {-200, -1, 0},
		}
		g := make([]float32, 0, 16*len(limits))
		u := make([]float32, 0, cap(g))
		for _, l := range limits {
			for k := 0; k < 16; k++ { // a full vector of each, so the assembly sees it
				g, u = append(g, l.g), append(u, l.u)
			}
		}
		d := make([]float32, len(g))
		SwiGLU(d, g, u)
		for i, v := range d {
			l := limits[i/16]
			if math.Float32bits(v) != math.Float32bits(l.want) {
				t.Fatalf("SwiGLU(%g, %g) = %g (bits %#x), want %g (bits %#x)", l.g, l.u, v, math.Float32bits(v), l.want, math.Float32bits(l.want))
			}
		}
		if worst > 0 {
			t.Logf("worst %d ulp at SwiGLU(%g, %g)", worst, gate[worstI], up[worstI])
		}
	})
}

// BenchmarkSwiGLU measures SwiGLU over one Vicuna-7B MLP row (11008
// values) for each implementation; bytes are the gate row's (as
// BenchmarkGELU counts its input), so MB/s ÷ 4 is millions of values per
// second.
func BenchmarkSwiGLU(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	g := randFloats(r, 11008, false)
	u := randFloats(r, len(g), false)
	d := make([]float32, len(g))
	benchImplementations(b, 4*int64(len(g)), func() { SwiGLU(d, g, u) })
}
