package kernels

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// blockCounts covers tails of every unroll factor (1, 2, 4, 8 blocks).
var blockCounts = []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33}

// dotTolerance is the allowed difference between two float32 evaluations
// of the same dot: the per-block integer sums are exact in both, so they
// differ only in the rounding of at most nb+8 float32 products and
// additions, each off by at most 2⁻²⁴ of a partial sum bounded by the
// magnitude. Twice that bound is used.
func dotTolerance(wt quant.Type, w, x []byte, nb int) float64 {
	return 2*float64(nb+8)*0x1p-24*magnitude(wt, w, x, nb) + 1e-30
}

// TestDotsMatchGeneric runs each implementation's dot for every weight type
// against the generic one on random, extreme-scale, zero and unaligned
// inputs.
func TestDotsMatchGeneric(t *testing.T) {
	gen := genericImpl()
	withFeatures(t, func(t *testing.T) {
		for _, wt := range quantTypes {
			act := actOf(wt)
			blk := act.BlockSize()
			for _, mode := range []scaleMode{scaleNormal, scaleExtreme, scaleZero, scaleMixed} {
				r := rand.New(rand.NewPCG(uint64(wt), uint64(mode)))
				for _, nb := range blockCounts {
					for trial := 0; trial < 4; trial++ {
						w := randWeights(r, wt, nb, mode)
						x := actBytes(act, randFloats(r, nb*blk, trial%2 == 1))
						off := trial % 4
						want := gen.qdot[wt](w, x, nb)
						got := impl.qdot[wt](unaligned(w, off), unaligned(x, 3-off), nb)
						tol := dotTolerance(wt, w, x, nb)
						if math.Abs(float64(got)-float64(want)) > tol || math.IsNaN(float64(got)) != math.IsNaN(float64(want)) {
							t.Fatalf("%v %v nb=%d trial %d: got %g want %g (tolerance %g)", wt, mode, nb, trial, got, want, tol)
						}
						if x4 := impl.qdotx4[wt]; x4 != nil {
							checkDotX4(t, wt, x4, gen.qdot[wt], r, nb, mode)
						}
						if d4 := impl.qdot4[wt]; d4 != nil {
							checkDot4(t, wt, d4, gen.qdot[wt], r, nb, mode)
						}
					}
				}
			}
		}
	})
}

// checkDot4 compares a four-row kernel with four generic dots.
func checkDot4(t *testing.T, wt quant.Type, d4 qdot4Fn, dot qdotFn, r *rand.Rand, nb int, mode scaleMode) {
	t.Helper()
	act := actOf(wt)
	rs := nb * wt.TypeSize()
	w := randWeights(r, wt, 4*nb, mode)
	x := actBytes(act, randFloats(r, nb*act.BlockSize(), true))
	var out [4]float32
	d4(&out, unaligned(w, 1), rs, x, nb)
	for i := 0; i < 4; i++ {
		wi := w[i*rs : (i+1)*rs]
		want := dot(wi, x, nb)
		if tol := dotTolerance(wt, wi, x, nb); math.Abs(float64(out[i])-float64(want)) > tol {
			t.Fatalf("%v dot4 row %d nb=%d: got %g want %g (tolerance %g)", wt, i, nb, out[i], want, tol)
		}
	}
}

// checkDotX4 compares a one-row × four-activation-rows kernel with four
// generic dots.
func checkDotX4(t *testing.T, wt quant.Type, x4 qdotx4Fn, dot qdotFn, r *rand.Rand, nb int, mode scaleMode) {
	t.Helper()
	w := randWeights(r, wt, nb, mode)
	xs := nb * q8_0Bytes
	x := actBytes(quant.Q8_0, randFloats(r, 4*nb*32, true))
	sc := make([]float32, 4*nb)
	for i := range sc {
		sc[i] = f16(x[i*q8_0Bytes:])
	}
	var out [4]float32
	x4(&out, unaligned(w, 3), unaligned(x, 1), xs, sc, nb)
	for c := 0; c < 4; c++ {
		xc := x[c*xs : (c+1)*xs]
		want := dot(w, xc, nb)
		if tol := dotTolerance(wt, w, xc, nb); math.Abs(float64(out[c])-float64(want)) > tol {
			t.Fatalf("%v x4 column %d nb=%d: got %g want %g (tolerance %g)", wt, c, nb, out[c], want, tol)
		}
	}
}

// TestQuantizeActivationsMatchGeneric: the activation quantizers round the
// same way on every path, so the bytes must be identical.
func TestQuantizeActivationsMatchGeneric(t *testing.T) {
	gen := genericImpl()
	withFeatures(t, func(t *testing.T) {
		for _, act := range []quant.Type{quant.Q8_0, quant.Q8_1, quant.Q8_K} {
			r := rand.New(rand.NewPCG(uint64(act), 9))
			for _, nb := range blockCounts {
				for trial := 0; trial < 6; trial++ {
					x := randFloats(r, nb*act.BlockSize(), trial%2 == 1)
					if trial == 4 {
						// exact ties: multiples of amax/254 land on k+0.5
						for i := range x {
							x[i] = float32(r.IntN(255)-127) * 0.5
						}
					}
					want := actBytes(act, x)
					_ = gen
					got := make([]byte, len(want)+5)
					QuantizeActivations(act, got[5:], x)
					if !bytes.Equal(got[5:], want) {
						t.Fatalf("%v nb=%d trial %d: bytes differ from generic\n got %x\nwant %x", act, nb, trial, got[5:], want)
					}
				}
			}
		}
	})
}

