package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// cogvlmShapes are the CogVLM matmul shapes (rows × k).
var cogvlmShapes = []struct{ rows, k int }{
	{4096, 4096}, {12288, 4096}, {11008, 4096}, {4096, 11008}, {1792, 5376}, {15360, 1792},
}

// benchTypes: the weight types benchmarked by default; COGEDGE_BENCH_ALL=1
// adds every type with a kernel.
func benchTypes() []quant.Type {
	if os.Getenv("COGEDGE_BENCH_ALL") != "" {
		return append(append([]quant.Type{}, quantTypes...), floatTypes...)
	}
	return []quant.Type{quant.Q4_0, quant.Q8_0, quant.Q4_K, quant.Q6_K}
}

// benchMatrices returns enough copies of a rows×k matrix of type wt to
// exceed 64 MiB together (at least two), so that a GEMV rotating through
// them reads from DRAM rather than cache. The copies repeat one random
// block of 64 rows: contents do not change the speed of these kernels.
func benchMatrices(wt quant.Type, rows, k int) (mats [][]byte, size int) {
	rs, _ := wt.RowSize(int64(k))
	size = rows * int(rs)
	r := rand.New(rand.NewPCG(1, uint64(wt)))
	var seed []byte
	if wt.Quantized() {
		seed = randWeights(r, wt, 64*k/wt.BlockSize(), scaleNormal)
	} else {
		seed = make([]byte, 64*int(rs))
		for i := 0; i+1 < len(seed); i += 2 {
			seed[i], seed[i+1] = byte(r.Uint32()), 0x3c // small normal f16/bf16 values
		}
	}
	copies := max(2, (64<<20)/size+1)
	for c := 0; c < copies; c++ {
		m := make([]byte, size)
		for off := 0; off < size; off += len(seed) {
			copy(m[off:], seed)
		}
		mats = append(mats, m)
	}
	return mats, size
}

// BenchmarkGEMV measures decode (n = 1) matmul speed as weight bytes read
// per second.
func BenchmarkGEMV(b *testing.B) {
	for _, wt := range benchTypes() {
		for _, sh := range cogvlmShapes {
			b.Run(fmt.Sprintf("%v/%dx%d", wt, sh.rows, sh.k), func(b *testing.B) {
				mats, size := benchMatrices(wt, sh.rows, sh.k)
				x := randFloats(rand.New(rand.NewPCG(2, 2)), sh.k, false)
				y := make([]float32, sh.rows)
				for _, th := range uniqueInts(1, runtime.NumCPU()) {
					b.Run(fmt.Sprintf("t%d", th), func(b *testing.B) {
						p := NewPool(th)
						defer p.Close()
						b.SetBytes(int64(size))
						b.ResetTimer()
						for i := 0; i < b.N; i++ {
							p.MatMul(y, mats[i%len(mats)], wt, sh.rows, sh.k, x, 1)
						}
					})
				}
			})
		}
	}
}

// BenchmarkGEMM measures prefill (n = 512) speed in GFLOP/s (2·rows·k·n
// per op) with all threads, and GFLOP per CPU-second used by the process
// (a per-core rate that a loaded machine distorts less), once per
// accelerated implementation the CPU offers so that the tiers can be
// compared in one run.
func BenchmarkGEMM(b *testing.B) {
	const n = 512
	for _, wt := range benchTypes() {
		for si, sh := range cogvlmShapes {
			if wt != quant.Q4_0 && si > 0 && os.Getenv("COGEDGE_BENCH_ALL") == "" {
				continue // by default: every shape for Q4_0, the first for the rest
			}
			b.Run(fmt.Sprintf("%v/%dx%d", wt, sh.rows, sh.k), func(b *testing.B) {
				mats, size := benchMatrices(wt, sh.rows, sh.k)
				x := randFloats(rand.New(rand.NewPCG(3, 3)), n*sh.k, false)
				y := make([]float32, n*sh.rows)
				p := NewPool(0)
				defer p.Close()
				for _, im := range Implementations()[1:] {
					b.Run(im.Name, func(b *testing.B) {
						prev := SetFeatures(im.Features)
						defer SetFeatures(prev)
						b.SetBytes(int64(size))
						b.ResetTimer()
						cpu0 := processCPUSeconds()
						for i := 0; i < b.N; i++ {
							p.MatMul(y, mats[i%len(mats)], wt, sh.rows, sh.k, x, n)
						}
						flops := 2 * float64(sh.rows) * float64(sh.k) * n * float64(b.N)
						b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
						// On a shared machine wall time depends on the load; work
						// per CPU-second of this process (all threads) much less.
						if cpu := processCPUSeconds() - cpu0; cpu > 0 {
							b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
						}
					})
				}
			})
		}
	}
}

// BenchmarkStreamRead measures the machine's streaming-read bandwidth with
// two threads, as StreamReadBandwidth does for `cogedge bench`.
func BenchmarkStreamRead(b *testing.B) {
	buf := make([]uint64, 1<<30/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	b.SetBytes(1 << 30)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		streamSink += streamPass(buf, 2, impl.sumWords)
	}
}

