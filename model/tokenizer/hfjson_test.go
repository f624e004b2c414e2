package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

func TestParseHFJSON(t *testing.T) {
	const vocab = `"vocab":{"<unk>":0,"<s>":1,"</s>":2,"▁":3,"a":4,"b":5,"▁a":6,"ab":7,"▁ab":8,"<0x41>":9}`
	const merges = `"merges":["▁ a","a b","▁a b","▁ ab"]`
	const added = `"added_tokens":[{"id":0,"content":"<unk>","special":true},{"id":1,"content":"<s>","special":true},{"id":2,"content":"</s>","special":true}]`
	model := func(extra string) string {
		return `{` + added + `,"model":{"type":"BPE","unk_token":"<unk>","byte_fallback":true,` + vocab + `,` + merges + extra + `}}`
	}
	tests := []struct {
		name   string
		json   string
		err    string
		prefix bool
		bos    bool
		eos    bool
	}{
		{"ok", model(""), "", true, true, false},
		{"wordpiece", strings.Replace(model(""), `"BPE"`, `"WordPiece"`, 1), `model.type "WordPiece" not supported`, false, false, false},
		{"empty", `{"model":{"vocab":{},"merges":[]}}`, "model.vocab is empty", false, false, false},
		{"id out of range", `{"model":{"vocab":{"a":5},"merges":[]}}`, "id 5 out of range", false, false, false},
		{"duplicate id", `{"model":{"vocab":{"a":0,"b":0},"merges":[]}}`, "id 0 used by", false, false, false},
		{"hole", `{"model":{"vocab":{"a":0,"b":2,"c":3},"merges":[]}}`, "id 3 out of range [0, 3)", false, false, false},
		{"huge added id", `{"added_tokens":[{"id":4000000,"content":"x","special":true}],"model":{"vocab":{"a":0}}}`, "id 4000000 out of range [0, 2)", false, false, false},
		{"added mismatch", `{"added_tokens":[{"id":0,"content":"x","special":true}],"model":{"vocab":{"a":0}}}`, `is "a" in model.vocab`, false, false, false},
		{"merge unknown part", `{"model":{"vocab":{"a":0,"ab":1},"merges":["a b"]}}`, `"b" not in the vocabulary`, false, false, false},
		{"merge unknown result", `{"model":{"vocab":{"a":0,"b":1},"merges":["a b"]}}`, `result "ab" not in`, false, false, false},
		{"merge three parts", `{"model":{"vocab":{"a":0,"b":1,"ab":2},"merges":["a b c"]}}`, "not two pieces", false, false, false},
		{"merge bad array", `{"model":{"vocab":{"a":0,"b":1,"ab":2},"merges":[["a"]]}}`, "neither", false, false, false},
		{"unk missing", `{"model":{"unk_token":"<unk>","vocab":{"a":0}}}`, `unk_token "<unk>" not in`, false, false, false},
		{"metaspace never", strings.Replace(model(""), `{`+added, `{"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"never"},`+added, 1), "", false, true, false},
		{"metaspace first", strings.Replace(model(""), `{`+added, `{"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"first"},`+added, 1), "", true, true, false},
		{"template bos+eos", strings.Replace(model(""), `{`+added, `{"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}]},`+added, 1), "", true, true, true},
		{"template none", strings.Replace(model(""), `{`+added, `{"post_processor":{"type":"TemplateProcessing","single":[{"Sequence":{"id":"A","type_id":0}}]},`+added, 1), "", true, false, false},
	}
	for _, tc := range tests {
		v, err := ParseVocab([]byte(tc.json), tc.name)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
			continue
		case tc.err != "" && err == nil:
			t.Errorf("%s: no error, want %q", tc.name, tc.err)
			continue
		case tc.err != "":
			if !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %q, want it to contain %q", tc.name, err, tc.err)
			}
			continue
		}
		if v.AddSpacePrefix != tc.prefix || v.AddBOS != tc.bos || v.AddEOS != tc.eos {
			t.Errorf("%s: prefix/bos/eos = %v/%v/%v, want %v/%v/%v", tc.name, v.AddSpacePrefix, v.AddBOS, v.AddEOS, tc.prefix, tc.bos, tc.eos)
		}
		wantTypes := []int32{TypeUnknown, TypeControl, TypeControl, 1, 1, 1, 1, 1, 1, TypeByte}
		if !slices.Equal(v.Types, wantTypes) {
			t.Errorf("%s: types %v, want %v", tc.name, v.Types, wantTypes)
		}
		// ranks: ▁a 0, ab 1, ▁ab 2 (first of two merges); others below all.
		if v.Scores[6] != 0 || v.Scores[7] != -1 || v.Scores[8] != -2 || v.Scores[4] >= -3 {
			t.Errorf("%s: scores %v", tc.name, v.Scores)
		}
	}
}

// TestMergeOrder checks that score-driven merging follows merge rank on a
// vocabulary where the order decides the result: "abc" with merges "b c"
// before "a b" must give a + bc, not ab + c.
func TestMergeOrder(t *testing.T) {
	for _, tc := range []struct {
		merges string
		want   []string
	}{
		{`["b c","a b"]`, []string{"a", "bc"}},
		{`["a b","b c"]`, []string{"ab", "c"}},
	} {
		v, err := ParseVocab([]byte(`{"normalizer":{"type":"Sequence","normalizers":[]},"model":{"vocab":{"a":0,"b":1,"c":2,"ab":3,"bc":4},"merges":`+tc.merges+`}}`), "order")
		if err != nil {
			t.Fatal(err)
		}
		tk, err := New(v)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, id := range tk.Encode("abc", false) {
			got = append(got, tk.Piece(id))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("merges %s: %v, want %v", tc.merges, got, tc.want)
		}
	}
}
