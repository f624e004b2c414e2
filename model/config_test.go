package model_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
)

// synth describes a small F32 GGUF built in memory for loader tests.
type synth struct {
	keys    [][2]any
	tensors []synthTensor
	types   map[string]quant.Type // tensors stored in a type other than F32 (zero bytes)
}

type synthTensor struct {
	name  string
	shape []uint64
}

// textModel returns a valid 1-layer cogvlm text model: hidden 8, 2 heads,
// ffn 16, vocab 10.
func textModel() *synth {
	s := &synth{keys: [][2]any{
		{"general.architecture", "cogvlm"},
		{"cogvlm.embedding_length", uint32(8)},
		{"cogvlm.block_count", uint32(1)},
		{"cogvlm.feed_forward_length", uint32(16)},
		{"cogvlm.attention.head_count", uint32(2)},
		{"cogvlm.attention.layer_norm_rms_epsilon", float32(1e-5)},
	}}
	add := func(name string, shape ...uint64) { s.tensors = append(s.tensors, synthTensor{name, shape}) }
	add("token_embd.weight", 8, 10)
	add("output_norm.weight", 8)
	add("output.weight", 8, 10)
	add("blk.0.attn_norm.weight", 8)
	add("blk.0.attn_qkv.weight", 8, 24)
	add("blk.0.attn_output.weight", 8, 8)
	add("blk.0.ffn_norm.weight", 8)
	add("blk.0.ffn_gate.weight", 8, 16)
	add("blk.0.ffn_up.weight", 8, 16)
	add("blk.0.ffn_down.weight", 16, 8)
	return s
}

func (s *synth) setKey(k string, v any) *synth {
	for i := range s.keys {
		if s.keys[i][0] == k {
			if v == nil {
				s.keys = append(s.keys[:i], s.keys[i+1:]...)
			} else {
				s.keys[i][1] = v
			}
			return s
		}
	}
	if v != nil {
		s.keys = append(s.keys, [2]any{k, v})
	}
	return s
}

func (s *synth) setTensor(name string, shape ...uint64) *synth {
	for i := range s.tensors {
		if s.tensors[i].name == name {
			if shape == nil {
				s.tensors = append(s.tensors[:i], s.tensors[i+1:]...)
			} else {
				s.tensors[i].shape = shape
			}
			return s
		}
	}
	s.tensors = append(s.tensors, synthTensor{name, shape})
	return s
}

// setType stores tensor name as typ (its bytes all zero).
func (s *synth) setType(name string, typ quant.Type) *synth {
	if s.types == nil {
		s.types = map[string]quant.Type{}
	}
	s.types[name] = typ
	return s
}

