package model_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/model/imageproc"
	"github.com/cogedge/cogedge/quant"
	"github.com/cogedge/cogedge/tools/convert/converter"
)

// greedy picks the highest logit (lowest id on ties), as the reference.
type greedy struct{}

func (greedy) Sample(logits []float32, _ []int32) int32 { return int32(argmax(logits)) }

var goldenCases = []string{"tiny-image-chat", "tiny-text-only", "tiny-image-chat-history"}

// TestParityF32 runs the F32-converted tiny model on every reference case
// and compares each stage with the PyTorch dumps: the pixels made from the
// PNG, the ViT residual stream and output and the image embeddings (from
// the reference pixels), ids, position ids and expert mask, the input
// embeddings and decoder residual stream, final hidden states, logits at
// every position (max |Δ| within the bar and the same argmax everywhere),
// the 16 greedy tokens and the per-step decode logits. Both KV cache types
// are checked.
func TestParityF32(t *testing.T) {
	m := openTiny(t, quant.F32)
	kvs := []struct {
		name string
		kv   model.KVType
		// tolerances: the f32 cache should reach the reference's fp32
		// noise (README of the reference: ≤ 5e-5); the f16 cache rounds
		// K and V to 11 bits and is held to the 1e-3 bar.
		hidden, logits float64
	}{
		{"kv-f32", model.KVF32, 1e-4, 5e-5},
		{"kv-f16", model.KVF16, 3e-3, 1e-3},
	}
	for _, name := range goldenCases {
		for _, kv := range kvs {
			t.Run(name+"/"+kv.name, func(t *testing.T) {
				g := loadGolden(t, name)
				c, err := m.NewContext(model.ContextOptions{Size: 128, KV: kv.kv, Threads: 2, Batch: 16})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				var img []float32
				if g.Image != nil {
					vit := checkViT(t, m, c, g)
					img = make([]float32, m.ImageEmbeds())
					if err := c.Adapter(img, vit); err != nil {
						t.Fatal(err)
					}
					if d := maxAbsDiff(img, g.f32(t, "image_embeds")); d > 5e-6 {
						t.Errorf("image embeddings: max |Δ| = %.3g > 5e-6", d)
					} else {
						t.Logf("image embeddings max |Δ| = %.3g", d)
					}
				}
				b := m.PromptBatch(g.TextIDs, img)
				if got, want := b.Tokens, g.i32(t, "input_ids"); !equalIDs(got, want) {
					t.Fatalf("input ids %v, want %v", got, want)
				}
				checkSequence(t, g, b.Types)
				L, V, H := len(b.Tokens), m.Text.Vocab, m.Text.Hidden
				logits := make([]float32, L*V)
				hidden := make([]float32, L*H)
				layers := make([]float32, (m.Text.Layers+1)*L*H)
				if err := c.Forward(b, model.Output{Logits: logits, Hidden: hidden, Layers: layers}); err != nil {
					t.Fatal(err)
				}
				if d := maxAbsDiff(layers[:L*H], g.f32(t, "inputs_embeds")); d > 5e-6 {
					t.Errorf("input embeddings: max |Δ| = %.3g > 5e-6", d)
				}
				if d := maxAbsDiff(layers, g.f32(t, "layer_hidden_states")); d > kv.hidden {
					t.Errorf("decoder residual stream: max |Δ| = %.3g > %g", d, kv.hidden)
				}
				if d := maxAbsDiff(hidden, g.f32(t, "final_hidden")); d > kv.hidden {
					t.Errorf("final hidden: max |Δ| = %.3g > %g", d, kv.hidden)
				}
				want := g.f32(t, "logits")
				d := maxAbsDiff(logits, want)
				t.Logf("logits over %d positions: max |Δ| = %.3g", L, d)
				if d > kv.logits {
					t.Errorf("logits: max |Δ| = %.3g > %g", d, kv.logits)
				}
				for p := 0; p < L; p++ {
					if a, b := argmax(logits[p*V:(p+1)*V]), argmax(want[p*V:(p+1)*V]); a != b {
						t.Errorf("position %d: argmax %d, reference %d", p, a, b)
					}
				}
				// greedy decoding with the cache, no EOS stop
				last := append([]float32(nil), logits[(L-1)*V:]...)
				var rows []float32
				toks, err := c.Generate(last, model.GenerateOptions{MaxTokens: len(g.Generated), Sampler: recordLogits{&rows}})
				if err != nil {
					t.Fatal(err)
				}
				if !equalIDs(toks, g.Generated) {
					t.Errorf("greedy tokens %v, want %v", toks, g.Generated)
				}
				if g.has("decode_logits") {
					if d := maxAbsDiff(rows, g.f32(t, "decode_logits")); d > kv.logits {
						t.Errorf("decode logits: max |Δ| = %.3g > %g", d, kv.logits)
					} else {
						t.Logf("decode logits max |Δ| = %.3g", d)
					}
				}
			})
		}
	}
}

