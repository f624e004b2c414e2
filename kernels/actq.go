package kernels

import (
	"encoding/binary"
	"math"

	"github.com/cogedge/cogedge/quant"
)

// Activation block sizes in bytes.
const (
	q8_0Bytes = 34  // fp16 d, int8 qs[32]
	q8_1Bytes = 36  // fp16 d, fp16 s, int8 qs[32]
	q8_KBytes = 292 // f32 d, int8 qs[256], int16 bsums[16]
)

// roundEven32 rounds a float32 to the nearest integer, ties to even, as
// the AVX2 (VCVTPS2DQ) and NEON (FCVTNS) activation quantizers do.
func roundEven32(f float32) int32 { return int32(math.RoundToEven(float64(f))) }

// quantizeQ8_0Generic quantizes len(src)/32 blocks to Q8_0 with ties to
// even (ggml's runtime quantize_row_q8_0 on x86 and ARM).
func quantizeQ8_0Generic(dst []byte, src []float32) {
	nb := len(src) / 32
	_ = dst[nb*q8_0Bytes-1]
	for b := 0; b < nb; b++ {
		x := src[b*32 : b*32+32]
		o := dst[b*q8_0Bytes : b*q8_0Bytes+q8_0Bytes]
		var amax float32
		for _, v := range x {
			if a := abs32(v); a > amax {
				amax = a
			}
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(o, quant.FP32ToFP16(d))
		for j, v := range x {
			o[2+j] = byte(int8(roundEven32(v * id)))
		}
	}
}

// quantizeQ8_1Generic quantizes to Q8_1: as Q8_0 plus s = fp16(d·Σq).
func quantizeQ8_1Generic(dst []byte, src []float32) {
	nb := len(src) / 32
	_ = dst[nb*q8_1Bytes-1]
	for b := 0; b < nb; b++ {
		x := src[b*32 : b*32+32]
		o := dst[b*q8_1Bytes : b*q8_1Bytes+q8_1Bytes]
		var amax float32
		for _, v := range x {
			if a := abs32(v); a > amax {
				amax = a
			}
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		var sum int32
		for j, v := range x {
			q := roundEven32(v * id)
			sum += q
			o[4+j] = byte(int8(q))
		}
		binary.LittleEndian.PutUint16(o, quant.FP32ToFP16(d))
		binary.LittleEndian.PutUint16(o[2:], quant.FP32ToFP16(float32(sum)*d))
	}
}

// quantizeQ8_KGeneric quantizes to Q8_K exactly as ggml's
// quantize_row_q8_K_ref: signed max, iscale = -127/max, nearest (ties to
// even), d = 1/iscale stored as float32, and 16 block sums.
func quantizeQ8_KGeneric(dst []byte, src []float32) {
	nb := len(src) / 256
	_ = dst[nb*q8_KBytes-1]
	for b := 0; b < nb; b++ {
		x := src[b*256 : b*256+256]
		o := dst[b*q8_KBytes : b*q8_KBytes+q8_KBytes]
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
			q := roundEven32(iscale * v)
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

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }
