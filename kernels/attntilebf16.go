package kernels

import (
	"math"

	"github.com/cogedge/cogedge/quant"
)

// The bf16 variant of the tiled attention path (AttnParams.BF16): the
// scaled queries, the keys, the softmax probabilities and the values are
// rounded to bfloat16 and their products summed in float32 by the AVX-512
// BF16 dot product (VDPBF16PS: per 32-bit lane, acc += a.hi·b.hi, then
// acc += a.lo·b.lo). The online softmax stays in float32. Pairs of bf16
// sit in 32-bit words, low half first:
//
//	qt:  HeadDim/2 × qs words, word (i, r) = (q[r][2i], q[r][2i+1])
//	k:   nk rows of HeadDim bf16 (word i of row t is (k[t][2i], k[t][2i+1]))
//	v:   ⌈nk/2⌉ × HeadDim words, word (u, d) = (v[2u][d], v[2u+1][d])
//	p:   ⌈nk/2⌉ × qs words, word (u, r) = (p[2u][r], p[2u+1][r])
//
// so scores and values are sums over word pairs, with zero words where an
// odd key count leaves the second half of the last pair without a key.
// The generic functions below emulate the instructions bit for bit
// (bf16Round and dpBF16): they are the twins the assembly is tested
// against.

// attnTileBF16 is one implementation of the bf16 tile kernels. Slices of
// words are []uint16 of twice the length (word w at [2w], [2w+1]).
type attnTileBF16 struct {
	// scores: st[t·qs+r] = Σ_{i<hd/2} dot(qt word (i, r), k word (t, i))
	// for t < nk, r < nl (nl ≤ qs, multiples of attnTileLanes for the
	// assembly), summed from 0 in the order of i.
	scores func(st []float32, qs, nl int, qt, k []uint16, nk, hd int)
	// values: acc[r·hd+d] = c[r]·acc[r·hd+d], then += dot(p word (u, r),
	// v word (u, d)) for u < nu in order; r < nl, d < hd.
	values func(acc []float32, hd int, p []uint16, qs, nl int, v []uint16, nu int, c []float32)
	// gatherK: dst[t·hd+d] = bf16 src[t·ld+d] for t < rows, d < hd: a
	// block of K rows.
	gatherK func(dst []uint16, src []float32, ld, rows, hd int)
	// pairRows: dst word (u, d) = (bf16 src[2u·ld+d], bf16
	// src[(2u+1)·ld+d]) for u < ⌈rows/2⌉, d < hd, the second half 0 past
	// row rows−1: a block of V rows (ld the cache stride), the
	// probabilities after the softmax (ld = hd = qs, rows = nk) and the
	// float32 qt (ld = hd = qs, rows = HeadDim).
	pairRows func(dst []uint16, src []float32, ld, rows, hd int)
}

var attnTileBF16Generic = attnTileBF16{attnScoresBF16Generic, attnValuesBF16Generic, attnGatherKBF16Generic, attnPairRowsBF16Generic}

// bf16Round is VCVTNEPS2BF16 on one float: round to nearest even, zero
// and denormal inputs to a zero of their sign, NaN truncated and quieted.
func bf16Round(f float32) uint16 {
	u := math.Float32bits(f)
	switch {
	case u&0x7F800000 == 0:
		return uint16(u>>16) & 0x8000
	case u&0x7FFFFFFF > 0x7F800000:
		return uint16(u>>16) | 0x40
	}
	return quant.FP32ToBF16(f)
}

// bf16DAZ is a bf16 operand of VDPBF16PS as a float32: denormals are zero.
func bf16DAZ(h uint16) float32 {
	if h&0x7F80 == 0 {
		h &= 0x8000
	}
	return math.Float32frombits(uint32(h) << 16)
}

// ftz flushes a denormal float32 to a zero of its sign.
func ftz(f float32) float32 {
	if u := math.Float32bits(f); u&0x7F800000 == 0 {
		return math.Float32frombits(u & 0x80000000)
	}
	return f
}

// dpBF16 is one lane of VDPBF16PS: acc + a.hi·b.hi rounded once to
// float32, then + a.lo·b.lo rounded once, denormal inputs (acc too)
// read as zero and denormal results flushed to zero. The single rounding is
// observable: +0 plus a negative product too small for float32 is −0.
func dpBF16(acc float32, alo, ahi, blo, bhi uint16) float32 {
	acc = ftz(fmaF32(bf16DAZ(ahi), bf16DAZ(bhi), ftz(acc)))
	return ftz(fmaF32(bf16DAZ(alo), bf16DAZ(blo), acc))
}

func attnScoresBF16Generic(st []float32, qs, nl int, qt, k []uint16, nk, hd int) {
	for t := 0; t < nk; t++ {
		kt := k[t*hd : t*hd+hd]
		for r := 0; r < nl; r++ {
			var s float32
			for i := 0; i < hd/2; i++ {
				w := 2 * (i*qs + r)
				s = dpBF16(s, qt[w], qt[w+1], kt[2*i], kt[2*i+1])
			}
			st[t*qs+r] = s
		}
	}
}

func attnValuesBF16Generic(acc []float32, hd int, p []uint16, qs, nl int, v []uint16, nu int, c []float32) {
	for r := 0; r < nl; r++ {
		a := acc[r*hd : r*hd+hd]
		for d := range a {
			x := a[d] * c[r]
			for u := 0; u < nu; u++ {
				pw, vw := 2*(u*qs+r), 2*(u*hd+d)
				x = dpBF16(x, p[pw], p[pw+1], v[vw], v[vw+1])
			}
			a[d] = x
		}
	}
}

func attnGatherKBF16Generic(dst []uint16, src []float32, ld, rows, hd int) {
	for t := 0; t < rows; t++ {
		for d, x := range src[t*ld : t*ld+hd] {
			dst[t*hd+d] = bf16Round(x)
		}
	}
}

func attnPairRowsBF16Generic(dst []uint16, src []float32, ld, rows, hd int) {
	for u := 0; u < (rows+1)/2; u++ {
		for d := 0; d < hd; d++ {
			w := 2 * (u*hd + d)
			dst[w], dst[w+1] = bf16Round(src[2*u*ld+d]), 0
			if 2*u+1 < rows {
				dst[w+1] = bf16Round(src[(2*u+1)*ld+d])
			}
		}
	}
}
