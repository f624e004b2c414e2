//go:build !purego

package kernels

import (
	"math"

	"github.com/cogedge/cogedge/quant"
)

//go:noescape
func stripKScales4AVX512(sv, blk *byte, wrow, nb, bs int)

//go:noescape
func stripKScales6AVX512(sv, blk *byte, wrow, nb, bs int)

// stripKScalesAVX512 returns table.stripKScales for wt (Q4_K and Q5_K
// share the layout of d, dmin and the scales; Q6_K has its own).
func stripKScalesAVX512(wt quant.Type) func(dst, w []byte, wrow, nb int) {
	k := stripKScales4AVX512
	if wt == quant.Q6_K {
		k = stripKScales6AVX512
	}
	bs := wt.TypeSize()
	return func(dst, w []byte, wrow, nb int) {
		if nb <= 0 {
			return
		}
		if wrow > math.MaxInt32/gemmRows {
			panic("kernels: K-quant strip rows too far apart for 32-bit gather offsets")
		}
		// every gathered dword lies inside the 16 rows' nb blocks, every
		// store inside the nb strip blocks
		_ = w[(gemmRows-1)*wrow+nb*bs-1]
		_ = dst[nb*gemmKStripBlock-1]
		k(&dst[64*64], &w[0], wrow, nb, bs)
	}
}
