package converter

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/model/tokenizer"
	"github.com/cogedge/cogedge/quant"
	"github.com/klauspost/compress/zstd"
)

// TestParamCount checks the layout against the parameter count cogvlm.md
// §1.5 derives for cogvlm-chat-hf (17,639,685,376) and the tensor count of
// §2.3 (1155 HF tensors).
func TestParamCount(t *testing.T) {
	c := SyntheticConfigs["cogvlm-17b"]
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := ParamCount(&c); got != 17_639_685_376 {
		t.Errorf("cogvlm-17b: %d parameters, want 17,639,685,376", got)
	}
	if got := len(Layout(&c)); got != 1155 {
		t.Errorf("cogvlm-17b: %d tensors, want 1155", got)
	}
}

func TestMixTypes(t *testing.T) {
	c := SyntheticConfigs["cogvlm-17b"]
	c.Validate()
	specs := map[string]*Spec{}
	for _, s := range Layout(&c) {
		specs[s.Name] = &s
	}
	q8, q6 := quant.Q8_0, quant.Q6_K
	small := smallConfig() // ffn 96 and vision hidden 64: K-quant fallbacks
	smallSpecs := map[string]*Spec{}
	for _, s := range Layout(small) {
		smallSpecs[s.Name] = &s
	}
	tests := []struct {
		mix     string
		mod     func(*Mix)
		specs   map[string]*Spec
		tensor  string
		want    quant.Type
		comment string
	}{
		{"q4_0", nil, specs, "blk.3.attn_qkv.weight", quant.Q4_0, "base"},
		{"q4_0", nil, specs, "output.weight", quant.Q6_K, "output promoted as llama-quantize does"},
		{"q4_0", func(m *Mix) { m.Pure = true }, specs, "output.weight", quant.Q4_0, "--pure"},
		{"q8_0", nil, specs, "output.weight", quant.Q8_0, "Q8_0 output stays"},
		{"f16", nil, specs, "output.weight", quant.F16, "float output stays"},
		{"q4_0", nil, specs, "token_embd.weight", quant.Q4_0, ""},
		{"q4_0", nil, specs, "blk.0.attn_norm.weight", quant.F32, "norms F32"},
		{"q4_0", nil, specs, "v.blk.7.attn_qkv.bias", quant.F32, "biases F32"},
		{"q4_0", nil, specs, "v.position_embd.weight", quant.F32, ""},
		{"q4_0", nil, specs, "v.class_embd", quant.F32, ""},
		{"q4_0", nil, specs, "v.boi", quant.F32, ""},
		{"q4_0", nil, specs, "v.patch_embd.weight", quant.F32, "ne0 = 14"},
		{"f16", nil, specs, "v.patch_embd.weight", quant.F16, "F16 patch conv for an F16 file"},
		{"bf16", nil, specs, "v.patch_embd.weight", quant.F32, ""},
		{"q4_k_m", nil, specs, "blk.3.attn_qkv.weight", quant.Q5_K, "attn_qkv raised"},
		{"q4_k_m", nil, specs, "blk.3.vis_attn_qkv.weight", quant.Q5_K, "expert qkv too"},
		{"q4_k_m", nil, specs, "v.blk.9.attn_qkv.weight", quant.Q5_K, "ViT qkv too"},
		{"q4_k_m", nil, specs, "blk.0.ffn_down.weight", quant.Q6_K, "use_more_bits: first eighth"},
		{"q4_k_m", nil, specs, "blk.4.ffn_down.weight", quant.Q4_K, "(4-4)%3 = 0"},
		{"q4_k_m", nil, specs, "blk.6.ffn_down.weight", quant.Q6_K, "(6-4)%3 = 2"},
		{"q4_k_m", nil, specs, "blk.28.ffn_down.weight", quant.Q6_K, "last eighth"},
		{"q4_k_m", nil, specs, "blk.28.vis_down.weight", quant.Q4_K, "vis_down is not an ffn_down to llama-quantize"},
		{"q4_k_m", nil, specs, "v.blk.62.ffn_down.weight", quant.Q6_K, "ViT: its own layer count"},
		{"q4_k_m", nil, specs, "v.blk.8.ffn_down.weight", quant.Q4_K, "(8-7)%3 = 1"},
		{"q4_k", nil, specs, "blk.3.attn_qkv.weight", quant.Q5_K, "Q4_K means Q4_K_M"},
		{"iq4_nl", nil, specs, "blk.3.ffn_down.weight", quant.Q5_K, "first eighth"},
		{"iq4_nl", nil, specs, "blk.4.ffn_down.weight", quant.IQ4_NL, ""},
		{"q4_k_m", nil, specs, "blk.6.ffn_up.weight", quant.Q4_K, ""},
		{"q4_k_m", nil, specs, "output.weight", quant.Q6_K, ""},
		{"q4_k_s", nil, specs, "blk.3.ffn_down.weight", quant.Q5_K, "first eighth"},
		{"q4_k_s", nil, specs, "blk.4.ffn_down.weight", quant.Q4_K, ""},
		{"q5_k_m", nil, specs, "blk.3.attn_qkv.weight", quant.Q6_K, ""},
		{"q4_k_m", func(m *Mix) { m.Vision = &q8 }, specs, "v.blk.9.attn_qkv.weight", quant.Q8_0, "--vision-type"},
		{"q4_k_m", func(m *Mix) { m.Vision = &q8 }, specs, "mm.down.weight", quant.Q8_0, "adapter follows --vision-type"},
		{"q4_k_m", func(m *Mix) { m.Vision = &q8 }, specs, "blk.3.vis_attn_qkv.weight", quant.Q5_K, "experts unaffected"},
		{"q4_0", func(m *Mix) { m.Expert = &q6 }, specs, "blk.3.vis_up.weight", quant.Q6_K, "--expert-type"},
		{"q4_0", func(m *Mix) { m.Expert = &q6 }, specs, "blk.3.ffn_up.weight", quant.Q4_0, ""},
		{"q4_k", nil, smallSpecs, "blk.0.ffn_down.weight", quant.Q5_0, "ne0 96: Q4_K → Q5_0"},
		{"q5_k", nil, smallSpecs, "blk.0.ffn_down.weight", quant.Q5_1, "Q5_K → Q5_1"},
		{"q6_k", nil, smallSpecs, "blk.0.ffn_down.weight", quant.Q8_0, "Q6_K → Q8_0"},
		{"q4_k", nil, smallSpecs, "blk.0.ffn_up.weight", quant.Q4_K, "ne0 256 fits"},
	}
	for _, tc := range tests {
		m, err := ParseMix(tc.mix)
		if err != nil {
			t.Fatal(err)
		}
		if tc.mod != nil {
			tc.mod(&m)
		}
		s, ok := tc.specs[tc.tensor]
		if !ok {
			t.Fatalf("no tensor %s", tc.tensor)
		}
		if got := m.TypeFor(s); got != tc.want {
			t.Errorf("%s %s: %s, want %s (%s)", tc.mix, tc.tensor, got, tc.want, tc.comment)
		}
	}
	if got := fallback(quant.Q4_0, 48); got != quant.F16 {
		t.Errorf("Q4_0 with ne0 48: %s, want F16", got)
	}
	if _, err := ParseMix("q3_k_m"); err == nil {
		t.Error("unknown mix accepted")
	}
}

