package quant

import "math"

// Shared search routines of the K-quants, ported from ggml-quants.c with the
// same float32 operation order (see the notes in codec.go).

// makeQXQuants is ggml's make_qx_quants(16, 32, x, L, 1, NULL), the only
// form the reference quantizers use (Q6_K): symmetric quantization of x to
// L[i] in [0, 64) around 32, searching 18 scales around -32/max for the
// best least-squares fit with weights x². It returns the scale.
//
// The 19 fits (the first one and the 18 trials) do not depend on each
// other, only the choice among them does: their sums are computed on the
// eight-lane kernel qxSums, then compared in ggml's order, and the levels
// are computed once, for the fit that was chosen last.
func makeQXQuants(x *[16]float32, L *[16]int8) float32 {
	const nmax = 32
	amax, max := absMax16(x)
	if amax < groupMaxEps {
		*L = [16]int8{}
		return 0
	}
	var w, wv [16]float32
	for i, v := range x {
		w[i] = v * v
		wv[i] = w[i] * v
	}
	var isc [3][qkx2Lanes]float32 // fit f's inverse scale qxNumer[f]/max
	var sums [3][2][qkx2Lanes]float32
	if useSIMD {
		for g := range isc {
			qxSums(x, &wv, &w, &qxNumer[g], max, &isc[g], &sums[g])
		}
	} else {
		for f := 0; f <= 18; f++ {
			g, k := f/qkx2Lanes, f%qkx2Lanes
			isc[g][k] = qxNumer[g][k] / max
			sums[g][0][k], sums[g][1][k] = qxFit(x, &wv, &w, isc[g][k])
		}
	}
	sumlx, suml2 := sums[0][0][0], sums[0][1][0]
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := scale * sumlx
	chosen := isc[0][0]
	for f := 1; f <= 18; f++ {
		sumlx, suml2 = sums[f/qkx2Lanes][0][f%qkx2Lanes], sums[f/qkx2Lanes][1][f%qkx2Lanes]
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			scale = sumlx / suml2
			best = scale * sumlx
			chosen = isc[f/qkx2Lanes][f%qkx2Lanes]
		}
	}
	for i, v := range x {
		l := nearestInt(float32(chosen * v))
		L[i] = int8(int32(nmax) + max32(-nmax, min(nmax-1, l)))
	}
	return scale
}

// qxNumer holds the numerators of make_qx_quants' inverse scales for nmax
// 32, fit f at [f/8][f%8]: fit 0 (the first fit) is -nmax, fits 1..18 are
// the trials is = -9..-1, 1..9: -(nmax + 0.1·is), in ggml's float32
// operations; lanes 19..23 repeat fit 0.
var qxNumer = func() (t [3][qkx2Lanes]float32) {
	const nmax = 32
	fnmax := float32(nmax)
	for f := 0; f < 3*qkx2Lanes; f++ {
		v := float32(-nmax)
		if f >= 1 && f <= 18 {
			is := f - 10 // fits 1..9: is = -9..-1
			if f > 9 {
				is = f - 9 // fits 10..18: is = 1..9
			}
			v = -(fnmax + float32(0.1*float32(is)))
		}
		t[f/qkx2Lanes][f%qkx2Lanes] = v
	}
	return t
}()

// absMax16 returns the largest |x[i]| and the first x[i] that has it, as
// the loop `if fabsf(x[i]) > amax { amax = fabsf(x[i]); max = x[i] }` does
// from amax = max = 0 (NaNs never win), without unpredictable branches:
// for non-negative floats the bit patterns order like the values.
func absMax16(x *[16]float32) (amax, max float32) {
	var ab uint32
	mi := 0
	for i, v := range x {
		b := math.Float32bits(v) &^ (1 << 31)
		if b > 0x7f800000 { // NaN
			b = 0
		}
		if b > ab {
			ab, mi = b, i
		}
	}
	if ab == 0 {
		return 0, 0
	}
	return math.Float32frombits(ab), x[mi]
}

func max32(a, b int32) int32 {
	if a > b {
		return a
	}
	return b
}

