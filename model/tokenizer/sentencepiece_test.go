package tokenizer

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func readZst(t *testing.T, name string) []byte {
	t.Helper()
	z, err := os.ReadFile(filepath.Join(testdataDir, name))
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
	return data
}

// TestSentencePieceModel loads the ModelProto built by make_spm.py (LLaMA's
// own pieces, scores and types, from llama.cpp's ggml-vocab-llama-spm.gguf)
// and checks it against the tokenizer.json vocabulary, and the Go
// tokenizer's ids under those scores against Python sentencepiece's.
func TestSentencePieceModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokenizer.model")
	if err := os.WriteFile(path, readZst(t, "llama2-tokenizer.model.zst"), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := LoadVocabFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ref := llamaTokenizer(t).Vocab()
	if !slices.Equal(v.Tokens, ref.Tokens) || !slices.Equal(v.Types, ref.Types) {
		t.Fatal("pieces or types differ from tokenizer.json")
	}
	// LLaMA's scores: -(id - 259) for merged pieces, -1e9 for "▁" and the
	// whitespace runs, 0 for the specials and bytes. The tokenizer.json
	// loader derives its own from merge ranks; the ids below must agree.
	for _, c := range []struct {
		id    int
		score float32
	}{{0, 0}, {3, 0}, {259, -1e9}, {260, -1}, {261, -2}, {29871, -1e9}, {31999, -(31999 - 259)}} {
		if v.Scores[c.id] != c.score {
			t.Errorf("score of %d (%q) = %g, want %g", c.id, v.Tokens[c.id], v.Scores[c.id], c.score)
		}
	}
	if v.BOS != 1 || v.EOS != 2 || v.UNK != 0 || v.PAD != -1 || !v.AddSpacePrefix || !v.AddBOS || v.AddEOS {
		t.Fatalf("specials/flags: %+v", *v)
	}
	tk, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(testdataDir, "sp_ids.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spIDs [][]int32
	if err := json.Unmarshal(data, &spIDs); err != nil {
		t.Fatal(err)
	}
	corpus := loadCorpus(t)
	if len(spIDs) != len(corpus) {
		t.Fatalf("%d sentencepiece entries for %d corpus strings", len(spIDs), len(corpus))
	}
	for i, c := range corpus {
		if got := tk.Encode(c.Text, false); !slices.Equal(got, spIDs[i]) {
			t.Errorf("corpus[%d] %q:\n got %v\nwant %v (sentencepiece)", i, c.Text, got, spIDs[i])
		}
	}
}

// pb builds protobuf wire bytes for the hostile-input tests.
type pb []byte

func (b pb) varint(x uint64) pb {
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}
func (b pb) key(num, wire int) pb { return b.varint(uint64(num)<<3 | uint64(wire)) }
func (b pb) bytes(num int, p []byte) pb {
	return append(b.key(num, wireBytes).varint(uint64(len(p))), p...)
}
func (b pb) uint(num int, x uint64) pb { return b.key(num, wireVarint).varint(x) }
func (b pb) float(num int, f float32) pb {
	u := math.Float32bits(f)
	return append(b.key(num, wireFixed32), byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
}

func piece(s string, score float32, typ int) []byte {
	return pb(nil).bytes(spPieceText, []byte(s)).float(spPieceScore, score).uint(spPieceType, uint64(typ))
}

func TestParseModelProto(t *testing.T) {
	bpe := pb(nil).uint(spTrainerModelType, spModelTypeBPE)
	pieces := pb(nil).bytes(1, piece("<unk>", 0, 2)).bytes(1, piece("<s>", 0, 3)).bytes(1, piece("</s>", 0, 3)).
		bytes(1, piece("▁a", -1, 1)).bytes(1, piece("a", -2, 1)).bytes(1, piece("▁", -3, 1))
	good := append(append(pb(nil), pieces...), pb(nil).bytes(spModelTrainer, bpe)...)
	// plus returns a fresh copy of good followed by extra.
	plus := func(extra ...byte) []byte { return append(slices.Clip(slices.Clone(good)), extra...) }
	tests := []struct {
		name string
		data []byte
		err  string
	}{
		{"ok", good, ""},
		{"unknown fields skipped", append(pb(nil).uint(9, 5).float(10, 1).key(11, wireFixed64), append(make([]byte, 8), good...)...), ""},
		{"unigram", pieces, "model_type 1 not supported"},
		{"no pieces", pb(nil).bytes(spModelTrainer, bpe), "no pieces"},
		{"truncated varint", plus(0x80), "truncated varint"},
		{"long varint", plus(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), "longer than 10 bytes"},
		{"length past end", plus(pb(nil).key(1, wireBytes).varint(1 << 40)...), "beyond the"},
		{"group wire type", plus(pb(nil).key(12, 3)...), "unsupported wire type 3"},
		{"field zero", plus(0x02), "field number 0"},
		{"piece as varint", plus(pb(nil).uint(1, 7)...), "field 1: wire type 0"},
		{"bad piece type", plus(pb(nil).bytes(1, piece("x", 0, 9))...), "unknown type 9"},
		{"truncated score", plus(pb(nil).bytes(1, pb(nil).key(spPieceScore, wireFixed32).varint(1))...), "truncated fixed32"},
		{"bad byte piece", plus(pb(nil).bytes(1, piece("<0xZZ>", 0, 6))...), "byte piece not of the form"},
		{"pad id -1", plus(pb(nil).bytes(spModelTrainer, pb(nil).uint(spTrainerPadID, math.MaxUint64))...), ""},
		{"no dummy prefix", plus(pb(nil).bytes(spModelNormalizer, pb(nil).uint(spNormAddDummyPrefix, 0))...), ""},
		{"json garbage", []byte("{\"model\": 3}"), "cannot unmarshal"},
	}
	for _, tc := range tests {
		v, err := ParseVocab(tc.data, tc.name)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && err == nil:
			t.Errorf("%s: no error, want %q", tc.name, tc.err)
		case tc.err != "" && !strings.Contains(err.Error(), tc.err):
			t.Errorf("%s: error %q, want it to contain %q", tc.name, err, tc.err)
		}
		if err != nil {
			continue
		}
		if len(v.Tokens) != 6 || v.Tokens[3] != "▁a" || v.Scores[4] != -2 || v.Types[0] != TypeUnknown || v.PAD != -1 {
			t.Errorf("%s: parsed %+v", tc.name, *v)
		}
		wantPrefix := tc.name != "no dummy prefix"
		if v.AddSpacePrefix != wantPrefix {
			t.Errorf("%s: AddSpacePrefix %v, want %v", tc.name, v.AddSpacePrefix, wantPrefix)
		}
		tk, err := New(v)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		// No byte pieces: an unknown character becomes <unk>.
		want := []int32{3, 0, 3} // "▁a" <unk> "▁a"
		if !wantPrefix {
			want = []int32{4, 0, 3} // "a" <unk> "▁a"
		}
		if got := tk.Encode("aé a", false)[:3]; !slices.Equal(got, want) {
			t.Errorf("%s: Encode(\"aé a\") starts %v, want %v", tc.name, got, want)
		}
	}
}
