package kernels

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cogedge/cogedge/kernels/ref"
	"github.com/cogedge/cogedge/quant"
)

// Quantize-and-pack of Q8_0 activations. The GEMM (group layout) and GEMV
// (linear slots) kernels read an activation block as a gemmActBlock slot:
// the 32 int8 quants, the scale d as float32 and the int32 correction
// −offset·Σq. table.packQ8_0 writes those slots straight from the float
// row, with the bytes QuantizeActivations followed by packActBlocks would
// give on the same implementation (its quantizer's rounding, NaN and
// infinity handling included: the assembly repeats the instruction
// sequence of that tier's Q8_0 quantizer), without the intermediate Q8_0
// row. Where a tier's quantizer differs from the generic code, the slots
// differ the same way: on amd64, Q8_0 and Q8_K blocks holding a NaN or an
// infinity, and Q8_0 blocks whose scale is subnormal (1/d overflows; the
// x·id of ±Inf or NaN convert to −128 where ref.RoundEven saturates). Such
// activations are already broken upstream; TestQuantizePack holds every
// tier to the generic bytes on rows without them.

// packQ8_0Fn quantizes len(src)/32 blocks of src to Q8_0 and writes block b
// as a gemmActBlock slot at dst[b·stride:], stride ≥ gemmActBlock; the
// bytes between slots are left alone. offset is the weight offset the
// correction removes (gemmOffset, 0 for signed strips).
type packQ8_0Fn func(dst []byte, stride int, src []float32, offset int32)

// packActBlocks rewrites nb Q8_0 blocks of src into gemmActBlock slots
// stride bytes apart in dst: with stride gemmCols·gemmActBlock one row's
// slots of an activation group, with gemmActBlock a packActLinear row.
func packActBlocks(dst []byte, stride int, src []byte, nb int, offset int32) {
	for b := 0; b < nb; b++ {
		s := src[b*q8_0Bytes : (b+1)*q8_0Bytes]
		o := dst[b*stride : b*stride+gemmActBlock]
		copy(o[:32], s[2:34])
		var sum int32
		for _, q := range s[2:34] {
			sum += int32(int8(q))
		}
		binary.LittleEndian.PutUint32(o[32:], math.Float32bits(f16(s)))
		binary.LittleEndian.PutUint32(o[36:], uint32(-offset*sum))
	}
}

// packQ8_0Generic is the generic implementation and the twin of the
// assembly: the two steps, ref.QuantizeQ8_0 and packActBlocks, one block
// at a time through a block on the stack.
func packQ8_0Generic(dst []byte, stride int, src []float32, offset int32) {
	var blk [q8_0Bytes]byte
	nb := packBlocks(dst, stride, src, 32, gemmActBlock)
	for b := 0; b < nb; b++ {
		ref.QuantizeQ8_0(blk[:], src[32*b:32*b+32])
		packActBlocks(dst[b*stride:], stride, blk[:], 1, offset)
	}
}

// packBlocks checks a quantize-and-pack call's slices (blocks of blk
// floats into slots of slot bytes) and returns its number of blocks; a
// stride below a slot or a dst too short for the last slot is a
// programming error and panics.
func packBlocks(dst []byte, stride int, src []float32, blk, slot int) int {
	nb := len(src) / blk
	if nb == 0 {
		return 0
	}
	if stride < slot || len(dst) < (nb-1)*stride+slot {
		panic(fmt.Sprintf("kernels: quantize-and-pack: %d blocks at stride %d need %d bytes, have %d",
			nb, stride, (nb-1)*stride+slot, len(dst)))
	}
	return nb
}

// packQ8_0Asm wraps an assembly kernel (dst, stride, src, blocks, −offset)
// with packBlocks' checks.
func packQ8_0Asm(kern func(dst *byte, stride int, src *float32, nb int, negOffset int32)) packQ8_0Fn {
	return func(dst []byte, stride int, src []float32, offset int32) {
		if nb := packBlocks(dst, stride, src, 32, gemmActBlock); nb > 0 {
			kern(&dst[0], stride, &src[0], nb, -offset)
		}
	}
}

// Q8_K activations (Q4_K, Q5_K and Q6_K weights) go the same way into the
// K-quant group layout: per super-block a gemmKActBlock slot of the 256
// quants, d as float32 and 16 32-bit values, which depend on the weight
// type (gemm.go).

// packQ8_KFn quantizes len(src)/256 super-blocks of src to Q8_K and writes
// super-block b as a gemmKActBlock slot for weight type wt at
// dst[b·stride:], stride ≥ gemmKActBlock, with the bytes the active Q8_K
// quantizer followed by packActBlocksK give.
type packQ8_KFn func(dst []byte, stride int, src []float32, wt quant.Type)

// The slot layouts of the Q8_K quantizer kernels: the Q8_K block itself,
// or a group slot with the pair sums of Q4_K/Q5_K or the corrections of
// Q6_K.
const (
	layoutQ8_K = iota
	layoutPairSums
	layoutCorrections
)

// layoutK returns the group slot layout for weight type wt.
func layoutK(wt quant.Type) int {
	if wt == quant.Q6_K {
		return layoutCorrections
	}
	return layoutPairSums
}

// packActBlocksK rewrites nb Q8_K blocks of src into gemmKActBlock slots
// stride bytes apart in dst for weight type wt: the quants, d, and either
// the sub-block pair sums Σq as float32 (Q4_K, Q5_K: eight, then zeros) or
// the corrections −32·Σq as int32 (Q6_K: sixteen).
func packActBlocksK(dst []byte, stride int, src []byte, nb int, wt quant.Type) {
	for b := 0; b < nb; b++ {
		s := src[b*q8_KBytes : (b+1)*q8_KBytes]
		o := dst[b*stride : b*stride+gemmKActBlock]
		copy(o[:256], s[4:260])
		put32(o, 256, binary.LittleEndian.Uint32(s))
		for j := 0; j < 16; j++ {
			var v uint32
			if wt == quant.Q6_K {
				v = uint32(-32 * q8KBsum(s, j))
			} else if j < 8 {
				v = math.Float32bits(float32(q8KBsum(s, 2*j) + q8KBsum(s, 2*j+1)))
			}
			put32(o, 260+4*j, v)
		}
	}
}

// packQ8_KGeneric is the generic implementation and the twin: the two
// steps, ref.QuantizeQ8_K and packActBlocksK, one super-block at a time.
func packQ8_KGeneric(dst []byte, stride int, src []float32, wt quant.Type) {
	nb := packBlocks(dst, stride, src, 256, gemmKActBlock)
	for b := 0; b < nb; b++ {
		packQ8_KBlockGeneric(dst[b*stride:], src[256*b:256*b+256], wt)
	}
}

// packQ8_KBlockGeneric writes one super-block's slot the generic way.
func packQ8_KBlockGeneric(dst []byte, src []float32, wt quant.Type) {
	var blk [q8_KBytes]byte
	ref.QuantizeQ8_K(blk[:], src)
	packActBlocksK(dst, gemmKActBlock, blk[:], 1, wt)
}