// makeQKX2Quants is ggml's make_qkx2_quants for n = 32 and use_mad false
// over f.x with weights f.w (f.rmin, f.rdelta, f.fnmax, f.nmax set):
// asymmetric quantization of x to L[i] in [0, nmax] with a scale and a min,
// searching nstep+1 scales (rmin + rdelta·is + nmax)/(max-min) and solving
// the weighted 2×2 least squares for each. It returns the scale and -min
// (>= 0 in practice).
//
// The step loop runs on eight-lane kernels when useSIMD is set
// (qkx2SearchLanes), else here one step at a time.
func makeQKX2Quants(f *qkx2Frame, L *[32]uint8, nstep int) (scale, theMin float32) {
	x, weights, xm := &f.x, &f.w, &f.xm
	rmin, rdelta, fnmax, nmax32 := f.rmin, f.rdelta, f.fnmax, f.nmax
	mn, mx := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < 32; i++ {
		if x[i] < mn {
			mn = x[i]
		}
		if x[i] > mx {
			mx = x[i]
		}
		w := weights[i]
		sumW += w
		sumX += float32(w * x[i])
	}
	if mn > 0 {
		mn = 0
	}
	if mx == mn {
		*L = [32]uint8{}
		return 0, -mn
	}
	for i, v := range x { // x - mn for the current mn
		xm[i] = v - mn
	}
	iscale := fnmax / (mx - mn)
	scale = 1 / iscale
	var bestError float32
	for i, v := range x {
		l := max32(0, min(nmax32, nearestInt(float32(iscale*xm[i]))))
		L[i] = uint8(l)
		diff := float32(scale*float32(l)) + mn - v
		diff = diff * diff
		bestError += float32(weights[i] * diff)
	}
	if nstep < 1 {
		return scale, -mn
	}
	if useSIMD {
		f.sumW, f.sumX = sumW, sumX
		return qkx2SearchLanes(f, L, nstep, mn, mx, scale, bestError)
	}
	var laux [32]float32
	for is := 0; is <= nstep; is++ {
		iscale := (rmin + float32(rdelta*float32(is)) + fnmax) / (mx - mn)
		var sumL, sumL2, sumXL float32
		for i := range xm {
			fl := float32(max32(0, min(nmax32, nearestInt(float32(iscale*xm[i])))))
			laux[i] = fl
			wf := float32(weights[i] * fl)
			sumL += wf
			sumL2 += float32(wf * fl)
			sumXL += float32(wf * x[i])
		}
		D, thisScale, thisMin := qkx2Solve(sumW, sumX, sumL, sumL2, sumXL)
		if !(D > 0) {
			continue
		}
		var curError float32
		for i, v := range x {
			diff := float32(thisScale*laux[i]) + thisMin - v
			curError += float32(weights[i] * float32(diff*diff))
		}
		if curError < bestError {
			for i, f := range laux {
				L[i] = uint8(f)
			}
			bestError, scale = curError, thisScale
			if math.Float32bits(thisMin) != math.Float32bits(mn) {
				mn = thisMin
				for i, v := range x {
					xm[i] = v - mn
				}
			}
		}
	}
	return scale, -mn
}

// kSubBlocksLanes is kScalesMins' per-sub-block search on the lane
// kernels: the prologue of all eight sub-blocks at once, then each one's
// step search.
func kSubBlocksLanes(x []float32, L *[QK_K]uint8, f *qkx2Frame, nstep int, scales, mins *[QK_K / 32]float32) {
	var p qkx2Prologue
	for i := range p.xt {
		for j := range p.xt[i] {
			p.xt[i][j] = x[32*j+i]
		}
	}
	p.fnmax, p.nmax = f.fnmax, f.nmax
	qkx2PrologueRun(&p)
	for j := 0; j < QK_K/32; j++ {
		f.x = [32]float32(x[32*j : 32*j+32])
		scales[j], mins[j] = makeQKX2QuantsLanes(f, &p, j, (*[32]uint8)(L[32*j:32*j+32]), nstep)
	}
}

// makeQKX2QuantsLanes is makeQKX2Quants for sub-block j after
// qkx2PrologueRun did the weights and everything before the step loop for
// all eight sub-blocks at once.
func makeQKX2QuantsLanes(f *qkx2Frame, p *qkx2Prologue, j int, L *[32]uint8, nstep int) (scale, theMin float32) {
	for i := range f.w {
		f.w[i] = p.wt[i][j]
	}
	mn, mx := p.mn[j], p.mx[j]
	if mx == mn {
		*L = [32]uint8{}
		return 0, -mn
	}
	for i := range L {
		L[i] = uint8(p.lt[i][j])
	}
	if nstep < 1 {
		return p.scale[j], -mn
	}
	for i, v := range f.x {
		f.xm[i] = v - mn
	}
	f.sumW, f.sumX = p.sumW[j], p.sumX[j]
	return qkx2SearchLanes(f, L, nstep, mn, mx, p.scale[j], p.bestErr[j])
}

