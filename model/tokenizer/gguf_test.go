package tokenizer

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/gguf"
)

// writeGGUF writes kvs into an in-memory GGUF file and parses it back.
func writeGGUF(t *testing.T, kvs []KeyValue) *gguf.File {
	t.Helper()
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf, gguf.WriterOptions{})
	if err := w.SetKV("general.architecture", "cogvlm"); err != nil {
		t.Fatal(err)
	}
	for _, kv := range kvs {
		if err := w.SetKV(kv.Key, kv.Value); err != nil {
			t.Fatalf("SetKV(%s): %v", kv.Key, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestGGUFRoundTrip writes the LLaMA vocabulary's GGUFKeys to a GGUF file,
// reads it back and checks the vocabulary and the corpus ids survive.
func TestGGUFRoundTrip(t *testing.T) {
	ref := llamaTokenizer(t)
	f := writeGGUF(t, ref.Vocab().GGUFKeys())
	v, err := VocabFromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	r := ref.Vocab()
	if !slices.Equal(v.Tokens, r.Tokens) || !slices.Equal(v.Scores, r.Scores) || !slices.Equal(v.Types, r.Types) {
		t.Fatal("vocabulary differs after a GGUF round trip")
	}
	if v.Model != "llama" || v.BOS != 1 || v.EOS != 2 || v.UNK != 0 || v.PAD != -1 || !v.AddBOS || v.AddEOS || !v.AddSpacePrefix {
		t.Fatalf("special ids/flags differ: %+v", *v)
	}
	tk, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range loadCorpus(t) {
		if got := tk.Encode(c.Text, false); !slices.Equal(got, c.IDs) {
			t.Fatalf("corpus[%d] %q: %v, want %v", i, c.Text, got, c.IDs)
		}
	}
}

func TestGGUFKeysNames(t *testing.T) {
	v := &Vocab{Model: "llama", Tokens: []string{"<unk>", "a"}, Scores: []float32{0, -1}, Types: []int32{2, 1},
		BOS: -1, EOS: -1, UNK: 0, PAD: -1, AddSpacePrefix: true}
	var keys []string
	for _, kv := range v.GGUFKeys() {
		keys = append(keys, kv.Key)
	}
	want := []string{"tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
		"tokenizer.ggml.unknown_token_id", "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token", "tokenizer.ggml.add_space_prefix"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	// Without the keys, llama.cpp's defaults apply: BOS 1 (in range), EOS 2
	// (out of range for 2 pieces, so absent).
	got, err := VocabFromGGUF(writeGGUF(t, v.GGUFKeys()))
	if err != nil {
		t.Fatal(err)
	}
	if got.BOS != 1 || got.EOS != -1 || got.UNK != 0 {
		t.Errorf("BOS %d EOS %d UNK %d, want 1, -1, 0", got.BOS, got.EOS, got.UNK)
	}
}

func TestVocabFromGGUFErrors(t *testing.T) {
	base := func() []KeyValue {
		return []KeyValue{
			{"tokenizer.ggml.model", "llama"},
			{"tokenizer.ggml.tokens", []string{"<unk>", "<s>", "</s>", "a"}},
			{"tokenizer.ggml.scores", []float32{0, 0, 0, -1}},
			{"tokenizer.ggml.token_type", []int32{2, 3, 3, 1}},
		}
	}
	with := func(key string, val any) []KeyValue {
		kv := base()
		for i := range kv {
			if kv[i].Key == key {
				if val == nil {
					return append(kv[:i], kv[i+1:]...)
				}
				kv[i].Value = val
				return kv
			}
		}
		return append(kv, KeyValue{key, val})
	}
	tests := []struct {
		name string
		kvs  []KeyValue
		err  string // "" = success
	}{
		{"ok", base(), ""},
		{"no model", with("tokenizer.ggml.model", nil), "tokenizer.ggml.model: missing"},
		{"gpt2 without pre", with("tokenizer.ggml.model", "gpt2"), "tokenizer.ggml.pre: missing"},
		{"bert", with("tokenizer.ggml.model", "bert"), `"bert" not supported`},
		{"model not string", with("tokenizer.ggml.model", uint32(1)), "not a string"},
		{"no tokens", with("tokenizer.ggml.tokens", nil), "tokenizer.ggml.tokens: missing"},
		{"tokens wrong type", with("tokenizer.ggml.tokens", []int32{1}), "not an array of strings"},
		{"short scores", with("tokenizer.ggml.scores", []float32{0}), "1 scores for 4 tokens"},
		{"scores wrong type", with("tokenizer.ggml.scores", "x"), "not an array of float32"},
		{"short types", with("tokenizer.ggml.token_type", []int32{1, 1}), "2 types for 4 tokens"},
		{"bad type value", with("tokenizer.ggml.token_type", []int32{2, 3, 3, 9}), "unknown token type 9"},
		{"bos out of range", with("tokenizer.ggml.bos_token_id", uint32(4)), "id 4 out of range"},
		{"pad -1", with("tokenizer.ggml.padding_token_id", int32(-1)), ""},
		{"eos negative", with("tokenizer.ggml.eos_token_id", int32(-7)), "not a non-negative integer"},
		{"bool wrong type", with("tokenizer.ggml.add_bos_token", uint8(1)), "not a bool"},
		{"no scores or types", base()[:2], ""},
	}
	for _, tc := range tests {
		_, err := VocabFromGGUF(writeGGUF(t, tc.kvs))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && err == nil:
			t.Errorf("%s: no error, want %q", tc.name, tc.err)
		case tc.err != "" && !strings.Contains(err.Error(), tc.err):
			t.Errorf("%s: error %q, want it to contain %q", tc.name, err, tc.err)
		}
	}
}
