//go:build !purego

package kernels

// The row operations of ops_amd64.s.

//go:noescape
func addAVX2(dst, a, b *float32, n int) // n%8 == 0

//go:noescape
func addAVX512(dst, a, b *float32, n int) // n%16 == 0

// rowOpsAMD64 installs the kernels of ops_amd64.s (AVX2 assumed; the
// 512-bit versions need only AVX-512F, which the AVX512VNNI tier implies).
func rowOpsAMD64(t *table, f Features) {
	t.add = vec3Asm(addAVX2, 8, addGeneric)
	if f.AVX512VNNI {
		t.add = vec3Asm(addAVX512, 16, addGeneric)
	}
}
