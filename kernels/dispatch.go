package kernels

import (
	"github.com/cogedge/cogedge/kernels/ref"
	"github.com/cogedge/cogedge/quant"
)

// qdotFn computes the dot product of nb weight blocks with nb activation
// blocks in the partner format.
type qdotFn func(w, x []byte, nb int) float32

// qdot4Fn computes four weight rows (w, w+ws, w+2ws, w+3ws) against one
// activation row: out[r] = dot(row r, x). Optional per type.
type qdot4Fn func(out *[4]float32, w []byte, ws int, x []byte, nb int)

// qdotx4Fn computes one weight row against four Q8_0 activation rows
// (x, x+xs, x+2xs, x+3xs) whose block scales are also given as float32
// (sc[c*nb+b]): out[c] = dot(w, row c). Optional per type.
type qdotx4Fn func(out *[4]float32, w, x []byte, xs int, sc []float32, nb int)

// floatKernel is a float-weight GEMM micro-kernel: y[c·ldy+r] = Σ_{e<k}
// w[r·ldw+e]·x[c·ldx+e] for r < r, c < c (w of the weight type, strides in
// elements), k a multiple of step.
type floatKernel struct {
	fn         func(y []float32, ldy int, w []byte, ldw int, x []float32, ldx, k int)
	r, c, step int
}

// table is the dispatch table: one function per op, filled with the generic
// code and then overridden by the architecture's fast paths.
type table struct {
	qdot   [quant.MXFP4 + 1]qdotFn
	qdot4  [quant.MXFP4 + 1]qdot4Fn
	qdotx4 [quant.MXFP4 + 1]qdotx4Fn
	gemm   [quant.MXFP4 + 1]gemmFn // prefill micro-kernel (Q8_0 partners only)
	// gemmSigned: the kernel takes signed weight bytes (no offset)
	gemmSigned [quant.MXFP4 + 1]bool
	// gemmMX: the kernel takes activation groups with power-of-two block
	// scales (packActRowMX) rather than Q8_0's
	gemmMX [quant.MXFP4 + 1]bool
	// packMX is packQ8_0 with power-of-two scales (packActRowMX)
	packMX packQ8_0Fn
	gemmF  [quant.MXFP4 + 1]floatKernel
	// decode dot of one weight row with an activation row packed by
	// packActLinear (Q8_0 partners only; nil: use qdot)
	gemv [quant.MXFP4 + 1]qdotFn
	// decode of one packed Q4_0 group of eight rows (RepackQ4_0) against
	// a packActLinear row; packedFast: it is assembly
	gemvQ4_0x8 func(y *[8]float32, w, x []byte, nb int)
	// the same group against four activation rows xstride bytes apart
	// (batched decode: the weights are unpacked once for the four)
	gemvQ4_0x8x4 func(y *[4][8]float32, w, x []byte, xstride, nb int)
	// the same for two rows (nil: gemvQ4_0x8 once per row)
	gemvQ4_0x8x2 func(y *[2][8]float32, w, x []byte, xstride, nb int)
	packedFast   bool
	// the same for the Q8_0 and IQ4_NL layouts (repack8.go)
	gemv8x8     [quant.MXFP4 + 1]func(y *[8]float32, w, x []byte, nb int)
	gemv8x8x4   [quant.MXFP4 + 1]func(y *[4][8]float32, w, x []byte, xstride, nb int)
	packed8Fast [quant.MXFP4 + 1]bool
	// decode of one packed K-quant group of eight rows (Repack) against
	// a Q8_K activation row; packedKFast: it is assembly
	gemvKx8     [quant.MXFP4 + 1]func(y *[8]float32, w, x []byte, nb int)
	packedKFast [quant.MXFP4 + 1]bool
	quantQ8_0   func(dst []byte, src []float32)
	quantQ8_1   func(dst []byte, src []float32)
	quantQ8_K   func(dst []byte, src []float32)
	dotF32      func(a, b []float32) float32
	dotF16      func(w []uint16, x []float32) float32
	dotBF16     func(w []uint16, x []float32) float32
	axpyF32     func(y []float32, a float32, x []float32)
	axpyF16     func(y []float32, a float32, x []uint16)
	expSub      func(s []float32, m float32) float32 // s[i] = e^(s[i]−m), returns Σ
	gelu        func(dst, x, b []float32)            // gelu32(x + b); b nil: gelu32(x)
	swiGLU      func(dst, gate, up []float32)
	add         func(dst, a, b []float32)
	// the loops of RMSNorm and LayerNorm (ops.go)
	sumF64     func(x []float32) float64
	sumSqF64   func(x []float32, c float64) float64
	scaleMul   func(dst, x, w []float32, scale float32)
	lnApply    func(dst, x, w, b []float32, m, scale float32)
	fp32ToFP16 func(dst []uint16, src []float32)
	// sumWords adds uint64 words: the streaming-read loop of
	// StreamReadBandwidth (the widest loads the CPU has)
	sumWords func(s []uint64) uint64
	// attention over a block of KV rows (row t at k + t·ld): scores
	// s[t] = scale·q·k_t returning their maximum, and y += Σ p[t]·v_t.
	scoresF32   func(s, q, k []float32, ldk int, scale float32) float32
	scoresF16   func(s, q []float32, k []uint16, ldk int, scale float32) float32
	weightedF32 func(y, p, v []float32, ldv int)
	weightedF16 func(y, p []float32, v []uint16, ldv int)

	// the data movements of Repack and Unpack for one group of eight rows
	// (moveGroups: p packed, f the file layout) and of packStrip for eight
	// rows; nil: the generic Go code (pack.go)
	packx8, unpackx8 [quant.MXFP4 + 1]func(p, f *byte, wrow, nb int)
	stripx8          [quant.MXFP4 + 1]func(p, f *byte, wrow, nb int, sc *byte, signed bool)
	// the quants of eight rows of a K-quant strip (packStripK)
	stripKx8 [quant.MXFP4 + 1]func(p, f *byte, wrow, nb int)
	// stripKScales writes the float vectors of nb K-quant strip blocks
	// (packStripK) for a whole strip of gemmRows rows (nil: Go)
	stripKScales [quant.MXFP4 + 1]func(dst, w []byte, wrow, nb int)
	// Q8_0 and Q8_K activations quantized straight into GEMM/GEMV
	// slots (actpack.go); packQ8_0Fast, packQ8_KFast: it is assembly
	packQ8_0     packQ8_0Fn
	packQ8_0Fast bool
	packQ8_K     packQ8_KFn
	packQ8_KFast bool
	// multi-row attention tile kernels (attntile.go); nil: every task
	// takes the per-row path above
	attnTile *attnTile
	// the bf16 tile kernels (attntilebf16.go) that AttnParams.BF16 asks
	// for; nil: such calls take the float32 kernels
	attnBF16 *attnTileBF16
}

