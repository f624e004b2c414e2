package quant

import (
	"encoding/binary"
	"math"
)

// Q8_K: super-blocks of 256 values in 292 bytes — float32 d, 256 int8,
// int16 bsums[16] (sums of each 16 values); x = q·d. The activation
// partner of the K-quants; never stored in model files.

const sizeQ8_K = 292

// QuantizeQ8_K quantizes src (a multiple of 256 elements) into dst
// (len(src)/256*292 bytes) with ggml's quantize_row_q8_K_ref: the signed
// value of largest magnitude maps to -127 (so d is negative when it is
// positive), rounding half to even. An all-zero block is all zero bytes. It
// panics if the sizes do not fit.
func QuantizeQ8_K(dst []byte, src []float32) {
	checkAct("QuantizeQ8_K", len(dst), len(src), QK_K, sizeQ8_K)
	for i := 0; i < len(src)/QK_K; i++ {
		x := src[i*QK_K : (i+1)*QK_K]
		y := dst[i*sizeQ8_K : (i+1)*sizeQ8_K]
		var max, amax float32
		for _, v := range x {
			if ax := absf(v); ax > amax {
				amax = ax
				max = v
			}
		}
		if amax == 0 {
			clear(y)
			continue
		}
		iscale := -127 / max
		for j, v := range x {
			y[4+j] = uint8(int8(min(127, nearestInt(float32(iscale*v)))))
		}
		for j := 0; j < QK_K/16; j++ {
			var sum int32
			for _, q := range y[4+16*j : 4+16*j+16] {
				sum += int32(int8(q))
			}
			binary.LittleEndian.PutUint16(y[4+QK_K+2*j:], uint16(int16(sum)))
		}
		binary.LittleEndian.PutUint32(y, math.Float32bits(1/iscale))
	}
}
