package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

const testdataDir = "../../testdata/tokenizer"

var llama struct {
	once sync.Once
	json []byte
	v    *Vocab
	t    *Tokenizer
	err  error
}

// llamaJSON returns the decompressed LLaMA-2 tokenizer.json fixture.
func llamaJSON(tb testing.TB) []byte {
	tb.Helper()
	loadLlama()
	if llama.err != nil {
		tb.Fatal(llama.err)
	}
	return llama.json
}

// llamaTokenizer returns the tokenizer over the LLaMA-2 vocabulary, loaded
// from the tokenizer.json fixture.
func llamaTokenizer(tb testing.TB) *Tokenizer {
	tb.Helper()
	loadLlama()
	if llama.err != nil {
		tb.Fatal(llama.err)
	}
	return llama.t
}

func loadLlama() {
	llama.once.Do(func() {
		if llama.json, llama.err = readZstdFixture("llama2-tokenizer.json.zst"); llama.err != nil {
			return
		}
		llama.v, llama.err = ParseVocab(llama.json, "llama2-tokenizer.json")
		if llama.err != nil {
			return
		}
		llama.t, llama.err = New(llama.v)
	})
}

// readZstdFixture reads and decompresses a zstd file of testdata/tokenizer.
func readZstdFixture(name string) ([]byte, error) {
	z, err := os.ReadFile(filepath.Join(testdataDir, name))
	if err != nil {
		return nil, err
	}
	d, err := zstd.NewReader(nil)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	data, err := d.DecodeAll(z, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: decompress: %w", name, err)
	}
	return data, nil
}

type corpusEntry struct {
	Text string  `json:"text"`
	IDs  []int32 `json:"ids"`
}

func loadCorpus(tb testing.TB) []corpusEntry {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, "corpus.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var c []corpusEntry
	if err := json.Unmarshal(data, &c); err != nil {
		tb.Fatal(err)
	}
	if len(c) < 300 {
		tb.Fatalf("corpus has %d entries, want at least 300", len(c))
	}
	return c
}

// TestLlamaCorpus checks every corpus string against the ids of
// llama-tokenizer-js, and that the ids decode back to the string.
func TestLlamaCorpus(t *testing.T) {
	tk := llamaTokenizer(t)
	bad := 0
	for i, c := range loadCorpus(t) {
		got := tk.Encode(c.Text, false)
		if !slices.Equal(got, c.IDs) {
			bad++
			if bad <= 10 {
				t.Errorf("corpus[%d] %q:\n got %v\nwant %v", i, c.Text, got, c.IDs)
			}
			continue
		}
		want := strings.ReplaceAll(c.Text, spaceMark, " ")
		if dec := tk.Decode(got); dec != want {
			t.Errorf("corpus[%d]: Decode = %q, want %q", i, dec, want)
		}
		withBOS := tk.Encode(c.Text, true)
		if len(withBOS) != len(got)+1 || withBOS[0] != 1 || !slices.Equal(withBOS[1:], got) {
			t.Errorf("corpus[%d]: Encode with BOS = %v, want 1 then %v", i, withBOS, got)
		}
	}
	if bad > 0 {
		t.Errorf("%d corpus strings differ", bad)
	}
}

func TestLlamaVocab(t *testing.T) {
	tk := llamaTokenizer(t)
	v := tk.Vocab()
	if tk.VocabSize() != 32000 || tk.BOS() != 1 || tk.EOS() != 2 || v.UNK != 0 || v.PAD != -1 {
		t.Fatalf("size %d bos %d eos %d unk %d pad %d", tk.VocabSize(), tk.BOS(), tk.EOS(), v.UNK, v.PAD)
	}
	if !v.AddBOS || v.AddEOS || !v.AddSpacePrefix {
		t.Errorf("AddBOS %v AddEOS %v AddSpacePrefix %v, want true false true", v.AddBOS, v.AddEOS, v.AddSpacePrefix)
	}
	wantTypes := map[int32]int32{0: TypeUnknown, 1: TypeControl, 2: TypeControl, 3: TypeByte, 13: TypeByte, 258: TypeByte, 259: TypeNormal, 29871: TypeNormal}
	for id, typ := range wantTypes {
		if v.Types[id] != typ {
			t.Errorf("type of %d %q = %d, want %d", id, v.Tokens[id], v.Types[id], typ)
		}
	}
	for _, c := range []struct {
		id    int32
		piece string
	}{{0, "<unk>"}, {13, "<0x0A>"}, {29871, "▁"}, {15043, "▁Hello"}, {29892, ","}, {29973, "?"}} {
		if p := tk.Piece(c.id); p != c.piece {
			t.Errorf("Piece(%d) = %q, want %q", c.id, p, c.piece)
		}
	}
}

