package tokenizer

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// replaceInvalid replaces every byte that is not part of a valid UTF-8
// sequence by U+FFFD, as StreamDecoder does.
func replaceInvalid(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			sb.WriteString("\uFFFD")
		} else {
			sb.WriteString(s[i : i+n])
		}
		i += n
	}
	return sb.String()
}

// FuzzEncodeDecode checks, for any bytes, that encoding never panics and gives
// ids in range, that cutting the text into segments changes nothing, that Decode inverts Encode (with "▁" in the input coming back
// as a space, since it is the space marker), and that streaming gives Decode's
// text with invalid bytes replaced.
func FuzzEncodeDecode(f *testing.F) {
	for _, s := range []string{"", " ", "Hello world", "🦙 日本語", "\r\n\t", "<s></s><unk>", "\xff\xe6a", "▁x", "[[123,456,789,012]]"} {
		f.Add(s)
	}
	tk := llamaTokenizer(f)
	n := int32(tk.VocabSize())
	// whole is the same tokenizer merging the text as one segment.
	whole := *tk
	whole.noCut = true
	f.Fuzz(func(t *testing.T, s string) {
		ids := tk.Encode(s, false)
		if w := whole.Encode(s, false); !slices.Equal(ids, w) {
			t.Fatalf("Encode(%q): cut into segments %v, whole %v", s, ids, w)
		}
		for _, id := range ids {
			if id < 0 || id >= n {
				t.Fatalf("Encode(%q): id %d out of range", s, id)
			}
		}
		want := strings.ReplaceAll(s, spaceMark, " ")
		dec := tk.Decode(ids)
		if dec != want {
			t.Fatalf("Decode(Encode(%q)) = %q (ids %v)", s, dec, ids)
		}
		d := tk.NewStreamDecoder()
		var sb strings.Builder
		for _, id := range ids {
			sb.WriteString(d.Add(id))
		}
		sb.WriteString(d.Flush())
		if got := sb.String(); got != replaceInvalid(dec) || !utf8.ValidString(got) {
			t.Fatalf("stream %q, want %q", got, replaceInvalid(dec))
		}
		for _, id := range tk.EncodeWith(s, EncodeOptions{AddBOS: true, AddEOS: true, ParseSpecial: true}) {
			if id < 0 || id >= n {
				t.Fatalf("EncodeWith(%q, ParseSpecial): id %d out of range", s, id)
			}
		}
	})
}

// FuzzParseVocab feeds arbitrary bytes to the tokenizer.model and
// tokenizer.json parsers: errors are fine, panics and runaway allocations
// are not, and whatever parses must build a working Tokenizer.
func FuzzParseVocab(f *testing.F) {
	f.Add([]byte(`{"added_tokens":[{"id":0,"content":"<unk>","special":true}],"model":{"type":"BPE","unk_token":"<unk>","byte_fallback":true,"vocab":{"<unk>":0,"▁":1,"a":2,"▁a":3,"<0x41>":4},"merges":["▁ a"]}}`))
	f.Add([]byte(`{"model":{"vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]},"added_tokens":[{"id":3,"content":"<s>","special":true}]}`))
	bpe := pb(nil).uint(spTrainerModelType, spModelTypeBPE)
	f.Add([]byte(pb(nil).bytes(1, piece("<unk>", 0, 2)).bytes(1, piece("▁a", -1, 1)).bytes(1, piece("a", -2, 1)).bytes(spModelTrainer, bpe)))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseVocab(data, "fuzz")
		if err != nil {
			return
		}
		tk, err := New(v)
		if err != nil {
			t.Fatalf("ParseVocab accepted a vocabulary New rejects: %v", err)
		}
		for _, id := range tk.EncodeWith("a ab <s> é", EncodeOptions{AddBOS: true, ParseSpecial: true}) {
			if id < 0 || int(id) >= tk.VocabSize() {
				t.Fatalf("id %d out of range", id)
			}
		}
	})
}
