//go:build !purego

package kernels

import "github.com/cogedge/cogedge/quant"

//go:noescape
func dotQ4_0Q8_0AVX2(w, x *byte, nb int) float32

//go:noescape
func dotIQ4_NLQ8_0AVX2(w, x *byte, nb int) float32

//go:noescape
func dotQ8_0Q8_0AVX2(w, x *byte, nb int) float32

//go:noescape
func dotQ4_KQ8_KAVX2(w, x *byte, nb int) float32

//go:noescape
func dotQ6_KQ8_KAVX2(w, x *byte, nb int) float32

//go:noescape
func dotQ4_0x4AVX2(out *[4]float32, w, x *byte, xs int, sc *float32, nb int)

//go:noescape
func dotQ8_0x4AVX2(out *[4]float32, w, x *byte, xs int, sc *float32, nb int)

//go:noescape
func quantQ8_0AVX2(dst *byte, src *float32, nb int)

//go:noescape
func dotF32AVX2(a, b *float32, n int) float32

//go:noescape
func dotF16AVX2(w *uint16, x *float32, n int) float32

//go:noescape
func axpyF32AVX2(y, x *float32, n int, a float32)

//go:noescape
func axpyF16AVX2(y *float32, x *uint16, n int, a float32)

// archImpl installs the AVX2 kernels when the CPU has AVX2, FMA and F16C.
func archImpl(t *table, f Features) {
	t.sumWords = streamSumFn(f)
	if !f.AVX2 {
		return
	}
	movesAVX2.install(t)
	t.qdot[quant.Q4_0] = blockDot(dotQ4_0Q8_0AVX2, 18, q8_0Bytes)
	t.qdot[quant.IQ4_NL] = blockDot(dotIQ4_NLQ8_0AVX2, 18, q8_0Bytes)
	t.qdot[quant.Q8_0] = blockDot(dotQ8_0Q8_0AVX2, q8_0Bytes, q8_0Bytes)
	t.qdot[quant.Q4_K] = blockDot(dotQ4_KQ8_KAVX2, 144, q8_KBytes)
	t.qdot[quant.Q6_K] = blockDot(dotQ6_KQ8_KAVX2, 210, q8_KBytes)
	t.qdotx4[quant.Q4_0] = blockDotX4(dotQ4_0x4AVX2, 18)
	t.qdotx4[quant.Q8_0] = blockDotX4(dotQ8_0x4AVX2, q8_0Bytes)
	// Prefill GEMM: 512-bit VNNI, else 256-bit AVX-VNNI, else AVX2 for the
	// types whose unsigned weight bytes stay ≤ 128 (VPMADDUBSW pairs must
	// not saturate).
	switch {
	case f.AVX512VNNI:
		t.gemm[quant.Q8_0] = gemmVNNI(gemmQ8x16VNNI, gemmStripBlock, gemmActBlock)
		// 4- and 5-bit weights take power-of-two activation scales: the
		// kernel then scales by VSCALEFPS instead of VMULPS, off the FMA
		// pipes (+11 % on Zen 4), for an activation rounding error below a
		// tenth of the weights' own (see mxActivationTypes)
		for _, wt := range mxActivationTypes {
			t.gemm[wt] = gemmVNNI(gemmQ8x16VNNIMX, gemmStripBlock, gemmActBlock)
			t.gemmMX[wt] = true
		}
		t.packMX = packQ8_0Asm(packActRowMXAVX512)
		for _, wt := range []quant.Type{quant.Q4_K, quant.Q5_K, quant.Q6_K} {
			t.stripKScales[wt] = stripKScalesAVX512(wt)
		}
		t.gemm[quant.Q4_K] = gemmVNNI(gemmQ4Kx16VNNI, gemmKStripBlock, gemmKActBlock)
		t.gemm[quant.Q5_K] = gemmVNNI(gemmQ4Kx16VNNI, gemmKStripBlock, gemmKActBlock)
		t.gemm[quant.Q6_K] = gemmVNNI(gemmQ6Kx16VNNI, gemmKStripBlock, gemmKActBlock)
	case f.AVXVNNI:
		for _, wt := range []quant.Type{quant.Q4_0, quant.Q5_0, quant.Q8_0, quant.IQ4_NL} {
			t.gemm[wt] = gemmYMM(gemmQ8x8VNNI, gemmStripBlock, gemmActBlock, 512)
		}
		t.gemm[quant.Q4_K] = gemmYMM(gemmQ4Kx8VNNI, gemmKStripBlock, gemmKActBlock, 0)
		t.gemm[quant.Q5_K] = gemmYMM(gemmQ4Kx8VNNI, gemmKStripBlock, gemmKActBlock, 0)
		t.gemm[quant.Q6_K] = gemmYMM(gemmQ6Kx8VNNI, gemmKStripBlock, gemmKActBlock, 0)
	default:
		t.gemm[quant.Q8_0] = gemmYMM(gemmQ8x8SignAVX2, gemmStripBlock, gemmActBlock, 512)
		t.gemm[quant.IQ4_NL] = gemmYMM(gemmQ8x8SignAVX2, gemmStripBlock, gemmActBlock, 512)
		t.gemmSigned[quant.Q8_0], t.gemmSigned[quant.IQ4_NL] = true, true
		t.gemm[quant.Q4_0] = gemmYMM(gemmQ8x8AVX2, gemmStripBlock, gemmActBlock, 512)
		t.gemm[quant.Q5_0] = gemmYMM(gemmQ8x8AVX2, gemmStripBlock, gemmActBlock, 512)
		t.gemm[quant.Q4_K] = gemmYMM(gemmQ4Kx8AVX2, gemmKStripBlock, gemmKActBlock, 0)
		t.gemm[quant.Q5_K] = gemmYMM(gemmQ4Kx8AVX2, gemmKStripBlock, gemmKActBlock, 0)
		t.gemm[quant.Q6_K] = gemmYMM(gemmQ6Kx8AVX2, gemmKStripBlock, gemmKActBlock, 0)
	}
	t.expSub = expSubAVX2Slice
	t.gelu = geluAsm(geluAVX2, 8)
	if f.AVX512VNNI { // AVX-512F is enough; the tier implies it
		t.gelu = geluAsm(geluAVX512, 16)
	}
	t.swiGLU = vec3Asm(swiGLUAVX2, 8, swiGLUGeneric)
	t.fp32ToFP16 = func(dst []uint16, src []float32) {
		dst = dst[:len(src)]
		n := len(src) &^ 7
		if n > 0 {
			fp32ToFP16AVX2(&dst[0], &src[0], n)
		}
		fp32ToFP16Generic(dst[n:], src[n:])
	}
	if f.AVX512VNNI {
		t.swiGLU = vec3Asm(swiGLUAVX512, 16, swiGLUGeneric)
	}
	secondAVX2(t)
	rowOpsAMD64(t, f)
	attnAVX2(t, f.AVX512VNNI)
	if f.AVX512BF16 {
		t.attnBF16 = attnTileBF16AVX512()
	}
	floatGEMM(t, f)
	packedAVX2(t, f)
	packedKAVX2(t, f)
	switch {
	case f.AVX512VNNI:
		t.gemv[quant.Q4_0] = blockDot(gemvQ4_0AVX512, 18, gemmActBlock)
	case f.AVXVNNI:
		t.gemv[quant.Q4_0] = blockDot(gemvQ4_0AVXVNNI, 18, gemmActBlock)
	default:
		t.gemv[quant.Q4_0] = blockDot(gemvQ4_0AVX2, 18, gemmActBlock)
	}
	t.quantQ8_0 = func(dst []byte, src []float32) {
		nb := len(src) / 32
		if nb == 0 {
			return
		}
		_ = dst[nb*q8_0Bytes-1]
		quantQ8_0AVX2(&dst[0], &src[0], nb)
	}
	actPackAVX2(t)
	t.dotF32 = func(a, b []float32) float32 {
		n := len(a)
		b = b[:n]
		m := n &^ 7
		var s float32
		if m > 0 {
			s = dotF32AVX2(&a[0], &b[0], m)
		}
		for i := m; i < n; i++ {
			s += a[i] * b[i]
		}
		return s
	}
	t.dotF16 = func(w []uint16, x []float32) float32 {
		n := len(x)
		w = w[:n]
		m := n &^ 7
		var s float32
		if m > 0 {
			s = dotF16AVX2(&w[0], &x[0], m)
		}
		for i := m; i < n; i++ {
			s += quant.FP16ToFP32(w[i]) * x[i]
		}
		return s
	}
	t.axpyF32 = func(y []float32, a float32, x []float32) {
		n := len(y)
		x = x[:n]
		m := n &^ 7
		if m > 0 {
			axpyF32AVX2(&y[0], &x[0], m, a)
		}
		for i := m; i < n; i++ {
			y[i] += a * x[i]
		}
	}
	t.axpyF16 = func(y []float32, a float32, x []uint16) {
		n := len(y)
		x = x[:n]
		m := n &^ 7
		if m > 0 {
			axpyF16AVX2(&y[0], &x[0], m, a)
		}
		for i := m; i < n; i++ {
			y[i] += a * quant.FP16ToFP32(x[i])
		}
	}
}

