package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"reflect"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// tinyPath is the small example file of the README's quick start
// (`go run ./cmd/cogedge info testdata/tiny.gguf`). It is not a model.
const tinyPath = "../testdata/tiny.gguf"

// tinyKVs is the metadata of testdata/tiny.gguf, in file order.
var tinyKVs = []struct {
	key string
	val any
}{
	{"general.architecture", "cogvlm"},
	{"general.name", "tiny example (random weights, not a model)"},
	{"general.file_type", uint32(7)}, // MOSTLY_Q8_0
	{"general.quantization_version", uint32(2)},
	{"cogvlm.context_length", uint32(2048)},
	{"cogvlm.embedding_length", uint32(64)},
	{"cogvlm.block_count", uint32(1)},
	{"cogvlm.attention.head_count", uint32(4)},
	{"cogvlm.attention.layer_norm_rms_epsilon", float32(1e-5)},
	{"cogvlm.rope.freq_base", float32(10000)},
	{"tokenizer.ggml.model", "llama"},
	{"tokenizer.ggml.tokens", []string{"<unk>", "<s>", "</s>", "<0x0A>", "▁a", "▁cat", "▁is", "▁on", "▁the", "▁mat", "."}},
	{"tokenizer.ggml.scores", []float32{0, 0, 0, 0, -1, -2, -3, -4, -5, -6, -7}},
	{"tokenizer.ggml.token_type", []int32{2, 3, 3, 6, 1, 1, 1, 1, 1, 1, 1}},
	{"tokenizer.ggml.bos_token_id", uint32(1)},
	{"tokenizer.ggml.eos_token_id", uint32(2)},
	{"tokenizer.ggml.add_bos_token", true},
}

// tinyTensors lists the tensors of testdata/tiny.gguf in file order.
var tinyTensors = []tensorCase{
	{"token_embd.weight", quant.Q8_0, []uint64{64, 11}},
	{"blk.0.attn_norm.weight", quant.F32, []uint64{64}},
	{"blk.0.attn_qkv.weight", quant.Q4_K, []uint64{256, 3}},
	{"output_norm.weight", quant.F16, []uint64{64}},
	{"v.patch_embd.weight", quant.F16, []uint64{14, 14, 3, 2}},
}

// tinyData returns deterministic, valid bytes for a tinyTensors entry:
// values of a fixed sine pattern; Q8_0 blocks with a finite fp16 scale;
// Q4_K super-blocks with finite fp16 d/dmin and patterned scales and nibbles.
func tinyData(tc tensorCase) []byte {
	size, err := TensorSize(tc.typ, tc.shape)
	if err != nil {
		panic(err)
	}
	n := int(size)
	b := make([]byte, 0, n)
	val := func(i int) float32 { return float32(math.Sin(float64(i)*0.37)) * 0.5 }
	switch tc.typ {
	case quant.F32:
		for i := 0; len(b) < n; i++ {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(1+val(i)/10))
		}
	case quant.F16:
		for i := 0; len(b) < n; i++ {
			b = binary.LittleEndian.AppendUint16(b, quant.FP32ToFP16(val(i)))
		}
	case quant.Q8_0:
		for blk := 0; len(b) < n; blk++ {
			b = binary.LittleEndian.AppendUint16(b, quant.FP32ToFP16(0.5/127))
			for i := range 32 {
				b = append(b, byte(int8(127*val(blk*32+i)*2)))
			}
		}
	case quant.Q4_K:
		for blk := 0; len(b) < n; blk++ {
			b = binary.LittleEndian.AppendUint16(b, quant.FP32ToFP16(0.01))
			b = binary.LittleEndian.AppendUint16(b, quant.FP32ToFP16(0.005))
			for i := range 12 + 128 {
				b = append(b, byte(i*37+blk*11))
			}
		}
	default:
		panic("tinyData: no pattern for " + tc.typ.String())
	}
	return b
}

// writeTiny writes testdata/tiny.gguf with the Writer.
func writeTiny(path string) error {
	w, err := Create(path, WriterOptions{})
	if err != nil {
		return err
	}
	defer w.Abort()
	for _, kv := range tinyKVs {
		if err := w.SetKV(kv.key, kv.val); err != nil {
			return err
		}
	}
	for _, tc := range tinyTensors {
		if err := w.AddTensor(tc.name, tc.typ, tc.shape); err != nil {
			return err
		}
	}
	for _, tc := range tinyTensors {
		if err := w.WriteTensor(tc.name, tinyData(tc)); err != nil {
			return err
		}
	}
	return w.Close()
}

// TestTinyFile checks that testdata/tiny.gguf holds exactly tinyKVs and
// tinyTensors. Regenerate it with
//
//	COGEDGE_WRITE_TINY=1 go test -run TestTinyFile ./gguf/
//
// (or `go generate ./gguf/`).
func TestTinyFile(t *testing.T) {
	if os.Getenv("COGEDGE_WRITE_TINY") == "1" {
		if err := writeTiny(tinyPath); err != nil {
			t.Fatal(err)
		}
	}
	f, err := Open(tinyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.CheckStrict(); err != nil {
		t.Error(err)
	}
	if len(f.KVs) != len(tinyKVs) {
		t.Fatalf("%d KVs, want %d", len(f.KVs), len(tinyKVs))
	}
	for i, kv := range tinyKVs {
		if f.KVs[i].Key != kv.key || !reflect.DeepEqual(f.KVs[i].Value.Any(), kv.val) {
			t.Errorf("kv %d = %q %#v, want %q %#v", i, f.KVs[i].Key, f.KVs[i].Value.Any(), kv.key, kv.val)
		}
	}
	if len(f.Tensors) != len(tinyTensors) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(tinyTensors))
	}
	for i, tc := range tinyTensors {
		ti := &f.Tensors[i]
		if ti.Name != tc.name || ti.Type != tc.typ || !reflect.DeepEqual(ti.Shape, tc.shape) {
			t.Errorf("tensor %d = %q %v %v, want %q %v %v", i, ti.Name, ti.Type, ti.Shape, tc.name, tc.typ, tc.shape)
			continue
		}
		d, err := f.TensorData(ti)
		if err != nil || !bytes.Equal(d, tinyData(tc)) {
			t.Errorf("tensor %q: data differ from the pattern (%v)", tc.name, err)
		}
	}
}
