package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

var floatTypes = []quant.Type{quant.F32, quant.F16, quant.BF16}

// matmulShapes: odd row counts, rows not a multiple of the 4-row kernel or
// the tile, n = 1 (decode) and n above one activation tile; the last ones
// reach the prefill GEMM micro-kernel (n ≥ gemmMinN) with partial weight
// strips (rows % 16) and partial activation groups (n % 8).
var matmulShapes = []struct{ rows, kBlocks, n int }{
	{1, 1, 1}, {3, 2, 1}, {5, 3, 2}, {33, 2, 1}, {67, 1, 3}, {130, 2, 7}, {9, 1, 70}, {300, 1, 1},
	{16, 3, 8}, {16, 3, 17}, {37, 5, 19}, {64, 2, 16}, {33, 4, 21},
}

// TestMatMulQuant compares MatMul with per-element generic dots over the
// generic-quantized activations, for every quantized type, thread count
// and implementation.
func TestMatMulQuant(t *testing.T) {
	gen := genericImpl()
	withFeatures(t, func(t *testing.T) {
		for _, threads := range []int{1, 2, 3} {
			p := NewPool(threads)
			defer p.Close()
			for _, wt := range quantTypes {
				act := actOf(wt)
				r := rand.New(rand.NewPCG(uint64(wt), uint64(threads)))
				for _, sh := range matmulShapes {
					k := sh.kBlocks * wt.BlockSize()
					nb := k / wt.BlockSize()
					rs := nb * wt.TypeSize()
					w := randWeights(r, wt, sh.rows*nb, scaleMixed)
					x := randFloats(r, sh.n*k, true)
					y := make([]float32, sh.n*sh.rows+1)
					y[len(y)-1] = 42
					p.MatMul(y[:sh.n*sh.rows], unaligned(w, 1), wt, sh.rows, k, x, sh.n)
					if y[len(y)-1] != 42 {
						t.Fatalf("%v: wrote past y", wt)
					}
					mx := impl.gemmMX[wt] && sh.n >= gemmMinN // the GEMM's power-of-two activation scales
					for j := 0; j < sh.n; j++ {
						xa := actBytes(act, x[j*k:(j+1)*k])
						for i := 0; i < sh.rows; i++ {
							wi := w[i*rs : (i+1)*rs]
							want, tol := float64(gen.qdot[wt](wi, xa, nb)), dotTolerance(wt, wi, xa, nb)
							if mx {
								want, tol = mxRowDot(t, wt, wi, x[j*k:(j+1)*k], nb)
							}
							got := y[j*sh.rows+i]
							if math.Abs(float64(got)-want) > tol {
								t.Fatalf("t%d %v %dx%d n=%d: y[%d,%d]=%g want %g (tol %g)", threads, wt, sh.rows, k, sh.n, j, i, got, want, tol)
							}
						}
					}
				}
			}
		}
	})
}

// TestMatMulFloat checks F32/F16/BF16 weights against float64 products;
// the later shapes cover the float micro-kernels with row, column and k
// tails.
func TestMatMulFloat(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		p := NewPool(2)
		defer p.Close()
		for _, wt := range floatTypes {
			r := rand.New(rand.NewPCG(uint64(wt), 5))
			for _, sh := range []struct{ rows, k, n int }{{1, 1, 1}, {3, 7, 2}, {17, 33, 5}, {70, 128, 3}, {5, 4096, 1}, {37, 100, 11}, {64, 272, 12}, {9, 16, 10}, {130, 48, 66}} {
				wf := randFloats(r, sh.rows*sh.k, false)
				w := make([]byte, 0, len(wf)*4)
				for i, v := range wf {
					switch wt {
					case quant.F32:
						w = binary.LittleEndian.AppendUint32(w, math.Float32bits(v))
					case quant.F16:
						h := quant.FP32ToFP16(v)
						w = binary.LittleEndian.AppendUint16(w, h)
						wf[i] = quant.FP16ToFP32(h)
					case quant.BF16:
						h := quant.FP32ToBF16(v)
						w = binary.LittleEndian.AppendUint16(w, h)
						wf[i] = quant.BF16ToFP32(h)
					}
				}
				x := randFloats(r, sh.n*sh.k, true)
				y := make([]float32, sh.n*sh.rows)
				p.MatMul(y, unaligned(w, 2), wt, sh.rows, sh.k, x, sh.n)
				for j := 0; j < sh.n; j++ {
					for i := 0; i < sh.rows; i++ {
						var want, mag float64
						for e := 0; e < sh.k; e++ {
							pr := float64(wf[i*sh.k+e]) * float64(x[j*sh.k+e])
							want += pr
							mag += math.Abs(pr)
						}
						if got := y[j*sh.rows+i]; math.Abs(float64(got)-want) > 2*float64(sh.k+1)*0x1p-24*mag+1e-30 {
							t.Fatalf("%v %dx%d n=%d: y[%d,%d]=%g want %g", wt, sh.rows, sh.k, sh.n, j, i, got, want)
						}
					}
				}
			}
		}
	})
}

