package quant

import "encoding/binary"

// Q4_K: super-blocks of 256 weights in 144 bytes — fp16 d, fp16 dmin,
// 12 bytes of packed 6-bit scales and mins (8 sub-blocks of 32), 128 bytes
// of nibbles: chunk c (elements 64c..64c+63) holds element 64c+l in the low
// and 64c+32+l in the high nibble of byte 32c+l; x = d·sc·q - dmin·m.

const sizeQ4_K = 144

// quantizeQ4_K is ggml's quantize_row_q4_K_ref: per sub-block
// make_qkx2_quants(32, 15, weights sqrt(Σx²/32)+|x|, -1, 0.1, 20), 6-bit
// scales against the largest, then re-quantization with the decoded scales.
func quantizeQ4_K(dst []byte, src []float32) {
	var L [QK_K]uint8
	for i := 0; i < len(src)/QK_K; i++ {
		x := src[i*QK_K : (i+1)*QK_K]
		y := dst[i*sizeQ4_K : (i+1)*sizeQ4_K]
		d16, dmin16 := kScalesMins(x, &L, 15, -1, 0.1, 20, y[4:16])
		binary.LittleEndian.PutUint16(y[0:], d16)
		binary.LittleEndian.PutUint16(y[2:], dmin16)
		q := y[16:]
		for j := 0; j < QK_K; j += 64 {
			for l := 0; l < 32; l++ {
				q[l] = L[j+l] | L[j+l+32]<<4
			}
			q = q[32:]
		}
	}
}

// dequantizeQ4_K is ggml's dequantize_row_q4_K.
func dequantizeQ4_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/QK_K; i++ {
		b := src[i*sizeQ4_K : (i+1)*sizeQ4_K]
		y := dst[i*QK_K : (i+1)*QK_K]
		d, mn := f16(b[0:]), f16(b[2:])
		scales := b[4:16]
		q := b[16:]
		is := 0
		for j := 0; j < QK_K; j += 64 {
			sc, m := ScaleMinK4(is, scales)
			d1, m1 := d*float32(sc), float32(mn*float32(m))
			sc, m = ScaleMinK4(is+1, scales)
			d2, m2 := d*float32(sc), float32(mn*float32(m))
			for l := 0; l < 32; l++ {
				y[j+l] = float32(d1*float32(q[l]&0xF)) - m1
			}
			for l := 0; l < 32; l++ {
				y[j+32+l] = float32(d2*float32(q[l]>>4)) - m2
			}
			q = q[32:]
			is += 2
		}
	}
}