// impl is the table in use; SetFeatures rebuilds it.
var impl table

func genericImpl() table {
	var t table
	t.sumWords = sumWordsGo
	t.qdot[quant.Q4_0] = ref.DotQ4_0Q8_0
	t.qdot[quant.Q4_1] = ref.DotQ4_1Q8_1
	t.qdot[quant.Q5_0] = ref.DotQ5_0Q8_0
	t.qdot[quant.Q5_1] = ref.DotQ5_1Q8_1
	t.qdot[quant.Q8_0] = ref.DotQ8_0Q8_0
	t.qdot[quant.IQ4_NL] = ref.DotIQ4_NLQ8_0
	t.qdot[quant.Q4_K] = ref.DotQ4_KQ8_K
	t.qdot[quant.Q5_K] = ref.DotQ5_KQ8_K
	t.qdot[quant.Q6_K] = ref.DotQ6_KQ8_K
	t.gemvQ4_0x8 = gemvQ4_0x8Generic
	t.gemvQ4_0x8x4 = gemvQ4_0x8x4Generic
	t.gemvQ4_0x8x2 = gemvQ4_0x8x2Generic
	t.gemv8x8[quant.Q8_0] = gemvQ8_0x8Generic
	t.gemv8x8[quant.IQ4_NL] = gemvIQ4_NLx8Generic
	for _, wt := range q8FormatsAll {
		t.gemv8x8x4[wt] = gemvx8x4Rows(t.gemv8x8[wt])
	}
	t.gemvKx8[quant.Q4_K] = gemvQ4_Kx8Generic
	t.gemvKx8[quant.Q6_K] = gemvQ6_Kx8Generic
	t.quantQ8_0 = ref.QuantizeQ8_0
	t.packQ8_0 = packQ8_0Generic
	t.packMX = packActRowMX
	t.packQ8_K = packQ8_KGeneric
	t.quantQ8_1 = ref.QuantizeQ8_1
	t.quantQ8_K = ref.QuantizeQ8_K
	t.dotF32 = dotF32Generic
	t.dotF16 = dotF16Generic
	t.dotBF16 = dotBF16Generic
	t.axpyF32 = axpyF32Generic
	t.axpyF16 = axpyF16Generic
	t.expSub = expSubGeneric
	t.gelu = geluGeneric
	t.swiGLU = swiGLUGeneric
	t.add = addGeneric
	t.sumF64 = sumF64Generic
	t.sumSqF64 = sumSqF64Generic
	t.scaleMul = scaleMulGeneric
	t.lnApply = lnApplyGeneric
	t.fp32ToFP16 = fp32ToFP16Generic
	t.scoresF32 = scoresF32Generic
	t.scoresF16 = scoresF16Generic
	t.weightedF32 = weightedF32Generic
	t.weightedF16 = weightedF16Generic
	return t
}

// partner returns the activation format a quantized weight type is
// multiplied with, and false for types without a matmul kernel.
func partner(wt quant.Type) (quant.Type, bool) {
	switch wt {
	case quant.Q4_0, quant.Q5_0, quant.Q8_0, quant.IQ4_NL:
		return quant.Q8_0, true
	case quant.Q4_1, quant.Q5_1:
		return quant.Q8_1, true
	case quant.Q4_K, quant.Q5_K, quant.Q6_K:
		return quant.Q8_K, true
	case quant.F32, quant.F16, quant.BF16:
		return quant.F32, true
	}
	return 0, false
}

// Supported reports whether MatMul has a kernel for weight type wt.
func Supported(wt quant.Type) bool {
	_, ok := partner(wt)
	return ok
}

// QuantizeActivations quantizes src to the partner format act (Q8_0, Q8_1
// or Q8_K) with the kernels' rounding (ties to even) using the active
// implementation. len(src) must be a multiple of the block size and dst
// hold the whole row.
func QuantizeActivations(act quant.Type, dst []byte, src []float32) {
	switch act {
	case quant.Q8_0:
		impl.quantQ8_0(dst, src)
	case quant.Q8_1:
		impl.quantQ8_1(dst, src)
	case quant.Q8_K:
		impl.quantQ8_K(dst, src)
	default:
		panic("kernels: QuantizeActivations: unsupported activation type " + act.String())
	}
}
