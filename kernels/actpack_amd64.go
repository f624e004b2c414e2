//go:build !purego

package kernels

import "github.com/cogedge/cogedge/quant"

// packQ8_0AVX2 is in dot_amd64.s, beside quantQ8_0AVX2 (q8_0_amd64.h).
//
//go:noescape
func packQ8_0AVX2(dst *byte, stride int, src *float32, nb int, negOffset int32)

// actPackAVX2 installs the quantize-and-pack kernel; it repeats
// quantQ8_0AVX2, which every amd64 assembly tier uses for Q8_0.
func actPackAVX2(t *table) {
	t.packQ8_0 = packQ8_0Asm(packQ8_0AVX2)
	t.packQ8_0Fast = true
}

// actPackKAVX2 installs the K-quant quantize-and-pack: quantQ8_KAVX2
// (dot2_amd64.s) writing group slots, so the quants, d and sums are that
// quantizer's for every input.
func actPackKAVX2(t *table) {
	t.packQ8_K = func(dst []byte, stride int, src []float32, wt quant.Type) {
		if nb := packBlocks(dst, stride, src, 256, gemmKActBlock); nb > 0 {
			quantQ8_KAVX2(&dst[0], &src[0], nb, stride, layoutK(wt))
		}
	}
	t.packQ8_KFast = true
}
