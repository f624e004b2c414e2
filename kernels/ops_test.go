package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// close32 reports |got-want| <= rel·|want| + abs.
func close32(got float32, want, rel, abs float64) bool {
	return math.Abs(float64(got)-want) <= rel*math.Abs(want)+abs
}

// TestElementwise checks each element-wise op against its float64 formula
// (tolerances: a few float32 roundings, 1e-6 relative).
func TestElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	a := randFloats(r, 1000, true)
	b := randFloats(r, 1000, false)
	a = append(a, 0, -0, 80, -80, 1e-30, -1e-30, 20, -20)
	b = append(b, 1, 2, 3, 4, 5, 6, 7, 8)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	for _, c := range []struct {
		name string
		op   func(dst []float32)
		want func(i int) float64
	}{
		{"Add", func(d []float32) { Add(d, a, b) }, func(i int) float64 { return float64(a[i]) + float64(b[i]) }},
		{"Mul", func(d []float32) { Mul(d, a, b) }, func(i int) float64 { return float64(a[i]) * float64(b[i]) }},
		{"Scale", func(d []float32) { copy(d, a); Scale(d, -0.125) }, func(i int) float64 { return float64(a[i]) * -0.125 }},
		{"GELU", func(d []float32) { GELU(d, a) }, func(i int) float64 {
			v := float64(a[i])
			return 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
		}},
		{"SiLU", func(d []float32) { SiLU(d, a) }, func(i int) float64 { v := float64(a[i]); return v * sig(v) }},
		{"SwiGLU", func(d []float32) { SwiGLU(d, a, b) }, func(i int) float64 { v := float64(a[i]); return v * sig(v) * float64(b[i]) }},
	} {
		dst := make([]float32, len(a))
		c.op(dst)
		for i := range a {
			if w := c.want(i); !close32(dst[i], w, 1e-6, 1e-37) {
				t.Errorf("%s(%g, %g) = %g, want %g", c.name, a[i], b[i], dst[i], w)
				break
			}
		}
	}
}

func TestNorms(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for _, n := range []int{1, 2, 64, 1792, 4096} {
		x := randFloats(r, n, true)
		for i := range x {
			x[i] += 3 // a non-zero mean for LayerNorm
		}
		wgt := randFloats(r, n, false)
		bias := randFloats(r, n, false)
		const eps = 1e-5
		var s, ss float64
		for _, v := range x {
			s += float64(v)
			ss += float64(v) * float64(v)
		}
		mean := s / float64(n)
		var vs float64
		for _, v := range x {
			vs += (float64(v) - mean) * (float64(v) - mean)
		}
		rms := 1 / math.Sqrt(ss/float64(n)+eps)
		ln := 1 / math.Sqrt(vs/float64(n)+eps)
		d1, d2 := make([]float32, n), make([]float32, n)
		RMSNorm(d1, x, wgt, eps)
		LayerNorm(d2, x, wgt, bias, eps)
		for i := range x {
			w1 := float64(x[i]) * rms * float64(wgt[i])
			w2 := (float64(x[i])-mean)*ln*float64(wgt[i]) + float64(bias[i])
			if !close32(d1[i], w1, 1e-6, 1e-30) {
				t.Fatalf("RMSNorm n=%d [%d] = %g want %g", n, i, d1[i], w1)
			}
			// LayerNorm: x-mean in float32 cancels; allow eps32 of |x|·scale.
			if !close32(d2[i], w2, 1e-6, 1e-6*math.Abs(float64(x[i])*ln*float64(wgt[i]))+1e-6*math.Abs(float64(bias[i]))) {
				t.Fatalf("LayerNorm n=%d [%d] = %g want %g", n, i, d2[i], w2)
			}
		}
		// in place
		RMSNorm(x, x, wgt, eps)
		for i := range x {
			if x[i] != d1[i] {
				t.Fatalf("RMSNorm in place differs at %d", i)
			}
		}
	}
}

