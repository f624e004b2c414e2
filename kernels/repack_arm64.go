//go:build !purego

package kernels

//go:generate go run ./_gen/arm64 -o .

//go:noescape
func gemvQ4_0x8SDOT(y *float32, w, x *byte, nb int)

// packedSDOT installs the packed decode kernels of the dotprod tier (Pi 5,
// Jetson Orin, Apple M1 and later): SDOT by element over the 8-row
// interleaved layouts, the same layouts amd64 reads. The plain NEON tier
// (Cortex-A72/A53) keeps the file layout: without SDOT the interleave saves
// nothing over kernels/neon's row dots.
func packedSDOT(t *table, f Features) {
	if !f.ASIMD || !f.DotProd {
		return
	}
	t.gemvQ4_0x8 = func(y *[8]float32, w, x []byte, nb int) {
		if nb <= 0 {
			*y = [8]float32{}
			return
		}
		_ = w[nb*packedBlock-1]
		_ = x[nb*gemmActBlock-1]
		gemvQ4_0x8SDOT(&y[0], &w[0], &x[0], nb)
	}
	// four activation rows: the group (18 KiB at k = 4096) stays in L1
	// between the four passes
	t.gemvQ4_0x8x4 = func(y *[4][8]float32, w, x []byte, xstride, nb int) {
		for c := range y {
			t.gemvQ4_0x8(&y[c], w, x[c*xstride:], nb)
		}
	}
	t.gemvQ4_0x8x2 = nil // two rows: the SDOT kernel once per row
	t.packedFast = true
}
