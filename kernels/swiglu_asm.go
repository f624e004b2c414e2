//go:build (amd64 || arm64) && !purego

package kernels

// swiGLUAsm wraps an assembly SwiGLU over lengths that are a multiple of
// step with the bounds checks and the generic code for the tail.
func swiGLUAsm(k func(dst, gate, up *float32, n int), step int) func(dst, gate, up []float32) {
	return func(dst, gate, up []float32) {
		dst, up = dst[:len(gate)], up[:len(gate)]
		n := len(gate) / step * step
		if n > 0 {
			k(&dst[0], &gate[0], &up[0], n)
		}
		swiGLUGeneric(dst[n:], gate[n:], up[n:])
	}
}
