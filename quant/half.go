package quant

import "math"

// FP32ToFP16 converts f to IEEE binary16 bits with round-to-nearest-even,
// as ggml_compute_fp32_to_fp16 does: overflow gives ±inf, NaN gives a quiet
// NaN (0x7E00) with the sign kept.
func FP32ToFP16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xFF
	mant := b & 0x7FFFFF
	if exp == 0xFF {
		if mant != 0 {
			return sign | 0x7E00
		}
		return sign | 0x7C00
	}
	// Unbiased exponent.
	e := exp - 127
	switch {
	case e > 15:
		return sign | 0x7C00
	case e >= -14:
		// Normal half: keep 10 mantissa bits, round the 13 dropped bits to nearest even.
		h := uint32(e+15)<<10 | mant>>13
		rest := mant & 0x1FFF
		if rest > 0x1000 || (rest == 0x1000 && h&1 == 1) {
			h++ // may carry into the exponent, up to infinity: correct
		}
		return sign | uint16(h)
	case e >= -25:
		// Subnormal half (or rounds up into the smallest one).
		m := mant | 0x800000 // implicit bit
		shift := uint32(-e - 14 + 13)
		h := m >> shift
		rest := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rest > half || (rest == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	default:
		return sign
	}
}

// FP16ToFP32 converts IEEE binary16 bits to float32 exactly.
func FP16ToFP32(h uint16) float32 {
	return fp16Table[h]
}

var fp16Table = func() (t [1 << 16]float32) {
	for i := range t {
		t[i] = fp16ToFP32Slow(uint16(i))
	}
	return t
}()

func fp16ToFP32Slow(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1F
	mant := uint32(h & 0x3FF)
	switch {
	case exp == 0x1F && mant != 0:
		// NaN: payload kept, made quiet, as ggml_compute_fp16_to_fp32 and
		// the hardware conversions (F16C, ARM FCVT) do.
		return math.Float32frombits(sign | 0x7FC00000 | mant<<13)
	case exp == 0x1F:
		return math.Float32frombits(sign | 0x7F800000)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	default:
		// Subnormal: value = mant * 2^-24.
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
}

// FP32ToBF16 converts f to bfloat16 bits as ggml does: round-to-nearest-even,
// NaN made quiet.
func FP32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7FFFFFFF > 0x7F800000 {
		return uint16(u>>16) | 0x40
	}
	return uint16((u + 0x7FFF + (u>>16)&1) >> 16)
}

// BF16ToFP32 converts bfloat16 bits to float32 exactly.
func BF16ToFP32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}
