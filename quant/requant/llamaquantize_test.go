package requant

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/quant"
)

// llamaQuantizeRecord is one of testdata/quant/llama-quantize/*.json: a
// CogVLM-17B-shaped GGUF (every tensor name and contiguous width as our
// converter lays CogVLM-17B out, 32 text and 63 ViT layers, rows cut to 2
// so the file is small: the rules never look at rows) and, for each mix,
// the type llama.cpp's llama-quantize gave every tensor of it.
// testdata/README.md ("quant") says how they were made.
type llamaQuantizeRecord struct {
	KVs []struct {
		Key   string          `json:"key"`
		Type  string          `json:"type"` // "str", "u32" or "f32"
		Value json.RawMessage `json:"value"`
	} `json:"kvs"`
	Tensors []struct {
		Name  string   `json:"name"`
		Shape []uint64 `json:"shape"`
	} `json:"tensors"`
	Mixes []struct {
		FType string            `json:"ftype"` // llama-quantize's name
		Pure  bool              `json:"pure"`
		Types map[string]string `json:"types"` // tensor → ggml type name
	} `json:"mixes"`
}

func readLlamaQuantizeRecord(t *testing.T, name string) *llamaQuantizeRecord {
	t.Helper()
	path := filepath.Join("../../testdata/quant/llama-quantize", name)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rec llamaQuantizeRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &rec
}

// writeLlamaQuantizeInput writes the record's F32 input file (zeros) to path:
// the same file llama-quantize was given.
func writeLlamaQuantizeInput(rec *llamaQuantizeRecord, path string) error {
	w, err := gguf.Create(path, gguf.WriterOptions{})
	if err != nil {
		return err
	}
	defer w.Abort()
	for _, kv := range rec.KVs {
		var v any
		switch kv.Type {
		case "str":
			var s string
			err = json.Unmarshal(kv.Value, &s)
			v = s
		case "u32":
			var n uint32
			err = json.Unmarshal(kv.Value, &n)
			v = n
		case "f32":
			var f float32
			err = json.Unmarshal(kv.Value, &f)
			v = f
		default:
			err = fmt.Errorf("unknown type %q", kv.Type)
		}
		if err != nil {
			return fmt.Errorf("key %q: %w", kv.Key, err)
		}
		if err := w.SetKV(kv.Key, v); err != nil {
			return err
		}
	}
	for _, ts := range rec.Tensors {
		if err := w.AddTensor(ts.Name, quant.F32, ts.Shape); err != nil {
			return err
		}
	}
	for _, ts := range rec.Tensors {
		n, err := gguf.TensorSize(quant.F32, ts.Shape)
		if err != nil {
			return err
		}
		if err := w.WriteTensor(ts.Name, make([]byte, n)); err != nil {
			return err
		}
	}
	return w.Close()
}

// TestPlanMatchesLlamaQuantize holds every mix to what llama.cpp's
// llama-quantize itself chose for each tensor of two CogVLM-17B-shaped
// files, instead of to rules worked out by hand:
//
//   - the text GGUF of llama.cpp's split pair (language model with visual
//     experts): every tensor must match;
//   - our single file (text and vision; without the 4-D ViT patch filter,
//     on which llama-quantize aborts): every tensor must match except the
//     ffn_down weights. llama-quantize counts all ffn_down tensors in one
//     sequence, the ViT's 63 "v.blk.N.ffn_down" (sorted first) and then the
//     text model's 32, against n = 32, so the vision tower shifts which text
//     layers get more bits. Ours keep a counter per tower (policy.go), so a
//     text layer gets what llama-quantize gives it in the split text GGUF:
//     that is what the test requires of blk.N.ffn_down. The ViT's ffn_down
//     choices (counted over its own 63 layers) have no llama.cpp counterpart
//     and are not compared.
func TestPlanMatchesLlamaQuantize(t *testing.T) {
	text := readLlamaQuantizeRecord(t, "cogvlm-text.json")
	single := readLlamaQuantizeRecord(t, "cogvlm-single.json")
	t.Run("text", func(t *testing.T) { checkLlamaQuantize(t, text, nil) })
	t.Run("single", func(t *testing.T) { checkLlamaQuantize(t, single, text) })
}

// checkLlamaQuantize compares MakePlan with rec's mixes. With textRef, the
// ffn_down rule above applies: blk.N.ffn_down is compared with textRef's
// choice for the same tensor and mix, v.blk.N.ffn_down not at all.
func checkLlamaQuantize(t *testing.T, rec, textRef *llamaQuantizeRecord) {
	path := filepath.Join(t.TempDir(), "cogvlm-shaped-f32.gguf")
	if err := writeLlamaQuantizeInput(rec, path); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(rec.Mixes) < 15 || len(f.Tensors) < 380 {
		t.Fatalf("record has %d mixes and %d tensors: not the full set", len(rec.Mixes), len(f.Tensors))
	}
	for mi, mix := range rec.Mixes {
		name := mix.FType
		if mix.Pure {
			name += "-pure"
		}
		t.Run(name, func(t *testing.T) {
			ft, err := ParseFType(mix.FType)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := MakePlan(f, Options{FType: ft, Pure: mix.Pure})
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Tensors) != len(mix.Types) {
				t.Fatalf("plan has %d tensors, llama-quantize wrote %d", len(plan.Tensors), len(mix.Types))
			}
			bad, compared := 0, 0
			for _, r := range plan.Tensors {
				want, ok := mix.Types[r.Name]
				if !ok {
					t.Fatalf("%s: not in llama-quantize's output", r.Name)
				}
				if textRef != nil && strings.Contains(r.Name, "ffn_down") {
					if !strings.HasPrefix(r.Name, "blk.") {
						continue
					}
					ref := textRef.Mixes[mi]
					if ref.FType != mix.FType || ref.Pure != mix.Pure {
						t.Fatalf("fixtures list their mixes in different orders")
					}
					want = ref.Types[r.Name]
				}
				compared++
				if !strings.EqualFold(r.To.String(), want) {
					if bad < 10 {
						t.Errorf("%s: %v, llama-quantize chose %s", r.Name, r.To, want)
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d tensors differ", bad, compared)
			}
		})
	}
}
