package converter

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/quant"
)

const (
	tiny2HF     = "../../../testdata/cogvlm2-tiny/hf"
	llama3Vocab = "../../../testdata/tokenizer/llama3-tokenizer.json.zst"
)

// TestConvertCogVLM2TinyF32 converts the tiny CogVLM2 checkpoint to F32 and
// compares every value with the shards (read by the test's own reader),
// and the CogVLM2 metadata with what docs/cogvlm2.md and the tiny config say.
func TestConvertCogVLM2TinyF32(t *testing.T) {
	dir := t.TempDir()
	path := convertHF(t, tiny2HF, llama3Vocab, dir, "f32.gguf", Options{Preset: "f32"})
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkF32MatchesCheckpoint(t, f, tiny2HF, true)
	// 32 hidden, 4 heads of 8, 2 KV heads: QKV rows (4 + 2·2)·8 = 64; conv [4·32, 32].
	for name, shape := range map[string][]uint64{
		"blk.0.attn_qkv.weight": {32, 64}, "blk.1.vis_attn_qkv.weight": {32, 64}, "blk.1.vis_attn_qkv.bias": {64},
		"blk.0.rope_inv_freq": {4}, "v.conv.weight": {128, 32}, "v.conv.bias": {32}, "v.position_embd.weight": {32, 17},
	} {
		ti, ok := f.Tensor(name)
		if !ok || len(ti.Shape) != len(shape) || ti.Shape[0] != shape[0] || ti.Shape[len(shape)-1] != shape[len(shape)-1] {
			t.Errorf("%s: shape %v, want %v", name, ti.Shape, shape)
		}
	}
	if _, ok := f.Tensor("blk.0.attn_qkv.bias"); ok {
		t.Error("the language expert's QKV has a bias")
	}
	for key, want := range map[string]uint64{
		"cogvlm.attention.head_count": 4, "cogvlm.attention.head_count_kv": 2, "cogvlm.context_length": 8192,
		"tokenizer.ggml.bos_token_id": 128000, "tokenizer.ggml.eos_token_id": 128001,
		"tokenizer.ggml.eot_token_id": 128009, "tokenizer.ggml.padding_token_id": 128002,
	} {
		if got, _ := f.Uint(key); got != want {
			t.Errorf("%s = %d, want %d", key, got, want)
		}
	}
	// The tiny config, like the published one, has no rope_theta.
	if base, _ := f.Float("cogvlm.rope.freq_base"); base != 500000 {
		t.Errorf("rope.freq_base %v, want the CogVLM2 default 500000", base)
	}
	if m, _ := f.String("tokenizer.ggml.model"); m != "gpt2" {
		t.Errorf("tokenizer model %q", m)
	}
	if p, _ := f.String("tokenizer.ggml.pre"); p != "llama-bpe" {
		t.Errorf("tokenizer pre %q", p)
	}
}

