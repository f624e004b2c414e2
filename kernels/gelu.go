package kernels

import "math"

// Fast exact-form GELU: x·Φ(x), Φ(x) = ½·erfc(−x/√2), evaluated in float64
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
// TestGELUAccuracy bounds the result against math.Erfc at 4 ulp.
// gelu returns x·Φ(x) for one float32.
func gelu(v float32) float32 {
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
