package quant

import "encoding/binary"

// Q6_K: super-blocks of 256 weights in 210 bytes — ql[128] low 4 bits,
// qh[64] high 2 bits, int8 scales[16] (sub-blocks of 16), fp16 d;
// x = d·sc·(q-32). See dequantizeQ6_K for the element order.

const sizeQ6_K = 210

// quantizeQ6_K is ggml's quantize_row_q6_K_ref: per 16-element sub-block
// make_qx_quants(16, 32, rmse_type 1), then 8-bit scales against the scale
// of largest magnitude (sign kept) and re-quantization with the decoded
// scales. A super-block whose scales are all below GROUP_MAX_EPS is zeroed.
func quantizeQ6_K(dst []byte, src []float32) {
	var L [QK_K]int8
	var scales [QK_K / 16]float32
	for i := 0; i < len(src)/QK_K; i++ {
		x := src[i*QK_K : (i+1)*QK_K]
		y := dst[i*sizeQ6_K : (i+1)*sizeQ6_K]
		var maxScale, maxAbsScale float32
		for ib := 0; ib < QK_K/16; ib++ {
			scale := makeQXQuants((*[16]float32)(x[16*ib:16*ib+16]), (*[16]int8)(L[16*ib:16*ib+16]))
			scales[ib] = scale
			if as := absf(scale); as > maxAbsScale {
				maxAbsScale = as
				maxScale = scale
			}
		}
		if maxAbsScale < groupMaxEps {
			clear(y)
			continue
		}
		ql, qh, sc := y[0:128], y[128:192], y[192:208]
		iscale := -128 / maxScale
		d16 := FP32ToFP16(1 / iscale)
		binary.LittleEndian.PutUint16(y[208:], d16)
		for ib := 0; ib < QK_K/16; ib++ {
			sc[ib] = uint8(int8(min(127, nearestInt(float32(iscale*scales[ib])))))
		}
		dd := FP16ToFP32(d16)
		for j := 0; j < QK_K/16; j++ {
			d := dd * float32(int8(sc[j]))
			if d == 0 {
				continue
			}
			for ii := 0; ii < 16; ii++ {
				l := nearestInt(x[16*j+ii] / d)
				l = max32(-32, min(31, l))
				L[16*j+ii] = int8(l + 32)
			}
		}
		for j := 0; j < QK_K; j += 128 {
			for l := 0; l < 32; l++ {
				q1 := uint8(L[j+l]) & 0xF
				q2 := uint8(L[j+l+32]) & 0xF
				q3 := uint8(L[j+l+64]) & 0xF
				q4 := uint8(L[j+l+96]) & 0xF
				ql[l] = q1 | q3<<4
				ql[l+32] = q2 | q4<<4
				qh[l] = uint8(L[j+l]>>4) | uint8(L[j+l+32]>>4)<<2 | uint8(L[j+l+64]>>4)<<4 | uint8(L[j+l+96]>>4)<<6
			}
			ql = ql[64:]
			qh = qh[32:]
		}
	}
}

// dequantizeQ6_K is ggml's dequantize_row_q6_K. For half h (elements
// 128h..128h+127; ql, qh, sc advanced by 64h, 32h, 8h) and l < 32:
// element 128h+32k+l takes its low nibble from ql[l] (k=0,2) or ql[l+32]
// (k=1,3), low for k<2 and high for k>=2, its top bits from qh[l]>>(2k),
// and scale sc[l/16+2k].
func dequantizeQ6_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/QK_K; i++ {
		b := src[i*sizeQ6_K : (i+1)*sizeQ6_K]
		y := dst[i*QK_K : (i+1)*QK_K]
		d := f16(b[208:])
		ql, qh, sc := b[0:128], b[128:192], b[192:208]
		for n := 0; n < QK_K; n += 128 {
			for l := 0; l < 32; l++ {
				is := l / 16
				q1 := int8(ql[l]&0xF|(qh[l]>>0&3)<<4) - 32
				q2 := int8(ql[l+32]&0xF|(qh[l]>>2&3)<<4) - 32
				q3 := int8(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
				q4 := int8(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
				y[n+l] = d * float32(int8(sc[is])) * float32(q1)
				y[n+l+32] = d * float32(int8(sc[is+2])) * float32(q2)
				y[n+l+64] = d * float32(int8(sc[is+4])) * float32(q3)
				y[n+l+96] = d * float32(int8(sc[is+6])) * float32(q4)
			}
			ql = ql[64:]
			qh = qh[32:]
			sc = sc[8:]
		}
	}
}
