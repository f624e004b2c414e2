package kernels

import "math"

// Float32 GELU, the one the model runs: x·Φ(x) with Φ(x) = ½·erfc(−x/√2),
// every lane through one formula (no branches but the far ends), in
// float32 with fused multiply-adds. With z = |x|/√2 and ½·erfc(z) =
// e^(−z²)·G(t), t = 1/(1 + a·z):
//
//   - x² is split exactly as h + l (h = x·x rounded, l = fma(x, x, −h)),
//     e^(−x²/2) is the float32 exp of −h/2 (expf's steps: n = round(−h/2·
//     log2e), the reduction in two fused steps, Cephes' polynomial, ·2ⁿ)
//     times (1 − l/2) in one fused step, so the rounding of x² is not
//     amplified by the exponent (up to 86.5 here);
//   - G is a degree-9 polynomial in t fitted to the relative error of
//     ½·erfc(z)·e^(z²) on z ∈ [0, 9.3] (a = 0.365; Lawson's weighted
//     least squares, coefficients rounded to float32 one at a time from
//     the highest with the rest refitted; kernels/_gen/gelufit/fit.py):
//     8.6e-9 relative at exact t, 1.1e-7 with t rounded to float32 (G
//     moves up to 3× as fast as t near t = 1) and 2.5e-7 through the
//     float32 Horner steps;
//   - Φ is ½·erfc(z) for x < 0 (relative accuracy kept in the tail) and
//     1 − ½·erfc(z) otherwise; z > 9.3 gives x (x > 0) or +0 (x < 0,
//     |GELU| < 2e-38), NaN stays NaN, −0 gives −0.
//
// TestGELUAccuracy bounds it against math.Erfc at geluULP = 8 ulp wherever
// the result is a normal float32 (below that, within 2⁻¹²⁶). Measured over
// every float32 in [−14, 14] (the ones beyond give x or a result below
// 2⁻¹²⁶): at most 8 ulp, at 38 inputs (the first at x = 0.0038380215,
// small z, where 1 − ½·erfc(z) ≈ ½ carries G's error whole), 7 ulp at
// 1691, and the 9.8e8 inexact results average 1.2 ulp. The assembly
// versions (AVX2, AVX-512, NEON) run the same steps with the same fused
// operations; gelu32 computes each fused float32 step in float64 (fma32),
// which rounds twice and so could differ by an ulp in rare cases
// (TestGELUTwin).
const (
	geluRSqrt2 = 0.70710677 // float32(1/√2)
	geluA      = 0.365
	geluZMax   = 9.3
	geluG0     = -1.1112427273474168e-05
	geluG1     = 0.10322986543178558
	geluG2     = 0.10018831491470337
	geluG3     = 0.11285962909460068
	geluG4     = 0.017983440309762955
	geluG5     = 0.2272109091281891
	geluG6     = -0.23615773022174835
	geluG7     = 0.32002919912338257
	geluG8     = -0.1802862137556076
	geluG9     = 0.03495370224118233
)

// geluULP is the accuracy TestGELUAccuracy holds every implementation of
// GELU to.
const geluULP = 8

// fma32 is a float32 fused multiply-add a·b + c, computed in float64: a·b
// is exact there (24-bit significands), so the sum rounds once to float64
// (whether or not the compiler fuses it) and then to float32, which
// differs from one float32 rounding only where the first rounding lands
// on a float32 midpoint.
func fma32(a, b, c float32) float32 {
	return float32(float64(a)*float64(b) + float64(c))
}

