//go:build !purego

package kernels

import "github.com/cogedge/cogedge/quant"

//go:noescape
func gemmQ8x4SDOT(y *float32, ldy int, w, s, a *byte, nb int)

// gemmSDOT installs the prefill micro-kernel of the dotprod tier for the
// 32-element types with Q8_0 activations: gemm.go's strip (16 weight rows)
// and group (8 activation rows) layouts, multiplied by SDOT by element in
// four passes of 8 rows × 4 activation rows, whose accumulators fit the 32
// vector registers. Q8_0 and IQ4_NL strips keep signed bytes (SDOT is
// signed × signed); Q4_0 and Q5_0 bytes with their offset stay below 128.
// CPUs with I8MM use it too: the strip layout interleaves 4 bytes per row,
// not the 8 an SMMLA operand takes.
func gemmSDOT(t *table, f Features) {
	if !f.ASIMD || !f.DotProd {
		return
	}
	for _, wt := range []quant.Type{quant.Q4_0, quant.Q5_0, quant.Q8_0, quant.IQ4_NL} {
		t.gemm[wt] = gemmPassesSDOT
	}
	t.gemmSigned[quant.Q8_0], t.gemmSigned[quant.IQ4_NL] = true, true
}

// gemmPassesSDOT is the gemmFn: four passes of gemmQ8x4SDOT (weight rows
// 8h..8h+7 × activation rows 4q..4q+3).
func gemmPassesSDOT(y []float32, ldy int, w, a []byte, nb int) {
	_ = y[(gemmCols-1)*ldy+gemmRows-1]
	if nb <= 0 {
		for c := 0; c < gemmCols; c++ {
			clear(y[c*ldy : c*ldy+gemmRows])
		}
		return
	}
	_ = w[nb*gemmStripBlock-1]
	_ = a[nb*gemmCols*gemmActBlock-1]
	for q := 0; q < 2; q++ {
		for h := 0; h < 2; h++ {
			gemmQ8x4SDOT(&y[4*q*ldy+8*h], ldy, &w[32*h], &w[512+16*h], &a[4*q*gemmActBlock], nb)
		}
	}
}
