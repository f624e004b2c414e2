package quant

import (
	"math/rand/v2"
	"testing"
)

// benchRows × benchK float32: one 4096-wide row block of 16 rows.
const (
	benchK    = 4096
	benchRows = 16
)

func benchInput() []float32 {
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, benchK*benchRows)
	for i := range x {
		x[i] = float32(rng.NormFloat64()) * 0.02
	}
	return x
}

// BenchmarkQuantize reports MB/s of float32 input.
func BenchmarkQuantize(b *testing.B) {
	x := benchInput()
	for _, tc := range codecTypes {
		b.Run(tc.typ.String(), func(b *testing.B) {
			rs, _ := tc.typ.RowSize(int64(len(x)))
			q := make([]byte, rs)
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				if err := Quantize(tc.typ, q, x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDequantize reports MB/s of float32 output.
func BenchmarkDequantize(b *testing.B) {
	x := benchInput()
	for _, tc := range codecTypes {
		b.Run(tc.typ.String(), func(b *testing.B) {
			rs, _ := tc.typ.RowSize(int64(len(x)))
			q := make([]byte, rs)
			if err := Quantize(tc.typ, q, x); err != nil {
				b.Fatal(err)
			}
			y := make([]float32, len(x))
			b.SetBytes(int64(4 * len(y)))
			for b.Loop() {
				if err := Dequantize(tc.typ, y, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