// TestDotF32F16 checks the float dot and axpy kernels against float64 sums.
func TestDotF32F16(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, n := range []int{0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 112, 128, 129, 4096} {
			a := randFloats(r, n, true)
			b := randFloats(r, n, false)
			h := make([]uint16, n)
			bf := make([]uint16, n)
			for i := range h {
				h[i] = quant.FP32ToFP16(b[i])
				bf[i] = quant.FP32ToBF16(b[i])
			}
			var want, want16, wantbf, mag float64
			for i := range a {
				want += float64(a[i]) * float64(b[i])
				want16 += float64(a[i]) * float64(quant.FP16ToFP32(h[i]))
				wantbf += float64(a[i]) * float64(quant.BF16ToFP32(bf[i]))
				mag += math.Abs(float64(a[i]) * float64(b[i]) * 1.01)
			}
			tol := 2*float64(n+1)*0x1p-24*mag + 1e-30
			for _, c := range []struct {
				name string
				got  float32
				want float64
			}{
				{"f32", impl.dotF32(a, b), want},
				{"f16", impl.dotF16(h, a), want16},
				{"bf16", impl.dotBF16(bf, a), wantbf},
			} {
				if math.Abs(float64(c.got)-c.want) > tol {
					t.Fatalf("%s n=%d: got %g want %g (tolerance %g)", c.name, n, c.got, c.want, tol)
				}
			}
			// axpy: one rounding (FMA) or two (multiply, add) per element.
			y0 := randFloats(r, n, false)
			y, y2 := append([]float32(nil), y0...), append([]float32(nil), y0...)
			impl.axpyF32(y, 0.75, a)
			impl.axpyF16(y2, -1.5, h)
			for i := range y {
				for _, c := range []struct {
					got       float32
					prod, acc float64
				}{
					{y[i], 0.75 * float64(a[i]), float64(y0[i])},
					{y2[i], -1.5 * float64(quant.FP16ToFP32(h[i])), float64(y0[i])},
				} {
					want := c.prod + c.acc
					if math.Abs(float64(c.got)-want) > 0x1p-23*(math.Abs(c.prod)+math.Abs(c.acc)) {
						t.Fatalf("axpy n=%d i=%d: got %g want %g", n, i, c.got, want)
					}
				}
			}
		}
	})
}

func fuzzDot(f *testing.F, wt quant.Type) {
	f.Add(uint64(1), uint8(3), uint8(0))
	f.Add(uint64(2), uint8(17), uint8(1))
	f.Add(uint64(3), uint8(33), uint8(2))
	gen := genericImpl()
	f.Fuzz(func(t *testing.T, seed uint64, nb8, mode8 uint8) {
		nb := int(nb8%40) + 1
		mode := scaleMode(mode8 % 4)
		r := rand.New(rand.NewPCG(seed, uint64(wt)))
		act := actOf(wt)
		w := randWeights(r, wt, nb, mode)
		x := actBytes(act, randFloats(r, nb*act.BlockSize(), seed%2 == 0))
		want := gen.qdot[wt](w, x, nb)
		for _, im := range Implementations() {
			prev := SetFeatures(im.Features)
			got := impl.qdot[wt](unaligned(w, int(seed%7)), x, nb)
			SetFeatures(prev)
			if tol := dotTolerance(wt, w, x, nb); math.Abs(float64(got)-float64(want)) > tol {
				t.Fatalf("%s %v nb=%d: got %g want %g (tolerance %g)", im.Name, wt, nb, got, want, tol)
			}
		}
	})
}

func FuzzDotQ4_0(f *testing.F)   { fuzzDot(f, quant.Q4_0) }
func FuzzDotQ8_0(f *testing.F)   { fuzzDot(f, quant.Q8_0) }
func FuzzDotQ4_K(f *testing.F)   { fuzzDot(f, quant.Q4_K) }
func FuzzDotQ6_K(f *testing.F)   { fuzzDot(f, quant.Q6_K) }
func FuzzDotQ5_0(f *testing.F)   { fuzzDot(f, quant.Q5_0) }
func FuzzDotQ4_1(f *testing.F)   { fuzzDot(f, quant.Q4_1) }
func FuzzDotQ5_1(f *testing.F)   { fuzzDot(f, quant.Q5_1) }
func FuzzDotQ5_K(f *testing.F)   { fuzzDot(f, quant.Q5_K) }
func FuzzDotIQ4_NL(f *testing.F) { fuzzDot(f, quant.IQ4_NL) }

func ExampleImplementations() {
	for _, im := range Implementations()[:1] {
		fmt.Println(im.Name)
	}
	// Output: generic
}