func (s *synth) file(t *testing.T) *gguf.File {
	t.Helper()
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf, gguf.WriterOptions{})
	for _, kv := range s.keys {
		if err := w.SetKV(kv[0].(string), kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, ts := range s.tensors {
		typ, ok := s.types[ts.name]
		if !ok {
			typ = quant.F32
		}
		if err := w.AddTensor(ts.name, typ, ts.shape); err != nil {
			t.Fatal(err)
		}
	}
	for _, ts := range s.tensors {
		n := uint64(1)
		for _, d := range ts.shape {
			n *= d
		}
		if typ, ok := s.types[ts.name]; ok {
			size, err := typ.RowSize(int64(n))
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteTensor(ts.name, make([]byte, size)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = 0.01 * float32(i%7)
		}
		if err := w.WriteTensor(ts.name, f32bytes(data)); err != nil {
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

func TestNewReadsTextConfig(t *testing.T) {
	m, err := model.New(textModel().file(t))
	if err != nil {
		t.Fatal(err)
	}
	want := model.TextConfig{Arch: "cogvlm", Vocab: 10, Hidden: 8, Layers: 1, Heads: 2, HeadsKV: 2, HeadDim: 4, FFN: 16,
		RMSEps: 1e-5, RopeBase: 10000, RopeNeoX: true, FusedQKV: true, BOS: 1, EOS: 2, PAD: -1, EOT: -1}
	if m.Text != want {
		t.Errorf("config %+v\nwant   %+v", m.Text, want)
	}
	if m.Vision != nil || m.Template != model.TemplateChat {
		t.Errorf("vision %v, template %q", m.Vision, m.Template)
	}
	// and it runs
	c, err := m.NewContext(model.ContextOptions{Size: 4, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	logits := make([]float32, 10)
	if err := c.Forward(model.Batch{Tokens: []int32{1, 5, 9}}, model.Output{Logits: logits}); err != nil {
		t.Fatal(err)
	}
	// tied embeddings when output.weight is absent
	if _, err := model.New(textModel().setTensor("output.weight").file(t)); err != nil {
		t.Errorf("no output.weight: %v", err)
	}
}

// TestNewRejects feeds malformed models to the loader: each must give an
// error naming the problem, never a panic.
func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		s    *synth
		msg  string
	}{
		{"no architecture", textModel().setKey("general.architecture", nil), "general.architecture"},
		{"unknown architecture", textModel().setKey("general.architecture", "gpt2"), "gpt2"},
		{"no embedding length", textModel().setKey("cogvlm.embedding_length", nil), "embedding_length"},
		{"zero heads", textModel().setKey("cogvlm.attention.head_count", uint32(0)), "head_count"},
		{"heads do not divide", textModel().setKey("cogvlm.attention.head_count", uint32(3)), "heads"},
		{"huge block count", textModel().setKey("cogvlm.block_count", uint32(1<<30)), "block_count"},
		{"large block count", textModel().setKey("cogvlm.block_count", uint32(1<<20)), "blk.1048575"},
		{"more layers than tensors", textModel().setKey("cogvlm.block_count", uint32(2)), "blk.1"},
		{"negative eps", textModel().setKey("cogvlm.attention.layer_norm_rms_epsilon", float32(-1)), "eps"},
		{"string head count", textModel().setKey("cogvlm.attention.head_count", "two"), "head_count"},
		{"partial rope", textModel().setKey("cogvlm.rope.dimension_count", uint32(2)), "rope"},
		{"ffn length mismatch", textModel().setKey("cogvlm.feed_forward_length", uint32(32)), "feed_forward_length"},
		{"missing qkv", textModel().setTensor("blk.0.attn_qkv.weight"), "attn_q.weight"},
		{"qkv rows", textModel().setTensor("blk.0.attn_qkv.weight", 8, 23), "attn_qkv"},
		{"embedding width", textModel().setTensor("token_embd.weight", 9, 10), "token_embd"},
		{"norm size", textModel().setTensor("blk.0.attn_norm.weight", 7), "attn_norm"},
		{"output vocab", textModel().setTensor("output.weight", 8, 11), "output.weight"},
		{"down shape", textModel().setTensor("blk.0.ffn_down.weight", 8, 16), "ffn_down"},
		{"bos outside vocab", textModel().setKey("tokenizer.ggml.bos_token_id", uint32(10)), "vocabulary"},
		{"bad template", textModel().setKey("cogvlm.template", "chat_old"), "template"},
		{"matrix type without a kernel", textModel().setType("blk.0.attn_output.weight", quant.F64), "no matmul kernel"},
		{"vision without experts", textModel().setTensor("v.patch_embd.weight", 14, 14, 3, 8).setTensor("v.position_embd.weight", 8, 5).
			setKey("clip.vision.attention.head_count", uint32(2)).setTensor("v.blk.0.attn_qkv.weight", 8, 24).
			setTensor("v.blk.0.ffn_up.weight", 8, 16).setTensor("mm.gate.weight", 8, 16), "expert"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := model.New(tc.s.file(t))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

// TestNewVisionConfig reads the tiny model's vision hyperparameters and
// checks that a position embedding that is not a square grid plus CLS is
// refused.
func TestNewVisionConfig(t *testing.T) {
	m := openTiny(t, quant.F32)
	want := model.VisionConfig{ImageSize: 56, PatchSize: 14, Channels: 3, Patches: 16, Hidden: 64, Layers: 2, Heads: 4, FFN: 128,
		LNEps: 1e-6, AdapterFFN: 128, AdapterEps: 1e-5,
		ImageMean: [3]float32{0.48145466, 0.4578275, 0.40821073}, ImageStd: [3]float32{0.26862954, 0.26130258, 0.27577711}, Grid: 4, Rows: 16, ImageTokens: 18}
	if m.Vision == nil || *m.Vision != want {
		t.Errorf("vision config %+v\nwant %+v", m.Vision, want)
	}
	if m.Template != model.TemplateChat || !m.Text.Experts || m.Text.RMSEps != 1e-5 {
		t.Errorf("template %q, experts %v, eps %g", m.Template, m.Text.Experts, m.Text.RMSEps)
	}
	src, err := gguf.Open(tinyGGUF(t, quant.F32))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var keys [][2]any
	for _, kv := range src.KVs {
		keys = append(keys, [2]any{kv.Key, kv.Value.Any()})
	}
	// drop one patch row from the position embedding: 16 rows + CLS → 16
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
		ti := src.Tensors[i]
		data, _ := src.TensorData(&ti)
		shape := append([]uint64(nil), ti.Shape...)
		if ti.Name == "v.position_embd.weight" {
			shape[1]--
			data = data[:len(data)-4*int(shape[0])]
		}
		if err := w.AddTensor(ti.Name, ti.Type, shape); err != nil {
			t.Fatal(err)
		}
		items = append(items, item{ti.Name, data})
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
	if _, err := model.New(f); err == nil || !strings.Contains(err.Error(), "position_embd") {
		t.Errorf("a 16-row position embedding was accepted (err %v)", err)
	}
}
