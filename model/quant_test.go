package model_test

import (
	"math"
	"testing"

	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
)

// caseLogits runs one reference case through m (f16 KV cache, the
// default) and returns the logits of every position.
func caseLogits(t *testing.T, m *model.Model, g *golden) []float32 {
	t.Helper()
	c, err := m.NewContext(model.ContextOptions{Size: 128, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var img []float32
	if g.Image != nil {
		img = make([]float32, m.ImageEmbeds())
		if err := c.EncodeImage(img, g.f32(t, "pixel_values")); err != nil {
			t.Fatal(err)
		}
	}
	b := m.PromptBatch(g.TextIDs, img)
	logits := make([]float32, len(b.Tokens)*m.Text.Vocab)
	if err := c.Forward(b, model.Output{Logits: logits}); err != nil {
		t.Fatal(err)
	}
	return logits
}

// TestQ8_0 holds the Q8_0-converted model to the reference: logits RMS
// error at most 5% of the logits' standard deviation, and the same argmax
// wherever the reference's top-two margin exceeds 0.1.
func TestQ8_0(t *testing.T) {
	m := openTiny(t, quant.Q8_0)
	V := m.Text.Vocab
	for _, name := range goldenCases {
		t.Run(name, func(t *testing.T) {
			g := loadGolden(t, name)
			got, want := caseLogits(t, m, g), g.f32(t, "logits")
			var se, sum, sum2 float64
			for i := range want {
				d := float64(got[i]) - float64(want[i])
				se += d * d
				sum += float64(want[i])
				sum2 += float64(want[i]) * float64(want[i])
			}
			n := float64(len(want))
			rms := math.Sqrt(se / n)
			std := math.Sqrt(sum2/n - (sum/n)*(sum/n))
			t.Logf("Q8_0 logits: RMS error %.4g = %.2f%% of std %.4g", rms, 100*rms/std, std)
			if rms > 0.05*std {
				t.Errorf("RMS error %.4g > 5%% of std %.4g", rms, std)
			}
			checked := 0
			for p := 0; p < len(want)/V; p++ {
				row := want[p*V : (p+1)*V]
				a := argmax(row)
				second := math.Inf(-1)
				for i, v := range row {
					if i != a && float64(v) > second {
						second = float64(v)
					}
				}
				if float64(row[a])-second <= 0.1 {
					continue
				}
				checked++
				if b := argmax(got[p*V : (p+1)*V]); b != a {
					t.Errorf("position %d: argmax %d, reference %d (margin %.3f)", p, b, a, float64(row[a])-second)
				}
			}
			t.Logf("argmax checked at %d of %d positions (margin > 0.1)", checked, len(want)/V)
		})
	}
}

// meanKL returns the mean over positions of KL(softmax(p) || softmax(q)).
func meanKL(p, q []float32, V int) float64 {
	total := 0.0
	rows := len(p) / V
	for r := 0; r < rows; r++ {
		a, b := p[r*V:(r+1)*V], q[r*V:(r+1)*V]
		la, lb := logSumExp(a), logSumExp(b)
		kl := 0.0
		for i := range a {
			lpa := float64(a[i]) - la
			kl += math.Exp(lpa) * (lpa - (float64(b[i]) - lb))
		}
		total += kl
	}
	return total / float64(rows)
}

func logSumExp(x []float32) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s)
}

// TestQuantKL reports the mean KL divergence of the quantized models'
// next-token distributions from the F32 model's, over all positions of
// all cases. The tiny model's rows (64 and 128 wide) are too short for
// 256-element K-quant blocks, so the converter's fallback stores its "Q4_K"
// matrices as Q5_0: the figure measures that file, not Q4_K blocks.
func TestQuantKL(t *testing.T) {
	f32 := openTiny(t, quant.F32)
	V := f32.Text.Vocab
	ref := map[string][]float32{}
	for _, name := range goldenCases {
		ref[name] = caseLogits(t, f32, loadGolden(t, name))
	}
	kls := map[quant.Type]float64{}
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0, quant.Q4_K} {
		m := openTiny(t, typ)
		sum, n := 0.0, 0
		for _, name := range goldenCases {
			got := caseLogits(t, m, loadGolden(t, name))
			rows := len(got) / V
			sum += meanKL(ref[name], got, V) * float64(rows)
			n += rows
		}
		kls[typ] = sum / float64(n)
		t.Logf("%v: mean KL(F32 || %v) = %.3g nats over %d positions", typ, typ, kls[typ], n)
		if !(kls[typ] >= 0) || kls[typ] > 0.05 {
			t.Errorf("%v: mean KL %.3g outside [0, 0.05]", typ, kls[typ])
		}
	}
	if kls[quant.Q8_0] >= kls[quant.Q4_0] {
		t.Errorf("Q8_0 KL %.3g not below Q4_0 KL %.3g", kls[quant.Q8_0], kls[quant.Q4_0])
	}
}
