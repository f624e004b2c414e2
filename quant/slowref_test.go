package quant

// A frozen copy of the quantizers as they were before the speed work (commit
// 32321e0, checked bit-exact against ggml by golden_test.go), kept only as the
// oracle for the randomized differential test in quant_diff_test.go. Every
// identifier carries a "slow" prefix; nothing here may be changed.

import (
	"encoding/binary"
	"math"
)

var slowKvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

func slowMakeQXQuants(n, nmax int, x []float32, L []int8, rmseType int) float32 {
	x = x[:n]
	L = L[:n]
	var max, amax float32
	for _, v := range x {
		if ax := slowAbsf(v); ax > amax {
			amax = ax
			max = v
		}
	}
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	fnmax := float32(nmax)
	iscale := float32(-nmax) / max
	if rmseType == 0 {
		for i, v := range x {
			l := slowNearestInt(float32(iscale * v))
			L[i] = int8(int32(nmax) + slowMax32(int32(-nmax), min(int32(nmax-1), l)))
		}
		return 1 / iscale
	}
	returnEarly := false
	if rmseType < 0 {
		rmseType = -rmseType
		returnEarly = true
	}
	weight := func(v float32) float32 {
		switch rmseType {
		case 1:
			return v * v
		case 2:
			return 1
		case 3:
			return slowAbsf(v)
		default:
			return slowSqrtf(slowAbsf(v))
		}
	}
	var sumlx, suml2 float32
	for i, v := range x {
		l := slowNearestInt(float32(iscale * v))
		l = slowMax32(int32(-nmax), min(int32(nmax-1), l))
		L[i] = int8(l + int32(nmax))
		w := weight(v)
		fl := float32(l)
		sumlx += float32(w * v * fl)
		suml2 += float32(w * fl * fl)
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	if returnEarly {
		if suml2 > 0 {
			return float32(0.5 * (scale + 1/iscale))
		}
		return 1 / iscale
	}
	best := scale * sumlx
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(fnmax + float32(0.1*float32(is))) / max
		sumlx, suml2 = 0, 0
		for _, v := range x {
			l := slowNearestInt(float32(iscale * v))
			l = slowMax32(int32(-nmax), min(int32(nmax-1), l))
			w := weight(v)
			fl := float32(l)
			sumlx += float32(w * v * fl)
			suml2 += float32(w * fl * fl)
		}
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			for i, v := range x {
				l := slowNearestInt(float32(iscale * v))
				L[i] = int8(int32(nmax) + slowMax32(int32(-nmax), min(int32(nmax-1), l)))
			}
			scale = sumlx / suml2
			best = scale * sumlx
		}
	}
	return scale
}

func slowMax32(a, b int32) int32 {
	if a > b {
		return a
	}
	return b
}