// blockDot wraps a pointer kernel with the slice checks that keep it in
// bounds: nb blocks of wsz and xsz bytes.
func blockDot(k func(w, x *byte, nb int) float32, wsz, xsz int) qdotFn {
	return func(w, x []byte, nb int) float32 {
		if nb <= 0 {
			return 0
		}
		_ = w[nb*wsz-1]
		_ = x[nb*xsz-1]
		return k(&w[0], &x[0], nb)
	}
}

// blockDotX4 wraps a one-weight-row × four-Q8_0-rows kernel with the slice
// checks that keep it in bounds.
func blockDotX4(k func(out *[4]float32, w, x *byte, xs int, sc *float32, nb int), wsz int) qdotx4Fn {
	return func(out *[4]float32, w, x []byte, xs int, sc []float32, nb int) {
		if nb <= 0 {
			*out = [4]float32{}
			return
		}
		_ = w[nb*wsz-1]
		_ = x[3*xs+nb*q8_0Bytes-1]
		_ = sc[3*nb+nb-1]
		k(out, &w[0], &x[0], xs, &sc[0], nb)
	}
}

//go:noescape
func gemmQ8x16VNNI(y *float32, ldy int, w, a *byte, nb int)

//go:noescape
func gemmQ8x16VNNIMX(y *float32, ldy int, w, a *byte, nb int)

