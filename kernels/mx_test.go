package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// mxRowDot is the reference for one output of a GEMM that takes power-of-two
// activation scales (table.gemmMX): weight row wi (nb blocks of wt) times
// the float row x quantized as packActRowMX does, in float64, with the
// bound of the kernel's float32 accumulation (as dotTolerance: one rounding
// per block, relative to the sum of the blocks' magnitudes).
func mxRowDot(t testing.TB, wt quant.Type, wi []byte, x []float32, nb int) (want, tol float64) {
	t.Helper()
	wf := make([]float32, nb*32)
	if err := quant.Dequantize(wt, wf, wi); err != nil {
		t.Fatal(err)
	}
	g := make([]byte, nb*gemmCols*gemmActBlock)
	packActRowMX(g, gemmCols*gemmActBlock, x, 0)
	var mag float64
	for b := 0; b < nb; b++ {
		o := g[b*gemmCols*gemmActBlock:]
		s := float64(pow2f(math.Float32frombits(uint32(o[32]) | uint32(o[33])<<8 | uint32(o[34])<<16 | uint32(o[35])<<24)))
		for i := 0; i < 32; i++ {
			p := float64(wf[b*32+i]) * float64(int8(o[i])) * s
			want += p
			mag += math.Abs(p)
		}
	}
	return want, 2*float64(nb+8)*0x1p-24*mag + 1e-30
}

