package quant

import "math"

// Q4_1: blocks of 32 weights in 20 bytes — fp16 d, fp16 m, 16 bytes of
// nibbles in Q4_0 order; x = q·d + m.

const (
	qk4_1   = 32
	size4_1 = 20
)

// quantizeQ4_1 is ggml's quantize_row_q4_1_ref.
func quantizeQ4_1(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk4_1; i++ {
		x := src[i*qk4_1 : (i+1)*qk4_1]
		y := dst[i*size4_1 : (i+1)*size4_1]
		mn := float32(math.MaxFloat32)
		mx := float32(-math.MaxFloat32)
		for _, v := range x {
			if v < mn {
				mn = v
			}
			if v > mx {
				mx = v
			}
		}
		d := (mx - mn) / 15
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(y[0:], d)
		putF16(y[2:], mn)
		for j := 0; j < qk4_1/2; j++ {
			x0 := float32((x[j] - mn) * id)
			x1 := float32((x[qk4_1/2+j] - mn) * id)
			xi0 := min(15, toInt8(x0+0.5))
			xi1 := min(15, toInt8(x1+0.5))
			y[4+j] = uint8(xi0) | uint8(xi1)<<4
		}
	}
}

// dequantizeQ4_1 is ggml's dequantize_row_q4_1.
func dequantizeQ4_1(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk4_1; i++ {
		b := src[i*size4_1 : (i+1)*size4_1]
		y := dst[i*qk4_1 : (i+1)*qk4_1]
		d, m := f16(b[0:]), f16(b[2:])
		for j := 0; j < qk4_1/2; j++ {
			y[j] = float32(float32(b[4+j]&0x0F)*d) + m
			y[j+qk4_1/2] = float32(float32(b[4+j]>>4)*d) + m
		}
	}
}
