package model_test

import (
	"math"
	"testing"

	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
)

// decodeLogits prefills g's prompt (image included) and then decodes
// steps greedy tokens one at a time, returning the logits of every decode
// step (steps × Vocab): the n = 1 path that reads packed matrices.
func decodeLogits(t *testing.T, m *model.Model, g *golden, steps int) []float32 {
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
	V := m.Text.Vocab
	logits := make([]float32, V)
	if err := c.Forward(m.PromptBatch(g.TextIDs, img), model.Output{Logits: logits}); err != nil {
		t.Fatal(err)
	}
	var out []float32
	for s := 0; s < steps; s++ {
		best := 0
		for i, v := range logits {
			if v > logits[best] {
				best = i
			}
		}
		if err := c.Forward(model.Batch{Tokens: []int32{int32(best)}}, model.Output{Logits: logits}); err != nil {
			t.Fatal(err)
		}
		out = append(out, logits...)
	}
	return out
}

// TestRepackDecode loads the Q4_0 tiny model with and without load-time
// repacking (COGEDGE_NO_REPACK=1) and compares greedy decode logits. The
// packed kernels sum each 32-element block exactly in int32 where the
// unpacked ones add per-lane float partial sums, so the logits differ
// only by float32 rounding: at most 1e-4 of the largest |logit| (about a
// thousand times float32 epsilon, for rounding compounded over the layers).
// Where packing is not available (no fast packed kernel on this CPU or
// build), the packed load must leave every matrix unpacked.
func TestRepackDecode(t *testing.T) {
	path := tinyGGUF(t, quant.Q4_0)
	t.Setenv("COGEDGE_NO_REPACK", "1")
	plain, err := model.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if n := plain.PackedMatrices(); n != 0 {
		t.Fatalf("COGEDGE_NO_REPACK=1: %d matrices packed", n)
	}
	t.Setenv("COGEDGE_NO_REPACK", "")
	packed, err := model.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer packed.Close()
	want := len(packed.LanguageWeights())
	if !kernels.PackedFast(quant.Q4_0) {
		want = 0
	}
	if n := packed.PackedMatrices(); n != want {
		t.Fatalf("%d of %d language matrices packed, want %d", n, len(packed.LanguageWeights()), want)
	}
	for _, name := range goldenCases {
		g := loadGolden(t, name)
		a := decodeLogits(t, plain, g, 4)
		b := decodeLogits(t, packed, g, 4)
		scale := 0.0
		for _, v := range a {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		for i := range a {
			if d := math.Abs(float64(a[i]) - float64(b[i])); !(d <= 1e-4*scale) {
				t.Fatalf("%s: logit %d: packed %g, unpacked %g (max |logit| %g)", name, i, b[i], a[i], scale)
			}
		}
	}
}