//go:noescape
func gemmQ4Kx16VNNI(y *float32, ldy int, w, a *byte, nb int)

//go:noescape
func gemmQ6Kx16VNNI(y *float32, ldy int, w, a *byte, nb int)

// gemmVNNI wraps a micro-kernel with the checks that keep it in bounds: nb
// blocks of sblk strip bytes and of gemmCols·ablk group bytes, and y
// holding gemmCols rows of ldy ≥ gemmRows floats (the last one may end
// after gemmRows).
func gemmVNNI(k func(y *float32, ldy int, w, a *byte, nb int), sblk, ablk int) gemmFn {
	return func(y []float32, ldy int, w, a []byte, nb int) {
		if ldy < gemmRows {
			panic("kernels: GEMM tile stride below its width")
		}
		_ = y[(gemmCols-1)*ldy+gemmRows-1]
		if nb <= 0 {
			for c := 0; c < gemmCols; c++ {
				clear(y[c*ldy : c*ldy+gemmRows])
			}
			return
		}
		_ = w[nb*sblk-1]
		_ = a[nb*gemmCols*ablk-1]
		k(&y[0], ldy, &w[0], &a[0], nb)
	}
}

//go:noescape
func expSubAVX2(s *float32, n int, m float32) float32

// fp32ToFP16AVX2 converts n floats (n%8 == 0) as quant.FP32ToFP16 does
// (the KV cache append of every decoded and prefilled row).
//
//go:noescape
func fp32ToFP16AVX2(dst *uint16, src *float32, n int)

//go:noescape
func geluAVX2(dst, x, b *float32, n int) // n%8 == 0; b may be nil

