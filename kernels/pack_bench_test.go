package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// The data-movement benchmarks report MB/s of source weights moved, per
// implementation: "generic" is the Go twin (what ran before the kernels),
// then each accelerated tier of this CPU.

// packedTypes are the types with a packed layout (PackedLayout ≠ "").
var packedTypes = []quant.Type{quant.Q4_0, quant.Q8_0, quant.IQ4_NL, quant.Q4_K, quant.Q6_K}

// benchImpls runs f once per implementation as a sub-benchmark.
func benchImpls(b *testing.B, f func(b *testing.B)) {
	for _, im := range Implementations() {
		b.Run(im.Name, func(b *testing.B) {
			prev := SetFeatures(im.Features)
			defer SetFeatures(prev)
			f(b)
		})
	}
}

// BenchmarkPackStrip measures the prefill GEMM's weight unpacking
// (packStrip): strip after strip of a 128 × 4096 matrix, as gemmTask takes
// them. The matrix (0.3–0.6 MB) stays in L2, so this is the routine's own
// rate; in a prefill the rows come from DRAM once per strip.
func BenchmarkPackStrip(b *testing.B) {
	const rows, k = 128, 4096
	for _, wt := range []quant.Type{quant.Q4_0, quant.Q5_0, quant.Q8_0, quant.IQ4_NL, quant.Q4_K, quant.Q5_K, quant.Q6_K} {
		b.Run(wt.String(), func(b *testing.B) {
			nb := k / wt.BlockSize()
			wrow := nb * wt.TypeSize()
			w := randWeights(rand.New(rand.NewPCG(5, uint64(wt))), wt, rows*nb, scaleNormal)
			sblk, _ := gemmBlocks(wt)
			strip := make([]byte, nb*sblk)
			benchImpls(b, func(b *testing.B) {
				signed := impl.gemmSigned[wt]
				b.SetBytes(int64(gemmRows * wrow))
				i := 0
				for b.Loop() {
					s := i % (rows / gemmRows)
					packStrip(wt, strip, w[s*gemmRows*wrow:], wrow, gemmRows, nb, signed)
					i++
				}
			})
		})
	}
}

// BenchmarkRepack measures the load-time repacking (Repack) of a 4096 ×
// 4096 matrix per type (9–14 MB each way: L3 and DRAM).
func BenchmarkRepack(b *testing.B) { benchMoves(b, true) }

// BenchmarkUnpack measures Unpack (packed → file layout, what MatMulPacked
// does for long prefills) on the same matrices.
func BenchmarkUnpack(b *testing.B) { benchMoves(b, false) }

func benchMoves(b *testing.B, pack bool) {
	const rows, k = 4096, 4096
	for _, wt := range packedTypes {
		b.Run(wt.String(), func(b *testing.B) {
			w := randWeights(rand.New(rand.NewPCG(5, uint64(wt))), wt, rows*k/wt.BlockSize(), scaleNormal)
			p := make([]byte, len(w))
			Repack(wt, p, w, rows, k) // also faults the pages in
			benchImpls(b, func(b *testing.B) {
				b.SetBytes(int64(len(w)))
				for b.Loop() {
					if pack {
						Repack(wt, p, w, rows, k)
					} else {
						Unpack(wt, w, p, rows, k)
					}
				}
			})
		})
	}
}
