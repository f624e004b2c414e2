package quant

import "encoding/binary"

// Q5_0: blocks of 32 weights in 22 bytes — fp16 d, 4 bytes qh (LE u32: bit
// j is the 5th bit of q[j]), 16 bytes of low nibbles in Q4_0 order;
// x = (q-16)·d.

const (
	qk5_0   = 32
	size5_0 = 22
)

// quantizeQ5_0 is ggml's quantize_row_q5_0_ref.
func quantizeQ5_0(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk5_0; i++ {
		x := src[i*qk5_0 : (i+1)*qk5_0]
		y := dst[i*size5_0 : (i+1)*size5_0]
		var amax, max float32
		for _, v := range x {
			if amax < absf(v) {
				amax = absf(v)
				max = v
			}
		}
		d := max / -16
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(y, d)
		var qh uint32
		for j := 0; j < qk5_0/2; j++ {
			x0 := float32(x[j] * id)
			x1 := float32(x[qk5_0/2+j] * id)
			xi0 := uint8(min(31, toInt8(x0+16.5)))
			xi1 := uint8(min(31, toInt8(x1+16.5)))
			y[6+j] = xi0&0x0F | (xi1&0x0F)<<4
			qh |= uint32(xi0&0x10) >> 4 << j
			qh |= uint32(xi1&0x10) >> 4 << (j + qk5_0/2)
		}
		binary.LittleEndian.PutUint32(y[2:], qh)
	}
}

// dequantizeQ5_0 is ggml's dequantize_row_q5_0.
func dequantizeQ5_0(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk5_0; i++ {
		b := src[i*size5_0 : (i+1)*size5_0]
		y := dst[i*qk5_0 : (i+1)*qk5_0]
		d := f16(b)
		qh := binary.LittleEndian.Uint32(b[2:])
		for j := 0; j < qk5_0/2; j++ {
			xh0 := uint8(qh>>j<<4) & 0x10
			xh1 := uint8(qh>>(j+12)) & 0x10
			y[j] = float32(int32(b[6+j]&0x0F|xh0)-16) * d
			y[j+qk5_0/2] = float32(int32(b[6+j]>>4|xh1)-16) * d
		}
	}
}