// TestMergeArrayForm rewrites the merges of the fixture as [a, b] arrays and
// checks the vocabulary comes out identical.
func TestMergeArrayForm(t *testing.T) {
	var raw map[string]any
	if err := json.Unmarshal(llamaJSON(t), &raw); err != nil {
		t.Fatal(err)
	}
	model := raw["model"].(map[string]any)
	merges := model["merges"].([]any)
	cr := 0
	for i, m := range merges {
		a, b, _ := strings.Cut(m.(string), " ")
		if strings.HasSuffix(b, "\r") {
			cr++
		}
		merges[i] = []string{a, b}
	}
	if cr != 40 {
		t.Errorf("%d merges end in \\r, want 40 (were lines split on \\r?)", cr)
	}
	data, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseVocab(data, "array-form")
	if err != nil {
		t.Fatal(err)
	}
	ref := llamaTokenizer(t).Vocab()
	if !slices.Equal(v.Tokens, ref.Tokens) || !slices.Equal(v.Scores, ref.Scores) || !slices.Equal(v.Types, ref.Types) {
		t.Error("array-form merges give a different vocabulary")
	}
}

// TestScoresFollowMergeRank checks the derived scores: every piece a merge
// makes scores minus its first rank, and the others score below all merges.
func TestScoresFollowMergeRank(t *testing.T) {
	var raw struct {
		Model struct {
			Merges []string `json:"merges"`
		} `json:"model"`
	}
	if err := json.Unmarshal(llamaJSON(t), &raw); err != nil {
		t.Fatal(err)
	}
	v := llamaTokenizer(t).Vocab()
	index := map[string]int{}
	for i, p := range v.Tokens {
		index[p] = i
	}
	first := map[int]int{}
	for r, m := range raw.Model.Merges {
		a, b, _ := strings.Cut(m, " ")
		id := index[a+b]
		if _, ok := first[id]; !ok {
			first[id] = r
		}
	}
	lowest := -float32(len(raw.Model.Merges) - 1)
	for id, s := range v.Scores {
		if r, ok := first[id]; ok {
			if s != -float32(r) {
				t.Fatalf("score of %q = %v, want %v", v.Tokens[id], s, -r)
			}
		} else if v.Types[id] == TypeNormal && s >= lowest {
			t.Fatalf("score of unmerged %q = %v, not below %v", v.Tokens[id], s, lowest)
		}
	}
}

func TestLlamaKnownIDs(t *testing.T) {
	tk := llamaTokenizer(t)
	tests := []struct {
		text string
		opt  EncodeOptions
		want []int32
	}{
		// cogvlm.md §4.1 / testing.md §7
		{"Hello world, what is in this image?", EncodeOptions{AddBOS: true}, []int32{1, 15043, 3186, 29892, 825, 338, 297, 445, 1967, 29973}},
		{"\n", EncodeOptions{}, []int32{29871, 13}},
		{" ", EncodeOptions{}, []int32{259}},
		{"\r\n", EncodeOptions{}, []int32{6756, 13}},
		{"🦙", EncodeOptions{}, []int32{29871, 243, 162, 169, 156}},
		{"", EncodeOptions{}, []int32{}},
		{"", EncodeOptions{AddBOS: true}, []int32{1}},
		{"", EncodeOptions{AddBOS: true, AddEOS: true}, []int32{1, 2}},
		// plain text by default: no injection of control ids
		{"<s>", EncodeOptions{}, []int32{529, 29879, 29958}},
		{"</s>", EncodeOptions{ParseSpecial: false}, []int32{1533, 29879, 29958}},
		// ParseSpecial: control pieces become ids; text after them gets the
		// dummy prefix again, as in llama.cpp
		{"<s>", EncodeOptions{ParseSpecial: true}, []int32{1}},
		{"Hello</s>", EncodeOptions{ParseSpecial: true}, []int32{15043, 2}},
		{"<s>Hello", EncodeOptions{ParseSpecial: true}, []int32{1, 15043}},
		{"a<unk>b", EncodeOptions{ParseSpecial: true}, []int32{263, 0, 289}},
		{"Hello", EncodeOptions{AddEOS: true}, []int32{15043, 2}},
	}
	for _, tc := range tests {
		got := tk.EncodeWith(tc.text, tc.opt)
		if !slices.Equal(got, tc.want) {
			t.Errorf("EncodeWith(%q, %+v) = %v, want %v", tc.text, tc.opt, got, tc.want)
		}
	}
}

