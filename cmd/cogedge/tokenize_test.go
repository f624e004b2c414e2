package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/model/tokenizer"
	"github.com/klauspost/compress/zstd"
)

// tokenizeModel writes a GGUF holding only the LLaMA-2 vocabulary of the
// testdata tokenizer.json.
func tokenizeModel(t *testing.T) string {
	t.Helper()
	z, err := os.ReadFile(filepath.Join("..", "..", "testdata", "tokenizer", "llama2-tokenizer.json.zst"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	data, err := d.DecodeAll(z, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := tokenizer.ParseVocab(data, "llama2-tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "vocab.gguf")
	w, err := gguf.Create(path, gguf.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SetKV("general.architecture", "llama"); err != nil {
		t.Fatal(err)
	}
	for _, kv := range v.GGUFKeys() {
		if err := w.SetKV(kv.Key, kv.Value); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func tokenizeCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"tokenize"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestTokenizeCommand(t *testing.T) {
	m := tokenizeModel(t)
	const q = "Hello world, what is in this image?" // ids from cogvlm.md §4.1
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"plain", []string{"-m", m, q}, "15043 3186 29892 825 338 297 445 1967 29973\n"},
		{"bos", []string{"-m", m, "--bos", q}, "1 15043 3186 29892 825 338 297 445 1967 29973\n"},
		{"args joined by spaces", []string{"--model", m, "Hello", "world,", "what", "is", "in", "this", "image?"}, "15043 3186 29892 825 338 297 445 1967 29973\n"},
		{"json", []string{"-m", m, "--json", "--bos", "Hello"}, "[1,15043]\n"},
		{"json empty", []string{"-m", m, "--json", ""}, "[]\n"},
		{"literal specials are text", []string{"-m", m, "</s>"}, "1533 29879 29958\n"},
		{"special", []string{"-m", m, "--special", "Hello</s>"}, "15043 2\n"},
		{"eos", []string{"-m", m, "--eos", "Hello"}, "15043 2\n"},
		{"pieces", []string{"-m", m, "--pieces", "Hello\n"}, "15043\t\"▁Hello\"\n13\t\"<0x0A>\"\n"},
		{"json pieces", []string{"-m", m, "--json", "--pieces", "🦙"}, `[{"id":29871,"piece":"▁"},{"id":243,"piece":"<0xF0>"},{"id":162,"piece":"<0x9F>"},{"id":169,"piece":"<0xA6>"},{"id":156,"piece":"<0x99>"}]` + "\n"},
	}
	for _, tc := range tests {
		code, out, errOut := tokenizeCLI(tc.args...)
		if code != 0 || out != tc.want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", tc.name, code, out, errOut, tc.want)
		}
	}
}

// TestTokenizeCorpus runs part of the llama-tokenizer-js corpus through the
// command.
func TestTokenizeCorpus(t *testing.T) {
	m := tokenizeModel(t)
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "tokenizer", "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus []struct {
		Text string  `json:"text"`
		IDs  []int32 `json:"ids"`
	}
	if err := json.Unmarshal(data, &corpus); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(corpus); i += 37 {
		c := corpus[i]
		code, out, errOut := tokenizeCLI("-m", m, "--json", c.Text)
		var got []int32
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
			t.Fatalf("corpus[%d]: exit %d, stdout %q, stderr %q", i, code, out, errOut)
		}
		if !equalIDs(got, c.IDs) {
			t.Errorf("corpus[%d] %q: %v, want %v", i, c.Text, got, c.IDs)
		}
	}
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTokenizeErrors(t *testing.T) {
	m := tokenizeModel(t)
	noVocab := filepath.Join(t.TempDir(), "novocab.gguf")
	w, err := gguf.Create(noVocab, gguf.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SetKV("general.architecture", "llama"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no model", []string{"Hello"}, 2, "-m MODEL.gguf is required"},
		{"no text", []string{"-m", m}, 2, "no TEXT given"},
		{"bad flag", []string{"-m", m, "--nope", "x"}, 2, "unknown flag"},
		{"missing file", []string{"-m", filepath.Join(t.TempDir(), "none.gguf"), "x"}, 1, "no such file"},
		{"no vocabulary", []string{"-m", noVocab, "x"}, 1, "tokenizer.ggml.model: missing"},
	}
	for _, tc := range tests {
		code, out, errOut := tokenizeCLI(tc.args...)
		if code != tc.code || out != "" || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.name, code, out, errOut, tc.code, tc.stderr)
		}
	}
	if code, _, _ := tokenizeCLI("--help"); code != 0 {
		t.Errorf("--help: exit %d, want 0", code)
	}
}
