package neon

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// TestDotMatchesGeneric runs every dot under every tier the CPU has against
// its generic twin on seeded random and adversarial blocks: the integer parts
// are exact and the float order is the same, so results must agree bit for bit.
func TestDotMatchesGeneric(t *testing.T) {
	for _, k := range kernelsUnderTest {
		t.Run(k.name, func(t *testing.T) {
			forTiers(t, false, func(t *testing.T) {
				r := rand.New(rand.NewPCG(1, uint64(k.wt)))
				n := cases(t, 3000)
				if k.wt.BlockSize() == 256 {
					n /= 3
				}
				for i := 0; i < n; i++ {
					nb := nbs[i%len(nbs)]
					if i%5 == 4 {
						nb = 1 + r.IntN(40)
					}
					w := unaligned(r, randBlocks(r, k.wt, nb, true))
					x := unaligned(r, randBlocks(r, k.xt, nb, true))
					got, want := k.fn(w, x, nb), k.generic(w, x, nb)
					if !sameFloat(got, want) {
						t.Fatalf("case %d nb=%d: got %g (%#08x), generic %g (%#08x)", i, nb, got, math.Float32bits(got), want, math.Float32bits(want))
					}
				}
			})
		})
	}
}

// TestDotZeroAndShort checks nb <= 0 and the panic on short slices.
func TestDotZeroAndShort(t *testing.T) {
	for _, k := range kernelsUnderTest {
		if got := k.fn(nil, nil, 0); got != 0 {
			t.Errorf("%s: nb=0 gave %g", k.name, got)
		}
		for _, tc := range []struct {
			name     string
			wl, xl   int
			nb       int
			wantFail bool
		}{
			{"exact", 2 * k.wB, 2 * k.xB, 2, false},
			{"short w", 2*k.wB - 1, 2 * k.xB, 2, true},
			{"short x", 2 * k.wB, 2*k.xB - 1, 2, true},
			{"huge nb", 2 * k.wB, 2 * k.xB, math.MaxInt / 4, true},
		} {
			func() {
				defer func() {
					if p := recover(); (p != nil) != tc.wantFail {
						t.Errorf("%s %s: panic = %v, want panic %v", k.name, tc.name, p, tc.wantFail)
					}
				}()
				k.fn(make([]byte, tc.wl), make([]byte, tc.xl), tc.nb)
			}()
		}
	}
}

// TestDot2x2 compares the SMMLA tiles with four single dots (bit for bit by
// construction) under every tier.
func TestDot2x2(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fn     func(*[4]float32, []byte, []byte, []byte, []byte, int)
		single func(w, x []byte, nb int) float32
		wt     quant.Type
	}{
		{"Q4_0", Dot2x2Q4_0Q8_0, dotQ4_0Q8_0Generic, quant.Q4_0},
		{"Q8_0", Dot2x2Q8_0Q8_0, dotQ8_0Q8_0Generic, quant.Q8_0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachTier(t, func(t *testing.T) {
				r := rand.New(rand.NewPCG(2, uint64(tc.wt)))
				for i := 0; i < cases(t, 2000); i++ {
					nb := nbs[i%len(nbs)]
					w0 := unaligned(r, randBlocks(r, tc.wt, nb, true))
					w1 := unaligned(r, randBlocks(r, tc.wt, nb, true))
					x0 := unaligned(r, randBlocks(r, quant.Q8_0, nb, true))
					x1 := unaligned(r, randBlocks(r, quant.Q8_0, nb, true))
					var out [4]float32
					tc.fn(&out, w0, w1, x0, x1, nb)
					want := [4]float32{tc.single(w0, x0, nb), tc.single(w1, x0, nb), tc.single(w0, x1, nb), tc.single(w1, x1, nb)}
					for j := range out {
						if !sameFloat(out[j], want[j]) {
							t.Fatalf("case %d nb=%d out[%d] = %g, single dot %g", i, nb, j, out[j], want[j])
						}
					}
				}
			})
		})
	}
}

