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
