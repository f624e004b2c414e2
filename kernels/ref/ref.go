// Package ref is the one generic reference of cogedge's quantized dot
// products and activation quantizers. Every backend — the generic table in
// kernels, the amd64 assembly, the NEON assembly in kernels/neon and the
// Metal shaders in kernels/metal — is tested against these functions.
//
// The float accumulation order is fixed, and it is the order the NEON
// assembly follows, so NEON matches this package bit for bit; amd64 and
// Metal sum in other orders and are tested within a stated bound (the
// integer block sums are exact everywhere, so only the rounding of the
// per-block float terms can differ).
//
// For 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL), block
// b's integer dot isum_b is scaled by the exact float32 product of the two
// fp16 scales and added into accumulator b mod 4, with no fused
// multiply-add:
//
//	acc[b%4] += float32(isum_b) * (d_w * d_x)
//	result = (acc[0]+acc[1]) + (acc[2]+acc[3])
//
// Q4_1 and Q5_1 add a second set of four accumulators for m_w*s_x, summed
// the same way and added last. K-quants accumulate one super-block at a
// time: sum += float32(isum)*(d_x*d_w) and, for Q4_K and Q5_K,
// summ += float32(imin)*(d_x*dmin_w), returning sum - summ.
//
// The activation quantizers round half to even (ggml's runtime
// quantize_row_q8_* on x86 and ARM), unlike quant.QuantizeQ8_0, which is
// ggml's file-format reference with roundf.
package ref

import (
	"encoding/binary"
	"math"

	"github.com/cogedge/cogedge/quant"
)

// Block sizes in bytes (gguf-quant.md).
const (
	SizeQ4_0   = 18
	SizeQ4_1   = 20
	SizeQ5_0   = 22
	SizeQ5_1   = 24
	SizeQ8_0   = 34
	SizeQ8_1   = 36
	SizeIQ4_NL = 18
	SizeQ4_K   = 144
	SizeQ5_K   = 176
	SizeQ6_K   = 210
	SizeQ8_K   = 292
)

func f16(b []byte) float32 { return quant.FP16ToFP32(binary.LittleEndian.Uint16(b)) }

func f32le(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }

// sum4 folds four block accumulators: (a0+a1)+(a2+a3).
func sum4(a *[4]float32) float32 { return (a[0] + a[1]) + (a[2] + a[3]) }

// addBlock adds one block's contribution: float32(isum)*dd rounded, then
// added (the explicit conversion stops the compiler from fusing an FMA).
func addBlock(acc *float32, isum int32, dd float32) {
	*acc += float32(float32(isum) * dd)
}

// unpackNibbles expands 16 packed bytes into 32 values: byte j holds
// element j (low nibble) and element j+16 (high nibble).
func unpackNibbles(q *[32]int32, qs []byte) {
	for j := 0; j < 16; j++ {
		q[j] = int32(qs[j] & 0xF)
		q[j+16] = int32(qs[j] >> 4)
	}
}

// unpackQ5 is unpackNibbles plus the fifth bits from the little-endian qh.
func unpackQ5(q *[32]int32, qh uint32, qs []byte) {
	unpackNibbles(q, qs)
	for j := 0; j < 32; j++ {
		q[j] |= int32((qh>>uint(j))&1) << 4
	}
}

func dot32(q *[32]int32, y []byte) int32 {
	var s int32
	for j := 0; j < 32; j++ {
		s += q[j] * int32(int8(y[j]))
	}
	return s
}

// DotQ4_0Q8_0 returns the dot of nb Q4_0 weight blocks with nb Q8_0 blocks.
func DotQ4_0Q8_0(w, x []byte, nb int) float32 {
	var acc [4]float32
	var q [32]int32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*SizeQ4_0:], x[b*SizeQ8_0:]
		unpackNibbles(&q, wb[2:18])
		for j := range q {
			q[j] -= 8
		}
		addBlock(&acc[b&3], dot32(&q, xb[2:34]), f16(wb)*f16(xb))
	}
	return sum4(&acc)
}

