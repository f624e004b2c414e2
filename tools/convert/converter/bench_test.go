package converter

import (
	"context"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// BenchmarkEncode measures the converter's tensor pipeline (row chunks over
// the worker pool) on a 4096×4096 matrix: quantizing float32 rows with
// quant.Quantize, and generating synthetic blocks. Bytes are input float32
// bytes for quantization and output bytes for synthesis.
func BenchmarkEncode(b *testing.B) {
	const rows, cols = 4096, 4096
	src := make([]float32, rows*cols)
	r := rng{1}
	for i := range src {
		src[i] = 0.035 * r.uniform()
	}
	read := func(dst []float32, row0, n int, _ *scratch) error {
		copy(dst, src[row0*cols:(row0+n)*cols])
		return nil
	}
	for _, typ := range []quant.Type{quant.F16, quant.Q8_0, quant.Q4_0, quant.Q4_K, quant.Q6_K} {
		rb, _ := typ.RowSize(cols)
		out := make([]byte, rows*int(rb))
		p := newPool(0)
		b.Run("quantize/"+typ.String(), func(b *testing.B) {
			b.SetBytes(rows * cols * 4)
			for i := 0; i < b.N; i++ {
				if err := p.run(context.Background(), out, rows, cols, int(rb), quantizeFill("w", typ, cols, int(rb), read)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("synthetic/"+typ.String(), func(b *testing.B) {
			b.SetBytes(int64(len(out)))
			for i := 0; i < b.N; i++ {
				if err := p.run(context.Background(), out, rows, cols, int(rb), synthFill(Matrix, typ, 1, cols, int(rb))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
