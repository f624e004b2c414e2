//go:build !purego

package kernels

//go:noescape
func packActRowMXAVX512(dst *byte, x *float32, nb int, offset int32)

// packActRowMXAsm is packActRowMX through packActRowMXAVX512 (callers
// check AVX-512).
func packActRowMXAsm(dst []byte, x []float32, r, nb int, offset int32) {
	if nb <= 0 {
		return
	}
	_ = x[nb*32-1]
	// slot r of the last block ends at ((nb−1)·gemmCols + r + 1)·gemmActBlock
	_ = dst[((nb-1)*gemmCols+r+1)*gemmActBlock-1]
	packActRowMXAVX512(&dst[r*gemmActBlock], &x[0], nb, offset)
}