// qkx2SearchLanes is the step loop of makeQKX2Quants on the eight-lane
// kernel qkx2Group. A step depends on the earlier ones only through min,
// which changes only when a step is accepted (about 3 of 21), so eight steps
// are evaluated speculatively with the current min and then compared in
// ggml's order; after an accepted step that changed min, the rest of the
// group is dropped and evaluation resumes at the next step with the new min.
func qkx2SearchLanes(f *qkx2Frame, L *[32]uint8, nstep int, mn, mx, scale, bestError float32) (float32, float32) {
	for is := 0; is <= nstep; {
		f.base = float32(is)
		f.span = mx - mn
		qkx2Group(f)
		g := min(qkx2Lanes, nstep+1-is)
		next := is + g
		for k := 0; k < g; k++ {
			if f.D[k] > 0 && f.e[k] < bestError {
				for i := range L {
					L[i] = uint8(f.lv[i][k])
				}
				bestError, scale = f.e[k], f.sc[k]
				if math.Float32bits(f.mi[k]) != math.Float32bits(mn) {
					mn = f.mi[k]
					for i, v := range f.x {
						f.xm[i] = v - mn
					}
					next = is + k + 1
					break
				}
			}
		}
		is = next
	}
	return scale, -mn
}

// qkx2Solve is the 2×2 weighted least squares of make_qkx2_quants for one
// step: the determinant D and, when D > 0, the step's scale and min.
func qkx2Solve(sumW, sumX, sumL, sumL2, sumXL float32) (D, scale, min float32) {
	D = float32(sumW*sumL2) - float32(sumL*sumL)
	if D > 0 {
		scale = (float32(sumW*sumXL) - float32(sumX*sumL)) / D
		min = (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
		if min > 0 {
			min = 0
			scale = sumXL / sumL2
		}
	}
	return D, scale, min
}

// ScaleMinK4 is ggml's get_scale_min_k4: the 6-bit scale and min of
// sub-block j (0..7) of a Q4_K or Q5_K super-block from its 12 packed
// scale bytes q.
func ScaleMinK4(j int, q []byte) (d, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xF | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

// packScalesK4 stores the eight 6-bit scales ls and mins lm into q[0:12] as
// quantize_row_q4_K_ref does.
func packScalesK4(q []byte, ls, lm *[8]uint8) {
	for j := 0; j < 8; j++ {
		if j < 4 {
			q[j] = ls[j]
			q[j+4] = lm[j]
		} else {
			q[j+4] = ls[j]&0xF | (lm[j]&0xF)<<4
			q[j-4] |= (ls[j] >> 4) << 6
			q[j] |= (lm[j] >> 4) << 6
		}
	}
}

// kScalesMins runs the per-sub-block search shared by Q4_K and Q5_K over one
// super-block x, writes the packed scales to scalesOut and returns the fp16
// bits of d and dmin, leaving the final levels in L (re-quantized with the
// decoded scales, as ggml does).
func kScalesMins(x []float32, L *[QK_K]uint8, nmax int, rmin, rdelta float32, nstep int, scalesOut []byte) (d16, dmin16 uint16) {
	var f qkx2Frame
	f.rmin, f.rdelta, f.fnmax, f.nmax = rmin, rdelta, float32(nmax), int32(nmax)
	var scales, mins [QK_K / 32]float32
	var maxScale, maxMin float32
	if useSIMD {
		kSubBlocksLanes(x, L, &f, nstep, &scales, &mins)
	} else {
		for j := 0; j < QK_K/32; j++ {
			f.x = [32]float32(x[32*j : 32*j+32])
			var sumX2 float32
			for _, v := range f.x {
				sumX2 += float32(v * v)
			}
			avX := sqrtf(sumX2 / 32)
			for l, v := range f.x {
				f.w[l] = avX + absf(v)
			}
			scales[j], mins[j] = makeQKX2Quants(&f, (*[32]uint8)(L[32*j:32*j+32]), nstep)
		}
	}
	for j := 0; j < QK_K/32; j++ {
		if scales[j] > maxScale {
			maxScale = scales[j]
		}
		if mins[j] > maxMin {
			maxMin = mins[j]
		}
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	var ls, lm [8]uint8
	for j := 0; j < QK_K/32; j++ {
		ls[j] = min(63, uint8(nearestInt(float32(invScale*scales[j]))))
		lm[j] = min(63, uint8(nearestInt(float32(invMin*mins[j]))))
	}
	packScalesK4(scalesOut, &ls, &lm)
	d16, dmin16 = FP32ToFP16(maxScale/63), FP32ToFP16(maxMin/63)
	dd, dm := FP16ToFP32(d16), FP16ToFP32(dmin16)
	for j := 0; j < QK_K/32; j++ {
		sc, m := ScaleMinK4(j, scalesOut)
		ds := dd * float32(sc)
		if ds == 0 {
			continue
		}
		dms := float32(dm * float32(m))
		for ii := 0; ii < 32; ii++ {
			l := nearestInt((x[32*j+ii] + dms) / ds)
			L[32*j+ii] = uint8(max32(0, min(int32(nmax), l)))
		}
	}
	return d16, dmin16
}
