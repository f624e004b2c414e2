package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// The data-movement benchmarks report MB/s of source weights moved. Their
// matrices are 4096×4096 (9–14 MB of quants: larger than L2, inside a
// Zen 4 L3), so they measure the routine rather than DRAM.
const packBenchRows, packBenchK = 4096, 4096

// BenchmarkPackStrip measures the prefill GEMM's weight unpacking
// (packStrip): strip after strip of a matrix, as gemmTask takes them.
func BenchmarkPackStrip(b *testing.B) {
	for _, wt := range []quant.Type{quant.Q4_0, quant.Q5_0, quant.Q8_0, quant.IQ4_NL, quant.Q4_K, quant.Q5_K, quant.Q6_K} {
		b.Run(wt.String(), func(b *testing.B) {
			nb := packBenchK / wt.BlockSize()
			wrow := nb * wt.TypeSize()
			w := randWeights(rand.New(rand.NewPCG(5, uint64(wt))), wt, packBenchRows*nb, scaleNormal)
			sblk, _ := gemmBlocks(wt)
			strip := make([]byte, nb*sblk)
			signed := impl.gemmSigned[wt]
			strips := packBenchRows / gemmRows
			b.SetBytes(int64(gemmRows * wrow))
			i := 0
			for b.Loop() {
				s := i % strips
				packStrip(wt, strip, w[s*gemmRows*wrow:], wrow, gemmRows, nb, signed)
				i++
			}
		})
	}
}

// BenchmarkRepack measures the load-time repacking (Repack) per type.
func BenchmarkRepack(b *testing.B) {
	for _, wt := range packedTypes {
		b.Run(wt.String(), func(b *testing.B) {
			w := randWeights(rand.New(rand.NewPCG(5, uint64(wt))), wt, packBenchRows*packBenchK/wt.BlockSize(), scaleNormal)
			p := make([]byte, len(w))
			Repack(wt, p, w, packBenchRows, packBenchK) // fault the pages in
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				Repack(wt, p, w, packBenchRows, packBenchK)
			}
		})
	}
}

// BenchmarkUnpack measures Unpack (packed → file layout, what
// MatMulPacked does for prefills) per type.
func BenchmarkUnpack(b *testing.B) {
	for _, wt := range packedTypes {
		b.Run(wt.String(), func(b *testing.B) {
			w := randWeights(rand.New(rand.NewPCG(5, uint64(wt))), wt, packBenchRows*packBenchK/wt.BlockSize(), scaleNormal)
			p := make([]byte, len(w))
			Repack(wt, p, w, packBenchRows, packBenchK)
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				Unpack(wt, w, p, packBenchRows, packBenchK)
			}
		})
	}
}

// packedTypes are the types with a packed layout (PackedLayout ≠ "").
var packedTypes = []quant.Type{quant.Q4_0, quant.Q8_0, quant.IQ4_NL, quant.Q4_K, quant.Q6_K}
