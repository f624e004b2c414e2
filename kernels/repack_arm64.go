//go:build !purego

package kernels

import "github.com/cogedge/cogedge/quant"

//go:generate go run ./_gen/arm64 -o .

//go:noescape
func gemvQ4_0x8SDOT(y *float32, w, x *byte, nb int)

//go:noescape
func gemvIQ4_NLx8SDOT(y *float32, w, x *byte, nb int)

//go:noescape
func gemvQ8_0x8SDOT(y *float32, w, x *byte, nb int)

// packedSDOT installs the packed decode kernels of the dotprod tier (Pi 5,
// Jetson Orin, Apple M1 and later): SDOT by element over the 8-row
// interleaved layouts (Q4_0's is the one amd64 reads). The plain NEON tier
// (Cortex-A72/A53) keeps the file layout: without SDOT the interleave saves
// nothing over kernels/neon's row dots. Four activation rows are four
// passes over the group, which stays in L1 (18 KiB at k = 4096).
func packedSDOT(t *table, f Features) {
	if !f.ASIMD || !f.DotProd {
		return
	}
	t.gemvQ4_0x8 = sdotGroup(gemvQ4_0x8SDOT, q4_0Bytes)
	t.gemvQ4_0x8x4 = gemvx8x4Rows(t.gemvQ4_0x8)
	t.gemvQ4_0x8x2 = nil // two rows: the SDOT kernel once per row
	t.packedFast = true
	for _, k := range []struct {
		wt   quant.Type
		kern func(y *float32, w, x *byte, nb int)
	}{{quant.Q8_0, gemvQ8_0x8SDOT}, {quant.IQ4_NL, gemvIQ4_NLx8SDOT}} {
		t.gemv8x8[k.wt] = sdotGroup(k.kern, q8FormatOf(k.wt).size)
		t.gemv8x8x4[k.wt] = gemvx8x4Rows(t.gemv8x8[k.wt])
		t.packed8Fast[k.wt] = true
	}
}

// sdotGroup wraps a group kernel over blocks of size file bytes with the
// bounds checks that keep it inside w and x.
func sdotGroup(kern func(y *float32, w, x *byte, nb int), size int) func(y *[8]float32, w, x []byte, nb int) {
	return func(y *[8]float32, w, x []byte, nb int) {
		if nb <= 0 {
			*y = [8]float32{}
			return
		}
		_ = w[nb*packRows*size-1]
		_ = x[nb*gemmActBlock-1]
		kern(&y[0], &w[0], &x[0], nb)
	}
}
