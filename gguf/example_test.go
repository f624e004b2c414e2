package gguf_test

import (
	"bytes"
	"fmt"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/quant"
)

// A PyTorch Linear weight of shape (out=2, in=4) is stored with the ggml
// shape {4, 2}: in first, because ne0 is the contiguous dimension.
func Example() {
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf, gguf.WriterOptions{})
	w.SetKV("general.architecture", "cogvlm")
	w.SetKV("cogvlm.block_count", uint32(32))
	w.AddTensor("blk.0.ffn_up.weight", quant.F32, []uint64{4, 2})
	w.WriteTensor("blk.0.ffn_up.weight", make([]byte, 4*2*4))
	if err := w.Close(); err != nil {
		panic(err)
	}

	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		panic(err)
	}
	arch, _ := f.String("general.architecture")
	layers, _ := f.Uint("cogvlm.block_count")
	t, _ := f.Tensor("blk.0.ffn_up.weight")
	data, _ := f.TensorData(t)
	fmt.Println(arch, layers, t.Type, t.Shape, len(data), f.DataOffset%f.Alignment)
	// Output: cogvlm 32 F32 [4 2] 32 0
}
