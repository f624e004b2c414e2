package quant

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Bit-exactness notes (apply to every file of this package).
//
// The quantizers are ports of ggml's reference C code (ggml/src/ggml-quants.c,
// llama.cpp commit 66d65ec2). They compute in float32 with ggml's operation
// order. The golden data they are tested against comes from ggml built with
// gcc for x86-64 without -march, where no multiply-add is contracted into an
// FMA. Go may fuse x*y+z on arm64 (never on amd64), so every product that
// feeds an addition or subtraction is wrapped in an explicit float32(...)
// conversion, which the Go spec defines as a rounding point that prevents
// fusion. The result is the same bytes on every GOARCH, equal to ggml's x86
// build. (ggml compiled natively on arm64 with default flags may contract
// some of these expressions and differ from itself on x86 in rare ties; we
// follow the x86 build, which is what most published GGUF files come from.)
//
// Inputs holding NaN are outside this guarantee: where two NaNs with
// different payloads meet in one addition, the one kept depends on operand
// order (chosen by the compiler, in Go as in C) and on the hardware, and a
// payload can reach a scale byte through nearest_int. Such blocks quantize
// without panicking to some bytes. Inputs without NaN stay deterministic
// even when infinities or overflow create NaNs inside the search, since
// those all carry the hardware's one default NaN (which is not the same on
// x86 and ARM, so such blocks can differ between the two).
//
// Speed: the trial-scale searches of the K-quants and IQ4_NL evaluate their
// independent trials in eight SIMD lanes (simd.go, simd_amd64.s) with the
// same float32 operations per lane, and compare the results in ggml's order.

// codec is the pair of row functions of one type. Both work on whole blocks:
// len(src) is a multiple of the block size and dst is exactly sized.
type codec struct {
	quantize   func(dst []byte, src []float32)
	dequantize func(dst []float32, src []byte)
}

// codecs is indexed by Type; types without a codec have nil functions.
var codecs = [...]codec{
	F32:    {quantizeF32, dequantizeF32},
	F16:    {quantizeF16, dequantizeF16},
	BF16:   {quantizeBF16, dequantizeBF16},
	Q4_0:   {quantizeQ4_0, dequantizeQ4_0},
	Q4_1:   {quantizeQ4_1, dequantizeQ4_1},
	Q5_0:   {quantizeQ5_0, dequantizeQ5_0},
	Q5_1:   {quantizeQ5_1, dequantizeQ5_1},
	Q8_0:   {quantizeQ8_0Ref, dequantizeQ8_0},
	Q4_K:   {quantizeQ4_K, dequantizeQ4_K},
	Q5_K:   {quantizeQ5_K, dequantizeQ5_K},
	Q6_K:   {quantizeQ6_K, dequantizeQ6_K},
	IQ4_NL: {quantizeIQ4_NL, dequantizeIQ4_NL},
}

func codecOf(t Type) (codec, error) {
	if int(t) < len(codecs) && codecs[t].quantize != nil && t.HasCodec() {
		return codecs[t], nil
	}
	return codec{}, fmt.Errorf("quant: %v: no codec for this type", t)
}

// Quantize converts src to type t into dst with ggml's reference quantizer
// for t — the bytes llama-quantize writes without an importance matrix
// (ggml_quantize_chunk with imatrix NULL): the _ref routines for Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K and quantize_iq4_nl (ntry 7) for IQ4_NL.
// For F32, F16 and BF16 it is a plain conversion (round to nearest even).
//
// len(src) must be a multiple of t's block size and len(dst) must equal
// t.RowSize(len(src)). Blocks are independent, so src may hold several rows.
func Quantize(t Type, dst []byte, src []float32) error {
	c, err := codecOf(t)
	if err != nil {
		return err
	}
	rs, err := t.RowSize(int64(len(src)))
	if err != nil {
		return fmt.Errorf("quant: quantize: %w", err)
	}
	if int64(len(dst)) != rs {
		return fmt.Errorf("quant: quantize %v: dst is %d bytes, %d elements need %d", t, len(dst), len(src), rs)
	}
	c.quantize(dst, src)
	return nil
}

// Dequantize expands src, whole blocks of type t, into dst exactly as ggml's
// dequantize_row_* (to_float) does. len(src) must equal t.RowSize(len(dst)).
func Dequantize(t Type, dst []float32, src []byte) error {
	c, err := codecOf(t)
	if err != nil {
		return err
	}
	rs, err := t.RowSize(int64(len(dst)))
	if err != nil {
		return fmt.Errorf("quant: dequantize: %w", err)
	}
	if int64(len(src)) != rs {
		return fmt.Errorf("quant: dequantize %v: src is %d bytes, %d elements need %d", t, len(src), len(dst), rs)
	}
	c.dequantize(dst, src)
	return nil
}

// groupMaxEps is ggml's GROUP_MAX_EPS: a group whose largest magnitude is
// below it is treated as all zero.
const groupMaxEps = float32(1e-15)

// nearestInt is ggml's nearest_int: round half to even through the float
// bit pattern of f + 1.5·2^23. It is exact for |f| <= 4194303; beyond that it
// returns the same (meaningless) value as the C code, never panicking.
func nearestInt(f float32) int32 {
	val := float32(f) + 12582912
	i := int32(math.Float32bits(val))
	return (i & 0x007fffff) - 0x00400000
}

// absf is fabsf.
func absf(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// sqrtf is a correctly rounded float32 square root (as C's sqrtf).
func sqrtf(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// f16 reads the little-endian fp16 at b[0:2] as float32.
func f16(b []byte) float32 { return FP16ToFP32(binary.LittleEndian.Uint16(b)) }

// putF16 stores f as little-endian fp16 (GGML_FP32_TO_FP16) at b[0:2].
func putF16(b []byte, f float32) { binary.LittleEndian.PutUint16(b, FP32ToFP16(f)) }

// cvtt is C's float-to-int conversion as x86-64 executes it (CVTTSS2SI):
// truncation toward zero, and 0x80000000 for NaN and out-of-range values.
// Go's own conversion of such values differs between amd64 and arm64 (which
// saturates); this keeps the bytes identical to ggml's x86 build everywhere,
// e.g. for blocks of float32 subnormals, where 1/d overflows to infinity.
func cvtt(f float32) int32 {
	if !(f > -2147483904 && f < 2147483648) { // NaN or out of range
		return math.MinInt32
	}
	return int32(f)
}

// toInt8 converts like C's (int8_t)(float) compiled for x86-64: truncate
// to int32 (cvtt), keep the low byte.
func toInt8(f float32) int8 { return int8(cvtt(f)) }

func quantizeF32(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

func dequantizeF32(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func quantizeF16(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToFP16(v))
	}
}

func dequantizeF16(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = FP16ToFP32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

func quantizeBF16(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToBF16(v))
	}
}

func dequantizeBF16(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = BF16ToFP32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}
