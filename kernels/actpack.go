package kernels

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cogedge/cogedge/kernels/ref"
)

// Quantize-and-pack of Q8_0 activations. The GEMM (group layout) and GEMV
// (linear slots) kernels read an activation block as a gemmActBlock slot:
// the 32 int8 quants, the scale d as float32 and the int32 correction
// −offset·Σq. table.packQ8_0 writes those slots straight from the float
// row, with the bytes QuantizeActivations followed by packActBlocks would
// give on the same implementation (its quantizer's rounding, NaN and
// infinity handling included: the assembly repeats the instruction
// sequence of that tier's Q8_0 quantizer), without the intermediate Q8_0
// row.

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
	nb := packQ8_0Blocks(dst, stride, src)
	for b := 0; b < nb; b++ {
		ref.QuantizeQ8_0(blk[:], src[32*b:32*b+32])
		packActBlocks(dst[b*stride:], stride, blk[:], 1, offset)
	}
}

// packQ8_0Blocks checks a packQ8_0Fn call's slices and returns its number
// of blocks; a stride below a slot or a dst too short for the last slot
// is a programming error and panics.
func packQ8_0Blocks(dst []byte, stride int, src []float32) int {
	nb := len(src) / 32
	if nb == 0 {
		return 0
	}
	if stride < gemmActBlock || len(dst) < (nb-1)*stride+gemmActBlock {
		panic(fmt.Sprintf("kernels: packQ8_0: %d blocks at stride %d need %d bytes, have %d",
			nb, stride, (nb-1)*stride+gemmActBlock, len(dst)))
	}
	return nb
}

// packQ8_0Asm wraps an assembly kernel (dst, stride, src, blocks, −offset)
// with packQ8_0Blocks' checks.
func packQ8_0Asm(kern func(dst *byte, stride int, src *float32, nb int, negOffset int32)) packQ8_0Fn {
	return func(dst []byte, stride int, src []float32, offset int32) {
		if nb := packQ8_0Blocks(dst, stride, src); nb > 0 {
			kern(&dst[0], stride, &src[0], nb, -offset)
		}
	}
}