// TestPackActRowMX checks the power-of-two quantizer on random, scaled,
// zero, tiny, huge and non-finite blocks: the exponent is the least that
// keeps every quant within ±127 (so the largest has magnitude 64..127)
// unless capped, each quant is x·2^−e rounded half to even, the correction
// is −offset·Σq, and a NaN or infinity makes the scale NaN.
func TestPackActRowMX(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	blocks := [][]float32{}
	for _, scale := range []float64{1, 1e-3, 1e3, 3e-20, 1e20, 1e-35, 1e35} {
		b := make([]float32, 32)
		for i := range b {
			b[i] = float32(r.NormFloat64() * scale)
		}
		blocks = append(blocks, b)
	}
	edge := func(f func(b []float32)) {
		b := make([]float32, 32)
		f(b)
		blocks = append(blocks, b)
	}
	edge(func(b []float32) {})                                     // all zero
	edge(func(b []float32) { b[3] = 127.5; b[4] = -0.5 })          // 127.5·2^0 rounds past 127: e = 1
	edge(func(b []float32) { b[3] = 127.49998; b[4] = 0.5 })       // stays at e = 0; 0.5 rounds to 0
	edge(func(b []float32) { b[0] = 64; b[1] = 1.5; b[2] = -2.5 }) // ties to even
	edge(func(b []float32) { b[5] = 1e-45 })                       // subnormal: e capped at mxMinExp
	edge(func(b []float32) { b[5] = math.MaxFloat32 })             // e capped at mxMaxExp, saturates
	edge(func(b []float32) { b[7] = float32(math.NaN()) })
	edge(func(b []float32) { b[7] = float32(math.Inf(-1)) })
	x := make([]float32, 0, 32*len(blocks))
	for _, b := range blocks {
		x = append(x, b...)
	}
	nb := len(blocks)
	const slot, offset = 5, 8
	g := make([]byte, nb*gemmCols*gemmActBlock)
	packActRowMX(g[slot*gemmActBlock:], gemmCols*gemmActBlock, x, offset)
	for b, xb := range blocks {
		o := g[(b*gemmCols+slot)*gemmActBlock:]
		e := math.Float32frombits(uint32(o[32]) | uint32(o[33])<<8 | uint32(o[34])<<16 | uint32(o[35])<<24)
		corr := int32(uint32(o[36]) | uint32(o[37])<<8 | uint32(o[38])<<16 | uint32(o[39])<<24)
		finite, amax := true, 0.0
		for _, v := range xb {
			finite = finite && !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		if !finite {
			if !math.IsNaN(float64(e)) || corr != 0 {
				t.Fatalf("block %d (non-finite): exponent %g, correction %d; want NaN, 0", b, e, corr)
			}
			continue
		}
		if e != float32(int(e)) || e < mxMinExp || e > mxMaxExp {
			t.Fatalf("block %d: exponent %g not an integer in [%d, %d]", b, e, mxMinExp, mxMaxExp)
		}
		ie := int(e)
		if amax != 0 {
			// least e: amax·2^−e < 127.5 ≤ amax·2^−(e−1), unless capped
			if !(amax*math.Ldexp(1, -ie) < 127.5 || ie == mxMaxExp) || !(amax*math.Ldexp(1, -(ie-1)) >= 127.5 || ie == mxMinExp) {
				t.Fatalf("block %d: max |x| %g, exponent %d is not the least that fits", b, amax, ie)
			}
		}
		var sum int32
		for i, v := range xb {
			want := math.RoundToEven(float64(v) * math.Ldexp(1, -ie))
			want = math.Max(-127, math.Min(127, want))
			if got := int8(o[i]); float64(got) != want {
				t.Fatalf("block %d element %d: x %g, e %d: quant %d, want %g", b, i, v, ie, got, want)
			}
			sum += int32(int8(o[i]))
		}
		if corr != -offset*sum {
			t.Fatalf("block %d: correction %d, want %d", b, corr, -offset*sum)
		}
	}
}

// TestGEMMStripMX checks the power-of-two-scale path: its twin
// (gemmStripGenericMX) against the float64 products of the quantized
// operands (mxRowDot), and the architecture's kernel, where it has one,
// against the twin bit for bit — on random, mixed-scale and padded tiles.
func TestGEMMStripMX(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(23, 24))
		for _, wt := range mxActivationTypes {
			for _, sh := range []struct{ nb, rows, cols int }{{1, 16, 8}, {2, 16, 8}, {5, 13, 3}, {8, 16, 8}, {3, 1, 1}, {40, 16, 8}} {
				bs := wt.TypeSize()
				w := randWeights(r, wt, sh.rows*sh.nb, scaleMixed)
				strip := make([]byte, sh.nb*gemmStripBlock)
				off := gemmOffset(wt)
				packStrip(wt, strip, w, sh.nb*bs, sh.rows, sh.nb, false)
				group := make([]byte, sh.nb*gemmCols*gemmActBlock)
				xs := make([][]float32, sh.cols)
				for c := range xs {
					xs[c] = randFloats(r, sh.nb*32, c%2 == 1)
					packActRowMX(group[c*gemmActBlock:], gemmCols*gemmActBlock, xs[c], off)
				}
				want := make([]float32, gemmCols*gemmRows)
				gemmStripGenericMX(want, gemmRows, strip, group, sh.nb)
				for c := 0; c < gemmCols; c++ {
					for i := 0; i < gemmRows; i++ {
						got := want[c*gemmRows+i]
						if i >= sh.rows || c >= sh.cols {
							if got != 0 {
								t.Fatalf("%v %+v: padding output [%d,%d] = %g", wt, sh, c, i, got)
							}
							continue
						}
						ref, tol := mxRowDot(t, wt, w[i*sh.nb*bs:(i+1)*sh.nb*bs], xs[c], sh.nb)
						if math.Abs(float64(got)-ref) > tol {
							t.Fatalf("%v %+v: twin [%d,%d] = %g, float64 %g (tol %g)", wt, sh, c, i, got, ref, tol)
						}
					}
				}
				if !impl.gemmMX[wt] {
					continue
				}
				got := make([]float32, gemmCols*gemmRows+1)
				got[len(got)-1] = 42
				impl.gemm[wt](got[:gemmCols*gemmRows], gemmRows, unaligned(strip, 1), unaligned(group, 3), sh.nb)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v %+v: kernel y[%d] = %g, twin %g", wt, sh, i, got[i], want[i])
					}
				}
				if got[len(got)-1] != 42 {
					t.Fatalf("%v %+v: kernel wrote past its tile", wt, sh)
				}
			}
		}
	})
}

