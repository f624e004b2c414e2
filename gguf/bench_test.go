package gguf

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// manyTensorsFile builds a header shaped like a CogVLM-17B file: a 32000
// token vocabulary (tokens, scores, types), a few dozen scalar keys and
// nTensors small tensors with long names. Tensor data are tiny so the file
// is mostly header.
func manyTensorsFile(b *testing.B, nTensors int) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf, WriterOptions{})
	tokens := make([]string, 32000)
	scores := make([]float32, len(tokens))
	types := make([]int32, len(tokens))
	for i := range tokens {
		tokens[i] = fmt.Sprintf("▁tok%d", i)
		scores[i] = -float32(i)
		types[i] = 1
	}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(w.SetKV("general.architecture", "cogvlm"))
	for i := range 40 {
		must(w.SetKV(fmt.Sprintf("cogvlm.key%d", i), uint32(i)))
	}
	must(w.SetKV("tokenizer.ggml.tokens", tokens))
	must(w.SetKV("tokenizer.ggml.scores", scores))
	must(w.SetKV("tokenizer.ggml.token_type", types))
	for i := range nTensors {
		must(w.AddTensor(fmt.Sprintf("v.blk.%d.attn_qkv.weight", i), quant.Q8_0, []uint64{32, 1}))
	}
	blk := make([]byte, 34)
	for i := range nTensors {
		must(w.WriteTensor(fmt.Sprintf("v.blk.%d.attn_qkv.weight", i), blk))
	}
	must(w.Close())
	return buf.Bytes()
}

// BenchmarkParse parses headers with a 32000-token vocabulary and 1000 or
// 5000 tensors (CogVLM-17B has about 2000); bytes/s counts the whole file.
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		data := manyTensorsFile(b, n)
		b.Run(fmt.Sprintf("tensors=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWrite streams the same file to memory.
func BenchmarkWrite(b *testing.B) {
	data := manyTensorsFile(b, 1000)
	f, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		w := NewWriter(&buf, WriterOptions{})
		for _, kv := range f.KVs {
			w.SetValue(kv.Key, kv.Value)
		}
		for i := range f.Tensors {
			w.AddTensor(f.Tensors[i].Name, f.Tensors[i].Type, f.Tensors[i].Shape)
		}
		for i := range f.Tensors {
			d, _ := f.TensorData(&f.Tensors[i])
			w.WriteTensor(f.Tensors[i].Name, d)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
