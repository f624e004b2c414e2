package kernels

import "github.com/cogedge/cogedge/quant"

// FP32ToFP16 converts src to IEEE half bits in dst (len(dst) ≥ len(src)),
// exactly as quant.FP32ToFP16 does each value: round to nearest even,
// overflow to ±Inf, NaN to the quiet NaN of its sign (0x7E00). The KV
// cache stores its rows with it.
func FP32ToFP16(dst []uint16, src []float32) { impl.fp32ToFP16(dst, src) }

func fp32ToFP16Generic(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = quant.FP32ToFP16(v)
	}
}
