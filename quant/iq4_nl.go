package quant

// IQ4_NL: blocks of 32 weights in 18 bytes — fp16 d, 16 bytes of 4-bit
// indices in Q4_0 nibble order into a non-linear table; x = d·kvaluesIQ4NL[q].

const (
	qkIQ4_NL   = 32
	sizeIQ4_NL = 18
)

// kvaluesIQ4NL is ggml's kvalues_iq4nl.
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// bestIndexInt8 is ggml's best_index_int8 over the 16 table values: the
// nearest entry, the upper one unless the lower is strictly closer.
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

// quantizeIQ4_NL is ggml's quantize_iq4_nl without an importance matrix:
// quantize_row_iq4_nl_impl(32, 32, ..., ntry 7) for each block — weights
// x², a first fit from d = max/127, 15 trial scales (itry-127)/max, and a
// final index assignment with the chosen d. (quantize_row_iq4_nl_ref uses
// ntry -1 and gives other bytes; llama-quantize uses this one.)
func quantizeIQ4_NL(dst []byte, src []float32) {
	const ntry = 7
	values := &kvaluesIQ4NL
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
			if ax := absf(v); ax > amax {
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
				l := bestIndexInt8(values, al)
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
					l := bestIndexInt8(values, al)
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
		putF16(y, scale)
		var id float32
		if scale != 0 {
			id = 1 / scale
		}
		for j, v := range xb {
			L[j] = bestIndexInt8(values, float32(id*v))
		}
		for j := 0; j < 16; j++ {
			y[2+j] = L[j] | L[16+j]<<4
		}
	}
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
