package converter

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/quant/requant"
)

// TestSameAsCogedgeQuantize converts a checkpoint to F32, quantizes that
// with quant/requant (the library behind `cogedge quantize`), and checks
// that every tensor has the same type and bytes as a direct conversion
// with the same mix: one type policy, one quantization code path.
//
// One deliberate exception: the ViT patch convolution (ne0 = 14) stays F32
// in a conversion (F16 in an f16 one), as llama.cpp's converter keeps it,
// while quantizing a file gives it llama-quantize's fallback (F16/BF16).
func TestSameAsCogedgeQuantize(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.NumHiddenLayers, cfg.Vision.NumHiddenLayers = 8, 8 // llama.cpp's use_more_bits picks layers 0, 3, 6, 7
	in := filepath.Join(dir, "hf")
	writeHF(t, in, cfg, 2, hfEdit{})
	f32 := filepath.Join(dir, "f32.gguf")
	if err := Convert(context.Background(), Options{Input: in, Output: f32, Preset: "f32", NoTokenizer: true}); err != nil {
		t.Fatal(err)
	}
	type mixCase struct {
		mix  string
		pure bool
	}
	tests := []mixCase{{"q4_0", false}, {"q4_k_m", false}, {"q4_k", true}, {"f16", false}}
	if !testing.Short() { // every mix: ~4 CPU-seconds in all
		tests = append(tests, mixCase{"q4_0", true}, mixCase{"q8_0", false}, mixCase{"q4_k_s", false},
			mixCase{"q5_k_m", false}, mixCase{"q5_k_s", false}, mixCase{"q6_k", false}, mixCase{"bf16", false},
			mixCase{"iq4_nl", false}, mixCase{"q5_1", false}, mixCase{"q4_1", false}, mixCase{"q5_0", false})
	}
	for _, tc := range tests {
		name := tc.mix
		if tc.pure {
			name += "-pure"
		}
		t.Run(name, func(t *testing.T) {
			direct := filepath.Join(dir, name+".gguf")
			if err := Convert(context.Background(), Options{Input: in, Output: direct, Preset: tc.mix, Pure: tc.pure, NoTokenizer: true}); err != nil {
				t.Fatal(err)
			}
			ft, err := requant.ParseFType(tc.mix)
			if err != nil {
				t.Fatal(err)
			}
			via := filepath.Join(dir, name+"-requant.gguf")
			if _, err := requant.Quantize(context.Background(), f32, via, requant.Options{FType: ft, Pure: tc.pure, Threads: 2}); err != nil {
				t.Fatal(err)
			}
			a, err := gguf.Open(direct)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := gguf.Open(via)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if len(a.Tensors) != len(b.Tensors) {
				t.Fatalf("%d tensors converted, %d requantized", len(a.Tensors), len(b.Tensors))
			}
			for i := range a.Tensors {
				ta := &a.Tensors[i]
				tb, ok := b.Tensor(ta.Name)
				if !ok {
					t.Fatalf("%s missing from the requantized file", ta.Name)
				}
				if ta.Name == "v.patch_embd.weight" && ta.Type != tb.Type {
					continue // the exception above
				}
				if ta.Type != tb.Type {
					t.Errorf("%s: converted as %s, cogedge quantize chose %s", ta.Name, ta.Type, tb.Type)
					continue
				}
				da, _ := a.TensorData(ta)
				db, _ := b.TensorData(tb)
				if !bytes.Equal(da, db) {
					t.Errorf("%s (%s): bytes differ", ta.Name, ta.Type)
				}
			}
			if fa, _ := a.Uint("general.file_type"); true {
				if fb, _ := b.Uint("general.file_type"); fa != fb {
					t.Errorf("general.file_type %d, cogedge quantize writes %d", fa, fb)
				}
			}
		})
	}
}
