package kernels

import "math"

// Fast float32 e^x for softmax, attention and SiLU.
//
// x is clamped to [expLo, expHi] (outside it the float32 result is 0 or
// +Inf anyway), split as x = n·ln2 + r with |r| ≤ ln2/2 (n = round(x·log2e),
// ln2 in two parts so n·ln2 is subtracted exactly), e^r comes from Cephes'
// degree-6 polynomial (relative error ~1e-7 on that interval), and 2ⁿ is
// applied as two exact power-of-two factors 2^(n>>1)·2^(n−n>>1) so that
// results in the subnormal range round once and n = 128 still overflows to
// +Inf. NaN propagates. The error is at most 2 ulp over the whole float32
// range (TestExpf measures it against math.Exp). The AVX2 version in
// exp_amd64.s evaluates the same steps eight lanes at a time (with FMA).
const (
	expLo    = -104.0 // e^-104 < half the smallest subnormal
	expHi    = 89.0   // e^89 > MaxFloat32
	expLog2e = 1.44269504088896341
	expC1    = 0.693359375     // ln2 high part: 9 significant bits, so n·C1 is exact
	expC2    = -2.12194440e-4  // ln2 − C1
	expP0    = 1.9875691500e-4 // Cephes expf polynomial
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1
)

// expf returns e^x in float32 (at most 2 ulp from the correctly rounded
// value).
func expf(x float32) float32 {
	if x != x {
		return x
	}
	if x < expLo {
		x = expLo
	} else if x > expHi {
		x = expHi
	}
	// round to nearest with the 1.5·2²³ trick (|x·log2e| < 2²²)
	n := (x*expLog2e + 0x1.8p23) - 0x1.8p23
	r := x - n*expC1
	r -= n * expC2
	p := float32(expP0)
	p = p*r + expP1
	p = p*r + expP2
	p = p*r + expP3
	p = p*r + expP4
	p = p*r + expP5
	p = p*r*r + r + 1
	ni := int32(n)
	n1 := ni >> 1
	n2 := ni - n1
	return p * math.Float32frombits(uint32(n1+127)<<23) * math.Float32frombits(uint32(n2+127)<<23)
}

// expSubGeneric replaces s[i] with e^(s[i]−m) and returns their sum
// (float32, in order).
func expSubGeneric(s []float32, m float32) float32 {
	var sum float32
	for i, v := range s {
		e := expf(v - m)
		s[i] = e
		sum += e
	}
	return sum
}
