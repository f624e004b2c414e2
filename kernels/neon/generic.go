package neon

import (
	"encoding/binary"
	"math"

	"github.com/cogedge/cogedge/quant"
)

// Block sizes in bytes of the formats the kernels read (gguf-quant.md §4).
const (
	sizeQ4_0   = 18
	sizeQ4_1   = 20
	sizeQ5_0   = 22
	sizeQ5_1   = 24
	sizeQ8_0   = 34
	sizeQ8_1   = 36
	sizeIQ4_NL = 18
	sizeQ4_K   = 144
	sizeQ5_K   = 176
	sizeQ6_K   = 210
	sizeQ8_K   = 292
)

// kvaluesIQ4NL maps an IQ4_NL nibble to its int8 weight (ggml's kvalues_iq4nl).
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

func f16(b []byte) float32 { return quant.FP16ToFP32(binary.LittleEndian.Uint16(b)) }

// sum4 folds the four block accumulators in the fixed order the assembly uses
// (FADDP of the vector, then FADDP of the pair).
func sum4(a *[4]float32) float32 { return (a[0] + a[1]) + (a[2] + a[3]) }

// addBlock adds one block's contribution: float32(isum)*dd rounded, then added
// (the explicit conversion stops the compiler from fusing into an FMA).
func addBlock(acc *float32, isum int32, dd float32) {
	*acc += float32(float32(isum) * dd)
}

// unpackLegacy expands 16 packed bytes into 32 values: byte j holds element j
// (low nibble) and element j+16 (high nibble).
func unpackNibbles(q *[32]int32, qs []byte) {
	for j := 0; j < 16; j++ {
		q[j] = int32(qs[j] & 0xF)
		q[j+16] = int32(qs[j] >> 4)
	}
}

func dot32(q *[32]int32, y []byte) int32 {
	var s int32
	for j := 0; j < 32; j++ {
		s += q[j] * int32(int8(y[j]))
	}
	return s
}

func dotQ4_0Q8_0Generic(w, x []byte, nb int) float32 {
	var acc [4]float32
	var q [32]int32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*sizeQ4_0:], x[b*sizeQ8_0:]
		unpackNibbles(&q, wb[2:18])
		for j := range q {
			q[j] -= 8
		}
		addBlock(&acc[b&3], dot32(&q, xb[2:34]), f16(wb)*f16(xb))
	}
	return sum4(&acc)
}

func dotQ4_1Q8_1Generic(w, x []byte, nb int) float32 {
	var acc, accm [4]float32
	var q [32]int32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*sizeQ4_1:], x[b*sizeQ8_1:]
		unpackNibbles(&q, wb[4:20])
		addBlock(&acc[b&3], dot32(&q, xb[4:36]), f16(wb)*f16(xb))
		accm[b&3] += f16(wb[2:]) * f16(xb[2:]) // exact product: no rounding to fuse
	}
	return sum4(&acc) + sum4(&accm)
}

// unpackQ5 adds the fifth bits from the little-endian qh word.
func unpackQ5(q *[32]int32, qh uint32, qs []byte) {
	unpackNibbles(q, qs)
	for j := 0; j < 32; j++ {
		q[j] |= int32((qh>>uint(j))&1) << 4
	}
}

func dotQ5_0Q8_0Generic(w, x []byte, nb int) float32 {
	var acc [4]float32
	var q [32]int32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*sizeQ5_0:], x[b*sizeQ8_0:]
		unpackQ5(&q, binary.LittleEndian.Uint32(wb[2:]), wb[6:22])
		for j := range q {
			q[j] -= 16
		}
		addBlock(&acc[b&3], dot32(&q, xb[2:34]), f16(wb)*f16(xb))
	}
	return sum4(&acc)
}

func dotQ5_1Q8_1Generic(w, x []byte, nb int) float32 {
	var acc, accm [4]float32
	var q [32]int32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*sizeQ5_1:], x[b*sizeQ8_1:]
		unpackQ5(&q, binary.LittleEndian.Uint32(wb[4:]), wb[8:24])
		addBlock(&acc[b&3], dot32(&q, xb[4:36]), f16(wb)*f16(xb))
		accm[b&3] += f16(wb[2:]) * f16(xb[2:])
	}
	return sum4(&acc) + sum4(&accm)
}

func dotQ8_0Q8_0Generic(w, x []byte, nb int) float32 {
	var acc [4]float32
	var q [32]int32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*sizeQ8_0:], x[b*sizeQ8_0:]
		for j := range q {
			q[j] = int32(int8(wb[2+j]))
		}
		addBlock(&acc[b&3], dot32(&q, xb[2:34]), f16(wb)*f16(xb))
	}
	return sum4(&acc)
}

