package zstdcache

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// f16Weights returns n bytes of fp16 values drawn like model weights
// (normal, σ = 0.02): the kind of data a distributed f16 GGUF holds.
func f16Weights(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := 0; i+2 <= n; i += 2 {
		f := float32(r.NormFloat64() * 0.02)
		// round to fp16 by truncation: enough for a compression benchmark
		bits := math.Float32bits(f)
		exp := int(bits>>23&0xff) - 127 + 15
		var h uint16
		if exp > 0 && exp < 31 {
			h = uint16(bits>>16&0x8000) | uint16(exp)<<10 | uint16(bits>>13&0x3ff)
		}
		binary.LittleEndian.PutUint16(b[i:], h)
	}
	return b
}

// BenchmarkDecompress compares zstd (klauspost, the encoder level
// tools/convert uses) with gzip (standard library) on 8 MB of fp16 weights;
// bytes are decompressed bytes. It backs README.md's choice of zstd.
func BenchmarkDecompress(b *testing.B) {
	data := f16Weights(8 << 20)
	var zb, gb bytes.Buffer
	zw, _ := zstd.NewWriter(&zb, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	zw.Write(data)
	zw.Close()
	gw, _ := gzip.NewWriterLevel(&gb, 6)
	gw.Write(data)
	gw.Close()
	b.Run("zstd", func(b *testing.B) {
		b.ReportMetric(float64(len(data))/float64(zb.Len()), "ratio")
		b.SetBytes(int64(len(data)))
		d, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		defer d.Close()
		for i := 0; i < b.N; i++ {
			d.Reset(bytes.NewReader(zb.Bytes()))
			if n, err := io.Copy(io.Discard, d); err != nil || n != int64(len(data)) {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("gzip", func(b *testing.B) {
		b.ReportMetric(float64(len(data))/float64(gb.Len()), "ratio")
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			r, _ := gzip.NewReader(bytes.NewReader(gb.Bytes()))
			if n, err := io.Copy(io.Discard, r); err != nil || n != int64(len(data)) {
				b.Fatal(n, err)
			}
		}
	})
}
