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
// The lanes' inverse scales are numer[k]/max, stored in is.
func qxSumsGo(x, wv, w *[16]float32, numer *[qkx2Lanes]float32, max float32, is *[qkx2Lanes]float32, s *[2][qkx2Lanes]float32) {
	for k := 0; k < qkx2Lanes; k++ {
		is[k] = numer[k] / max
		s[0][k], s[1][k] = qxFit(x, wv, w, is[k])
	}
}

// qxFit is one lane of qxSumsGo.
func qxFit(x, wv, w *[16]float32, isc float32) (sumlx, suml2 float32) {
	for i, v := range x {
		fl := float32(max32(-32, min(31, nearestInt(float32(isc*v)))))
		sumlx += float32(wv[i] * fl)
		suml2 += float32(float32(w[i]*fl) * fl)
	}
	return sumlx, suml2
}

// qkx2Frame is the working set of one group of eight make_qkx2_quants steps
// (qkx2Group). The assembly addresses its fields by the offsets checked in
// TestQKX2FrameLayout; do not reorder them.
type qkx2Frame struct {
	xm, x, w [32]float32            // x - min, x, weights
	lv       [32][qkx2Lanes]float32 // levels: lv[i][k] for lane k
	isc      [qkx2Lanes]float32     // the lanes' trial scales
	D        [qkx2Lanes]float32     // determinants; a lane counts only if D > 0
	sc, mi   [qkx2Lanes]float32     // the lanes' least-squares scale and min
	e        [qkx2Lanes]float32     // the lanes' weighted squared error
	base     float32                // step index of lane 0
	rmin     float32
	rdelta   float32
	fnmax    float32
	span     float32 // max - min
	sumW     float32
	sumX     float32
	nmax     int32
}

// qkx2GroupGo evaluates steps base..base+7 of make_qkx2_quants' loop:
// isc[k] = (rmin + rdelta·(base+k) + nmax) / span, the levels and sums
// (qkx2SumsGo), the least-squares solve of each lane (as qkx2Solve but for
// every lane, D > 0 or not) and the errors (qkx2ErrGo).
func qkx2GroupGo(f *qkx2Frame) {
	for k := range f.isc {
		f.isc[k] = (f.rmin + float32(f.rdelta*(f.base+float32(k))) + f.fnmax) / f.span
	}
	var sums [3][qkx2Lanes]float32
	qkx2SumsGo(&f.xm, &f.x, &f.w, &f.isc, f.nmax, &f.lv, &sums)
	for k := range f.D {
		sumL, sumL2, sumXL := sums[0][k], sums[1][k], sums[2][k]
		D := float32(f.sumW*sumL2) - float32(sumL*sumL)
		scale := (float32(f.sumW*sumXL) - float32(f.sumX*sumL)) / D
		min := (float32(sumL2*f.sumX) - float32(sumL*sumXL)) / D
		if min > 0 {
			min = 0
			scale = sumXL / sumL2
		}
		f.D[k], f.sc[k], f.mi[k] = D, scale, min
	}
	qkx2ErrGo(&f.x, &f.w, &f.lv, &f.sc, &f.mi, &f.e)
}

// iq4nlSumsGo: for each lane k, the sums of quantize_row_iq4_nl_impl's fit
// with inverse scale id[k]: q = kvalues_iq4nl[best_index_int8(id[k]·x)],
// s[0][k] = Σ (w·q)·x and s[1][k] = Σ (w·q)·q, in element order.
func iq4nlSumsGo(x, w *[32]float32, id *[qkx2Lanes]float32, s *[2][qkx2Lanes]float32) {
	for k := 0; k < qkx2Lanes; k++ {
		var sumqx, sumq2 float32
		for j, v := range x {
			q := iq4nlCellValue[iq4nlCellOf(float32(id[k]*v))]
			wq := w[j] * q
			sumqx += float32(wq * v)
			sumq2 += float32(wq * q)
		}
		s[0][k], s[1][k] = sumqx, sumq2
	}
}

// qkx2Prologue holds the eight sub-blocks of a Q4_K/Q5_K super-block in
// lanes (lane j is sub-block j; xt[i][j] = x[32j+i]) for qkx2PrologueGo,
// which does, per lane, everything make_qkx2_quants and its caller do before
// the step loop. The assembly addresses the fields by the offsets checked in
// TestQKX2PrologueLayout; do not reorder them.
type qkx2Prologue struct {
	xt      [32][qkx2Lanes]float32 // in: the super-block, transposed
	wt      [32][qkx2Lanes]float32 // out: weights sqrt(Σx²/32) + |x|
	lt      [32][qkx2Lanes]float32 // out: the first fit's levels
	mn      [qkx2Lanes]float32     // out: min(x), raised to 0 if positive
	mx      [qkx2Lanes]float32     // out: max(x)
	sumW    [qkx2Lanes]float32     // out: Σ w
	sumX    [qkx2Lanes]float32     // out: Σ w·x
	scale   [qkx2Lanes]float32     // out: the first fit's scale (mx-mn)/nmax as 1/(nmax/(mx-mn))
	bestErr [qkx2Lanes]float32     // out: the first fit's weighted squared error
	fnmax   float32                // in
	nmax    int32                  // in
}

// qkx2PrologueGo: per lane, the weights of quantize_row_q4_K_ref (and
// q5_K), then make_qkx2_quants up to its step loop: min and max, Σw and
// Σw·x (starting from the first element's terms, as the C code does), min
// raised to 0, the first fit's levels and error. Lanes with max == min
// hold unused values.
func qkx2PrologueGo(p *qkx2Prologue) {
	for j := 0; j < qkx2Lanes; j++ {
		var sumX2 float32
		for i := range p.xt {
			v := p.xt[i][j]
			sumX2 += float32(v * v)
		}
		avX := sqrtf(sumX2 / 32)
		for i := range p.xt {
			p.wt[i][j] = avX + absf(p.xt[i][j])
		}
		mn, mx := p.xt[0][j], p.xt[0][j]
		sumW := p.wt[0][j]
		sumX := float32(sumW * p.xt[0][j])
		for i := 1; i < 32; i++ {
			v := p.xt[i][j]
			if v < mn {
				mn = v
			}
			if v > mx {
				mx = v
			}
			w := p.wt[i][j]
			sumW += w
			sumX += float32(w * v)
		}
		if mn > 0 {
			mn = 0
		}
		iscale := p.fnmax / (mx - mn)
		scale := 1 / iscale
		var bestError float32
		for i := range p.xt {
			v := p.xt[i][j]
			fl := float32(max32(0, min(p.nmax, nearestInt(float32(iscale*(v-mn))))))
			p.lt[i][j] = fl
			diff := float32(scale*fl) + mn - v
			bestError += float32(p.wt[i][j] * float32(diff*diff))
		}
		p.mn[j], p.mx[j], p.sumW[j], p.sumX[j] = mn, mx, sumW, sumX
		p.scale[j], p.bestErr[j] = scale, bestError
	}
}
