package neon

import (
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// BenchmarkDot measures one 4096-wide row (CogVLM's hidden size) per op;
// bytes are weight bytes. Under qemu the numbers say nothing about arm64
// speed; run on the target machine.
func BenchmarkDot(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 0))
	for _, k := range kernelsUnderTest {
		nb := 4096 / k.wt.BlockSize()
		w := randBlocks(r, k.wt, nb, false)
		x := randBlocks(r, k.xt, nb, false)
		b.Run(k.name, func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			var s float32
			for b.Loop() {
				s += k.fn(w, x, nb)
			}
			sink = s
		})
	}
}

// BenchmarkDot2x2 measures a 2×2 tile over 4096 elements (bytes: both weight rows).
func BenchmarkDot2x2(b *testing.B) {
	r := rand.New(rand.NewPCG(8, 0))
	for _, tc := range []struct {
		name string
		fn   func(*[4]float32, []byte, []byte, []byte, []byte, int)
		wt   quant.Type
	}{{"Q4_0", Dot2x2Q4_0Q8_0, quant.Q4_0}, {"Q8_0", Dot2x2Q8_0Q8_0, quant.Q8_0}} {
		nb := 4096 / 32
		w0, w1 := randBlocks(r, tc.wt, nb, false), randBlocks(r, tc.wt, nb, false)
		x0, x1 := randBlocks(r, quant.Q8_0, nb, false), randBlocks(r, quant.Q8_0, nb, false)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(2 * len(w0)))
			var out [4]float32
			for b.Loop() {
				tc.fn(&out, w0, w1, x0, x1, nb)
			}
			sink = out[0]
		})
	}
}

// BenchmarkQuantizeQ8_0 measures activation quantization of 4096 floats
// (bytes: float32 input).
func BenchmarkQuantizeQ8_0(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 0))
	src := make([]float32, 4096)
	for i := range src {
		src[i] = float32(r.NormFloat64())
	}
	dst := make([]byte, 4096/32*sizeQ8_0)
	b.SetBytes(int64(4 * len(src)))
	for b.Loop() {
		QuantizeQ8_0(dst, src)
	}
}

var sink float32
