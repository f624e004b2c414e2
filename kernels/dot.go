package kernels

import (
	"encoding/binary"
	"math"

	"github.com/cogedge/cogedge/quant"
)

// Generic vector dots, one per (weight, activation) block pair. w and x
// hold nb blocks each; the result is Σ over blocks of the dequantized
// products, accumulated per block in float32 as ggml's reference does.

func f16(b []byte) float32 { return quant.FP16ToFP32(binary.LittleEndian.Uint16(b)) }

// dotQ4_0Q8_0Generic: Q4_0 block = fp16 d, qs[16] (q-8); Q8_0 = fp16 d, qs[32].
func dotQ4_0Q8_0Generic(w, x []byte, nb int) float32 {
	var sum float32
	for b := 0; b < nb; b++ {
		wb := w[b*18 : b*18+18]
		xb := x[b*q8_0Bytes : b*q8_0Bytes+q8_0Bytes]
		var si int32
		for j := 0; j < 16; j++ {
			q := wb[2+j]
			si += (int32(q&0xF) - 8) * int32(int8(xb[2+j]))
			si += (int32(q>>4) - 8) * int32(int8(xb[18+j]))
		}
		sum += float32(si) * (f16(wb) * f16(xb))
	}
	return sum
}

// dotQ4_1Q8_1Generic: Q4_1 = fp16 d, fp16 m, qs[16]; Q8_1 = fp16 d, fp16 s, qs[32].
func dotQ4_1Q8_1Generic(w, x []byte, nb int) float32 {
	var sum float32
	for b := 0; b < nb; b++ {
		wb := w[b*20 : b*20+20]
		xb := x[b*q8_1Bytes : b*q8_1Bytes+q8_1Bytes]
		var si int32
		for j := 0; j < 16; j++ {
			q := wb[4+j]
			si += int32(q&0xF) * int32(int8(xb[4+j]))
			si += int32(q>>4) * int32(int8(xb[20+j]))
		}
		sum += float32(si)*(f16(wb)*f16(xb)) + f16(wb[2:])*f16(xb[2:])
	}
	return sum
}

// dotQ5_0Q8_0Generic: Q5_0 = fp16 d, qh[4], qs[16]; q = 5-bit - 16.
func dotQ5_0Q8_0Generic(w, x []byte, nb int) float32 {
	var sum float32
	for b := 0; b < nb; b++ {
		wb := w[b*22 : b*22+22]
		xb := x[b*q8_0Bytes : b*q8_0Bytes+q8_0Bytes]
		qh := binary.LittleEndian.Uint32(wb[2:])
		var si int32
		for j := 0; j < 16; j++ {
			q := wb[6+j]
			lo := int32(q&0xF) | int32((qh>>j)&1)<<4
			hi := int32(q>>4) | int32((qh>>(j+16))&1)<<4
			si += (lo - 16) * int32(int8(xb[2+j]))
			si += (hi - 16) * int32(int8(xb[18+j]))
		}
		sum += float32(si) * (f16(wb) * f16(xb))
	}
	return sum
}

// dotQ5_1Q8_1Generic: Q5_1 = fp16 d, fp16 m, qh[4], qs[16]; x = q*d + m.
func dotQ5_1Q8_1Generic(w, x []byte, nb int) float32 {
	var sum float32
	for b := 0; b < nb; b++ {
		wb := w[b*24 : b*24+24]
		xb := x[b*q8_1Bytes : b*q8_1Bytes+q8_1Bytes]
		qh := binary.LittleEndian.Uint32(wb[4:])
		var si int32
		for j := 0; j < 16; j++ {
			q := wb[8+j]
			lo := int32(q&0xF) | int32((qh>>j)&1)<<4
			hi := int32(q>>4) | int32((qh>>(j+16))&1)<<4
			si += lo * int32(int8(xb[4+j]))
			si += hi * int32(int8(xb[20+j]))
		}
		sum += float32(si)*(f16(wb)*f16(xb)) + f16(wb[2:])*f16(xb[2:])
	}
	return sum
}