func dotIQ4_NLQ8_0Generic(w, x []byte, nb int) float32 {
	var acc [4]float32
	var q [32]int32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*sizeIQ4_NL:], x[b*sizeQ8_0:]
		unpackNibbles(&q, wb[2:18])
		for j := range q {
			q[j] = int32(kvaluesIQ4NL[q[j]])
		}
		addBlock(&acc[b&3], dot32(&q, xb[2:34]), f16(wb)*f16(xb))
	}
	return sum4(&acc)
}

// scaleMinK4 decodes the eight 6-bit scales and mins of a Q4_K/Q5_K block.
func scaleMinK4(s []byte) (sc, m [8]int32) {
	for j := 0; j < 4; j++ {
		sc[j] = int32(s[j] & 63)
		m[j] = int32(s[j+4] & 63)
	}
	for j := 4; j < 8; j++ {
		sc[j] = int32(s[j+4]&0xF) | int32(s[j-4]>>6)<<4
		m[j] = int32(s[j+4]>>4) | int32(s[j]>>6)<<4
	}
	return sc, m
}

// bsum32 returns the Q8_K block's sums over 32-element groups.
func bsum32(xb []byte, j int) int32 {
	a := int16(binary.LittleEndian.Uint16(xb[260+4*j:]))
	b := int16(binary.LittleEndian.Uint16(xb[262+4*j:]))
	return int32(a) + int32(b)
}

func q8(xb []byte, i int) int32 { return int32(int8(xb[4+i])) }

func f32le(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }

// dotQ4_5K is the Q4_K and Q5_K generic dot; qh is nil for Q4_K.
func dotQ4_5KGeneric(w, x []byte, nb, bsize int, q5 bool) float32 {
	var sum, summ float32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*bsize:], x[b*sizeQ8_K:]
		sc, m := scaleMinK4(wb[4:16])
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
			isum += sc[2*c]*lo + sc[2*c+1]*hi
		}
		for j := 0; j < 8; j++ {
			imin += m[j] * bsum32(xb, j)
		}
		yd := f32le(xb)
		d := yd * f16(wb)
		dmin := yd * f16(wb[2:])
		sum += float32(float32(isum) * d)
		summ += float32(float32(imin) * dmin)
	}
	return sum - summ
}

func dotQ4_KQ8_KGeneric(w, x []byte, nb int) float32 {
	return dotQ4_5KGeneric(w, x, nb, sizeQ4_K, false)
}

func dotQ5_KQ8_KGeneric(w, x []byte, nb int) float32 {
	return dotQ4_5KGeneric(w, x, nb, sizeQ5_K, true)
}

func dotQ6_KQ8_KGeneric(w, x []byte, nb int) float32 {
	var sum float32
	for b := 0; b < nb; b++ {
		wb, xb := w[b*sizeQ6_K:], x[b*sizeQ8_K:]
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

// dot2x2Generic computes the tile from four single dots; the single-dot
// definition makes this exactly what the SMMLA kernel computes.
func dot2x2Generic(out *[4]float32, dot func(w, x []byte, nb int) float32, w0, w1, x0, x1 []byte, nb int) {
	out[0] = dot(w0, x0, nb)
	out[1] = dot(w1, x0, nb)
	out[2] = dot(w0, x1, nb)
	out[3] = dot(w1, x1, nb)
}

// fcvtns converts like the A64 FCVTNS instruction: round to nearest, ties to
// even, saturating to the int32 range, NaN to 0.
func fcvtns(v float32) int32 {
	switch {
	case v != v:
		return 0
	case v >= 2147483648:
		return math.MaxInt32
	case v <= -2147483648:
		return math.MinInt32
	}
	return int32(math.RoundToEven(float64(v)))
}

// quantizeQ8_0Generic is llama.cpp's ARM quantize_row_q8_0: d = amax/127
// stored as fp16, q = FCVTNS(x/d) narrowed to int8 (the low byte, as XTN does).
func quantizeQ8_0Generic(dst []byte, src []float32) {
	for b := 0; b < len(src)/32; b++ {
		xs := src[32*b : 32*b+32]
		db := dst[sizeQ8_0*b : sizeQ8_0*b+sizeQ8_0]
		var amax float32
		for _, v := range xs {
			a := float32(math.Abs(float64(v)))
			if a != a {
				amax = a // NaN propagates, as FMAX does
				break
			}
			if a > amax {
				amax = a
			}
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(db, quant.FP32ToFP16(d))
		for j, v := range xs {
			db[2+j] = byte(fcvtns(v * id))
		}
	}
}
