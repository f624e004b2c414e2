package quant

// IQ4_NL: blocks of 32 weights in 18 bytes — fp16 d, 16 bytes of 4-bit
// indices in Q4_0 nibble order into a non-linear table; x = d·kvaluesIQ4NL[q].

const (
	qkIQ4_NL   = 32
	sizeIQ4_NL = 18
)

// kvaluesIQ4NL is ggml's kvalues_iq4nl.
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// IQ4NLValues returns ggml's kvalues_iq4nl, the 16 int8 weights an IQ4_NL
// nibble indexes (the one copy of the table in Go).
func IQ4NLValues() [16]int8 { return kvaluesIQ4NL }

// bestIndexInt8 is ggml's best_index_int8 over the 16 table values: the
// nearest entry, the upper one unless the lower is strictly closer. It is
// the specification bestIndexIQ4NL is tested against.
func bestIndexInt8(val *[16]int8, x float32) uint8 {
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

// The fast equivalent of bestIndexInt8(&kvaluesIQ4NL, x). Between table
// entries a < b the C code picks b iff !(x-a < b-x) in float32. Near the
// midpoint m = (a+b)/2 both differences are exact (they are multiples of
// ulp(x) far below 2^24 ulps), and elsewhere rounding cannot flip the
// comparison, so the choice is exactly x >= m; a NaN compares false
// everywhere and gets 15, like the C code. Every m is a multiple of 1/2, so
// the answer is constant on each cell [c/2, c/2+1/2): iq4nlCell[c+256] is
// the number of midpoints <= c/2 for x in [-128, 128). float64(x)*2+256 is
// exact unless |x| < 2^-21, where any rounding stays inside the two cells
// around 0, which share one answer. TestBestIndexIQ4NL checks all of this
// against bestIndexInt8.
var iq4nlCell = func() (t [512]uint8) {
	for c := range t {
		lo := float32(c-256) / 2
		for k := 1; k < 16; k++ {
			m := (float32(kvaluesIQ4NL[k-1]) + float32(kvaluesIQ4NL[k])) / 2
			if m <= lo {
				t[c]++
			}
		}
	}
	return t
}()

// iq4nlCellValue holds the table values of the iq4nlCell indices.
var iq4nlCellValue = func() (t [512]float32) {
	for c, i := range iq4nlCell {
		t[c] = float32(kvaluesIQ4NL[i])
	}
	return t
}()

// iq4nlCellOf returns the iq4nlCell index of x, clamped to 0 below -128 and
// to 511 at 128 and above or for NaN.
func iq4nlCellOf(x float32) int {
	f := float64(x)*2 + 256
	if f >= 0 && f < 512 {
		return int(f) & 511
	}
	if f < 0 {
		return 0
	}
	return 511 // >= 128 or NaN
}

// bestIndexIQ4NL is bestIndexInt8(&kvaluesIQ4NL, x), by table.
func bestIndexIQ4NL(x float32) uint8 { return iq4nlCell[iq4nlCellOf(x)] }

// quantizeIQ4_NL is ggml's quantize_iq4_nl without an importance matrix:
// quantize_row_iq4_nl_impl(32, 32, ..., ntry 7) for each block — weights
// x², a first fit from d = max/127, 15 trial scales (itry-127)/max, and a
// final index assignment with the chosen d. (quantize_row_iq4_nl_ref uses
// ntry -1 and gives other bytes; llama-quantize uses this one.)
//
// The fits are independent until their results are compared: with useSIMD
// all 16 run as SIMD lanes (iq4nlSearchLanes), otherwise the trials run
// three at a time (more independent float32 sums in flight); either way
// they are compared in ggml's order and each sum adds its terms in element
// order.
func quantizeIQ4_NL(dst []byte, src []float32) {
	const ntry = 7
	var weight [qkIQ4_NL]float32
	var L [qkIQ4_NL]uint8
	for i := 0; i < len(src)/qkIQ4_NL; i++ {
		xb := (*[qkIQ4_NL]float32)(src[i*qkIQ4_NL : (i+1)*qkIQ4_NL])
		y := (*[sizeIQ4_NL]byte)(dst[i*sizeIQ4_NL : (i+1)*sizeIQ4_NL])
		var amax, max float32
		for j, v := range xb {
			weight[j] = v * v
			if ax := absf(v); ax > amax {
				amax = ax
				max = v
			}
		}
		var scale float32
		if amax >= groupMaxEps && useSIMD {
			scale = iq4nlSearchLanes(xb, &weight, max)
		} else if amax >= groupMaxEps {
			d := -max / float32(kvaluesIQ4NL[0])
			id := 1 / d
			var sumqx, sumq2 float32
			for j, v := range xb {
				q := iq4nlCellValue[iq4nlCellOf(float32(id*v))]
				wq := weight[j] * q
				sumqx += float32(wq * v)
				sumq2 += float32(wq * q)
			}
			d = sumqx / sumq2
			best := d * sumqx
			var sx, s2 [2*ntry + 1]float32
			for t := 0; t < 2*ntry+1; t += 3 {
				ida := float32(t-ntry+int(kvaluesIQ4NL[0])) / max
				idb := float32(t+1-ntry+int(kvaluesIQ4NL[0])) / max
				idc := float32(t+2-ntry+int(kvaluesIQ4NL[0])) / max
				var xa, qa, xbb, qb, xc, qc float32
				for j, v := range xb {
					w := weight[j]
					q := iq4nlCellValue[iq4nlCellOf(float32(ida*v))]
					wq := w * q
					xa += float32(wq * v)
					qa += float32(wq * q)
					q = iq4nlCellValue[iq4nlCellOf(float32(idb*v))]
					wq = w * q
					xbb += float32(wq * v)
					qb += float32(wq * q)
					q = iq4nlCellValue[iq4nlCellOf(float32(idc*v))]
					wq = w * q
					xc += float32(wq * v)
					qc += float32(wq * q)
				}
				sx[t], s2[t] = xa, qa
				sx[t+1], s2[t+1] = xbb, qb
				sx[t+2], s2[t+2] = xc, qc
			}
			for t := range sx {
				sumqx, sumq2 = sx[t], s2[t]
				if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
					d = sumqx / sumq2
					best = d * sumqx
				}
			}
			scale = d
		}
		// One block per super-block: the else branch of the C code.
		putF16(y[:], scale)
		var id float32
		if scale != 0 {
			id = 1 / scale
		}
		for j, v := range xb {
			L[j] = iq4nlCell[iq4nlCellOf(float32(id*v))]
		}
		for j := 0; j < 16; j++ {
			y[2+j] = L[j] | L[16+j]<<4
		}
	}
}

