package model_test

import (
	"os"
	"testing"

	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
)

// benchModels returns the models to benchmark: the tiny checkpoint as F32
// and Q8_0, or the GGUF named by COGEDGE_BENCH_MODEL (e.g. a synthetic
// "mid" or 17B file written by `go run ./tools/convert --synthetic mid`).
func benchModels(b *testing.B) map[string]*model.Model {
	if p := os.Getenv("COGEDGE_BENCH_MODEL"); p != "" {
		m, err := model.Open(p, "")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { m.Close() })
		return map[string]*model.Model{"file": m}
	}
	return map[string]*model.Model{"tiny-F32": openTiny(b, quant.F32), "tiny-Q8_0": openTiny(b, quant.Q8_0)}
}

// languageBytes is the weight bytes one text token reads: the language
// expert of every layer and the output matrix.
func languageBytes(m *model.Model) int64 {
	var n int64
	for _, w := range m.LanguageWeights() {
		n += int64(len(w.Data))
	}
	return n
}

// BenchmarkDecode measures one-token decode steps (language expert, f16 KV
// cache, last-row logits); bytes/s counts the weights each step reads.
func BenchmarkDecode(b *testing.B) {
	for name, m := range benchModels(b) {
		b.Run(name, func(b *testing.B) {
			c, err := m.NewContext(model.ContextOptions{Size: 512})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			logits := make([]float32, m.Text.Vocab)
			tok := []int32{1}
			b.SetBytes(languageBytes(m))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if c.Len() == c.Size() {
					c.Reset()
				}
				tok[0] = int32(i % m.Text.Vocab)
				if err := c.Forward(model.Batch{Tokens: tok}, model.Output{Logits: logits}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}

// BenchmarkPrefill measures a 64-token text prefill; bytes/s counts the
// language weights (read once per prefill), tok/s the prompt tokens.
func BenchmarkPrefill(b *testing.B) {
	for name, m := range benchModels(b) {
		b.Run(name, func(b *testing.B) {
			c, err := m.NewContext(model.ContextOptions{Size: 64})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			toks := make([]int32, 64)
			for i := range toks {
				toks[i] = int32(100 + i)
			}
			logits := make([]float32, m.Text.Vocab)
			b.SetBytes(languageBytes(m))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.Reset()
				if err := c.Forward(model.Batch{Tokens: toks}, model.Output{Logits: logits}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(toks)*b.N)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}

// BenchmarkEncodeImage measures the vision tower and adapter on one image;
// bytes/s counts the input pixels (float32).
func BenchmarkEncodeImage(b *testing.B) {
	for name, m := range benchModels(b) {
		if m.Vision == nil {
			continue
		}
		b.Run(name, func(b *testing.B) {
			c, err := m.NewContext(model.ContextOptions{Size: 16})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			px := make([]float32, m.PixelCount())
			for i := range px {
				px[i] = float32(i%251)/125 - 1
			}
			img := make([]float32, m.ImageEmbeds())
			b.SetBytes(int64(4 * len(px)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.EncodeImage(img, px); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
