package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/model/tokenizer"
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
	f, err := gguf.Open(mp)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := tokenizer.VocabFromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
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