// iq4nlSearchLanes is the scale search of quantizeIQ4_NL on the eight-lane
// kernel iq4nlSums: the first fit and the 15 trials are 16 independent sums,
// computed in two calls and then compared in ggml's order.
func iq4nlSearchLanes(xb, weight *[qkIQ4_NL]float32, max float32) float32 {
	const ntry = 7
	var id [2][qkx2Lanes]float32
	var sums [2][2][qkx2Lanes]float32
	id[0][0] = 1 / (-max / float32(kvaluesIQ4NL[0]))
	for t := 1; t <= 2*ntry+1; t++ {
		id[t/qkx2Lanes][t%qkx2Lanes] = float32(t-1-ntry+int(kvaluesIQ4NL[0])) / max
	}
	iq4nlSums(xb, weight, &id[0], &sums[0])
	iq4nlSums(xb, weight, &id[1], &sums[1])
	d := sums[0][0][0] / sums[0][1][0]
	best := d * sums[0][0][0]
	for t := 1; t <= 2*ntry+1; t++ {
		sumqx, sumq2 := sums[t/qkx2Lanes][0][t%qkx2Lanes], sums[t/qkx2Lanes][1][t%qkx2Lanes]
		if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
			d = sumqx / sumq2
			best = d * sumqx
		}
	}
	return d
}

// dequantizeIQ4_NL is ggml's dequantize_row_iq4_nl.
func dequantizeIQ4_NL(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qkIQ4_NL; i++ {
		b := src[i*sizeIQ4_NL : (i+1)*sizeIQ4_NL]
		y := dst[i*qkIQ4_NL : (i+1)*qkIQ4_NL]
		d := f16(b)
		for j := 0; j < 16; j++ {
			y[j] = d * float32(kvaluesIQ4NL[b[2+j]&0xF])
			y[j+16] = d * float32(kvaluesIQ4NL[b[2+j]>>4])
		}
	}
}
