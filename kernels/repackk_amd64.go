//go:build !purego

package kernels

import "github.com/cogedge/cogedge/quant"

//go:noescape
func gemvQ4_Kx8AVX2(y *float32, w, x *byte, nb int)

//go:noescape
func gemvQ4_Kx8AVX512(y *float32, w, x *byte, nb int)

//go:noescape
func gemvQ6_Kx8AVX2(y *float32, w, x *byte, nb int)

//go:noescape
func gemvQ6_Kx8AVX512(y *float32, w, x *byte, nb int)

// packedKAVX2 installs the packed K-quant decode kernels of the best tier.
func packedKAVX2(t *table, f Features) {
	k4, k6 := gemvQ4_Kx8AVX2, gemvQ6_Kx8AVX2
	if f.AVX512VNNI {
		k4, k6 = gemvQ4_Kx8AVX512, gemvQ6_Kx8AVX512
	}
	t.gemvKx8[quant.Q4_K] = groupKernel(k4, q4KPacked)
	t.gemvKx8[quant.Q6_K] = groupKernel(k6, q6KPacked)
	t.packedKFast[quant.Q4_K], t.packedKFast[quant.Q6_K] = true, true
}

// groupKernel wraps a packed-group pointer kernel with the slice checks
// that keep it in bounds: nb packed blocks of psz bytes, nb Q8_K blocks.
func groupKernel(k func(y *float32, w, x *byte, nb int), psz int) func(y *[8]float32, w, x []byte, nb int) {
	return func(y *[8]float32, w, x []byte, nb int) {
		if nb <= 0 {
			*y = [8]float32{}
			return
		}
		_ = w[nb*psz-1]
		_ = x[nb*q8_KBytes-1]
		k(&y[0], &w[0], &x[0], nb)
	}
}
