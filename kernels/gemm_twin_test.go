package kernels

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// TestGEMMStripTwin checks the prefill micro-kernel's twin and, on arm64,
// the kernel. gemmStripGeneric on a strip and group built by packStrip and
// the active table.packQ8_0
// (Q4_0, Q5_0 unsigned with their offset; Q8_0, IQ4_NL signed) must give
// every output within dotTolerance of the generic row dot on the file layout, zero for the padding rows and columns; on arm64 the active
// kernel (impl.gemm) must equal the twin bit for bit.
func TestGEMMStripTwin(t *testing.T) {
	gen := genericImpl()
	withFeatures(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 22))
		for _, wt := range []quant.Type{quant.Q4_0, quant.Q5_0, quant.Q8_0, quant.IQ4_NL} {
			for _, sh := range []struct{ nb, rows, cols int }{{1, 16, 8}, {2, 16, 8}, {5, 13, 3}, {8, 16, 8}, {3, 1, 1}} {
				bs := wt.TypeSize()
				w := randWeights(r, wt, sh.rows*sh.nb, scaleMixed)
				// the twin's conventions: Q4_0 and Q5_0 with their offset,
				// Q8_0 and IQ4_NL signed (with offset 128 they leave int8)
				signed := wt == quant.Q8_0 || wt == quant.IQ4_NL
				off := gemmOffset(wt)
				if signed {
					off = 0
				}
				strip := make([]byte, sh.nb*gemmStripBlock)
				packStrip(wt, strip, w, sh.nb*bs, sh.rows, sh.nb, signed)
				group := make([]byte, sh.nb*gemmCols*gemmActBlock)
				acts := make([][]byte, sh.cols)
				for c := range acts {
					// the group through the implementation's
					// quantize-and-pack, the row dots on its Q8_0 row
					x := randFloats(r, sh.nb*32, true)
					acts[c] = make([]byte, sh.nb*q8_0Bytes)
					QuantizeActivations(quant.Q8_0, acts[c], x)
					impl.packQ8_0(group[c*gemmActBlock:], gemmCols*gemmActBlock, x, off)
				}
				want := make([]float32, gemmCols*gemmRows)
				gemmStripGeneric(want, gemmRows, strip, group, sh.nb)
				for c := 0; c < gemmCols; c++ {
					for i := 0; i < gemmRows; i++ {
						got := want[c*gemmRows+i]
						if i >= sh.rows || c >= sh.cols {
							if got != 0 {
								t.Fatalf("%v %+v: padding output [%d,%d] = %g", wt, sh, c, i, got)
							}
							continue
						}
						wi := w[i*sh.nb*bs : (i+1)*sh.nb*bs]
						ref := gen.qdot[wt](wi, acts[c], sh.nb)
						if tol := dotTolerance(wt, wi, acts[c], sh.nb); math.Abs(float64(got)-float64(ref)) > tol {
							t.Fatalf("%v %+v signed=%v: twin [%d,%d] = %g, row dot %g (tol %g)", wt, sh, signed, c, i, got, ref, tol)
						}
					}
				}
				kern := impl.gemm[wt]
				if runtime.GOARCH != "arm64" || kern == nil || signed != impl.gemmSigned[wt] {
					continue
				}
				got := make([]float32, gemmCols*gemmRows+1)
				got[len(got)-1] = 42
				kern(got[:gemmCols*gemmRows], gemmRows, unaligned(strip, 1), unaligned(group, 3), sh.nb)
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
