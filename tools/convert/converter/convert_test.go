package converter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/quant"
)

const (
	tinyHF     = "../../../testdata/cogvlm-tiny/hf"
	llamaVocab = "../../../testdata/tokenizer/llama2-tokenizer.json.zst"
)

func TestCheckpointErrors(t *testing.T) {
	cfg := smallConfig()
	drop := func(name string) func([]hfTensor) []hfTensor {
		return func(ts []hfTensor) []hfTensor {
			var out []hfTensor
			for _, x := range ts {
				if x.name != name {
					out = append(out, x)
				}
			}
			return out
		}
	}
	edit := func(name string, f func(*hfTensor)) func([]hfTensor) []hfTensor {
		return func(ts []hfTensor) []hfTensor {
			for i := range ts {
				if ts[i].name == name {
					f(&ts[i])
				}
			}
			return ts
		}
	}
	const qkv = "model.layers.1.self_attn.vision_expert_query_key_value.weight"
	tests := []struct {
		name    string
		edit    hfEdit
		wantErr string // "" = converts
	}{
		{"valid", hfEdit{}, ""},
		{"rotary buffers are skipped", hfEdit{tensors: func(ts []hfTensor) []hfTensor {
			return append(ts, hfTensor{"model.layers.0.self_attn.rotary_emb.inv_freq", F32, []int64{32}, Bias})
		}}, ""},
		{"missing shard", hfEdit{after: func(dir string, shards []string) { os.Remove(filepath.Join(dir, shards[1])) }},
			`shard "model-00002-of-00003.safetensors" listed in`},
		{"tensor missing from index and shards", hfEdit{tensors: drop(qkv)}, `tensor "` + qkv + `" (for blk.1.vis_attn_qkv.weight) missing`},
		{"index names the wrong shard", hfEdit{index: func(wm map[string]string) { wm["lm_head.weight"] = "model-00001-of-00003.safetensors" }},
			`tensor "lm_head.weight": index maps it to shard "model-00001-of-00003.safetensors", which does not contain it`},
		{"tensor not in index", hfEdit{index: func(wm map[string]string) { delete(wm, "lm_head.weight") }},
			`tensor "lm_head.weight" in shard "model-00002-of-00003.safetensors" is not listed`},
		{"shape mismatch", hfEdit{tensors: edit(qkv, func(x *hfTensor) { x.shape = []int64{3 * 256, 128} })},
			`tensor "` + qkv + `": shape [768 128], config.json implies [768 256]`},
		{"unknown dtype", hfEdit{tensors: edit("model.norm.weight", func(x *hfTensor) { x.dtype = "I8" })},
			`tensor "model.norm.weight": unsupported dtype "I8"`},
		{"unsupported architecture", hfEdit{config: func(m map[string]any) { m["architectures"] = []string{"CogAgentForCausalLM"} }},
			`unsupported architecture "CogAgentForCausalLM"`},
		{"grouped-query attention", hfEdit{config: func(m map[string]any) { m["num_key_value_heads"] = 2 }}, "grouped-query"},
		{"unexpected tensor", hfEdit{tensors: func(ts []hfTensor) []hfTensor {
			return append(ts, hfTensor{"model.vision.extra.weight", BF16, []int64{4}, Bias})
		}}, `tensor "model.vision.extra.weight" in the checkpoint is not part of a CogVLM model`},
		{"f16 and f32 inputs", hfEdit{tensors: func(ts []hfTensor) []hfTensor {
			ts[0].dtype, ts[1].dtype = F16, F32
			return ts
		}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "hf")
			writeHF(t, in, cfg, 3, tc.edit)
			out := filepath.Join(dir, "out.gguf")
			err := Convert(context.Background(), Options{Input: in, Output: out, Preset: "q8_0", NoTokenizer: true, Threads: 2})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			assertNoOutput(t, out)
		})
	}
}

