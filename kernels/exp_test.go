package kernels

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// ulpDiff is the distance in units in the last place between two float32
// of the same sign (bit patterns are monotonic within a sign); NaN must
// match NaN.
func ulpDiff(a, b float32) int64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.MaxInt64
	}
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if (ia < 0) != (ib < 0) {
		return math.MaxInt64
	}
	if ia > ib {
		return ia - ib
	}
	return ib - ia
}

// expInputs returns float32 inputs covering [-105, 90] by stepping through
// bit patterns (every one with COGEDGE_EXHAUSTIVE=1, every step-th
// otherwise), plus special values.
func expInputs(step uint32) []float32 {
	if os.Getenv("COGEDGE_EXHAUSTIVE") != "" {
		step = 1
	}
	in := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		88.72283, 88.722839, 88.7229, -87.33654, -87.3366, -103.27893, -103.9721, -104, -150, 1e-10, -1e-10, 0.34657359, -0.34657359}
	for b := uint32(0); b <= math.Float32bits(90); b += step {
		in = append(in, math.Float32frombits(b))
	}
	for b := uint32(0x80000000); b <= math.Float32bits(-105); b += step {
		in = append(in, math.Float32frombits(b))
	}
	return in
}

// TestExpf: expf is within 2 ulp of the correctly rounded e^x everywhere,
// including subnormal results, overflow to +Inf, ±Inf and NaN.
func TestExpf(t *testing.T) {
	var worst int64
	var worstX float32
	for _, x := range expInputs(1009) {
		want := float32(math.Exp(float64(x)))
		got := expf(x)
		if d := ulpDiff(got, want); d > worst {
			worst, worstX = d, x
		}
	}
	t.Logf("expf: worst error %d ulp at x=%g", worst, worstX)
	if worst > 2 {
		t.Errorf("expf: %d ulp at x=%g: got %g want %g", worst, worstX, expf(worstX), math.Exp(float64(worstX)))
	}
}

// TestExpSub checks every implementation of s[i] = e^(s[i]−m) and its sum:
// each element within 2 ulp of the correctly rounded value of e^(float32
// (s[i]−m)), the sum within float32 summation error of the float64 sum.
func TestExpSub(t *testing.T) {
	in := expInputs(20011) // the polynomial itself is swept by TestExpf
	withFeatures(t, func(t *testing.T) {
		for _, m := range []float32{0, 3.5, -20, 100} {
			for _, n := range []int{0, 1, 7, 8, 9, 31, len(in)} {
				s := append([]float32(nil), in[:n]...)
				sum := impl.expSub(s, m)
				var want64, mag float64
				var worst int64
				var worstI int
				for i, x := range in[:n] {
					want := float32(math.Exp(float64(x - m)))
					if d := ulpDiff(s[i], want); d > worst {
						worst, worstI = d, i
					}
					want64 += float64(s[i])
					mag += math.Abs(float64(s[i]))
				}
				if worst > 2 {
					x := in[worstI]
					t.Fatalf("m=%g n=%d: e^(%g−m): %d ulp: got %g want %g", m, n, x, worst, s[worstI], math.Exp(float64(x-m)))
				}
				if math.IsNaN(want64) || math.IsInf(want64, 0) {
					if !math.IsNaN(float64(sum)) && !math.IsInf(float64(sum), 0) {
						t.Fatalf("m=%g n=%d: sum %g, want non-finite", m, n, sum)
					}
					continue
				}
				if tol := float64(n+1) * 0x1p-23 * mag; math.Abs(float64(sum)-want64) > tol && !math.IsInf(float64(sum), 0) {
					t.Fatalf("m=%g n=%d: sum %g want %g (tol %g)", m, n, sum, want64, tol)
				}
			}
		}
	})
}

// BenchmarkExpSub measures the attention exp over a 256-score block.
func BenchmarkExpSub(b *testing.B) {
	s := randFloats(rand.New(rand.NewPCG(7, 7)), 256, false)
	buf := make([]float32, len(s))
	benchImplementations(b, 4*int64(len(s)), func() {
		copy(buf, s)
		impl.expSub(buf, 2)
	})
}

// TestGELUAccuracy: GELU (each implementation) is within geluULP ulp of
// the correctly rounded x·½·erfc(−x/√2) (the form without cancellation
// for x < 0), or within the smallest normal float32 where the result is
// that small, over sampled float32 inputs in [−14, 14] (every one with
// COGEDGE_EXHAUSTIVE=1) and special values.
func TestGELUAccuracy(t *testing.T) {
	in := geluInputs(4999)
	withFeatures(t, func(t *testing.T) { checkGELU(t, GELU, in, geluULP) })
}

// TestGELUExactAccuracy: the float64 reference geluF64 is within 4 ulp.
func TestGELUExactAccuracy(t *testing.T) {
	checkGELU(t, func(dst, x []float32) {
		for i, v := range x {
			dst[i] = geluF64(v)
		}
	}, geluInputs(4999), 4)
}

func geluInputs(step uint32) []float32 {
	if os.Getenv("COGEDGE_EXHAUSTIVE") != "" {
		step = 1
	}
	in := []float32{0, float32(math.Copysign(0, -1)), 0.7071067, -0.7071067, 0.70710677, -0.70710677, 13.15, -13.15, 13.2, -13.2,
		1e-30, -1e-30, 1e-45, -1e-45, float32(math.Inf(1)), float32(math.NaN()), 100, -100}
	for b := uint32(0); b <= math.Float32bits(14); b += step {
		in = append(in, math.Float32frombits(b), -math.Float32frombits(b))
	}
	return in
}

func checkGELU(t *testing.T, gelu func(dst, x []float32), in []float32, maxULP int64) {
	out := make([]float32, len(in))
	gelu(out, in)
	var worst int64
	var worstX float32
	hist := map[int64]int{}
	for i, x := range in {
		got := out[i]
		want := float32(float64(x) * 0.5 * math.Erfc(-float64(x)/math.Sqrt2))
		if math.IsInf(float64(x), 1) {
			want = x
		}
		if math.Abs(float64(got)-float64(want)) < 0x1p-126 {
			continue
		}
		d := ulpDiff(got, want)
		hist[min(d, 99)]++
		if d > worst {
			worst, worstX = d, x
		}
	}
	t.Logf("gelu: worst error %d ulp at x=%g; ulp histogram %v", worst, worstX, hist)
	if worst > maxULP {
		t.Errorf("GELU(%g): %d ulp from %g", worstX, worst, float64(worstX)*0.5*math.Erfc(-float64(worstX)/math.Sqrt2))
	}
}

// BenchmarkGELU measures GELU over a ViT MLP row (15360 values) for each
// implementation; bytes are the input row's.
func BenchmarkGELU(b *testing.B) {
	x := randFloats(rand.New(rand.NewPCG(1, 1)), 15360, false)
	d := make([]float32, len(x))
	benchImplementations(b, 4*int64(len(x)), func() { GELU(d, x) })
}