// TestMXActivationError measures what power-of-two activation scales cost
// in accuracy where they are used: Q4_0 weights, activations with outlier
// channels (as language-model hidden states have), k = 4096. The error the
// activations' rounding adds to a product, against the exact float
// activations, is about 1.5–1.8× Q8_0's (the rounding step is up to 2×
// larger); both are small next to the weights' own rounding, so the total
// error against the float weights the 4-bit ones stand for moves by under
// 2 %. An exponent one too large (step 2× larger) would push the first
// ratio near 3.5, and is caught.
func TestMXActivationError(t *testing.T) {
	gen := genericImpl()
	r := rand.New(rand.NewPCG(9, 9))
	const k, trials = 4096, 300
	nb := k / 32
	var actQ8, actMX, totQ8, totMX float64
	wf := make([]float32, k)
	wq := make([]byte, nb*18)
	wd := make([]float32, k)
	xa := make([]byte, nb*q8_0Bytes)
	g := make([]byte, nb*gemmCols*gemmActBlock)
	for trial := 0; trial < trials; trial++ {
		for i := range wf {
			wf[i] = float32(r.NormFloat64() * 0.02)
		}
		if err := quant.Quantize(quant.Q4_0, wq, wf); err != nil {
			t.Fatal(err)
		}
		if err := quant.Dequantize(quant.Q4_0, wd, wq); err != nil {
			t.Fatal(err)
		}
		x := randOutlierRow(r, k)
		var exactFloat, exactQ4 float64 // float and 4-bit weights, float activations
		for i := range x {
			exactFloat += float64(wf[i]) * float64(x[i])
			exactQ4 += float64(wd[i]) * float64(x[i])
		}
		gen.quantQ8_0(xa, x)
		q8 := float64(gen.qdot[quant.Q4_0](wq, xa, nb))
		packActRowMX(g, gemmCols*gemmActBlock, x, 0)
		mx, _ := mxRowDot(t, quant.Q4_0, wq, x, nb)
		actQ8 += (q8 - exactQ4) * (q8 - exactQ4)
		actMX += (mx - exactQ4) * (mx - exactQ4)
		totQ8 += (q8 - exactFloat) * (q8 - exactFloat)
		totMX += (mx - exactFloat) * (mx - exactFloat)
	}
	actRatio := math.Sqrt(actMX / actQ8)
	totRatio := math.Sqrt(totMX / totQ8)
	t.Logf("RMS error from the activations' rounding: Q8_0 %.4g, MX %.4g (×%.2f); total against float weights: Q8_0 %.4g, MX %.4g (×%.4f)",
		math.Sqrt(actQ8/trials), math.Sqrt(actMX/trials), actRatio, math.Sqrt(totQ8/trials), math.Sqrt(totMX/trials), totRatio)
	if actRatio < 1.2 || actRatio > 2.2 {
		t.Errorf("MX activation error is %.2f× Q8_0's, want 1.2–2.2× (step 1–2× larger)", actRatio)
	}
	if totRatio > 1.02 {
		t.Errorf("MX moves the total error by ×%.4f, want ≤ 1.02", totRatio)
	}
}

// randOutlierRow returns a normal row with every 512th channel 30× larger,
// the shape of a language model's hidden state.
func randOutlierRow(r *rand.Rand, k int) []float32 {
	x := make([]float32, k)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		if i%512 == 7 {
			x[i] *= 30
		}
	}
	return x
}

// TestPackActRowMXTwin checks each implementation's MX activation packing
// against the Go code bit for bit: random rows at many scales, rows with
// zero, tiny, huge, tie-rounding and non-finite blocks, every slot, odd
// block counts, and that nothing outside the row's slots is written.
func TestPackActRowMXTwin(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for trial := 0; trial < 60; trial++ {
			nb := 1 + r.IntN(9)
			x := make([]float32, nb*32)
			for i := range x {
				x[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20)))
				switch r.IntN(40) {
				case 0:
					x[i] = 0
				case 1:
					x[i] = float32(math.Inf(1 - 2*r.IntN(2)))
				case 2:
					x[i] = float32(math.NaN())
				case 3:
					x[i] = float32(r.IntN(255)-127) + 0.5 // ties
				case 4:
					x[i] = math.Float32frombits(r.Uint32() & 0x807fffff) // subnormal
				case 5:
					x[i] = math.MaxFloat32 * float32(1-2*r.IntN(2))
				}
			}
			if trial%3 == 0 { // whole blocks of one kind
				b := r.IntN(nb)
				v := []float32{0, 127.5, -64, 1e-40}[r.IntN(4)]
				for i := 0; i < 32; i++ {
					x[b*32+i] = v * float32(i%3-1)
				}
			}
			slot := r.IntN(gemmCols)
			off := int32([]int{0, 8, 16, 128}[r.IntN(4)])
			want := make([]byte, nb*gemmCols*gemmActBlock)
			got := make([]byte, len(want))
			for i := range want {
				want[i], got[i] = 0xA5, 0xA5
			}
			packActRowMX(want[slot*gemmActBlock:], gemmCols*gemmActBlock, x, off)
			impl.packMX(got[slot*gemmActBlock:], gemmCols*gemmActBlock, x, off)
			for i := range want {
				if got[i] != want[i] {
					b, o := i/(gemmCols*gemmActBlock), i%gemmActBlock
					t.Fatalf("trial %d nb %d slot %d: byte %d (block %d, slot byte %d) = %#x, want %#x; block %v",
						trial, nb, slot, i, b, o, got[i], want[i], x[b*32:b*32+32])
				}
			}
		}
	})
}