// BenchmarkGEMVvsBandwidth measures GEMV on the 11008×4096 shape at two
// threads for Q4_0 and Q8_0 and reports its bytes per second as a share
// of the machine's two-thread streaming-read bandwidth (stream-%), the
// README's kernel bandwidth figures:
//
//	go test -run '^$' -bench GEMVvsBandwidth ./kernels/
func BenchmarkGEMVvsBandwidth(b *testing.B) {
	sgbs := StreamReadBandwidth(2, 1<<30) / 1e9
	for _, wt := range []quant.Type{quant.Q4_0, quant.Q8_0} {
		b.Run(wt.String(), func(b *testing.B) {
			mats, size := benchMatrices(wt, 11008, 4096)
			x := randFloats(rand.New(rand.NewPCG(2, 2)), 4096, false)
			y := make([]float32, 11008)
			p := NewPool(2)
			defer p.Close()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.MatMul(y, mats[i%len(mats)], wt, 11008, 4096, x, 1)
			}
			g := float64(size) * float64(b.N) / b.Elapsed().Seconds() / 1e9
			b.ReportMetric(100*g/sgbs, "stream-%")
			b.ReportMetric(sgbs, "stream-GB/s")
		})
	}
}

func uniqueInts(a, b int) []int {
	if a == b {
		return []int{a}
	}
	return []int{a, b}
}

// BenchmarkAttention measures attention in GFLOP/s (4·HeadDim per query ×
// visible KV row per head: q·k and p·v): the ViT shape (1226 tokens, 16
// heads of 112, not causal, f32 KV), a causal text prefill (512 tokens, 32
// heads of 128, f16 KV), CogVLM-17B's image prefill (the same over 1228
// tokens) and one decode step over 2048 cached rows, per accelerated
// implementation tier; "vit1226bf16" and "prefill1228bf16" set
// AttnParams.BF16 (the same as without on tiers lacking bf16 kernels).
func BenchmarkAttention(b *testing.B) {
	for _, c := range []struct {
		name        string
		nq, nkv     int
		heads, hd   int
		causal, f16 bool
		bf16        bool
	}{
		{"vit1226", 1226, 1226, 16, 112, false, false, false},
		{"vit1226bf16", 1226, 1226, 16, 112, false, false, true},
		{"prefill512", 512, 512, 32, 128, true, true, false},
		{"prefill1228", 1228, 1228, 32, 128, true, true, false}, // CogVLM-17B's image prefill
		{"prefill1228bf16", 1228, 1228, 32, 128, true, true, true},
		{"decode2048", 1, 2048, 32, 128, true, true, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 5))
			w := c.heads * c.hd
			q := randFloats(r, c.nq*w, false)
			k := randFloats(r, c.nkv*w, false)
			v := randFloats(r, c.nkv*w, false)
			k16, v16 := make([]uint16, len(k)), make([]uint16, len(v))
			for i := range k {
				k16[i], v16[i] = quant.FP32ToFP16(k[i]), quant.FP32ToFP16(v[i])
			}
			out := make([]float32, len(q))
			ap := AttnParams{NHead: c.heads, NHeadKV: c.heads, HeadDim: c.hd, Scale: 1 / float32(math.Sqrt(float64(c.hd))), Causal: c.causal, QPos0: c.nkv - c.nq, BF16: c.bf16}
			var pairs float64 // visible (query, KV row) pairs
			for i := 0; i < c.nq; i++ {
				if c.causal {
					pairs += float64(ap.QPos0 + i + 1)
				} else {
					pairs += float64(c.nkv)
				}
			}
			p := NewPool(0)
			defer p.Close()
			for _, im := range Implementations()[1:] {
				b.Run(im.Name, func(b *testing.B) {
					prev := SetFeatures(im.Features)
					defer SetFeatures(prev)
					b.ResetTimer()
					cpu0 := processCPUSeconds()
					for i := 0; i < b.N; i++ {
						if c.f16 {
							p.AttentionF16(out, q, c.nq, k16, v16, c.nkv, ap)
						} else {
							p.AttentionF32(out, q, c.nq, k, v, c.nkv, ap)
						}
					}
					flops := 4 * float64(c.hd) * float64(c.heads) * pairs * float64(b.N)
					b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					if cpu := processCPUSeconds() - cpu0; cpu > 0 {
						b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
					}
				})
			}
		})
	}
}

// BenchmarkGEMMFloat measures float-weight prefill (the ViT's 1792×1792
// attention output projection over 1226 tokens) in GFLOP/s per
// implementation tier.
func BenchmarkGEMMFloat(b *testing.B) {
	const rows, k, n = 1792, 1792, 1226
	for _, wt := range floatTypes {
		b.Run(wt.String(), func(b *testing.B) {
			mats, size := benchMatrices(wt, rows, k)
			x := randFloats(rand.New(rand.NewPCG(3, 3)), n*k, false)
			y := make([]float32, n*rows)
			p := NewPool(0)
			defer p.Close()
			for _, im := range Implementations() {
				b.Run(im.Name, func(b *testing.B) {
					prev := SetFeatures(im.Features)
					defer SetFeatures(prev)
					b.SetBytes(int64(size))
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						p.MatMul(y, mats[i%len(mats)], wt, rows, k, x, n)
					}
					b.ReportMetric(2*float64(rows)*k*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		})
	}
}