// stats returns mean and standard deviation of v.
func stats(v []float32) (mean, std float64) {
	for _, x := range v {
		mean += float64(x)
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (float64(x) - mean) * (float64(x) - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

func TestSynthetic(t *testing.T) {
	dir := t.TempDir()
	// "unit" is smallConfig: every type in milliseconds; "tiny" is a real preset.
	SyntheticConfigs["unit"] = *smallConfig()
	defer delete(SyntheticConfigs, "unit")
	tests := []struct {
		preset string
		typ    quant.Type
	}{{"tiny", quant.Q4_0}}
	for _, typ := range []quant.Type{quant.F32, quant.F16, quant.BF16, quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.Q8_0, quant.IQ4_NL, quant.Q4_K, quant.Q5_K, quant.Q6_K} {
		tests = append(tests, struct {
			preset string
			typ    quant.Type
		}{"unit", typ})
	}
	for _, tc := range tests {
		preset, typ := tc.preset, tc.typ
		t.Run(preset+"/"+typ.String(), func(t *testing.T) {
			out := filepath.Join(dir, preset+typ.String()+".gguf")
			if err := Synthetic(context.Background(), preset, out, typ, Options{Threads: 3, Seed: 7}); err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.CheckStrict(); err != nil {
				t.Fatal(err)
			}
			c := SyntheticConfigs[preset]
			if got, want := f.ParamCount(), ParamCount(&c); got != want {
				t.Errorf("%d parameters, want %d", got, want)
			}
			for i := range f.Tensors {
				ti := &f.Tensors[i]
				data, _ := f.TensorData(ti)
				vals := make([]float32, ti.Elements())
				if err := quant.Dequantize(ti.Type, vals, data); err != nil {
					t.Fatalf("%s: %v", ti.Name, err)
				}
				for j, x := range vals {
					if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
						t.Fatalf("%s[%d] = %v", ti.Name, j, x)
					}
				}
				mean, std := stats(vals)
				norm := strings.HasSuffix(ti.Name, "norm.weight") || strings.HasSuffix(ti.Name, "ln1.weight") || strings.HasSuffix(ti.Name, "ln2.weight")
				switch {
				case norm && (math.Abs(mean-1) > 0.05 || std > 0.1):
					t.Errorf("%s: norm mean %.3f std %.3f, want about 1 ± 0.06", ti.Name, mean, std)
				case !norm && ti.Elements() >= 2048 && (math.Abs(mean) > 0.01 || std < 0.01 || std > 0.04):
					t.Errorf("%s (%s): mean %.4f std %.4f, want about 0 ± 0.02", ti.Name, ti.Type, mean, std)
				}
			}
			v, err := tokenizer.VocabFromGGUF(f)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := tokenizer.New(v)
			if err != nil {
				t.Fatal(err)
			}
			if ids := tok.Encode("hello world é", true); len(ids) < 3 || ids[0] != 1 || tok.Decode(ids[1:]) != "hello world é" {
				t.Errorf("synthetic vocabulary round trip: %v → %q", ids, tok.Decode(ids))
			}
		})
	}
}

func TestSyntheticDeterministic(t *testing.T) {
	dir := t.TempDir()
	var sums [][32]byte
	for i, threads := range []int{1, 4, 1} {
		seed := uint64(11)
		if i == 2 {
			seed = 12
		}
		out := filepath.Join(dir, "m.gguf")
		if err := Synthetic(context.Background(), "tiny", out, quant.Q4_K, Options{Threads: threads, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		sums = append(sums, fileSHA(t, out))
	}
	if sums[0] != sums[1] {
		t.Error("same seed, different thread count: different bytes")
	}
	if sums[0] == sums[2] {
		t.Error("different seeds: same bytes")
	}
}

func TestSyntheticVocab(t *testing.T) {
	for _, n := range []int{259, 300, 32000} {
		v := SyntheticVocab(n)
		if err := v.Validate(); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(v.Tokens) != n {
			t.Fatalf("n=%d: %d tokens", n, len(v.Tokens))
		}
		seen := map[string]bool{}
		for _, p := range v.Tokens {
			if seen[p] {
				t.Fatalf("n=%d: duplicate piece %q", n, p)
			}
			seen[p] = true
		}
	}
}

func TestZstdCopy(t *testing.T) {
	dir := t.TempDir()
	SyntheticConfigs["unit"] = *smallConfig()
	defer delete(SyntheticConfigs, "unit")
	out := filepath.Join(dir, "m.gguf")
	if err := Synthetic(context.Background(), "unit", out, quant.Q8_0, Options{Zstd: true, SplitMMProj: true}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{out, MMProjPath(out)} {
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got := decompressFile(t, p+".zst")
		if string(got) != string(orig) {
			t.Errorf("%s.zst does not decompress to %s", p, p)
		}
	}
}

func decompressFile(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	b, err := io.ReadAll(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
