package model_test

import (
	"math"
	"testing"

	"github.com/cogedge/cogedge/gguf"
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

// TestQ8_0 holds the Q8_0-converted model to the reference at every
// position of every case. The tiny model's logits have a standard deviation
// of about 0.16 and a median top-two margin of about 0.03, so the bars are
// relative to that scale: RMS error at most 3% of the std (measured
// 1.2-1.9%), max |Δ| at most 0.2 std (measured 0.1), and the same argmax at
// 90% of the positions or more (measured 132 of 136; a position can flip
// only where the reference's margin is below 2 max |Δ|).
func TestQ8_0(t *testing.T) {
	m := openTiny(t, quant.Q8_0)
	V := m.Text.Vocab
	for _, name := range goldenCases {
		t.Run(name, func(t *testing.T) {
			g := loadGolden(t, name)
			got, want := caseLogits(t, m, g), g.f32(t, "logits")
			var se, sum, sum2, maxAbs float64
			for i := range want {
				d := float64(got[i]) - float64(want[i])
				se += d * d
				maxAbs = math.Max(maxAbs, math.Abs(d))
				sum += float64(want[i])
				sum2 += float64(want[i]) * float64(want[i])
			}
			n := float64(len(want))
			rms := math.Sqrt(se / n)
			std := math.Sqrt(sum2/n - (sum/n)*(sum/n))
			if !(rms <= 0.03*std) {
				t.Errorf("RMS error %.4g > 3%% of std %.4g", rms, std)
			}
			if !(maxAbs <= 0.2*std) {
				t.Errorf("max |Δ| %.4g > 0.2 std %.4g", maxAbs, std)
			}
			positions := len(want) / V
			same := 0
			for p := 0; p < positions; p++ {
				if argmax(got[p*V:(p+1)*V]) == argmax(want[p*V:(p+1)*V]) {
					same++
				}
			}
			if 10*same < 9*positions {
				t.Errorf("same argmax at %d of %d positions, want at least 90%%", same, positions)
			}
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

// TestQuantKL measures the mean KL divergence of the quantized tiny
// models' next-token distributions from the F32 model's, over all positions
// of all cases. The tiny checkpoint's rows are 64 and 128 wide, which hold
// Q8_0 and Q4_0 blocks but not 256-element K-quant blocks (those run end to
// end in TestQuantKLRealBlocks), so the test first checks that the
// converted file really holds every matrix in the type under test: a file
// left in F32 would give KL = 0. Measured: Q8_0 3.0e-6, Q4_0 6.4e-4; the
// bars are about 10x either way.
func TestQuantKL(t *testing.T) {
	f32 := openTiny(t, quant.F32)
	V := f32.Text.Vocab
	ref := map[string][]float32{}
	for _, name := range goldenCases {
		ref[name] = caseLogits(t, f32, loadGolden(t, name))
	}
	for _, c := range []struct {
		typ    quant.Type
		lo, hi float64
	}{
		{quant.Q8_0, 3e-7, 3e-5},
		{quant.Q4_0, 6e-5, 6e-3},
	} {
		counts := tensorTypes(t, tinyGGUF(t, c.typ))
		if counts[c.typ] != tinyMatrices {
			t.Errorf("%v file: %d matrices of that type (types %v), want %d", c.typ, counts[c.typ], counts, tinyMatrices)
		}
		m := openTiny(t, c.typ)
		sum, n := 0.0, 0
		for _, name := range goldenCases {
			got := caseLogits(t, m, loadGolden(t, name))
			rows := len(got) / V
			sum += meanKL(ref[name], got, V) * float64(rows)
			n += rows
		}
		kl := sum / float64(n)
		if !(kl >= c.lo && kl <= c.hi) {
			t.Errorf("%v: mean KL(F32 || %v) = %.3g nats over %d positions, want in [%g, %g]", c.typ, c.typ, kl, n, c.lo, c.hi)
		}
	}
}

// tinyMatrices is the number of weight matrices in the tiny checkpoint
// (testdata/cogvlm-tiny/hf: 2 text layers of 5 language and 5 visual-expert
// matrices, 2 ViT layers of 4, the adapter's 4, embedding and output), all
// of them quantized by a --pure conversion when their rows fit the blocks.
const tinyMatrices = 2*10 + 2*4 + 4 + 2

// tensorTypes counts the tensors of each type in the GGUF at path.
func tensorTypes(t *testing.T, path string) map[quant.Type]int {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[quant.Type]int{}
	for _, ti := range f.Tensors {
		out[ti.Type]++
	}
	return out
}