// gelu32 returns x·Φ(x) for one float32 (see above).
func gelu32(x float32) float32 {
	z := float32(math.Abs(float64(x))) * geluRSqrt2
	if z > geluZMax {
		if x < 0 {
			return 0
		}
		return x
	}
	if x != x {
		return x
	}
	h := x * x
	l := fma32(x, x, -h)
	// e^(−h/2): expf's steps, fused as the assembly fuses them
	u := h * -0.5
	n := float32(math.RoundToEven(float64(u * expLog2e)))
	r := fma32(-n, expC1, u)
	r = fma32(-n, expC2, r)
	p := float32(expP0)
	p = fma32(p, r, expP1)
	p = fma32(p, r, expP2)
	p = fma32(p, r, expP3)
	p = fma32(p, r, expP4)
	p = fma32(p, r, expP5)
	p = fma32(p, r*r, r) + 1
	e := p * math.Float32frombits(uint32(int32(n)+127)<<23)
	e = fma32(e, l*-0.5, e) // e^(−x²/2) = e^(−h/2)·(1 − l/2)
	t := 1 / fma32(geluA, z, 1)
	g := float32(geluG9)
	g = fma32(g, t, geluG8)
	g = fma32(g, t, geluG7)
	g = fma32(g, t, geluG6)
	g = fma32(g, t, geluG5)
	g = fma32(g, t, geluG4)
	g = fma32(g, t, geluG3)
	g = fma32(g, t, geluG2)
	g = fma32(g, t, geluG1)
	g = fma32(g, t, geluG0)
	q := float32(g * e) // ½·erfc(z); the conversion keeps 1 − q from fusing
	if x < 0 {
		return x * q
	}
	return x * (1 - q)
}

// Exact-form GELU in float64 (the previous model path, kept as the
// reference the float32 version is measured against): x·Φ(x), Φ(x) = ½·erfc(−x/√2), evaluated in float64
// without math.Erf. With z = |x|/√2:
//
//   - z < ½: erf(z) = z·P(z²), Φ = ½ ± ½·erf(z);
//   - ½ ≤ z ≤ 9.3: erfc(z) = e^(−z²)·G(t), t = 1/(1 + 0.3275911·z), and Φ
//     is ½·erfc(z) (x < 0, kept relative-accurate in the tail) or
//     1 − ½·erfc(z). z² = x²/2 is exact in float64; e^(−z²) is expf of its
//     float32 rounding times (1 − the rounding error), so the argument error
//     is not amplified;
//   - z > 9.3: Φ is 0 (|GELU| < 2e-38) or 1.
//
// P (degree 5 in z²) and G (degree 10 in t) are least-squares fits of the
// relative error of erf(z)/z on [0, ½] and of erfc(z)·e^(z²) on [½, 9.3]
// (numpy, 20000 and 60000 points; max relative error 3.7e-11 and 9.2e-10).
// TestGELUExactAccuracy bounds the result against math.Erfc at 4 ulp.
// geluF64 returns x·Φ(x) for one float32.
func geluF64(v float32) float32 {
	if v != v {
		return v
	}
	x := float64(v)
	z := math.Abs(x) * (1 / math.Sqrt2)
	var phi float64
	switch {
	case z < 0.5:
		u := z * z
		p := ((((-0.000772749714861187*u+0.005202309950538428)*u-0.026863520737573886)*u+
			0.11283777041977941)*u-0.37612638609123616)*u + 1.1283791670860064
		if x < 0 {
			phi = 0.5 - 0.5*z*p
		} else {
			phi = 0.5 + 0.5*z*p
		}
	case z <= 9.3:
		z2 := x * x * 0.5 // exact: x has 24 significant bits
		r := float32(z2)
		e := z2 - float64(r) // exact rounding error of r
		ez := float64(expf(-r)) * (1 - e)
		t := 1 / (1 + 0.3275911*z)
		g := (((((((((0.061068496460925464*t-0.3459716445102091)*t+0.7087232682096017)*t-
			0.6905801747410428)*t+0.6336175827871888)*t-0.13896580084288865)*t+
			0.24572682186130287)*t+0.1538048762772659)*t+0.18802700672638606)*t+
			0.1845374838703025)*t + 1.1388149993083582e-05
		if x < 0 {
			phi = 0.5 * ez * g
		} else {
			phi = 1 - 0.5*ez*g
		}
	default:
		if x < 0 {
			return 0
		}
		return v
	}
	return float32(x * phi)
}