// TestCogVLM2EveryMix: every type mix of the tiny CogVLM2 equals
// quant.Quantize of its F32 conversion, tensor by tensor.
func TestCogVLM2EveryMix(t *testing.T) {
	dir := t.TempDir()
	f32, err := gguf.Open(convertHF(t, tiny2HF, "", dir, "f32.gguf", Options{Preset: "f32", NoTokenizer: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer f32.Close()
	cfg, _ := LoadConfig(tiny2HF, true)
	presets := Presets()
	if testing.Short() {
		presets = []string{"q4_0", "q8_0", "q4_k_m"}
	}
	for _, p := range presets {
		t.Run(p, func(t *testing.T) {
			checkQuantizeOfF32(t, f32, convertHF(t, tiny2HF, "", dir, p+".gguf", Options{Preset: p, NoTokenizer: true}), p, Layout(cfg))
		})
	}
}

// TestCogVLM2SplitMMProj: the conv goes with the vision tower, the bias and
// inv_freq tensors with the text model.
func TestCogVLM2SplitMMProj(t *testing.T) {
	dir := t.TempDir()
	text := convertHF(t, tiny2HF, "", dir, "c2.gguf", Options{Preset: "q8_0", SplitMMProj: true, NoTokenizer: true})
	for _, tc := range []struct {
		path      string
		has, hasn []string
	}{
		{text, []string{"blk.0.vis_attn_qkv.bias", "blk.1.rope_inv_freq", "output.weight"}, []string{"v.conv.weight"}},
		{MMProjPath(text), []string{"v.conv.weight", "v.conv.bias", "mm.up.weight"}, []string{"blk.0.vis_attn_qkv.bias"}},
	} {
		f, err := gguf.Open(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range tc.has {
			if _, ok := f.Tensor(n); !ok {
				t.Errorf("%s: %s missing", tc.path, n)
			}
		}
		for _, n := range tc.hasn {
			if _, ok := f.Tensor(n); ok {
				t.Errorf("%s: %s present", tc.path, n)
			}
		}
		f.Close()
	}
}

// TestCogVLM2ConfigDefaults: the published config.json has neither
// num_multi_query_heads nor rope_theta; the remote code's 8 and 500000
// apply. A CogVLM-1 reading of a GQA config is refused.
func TestCogVLM2ConfigDefaults(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(tiny2HF, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	published := strings.Replace(string(raw), `"num_multi_query_heads": 2,`, "", 1)
	if published == string(raw) {
		t.Fatal("tiny config has no num_multi_query_heads to remove")
	}
	published = strings.Replace(published, `"num_attention_heads": 4,`, `"num_attention_heads": 16,`, 1)
	published = strings.Replace(published, "\"hidden_size\": 32,\n  \"intermediate_size\": 64", "\"hidden_size\": 256,\n  \"intermediate_size\": 64", 1)
	c, err := ParseConfig([]byte(published), "config.json", true)
	if err != nil {
		t.Fatal(err)
	}
	if c.HiddenSize != 256 || c.NumKeyValueHeads != 8 || c.RopeTheta != 500000 || c.MaxPositionEmbeddings != 8192 {
		t.Fatalf("kv heads %d, rope base %g, positions %d", c.NumKeyValueHeads, c.RopeTheta, c.MaxPositionEmbeddings)
	}
	if len(c.EOSTokenIDs) != 2 || c.EOSTokenIDs[0] != 128001 || c.EOSTokenIDs[1] != 128009 || c.PadTokenID != 128002 {
		t.Fatalf("eos %v pad %d", c.EOSTokenIDs, c.PadTokenID)
	}
	if _, err := ParseConfig(raw, "config.json", false); err == nil || !strings.Contains(err.Error(), "grouped-query") {
		t.Fatalf("CogVLM-1 reading of a GQA config: %v", err)
	}
	withTheta := strings.Replace(string(raw), `"use_cache": true`, `"use_cache": true, "rope_theta": 12345`, 1)
	if c, err := ParseConfig([]byte(withTheta), "config.json", true); err != nil || c.RopeTheta != 12345 {
		t.Fatalf("explicit rope_theta: %v, %v", c, err)
	}
}

// TestCogVLM2ParamCount checks the full-size layout against the counts
// docs/cogvlm2.md derives from the published index: 19,503,105,280
// parameters without the inv_freq buffers, 1221 tensors with them.
func TestCogVLM2ParamCount(t *testing.T) {
	c := SyntheticConfigs["cogvlm2-19b"]
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, s := range layout(&c, false) {
		n += s.Elements()
	}
	if n != 19_503_105_280 {
		t.Fatalf("%d parameters, want 19,503,105,280", n)
	}
	if got := len(Layout(&c)); got != 1221 {
		t.Fatalf("%d tensors, want 1221", got)
	}
}

// TestSyntheticCogVLM2 writes a small synthetic CogVLM2 (Llama-3's vocabulary
// size, GQA): the inv_freq tensors hold the base-500000 formula, the special
// ids are Llama-3's, and every tensor of the layout is there.
func TestSyntheticCogVLM2(t *testing.T) {
	c := SyntheticConfigs["cogvlm2-19b"]
	c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads = 64, 64, 2, 4, 2
	c.Vision = VisionConfig{HiddenSize: 32, ImageSize: 56, InChannels: 3, IntermediateSize: 64, LayerNormEps: 1e-6,
		NumHeads: 2, NumHiddenLayers: 1, NumPositions: 17, PatchSize: 14}
	SyntheticConfigs["unit2"] = c
	defer delete(SyntheticConfigs, "unit2")
	out := filepath.Join(t.TempDir(), "s.gguf")
	if err := Synthetic(t.Context(), "unit2", out, quant.Q4_0, Options{Threads: 2, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, want := len(f.Tensors), len(Layout(&c)); got != want {
		t.Fatalf("%d tensors, want %d", got, want)
	}
	ti, ok := f.Tensor("blk.1.rope_inv_freq")
	if !ok || ti.Type != quant.F32 {
		t.Fatal("blk.1.rope_inv_freq missing or not F32")
	}
	data, _ := f.TensorData(ti)
	for i := 0; i < 8; i++ {
		got := math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		if want := float32(math.Pow(500000, -float64(2*i)/16)); got != want {
			t.Errorf("inv_freq[%d] = %g, want %g", i, got, want)
		}
	}
	for key, want := range map[string]uint64{"tokenizer.ggml.bos_token_id": 128000, "tokenizer.ggml.eos_token_id": 128001,
		"tokenizer.ggml.eot_token_id": 128009, "tokenizer.ggml.padding_token_id": 128002, "cogvlm.attention.head_count_kv": 2} {
		if got, _ := f.Uint(key); got != want {
			t.Errorf("%s = %d, want %d", key, got, want)
		}
	}
	toks, _ := f.Strings("tokenizer.ggml.tokens")
	if len(toks) != 128256 || toks[128009] != "<|eot_id|>" || toks[128002] != "<|reserved_special_token_0|>" {
		t.Errorf("%d tokens; 128009 %q, 128002 %q", len(toks), toks[128009], toks[128002])
	}
}
