package quant

import (
	"encoding/binary"
	"math"
)

// Q5_1: blocks of 32 weights in 24 bytes — fp16 d, fp16 m, 4 bytes qh, 16
// bytes of low nibbles (Q5_0 layout after m); x = q·d + m.

const (
	qk5_1   = 32
	size5_1 = 24
)

// quantizeQ5_1 is ggml's quantize_row_q5_1_ref (note: no clamp to 31, as in C).
func quantizeQ5_1(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk5_1; i++ {
		x := src[i*qk5_1 : (i+1)*qk5_1]
		y := dst[i*size5_1 : (i+1)*size5_1]
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
		d := (mx - mn) / 31
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(y[0:], d)
		putF16(y[2:], mn)
		var qh uint32
		for j := 0; j < qk5_1/2; j++ {
			x0 := float32((x[j] - mn) * id)
			x1 := float32((x[qk5_1/2+j] - mn) * id)
			xi0 := uint8(cvtt(x0 + 0.5))
			xi1 := uint8(cvtt(x1 + 0.5))
			y[8+j] = xi0&0x0F | (xi1&0x0F)<<4
			qh |= uint32(xi0&0x10) >> 4 << j
			qh |= uint32(xi1&0x10) >> 4 << (j + qk5_1/2)
		}
		binary.LittleEndian.PutUint32(y[4:], qh)
	}
}

// dequantizeQ5_1 is ggml's dequantize_row_q5_1.
func dequantizeQ5_1(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk5_1; i++ {
		b := src[i*size5_1 : (i+1)*size5_1]
		y := dst[i*qk5_1 : (i+1)*qk5_1]
		d, m := f16(b[0:]), f16(b[2:])
		qh := binary.LittleEndian.Uint32(b[4:])
		for j := 0; j < qk5_1/2; j++ {
			xh0 := uint8(qh>>j<<4) & 0x10
			xh1 := uint8(qh>>(j+12)) & 0x10
			y[j] = float32(float32(b[8+j]&0x0F|xh0)*d) + m
			y[j+qk5_1/2] = float32(float32(b[8+j]>>4|xh1)*d) + m
		}
	}
}
