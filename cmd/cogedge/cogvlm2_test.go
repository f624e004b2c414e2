package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/quant"
	"github.com/cogedge/cogedge/tools/convert/converter"
)

// The tiny CogVLM2 (testdata/README.md, section cogvlm2-tiny) with Llama-3's
// vocabulary.
var (
	tiny2HF     = filepath.Join("..", "..", "testdata", "cogvlm2-tiny", "hf")
	golden2Root = filepath.Join("..", "..", "testdata", "cogvlm2-tiny", "golden")
	llama3Vocab = filepath.Join("..", "..", "testdata", "tokenizer", "llama3-tokenizer.json.zst")
)

// tiny2F32 converts the tiny CogVLM2 to F32 with the Llama-3 tokenizer.
func tiny2F32(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "cogvlm2-tiny-f32.gguf")
	err := converter.Convert(context.Background(), converter.Options{
		Input: tiny2HF, Output: out, Type: quant.F32, Tokenizer: llama3Vocab, Pure: true, Threads: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readGolden2(t *testing.T, name string) *goldenCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(golden2Root, name, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	g := &goldenCase{}
	if err := json.Unmarshal(raw, g); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestCogVLM2RunGreedy: `cogedge run --temp 0` on the tiny CogVLM2 prints
// the reference's 16 greedy tokens, and `cogedge tokenize` of the templated
// prompt gives the reference's text ids (Llama-3's).
func TestCogVLM2RunGreedy(t *testing.T) {
	mp := tiny2F32(t)
	tok := fileTokenizer(t, mp)
	for _, name := range []string{"cogvlm2-tiny-image-chat", "cogvlm2-tiny-text-only"} {
		t.Run(name, func(t *testing.T) {
			g := readGolden2(t, name)
			code, stdout, stderr := cli("tokenize", "-m", mp, "--json", "Question: "+g.Query+" Answer:")
			if code != 0 {
				t.Fatalf("tokenize: exit %d: %s", code, stderr)
			}
			if want := "[" + joinIDs(g.TextIDs) + "]"; strings.ReplaceAll(strings.TrimSpace(stdout), " ", "") != want {
				t.Errorf("tokenize printed %s, want %s", stdout, want)
			}
			for _, id := range g.Generated {
				if id == 128001 || id == 128009 {
					t.Fatal("reference continuation contains a stop token; run would stop early")
				}
			}
			args := []string{"run", "-m", mp, "-p", g.Query, "--template", g.Template, "-n", fmt.Sprint(len(g.Generated)), "--temp", "0", "-t", "2", "--kv-type", "f32"}
			if g.Image != nil {
				args = append(args, "--image", chelsea)
			}
			code, stdout, stderr = cli(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if want := streamText(tok, g.Generated); stdout != want {
				t.Errorf("run printed %q, want the reference tokens %v = %q", stdout, g.Generated, want)
			}
		})
	}
}

// TestCogVLM2Eval: `cogedge eval --tokens` with the reference's text ids
// gives the reference's logits at the positions the dumps keep and its
// argmax at every position (f32 KV cache).
func TestCogVLM2Eval(t *testing.T) {
	mp := tiny2F32(t)
	const V = 128256
	for _, name := range []string{"cogvlm2-tiny-image-chat", "cogvlm2-tiny-text-only"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(golden2Root, name)
			g := readGolden2(t, name)
			out := filepath.Join(t.TempDir(), "logits.bin")
			args := []string{"eval", "-m", mp, "--kv-type", "f32", "-t", "2", "--tokens", joinIDs(g.TextIDs), "--logits-out", out}
			if g.Image != nil {
				args = append(args, "--image", chelsea)
			}
			if code, _, stderr := cli(args...); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			got := readF32(t, out)
			if len(got) != g.SeqLen*V {
				t.Fatalf("%d logits, want %d", len(got), g.SeqLen*V)
			}
			var rows []float32
			for _, p := range g.LogitsRows {
				rows = append(rows, got[p*V:(p+1)*V]...)
			}
			if d := maxAbs(rows, readF32(t, filepath.Join(dir, "logits_rows.f32.bin"))); d > 5e-5 {
				t.Errorf("logits rows %v: max |Δ| = %.3g > 5e-5", g.LogitsRows, d)
			}
			ga := argmaxRows(got, V)
			for p, id := range readI32(t, filepath.Join(dir, "logits_argmax.i32.bin")) {
				if ga[p] != int(id) {
					t.Errorf("position %d: argmax %d, reference %d", p, ga[p], id)
				}
			}
		})
	}
}

func readI32(t *testing.T, path string) []int32 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int32, len(raw)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}
