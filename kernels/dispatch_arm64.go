//go:build !purego

package kernels

// archImpl installs the kernels/neon dots when the CPU allows them.
func archImpl(t *table, f Features) {
}
