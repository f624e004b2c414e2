package kernels

import (
	"encoding/binary"
	"math"

	"github.com/cogedge/cogedge/quant"
)

// Float-weight vector dots and block helpers. The quantized block dots and
// the activation quantizers are the one reference in kernels/ref.

func f16(b []byte) float32 { return quant.FP16ToFP32(binary.LittleEndian.Uint16(b)) }

// iq4nlValues is ggml's kvalues_iq4nl (from quant, its one Go copy).
var iq4nlValues = quant.IQ4NLValues()

// scaleMinK4 decodes the eight 6-bit scales and mins of a Q4_K/Q5_K block.
func scaleMinK4(s []byte) (sc, m [8]uint8) {
	for j := range 8 {
		sc[j], m[j] = quant.ScaleMinK4(j, s)
	}
	return
}

func q8Kd(x []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(x)) }

func q8KBsum(x []byte, i int) int32 { return int32(int16(binary.LittleEndian.Uint16(x[260+2*i:]))) }

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
