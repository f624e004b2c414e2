package quant

import "math"

// Q8_0: blocks of 32 weights in 34 bytes — fp16 d, 32 int8; x = q·d.

const (
	qk8_0   = 32
	size8_0 = 34
)

// QuantizeQ8_0 quantizes src (a multiple of 32 elements) into dst
// (len(src)/32*34 bytes) with ggml's quantize_row_q8_0_ref: d = amax/127,
// q = roundf(x/d), rounding half away from zero. These are the bytes of Q8_0
// model files. (llama.cpp's ARM activation path rounds half to even instead;
// see kernels/neon.) It panics if the sizes do not fit, a programming error.
func QuantizeQ8_0(dst []byte, src []float32) {
	checkAct("QuantizeQ8_0", len(dst), len(src), qk8_0, size8_0)
	quantizeQ8_0Ref(dst, src)
}

// maxC is C's MAX(a, b) macro: (a > b ? a : b), NaN handling included.
func maxC(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}

func quantizeQ8_0Ref(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk8_0; i++ {
		x := src[i*qk8_0 : (i+1)*qk8_0]
		y := dst[i*size8_0 : (i+1)*size8_0]
		var amax float32
		for _, v := range x {
			amax = maxC(amax, absf(v))
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(y, d)
		for j, v := range x {
			y[2+j] = uint8(roundfInt8(float32(v * id)))
		}
	}
}

// roundfInt8 is C's (int8_t)roundf(f) on x86-64: round half away from zero,
// truncate to int32, keep the low byte.
func roundfInt8(f float32) int8 {
	return int8(cvtt(float32(math.Round(float64(f)))))
}

// dequantizeQ8_0 is ggml's dequantize_row_q8_0.
func dequantizeQ8_0(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk8_0; i++ {
		b := src[i*size8_0 : (i+1)*size8_0]
		d := f16(b)
		for j := 0; j < qk8_0; j++ {
			dst[i*qk8_0+j] = float32(int8(b[2+j])) * d
		}
	}
}

// checkAct panics when an activation buffer does not match its input size.
func checkAct(name string, ndst, nsrc, qk, size int) {
	if nsrc%qk != 0 || ndst < nsrc/qk*size {
		panic("quant: " + name + ": sizes do not match the block format")
	}
}