// dotQ8_0Q8_0Generic: both fp16 d, int8 qs[32].
func dotQ8_0Q8_0Generic(w, x []byte, nb int) float32 {
	var sum float32
	for b := 0; b < nb; b++ {
		wb := w[b*q8_0Bytes : b*q8_0Bytes+q8_0Bytes]
		xb := x[b*q8_0Bytes : b*q8_0Bytes+q8_0Bytes]
		var si int32
		for j := 2; j < q8_0Bytes; j++ {
			si += int32(int8(wb[j])) * int32(int8(xb[j]))
		}
		sum += float32(si) * (f16(wb) * f16(xb))
	}
	return sum
}

// iq4nlValues is ggml's kvalues_iq4nl.
var iq4nlValues = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// dotIQ4_NLQ8_0Generic: IQ4_NL = fp16 d, qs[16] indexing iq4nlValues.
func dotIQ4_NLQ8_0Generic(w, x []byte, nb int) float32 {
	var sum float32
	for b := 0; b < nb; b++ {
		wb := w[b*18 : b*18+18]
		xb := x[b*q8_0Bytes : b*q8_0Bytes+q8_0Bytes]
		var si int32
		for j := 0; j < 16; j++ {
			q := wb[2+j]
			si += int32(iq4nlValues[q&0xF]) * int32(int8(xb[2+j]))
			si += int32(iq4nlValues[q>>4]) * int32(int8(xb[18+j]))
		}
		sum += float32(si) * (f16(wb) * f16(xb))
	}
	return sum
}

// scaleMinK4 decodes the eight 6-bit scales and mins of a Q4_K/Q5_K block
// (ggml's get_scale_min_k4).
func scaleMinK4(s []byte) (sc, m [8]uint8) {
	for j := 0; j < 4; j++ {
		sc[j] = s[j] & 63
		m[j] = s[j+4] & 63
	}
	for j := 4; j < 8; j++ {
		sc[j] = s[j+4]&0xF | (s[j-4]>>6)<<4
		m[j] = s[j+4]>>4 | (s[j]>>6)<<4
	}
	return
}

func q8Kd(x []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(x)) }

func q8KBsum(x []byte, i int) int32 { return int32(int16(binary.LittleEndian.Uint16(x[260+2*i:]))) }

// dotQ4_KQ8_KGeneric: Q4_K = fp16 d, fp16 dmin, scales[12], qs[128].
func dotQ4_KQ8_KGeneric(w, x []byte, nb int) float32 {
	var sum float32
	for b := 0; b < nb; b++ {
		wb := w[b*144 : b*144+144]
		xb := x[b*q8_KBytes : b*q8_KBytes+q8_KBytes]
		sc, m := scaleMinK4(wb[4:16])
		var si, mins int32
		for c := 0; c < 4; c++ {
			qs := wb[16+32*c : 16+32*c+32]
			y := xb[4+64*c : 4+64*c+64]
			var lo, hi int32
			for l := 0; l < 32; l++ {
				lo += int32(qs[l]&0xF) * int32(int8(y[l]))
				hi += int32(qs[l]>>4) * int32(int8(y[32+l]))
			}
			si += lo*int32(sc[2*c]) + hi*int32(sc[2*c+1])
		}
		for j := 0; j < 8; j++ {
			mins += int32(m[j]) * (q8KBsum(xb, 2*j) + q8KBsum(xb, 2*j+1))
		}
		yd := q8Kd(xb)
		sum += yd*f16(wb)*float32(si) - yd*f16(wb[2:])*float32(mins)
	}
	return sum
}

// dotQ5_KQ8_KGeneric: Q5_K = fp16 d, fp16 dmin, scales[12], qh[32], qs[128].
func dotQ5_KQ8_KGeneric(w, x []byte, nb int) float32 {
	var sum float32
	for b := 0; b < nb; b++ {
		wb := w[b*176 : b*176+176]
		xb := x[b*q8_KBytes : b*q8_KBytes+q8_KBytes]
		sc, m := scaleMinK4(wb[4:16])
		qh := wb[16:48]
		var si, mins int32
		for c := 0; c < 4; c++ {
			qs := wb[48+32*c : 48+32*c+32]
			y := xb[4+64*c : 4+64*c+64]
			var lo, hi int32
			for l := 0; l < 32; l++ {
				ql := int32(qs[l]&0xF) | int32((qh[l]>>(2*c))&1)<<4
				qu := int32(qs[l]>>4) | int32((qh[l]>>(2*c+1))&1)<<4
				lo += ql * int32(int8(y[l]))
				hi += qu * int32(int8(y[32+l]))
			}
			si += lo*int32(sc[2*c]) + hi*int32(sc[2*c+1])
		}
		for j := 0; j < 8; j++ {
			mins += int32(m[j]) * (q8KBsum(xb, 2*j) + q8KBsum(xb, 2*j+1))
		}
		yd := q8Kd(xb)
		sum += yd*f16(wb)*float32(si) - yd*f16(wb[2:])*float32(mins)
	}
	return sum
}

// dotQ6_KQ8_KGeneric: Q6_K = ql[128], qh[64], int8 scales[16], fp16 d.
func dotQ6_KQ8_KGeneric(w, x []byte, nb int) float32 {
	var sum float32
	for b := 0; b < nb; b++ {
		wb := w[b*210 : b*210+210]
		xb := x[b*q8_KBytes : b*q8_KBytes+q8_KBytes]
		var si int32
		for h := 0; h < 2; h++ {
			ql := wb[64*h : 64*h+64]
			qh := wb[128+32*h : 128+32*h+32]
			sc := wb[192+8*h : 192+8*h+8]
			y := xb[4+128*h : 4+128*h+128]
			var s [8]int32 // per 16-element sub-block
			for l := 0; l < 32; l++ {
				q0 := int32(ql[l]&0xF|(qh[l]&3)<<4) - 32
				q1 := int32(ql[l+32]&0xF|((qh[l]>>2)&3)<<4) - 32
				q2 := int32(ql[l]>>4|((qh[l]>>4)&3)<<4) - 32
				q3 := int32(ql[l+32]>>4|((qh[l]>>6)&3)<<4) - 32
				is := l / 16
				s[is+0] += q0 * int32(int8(y[l]))
				s[is+2] += q1 * int32(int8(y[32+l]))
				s[is+4] += q2 * int32(int8(y[64+l]))
				s[is+6] += q3 * int32(int8(y[96+l]))
			}
			for i := 0; i < 8; i++ {
				si += int32(int8(sc[i])) * s[i]
			}
		}
		sum += f16(wb[208:]) * q8Kd(xb) * float32(si)
	}
	return sum
}

// dotF32Generic returns Σ a[i]*b[i] over len(a) elements.
func dotF32Generic(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dotF16Generic returns Σ fp16(w[i])*x[i] over len(x) elements.
func dotF16Generic(w []uint16, x []float32) float32 {
	w = w[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += quant.FP16ToFP32(w[i]) * x[i]
		s1 += quant.FP16ToFP32(w[i+1]) * x[i+1]
		s2 += quant.FP16ToFP32(w[i+2]) * x[i+2]
		s3 += quant.FP16ToFP32(w[i+3]) * x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += quant.FP16ToFP32(w[i]) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dotBF16Generic returns Σ bf16(w[i])*x[i] over len(x) elements.
func dotBF16Generic(w []uint16, x []float32) float32 {
	w = w[:len(x)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(x); i += 2 {
		s0 += quant.BF16ToFP32(w[i]) * x[i]
		s1 += quant.BF16ToFP32(w[i+1]) * x[i+1]
	}
	for ; i < len(x); i++ {
		s0 += quant.BF16ToFP32(w[i]) * x[i]
	}
	return s0 + s1
}

// axpyF32Generic: y += a*x.
func axpyF32Generic(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// axpyF16Generic: y += a*fp16(x).
func axpyF16Generic(y []float32, a float32, x []uint16) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * quant.FP16ToFP32(x[i])
	}
}
