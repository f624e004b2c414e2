package tokenizer

import (
	"slices"
	"sync"
	"testing"
)

// smallVocab has a user-defined piece "<img>", a control piece "<|end|>" and
// no byte pieces.
func smallVocab(prefix bool) *Vocab {
	return &Vocab{
		Model:  "llama",
		Tokens: []string{"<unk>", "<s>", "</s>", "<img>", "<|end|>", "▁", "a", "b", "▁a", "ab", "▁ab"},
		Scores: []float32{0, 0, 0, 0, 0, -10, -10, -10, -1, -2, -3},
		Types:  []int32{TypeUnknown, TypeControl, TypeControl, TypeUserDefined, TypeControl, 1, 1, 1, 1, 1, 1},
		BOS:    1, EOS: 2, UNK: 0, PAD: -1, AddBOS: true, AddSpacePrefix: prefix,
	}
}

func TestSpecialPieces(t *testing.T) {
	tests := []struct {
		name   string
		prefix bool
		text   string
		opt    EncodeOptions
		want   []int32
	}{
		// as in llama.cpp, text after a special piece gets the dummy prefix again
		{"user-defined always atomic", true, "ab<img>ab", EncodeOptions{}, []int32{10, 3, 10}},
		{"control is text without ParseSpecial", true, "a<|end|>", EncodeOptions{}, []int32{8, 0, 0, 0, 0, 0, 0, 0}},
		{"control with ParseSpecial", true, "a<|end|>b", EncodeOptions{ParseSpecial: true}, []int32{8, 4, 5, 7}},
		{"longest special first", true, "<s></s>", EncodeOptions{ParseSpecial: true}, []int32{1, 2}},
		{"no prefix", false, "ab a", EncodeOptions{}, []int32{9, 8}},
		{"no prefix after special", false, "<img>a", EncodeOptions{}, []int32{3, 6}},
		{"unknown char without byte pieces", true, "aéb", EncodeOptions{}, []int32{8, 0, 7}},
		{"bos and eos", true, "a", EncodeOptions{AddBOS: true, AddEOS: true}, []int32{1, 8, 2}},
	}
	for _, tc := range tests {
		tk, err := New(smallVocab(tc.prefix))
		if err != nil {
			t.Fatal(err)
		}
		if got := tk.EncodeWith(tc.text, tc.opt); !slices.Equal(got, tc.want) {
			t.Errorf("%s: EncodeWith(%q) = %v, want %v", tc.name, tc.text, got, tc.want)
		}
	}
	tk, _ := New(smallVocab(false))
	if got := tk.Decode([]int32{8, 4, 3}); got != " a<img>" {
		t.Errorf("Decode without prefix = %q, want %q", got, " a<img>")
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(v *Vocab)
	}{
		{"nil scores", func(v *Vocab) { v.Scores = nil }},
		{"short types", func(v *Vocab) { v.Types = v.Types[:3] }},
		{"model", func(v *Vocab) { v.Model = "gpt2" }},
		{"bos range", func(v *Vocab) { v.BOS = 11 }},
		{"pad below -1", func(v *Vocab) { v.PAD = -2 }},
		{"type 0", func(v *Vocab) { v.Types[5] = 0 }},
		{"byte piece name", func(v *Vocab) { v.Types[6] = TypeByte }},
		{"empty", func(v *Vocab) { v.Tokens, v.Scores, v.Types, v.BOS, v.EOS, v.UNK = nil, nil, nil, -1, -1, -1 }},
	}
	for _, tc := range tests {
		v := smallVocab(true)
		tc.edit(v)
		if _, err := New(v); err == nil {
			t.Errorf("%s: New accepted an invalid vocabulary", tc.name)
		}
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) accepted")
	}
}

// TestConcurrentEncode encodes the corpus from several goroutines at once
// (scratch space is pooled; run with -race).
func TestConcurrentEncode(t *testing.T) {
	tk := llamaTokenizer(t)
	corpus := loadCorpus(t)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(corpus); i += 2 {
				if !slices.Equal(tk.Encode(corpus[i].Text, false), corpus[i].IDs) {
					errs <- corpus[i].Text
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent Encode(%q) differs", s)
	}
}
