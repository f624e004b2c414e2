package quant

// Q4_0: blocks of 32 weights in 18 bytes — fp16 d, then 16 bytes of
// nibbles: byte j holds q[j] (low) and q[j+16] (high); x = (q-8)·d.

const (
	qk4_0   = 32
	size4_0 = 18
)

// quantizeQ4_0 is ggml's quantize_row_q4_0_ref: the element of largest
// magnitude (first one on ties) keeps its sign and maps to q = 0.
func quantizeQ4_0(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk4_0; i++ {
		x := src[i*qk4_0 : (i+1)*qk4_0]
		y := dst[i*size4_0 : (i+1)*size4_0]
		var amax, max float32
		for _, v := range x {
			if amax < absf(v) {
				amax = absf(v)
				max = v
			}
		}
		d := max / -8
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(y, d)
		for j := 0; j < qk4_0/2; j++ {
			x0 := float32(x[j] * id)
			x1 := float32(x[qk4_0/2+j] * id)
			xi0 := min(15, toInt8(x0+8.5))
			xi1 := min(15, toInt8(x1+8.5))
			y[2+j] = uint8(xi0) | uint8(xi1)<<4
		}
	}
}

// dequantizeQ4_0 is ggml's dequantize_row_q4_0.
func dequantizeQ4_0(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk4_0; i++ {
		b := src[i*size4_0 : (i+1)*size4_0]
		y := dst[i*qk4_0 : (i+1)*qk4_0]
		d := f16(b)
		for j := 0; j < qk4_0/2; j++ {
			y[j] = float32(int32(b[2+j]&0x0F)-8) * d
			y[j+qk4_0/2] = float32(int32(b[2+j]>>4)-8) * d
		}
	}
}
