package model_test

import (
	"math"
	"testing"

	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
)

// TestViTBF16Attention runs the tiny model's vision tower on the
// reference pixels with the CPU's features and again with AVX-512 BF16
// switched off. A quantized tower lets its attention take the bf16
// kernels (AttnParams.BF16): on a CPU with them the output moves, by
// less than the bar below; an F32 tower, and any CPU without them, gives
// the same bits both ways.
func TestViTBF16Attention(t *testing.T) {
	g := loadGolden(t, "tiny-image-chat")
	px := g.f32(t, "pixel_values")
	bf16 := kernels.Detected().AVX512BF16
	for _, typ := range []quant.Type{quant.F32, quant.Q8_0, quant.Q4_0} {
		t.Run(typ.String(), func(t *testing.T) {
			m := openTiny(t, typ)
			c, err := m.NewContext(model.ContextOptions{Size: 64, Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			vc := m.Vision
			with, without := make([]float32, vc.Patches*vc.Hidden), make([]float32, vc.Patches*vc.Hidden)
			if err := c.ViT(with, px); err != nil {
				t.Fatal(err)
			}
			f := kernels.Active()
			f.AVX512BF16 = false
			prev := kernels.SetFeatures(f)
			err = c.ViT(without, px)
			kernels.SetFeatures(prev)
			if err != nil {
				t.Fatal(err)
			}
			var maxd, sq, ref float64
			for i := range with {
				d := math.Abs(float64(with[i]) - float64(without[i]))
				maxd, sq, ref = max(maxd, d), sq+d*d, ref+float64(without[i])*float64(without[i])
			}
			rms, refRMS := math.Sqrt(sq/float64(len(with))), math.Sqrt(ref/float64(len(with)))
			var qsq float64
			for i, x := range g.f32(t, "vit_output") {
				d := float64(without[i]) - float64(x)
				qsq += d * d
			}
			t.Logf("ViT output, bf16 attention vs float32: max |Δ| %.3g, RMS %.3g (output RMS %.3g; float32 attention vs reference RMS %.3g)", maxd, rms, refRMS, math.Sqrt(qsq/float64(len(with))))
			switch {
			case !bf16 || typ == quant.F32:
				if maxd != 0 {
					t.Fatalf("the output moved by %g without bf16 attention", maxd)
				}
			case maxd == 0:
				t.Fatal("bf16 attention did not change the output of a quantized tower")
			case rms > 1e-2*refRMS || maxd > 5e-2*refRMS:
				t.Fatalf("bf16 attention moved the output by max %g, RMS %g (output RMS %g)", maxd, rms, refRMS)
			}
		})
	}
}

// TestPrefillBF16Attention is TestViTBF16Attention for the decoder's
// causal prefill over the f16 KV cache: the image-chat prompt's logits
// (the image embeddings computed once, without bf16) with the CPU's
// features and with AVX-512 BF16 switched off. Quantized language
// layers move on a CPU with the bf16 kernels, by less than the bar (the
// tiny model's heads of 16 and random weights make it a harsh case: RMS
// ~1 % of the logits' std, about Q8_0's own error); F32 layers and other
// CPUs give the same bits.
func TestPrefillBF16Attention(t *testing.T) {
	g := loadGolden(t, "tiny-image-chat")
	bf16 := kernels.Detected().AVX512BF16
	for _, typ := range []quant.Type{quant.F32, quant.Q8_0, quant.Q4_0} {
		t.Run(typ.String(), func(t *testing.T) {
			m := openTiny(t, typ)
			f := kernels.Active()
			f.AVX512BF16 = false
			logits := func(bf16 bool, img []float32) ([]float32, []float32) {
				if !bf16 {
					prev := kernels.SetFeatures(f)
					defer kernels.SetFeatures(prev)
				}
				c, err := m.NewContext(model.ContextOptions{Size: 128, KV: model.KVF16, Threads: 2, Batch: 64})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if img == nil {
					img = make([]float32, m.ImageEmbeds())
					if err := c.EncodeImage(img, g.f32(t, "pixel_values")); err != nil {
						t.Fatal(err)
					}
				}
				b := m.PromptBatch(g.TextIDs, img)
				out := make([]float32, len(b.Tokens)*m.Text.Vocab)
				if err := c.Forward(b, model.Output{Logits: out}); err != nil {
					t.Fatal(err)
				}
				return out, img
			}
			without, img := logits(false, nil)
			with, _ := logits(true, img)
			var maxd, sq, mean, vr float64
			for i := range with {
				d := math.Abs(float64(with[i]) - float64(without[i]))
				maxd, sq, mean = max(maxd, d), sq+d*d, mean+float64(without[i])
			}
			n := float64(len(with))
			mean /= n
			for _, x := range without {
				vr += (float64(x) - mean) * (float64(x) - mean)
			}
			rms, std := math.Sqrt(sq/n), math.Sqrt(vr/n)
			var qsq float64
			for i, x := range g.f32(t, "logits") {
				d := float64(without[i]) - float64(x)
				qsq += d * d
			}
			t.Logf("prefill logits (%d rows), bf16 attention vs float32: max |Δ| %.3g, RMS %.3g (logits std %.3g; float32 attention vs reference RMS %.3g)",
				len(with)/m.Text.Vocab, maxd, rms, std, math.Sqrt(qsq/n))
			switch {
			case !bf16 || typ == quant.F32:
				if maxd != 0 {
					t.Fatalf("the logits moved by %g without bf16 attention", maxd)
				}
			case maxd == 0:
				t.Fatal("bf16 attention did not change the logits of quantized layers")
			case rms > 2e-2*std || maxd > 0.15*std:
				t.Fatalf("bf16 attention moved the logits by max %g, RMS %g (std %g)", maxd, rms, std)
			}
		})
	}
}
