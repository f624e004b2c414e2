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
	// Q6_K is not repacked by default: its group kernel is 1.6-1.8x the
	// row-by-row dot in cache, but on a 4096x11008 matrix beyond the
	// caches it measured about 30 % slower (BenchmarkDecodeK, AMD EPYC VM
	// under load, not understood yet); MatMulPacked still runs it for a
	// forced repack.
	t.packedKFast[quant.Q4_K] = true
}
