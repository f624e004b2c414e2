//go:build (!amd64 && !arm64) || purego

package kernels

// archImpl keeps the generic table: no assembly on this build.
func archImpl(t *table, f Features) {}