// checkViT compares the pixels made from the case's image with the
// reference's, then the ViT residual stream and output computed from the
// reference pixels, and returns that output.
func checkViT(t *testing.T, m *model.Model, c *model.Context, g *golden) []float32 {
	t.Helper()
	vc := m.Vision
	// pixels through the image package, as `cogedge run` makes them
	im, err := imageproc.Load(g.imagePath(), imageproc.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	rgb, w, h := imageproc.ToRGB(im)
	S := vc.ImageSize
	px := imageproc.Normalize(imageproc.ResizeBicubic(rgb, w, h, S, S), S, S, vc.ImageMean, vc.ImageStd)
	if d := maxAbsDiff(px, g.f32(t, "pixel_values")); d > 1e-6 {
		t.Errorf("pixels: max |Δ| = %.3g > 1e-6", d)
	}
	vit := make([]float32, vc.Patches*vc.Hidden)
	states := make([]float32, (vc.Layers+1)*(vc.Patches+1)*vc.Hidden)
	if err := c.ViTStates(vit, states, g.f32(t, "pixel_values")); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(states, g.f32(t, "vit_hidden_states")); d > 1e-4 {
		t.Errorf("ViT residual stream: max |Δ| = %.3g > 1e-4", d)
	}
	if d := maxAbsDiff(vit, g.f32(t, "vit_output")); d > 1e-4 {
		t.Errorf("ViT output: max |Δ| = %.3g > 1e-4", d)
	} else {
		t.Logf("ViT output max |Δ| = %.3g", d)
	}
	return vit
}

// recordLogits is greedy and keeps every row it saw.
type recordLogits struct{ rows *[]float32 }

func (r recordLogits) Sample(logits []float32, h []int32) int32 {
	*r.rows = append(*r.rows, logits...)
	return greedy{}.Sample(logits, h)
}

// checkSequence compares token types, position ids and the expert mask
// with the reference's.
func checkSequence(t *testing.T, g *golden, types []model.TokenType) {
	t.Helper()
	wantTypes := g.i32(t, "token_type_ids")
	if len(types) != len(wantTypes) {
		t.Fatalf("%d slots, reference %d", len(types), len(wantTypes))
	}
	for i := range types {
		if int32(types[i]) != wantTypes[i] {
			t.Fatalf("slot %d: type %d, reference %d", i, types[i], wantTypes[i])
		}
	}
	if got, want := model.PositionIDs(types), g.i32(t, "position_ids"); !equalIDs(got, want) {
		t.Errorf("position ids %v, reference %v", got, want)
	}
	mask := model.VisionExpertMask(types)
	for i, w := range g.i32(t, "vision_expert_mask") {
		if mask[i] != (w == 1) {
			t.Errorf("slot %d: vision expert %v, reference %v", i, mask[i], w == 1)
		}
	}
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSplitMMProj converts to llama.cpp's pair of files (text GGUF +
// mmproj) and checks that loading both gives the single file's logits.
func TestSplitMMProj(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "tiny.gguf")
	err := converter.Convert(context.Background(), converter.Options{
		Input: tinyHF, Output: text, Type: quant.F32, NoTokenizer: true, Pure: true, SplitMMProj: true, Threads: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Open(text, ""); err != nil {
		t.Fatalf("text file alone: %v", err)
	}
	m, err := model.Open(text, converter.MMProjPath(text))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Vision == nil {
		t.Fatal("no vision tower from the mmproj file")
	}
	g := loadGolden(t, "tiny-image-chat")
	got, want := caseLogits(t, m, g), caseLogits(t, openTiny(t, quant.F32), g)
	if d := maxAbsDiff(got, want); d != 0 {
		t.Errorf("split files differ from the single file by %.3g", d)
	}
}
