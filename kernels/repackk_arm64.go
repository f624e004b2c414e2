//go:build !purego

package kernels

import "github.com/cogedge/cogedge/quant"

//go:noescape
func gemvQ4_Kx8SDOT(y *float32, w, x *byte, nb int)

//go:noescape
func gemvQ6_Kx8SDOT(y *float32, w, x *byte, nb int)

// packedKNEON installs the packed K-quant decode kernels where the CPU has
// SDOT (FEAT_DotProd); without it the packed layout is not worth a repack.
func packedKNEON(t *table, f Features) {
	if !f.ASIMD || !f.DotProd {
		return
	}
	t.gemvKx8[quant.Q4_K] = groupKernel(gemvQ4_Kx8SDOT, q4KPacked)
	t.gemvKx8[quant.Q6_K] = groupKernel(gemvQ6_Kx8SDOT, q6KPacked)
	t.packedKFast[quant.Q4_K], t.packedKFast[quant.Q6_K] = true, true
}
