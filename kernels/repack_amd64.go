//go:build !purego

package kernels

//go:noescape
func gemvQ4_0x8AVX512(y *float32, w, x *byte, nb int)

//go:noescape
func gemvQ4_0x8AVXVNNI(y *float32, w, x *byte, nb int)

//go:noescape
func gemvQ4_0x8AVX2(y *float32, w, x *byte, nb int)

//go:noescape
func gemvQ4_0x8x4AVX512(y *float32, w, x *byte, xstride, nb int)

//go:noescape
func gemvQ4_0x8x2AVX512(y *float32, w, x *byte, xstride, nb int)

//go:noescape
func gemvQ4_0x8x4AVX2(y *float32, w, x *byte, xstride, nb int)

// packedAVX2 installs the packed Q4_0 decode kernel of the best tier.
func packedAVX2(t *table, f Features) {
	k := gemvQ4_0x8AVX2
	switch {
	case f.AVX512VNNI:
		k = gemvQ4_0x8AVX512
	case f.AVXVNNI:
		k = gemvQ4_0x8AVXVNNI
	}
	t.gemvQ4_0x8 = func(y *[8]float32, w, x []byte, nb int) {
		if nb <= 0 {
			*y = [8]float32{}
			return
		}
		_ = w[nb*packedBlock-1]
		_ = x[nb*gemmActBlock-1]
		k(&y[0], &w[0], &x[0], nb)
	}
	k4 := gemvQ4_0x8x4AVX2
	if f.AVX512VNNI {
		k4 = gemvQ4_0x8x4AVX512
	}
	t.gemvQ4_0x8x4 = func(y *[4][8]float32, w, x []byte, xstride, nb int) {
		if nb <= 0 {
			*y = [4][8]float32{}
			return
		}
		_ = w[nb*packedBlock-1]
		_ = x[3*xstride+nb*gemmActBlock-1]
		k4(&y[0][0], &w[0], &x[0], xstride, nb)
	}
	// two rows: AVX-512 only; elsewhere the one-row kernel twice
	t.gemvQ4_0x8x2 = nil
	if f.AVX512VNNI {
		t.gemvQ4_0x8x2 = func(y *[2][8]float32, w, x []byte, xstride, nb int) {
			if nb <= 0 {
				*y = [2][8]float32{}
				return
			}
			_ = w[nb*packedBlock-1]
			_ = x[xstride+nb*gemmActBlock-1]
			gemvQ4_0x8x2AVX512(&y[0][0], &w[0], &x[0], xstride, nb)
		}
	}
	t.packedFast = true
}
