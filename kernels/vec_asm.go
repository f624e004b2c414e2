//go:build (amd64 || arm64) && !purego

package kernels

// vec3Asm wraps an assembly kernel of the form dst[i] = f(a[i], b[i]) over
// lengths that are a multiple of step with the bounds checks and the
// generic code (tail) for the rest.
func vec3Asm(k func(dst, a, b *float32, n int), step int, tail func(dst, a, b []float32)) func(dst, a, b []float32) {
	return func(dst, a, b []float32) {
		dst, b = dst[:len(a)], b[:len(a)]
		n := len(a) / step * step
		if n > 0 {
			k(&dst[0], &a[0], &b[0], n)
		}
		tail(dst[n:], a[n:], b[n:])
	}
}

// geluAsm wraps an assembly GELU (dst = gelu32(x), or gelu32(x + b) when
// b is not nil) over lengths that are a multiple of step with the bounds
// checks and the generic code for the rest.
func geluAsm(k func(dst, x, b *float32, n int), step int) func(dst, x, b []float32) {
	return func(dst, x, b []float32) {
		dst = dst[:len(x)]
		if b != nil {
			b = b[:len(x)]
		}
		n := len(x) / step * step
		if n > 0 {
			var bp *float32
			if b != nil {
				bp = &b[0]
			}
			k(&dst[0], &x[0], bp, n)
		}
		if b != nil {
			b = b[n:]
		}
		geluGeneric(dst[n:], x[n:], b)
	}
}

// normLoops installs assembly versions of the four loops of RMSNorm and
// LayerNorm (ops.go), which take lengths that are a positive multiple of
// step, with the bounds checks and the generic code for the rest.
func normLoops(t *table, step int,
	sum func(x *float32, n int) float64,
	sumSq func(x *float32, n int, c float64) float64,
	scaleMul func(dst, x, w *float32, n int, scale float32),
	lnApply func(dst, x, w, b *float32, n int, m, scale float32)) {
	t.sumF64 = func(x []float32) float64 {
		n := len(x) / step * step
		if n == 0 {
			return sumF64Generic(x)
		}
		return sum(&x[0], n) + sumF64Generic(x[n:])
	}
	t.sumSqF64 = func(x []float32, c float64) float64 {
		n := len(x) / step * step
		if n == 0 {
			return sumSqF64Generic(x, c)
		}
		return sumSq(&x[0], n, c) + sumSqF64Generic(x[n:], c)
	}
	t.scaleMul = func(dst, x, w []float32, scale float32) {
		dst, w = dst[:len(x)], w[:len(x)]
		n := len(x) / step * step
		if n > 0 {
			scaleMul(&dst[0], &x[0], &w[0], n, scale)
		}
		scaleMulGeneric(dst[n:], x[n:], w[n:], scale)
	}
	t.lnApply = func(dst, x, w, b []float32, m, scale float32) {
		dst, w, b = dst[:len(x)], w[:len(x)], b[:len(x)]
		n := len(x) / step * step
		if n > 0 {
			lnApply(&dst[0], &x[0], &w[0], &b[0], n, m, scale)
		}
		lnApplyGeneric(dst[n:], x[n:], w[n:], b[n:], m, scale)
	}
}
