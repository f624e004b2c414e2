package quant

// Q8_1: blocks of 32 values in 36 bytes — fp16 d, fp16 s = d·Σq, 32 int8.
// The activation partner of Q4_1 and Q5_1; never stored in model files.

const (
	qk8_1   = 32
	size8_1 = 36
)

// QuantizeQ8_1 quantizes src (a multiple of 32 elements) into dst
// (len(src)/32*36 bytes) with ggml's quantize_row_q8_1_ref (roundf, half
// away from zero; s = fp16(Σq · d)). It panics if the sizes do not fit.
func QuantizeQ8_1(dst []byte, src []float32) {
	checkAct("QuantizeQ8_1", len(dst), len(src), qk8_1, size8_1)
	for i := 0; i < len(src)/qk8_1; i++ {
		x := src[i*qk8_1 : (i+1)*qk8_1]
		y := dst[i*size8_1 : (i+1)*size8_1]
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
		var sum int32
		for j, v := range x {
			q := roundfInt8(float32(v * id))
			y[4+j] = uint8(q)
			sum += int32(q)
		}
		putF16(y[2:], float32(sum)*d)
	}
}