// TestMatMulPanics: unsupported types and short slices are programming
// errors reported with a panic naming the problem.
func TestMatMulPanics(t *testing.T) {
	p := NewPool(1)
	defer p.Close()
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"type without kernel", func() { p.MatMul(make([]float32, 1), make([]byte, 84), quant.Q2_K, 1, 256, make([]float32, 256), 1) }},
		{"k not a block multiple", func() { p.MatMul(make([]float32, 1), make([]byte, 18), quant.Q4_0, 1, 31, make([]float32, 31), 1) }},
		{"short weights", func() { p.MatMul(make([]float32, 2), make([]byte, 18), quant.Q4_0, 2, 32, make([]float32, 32), 1) }},
		{"short x", func() { p.MatMul(make([]float32, 2), make([]byte, 36), quant.Q4_0, 2, 32, make([]float32, 31), 1) }},
		{"short y", func() { p.MatMul(make([]float32, 1), make([]byte, 36), quant.Q4_0, 2, 32, make([]float32, 32), 1) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			c.f()
		}()
	}
}

// TestMatMulZeroK: an empty inner dimension gives zeros on every path
// (prefill GEMM, decode, float kernels) instead of a panic.
func TestMatMulZeroK(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		p := NewPool(2)
		defer p.Close()
		for _, wt := range append(append([]quant.Type{}, quantTypes...), floatTypes...) {
			for _, n := range []int{1, 5, 17} {
				y := make([]float32, n*20)
				for i := range y {
					y[i] = 7
				}
				p.MatMul(y, nil, wt, 20, 0, nil, n)
				for i, v := range y {
					if v != 0 {
						t.Fatalf("%v n=%d: y[%d]=%g, want 0", wt, n, i, v)
					}
				}
			}
		}
	})
}

// TestMatMulNoAllocs: steady-state calls allocate nothing.
func TestMatMulNoAllocs(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	r := rand.New(rand.NewPCG(3, 3))
	w := randWeights(r, quant.Q4_0, 64*4, scaleNormal)
	x := randFloats(r, 8*128, false)
	y := make([]float32, 8*64)
	for _, n := range []int{1, 8} {
		p.MatMul(y, w, quant.Q4_0, 64, 128, x, n)
		if a := testing.AllocsPerRun(20, func() { p.MatMul(y, w, quant.Q4_0, 64, 128, x, n) }); a != 0 {
			t.Errorf("n=%d: %v allocations per call", n, a)
		}
	}
}

// FuzzMatMul compares MatMul on every implementation with per-element
// generic dots for a random weight type and shape; n reaches the prefill
// GEMM kernels, rows and n have tails of any size.
func FuzzMatMul(f *testing.F) {
	f.Add(uint64(1), uint8(0), uint8(17), uint8(2), uint8(9))
	f.Add(uint64(2), uint8(4), uint8(16), uint8(1), uint8(8))
	f.Add(uint64(3), uint8(6), uint8(33), uint8(3), uint8(23))
	f.Add(uint64(4), uint8(8), uint8(5), uint8(1), uint8(40))
	gen := genericImpl()
	f.Fuzz(func(t *testing.T, seed uint64, ti, rows8, kb8, n8 uint8) {
		wt := quantTypes[int(ti)%len(quantTypes)]
		rows, nb, n := int(rows8%48)+1, int(kb8%4)+1, int(n8%40)+1
		k := nb * wt.BlockSize()
		r := rand.New(rand.NewPCG(seed, uint64(ti)))
		w := randWeights(r, wt, rows*nb, scaleMode(seed%4))
		x := randFloats(r, n*k, seed%2 == 0)
		act, rs := actOf(wt), nb*wt.TypeSize()
		for _, im := range Implementations() {
			prev := SetFeatures(im.Features)
			p := NewPool(2)
			y := make([]float32, n*rows)
			p.MatMul(y, w, wt, rows, k, x, n)
			p.Close()
			SetFeatures(prev)
			for j := 0; j < n; j++ {
				xa := actBytes(act, x[j*k:(j+1)*k])
				for i := 0; i < rows; i++ {
					wi := w[i*rs : (i+1)*rs]
					want := gen.qdot[wt](wi, xa, nb)
					if tol := dotTolerance(wt, wi, xa, nb); math.Abs(float64(y[j*rows+i])-float64(want)) > tol {
						t.Fatalf("%s %v rows=%d k=%d n=%d: y[%d,%d]=%g want %g (tol %g)", im.Name, wt, rows, k, n, j, i, y[j*rows+i], want, tol)
					}
				}
			}
		}
	})
}
