package quant

import "encoding/binary"

// Q5_K: super-blocks of 256 weights in 176 bytes — fp16 d, fp16 dmin,
// 12 bytes of packed scales and mins (as Q4_K), qh[32], qs[128] low nibbles
// in Q4_K order; chunk c takes the 5th bit of element 64c+l from bit 2c of
// qh[l] and of element 64c+32+l from bit 2c+1; x = d·sc·q - dmin·m.

const sizeQ5_K = 176

// quantizeQ5_K is ggml's quantize_row_q5_K_ref: as Q4_K with nmax 31 and
// make_qkx2_quants(..., -0.5, 0.1, 15).
func quantizeQ5_K(dst []byte, src []float32) {
	var L [QK_K]uint8
	for i := 0; i < len(src)/QK_K; i++ {
		x := src[i*QK_K : (i+1)*QK_K]
		y := dst[i*sizeQ5_K : (i+1)*sizeQ5_K]
		d16, dmin16 := kScalesMins(x, &L, 31, -0.5, 0.1, 15, y[4:16])
		binary.LittleEndian.PutUint16(y[0:], d16)
		binary.LittleEndian.PutUint16(y[2:], dmin16)
		qh := y[16:48]
		ql := y[48:]
		clear(qh)
		m1, m2 := uint8(1), uint8(2)
		for n := 0; n < QK_K; n += 64 {
			for j := 0; j < 32; j++ {
				l1 := L[n+j]
				if l1 > 15 {
					l1 -= 16
					qh[j] |= m1
				}
				l2 := L[n+j+32]
				if l2 > 15 {
					l2 -= 16
					qh[j] |= m2
				}
				ql[j] = l1 | l2<<4
			}
			m1 <<= 2
			m2 <<= 2
			ql = ql[32:]
		}
	}
}

// dequantizeQ5_K is ggml's dequantize_row_q5_K.
func dequantizeQ5_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/QK_K; i++ {
		b := src[i*sizeQ5_K : (i+1)*sizeQ5_K]
		y := dst[i*QK_K : (i+1)*QK_K]
		d, mn := f16(b[0:]), f16(b[2:])
		scales := b[4:16]
		qh := b[16:48]
		ql := b[48:]
		is := 0
		u1, u2 := uint8(1), uint8(2)
		for j := 0; j < QK_K; j += 64 {
			sc, m := ScaleMinK4(is, scales)
			d1, m1 := d*float32(sc), float32(mn*float32(m))
			sc, m = ScaleMinK4(is+1, scales)
			d2, m2 := d*float32(sc), float32(mn*float32(m))
			for l := 0; l < 32; l++ {
				q := ql[l] & 0xF
				if qh[l]&u1 != 0 {
					q += 16
				}
				y[j+l] = float32(d1*float32(q)) - m1
			}
			for l := 0; l < 32; l++ {
				q := ql[l] >> 4
				if qh[l]&u2 != 0 {
					q += 16
				}
				y[j+32+l] = float32(d2*float32(q)) - m2
			}
			ql = ql[32:]
			is += 2
			u1 <<= 2
			u2 <<= 2
		}
	}
}