// assertNoOutput fails if out or any temporary file beside it exists.
func assertNoOutput(t *testing.T, out string) {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Dir(out))
	for _, e := range ents {
		if e.Name() == filepath.Base(out) || strings.HasPrefix(e.Name(), "."+filepath.Base(out)) {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestNoTokenizerIsAnError(t *testing.T) {
	dir := t.TempDir()
	writeHF(t, filepath.Join(dir, "hf"), smallConfig(), 1, hfEdit{})
	out := filepath.Join(dir, "o.gguf")
	err := Convert(context.Background(), Options{Input: filepath.Join(dir, "hf"), Output: out, Preset: "f16"})
	if err == nil || !strings.Contains(err.Error(), "no tokenizer") {
		t.Fatalf("error %v, want a missing-tokenizer error", err)
	}
	assertNoOutput(t, out)
}

// bf16Tensors reads every tensor of a safetensors checkpoint folder into
// float32 with a minimal reader of its own (the header JSON and raw bytes),
// independent of the converter's reader.
func bf16Tensors(t *testing.T, dir string) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		n := binary.LittleEndian.Uint64(b)
		var h map[string]json.RawMessage
		if err := json.Unmarshal(b[8:8+n], &h); err != nil {
			t.Fatal(err)
		}
		for name, raw := range h {
			if name == "__metadata__" {
				continue
			}
			var e struct {
				DType string
				Off   []int `json:"data_offsets"`
			}
			json.Unmarshal(raw, &e)
			if e.DType != "BF16" {
				t.Fatalf("%s: fixture dtype %s", name, e.DType)
			}
			d := b[8+int(n)+e.Off[0] : 8+int(n)+e.Off[1]]
			v := make([]float32, len(d)/2)
			for i := range v {
				v[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(d[2*i:])) << 16)
			}
			out[name] = v
		}
	}
	return out
}

func convertTiny(t *testing.T, dir, name string, opt Options) string {
	t.Helper()
	return convertHF(t, tinyHF, llamaVocab, dir, name, opt)
}

// convertHF converts the checkpoint folder input (with the tokenizer vocab
// unless opt.NoTokenizer) to dir/name.
func convertHF(t *testing.T, input, vocab, dir, name string, opt Options) string {
	t.Helper()
	opt.Input = input
	if !opt.NoTokenizer {
		opt.Tokenizer = vocab
	}
	opt.Output = filepath.Join(dir, name)
	if err := Convert(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	return opt.Output
}

func TestConvertTinyF32MatchesCheckpoint(t *testing.T) {
	dir := t.TempDir()
	path := convertTiny(t, dir, "f32.gguf", Options{Preset: "f32"})
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.CheckStrict(); err != nil {
		t.Fatalf("llama.cpp layout: %v", err)
	}
	checkF32MatchesCheckpoint(t, f, tinyHF, false)
	for key, want := range map[string]any{
		"general.architecture": "cogvlm", "cogvlm.block_count": uint64(2), "cogvlm.embedding_length": uint64(64),
		"clip.vision.block_count": uint64(2), "clip.vision.image_size": uint64(56), "clip.projector_type": "cogvlm",
		"cogvlm.template": "chat", "tokenizer.ggml.model": "llama", "cogvlm.vision.num_positions": uint64(17),
	} {
		var got any
		switch want.(type) {
		case string:
			got, _ = f.String(key)
		case uint64:
			got, _ = f.Uint(key)
		}
		if got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	if eps, _ := f.Float("cogvlm.attention.layer_norm_rms_epsilon"); float32(eps) != 1e-5 {
		t.Errorf("rms eps %v", eps)
	}
	if toks, _ := f.Strings("tokenizer.ggml.tokens"); len(toks) != 32000 || toks[15043] != "▁Hello" {
		t.Errorf("tokenizer: %d tokens", len(toks))
	}
}

// checkF32MatchesCheckpoint checks that the F32 file f holds exactly the
// tensors of the checkpoint folder hf, value for value.
func checkF32MatchesCheckpoint(t *testing.T, f *gguf.File, hf string, cogvlm2 bool) {
	t.Helper()
	want := bf16Tensors(t, hf)
	cfg, err := LoadConfig(hf, cogvlm2)
	if err != nil {
		t.Fatal(err)
	}
	specs := Layout(cfg)
	if len(f.Tensors) != len(specs) || len(want) != len(specs) {
		t.Fatalf("%d tensors written, %d in the checkpoint, %d expected", len(f.Tensors), len(want), len(specs))
	}
	for _, s := range specs {
		ti, ok := f.Tensor(s.Name)
		if !ok {
			t.Fatalf("%s missing", s.Name)
		}
		if ti.Type != quant.F32 {
			t.Errorf("%s: type %s, want F32", s.Name, ti.Type)
		}
		data, err := f.TensorData(ti)
		if err != nil {
			t.Fatal(err)
		}
		w := want[s.HF]
		if len(data) != 4*len(w) {
			t.Fatalf("%s: %d bytes for %d values", s.Name, len(data), len(w))
		}
		for i, x := range w {
			if got := math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])); got != x {
				t.Fatalf("%s[%d] = %v, want %v (from %s)", s.Name, i, got, x, s.HF)
			}
		}
	}
}