// DotQ4_1Q8_1 returns the dot of nb Q4_1 weight blocks with nb Q8_1 blocks
// (Σ d_w d_x Σq_w q_x + m_w s_x).
func DotQ4_1Q8_1(w, x []byte, nb int) float32 {
	var acc, accm [4]float32
	var q [32]int32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*SizeQ4_1:], x[b*SizeQ8_1:]
		unpackNibbles(&q, wb[4:20])
		addBlock(&acc[b&3], dot32(&q, xb[4:36]), f16(wb)*f16(xb))
		accm[b&3] += f16(wb[2:]) * f16(xb[2:]) // exact product: nothing to fuse
	}
	return sum4(&acc) + sum4(&accm)
}

// DotQ5_0Q8_0 returns the dot of nb Q5_0 weight blocks with nb Q8_0 blocks.
func DotQ5_0Q8_0(w, x []byte, nb int) float32 {
	var acc [4]float32
	var q [32]int32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*SizeQ5_0:], x[b*SizeQ8_0:]
		unpackQ5(&q, binary.LittleEndian.Uint32(wb[2:]), wb[6:22])
		for j := range q {
			q[j] -= 16
		}
		addBlock(&acc[b&3], dot32(&q, xb[2:34]), f16(wb)*f16(xb))
	}
	return sum4(&acc)
}

// DotQ5_1Q8_1 returns the dot of nb Q5_1 weight blocks with nb Q8_1 blocks.
func DotQ5_1Q8_1(w, x []byte, nb int) float32 {
	var acc, accm [4]float32
	var q [32]int32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*SizeQ5_1:], x[b*SizeQ8_1:]
		unpackQ5(&q, binary.LittleEndian.Uint32(wb[4:]), wb[8:24])
		addBlock(&acc[b&3], dot32(&q, xb[4:36]), f16(wb)*f16(xb))
		accm[b&3] += f16(wb[2:]) * f16(xb[2:])
	}
	return sum4(&acc) + sum4(&accm)
}

// DotQ8_0Q8_0 returns the dot of nb Q8_0 weight blocks with nb Q8_0 blocks.
func DotQ8_0Q8_0(w, x []byte, nb int) float32 {
	var acc [4]float32
	var q [32]int32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*SizeQ8_0:], x[b*SizeQ8_0:]
		for j := range q {
			q[j] = int32(int8(wb[2+j]))
		}
		addBlock(&acc[b&3], dot32(&q, xb[2:34]), f16(wb)*f16(xb))
	}
	return sum4(&acc)
}

// DotIQ4_NLQ8_0 returns the dot of nb IQ4_NL weight blocks with nb Q8_0
// blocks.
func DotIQ4_NLQ8_0(w, x []byte, nb int) float32 {
	var acc [4]float32
	var q [32]int32
	values := quant.IQ4NLValues()
	for b := 0; b < nb; b++ {
		wb, xb := w[b*SizeIQ4_NL:], x[b*SizeQ8_0:]
		unpackNibbles(&q, wb[2:18])
		for j := range q {
			q[j] = int32(values[q[j]])
		}
		addBlock(&acc[b&3], dot32(&q, xb[2:34]), f16(wb)*f16(xb))
	}
	return sum4(&acc)
}

// bsum32 returns the Q8_K block's sum over 32-element group j.
func bsum32(xb []byte, j int) int32 {
	a := int16(binary.LittleEndian.Uint16(xb[260+4*j:]))
	b := int16(binary.LittleEndian.Uint16(xb[262+4*j:]))
	return int32(a) + int32(b)
}

func q8(xb []byte, i int) int32 { return int32(int8(xb[4+i])) }

