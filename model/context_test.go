package model_test

import (
	"errors"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
)

// imageEmbeds encodes the reference pixels of the image case.
func imageEmbeds(t *testing.T, m *model.Model, c *model.Context) []float32 {
	t.Helper()
	g := loadGolden(t, "tiny-image-chat")
	img := make([]float32, m.ImageEmbeds())
	if err := c.EncodeImage(img, g.f32(t, "pixel_values")); err != nil {
		t.Fatal(err)
	}
	return img
}

// TestChunkedAndIncremental checks that the KV cache makes the way a
// sequence is fed irrelevant: one pass, chunks of every size (the expert
// mask still computed over the whole call, so a chunk may end inside the
// image), and a prefill followed by one-token steps all give the same
// logits.
func TestChunkedAndIncremental(t *testing.T) {
	m := openTiny(t, quant.F32)
	V := m.Text.Vocab
	g := loadGolden(t, "tiny-image-chat")
	ref, err := m.NewContext(model.ContextOptions{Size: 64, KV: model.KVF32, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	img := imageEmbeds(t, m, ref)
	b := m.PromptBatch(g.TextIDs, img)
	L := len(b.Tokens)
	H := m.Text.Hidden
	want := make([]float32, L*V)
	wantHidden := make([]float32, L*H)
	wantLayers := make([]float32, (m.Text.Layers+1)*L*H)
	if err := ref.Forward(b, model.Output{Logits: want, Hidden: wantHidden, Layers: wantLayers}); err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1, 3, 7, 16} {
		c, err := m.NewContext(model.ContextOptions{Size: 64, KV: model.KVF32, Threads: 2, Batch: batch})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, L*V)
		hidden := make([]float32, L*H)
		layers := make([]float32, (m.Text.Layers+1)*L*H)
		if err := c.Forward(b, model.Output{Logits: got, Hidden: hidden, Layers: layers}); err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(got, want); d > 1e-5 {
			t.Errorf("batch %d: logits differ from one pass by %.3g", batch, d)
		}
		if d := maxAbsDiff(hidden, wantHidden); d > 1e-5 {
			t.Errorf("batch %d: final hidden states differ from one pass by %.3g", batch, d)
		}
		if d := maxAbsDiff(layers, wantLayers); d > 1e-5 {
			t.Errorf("batch %d: per-layer states differ from one pass by %.3g", batch, d)
		}
		if c.Len() != L {
			t.Errorf("batch %d: cache holds %d slots, want %d", batch, c.Len(), L)
		}
		// last-row logits only
		last := make([]float32, V)
		c.Reset()
		if err := c.Forward(b, model.Output{Logits: last}); err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(last, want[(L-1)*V:]); d > 1e-5 {
			t.Errorf("batch %d: last-row logits differ by %.3g", batch, d)
		}
		c.Close()
	}
	// prefill up to the first text token (asking for its logits, or for
	// nothing as an image prefill does, so the last layer keeps only K and
	// V of those rows), then the text one token at a time: each step's
	// logits equal the full pass's row.
	split := L - len(g.TextIDs)
	head := model.Batch{Tokens: b.Tokens[:split], Types: b.Types[:split], Embeds: img}
	for _, tc := range []struct {
		batch  int
		logits bool
	}{{0, true}, {0, false}, {3, false}} {
		c, err := m.NewContext(model.ContextOptions{Size: 64, KV: model.KVF32, Threads: 2, Batch: tc.batch})
		if err != nil {
			t.Fatal(err)
		}
		row := make([]float32, V)
		out := model.Output{}
		if tc.logits {
			out.Logits = row
		}
		if err := c.Forward(head, out); err != nil {
			t.Fatal(err)
		}
		for i := split; i < L; i++ {
			if err := c.Forward(model.Batch{Tokens: b.Tokens[i : i+1]}, model.Output{Logits: row}); err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(row, want[i*V:(i+1)*V]); d > 1e-5 {
				t.Errorf("batch %d, head logits %v: step at slot %d: logits differ from the full pass by %.3g", tc.batch, tc.logits, i, d)
			}
		}
		if c.Len() != L {
			t.Errorf("cache holds %d slots, want %d", c.Len(), L)
		}
		c.Close()
	}
}

