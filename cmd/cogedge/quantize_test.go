package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/quant"
)

// quantizeInput writes a GGUF holding ggml's golden input rows (see
// testdata/README.md, "quant") as the F32 tensor blk.0.ffn_up.weight
// {512, 24}, and a 1-D norm.
func quantizeInput(t *testing.T) string {
	t.Helper()
	input, err := os.ReadFile("../../testdata/quant/input.f32")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "in.gguf")
	w, err := gguf.Create(path, gguf.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.SetKV("general.architecture", "llama"))
	must(w.SetKV("llama.block_count", uint32(1)))
	must(w.AddTensor("blk.0.attn_norm.weight", quant.F32, []uint64{512}))
	must(w.AddTensor("blk.0.ffn_up.weight", quant.F32, []uint64{512, 24}))
	must(w.WriteTensor("blk.0.attn_norm.weight", make([]byte, 2048)))
	must(w.WriteTensor("blk.0.ffn_up.weight", input))
	must(w.Close())
	return path
}

// TestQuantizeCommandPure runs `cogedge quantize --pure` for every codec
// type and compares the tensor with ggml_quantize_chunk's bytes.
func TestQuantizeCommandPure(t *testing.T) {
	in := quantizeInput(t)
	for _, tc := range []struct{ arg, golden string }{
		{"q4_0", "q4_0"}, {"q4_1", "q4_1"}, {"q5_0", "q5_0"}, {"q5_1", "q5_1"}, {"q8_0", "q8_0"},
		{"q4_k_m", "q4_K"}, {"q5_k_m", "q5_K"}, {"q6_k", "q6_K"}, {"iq4_nl", "iq4_nl"}, {"f16", "f16"}, {"bf16", "bf16"},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.gguf")
			var so, se bytes.Buffer
			if code := run([]string{"quantize", "--pure", "-t", "2", in, out, tc.arg}, &so, &se); code != 0 {
				t.Fatalf("exit %d: %s", code, se.String())
			}
			if !strings.Contains(so.String(), "2 tensors") {
				t.Errorf("summary %q", so.String())
			}
			f, err := gguf.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ti, ok := f.Tensor("blk.0.ffn_up.weight")
			if !ok {
				t.Fatal("tensor missing")
			}
			got, err := f.TensorData(ti)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile("../../testdata/quant/" + tc.golden + ".q")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%v tensor differs from ggml's bytes", ti.Type)
			}
		})
	}
}

func TestQuantizeCommandErrors(t *testing.T) {
	in := quantizeInput(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{in, filepath.Join(dir, "o.gguf")}, 2, "want IN.gguf OUT.gguf TYPE"},
		{[]string{in, filepath.Join(dir, "o.gguf"), "Q3_K_M"}, 2, "unknown type"},
		{[]string{"--type-for", "attn", in, filepath.Join(dir, "o.gguf"), "q4_0"}, 2, "want PATTERN=TYPE"},
		{[]string{"--type-for", "(=q8_0", in, filepath.Join(dir, "o.gguf"), "q4_0"}, 2, "type-for"},
		{[]string{"--type-for", "ffn=q2_k", in, filepath.Join(dir, "o.gguf"), "q4_0"}, 2, "not a type cogedge can write"},
		{[]string{in, in, "q4_0"}, 2, "is also an input"},
		{[]string{in, dir, "q4_0"}, 2, "is a folder"},
		{[]string{in, "-", "q4_0"}, 2, "cannot write to standard output"},
		{[]string{filepath.Join(dir, "missing.gguf"), filepath.Join(dir, "o.gguf"), "q4_0"}, 1, "missing.gguf"},
		{[]string{"--bogus"}, 2, "unknown flag"},
	} {
		var so, se bytes.Buffer
		code := run(append([]string{"quantize"}, tc.args...), &so, &se)
		if code != tc.code || !strings.Contains(se.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, se.String(), tc.code, tc.msg)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o.gguf")); !os.IsNotExist(err) {
		t.Errorf("output written by a failed run")
	}
	// An override wins over --pure's type.
	out := filepath.Join(dir, "ov.gguf")
	var so, se bytes.Buffer
	if code := run([]string{"quantize", "--pure", "--type-for", `ffn_up\.weight$=q8_0`, "-v", in, out, "q4_0"}, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	if !strings.Contains(so.String(), "blk.0.ffn_up.weight") || !strings.Contains(so.String(), "-> Q8_0") {
		t.Errorf("verbose listing %q", so.String())
	}
}