// dotQ4_5K is the Q4_K and Q5_K dot; q5 selects the fifth bits.
func dotQ4_5K(w, x []byte, nb, bsize int, q5 bool) float32 {
	var sum, summ float32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*bsize:], x[b*SizeQ8_K:]
		qs := wb[16:144]
		var qh []byte
		if q5 {
			qh, qs = wb[16:48], wb[48:176]
		}
		var isum, imin int32
		for c := 0; c < 4; c++ { // 64-element chunks
			var lo, hi int32
			for l := 0; l < 32; l++ {
				ql := int32(qs[32*c+l] & 0xF)
				qu := int32(qs[32*c+l] >> 4)
				if q5 {
					ql |= int32(qh[l]>>uint(2*c)&1) << 4
					qu |= int32(qh[l]>>uint(2*c+1)&1) << 4
				}
				lo += ql * q8(xb, 64*c+l)
				hi += qu * q8(xb, 64*c+32+l)
			}
			sc0, _ := quant.ScaleMinK4(2*c, wb[4:16])
			sc1, _ := quant.ScaleMinK4(2*c+1, wb[4:16])
			isum += int32(sc0)*lo + int32(sc1)*hi
		}
		for j := 0; j < 8; j++ {
			_, m := quant.ScaleMinK4(j, wb[4:16])
			imin += int32(m) * bsum32(xb, j)
		}
		yd := f32le(xb)
		d := yd * f16(wb)
		dmin := yd * f16(wb[2:])
		sum += float32(float32(isum) * d)
		summ += float32(float32(imin) * dmin)
	}
	return sum - summ
}

// DotQ4_KQ8_K returns the dot of nb Q4_K super-blocks (256 weights each)
// with nb Q8_K super-blocks.
func DotQ4_KQ8_K(w, x []byte, nb int) float32 { return dotQ4_5K(w, x, nb, SizeQ4_K, false) }

// DotQ5_KQ8_K returns the dot of nb Q5_K super-blocks with nb Q8_K
// super-blocks.
func DotQ5_KQ8_K(w, x []byte, nb int) float32 { return dotQ4_5K(w, x, nb, SizeQ5_K, true) }

// DotQ6_KQ8_K returns the dot of nb Q6_K super-blocks with nb Q8_K
// super-blocks; the −32 offset is applied once through the block sums.
func DotQ6_KQ8_K(w, x []byte, nb int) float32 {
	var sum float32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*SizeQ6_K:], x[b*SizeQ8_K:]
		ql, qh, sc := wb[0:128], wb[128:192], wb[192:208]
		var isum, ibs int32
		for h := 0; h < 2; h++ {
			for l := 0; l < 32; l++ {
				hb := qh[32*h+l]
				q0 := int32(ql[64*h+l]&0xF) | int32(hb&3)<<4
				q1 := int32(ql[64*h+l+32]&0xF) | int32(hb>>2&3)<<4
				q2 := int32(ql[64*h+l]>>4) | int32(hb>>4&3)<<4
				q3 := int32(ql[64*h+l+32]>>4) | int32(hb>>6&3)<<4
				s := 8*h + l/16
				e := 128 * h
				isum += int32(int8(sc[s+0])) * q0 * q8(xb, e+l)
				isum += int32(int8(sc[s+2])) * q1 * q8(xb, e+32+l)
				isum += int32(int8(sc[s+4])) * q2 * q8(xb, e+64+l)
				isum += int32(int8(sc[s+6])) * q3 * q8(xb, e+96+l)
			}
		}
		for i := 0; i < 16; i++ {
			ibs += int32(int8(sc[i])) * int32(int16(binary.LittleEndian.Uint16(xb[260+2*i:])))
		}
		d := f32le(xb) * f16(wb[208:])
		sum += float32(float32(isum-32*ibs) * d)
	}
	return sum
}

// Dot returns the reference dot function for weight type wt with its
// partner activation format, and false for types without one.
func Dot(wt quant.Type) (func(w, x []byte, nb int) float32, bool) {
	switch wt {
	case quant.Q4_0:
		return DotQ4_0Q8_0, true
	case quant.Q4_1:
		return DotQ4_1Q8_1, true
	case quant.Q5_0:
		return DotQ5_0Q8_0, true
	case quant.Q5_1:
		return DotQ5_1Q8_1, true
	case quant.Q8_0:
		return DotQ8_0Q8_0, true
	case quant.IQ4_NL:
		return DotIQ4_NLQ8_0, true
	case quant.Q4_K:
		return DotQ4_KQ8_K, true
	case quant.Q5_K:
		return DotQ5_KQ8_K, true
	case quant.Q6_K:
		return DotQ6_KQ8_K, true
	}
	return nil, false
}
