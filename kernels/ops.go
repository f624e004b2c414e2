package kernels

import (
	"fmt"
	"math"
)

// RMSNorm writes x·rsqrt(mean(x²)+eps)·weight to dst (one row), in the
// order of Hugging Face's LlamaRMSNorm: normalise in float32, then multiply
// by the weight. The sum of squares is accumulated in float64 (as ggml's
// ggml_float). dst may alias x.
func RMSNorm(dst, x, weight []float32, eps float32) { rmsNorm(&impl, dst, x, weight, eps) }

func rmsNorm(t *table, dst, x, weight []float32, eps float32) {
	n := len(x)
	dst, weight = dst[:n], weight[:n]
	mean := float32(t.sumSqF64(x, 0) / float64(n))
	scale := float32(1 / math.Sqrt(float64(mean+eps)))
	t.scaleMul(dst, x, weight, scale)
}

// LayerNorm writes (x-mean)/sqrt(var+eps)·weight + bias to dst (one row),
// with mean and variance accumulated in float64. dst may alias x.
func LayerNorm(dst, x, weight, bias []float32, eps float32) {
	layerNorm(&impl, dst, x, weight, bias, eps)
}

func layerNorm(t *table, dst, x, weight, bias []float32, eps float32) {
	n := len(x)
	dst, weight, bias = dst[:n], weight[:n], bias[:n]
	mean := t.sumF64(x) / float64(n)
	ss := t.sumSqF64(x, mean)
	scale := float32(1 / math.Sqrt(float64(float32(ss/float64(n))+eps)))
	t.lnApply(dst, x, weight, bias, float32(mean), scale)
}

// sumF64Generic returns Σ x in float64.
func sumF64Generic(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s
}

// sumSqF64Generic returns Σ (x−c)² in float64.
func sumSqF64Generic(x []float32, c float64) float64 {
	var ss float64
	for _, v := range x {
		d := float64(v) - c
		ss += d * d
	}
	return ss
}

// scaleMulGeneric writes (x·scale)·w to dst.
func scaleMulGeneric(dst, x, w []float32, scale float32) {
	dst, w = dst[:len(x)], w[:len(x)]
	for i, v := range x {
		dst[i] = (v * scale) * w[i]
	}
}

// lnApplyGeneric writes (x−m)·scale·w + b to dst.
func lnApplyGeneric(dst, x, w, b []float32, m, scale float32) {
	dst, w, b = dst[:len(x)], w[:len(x)], b[:len(x)]
	for i, v := range x {
		dst[i] = (v-m)*scale*w[i] + b[i]
	}
}

// RoPENeoX rotates one token row of nHeads heads of headDim elements in
// place with the NeoX "rotate-half" pairing: element i pairs with
// i+headDim/2, theta_i = pos·base^(-2i/headDim). inv_freq, the angle, cos
// and sin are float32 values as the PyTorch reference computes them.
func RoPENeoX(x []float32, nHeads, headDim int, pos float32, freqBase float32) {
	if headDim%2 != 0 {
		panic(fmt.Sprintf("kernels: RoPENeoX: odd head dim %d", headDim))
	}
	half := headDim / 2
	x = x[:nHeads*headDim]
	for i := 0; i < half; i++ {
		theta := pos * RoPEInvFreq(i, headDim, freqBase)
		c := float32(math.Cos(float64(theta)))
		s := float32(math.Sin(float64(theta)))
		for h := 0; h < nHeads; h++ {
			a := x[h*headDim+i]
			b := x[h*headDim+i+half]
			x[h*headDim+i] = a*c - b*s
			x[h*headDim+i+half] = b*c + a*s
		}
	}
}

// RoPEInvFreq is the float32 inverse frequency of rotary pair i,
// base^(−2i/headDim), computed as the PyTorch reference does; every backend
// rotates by pos·RoPEInvFreq.
func RoPEInvFreq(i, headDim int, freqBase float32) float32 {
	exp := float32(2*i) / float32(headDim)
	return 1 / float32(math.Pow(float64(freqBase), float64(exp)))
}

// Softmax replaces x with softmax(x), subtracting the maximum first, with
// the fast float32 exp (expf, ≤ 2 ulp). An empty row is left alone.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	m := x[0]
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	inv := 1 / impl.expSub(x, m)
	for i := range x {
		x[i] *= inv
	}
}

// GELU writes the exact (erf) GELU of x to dst: 0.5·x·(1+erf(x/√2)),
// in float32 within geluULP (8) ulp (see gelu.go). dst may be x.
func GELU(dst, x []float32) { impl.gelu(dst, x, nil) }

// BiasGELU writes GELU(x + b) to dst (the bias add rounded to float32
// first, as Add then GELU would): the ViT's fc1 bias and activation in one
// pass over the row. b must hold len(x) values; dst may be x.
func BiasGELU(dst, x, b []float32) {
	if b == nil { // the table takes nil for "no bias"
		b = []float32{}
	}
	impl.gelu(dst, x, b)
}

// geluGeneric writes gelu32(x), or gelu32(x + b) when b is not nil.
func geluGeneric(dst, x, b []float32) {
	dst = dst[:len(x)]
	if b == nil {
		for i, v := range x {
			dst[i] = gelu32(v)
		}
		return
	}
	b = b[:len(x)]
	for i, v := range x {
		dst[i] = gelu32(v + b[i])
	}
}

// SiLU writes x·sigmoid(x) to dst.
func SiLU(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = silu(v)
	}
}

func silu(v float32) float32 { return v / (1 + expf(-v)) }

// SwiGLU writes silu(gate)·up to dst. dst may be gate or up (the same
// slice, not a shifted overlap).
func SwiGLU(dst, gate, up []float32) { impl.swiGLU(dst, gate, up) }

func swiGLUGeneric(dst, gate, up []float32) {
	dst, up = dst[:len(gate)], up[:len(gate)]
	for i, g := range gate {
		dst[i] = silu(g) * up[i]
	}
}

// Add writes a+b to dst element-wise. dst may be a or b (the same slice,
// not a shifted overlap).
func Add(dst, a, b []float32) { impl.add(dst, a, b) }

func addGeneric(dst, a, b []float32) {
	dst, b = dst[:len(a)], b[:len(a)]
	for i := range a {
		dst[i] = a[i] + b[i]
	}
}

// Mul writes a·b to dst element-wise.
func Mul(dst, a, b []float32) {
	dst, b = dst[:len(a)], b[:len(a)]
	for i := range a {
		dst[i] = a[i] * b[i]
	}
}

// Scale multiplies x by s in place.
func Scale(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}