//go:noescape
func geluAVX512(dst, x, b *float32, n int) // n%16 == 0; b may be nil

//go:noescape
func swiGLUAVX2(dst, gate, up *float32, n int)

//go:noescape
func swiGLUAVX512(dst, gate, up *float32, n int)

// expSubAVX2Slice runs the AVX2 exp over the multiple-of-8 head of s and
// the scalar expf over the tail.
func expSubAVX2Slice(s []float32, m float32) float32 {
	n := len(s) &^ 7
	var sum float32
	if n > 0 {
		sum = expSubAVX2(&s[0], n, m)
	}
	return sum + expSubGeneric(s[n:], m)
}

//go:noescape
func dotQ5_0Q8_0AVX2(w, x *byte, nb int) float32

//go:noescape
func dotQ4_1Q8_1AVX2(w, x *byte, nb int) float32

//go:noescape
func dotQ5_1Q8_1AVX2(w, x *byte, nb int) float32

//go:noescape
func dotQ5_KQ8_KAVX2(w, x *byte, nb int) float32

//go:noescape
func dotBF16AVX2(w *uint16, x *float32, n int) float32

//go:noescape
func quantQ8_1AVX2(dst *byte, src *float32, nb int)

//go:noescape
func quantQ8_KAVX2(dst *byte, src *float32, nb, stride, layout int)

// actQuant wraps a pointer quantizer with the slice checks: len(src)/blk
// blocks of bsz bytes.
func actQuant(k func(dst *byte, src *float32, nb int), blk, bsz int) func(dst []byte, src []float32) {
	return func(dst []byte, src []float32) {
		nb := len(src) / blk
		if nb == 0 {
			return
		}
		_ = dst[nb*bsz-1]
		k(&dst[0], &src[0], nb)
	}
}

// secondAVX2 installs the kernels of dot2_amd64.s.
func secondAVX2(t *table) {
	t.qdot[quant.Q5_0] = blockDot(dotQ5_0Q8_0AVX2, 22, q8_0Bytes)
	t.qdot[quant.Q4_1] = blockDot(dotQ4_1Q8_1AVX2, 20, q8_1Bytes)
	t.qdot[quant.Q5_1] = blockDot(dotQ5_1Q8_1AVX2, 24, q8_1Bytes)
	t.qdot[quant.Q5_K] = blockDot(dotQ5_KQ8_KAVX2, 176, q8_KBytes)
	t.quantQ8_1 = actQuant(quantQ8_1AVX2, 32, q8_1Bytes)
	t.quantQ8_K = func(dst []byte, src []float32) {
		if nb := len(src) / 256; nb > 0 {
			_ = dst[nb*q8_KBytes-1]
			quantQ8_KAVX2(&dst[0], &src[0], nb, q8_KBytes, layoutQ8_K)
		}
	}
	actPackKAVX2(t)
	t.dotBF16 = func(w []uint16, x []float32) float32 {
		n := len(x)
		w = w[:n]
		m := n &^ 7
		var s float32
		if m > 0 {
			s = dotBF16AVX2(&w[0], &x[0], m)
		}
		for i := m; i < n; i++ {
			s += quant.BF16ToFP32(w[i]) * x[i]
		}
		return s
	}
}

//go:noescape
func gemmQ8x8VNNI(y *float32, ldy int, w, sc, a *byte, nb int)

//go:noescape
func gemmQ4Kx8VNNI(y *float32, ldy int, w, sc, a *byte, nb int)

//go:noescape
func gemmQ6Kx8VNNI(y *float32, ldy int, w, sc, a *byte, nb int)

//go:noescape
func gemmQ8x8AVX2(y *float32, ldy int, w, sc, a *byte, nb int)

//go:noescape
func gemmQ8x8SignAVX2(y *float32, ldy int, w, sc, a *byte, nb int)

//go:noescape
func gemmQ4Kx8AVX2(y *float32, ldy int, w, sc, a *byte, nb int)

//go:noescape
func gemmQ6Kx8AVX2(y *float32, ldy int, w, sc, a *byte, nb int)

