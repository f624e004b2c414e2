//go:build !purego

package kernels

import "github.com/cogedge/cogedge/quant"

//go:noescape
func packQ8_0NEON(dst *byte, stride int, src *float32, nb int, negOffset int32)

// actPackNEON installs the quantize-and-pack kernel of the ASIMD tiers; it
// repeats kernels/neon's Q8_0 quantizer, which those tiers use for Q8_0.
func actPackNEON(t *table) {
	t.packQ8_0 = packQ8_0Asm(packQ8_0NEON)
	t.packQ8_0Fast = true
	actPackKNEON(t)
}

// actPackKNEON installs the K-quant quantize-and-pack: quantQ8_KNEON
// writing group slots, the blocks it leaves to the generic code (a NaN, a
// tie for the largest magnitude, an overflowing scale) done as the Q8_K
// quantizer does them, so the bytes are that quantizer's.
func actPackKNEON(t *table) {
	t.packQ8_K = func(dst []byte, stride int, src []float32, wt quant.Type) {
		nb := packBlocks(dst, stride, src, 256, gemmKActBlock)
		quantQ8_KRuns(dst, stride, src, nb, layoutK(wt), func(b int) {
			packQ8_KBlockGeneric(dst[b*stride:], src[b*256:(b+1)*256], wt)
		})
	}
	t.packQ8_KFast = true
}

// quantQ8_KRuns runs quantQ8_KNEON over nb blocks (dst checked by the
// caller), calling generic(b) for each block b the kernel stops at.
func quantQ8_KRuns(dst []byte, stride int, src []float32, nb, layout int, generic func(b int)) {
	for b := 0; b < nb; {
		b += quantQ8_KNEON(&dst[b*stride], &src[b*256], nb-b, stride, layout)
		if b < nb {
			generic(b)
			b++
		}
	}
}