func TestDecode(t *testing.T) {
	tk := llamaTokenizer(t)
	tests := []struct {
		ids  []int32
		want string
	}{
		{[]int32{1, 15043, 3186, 29892, 825, 338, 297, 445, 1967, 29973}, "Hello world, what is in this image?"},
		{[]int32{29871, 243, 162, 169, 156}, "🦙"},
		{[]int32{2}, ""},
		{[]int32{15043, 2, 15043}, "Hello Hello"},
		{[]int32{-5, 99999, 15043}, "Hello"},   // out of range: nothing
		{[]int32{29871, 243, 162}, "\xf0\x9f"}, // exact bytes, cut character
		{[]int32{259, 15043}, "  Hello"},       // "▁▁" "▁Hello": only one prefix space goes
		{[]int32{0}, "\u2047 "},                // <unk>: SentencePiece's " ⁇ " minus the prefix space
		{[]int32{1, 13, 13}, "\n\n"},           // byte pieces
		{[]int32{3}, "\x00"},                   // <0x00>
		{[]int32{22172, 29871, 13, 22172}, "hello \n hello"},
	}
	for _, tc := range tests {
		if got := tk.Decode(tc.ids); got != tc.want {
			t.Errorf("Decode(%v) = %q, want %q", tc.ids, got, tc.want)
		}
	}
}

func TestStreamDecoder(t *testing.T) {
	tk := llamaTokenizer(t)
	tests := []struct {
		name  string
		ids   []int32
		parts []string // output after each Add
		flush string
	}{
		{"emoji held until complete", []int32{29871, 243, 162, 169, 156, 338}, []string{"", "", "", "", "🦙", " is"}, ""},
		{"prefix space stripped once", []int32{1, 15043, 3186}, []string{"", "Hello", " world"}, ""},
		{"invalid byte replaced", []int32{15043, 258, 3186}, []string{"Hello", "\uFFFD", " world"}, ""},
		{"cut sequence replaced at flush", []int32{15043, 243, 162}, []string{"Hello", "", ""}, "\uFFFD\uFFFD"},
		{"broken sequence", []int32{243, 22172}, []string{"", "\uFFFD hello"}, ""},
		{"lone continuation byte", []int32{131}, []string{"\uFFFD"}, ""},
	}
	for _, tc := range tests {
		d := tk.NewStreamDecoder()
		for i, id := range tc.ids {
			if got := d.Add(id); got != tc.parts[i] {
				t.Errorf("%s: Add(%d) #%d = %q, want %q", tc.name, id, i, got, tc.parts[i])
			}
		}
		if got := d.Flush(); got != tc.flush {
			t.Errorf("%s: Flush = %q, want %q", tc.name, got, tc.flush)
		}
	}
}

// TestStreamMatchesDecode checks that streaming the corpus ids one by one
// gives the same text as Decode.
func TestStreamMatchesDecode(t *testing.T) {
	tk := llamaTokenizer(t)
	for i, c := range loadCorpus(t) {
		d := tk.NewStreamDecoder()
		var sb strings.Builder
		for _, id := range c.IDs {
			sb.WriteString(d.Add(id))
		}
		sb.WriteString(d.Flush())
		if want := tk.Decode(c.IDs); sb.String() != want {
			t.Errorf("corpus[%d]: stream %q, Decode %q", i, sb.String(), want)
		}
	}
}

// TestSegmentsChangeNothing encodes the corpus with and without cutting the
// text at character pairs no piece holds.
func TestSegmentsChangeNothing(t *testing.T) {
	tk := llamaTokenizer(t)
	whole := *tk
	whole.noCut = true
	for i, c := range loadCorpus(t) {
		if got := whole.Encode(c.Text, false); !slices.Equal(got, c.IDs) {
			t.Errorf("corpus[%d] %q merged whole: %v, want %v", i, c.Text, got, c.IDs)
		}
	}
	if !tk.joinable('▁', 'H') || tk.joinable('\n', 'a') || tk.joinable(-1, 'a') {
		t.Error("joinable: ▁H must join, \\n a and an invalid byte must not")
	}
}
