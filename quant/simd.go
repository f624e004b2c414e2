package quant

// Eight-lane kernels of the K-quant searches. A lane is one trial scale of
// make_qkx2_quants or make_qx_quants; every lane adds its terms in ggml's
// element order with ggml's float32 operations, so a lane's result is
// bit-for-bit what the scalar C loop computes for that trial. Lanes are
// independent, which is what lets SIMD registers hold eight trials at once.
// Each kernel has a Go twin (the specification, used when useSIMD is false)
// and, on amd64 with AVX2, an assembly version (simd_amd64.s).

// qkx2Lanes is the lane count of the kernels.
const qkx2Lanes = 8

// qkx2SumsGo: for each lane k, the levels lv[i][k] =
// clamp(nearest_int(is[k]·xm[i]), 0, nmax) as float32 and the sums of
// make_qkx2_quants' step loop: s[0][k] = Σ w·l, s[1][k] = Σ (w·l)·l,
// s[2][k] = Σ (w·l)·x, in element order.
func qkx2SumsGo(xm, x, w *[32]float32, is *[qkx2Lanes]float32, nmax int32, lv *[32][qkx2Lanes]float32, s *[3][qkx2Lanes]float32) {
	for k := 0; k < qkx2Lanes; k++ {
		isc := is[k]
		var sumL, sumL2, sumXL float32
		for i := range xm {
			fl := float32(max32(0, min(nmax, nearestInt(float32(isc*xm[i])))))
			lv[i][k] = fl
			wf := float32(w[i] * fl)
			sumL += wf
			sumL2 += float32(wf * fl)
			sumXL += float32(wf * x[i])
		}
		s[0][k], s[1][k], s[2][k] = sumL, sumL2, sumXL
	}
}

// qkx2ErrGo: for each lane k, make_qkx2_quants' error
// e[k] = Σ w·((sc[k]·lv[i][k] + mi[k]) - x)², in element order.
func qkx2ErrGo(x, w *[32]float32, lv *[32][qkx2Lanes]float32, sc, mi, e *[qkx2Lanes]float32) {
	for k := 0; k < qkx2Lanes; k++ {
		var cur float32
		for i, v := range x {
			diff := float32(sc[k]*lv[i][k]) + mi[k] - v
			cur += float32(w[i] * float32(diff*diff))
		}
		e[k] = cur
	}
}

// qxSumsGo: for each lane k, the sums of make_qx_quants' trial loop with
// nmax 32 and weights x²: l = clamp(nearest_int(is[k]·x), -32, 31),
// s[0][k] = Σ (x²·x)·l and s[1][k] = Σ (x²·l)·l, in element order; wv[i]
// holds x²·x and w[i] holds x².
func qxSumsGo(x, wv, w *[16]float32, is *[qkx2Lanes]float32, s *[2][qkx2Lanes]float32) {
	for k := 0; k < qkx2Lanes; k++ {
		isc := is[k]
		var sumlx, suml2 float32
		for i, v := range x {
			fl := float32(max32(-32, min(31, nearestInt(float32(isc*v)))))
			sumlx += float32(wv[i] * fl)
			suml2 += float32(float32(w[i]*fl) * fl)
		}
		s[0][k], s[1][k] = sumlx, suml2
	}
}
