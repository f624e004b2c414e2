package model_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
	"github.com/cogedge/cogedge/tools/convert/converter"
)

// requantize returns src (an F32 GGUF) with every 2-D matrix whose rows
// fit typ's blocks quantized to typ by quant.Quantize (what
// llama-quantize does without an imatrix); vectors, the patch filter and
// the position embedding stay F32.
func requantize(t *testing.T, src *gguf.File, typ quant.Type) (*gguf.File, map[quant.Type]int) {
	t.Helper()
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf, gguf.WriterOptions{})
	for _, kv := range src.KVs {
		if err := w.SetValue(kv.Key, kv.Value); err != nil {
			t.Fatal(err)
		}
	}
	count := map[quant.Type]int{}
	type item struct {
		name string
		data []byte
	}
	var items []item
	for i := range src.Tensors {
		ti := &src.Tensors[i]
		data, err := src.TensorData(ti)
		if err != nil {
			t.Fatal(err)
		}
		if ti.Type != quant.F32 {
			t.Fatalf("%s: %v, want F32", ti.Name, ti.Type)
		}
		out, nt := data, quant.F32
		k := int(ti.Shape[0])
		matrix := len(ti.Shape) == 2 && ti.Shape[1] > 1 && ti.Name != "v.position_embd.weight"
		if matrix && k%typ.BlockSize() == 0 {
			rs, err := typ.RowSize(int64(k))
			if err != nil {
				t.Fatal(err)
			}
			rows := int(ti.Shape[1])
			out = make([]byte, int(rs)*rows)
			row := make([]float32, k)
			for r := 0; r < rows; r++ {
				for j := range row {
					row[j] = f32at(data, r*k+j)
				}
				if err := quant.Quantize(typ, out[r*int(rs):(r+1)*int(rs)], row); err != nil {
					t.Fatal(err)
				}
			}
			nt = typ
		}
		count[nt]++
		if err := w.AddTensor(ti.Name, nt, ti.Shape); err != nil {
			t.Fatal(err)
		}
		items = append(items, item{ti.Name, out})
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
	return f, count
}

// TestQuantKLRealBlocks complements TestQuantKL with rows wide enough for
// K-quant blocks: the converter's synthetic "tiny" shape (hidden 256, the
// reference's own tiny preset; random N(0, 0.02) F32 weights) is
// quantized here to Q8_0, Q4_0 and Q4_K, and the mean KL divergence of the
// next-token distributions from F32 is reported over the image-chat
// prompt (reference pixels and text ids). Run:
//
//	COGEDGE_SLOW=1 go test -count=1 -v -run TestQuantKLRealBlocks ./model/
func TestQuantKLRealBlocks(t *testing.T) {
	if os.Getenv("COGEDGE_SLOW") == "" {
		t.Skip("~15 s: builds and quantizes a 70 MB synthetic model; run with COGEDGE_SLOW=1")
	}
	path := filepath.Join(t.TempDir(), "synthetic-tiny-f32.gguf")
	if err := converter.Synthetic(context.Background(), "tiny", path, quant.F32, converter.Options{Pure: true, Threads: 2, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	src, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	g := loadGolden(t, "tiny-image-chat")
	run := func(f *gguf.File) []float32 {
		m, err := model.New(f)
		if err != nil {
			t.Fatal(err)
		}
		if m.Vision == nil || m.PixelCount() != len(g.f32(t, "pixel_values")) {
			t.Fatal("synthetic tiny model does not take the reference's 56x56 pixels")
		}
		return caseLogits(t, m, g)
	}
	ref := run(src)
	V := 32000
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0, quant.Q4_K} {
		f, count := requantize(t, src, typ)
		kl := meanKL(ref, run(f), V)
		t.Logf("%v (%d matrices %v, %d tensors F32): mean KL(F32 || %v) = %.3g nats over %d positions",
			typ, count[typ], typ, count[quant.F32], typ, kl, len(ref)/V)
		if count[typ] == 0 || !(kl >= 0) || kl > 0.05 {
			t.Errorf("%v: %d quantized matrices, KL %.3g", typ, count[typ], kl)
		}
	}
}

func f32at(b []byte, i int) float32 {
	return math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
}