// TestQuantizedIsQuantizeOfF32 checks the one-code-path promise: each
// tensor of a quantized conversion equals quant.Quantize applied to the
// same tensor of the F32 conversion (what `cogedge quantize` does).
func TestQuantizedIsQuantizeOfF32(t *testing.T) {
	dir := t.TempDir()
	// The tokenizer is not under test here; skipping it saves a second per file.
	f32, err := gguf.Open(convertTiny(t, dir, "f32.gguf", Options{Preset: "f32", NoTokenizer: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer f32.Close()
	presets := []string{"q4_0", "q5_1", "q8_0", "q4_k_m", "q5_k_s", "q6_k", "f16", "bf16",
		"q4_1", "q5_0", "iq4_nl", "q4_k", "q5_k", "q5_k_m", "q4_k_s", "f32"} // every preset
	if testing.Short() {
		presets = []string{"q4_0", "q4_k_m", "f16"}
	}
	for _, p := range presets {
		t.Run(p, func(t *testing.T) {
			cfg, _ := LoadConfig(tinyHF, false)
			checkQuantizeOfF32(t, f32, convertTiny(t, dir, p+".gguf", Options{Preset: p, Threads: 3, NoTokenizer: true}), p, Layout(cfg))
		})
	}
}

// checkQuantizeOfF32 checks that each tensor of the file at path (converted
// with preset p) equals quant.Quantize applied to the same tensor of the F32
// conversion f32, with the type the mix gives it.
func checkQuantizeOfF32(t *testing.T, f32 *gguf.File, path, p string, specs []Spec) {
	t.Helper()
	q, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	mix, _ := ParseMix(p)
	if len(q.Tensors) != len(specs) {
		t.Fatalf("%d tensors, want %d", len(q.Tensors), len(specs))
	}
	for _, s := range specs {
		ti, ok := q.Tensor(s.Name)
		if !ok {
			t.Fatalf("%s missing", s.Name)
		}
		if want := mix.TypeFor(&s); ti.Type != want {
			t.Fatalf("%s: type %s, want %s", s.Name, ti.Type, want)
		}
		src, _ := f32.Tensor(s.Name)
		sd, _ := f32.TensorData(src)
		vals := make([]float32, len(sd)/4)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(sd[4*i:]))
		}
		rb, _ := ti.Type.RowSize(int64(s.Shape[0]))
		want := make([]byte, int(rb)*len(vals)/int(s.Shape[0]))
		cols := int(s.Shape[0])
		for r := 0; r < len(vals)/cols; r++ {
			if err := quant.Quantize(ti.Type, want[r*int(rb):(r+1)*int(rb)], vals[r*cols:(r+1)*cols]); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := q.TensorData(ti)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s (%s): bytes differ from quant.Quantize of the F32 conversion", s.Name, ti.Type)
		}
	}
}

func fileSHA(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

func TestConvertDeterministic(t *testing.T) {
	dir := t.TempDir()
	a := convertTiny(t, dir, "a.gguf", Options{Preset: "q4_k_m", Threads: 1})
	b := convertTiny(t, dir, "b.gguf", Options{Preset: "q4_k_m", Threads: 4})
	if fileSHA(t, a) != fileSHA(t, b) {
		t.Fatal("two conversions of the same input differ")
	}
}

// The names llama.cpp's loaders look up (cogvlm.md §6.2/§6.3, checked
// against llama.cpp 66d65ec's tensor_mapping.py, constants.py and
// tools/mtmd/clip-impl.h).
var (
	llamaTextLayer   = []string{"attn_norm.weight", "attn_qkv.weight", "attn_output.weight", "vis_attn_qkv.weight", "vis_attn_output.weight", "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight", "vis_gate.weight", "vis_up.weight", "vis_down.weight"}
	llamaVisionLayer = []string{"attn_qkv.weight", "attn_qkv.bias", "attn_out.weight", "attn_out.bias", "ln1.weight", "ln1.bias", "ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias", "ln2.weight", "ln2.bias"}
	llamaVisionOther = []string{"v.patch_embd.weight", "v.patch_embd.bias", "v.class_embd", "v.position_embd.weight", "mm.model.fc.weight", "mm.post_fc_norm.weight", "mm.post_fc_norm.bias", "mm.up.weight", "mm.gate.weight", "mm.down.weight", "v.boi", "v.eoi"}
)

func TestSplitMMProj(t *testing.T) {
	dir := t.TempDir()
	text := convertTiny(t, dir, "cogvlm-tiny-q8_0.gguf", Options{Preset: "q8_0", SplitMMProj: true})
	mmproj := filepath.Join(dir, "mmproj-cogvlm-tiny-q8_0.gguf")
	wantText := map[string]bool{"token_embd.weight": true, "output_norm.weight": true, "output.weight": true}
	for n := 0; n < 2; n++ {
		for _, s := range llamaTextLayer {
			wantText["blk."+string(rune('0'+n))+"."+s] = true
		}
	}
	wantVision := map[string]bool{}
	for _, s := range llamaVisionOther {
		wantVision[s] = true
	}
	for m := 0; m < 2; m++ {
		for _, s := range llamaVisionLayer {
			wantVision["v.blk."+string(rune('0'+m))+"."+s] = true
		}
	}
	for _, tc := range []struct {
		path, arch string
		want       map[string]bool
		keys       []string
	}{
		{text, "cogvlm", wantText, []string{"cogvlm.attention.layer_norm_rms_epsilon", "cogvlm.block_count", "tokenizer.ggml.tokens"}},
		{mmproj, "clip", wantVision, []string{"clip.projector_type", "clip.has_vision_encoder", "clip.vision.image_mean", "clip.vision.projection_dim", "clip.vision.attention.layer_norm_epsilon"}},
	} {
		f, err := gguf.Open(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if a, _ := f.String("general.architecture"); a != tc.arch {
			t.Errorf("%s: architecture %q, want %q", tc.path, a, tc.arch)
		}
		if len(f.Tensors) != len(tc.want) {
			t.Errorf("%s: %d tensors, want %d", tc.path, len(f.Tensors), len(tc.want))
		}
		for _, ti := range f.Tensors {
			if !tc.want[ti.Name] {
				t.Errorf("%s: unexpected tensor %q", tc.path, ti.Name)
			}
		}
		for _, k := range tc.keys {
			if _, ok := f.Value(k); !ok {
				t.Errorf("%s: key %s missing", tc.path, k)
			}
		}
		f.Close()
	}
}

func TestCancelLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(dir, "x.gguf")
	err := Synthetic(ctx, "tiny", out, quant.Q8_0, Options{})
	if err == nil {
		t.Fatal("cancelled run succeeded")
	}
	assertNoOutput(t, out)
}

// TestConvertReproducesCogvlmTinyGGUF converts the tiny checkpoint as
// testdata/README.md says testdata/cogvlm-tiny.gguf was made and requires the
// same bytes, so that gguf-py's reading of that file
// (testdata/gguf/ggufpy-read.json, checked in package gguf) is a reading of
// what the converter writes today.
func TestConvertReproducesCogvlmTinyGGUF(t *testing.T) {
	out := convertTiny(t, t.TempDir(), "cogvlm-tiny.gguf", Options{Preset: "q8_0", Tokenizer: llamaVocab, Name: "cogvlm-tiny", Threads: 2})
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../../testdata/cogvlm-tiny.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("converter output (%d bytes) differs from testdata/cogvlm-tiny.gguf (%d bytes): regenerate the file and ggufpy-read.json (testdata/README.md)", len(got), len(want))
	}
}
