package kernels

import (
	"encoding/binary"
	"math"
)

// gemmStripGeneric is the twin of the arm64 prefill micro-kernel for the
// 32-element types (gemm.go's strip and group layouts): y[c·ldy+r] for r <
// gemmRows, c < gemmCols over nb blocks. Per block and output the integer
// sum is the slot's correction plus the products of the strip's bytes as
// int8 (Q4_0 and Q5_0 bytes q+offset are below 32; Q8_0 and IQ4_NL strips
// must be signed, table.gemmSigned) with the activation quants; it is added to one float accumulator
// per output as float32(isum)·(d_w·d_x), fused.
func gemmStripGeneric(y []float32, ldy int, w, a []byte, nb int) {
	gemmStripTwin(y, ldy, w, a, nb, false)
}

// gemmStripGenericMX is gemmStripGeneric for groups written by
// packActRowMX (table.gemmMX): the slot's scale is an exponent e and the
// block's factor d_w·2^e (exact). It is the twin of the amd64 kernel
// gemmQ8x16VNNIMX, which scales the integer sum by 2^e (VSCALEFPS, exact)
// and fuses the product with d_w into the accumulator: the same exact
// product, rounded once. Its weight bytes are unsigned, as VPDPBUSD reads
// them (IQ4_NL's offset 128 leaves int8).
func gemmStripGenericMX(y []float32, ldy int, w, a []byte, nb int) {
	gemmStripTwin(y, ldy, w, a, nb, true)
}

func gemmStripTwin(y []float32, ldy int, w, a []byte, nb int, mx bool) {
	var acc [gemmCols][gemmRows]float32
	for b := 0; b < nb; b++ {
		sb := w[b*gemmStripBlock : (b+1)*gemmStripBlock]
		for c := 0; c < gemmCols; c++ {
			xb := a[(b*gemmCols+c)*gemmActBlock : (b*gemmCols+c+1)*gemmActBlock]
			dx := math.Float32frombits(binary.LittleEndian.Uint32(xb[32:]))
			if mx {
				dx = pow2f(dx)
			}
			corr := int32(binary.LittleEndian.Uint32(xb[36:]))
			for r := 0; r < gemmRows; r++ {
				isum := corr
				for k := 0; k < 8; k++ {
					for e := 0; e < 4; e++ {
						wq := int32(int8(sb[64*k+4*r+e]))
						if mx { // VPDPBUSD: unsigned weight bytes
							wq = int32(sb[64*k+4*r+e])
						}
						isum += wq * int32(int8(xb[4*k+e]))
					}
				}
				acc[c][r] = fmaF32(float32(isum), f16(sb[512+2*r:])*dx, acc[c][r])
			}
		}
	}
	for c := range acc {
		copy(y[c*ldy:c*ldy+gemmRows], acc[c][:])
	}
}
