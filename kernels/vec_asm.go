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
