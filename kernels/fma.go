package kernels

import "math"

// fmaF32 returns a·b+c rounded once to float32, as the fused multiply-add
// instructions of both architectures (FMLA, VFMADD231PS) compute it: the
// generic twin of assembly that fuses. Go has no float32 FMA, and rounding
// a float64 sum to float32 can round twice; so the float64 sum (of an exact
// product) is rounded to odd — an inexact result gets its last bit set —
// which makes the final rounding to float32 exact (53 ≥ 24+2 bits).
func fmaF32(a, b, c float32) float32 {
	p := float64(a) * float64(b) // exact: 24+24 bits
	s := p + float64(c)
	if math.IsInf(s, 0) || math.IsNaN(s) {
		return float32(s) // the error term below would be NaN
	}
	bb := s - p
	if err := (p - (s - bb)) + (float64(c) - bb); err != 0 {
		if bits := math.Float64bits(s); bits&1 == 0 {
			if (err > 0) == (s > 0) {
				bits++ // the odd neighbour away from zero
			} else {
				bits--
			}
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
}
