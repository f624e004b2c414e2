package model_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
)

// The tiny CogVLM2 checkpoint, its reference dumps and the odd-grid
// variant's position embedding (testdata/README.md, section cogvlm2-tiny).
var (
	tiny2HF     = filepath.Join("..", "testdata", "cogvlm2-tiny", "hf")
	golden2Root = filepath.Join("..", "testdata", "cogvlm2-tiny", "golden")
	oddPosEmbd  = filepath.Join("..", "testdata", "cogvlm2-tiny", "odd", "position_embedding.f32.bin")
)

const oddGridCase = "cogvlm2-tiny-odd-grid"

var golden2Cases = []string{"cogvlm2-tiny-image-chat", oddGridCase, "cogvlm2-tiny-text-only"}

// openTiny2 opens the tiny CogVLM2 converted to typ; for the odd-grid case
// the variant make_odd.py describes: the same file with a 70 px input (a
// 5x5 patch grid) and its 26-row position embedding.
func openTiny2(t testing.TB, typ quant.Type, odd bool) *model.Model {
	t.Helper()
	path := convertCached(t, tiny2HF, "cogvlm2-tiny", typ)
	if odd {
		path = oddVariant(t, path)
	}
	m, err := model.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// oddVariant writes a copy of the GGUF at path with the odd-grid position
// embedding and image size (next to it, once).
func oddVariant(t testing.TB, path string) string {
	t.Helper()
	raw, err := os.ReadFile(oddPosEmbd)
	if err != nil {
		t.Fatal(err)
	}
	const size, positions = 70, 26
	return rewriteGGUF(t, path, "odd", map[string]any{
		"clip.vision.image_size": uint32(size), "cogvlm.vision.image_size": uint32(size),
		"cogvlm.vision.num_positions": uint32(positions),
	}, map[string][]byte{"v.position_embd.weight": raw})
}

// rewriteGGUF writes a copy of the GGUF at path (next to it as
// <path>-<suffix>.gguf, once) with the values of kvs and the F32 data of
// tensors (ggml shape {ne0, len/4/ne0}) in place of the file's.
func rewriteGGUF(t testing.TB, path, suffix string, kvs map[string]any, tensors map[string][]byte) string {
	t.Helper()
	out := path[:len(path)-len(".gguf")] + "-" + suffix + ".gguf"
	if _, err := os.Stat(out); err == nil {
		return out
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := gguf.Create(out+".tmp", gguf.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range f.KVs {
		if v, ok := kvs[kv.Key]; ok {
			err = w.SetKV(kv.Key, v)
		} else {
			err = w.SetValue(kv.Key, kv.Value)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		typ, shape := ti.Type, ti.Shape
		if raw, ok := tensors[ti.Name]; ok {
			typ, shape = quant.F32, []uint64{shape[0], uint64(len(raw)) / 4 / shape[0]}
			if len(raw)%(4*int(shape[0])) != 0 {
				t.Fatalf("%s: %d bytes is not whole rows of %d", ti.Name, len(raw), shape[0])
			}
		}
		if err := w.AddTensor(ti.Name, typ, shape); err != nil {
			t.Fatal(err)
		}
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		data, err := f.TensorData(ti)
		if err != nil {
			t.Fatal(err)
		}
		if raw, ok := tensors[ti.Name]; ok {
			data = raw
		}
		if err := w.WriteTensor(ti.Name, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(out+".tmp", out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCogVLM2UsesStoredInvFreq: the decoder rotates by the checkpoint's
// rope_inv_freq values, not by ones computed from the base. On the tiny
// model's short sequences the two differ too little for the parity bars
// (3e-6 against 2e-7 on the logits), so this replaces the stored values by
// base 10000's and checks that the logits move far, while TestCogVLM2ParityF32
// shows the stored ones give the reference's.
func TestCogVLM2UsesStoredInvFreq(t *testing.T) {
	path := convertCached(t, tiny2HF, "cogvlm2-tiny", quant.F32)
	m := openTiny2(t, quant.F32, false)
	hd := m.Text.HeadDim
	raw := make([]byte, 4*hd/2)
	for i := 0; i < hd/2; i++ {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(math.Pow(10000, -float64(2*i)/float64(hd)))))
	}
	over := map[string][]byte{}
	for l := 0; l < m.Text.Layers; l++ {
		over[fmt.Sprintf("blk.%d.rope_inv_freq", l)] = raw
	}
	alt, err := model.Open(rewriteGGUF(t, path, "base10000", nil, over), "")
	if err != nil {
		t.Fatal(err)
	}
	defer alt.Close()
	g := loadGoldenIn(t, golden2Root, "cogvlm2-tiny-text-only")
	if d := maxAbsDiff(caseLogits(t, alt, g), caseLogits(t, m, g)); d < 1e-2 {
		t.Fatalf("logits moved by %.3g with other inverse frequencies: the stored ones are not used", d)
	}
}

// TestCogVLM2Config: the model is recognised from the file: GQA, the
// downsample, the stored RoPE frequencies, the vision-QKV bias and
// Llama-3's special ids.
func TestCogVLM2Config(t *testing.T) {
	m := openTiny2(t, quant.F32, false)
	tc, vc := m.Text, m.Vision
	if tc.Heads != 4 || tc.HeadsKV != 2 || tc.HeadDim != 8 || tc.Vocab != 128256 {
		t.Fatalf("text config %+v", tc)
	}
	if tc.BOS != 128000 || tc.PAD != 128002 || tc.EOS != 128001 || tc.EOT != 128009 {
		t.Fatalf("special ids: bos %d pad %d eos %d eot %d", tc.BOS, tc.PAD, tc.EOS, tc.EOT)
	}
	for id, stop := range map[int32]bool{128001: true, 128009: true, 128000: false, 2: false} {
		if tc.IsStop(id) != stop {
			t.Errorf("IsStop(%d) = %v", id, !stop)
		}
	}
	if vc == nil || !vc.Downsample || vc.Grid != 4 || vc.Rows != 4 || vc.ImageTokens != 6 {
		t.Fatalf("vision config %+v", vc)
	}
	odd := openTiny2(t, quant.F32, true).Vision
	if odd.Grid != 5 || odd.Rows != 4 || odd.ImageTokens != 6 || odd.Patches != 25 {
		t.Fatalf("odd grid: %+v", odd)
	}
}

// TestCogVLM2ParityF32 runs the F32 tiny CogVLM2 on every reference case
// (including the odd 5x5 grid) and compares each stage with the PyTorch
// dumps: pixels, the ViT residual stream and output, the conv output, the
// image embeddings, ids, positions and expert routing, the input
// embeddings and decoder residual stream, the final hidden state at every
// position, the argmax of the logits at every position, the full logits
// rows the dumps keep, the 16 greedy tokens and the kept decode-step rows.
// The bars: the f32 cache at the reference's fp32 noise, the f16 cache at
// the 1e-3.
func TestCogVLM2ParityF32(t *testing.T) {
	kvs := []struct {
		name           string
		kv             model.KVType
		hidden, logits float64
	}{
		{"kv-f32", model.KVF32, 1e-4, 5e-5},
		{"kv-f16", model.KVF16, 3e-3, 1e-3},
	}
	for _, name := range golden2Cases {
		m := openTiny2(t, quant.F32, name == oddGridCase)
		for _, kv := range kvs {
			t.Run(name+"/"+kv.name, func(t *testing.T) {
				g := loadGoldenIn(t, golden2Root, name)
				c, err := m.NewContext(model.ContextOptions{Size: 64, KV: kv.kv, Threads: 2, Batch: 8})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				var img []float32
				if g.Image != nil {
					img = checkVision2(t, m, c, g)
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
				for p, want := range g.i32(t, "logits_argmax") {
					if a := argmax(logits[p*V : (p+1)*V]); int32(a) != want {
						t.Errorf("position %d: argmax %d, reference %d", p, a, want)
					}
				}
				var rows []float32
				for _, p := range g.LogitsRows {
					rows = append(rows, logits[p*V:(p+1)*V]...)
				}
				d := maxAbsDiff(rows, g.f32(t, "logits_rows"))
				t.Logf("logits at positions %v: max |Δ| = %.3g", g.LogitsRows, d)
				if d > kv.logits {
					t.Errorf("logits: max |Δ| = %.3g > %g", d, kv.logits)
				}
				last := append([]float32(nil), logits[(L-1)*V:]...)
				var steps []float32
				toks, err := c.Generate(last, model.GenerateOptions{MaxTokens: len(g.Generated), Sampler: recordLogits{&steps}})
				if err != nil {
					t.Fatal(err)
				}
				if !equalIDs(toks, g.Generated) {
					t.Errorf("greedy tokens %v, want %v", toks, g.Generated)
				}
				rows = rows[:0]
				for _, r := range g.DecodeRows {
					rows = append(rows, steps[r*V:(r+1)*V]...)
				}
				if d := maxAbsDiff(rows, g.f32(t, "decode_logits_rows")); d > kv.logits {
					t.Errorf("decode logits: max |Δ| = %.3g > %g", d, kv.logits)
				} else {
					t.Logf("decode logits (steps %v) max |Δ| = %.3g", g.DecodeRows, d)
				}
			})
		}
	}
}

// checkVision2 compares the image stages of case g and returns the image
// embeddings computed from the reference pixels.
func checkVision2(t *testing.T, m *model.Model, c *model.Context, g *golden) []float32 {
	t.Helper()
	vc := m.Vision
	vit := checkViT(t, m, c, g)
	conv := make([]float32, vc.Rows*vc.Hidden)
	if err := c.Downsample(conv, vit); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(conv, g.f32(t, "conv_output")); d > 1e-4 {
		t.Errorf("conv output: max |Δ| = %.3g > 1e-4", d)
	} else {
		t.Logf("conv output max |Δ| = %.3g", d)
	}
	img := make([]float32, m.ImageEmbeds())
	if err := c.Adapter(img, conv); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(img, g.f32(t, "image_embeds")); d > 1e-5 {
		t.Errorf("image embeddings: max |Δ| = %.3g > 1e-5", d)
	}
	// EncodeImage chains the same stages.
	enc := make([]float32, m.ImageEmbeds())
	if err := c.EncodeImage(enc, g.f32(t, "pixel_values")); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(enc, img) {
		t.Error("EncodeImage differs from ViT + Downsample + Adapter")
	}
	return img
}

// TestCogVLM2Q8_0 holds the Q8_0 tiny CogVLM2 to the reference: logits RMS
// error at most 5% of their standard deviation on every kept row (the
// issue's bar), and the same argmax at 90% of the positions or more.
func TestCogVLM2Q8_0(t *testing.T) {
	for _, name := range golden2Cases {
		t.Run(name, func(t *testing.T) {
			m := openTiny2(t, quant.Q8_0, name == oddGridCase)
			g := loadGoldenIn(t, golden2Root, name)
			V := m.Text.Vocab
			logits := caseLogits(t, m, g)
			var got []float32
			for _, p := range g.LogitsRows {
				got = append(got, logits[p*V:(p+1)*V]...)
			}
			want := g.f32(t, "logits_rows")
			var se, sum, sum2 float64
			for i := range want {
				d := float64(got[i]) - float64(want[i])
				se += d * d
				sum += float64(want[i])
				sum2 += float64(want[i]) * float64(want[i])
			}
			n := float64(len(want))
			rms, std := math.Sqrt(se/n), math.Sqrt(sum2/n-(sum/n)*(sum/n))
			t.Logf("RMS error %.4g = %.2f%% of std %.4g", rms, 100*rms/std, std)
			if !(rms <= 0.05*std) {
				t.Errorf("RMS error %.4g > 5%% of std %.4g", rms, std)
			}
			am := g.i32(t, "logits_argmax")
			same := 0
			for p := range am {
				if int32(argmax(logits[p*V:(p+1)*V])) == am[p] {
					same++
				}
			}
			if 10*same < 9*len(am) {
				t.Errorf("same argmax at %d of %d positions", same, len(am))
			}
		})
	}
}
