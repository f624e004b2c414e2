package model_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
)

// rewrite builds a GGUF in memory with keys and the tensors of src for
// which keep returns a name (the tensor is copied under that name).
func rewrite(t *testing.T, src *gguf.File, keys [][2]any, keep func(name string) (string, bool)) *gguf.File {
	t.Helper()
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf, gguf.WriterOptions{})
	for _, kv := range keys {
		if err := w.SetKV(kv[0].(string), kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	type item struct {
		name string
		data []byte
	}
	var items []item
	for i := range src.Tensors {
		ti := &src.Tensors[i]
		name, ok := keep(ti.Name)
		if !ok {
			continue
		}
		data, err := src.TensorData(ti)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddTensor(name, ti.Type, ti.Shape); err != nil {
			t.Fatal(err)
		}
		items = append(items, item{name, data})
	}
	for _, it := range items {
		if err := w.WriteTensor(it.name, it.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// permuteRows applies llama.cpp's converter permutation for arch llama
// (LlamaModel.permute) to an F32 (out, in) matrix of rows = nHead*headDim
// rows of k floats: within each head, new row 2i+j = old row j*headDim/2+i,
// so that rotating adjacent pairs equals HF's rotate-half.
func permuteRows(data []byte, nHead, headDim, k int) []byte {
	out := make([]byte, len(data))
	rb := 4 * k
	half := headDim / 2
	for h := 0; h < nHead; h++ {
		for i := 0; i < half; i++ {
			for j := 0; j < 2; j++ {
				dst := h*headDim + 2*i + j
				src := h*headDim + j*half + i
				copy(out[dst*rb:(dst+1)*rb], data[src*rb:(src+1)*rb])
			}
		}
	}
	return out
}

// TestLlamaArch converts the F32 tiny model's language path into a plain
// LLaMA GGUF the way llama.cpp's converter lays one out (arch "llama",
// separate attn_q/attn_k/attn_v, Q and K rows permuted for adjacent-pair
// RoPE) and checks it gives the same logits and greedy tokens as the
// original file run text-only. Also a cogvlm file stripped of its vision
// tower and experts runs as a plain decoder with the same result.
func TestLlamaArch(t *testing.T) {
	ref := openTiny(t, quant.F32)
	src, err := gguf.Open(tinyGGUF(t, quant.F32))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tc := ref.Text
	H, hd := tc.Hidden, tc.HeadDim
	base := [][2]any{
		{"general.architecture", "llama"},
		{"llama.embedding_length", uint32(H)},
		{"llama.block_count", uint32(tc.Layers)},
		{"llama.feed_forward_length", uint32(tc.FFN)},
		{"llama.attention.head_count", uint32(tc.Heads)},
		{"llama.attention.head_count_kv", uint32(tc.HeadsKV)},
		{"llama.attention.layer_norm_rms_epsilon", tc.RMSEps},
		{"llama.rope.dimension_count", uint32(hd)},
		{"llama.context_length", uint32(2048)},
	}
	// split the fused QKV: three tensors per layer, each a slice of rows
	var (
		qkvName string
		qkvData []byte
	)
	keepLlama := func(name string) (string, bool) {
		if strings.HasPrefix(name, "v.") || strings.HasPrefix(name, "mm.") || strings.Contains(name, ".vis_") {
			return "", false
		}
		return name, true
	}
	llamaFile := func() *gguf.File {
		var buf bytes.Buffer
		w := gguf.NewWriter(&buf, gguf.WriterOptions{})
		for _, kv := range base {
			if err := w.SetKV(kv[0].(string), kv[1]); err != nil {
				t.Fatal(err)
			}
		}
		type item struct {
			name string
			data []byte
		}
		var items []item
		add := func(name string, shape []uint64, data []byte) {
			if err := w.AddTensor(name, quant.F32, shape); err != nil {
				t.Fatal(err)
			}
			items = append(items, item{name, data})
		}
		for i := range src.Tensors {
			ti := &src.Tensors[i]
			name, ok := keepLlama(ti.Name)
			if !ok {
				continue
			}
			if ti.Type != quant.F32 {
				t.Fatalf("%s is %v, want F32", ti.Name, ti.Type)
			}
			data, err := src.TensorData(ti)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(name, ".attn_qkv.weight") {
				qkvName, qkvData = name, data
				p := strings.TrimSuffix(name, "attn_qkv.weight")
				rb := 4 * H
				q := data[:H*rb]
				k := data[H*rb : 2*H*rb]
				v := data[2*H*rb:]
				add(p+"attn_q.weight", []uint64{uint64(H), uint64(H)}, permuteRows(q, tc.Heads, hd, H))
				add(p+"attn_k.weight", []uint64{uint64(H), uint64(H)}, permuteRows(k, tc.HeadsKV, hd, H))
				add(p+"attn_v.weight", []uint64{uint64(H), uint64(H)}, v)
				continue
			}
			add(name, ti.Shape, data)
		}
		for _, it := range items {
			if err := w.WriteTensor(it.name, it.data); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Parse(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return f
	}()
	if qkvName == "" || len(qkvData) == 0 {
		t.Fatal("no fused QKV found in the source file")
	}
	llama, err := model.New(llamaFile)
	if err != nil {
		t.Fatal(err)
	}
	if llama.Text.RopeNeoX || llama.Text.FusedQKV || llama.Vision != nil || llama.Template != model.TemplateBase {
		t.Fatalf("llama file read as %+v, template %q", llama.Text, llama.Template)
	}

	cogKeys := [][2]any{{"general.architecture", "cogvlm"}}
	for _, kv := range base[1:] {
		cogKeys = append(cogKeys, [2]any{"cogvlm" + strings.TrimPrefix(kv[0].(string), "llama"), kv[1]})
	}
	textOnly, err := model.New(rewrite(t, src, cogKeys, keepLlama))
	if err != nil {
		t.Fatal(err)
	}
	if textOnly.Vision != nil || textOnly.Text.Experts {
		t.Fatal("stripped cogvlm file still has a vision part")
	}

	g := loadGolden(t, "tiny-text-only")
	want := g.f32(t, "logits")
	V := tc.Vocab
	for _, tcase := range []struct {
		name string
		m    *model.Model
		tol  float64
	}{
		{"cogvlm file", ref, 5e-5},
		{"llama file", llama, 5e-5},
		{"cogvlm without vision", textOnly, 5e-5},
	} {
		t.Run(tcase.name, func(t *testing.T) {
			c, err := tcase.m.NewContext(model.ContextOptions{Size: 80, KV: model.KVF32, Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			b := tcase.m.PromptBatch(g.TextIDs, nil)
			logits := make([]float32, len(b.Tokens)*V)
			if err := c.Forward(b, model.Output{Logits: logits}); err != nil {
				t.Fatal(err)
			}
			d := maxAbsDiff(logits, want)
			t.Logf("logits vs reference: max |Δ| = %.3g", d)
			if d > tcase.tol {
				t.Errorf("logits differ from the reference by %.3g > %g", d, tcase.tol)
			}
			toks, err := c.Generate(logits[len(logits)-V:], model.GenerateOptions{MaxTokens: len(g.Generated), Sampler: greedy{}})
			if err != nil {
				t.Fatal(err)
			}
			if !equalIDs(toks, g.Generated) {
				t.Errorf("greedy %v, reference %v", toks, g.Generated)
			}
		})
	}
}

// f32bytes encodes x little-endian.
func f32bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// TestSplitVisionQKV rewrites the tiny model with the vision tower's fused
// QKV split into v.blk.N.attn_q/attn_k/attn_v (+ biases), the layout of
// some early CogVLM mmproj files, and checks the image embeddings do not
// change.
func TestSplitVisionQKV(t *testing.T) {
	ref := openTiny(t, quant.F32)
	src, err := gguf.Open(tinyGGUF(t, quant.F32))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	Hv := ref.Vision.Hidden
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf, gguf.WriterOptions{})
	for _, kv := range src.KVs {
		if err := w.SetValue(kv.Key, kv.Value); err != nil {
			t.Fatal(err)
		}
	}
	type item struct {
		name string
		data []byte
	}
	var items []item
	add := func(name string, shape []uint64, data []byte) {
		if err := w.AddTensor(name, quant.F32, shape); err != nil {
			t.Fatal(err)
		}
		items = append(items, item{name, data})
	}
	split := 0
	for i := range src.Tensors {
		ti := &src.Tensors[i]
		data, err := src.TensorData(ti)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(ti.Name, "v.blk.") && strings.Contains(ti.Name, ".attn_qkv.") {
			p := strings.SplitAfter(ti.Name, ".attn_")[0]
			suffix := strings.TrimPrefix(ti.Name, p+"qkv")
			third := len(data) / 3
			shape := []uint64{uint64(Hv)}
			if suffix == ".weight" {
				shape = []uint64{uint64(Hv), uint64(Hv)}
			}
			for j, part := range []string{"q", "k", "v"} {
				add(p+part+suffix, shape, data[j*third:(j+1)*third])
			}
			split++
			continue
		}
		add(ti.Name, ti.Shape, data)
	}
	for _, it := range items {
		if err := w.WriteTensor(it.name, it.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if split != 2*ref.Vision.Layers {
		t.Fatalf("split %d tensors, want %d", split, 2*ref.Vision.Layers)
	}
	m, err := model.New(f)
	if err != nil {
		t.Fatal(err)
	}
	g := loadGolden(t, "tiny-image-chat")
	embeds := func(m *model.Model) []float32 {
		c, err := m.NewContext(model.ContextOptions{Size: 8, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		out := make([]float32, m.ImageEmbeds())
		if err := c.EncodeImage(out, g.f32(t, "pixel_values")); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if d := maxAbsDiff(embeds(m), g.f32(t, "image_embeds")); d > 5e-6 {
		t.Errorf("split-QKV image embeddings differ from the reference by %.3g", d)
	}
}