func TestContextFull(t *testing.T) {
	m := openTiny(t, quant.F32)
	c, err := m.NewContext(model.ContextOptions{Size: 8, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	toks := []int32{1, 2, 3, 4, 5, 6}
	if err := c.Forward(model.Batch{Tokens: toks}, model.Output{}); err != nil {
		t.Fatal(err)
	}
	err = c.Forward(model.Batch{Tokens: toks[:3]}, model.Output{})
	if !errors.Is(err, model.ErrContextFull) {
		t.Fatalf("got %v, want ErrContextFull", err)
	}
	if c.Len() != 6 {
		t.Errorf("a refused call changed the cache: %d slots", c.Len())
	}
	// Generate stops with the error once the cache is full
	logits := make([]float32, m.Text.Vocab)
	if err := c.Forward(model.Batch{Tokens: toks[:1]}, model.Output{Logits: logits}); err != nil {
		t.Fatal(err)
	}
	out, err := c.Generate(logits, model.GenerateOptions{MaxTokens: 10, Sampler: greedy{}})
	if !errors.Is(err, model.ErrContextFull) || len(out) != 2 {
		t.Errorf("generate in a full cache: %d tokens, %v", len(out), err)
	}
}

func TestForwardRejectsBadInput(t *testing.T) {
	m := openTiny(t, quant.F32)
	c, err := m.NewContext(model.ContextOptions{Size: 32, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	V, H := m.Text.Vocab, m.Text.Hidden
	tests := []struct {
		name string
		b    model.Batch
		out  model.Output
	}{
		{"empty", model.Batch{}, model.Output{}},
		{"token too large", model.Batch{Tokens: []int32{int32(V)}}, model.Output{}},
		{"negative token", model.Batch{Tokens: []int32{-1}}, model.Output{}},
		{"types length", model.Batch{Tokens: []int32{1, 2}, Types: []model.TokenType{model.Lang}}, model.Output{}},
		{"unknown type", model.Batch{Tokens: []int32{1}, Types: []model.TokenType{7}}, model.Output{}},
		{"missing embeds", model.Batch{Tokens: []int32{1, 0}, Types: []model.TokenType{model.Lang, model.Vision}}, model.Output{}},
		{"extra embeds", model.Batch{Tokens: []int32{1}, Embeds: make([]float32, H)}, model.Output{}},
		{"logits size", model.Batch{Tokens: []int32{1, 2}}, model.Output{Logits: make([]float32, V+1)}},
		{"hidden size", model.Batch{Tokens: []int32{1, 2}}, model.Output{Hidden: make([]float32, H)}},
	}
	for _, tc := range tests {
		if err := c.Forward(tc.b, tc.out); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if c.Len() != 0 {
		t.Errorf("rejected calls left %d slots in the cache", c.Len())
	}
	if err := c.ViT(make([]float32, 3), make([]float32, 5)); err == nil {
		t.Error("ViT accepted a wrong pixel count")
	}
}

// TestAdviseKeepsResults drops the vision and expert pages of the mapped
// file and checks the model still computes the same logits (the pages are
// read back from the file).
func TestAdviseKeepsResults(t *testing.T) {
	m := openTiny(t, quant.F32)
	g := loadGolden(t, "tiny-image-chat")
	before := caseLogits(t, m, g)
	m.Advise(model.PartVision, gguf.AdviceDontNeed)
	m.Advise(model.PartExperts, gguf.AdviceDontNeed)
	if d := maxAbsDiff(caseLogits(t, m, g), before); d != 0 {
		t.Errorf("logits changed by %.3g after AdviceDontNeed", d)
	}
}

// TestDecodeDoesNotAllocate checks that a decode step reuses the context's
// buffers (activations, KV cache and position scratch are allocated once).
func TestDecodeDoesNotAllocate(t *testing.T) {
	m := openTiny(t, quant.Q8_0)
	c, err := m.NewContext(model.ContextOptions{Size: 256, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	logits := make([]float32, m.Text.Vocab)
	tok := []int32{1}
	step := func() {
		if err := c.Forward(model.Batch{Tokens: tok}, model.Output{Logits: logits}); err != nil {
			t.Fatal(err)
		}
	}
	step() // warm the pool's scratch
	if a := testing.AllocsPerRun(50, step); a > 0 {
		t.Errorf("%.1f allocations per decode step, want 0", a)
	}
}