// dequantAct dequantizes activation blocks (Q8_0, Q8_1, Q8_K) directly from
// the layout in gguf-quant.md §4.
func dequantAct(typ quant.Type, b []byte, nb int) []float64 {
	var out []float64
	for k := 0; k < nb; k++ {
		switch typ {
		case quant.Q8_0, quant.Q8_1:
			size, qs := 34, 2
			if typ == quant.Q8_1 {
				size, qs = 36, 4
			}
			blk := b[k*size:]
			d := float64(quant.FP16ToFP32(binary.LittleEndian.Uint16(blk)))
			for j := 0; j < 32; j++ {
				out = append(out, d*float64(int8(blk[qs+j])))
			}
		case quant.Q8_K:
			blk := b[k*292:]
			d := float64(math.Float32frombits(binary.LittleEndian.Uint32(blk)))
			for j := 0; j < 256; j++ {
				out = append(out, d*float64(int8(blk[4+j])))
			}
		}
	}
	return out
}

// TestGenericAgainstDequant checks the generic twins (and so every tier)
// against an independent oracle: the quant package's dequantizer for the
// weights, and a float64 dot. Realistic data: finite scales, Q8_1 s and Q8_K
// bsums made consistent by quantizing real floats.
func TestGenericAgainstDequant(t *testing.T) {
	for _, k := range kernelsUnderTest {
		t.Run(k.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, uint64(k.wt)))
			n := cases(t, 200)
			if k.wt.BlockSize() == 256 {
				n = cases(t, 40) // the K-quant reference quantizers are slow under qemu
			}
			for i := 0; i < n; i++ {
				nb := nbs[i%len(nbs)]
				n := nb * k.wt.BlockSize()
				wf := make([]float32, n)
				xf := make([]float32, n)
				for j := range wf {
					wf[j] = float32(r.NormFloat64())
					xf[j] = float32(r.NormFloat64())
				}
				w := make([]byte, nb*k.wB)
				x := make([]byte, nb*k.xB)
				if err := quant.Quantize(k.wt, w, wf); err != nil {
					t.Fatalf("quant.Quantize(%v): %v", k.wt, err)
				}
				switch k.xt {
				case quant.Q8_0:
					QuantizeQ8_0(x, xf)
				case quant.Q8_1:
					quant.QuantizeQ8_1(x, xf)
				case quant.Q8_K:
					quant.QuantizeQ8_K(x, xf)
				}
				wd := make([]float32, n)
				if err := quant.Dequantize(k.wt, wd, w); err != nil {
					t.Fatalf("quant.Dequantize(%v): %v", k.wt, err)
				}
				xd := dequantAct(k.xt, x, nb)
				var want, mag float64
				for j := range wd {
					want += float64(wd[j]) * xd[j]
					mag += math.Abs(float64(wd[j]) * xd[j])
				}
				if k.xt == quant.Q8_1 {
					// ggml uses the stored s (fp16 of d·Σq) for the m term, not Σ m·x.
					want = 0
					for b := 0; b < nb; b++ {
						wb, xb := w[b*k.wB:], x[b*k.xB:]
						m := float64(quant.FP16ToFP32(binary.LittleEndian.Uint16(wb[2:])))
						s := float64(quant.FP16ToFP32(binary.LittleEndian.Uint16(xb[2:])))
						want += m * s
						for j := 0; j < 32; j++ {
							want += (float64(wd[32*b+j]) - m) * xd[32*b+j]
						}
					}
				}
				got := float64(k.generic(w, x, nb))
				if tol := 2e-6*mag + 1e-30; math.Abs(got-want) > tol {
					t.Fatalf("case %d nb=%d: generic %g, float64 oracle %g (|diff| %g > %g)", i, nb, got, want, math.Abs(got-want), tol)
				}
			}
		})
	}
}