func slowMakeQKX2Quants(n, nmax int, x, weights []float32, L, Laux []uint8, rmin, rdelta float32, nstep int, useMad bool) (scale, theMin float32) {
	x = x[:n]
	weights = weights[:n]
	L = L[:n]
	Laux = Laux[:n]
	mn, mx := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < n; i++ {
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
		clear(L)
		return 0, -mn
	}
	fnmax := float32(nmax)
	iscale := fnmax / (mx - mn)
	scale = 1 / iscale
	var bestError float32
	for i, v := range x {
		l := slowNearestInt(float32(iscale * (v - mn)))
		L[i] = uint8(slowMax32(0, min(int32(nmax), l)))
		diff := float32(scale*float32(L[i])) + mn - v
		if useMad {
			diff = slowAbsf(diff)
		} else {
			diff = diff * diff
		}
		bestError += float32(weights[i] * diff)
	}
	if nstep < 1 {
		return scale, -mn
	}
	for is := 0; is <= nstep; is++ {
		iscale = (rmin + float32(rdelta*float32(is)) + fnmax) / (mx - mn)
		var sumL, sumL2, sumXL float32
		for i, v := range x {
			l := slowMax32(0, min(int32(nmax), slowNearestInt(float32(iscale*(v-mn)))))
			Laux[i] = uint8(l)
			w := weights[i]
			fl := float32(l)
			sumL += float32(w * fl)
			sumL2 += float32(w * fl * fl)
			sumXL += float32(w * fl * v)
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D > 0 {
			thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
			thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var curError float32
			for i, v := range x {
				diff := float32(thisScale*float32(Laux[i])) + thisMin - v
				if useMad {
					diff = slowAbsf(diff)
				} else {
					diff = diff * diff
				}
				curError += float32(weights[i] * diff)
			}
			if curError < bestError {
				copy(L, Laux)
				bestError = curError
				scale = thisScale
				mn = thisMin
			}
		}
	}
	return scale, -mn
}

func slowGetScaleMinK4(j int, q []byte) (d, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xF | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

func slowPackScalesK4(q []byte, ls, lm *[8]uint8) {
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

func slowKScalesMins(x []float32, L *[QK_K]uint8, nmax int, rmin, rdelta float32, nstep int, scalesOut []byte) (d16, dmin16 uint16) {
	var weights [32]float32
	var laux [32]uint8
	var scales, mins [QK_K / 32]float32
	var maxScale, maxMin float32
	for j := 0; j < QK_K/32; j++ {
		xb := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xb {
			sumX2 += float32(v * v)
		}
		avX := slowSqrtf(sumX2 / 32)
		for l, v := range xb {
			weights[l] = avX + slowAbsf(v)
		}
		scales[j], mins[j] = slowMakeQKX2Quants(32, nmax, xb, weights[:], L[32*j:32*j+32], laux[:], rmin, rdelta, nstep, false)
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
		ls[j] = min(63, uint8(slowNearestInt(float32(invScale*scales[j]))))
		lm[j] = min(63, uint8(slowNearestInt(float32(invMin*mins[j]))))
	}
	slowPackScalesK4(scalesOut, &ls, &lm)
	d16, dmin16 = FP32ToFP16(maxScale/63), FP32ToFP16(maxMin/63)
	dd, dm := FP16ToFP32(d16), FP16ToFP32(dmin16)
	for j := 0; j < QK_K/32; j++ {
		sc, m := slowGetScaleMinK4(j, scalesOut)
		ds := dd * float32(sc)
		if ds == 0 {
			continue
		}
		dms := float32(dm * float32(m))
		for ii := 0; ii < 32; ii++ {
			l := slowNearestInt((x[32*j+ii] + dms) / ds)
			L[32*j+ii] = uint8(slowMax32(0, min(int32(nmax), l)))
		}
	}
	return d16, dmin16
}

func slowQuantizeQ4_K(dst []byte, src []float32) {
	var L [QK_K]uint8
	for i := 0; i < len(src)/QK_K; i++ {
		x := src[i*QK_K : (i+1)*QK_K]
		y := dst[i*sizeQ4_K : (i+1)*sizeQ4_K]
		d16, dmin16 := slowKScalesMins(x, &L, 15, -1, 0.1, 20, y[4:16])
		binary.LittleEndian.PutUint16(y[0:], d16)
		binary.LittleEndian.PutUint16(y[2:], dmin16)
		q := y[16:]
		for j := 0; j < QK_K; j += 64 {
			for l := 0; l < 32; l++ {
				q[l] = L[j+l] | L[j+l+32]<<4
			}
			q = q[32:]
		}
	}
}

func slowQuantizeQ5_K(dst []byte, src []float32) {
	var L [QK_K]uint8
	for i := 0; i < len(src)/QK_K; i++ {
		x := src[i*QK_K : (i+1)*QK_K]
		y := dst[i*sizeQ5_K : (i+1)*sizeQ5_K]
		d16, dmin16 := slowKScalesMins(x, &L, 31, -0.5, 0.1, 15, y[4:16])
		binary.LittleEndian.PutUint16(y[0:], d16)
		binary.LittleEndian.PutUint16(y[2:], dmin16)
		qh := y[16:48]
		ql := y[48:]
		clear(qh)
		m1, m2 := uint8(1), uint8(2)
		for n := 0; n < QK_K; n += 64 {
			for j := 0; j < 32; j++ {
				l1 := L[n+j]
				if l1 > 15 {
					l1 -= 16
					qh[j] |= m1
				}
				l2 := L[n+j+32]
				if l2 > 15 {
					l2 -= 16
					qh[j] |= m2
				}
				ql[j] = l1 | l2<<4
			}
			m1 <<= 2
			m2 <<= 2
			ql = ql[32:]
		}
	}
}

func slowQuantizeQ6_K(dst []byte, src []float32) {
	var L [QK_K]int8
	var scales [QK_K / 16]float32
	for i := 0; i < len(src)/QK_K; i++ {
		x := src[i*QK_K : (i+1)*QK_K]
		y := dst[i*sizeQ6_K : (i+1)*sizeQ6_K]
		var maxScale, maxAbsScale float32
		for ib := 0; ib < QK_K/16; ib++ {
			scale := slowMakeQXQuants(16, 32, x[16*ib:], L[16*ib:], 1)
			scales[ib] = scale
			if as := slowAbsf(scale); as > maxAbsScale {
				maxAbsScale = as
				maxScale = scale
			}
		}
		if maxAbsScale < groupMaxEps {
			clear(y)
			continue
		}
		ql, qh, sc := y[0:128], y[128:192], y[192:208]
		iscale := -128 / maxScale
		d16 := FP32ToFP16(1 / iscale)
		binary.LittleEndian.PutUint16(y[208:], d16)
		for ib := 0; ib < QK_K/16; ib++ {
			sc[ib] = uint8(int8(min(127, slowNearestInt(float32(iscale*scales[ib])))))
		}
		dd := FP16ToFP32(d16)
		for j := 0; j < QK_K/16; j++ {
			d := dd * float32(int8(sc[j]))
			if d == 0 {
				continue
			}
			for ii := 0; ii < 16; ii++ {
				l := slowNearestInt(x[16*j+ii] / d)
				l = slowMax32(-32, min(31, l))
				L[16*j+ii] = int8(l + 32)
			}
		}
		for j := 0; j < QK_K; j += 128 {
			for l := 0; l < 32; l++ {
				q1 := uint8(L[j+l]) & 0xF
				q2 := uint8(L[j+l+32]) & 0xF
				q3 := uint8(L[j+l+64]) & 0xF
				q4 := uint8(L[j+l+96]) & 0xF
				ql[l] = q1 | q3<<4
				ql[l+32] = q2 | q4<<4
				qh[l] = uint8(L[j+l]>>4) | uint8(L[j+l+32]>>4)<<2 | uint8(L[j+l+64]>>4)<<4 | uint8(L[j+l+96]>>4)<<6
			}
			ql = ql[64:]
			qh = qh[32:]
		}
	}
}

func slowBestIndexInt8(val *[16]int8, x float32) uint8 {
	if x <= float32(val[0]) {
		return 0
	}
	if x >= float32(val[15]) {
		return 15
	}
	ml, mu := 0, 15
	for mu-ml > 1 {
		mav := (ml + mu) / 2
		if x < float32(val[mav]) {
			mu = mav
		} else {
			ml = mav
		}
	}
	if x-float32(val[mu-1]) < float32(val[mu])-x {
		return uint8(mu - 1)
	}
	return uint8(mu)
}

func slowQuantizeIQ4_NL(dst []byte, src []float32) {
	const ntry = 7
	values := &slowKvaluesIQ4NL
	var weight [qkIQ4_NL]float32
	var L [qkIQ4_NL]uint8
	for i := 0; i < len(src)/qkIQ4_NL; i++ {
		xb := src[i*qkIQ4_NL : (i+1)*qkIQ4_NL]
		y := dst[i*sizeIQ4_NL : (i+1)*sizeIQ4_NL]
		clear(y)
		for j, v := range xb {
			weight[j] = v * v
		}
		var amax, max float32
		for _, v := range xb {
			if ax := slowAbsf(v); ax > amax {
				amax = ax
				max = v
			}
		}
		var scale float32
		if amax >= groupMaxEps {
			d := -max / float32(values[0])
			id := 1 / d
			var sumqx, sumq2 float32
			for j, v := range xb {
				al := float32(id * v)
				l := slowBestIndexInt8(values, al)
				L[j] = l
				q := float32(values[l])
				w := weight[j]
				sumqx += float32(w * q * v)
				sumq2 += float32(w * q * q)
			}
			d = sumqx / sumq2
			best := d * sumqx
			for itry := -ntry; itry <= ntry; itry++ {
				id = float32(itry+int(values[0])) / max
				sumqx, sumq2 = 0, 0
				for j, v := range xb {
					al := float32(id * v)
					l := slowBestIndexInt8(values, al)
					q := float32(values[l])
					w := weight[j]
					sumqx += float32(w * q * v)
					sumq2 += float32(w * q * q)
				}
				if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
					d = sumqx / sumq2
					best = d * sumqx
				}
			}
			scale = d
		}
		// One block per super-block: the else branch of the C code.
		slowPutF16(y, scale)
		var id float32
		if scale != 0 {
			id = 1 / scale
		}
		for j, v := range xb {
			L[j] = slowBestIndexInt8(values, float32(id*v))
		}
		for j := 0; j < 16; j++ {
			y[2+j] = L[j] | L[16+j]<<4
		}
	}
}

func slowQuantizeQ4_0(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk4_0; i++ {
		x := src[i*qk4_0 : (i+1)*qk4_0]
		y := dst[i*size4_0 : (i+1)*size4_0]
		var amax, max float32
		for _, v := range x {
			if amax < slowAbsf(v) {
				amax = slowAbsf(v)
				max = v
			}
		}
		d := max / -8
		var id float32
		if d != 0 {
			id = 1 / d
		}
		slowPutF16(y, d)
		for j := 0; j < qk4_0/2; j++ {
			x0 := float32(x[j] * id)
			x1 := float32(x[qk4_0/2+j] * id)
			xi0 := min(15, slowToInt8(x0+8.5))
			xi1 := min(15, slowToInt8(x1+8.5))
			y[2+j] = uint8(xi0) | uint8(xi1)<<4
		}
	}
}

func slowQuantizeQ4_1(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk4_1; i++ {
		x := src[i*qk4_1 : (i+1)*qk4_1]
		y := dst[i*size4_1 : (i+1)*size4_1]
		mn := float32(math.MaxFloat32)
		mx := float32(-math.MaxFloat32)
		for _, v := range x {
			if v < mn {
				mn = v
			}
			if v > mx {
				mx = v
			}
		}
		d := (mx - mn) / 15
		var id float32
		if d != 0 {
			id = 1 / d
		}
		slowPutF16(y[0:], d)
		slowPutF16(y[2:], mn)
		for j := 0; j < qk4_1/2; j++ {
			x0 := float32((x[j] - mn) * id)
			x1 := float32((x[qk4_1/2+j] - mn) * id)
			xi0 := min(15, slowToInt8(x0+0.5))
			xi1 := min(15, slowToInt8(x1+0.5))
			y[4+j] = uint8(xi0) | uint8(xi1)<<4
		}
	}
}

func slowQuantizeQ5_0(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk5_0; i++ {
		x := src[i*qk5_0 : (i+1)*qk5_0]
		y := dst[i*size5_0 : (i+1)*size5_0]
		var amax, max float32
		for _, v := range x {
			if amax < slowAbsf(v) {
				amax = slowAbsf(v)
				max = v
			}
		}
		d := max / -16
		var id float32
		if d != 0 {
			id = 1 / d
		}
		slowPutF16(y, d)
		var qh uint32
		for j := 0; j < qk5_0/2; j++ {
			x0 := float32(x[j] * id)
			x1 := float32(x[qk5_0/2+j] * id)
			xi0 := uint8(min(31, slowToInt8(x0+16.5)))
			xi1 := uint8(min(31, slowToInt8(x1+16.5)))
			y[6+j] = xi0&0x0F | (xi1&0x0F)<<4
			qh |= uint32(xi0&0x10) >> 4 << j
			qh |= uint32(xi1&0x10) >> 4 << (j + qk5_0/2)
		}
		binary.LittleEndian.PutUint32(y[2:], qh)
	}
}

func slowQuantizeQ5_1(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk5_1; i++ {
		x := src[i*qk5_1 : (i+1)*qk5_1]
		y := dst[i*size5_1 : (i+1)*size5_1]
		mn := float32(math.MaxFloat32)
		mx := float32(-math.MaxFloat32)
		for _, v := range x {
			if v < mn {
				mn = v
			}
			if v > mx {
				mx = v
			}
		}
		d := (mx - mn) / 31
		var id float32
		if d != 0 {
			id = 1 / d
		}
		slowPutF16(y[0:], d)
		slowPutF16(y[2:], mn)
		var qh uint32
		for j := 0; j < qk5_1/2; j++ {
			x0 := float32((x[j] - mn) * id)
			x1 := float32((x[qk5_1/2+j] - mn) * id)
			xi0 := uint8(slowCvtt(x0 + 0.5))
			xi1 := uint8(slowCvtt(x1 + 0.5))
			y[8+j] = xi0&0x0F | (xi1&0x0F)<<4
			qh |= uint32(xi0&0x10) >> 4 << j
			qh |= uint32(xi1&0x10) >> 4 << (j + qk5_1/2)
		}
		binary.LittleEndian.PutUint32(y[4:], qh)
	}
}

func slowQuantizeQ8_0Ref(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk8_0; i++ {
		x := src[i*qk8_0 : (i+1)*qk8_0]
		y := dst[i*size8_0 : (i+1)*size8_0]
		var amax float32
		for _, v := range x {
			amax = slowMaxC(amax, slowAbsf(v))
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		slowPutF16(y, d)
		for j, v := range x {
			y[2+j] = uint8(slowRoundfInt8(float32(v * id)))
		}
	}
}

func slowNearestInt(f float32) int32 {
	val := float32(f) + 12582912
	i := int32(math.Float32bits(val))
	return (i & 0x007fffff) - 0x00400000
}

func slowAbsf(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

func slowSqrtf(x float32) float32 { return float32(math.Sqrt(float64(x))) }

func slowCvtt(f float32) int32 {
	if !(f > -2147483904 && f < 2147483648) { // NaN or out of range
		return math.MinInt32
	}
	return int32(f)
}

func slowToInt8(f float32) int8 { return int8(slowCvtt(f)) }

func slowMaxC(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}

func slowRoundfInt8(f float32) int8 {
	return int8(slowCvtt(float32(math.Round(float64(f)))))
}

func slowPutF16(b []byte, f float32) { binary.LittleEndian.PutUint16(b, FP32ToFP16(f)) }
