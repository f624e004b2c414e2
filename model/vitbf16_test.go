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
