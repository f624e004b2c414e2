package kernels

import (
	"encoding/binary"
	"math"

	"github.com/cogedge/cogedge/quant"
)

// Prefill GEMM through a register-blocked micro-kernel.
//
// The micro-kernel computes a tile of gemmRows weight rows × gemmCols
// activation rows over all k. Its operands are repacked per call so that
// each 32-bit lane of a vector register belongs to one weight row:
//
//   - a weight strip (gemmRows rows, unpacked by the worker into its own
//     scratch, sized by k): per 32-element block, 8 chunks of 64 bytes —
//     chunk g holds, for row r at bytes [4r, 4r+4), the row's elements
//     4g..4g+3 as unsigned bytes u = q + offset — followed by the 16 row
//     scales as float32 (gemmStripBlock bytes per block);
//   - an activation group (gemmCols rows, written by the quantize phase):
//     per block, per row, the 32 int8 quants, the scale d as float32 and the
//     int32 correction −offset·Σq (gemmActBlock bytes per row and block).
//
// VPDPBUSD multiplies the unsigned weight bytes with a broadcast of four
// activation bytes, so one instruction advances 16 row products by four
// elements; the correction, loaded as the accumulator's initial value,
// removes the offset exactly, so the per-block integer sum equals the one
// of the plain dot. Each block's sum is then scaled by d_x (broadcast) and
// accumulated with d_w (a vector over the rows) in float32. The unpacked
// strip (k bytes per row plus scales) stays in L2 while every activation
// group streams past it.
const (
	gemmRows       = 16
	gemmCols       = 8
	gemmStripBlock = 8*64 + gemmRows*4 // 576
	gemmActBlock   = 40                // 32 qs + f32 d + i32 correction
	gemmMinN       = 8                 // below this the one-row kernels win
)

// gemmFn is the micro-kernel: out[c*16+r] = Σ over nb blocks of weight row
// r of the strip w times activation row c of the group a.
type gemmFn func(out *[gemmRows * gemmCols]float32, w, a []byte, nb int)

// gemmOffset is the value added to a signed weight quant to make it an
// unsigned byte, per weight type with a GEMM path (0: none).
func gemmOffset(wt quant.Type) int32 {
	switch wt {
	case quant.Q4_0:
		return 8
	case quant.Q5_0:
		return 16
	case quant.Q8_0, quant.IQ4_NL:
		return 128
	}
	return 0
}

// packStrip unpacks weight rows [0, nrows) of w (wrow bytes each, nrows ≤
// gemmRows) into dst in the strip layout; rows nrows..15 become zero.
func packStrip(wt quant.Type, dst, w []byte, wrow, nrows, nb int) {
	dst = dst[:nb*gemmStripBlock]
	if nrows < gemmRows {
		clear(dst)
	}
	bs := wt.TypeSize()
	for r := 0; r < nrows; r++ {
		row := w[r*wrow : r*wrow+nb*bs]
		for b := 0; b < nb; b++ {
			blk := row[b*bs : b*bs+bs]
			o := dst[b*gemmStripBlock : (b+1)*gemmStripBlock]
			var d uint16
			switch wt {
			case quant.Q4_0:
				d = binary.LittleEndian.Uint16(blk)
				lo := binary.LittleEndian.Uint64(blk[2:])
				hi := binary.LittleEndian.Uint64(blk[10:])
				const m = 0x0F0F0F0F
				put32(o, 0*64+4*r, uint32(lo)&m)
				put32(o, 1*64+4*r, uint32(lo>>32)&m)
				put32(o, 2*64+4*r, uint32(hi)&m)
				put32(o, 3*64+4*r, uint32(hi>>32)&m)
				put32(o, 4*64+4*r, uint32(lo>>4)&m)
				put32(o, 5*64+4*r, uint32(lo>>36)&m)
				put32(o, 6*64+4*r, uint32(hi>>4)&m)
				put32(o, 7*64+4*r, uint32(hi>>36)&m)
			case quant.Q8_0:
				d = binary.LittleEndian.Uint16(blk)
				for g := 0; g < 8; g++ {
					put32(o, g*64+4*r, binary.LittleEndian.Uint32(blk[2+4*g:])^0x80808080)
				}
			case quant.Q5_0:
				d = binary.LittleEndian.Uint16(blk)
				qh := binary.LittleEndian.Uint32(blk[2:])
				for e := 0; e < 16; e++ {
					q := blk[6+e]
					o[(e/4)*64+4*r+e%4] = q&0xF | byte((qh>>e)&1)<<4
					o[(4+e/4)*64+4*r+e%4] = q>>4 | byte((qh>>(e+16))&1)<<4
				}
			case quant.IQ4_NL:
				d = binary.LittleEndian.Uint16(blk)
				for e := 0; e < 16; e++ {
					q := blk[2+e]
					o[(e/4)*64+4*r+e%4] = byte(iq4nlValues[q&0xF]) ^ 0x80
					o[(4+e/4)*64+4*r+e%4] = byte(iq4nlValues[q>>4]) ^ 0x80
				}
			}
			binary.LittleEndian.PutUint32(o[8*64+4*r:], math.Float32bits(quant.FP16ToFP32(d)))
		}
	}
}

func put32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:off+4], v) }

// packActRow rewrites one Q8_0-quantized activation row (nb blocks in src)
// into its slot of the group layout: dst is the row's group, r its index
// in the group.
func packActRow(dst, src []byte, r, nb int, offset int32) {
	for b := 0; b < nb; b++ {
		s := src[b*q8_0Bytes : (b+1)*q8_0Bytes]
		o := dst[(b*gemmCols+r)*gemmActBlock : (b*gemmCols+r+1)*gemmActBlock]
		copy(o[:32], s[2:34])
		var sum int32
		for _, q := range s[2:34] {
			sum += int32(int8(q))
		}
		binary.LittleEndian.PutUint32(o[32:], math.Float32bits(f16(s)))
		binary.LittleEndian.PutUint32(o[36:], uint32(-offset*sum))
	}
}

// useGEMM reports whether this call goes through the micro-kernel.
func (j *matmulJob) useGEMM() bool {
	return j.n >= gemmMinN && j.act == quant.Q8_0 && impl.gemm[j.wt] != nil
}

// gemmTask computes strip s (weight rows [16s, 16s+16)) against activation
// groups [g0, g1) on worker w.
func (j *matmulJob) gemmTask(p *Pool, w, s, g0, g1 int) {
	strip := p.strips[w][:j.nb*gemmStripBlock]
	i0 := s * gemmRows
	nrows := min(gemmRows, j.rows-i0)
	packStrip(j.wt, strip, j.w[i0*j.wrow:], j.wrow, nrows, j.nb)
	out := &p.gout[w]
	gsz := j.nb * gemmCols * gemmActBlock
	kern := impl.gemm[j.wt]
	for g := g0; g < g1; g++ {
		kern(out, strip, j.ag[g*gsz:(g+1)*gsz], j.nb)
		ncols := min(gemmCols, j.n-g*gemmCols)
		for c := 0; c < ncols; c++ {
			copy(j.y[(g*gemmCols+c)*j.rows+i0:(g*gemmCols+c)*j.rows+i0+nrows], out[c*gemmRows:c*gemmRows+nrows])
		}
	}
}