func TestSoftmax(t *testing.T) {
	for _, x := range [][]float32{{0}, {1, 2, 3}, {-1000, 0, 1000}, {88, 88, 88, 88}, {-3.4e38, 3.4e38}} {
		in := append([]float32(nil), x...)
		Softmax(x)
		m := math.Inf(-1)
		for _, v := range in {
			m = math.Max(m, float64(v))
		}
		var s float64
		for _, v := range in {
			s += math.Exp(float64(v) - m)
		}
		for i, v := range in {
			if w := math.Exp(float64(v)-m) / s; !close32(x[i], w, 1e-6, 1e-38) {
				t.Errorf("softmax(%v)[%d] = %g want %g", in, i, x[i], w)
			}
		}
	}
	Softmax(nil)
}

func TestRoPENeoX(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, c := range []struct {
		heads, dim int
		pos        float32
	}{{1, 2, 0}, {2, 8, 1}, {32, 128, 1234}, {3, 64, 7}} {
		x := randFloats(r, c.heads*c.dim, false)
		orig := append([]float32(nil), x...)
		RoPENeoX(x, c.heads, c.dim, c.pos, 10000)
		half := c.dim / 2
		for h := 0; h < c.heads; h++ {
			for i := 0; i < half; i++ {
				inv := 1 / math.Pow(10000, float64(2*i)/float64(c.dim))
				th := float64(c.pos) * inv
				a, b := float64(orig[h*c.dim+i]), float64(orig[h*c.dim+i+half])
				w0 := a*math.Cos(th) - b*math.Sin(th)
				w1 := b*math.Cos(th) + a*math.Sin(th)
				// float32 angle: error up to pos·2⁻²⁴ rad on each factor.
				tol := 4e-7 * (1 + float64(c.pos)) * (math.Abs(a) + math.Abs(b))
				if !close32(x[h*c.dim+i], w0, 0, tol) || !close32(x[h*c.dim+i+half], w1, 0, tol) {
					t.Fatalf("%+v head %d pair %d: got (%g,%g) want (%g,%g)", c, h, i, x[h*c.dim+i], x[h*c.dim+i+half], w0, w1)
				}
			}
		}
	}
}

// TestAddTwin: every implementation of Add equals the generic loop bit for
// bit (one rounding per element either way), NaNs, infinities, signed zeros
// and subnormals included, over lengths around the vector widths (the
// assembly takes a multiple of 8, 16 or 64, the twin the rest), starts off
// any vector alignment, and in place over either operand; elements past the
// end stay untouched.
func TestAddTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	const size = 300
	a, b := randFloats(r, size, true), randFloats(r, size, true)
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.Copysign(0, -1)), 0, 1e-45, -3e-39, 3e38, -3e38}
	for i := 0; i < size; i += 7 {
		a[i] = specials[i%len(specials)]
		b[(i*3)%size] = specials[(i/7)%len(specials)]
	}
	want := make([]float32, size)
	addGeneric(want, a, b)
	const guard = -777.5
	same := func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) || (x != x && y != y) }
	withFeatures(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 127, 128, 129, size - 3} {
			for _, off := range []int{0, 1, 3} {
				x, y := a[off:off+n], b[off:off+n]
				dst := make([]float32, n+off+5)
				for i := range dst {
					dst[i] = guard
				}
				Add(dst[off:off+n], x, y)
				inA := append([]float32(nil), x...)
				Add(inA, inA, y)
				inB := append([]float32(nil), y...)
				Add(inB, x, inB)
				for i := 0; i < n; i++ {
					w := want[off+i]
					if !same(dst[off+i], w) || !same(inA[i], w) || !same(inB[i], w) {
						t.Fatalf("n=%d off=%d [%d]: %g + %g = %g (in place %g, %g), generic %g",
							n, off, i, x[i], y[i], dst[off+i], inA[i], inB[i], w)
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
