package ref

import (
	"encoding/binary"
	"math"

	"github.com/cogedge/cogedge/quant"
)

// RoundEven converts like the A64 FCVTNS instruction: round to nearest,
// ties to even, saturating to the int32 range, NaN to 0. The low byte of
// the result is the stored int8 (as XTN narrows).
func RoundEven(v float32) int32 {
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

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

// scale8 returns a 32-element block's scale d = max|x|/127 and its inverse
// (0 when d is 0); a NaN propagates into d, as FMAXV does.
func scale8(xs []float32) (d, id float32) {
	var amax float32
	for _, v := range xs {
		a := abs32(v)
		if a != a {
			amax = a
			break
		}
		if a > amax {
			amax = a
		}
	}
	d = amax / 127
	if d != 0 {
		id = 1 / d
	}
	return d, id
}

// QuantizeQ8_0 quantizes len(src)/32 blocks to Q8_0: d = max|x|/127 stored
// as fp16, q = RoundEven(x/d) narrowed to int8.
func QuantizeQ8_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/32; b++ {
		xs := src[32*b : 32*b+32]
		db := dst[SizeQ8_0*b : SizeQ8_0*b+SizeQ8_0]
		d, id := scale8(xs)
		binary.LittleEndian.PutUint16(db, quant.FP32ToFP16(d))
		for j, v := range xs {
			db[2+j] = byte(RoundEven(v * id))
		}
	}
}

// QuantizeQ8_1 quantizes len(src)/32 blocks to Q8_1: as Q8_0 plus
// s = fp16(d·Σq).
func QuantizeQ8_1(dst []byte, src []float32) {
	for b := 0; b < len(src)/32; b++ {
		xs := src[32*b : 32*b+32]
		o := dst[SizeQ8_1*b : SizeQ8_1*b+SizeQ8_1]
		d, id := scale8(xs)
		var sum int32
		for j, v := range xs {
			q := int32(int8(RoundEven(v * id)))
			sum += q
			o[4+j] = byte(q)
		}
		binary.LittleEndian.PutUint16(o, quant.FP32ToFP16(d))
		binary.LittleEndian.PutUint16(o[2:], quant.FP32ToFP16(float32(sum)*d))
	}
}

// QuantizeQ8_K quantizes len(src)/256 blocks to Q8_K as ggml's
// quantize_row_q8_K_ref: signed max, iscale = -127/max, nearest (ties to
// even), d = 1/iscale stored as float32, and 16 block sums.
func QuantizeQ8_K(dst []byte, src []float32) {
	for b := 0; b < len(src)/256; b++ {
		x := src[b*256 : b*256+256]
		o := dst[b*SizeQ8_K : b*SizeQ8_K+SizeQ8_K]
		var amax, max float32
		for _, v := range x {
			if a := abs32(v); a > amax {
				amax, max = a, v
			}
		}
		if amax == 0 {
			clear(o)
			continue
		}
		iscale := -127 / max
		for j, v := range x {
			q := RoundEven(iscale * v)
			if q > 127 {
				q = 127
			}
			o[4+j] = byte(int8(q))
		}
		for i := 0; i < 16; i++ {
			var s int16
			for _, q := range o[4+16*i : 4+16*i+16] {
				s += int16(int8(q))
			}
			binary.LittleEndian.PutUint16(o[260+2*i:], uint16(s))
		}
		binary.LittleEndian.PutUint32(o, math.Float32bits(1/iscale))
	}
}
