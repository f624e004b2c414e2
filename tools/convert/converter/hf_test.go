package converter

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// hfTensor is one tensor of a test checkpoint.
type hfTensor struct {
	name  string
	dtype DType
	shape []int64
	kind  Kind
}

// hfEdit changes a test checkpoint before it is written.
type hfEdit struct {
	tensors func([]hfTensor) []hfTensor                   // edit the tensor list
	index   func(weightMap map[string]string)             // edit the index
	config  func(raw map[string]any)                      // edit config.json
	after   func(dir string, shards []string)             // edit files afterwards
	fill    func(name string, i int64, kind Kind) float32 // element values (default: random)
}

// writeHF writes a Hugging Face checkpoint for cfg into dir: config.json,
// the index and `shards` safetensors shards of BF16 tensors, with values
// from fill (default: deterministic random, norms near 1). It is written
// here, independently of the reader under test, straight from the
// safetensors format description.
func writeHF(t testing.TB, dir string, cfg *Config, shards int, e hfEdit) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var ts []hfTensor
	for _, s := range Layout(cfg) {
		ts = append(ts, hfTensor{s.HF, BF16, s.HFShape(), s.Kind})
	}
	if e.tensors != nil {
		ts = e.tensors(ts)
	}
	fill := e.fill
	if fill == nil {
		fill = func(name string, i int64, kind Kind) float32 {
			r := rng{mix64(uint64(len(name))*0x9e37 + uint64(i)*0x1000193 + uint64(name[len(name)-3]))}
			if kind == Norm {
				return 1 + 0.1*r.uniform()
			}
			return 0.035 * r.uniform()
		}
	}
	per := (len(ts) + shards - 1) / shards
	wm := map[string]string{}
	var names []string
	for k := 0; k < shards; k++ {
		lo, hi := k*per, min((k+1)*per, len(ts))
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", k+1, shards)
		names = append(names, name)
		header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
		var off int64
		for _, x := range ts[lo:hi] {
			n := int64(1)
			for _, d := range x.shape {
				n *= d
			}
			sz := n * x.dtype.Size()
			if x.dtype.Size() == 0 {
				sz = n
			}
			header[x.name] = map[string]any{"dtype": string(x.dtype), "shape": x.shape, "data_offsets": []int64{off, off + sz}}
			off += sz
			wm[x.name] = name
		}
		hj, err := json.Marshal(header)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var l [8]byte
		binary.LittleEndian.PutUint64(l[:], uint64(len(hj)))
		f.Write(l[:])
		f.Write(hj)
		buf := make([]byte, 0, 1<<20)
		for _, x := range ts[lo:hi] {
			n := int64(1)
			for _, d := range x.shape {
				n *= d
			}
			for i := int64(0); i < n; i++ {
				v := fill(x.name, i, x.kind)
				switch x.dtype {
				case BF16:
					buf = binary.LittleEndian.AppendUint16(buf, quant.FP32ToBF16(v))
				case F16:
					buf = binary.LittleEndian.AppendUint16(buf, quant.FP32ToFP16(v))
				case F32:
					buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				default:
					buf = append(buf, 0)
				}
				if len(buf) >= 1<<20-4 {
					f.Write(buf)
					buf = buf[:0]
				}
			}
		}
		f.Write(buf)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if e.index != nil {
		e.index(wm)
	}
	keys := make([]string, 0, len(wm))
	for k := range wm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	idx, _ := json.MarshalIndent(map[string]any{"metadata": map[string]any{}, "weight_map": wm}, "", " ")
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(cfg)
	var m map[string]any
	json.Unmarshal(raw, &m)
	if e.config != nil {
		e.config(m)
	}
	raw, _ = json.MarshalIndent(m, "", " ")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if e.after != nil {
		e.after(dir, names)
	}
}

// smallConfig is a model small enough to write in milliseconds, with row
// lengths that exercise both K-quants (256) and their fallbacks (32).
func smallConfig() *Config {
	c := &Config{
		Architectures: []string{Architecture}, VocabSize: 300, HiddenSize: 256, IntermediateSize: 96,
		NumHiddenLayers: 2, NumAttentionHeads: 4, MaxPositionEmbeddings: 2048, RMSNormEps: 1e-5,
		RopeTheta: 10000, TemplateVersion: "base", BOSTokenID: 1, EOSTokenIDs: TokenIDs{2},
		Vision: VisionConfig{HiddenSize: 64, ImageSize: 28, InChannels: 3, IntermediateSize: 256,
			LayerNormEps: 1e-6, NumHeads: 2, NumHiddenLayers: 2, PatchSize: 14, HiddenAct: "gelu"},
		HiddenAct: "silu",
	}
	if err := c.Validate(); err != nil {
		panic(err)
	}
	return c
}
