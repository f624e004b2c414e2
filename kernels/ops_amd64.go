//go:build !purego

package kernels

// The row operations of ops_amd64.s.

//go:noescape
func addAVX2(dst, a, b *float32, n int) // n%8 == 0

//go:noescape
func addAVX512(dst, a, b *float32, n int) // n%16 == 0

//go:noescape
func sumF64AVX2(x *float32, n int) float64 // n%16 == 0, n > 0

//go:noescape
func sumSqF64AVX2(x *float32, n int, c float64) float64 // n%16 == 0, n > 0

//go:noescape
func scaleMulAVX2(dst, x, w *float32, n int, scale float32) // n%16 == 0

//go:noescape
func lnApplyAVX2(dst, x, w, b *float32, n int, m, scale float32) // n%16 == 0

// rowOpsAMD64 installs the kernels of ops_amd64.s (AVX2 assumed; the
// 512-bit versions need only AVX-512F, which the AVX512VNNI tier implies).
func rowOpsAMD64(t *table, f Features) {
	t.add = vec3Asm(addAVX2, 8, addGeneric)
	if f.AVX512VNNI {
		t.add = vec3Asm(addAVX512, 16, addGeneric)
	}
	normLoops(t, 16, sumF64AVX2, sumSqF64AVX2, scaleMulAVX2, lnApplyAVX2)
}
