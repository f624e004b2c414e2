package quant

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestQuantizeDequantizeErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		run     func() error
		wantErr string
	}{
		{"no codec Q2_K", func() error { return Quantize(Q2_K, make([]byte, 84), make([]float32, 256)) }, "no codec"},
		{"unknown type", func() error { return Quantize(Type(4), make([]byte, 18), make([]float32, 32)) }, "no codec"},
		{"huge type id", func() error { return Dequantize(Type(1<<31), make([]float32, 32), make([]byte, 18)) }, "no codec"},
		{"partial block", func() error { return Quantize(Q4_0, make([]byte, 18), make([]float32, 31)) }, "multiple of the block size"},
		{"dst too short", func() error { return Quantize(Q4_K, make([]byte, 143), make([]float32, 256)) }, "dst is 143 bytes"},
		{"dst too long", func() error { return Quantize(Q8_0, make([]byte, 35), make([]float32, 32)) }, "dst is 35 bytes"},
		{"dequant src short", func() error { return Dequantize(Q6_K, make([]float32, 256), make([]byte, 209)) }, "src is 209 bytes"},
		{"dequant partial", func() error { return Dequantize(IQ4_NL, make([]float32, 40), make([]byte, 18)) }, "multiple of the block size"},
		{"dequant Q8_K no codec", func() error { return Dequantize(Q8_K, make([]float32, 256), make([]byte, 292)) }, "no codec"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	// Empty input is valid and writes nothing.
	if err := Quantize(Q4_0, nil, nil); err != nil {
		t.Errorf("empty Quantize: %v", err)
	}
}

// TestHostileValuesNoPanic feeds NaN, infinities and extremes to every codec
// and random bytes to every dequantizer: any result is fine, a panic is not.
func TestHostileValuesNoPanic(t *testing.T) {
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 0, -0.0, 1e30, -1e-30}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range codecTypes {
		n := 512
		x := make([]float32, n)
		for trial := 0; trial < 20; trial++ {
			for i := range x {
				if rng.IntN(3) == 0 {
					x[i] = special[rng.IntN(len(special))]
				} else {
					x[i] = float32(rng.NormFloat64())
				}
			}
			rs, _ := tc.typ.RowSize(int64(n))
			q := make([]byte, rs)
			if err := Quantize(tc.typ, q, x); err != nil {
				t.Fatal(err)
			}
			for i := range q {
				q[i] = byte(rng.Uint32())
			}
			if err := Dequantize(tc.typ, x, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, fn := range []func([]byte, []float32){QuantizeQ8_0, QuantizeQ8_1, QuantizeQ8_K} {
		x := make([]float32, 256)
		for i := range x {
			x[i] = special[i%len(special)]
		}
		fn(make([]byte, 292), x)
	}
}

// TestRoundTripError checks what each format promises independently of
// ggml: on gaussian data the dequantized values stay within a bound of the
// input relative to the block's largest magnitude. The bounds are the
// formats' step sizes (e.g. 4-bit: max/8 per step, error <= half a step plus
// fp16 rounding of the scale), not numbers measured from this code.
func TestRoundTripError(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for _, tc := range []struct {
		typ Type
		tol float64 // max |err| / block amax
	}{
		{F16, 1.0 / 1024}, {BF16, 1.0 / 128},
		{Q8_0, 0.5/127 + 1e-3},
		// Q4_0/Q5_0 levels are [-8,7]·d and [-16,15]·d with the block max at
		// -8·d (-16·d): a value of the opposite sign and the same magnitude
		// clips one full step (max/8, max/16).
		{Q4_0, 1.0/8 + 1e-3}, {Q5_0, 1.0/16 + 1e-3},
		{IQ4_NL, 12.0 / 127}, // largest gap of the IQ4_NL table is 24/127
		{Q4_1, 0.5 * 2 / 15 * 1.01}, {Q5_1, 0.5 * 2 / 31 * 1.01},
		// K-quants: 6-bit scales and a search that may trade a little max
		// error for lower weighted error: allow twice the step.
		{Q4_K, 2 * 2 / 15.0}, {Q5_K, 2 * 2 / 31.0}, {Q6_K, 2 * 1 / 32.0},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			rs, _ := tc.typ.RowSize(int64(len(x)))
			q := make([]byte, rs)
			y := make([]float32, len(x))
			if err := Quantize(tc.typ, q, x); err != nil {
				t.Fatal(err)
			}
			if err := Dequantize(tc.typ, y, q); err != nil {
				t.Fatal(err)
			}
			bs := max(tc.typ.BlockSize(), 32)
			worst := 0.0
			for b := 0; b < len(x); b += bs {
				amax := 0.0
				for _, v := range x[b : b+bs] {
					amax = math.Max(amax, math.Abs(float64(v)))
				}
				for i := b; i < b+bs; i++ {
					worst = math.Max(worst, math.Abs(float64(y[i]-x[i]))/amax)
				}
			}
			if worst > tc.tol {
				t.Errorf("worst error %.4g of block max, bound %.4g", worst, tc.tol)
			}
		})
	}
}

// TestNearestInt pins ggml's rounding (half to even) and matches
// math.RoundToEven over the valid range.
func TestNearestInt(t *testing.T) {
	for _, tc := range []struct {
		in   float32
		want int32
	}{
		{0.5, 0}, {1.5, 2}, {2.5, 2}, {-0.5, 0}, {-1.5, -2}, {-2.5, -2}, {0.49999997, 0}, {4194303, 4194303}, {-4194303, -4194303}, {3.7, 4}, {-3.7, -4},
	} {
		if got := nearestInt(tc.in); got != tc.want {
			t.Errorf("nearestInt(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 100000; i++ {
		f := float32((rng.Float64()*2 - 1) * 4194303)
		if i%2 == 0 {
			f = float32(rng.IntN(2000)-1000) / 4 // many exact halves
		}
		if got, want := nearestInt(f), int32(math.RoundToEven(float64(f))); got != want {
			t.Fatalf("nearestInt(%v) = %d, RoundToEven %d", f, got, want)
		}
	}
}

func TestCvtt(t *testing.T) {
	for _, tc := range []struct {
		in   float32
		want int32
	}{
		{1.9, 1}, {-1.9, -1}, {2147483520, 2147483520}, {-2147483648, math.MinInt32},
		{2147483648, math.MinInt32}, {float32(math.Inf(1)), math.MinInt32}, {float32(math.Inf(-1)), math.MinInt32},
		{float32(math.NaN()), math.MinInt32},
	} {
		if got := cvtt(tc.in); got != tc.want {
			t.Errorf("cvtt(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