// gemmYMM builds a 16×8 tile from four calls of an 8-row × 4-column
// 256-bit kernel (strip half h: chunk bytes at 32h, fp16 scales at
// scOff+16h when scOff is set; activation rows 4q..4q+3), with the same
// bounds checks as gemmVNNI.
func gemmYMM(k func(y *float32, ldy int, w, sc, a *byte, nb int), sblk, ablk, scOff int) gemmFn {
	return func(y []float32, ldy int, w, a []byte, nb int) {
		if ldy < gemmRows {
			panic("kernels: GEMM tile stride below its width")
		}
		_ = y[(gemmCols-1)*ldy+gemmRows-1]
		if nb <= 0 {
			for c := 0; c < gemmCols; c++ {
				clear(y[c*ldy : c*ldy+gemmRows])
			}
			return
		}
		_ = w[nb*sblk-1]
		_ = a[nb*gemmCols*ablk-1]
		for h := 0; h < 2; h++ {
			sc := &w[32*h]
			if scOff > 0 {
				sc = &w[scOff+16*h]
			}
			for q := 0; q < 2; q++ {
				k(&y[4*q*ldy+8*h], ldy, &w[32*h], sc, &a[4*q*ablk], nb)
			}
		}
	}
}

//go:noescape
func gemmF32x4x5AVX512(y *float32, ldy int, w *byte, ldw int, x *float32, ldx, k int)

//go:noescape
func gemmF16x4x5AVX512(y *float32, ldy int, w *byte, ldw int, x *float32, ldx, k int)

//go:noescape
func gemmBF16x4x5AVX512(y *float32, ldy int, w *byte, ldw int, x *float32, ldx, k int)

//go:noescape
func gemmF32x3x3AVX2(y *float32, ldy int, w *byte, ldw int, x *float32, ldx, k int)

//go:noescape
func gemmF16x3x3AVX2(y *float32, ldy int, w *byte, ldw int, x *float32, ldx, k int)

//go:noescape
func gemmBF16x3x3AVX2(y *float32, ldy int, w *byte, ldw int, x *float32, ldx, k int)

// floatGEMM installs the float-weight GEMM kernels of gemmf_amd64.s:
// 4×5 tiles with AVX-512, 3×3 with AVX2.
func floatGEMM(t *table, f Features) {
	type kern = func(y *float32, ldy int, w *byte, ldw int, x *float32, ldx, k int)
	mk := func(k kern, esz, r, c, step int) floatKernel {
		return floatKernel{r: r, c: c, step: step, fn: func(y []float32, ldy int, w []byte, ldw int, x []float32, ldx, n int) {
			if n <= 0 || n%step != 0 {
				panic("kernels: float GEMM length not a multiple of its step")
			}
			_ = y[(c-1)*ldy+r-1]
			_ = w[((r-1)*ldw+n)*esz-1]
			_ = x[(c-1)*ldx+n-1]
			k(&y[0], ldy, &w[0], ldw, &x[0], ldx, n)
		}}
	}
	// The AVX-512 kernels only need AVX-512F, which every CPU with the
	// AVX512VNNI feature set has.
	if f.AVX512VNNI {
		t.gemmF[quant.F32] = mk(gemmF32x4x5AVX512, 4, 4, 5, 16)
		t.gemmF[quant.F16] = mk(gemmF16x4x5AVX512, 2, 4, 5, 16)
		t.gemmF[quant.BF16] = mk(gemmBF16x4x5AVX512, 2, 4, 5, 16)
		return
	}
	t.gemmF[quant.F32] = mk(gemmF32x3x3AVX2, 4, 3, 3, 8)
	t.gemmF[quant.F16] = mk(gemmF16x3x3AVX2, 2, 3, 3, 8)
	t.gemmF[quant.BF16] = mk(gemmBF16x3x3AVX2, 2, 3, 3, 8)
}

//go:noescape
func gemvQ4_0AVX512(w, x *byte, nb int) float32

//go:noescape
func gemvQ4_0AVXVNNI(w, x *byte, nb int) float32

//go:noescape
func gemvQ4_0AVX2(w, x *byte, nb int) float32
