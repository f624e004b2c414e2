package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// hfFile is the part of a Hugging Face tokenizer.json this package reads.
type hfFile struct {
	AddedTokens []struct {
		ID      int64  `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Model         struct {
		Type         string            `json:"type"`
		UnkToken     *string           `json:"unk_token"`
		ByteFallback bool              `json:"byte_fallback"`
		Vocab        map[string]int64  `json:"vocab"`
		Merges       []json.RawMessage `json:"merges"`
	} `json:"model"`
}

// parseHFJSON builds a Vocab from a Hugging Face tokenizer.json holding a
// SentencePiece-style BPE model (LLaMA: "▁" for spaces, byte fallback).
//
// tokenizer.json has merge ranks, not scores. The score of a piece is minus
// the rank of the first merge that makes it, and pieces no merge makes score
// below every merge. Score-driven merging (merge the adjacent pair whose
// concatenation has the highest score, leftmost first) then applies merges in
// rank order, which reproduces the BPE result when, as in tokenizers
// converted from SentencePiece, every split of a piece into two pieces is a
// merge; the tests check this on the LLaMA vocabulary.
func parseHFJSON(data []byte, name string) (*Vocab, error) {
	var f hfFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
	if f.Model.Type != "" && f.Model.Type != "BPE" {
		return nil, fmt.Errorf("tokenizer: %s: model.type %q not supported (want BPE)", name, f.Model.Type)
	}
	// Every id below n must name a piece, so n is at most the number of
	// entries: ids beyond that are reported before anything is allocated.
	limit := int64(len(f.Model.Vocab)) + int64(len(f.AddedTokens))
	n := int64(len(f.Model.Vocab))
	for _, a := range f.AddedTokens {
		if a.ID < 0 || a.ID >= limit {
			return nil, fmt.Errorf("tokenizer: %s: added_tokens %q: id %d out of range [0, %d)", name, a.Content, a.ID, limit)
		}
		n = max(n, a.ID+1)
	}
	if n == 0 {
		return nil, fmt.Errorf("tokenizer: %s: model.vocab is empty", name)
	}
	if n > MaxVocab {
		return nil, fmt.Errorf("tokenizer: %s: %d pieces exceed the limit %d", name, n, MaxVocab)
	}
	byteLevel, err := hfByteLevel(f.PreTokenizer)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: pre_tokenizer: %w", name, err)
	}
	tokens := make([]string, n)
	set := make([]bool, n)
	for p, id := range f.Model.Vocab {
		if id < 0 || id >= n {
			return nil, fmt.Errorf("tokenizer: %s: model.vocab %q: id %d out of range [0, %d)", name, p, id, n)
		}
		if set[id] {
			return nil, fmt.Errorf("tokenizer: %s: model.vocab: id %d used by %q and %q", name, id, tokens[id], p)
		}
		tokens[id], set[id] = p, true
	}
	types := make([]int32, n)
	for i := range types {
		types[i] = TypeNormal
	}
	for _, a := range f.AddedTokens {
		if set[a.ID] && tokens[a.ID] != a.Content {
			return nil, fmt.Errorf("tokenizer: %s: added_tokens %q: id %d is %q in model.vocab", name, a.Content, a.ID, tokens[a.ID])
		}
		tokens[a.ID], set[a.ID] = a.Content, true
		if a.Special {
			types[a.ID] = TypeControl
		} else {
			types[a.ID] = TypeUserDefined
		}
	}
	for id, ok := range set {
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s: no piece has id %d", name, id)
		}
	}
	index := make(map[string]int32, n)
	for id, p := range tokens {
		if _, dup := index[p]; !dup {
			index[p] = int32(id)
		}
	}

	if byteLevel {
		return hfByteLevelVocab(&f, tokens, types, index, name)
	}
	v := &Vocab{Model: "llama", Tokens: tokens, Types: types, BOS: -1, EOS: -1, UNK: -1, PAD: -1}
	if f.Model.UnkToken != nil {
		id, ok := index[*f.Model.UnkToken]
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s: model.unk_token %q not in the vocabulary", name, *f.Model.UnkToken)
		}
		v.UNK = id
		types[id] = TypeUnknown
	}
	if f.Model.ByteFallback {
		for id, p := range tokens {
			if _, ok := parseBytePiece(p); ok && types[id] == TypeNormal {
				types[id] = TypeByte
			}
		}
	}

	// Scores from merge ranks.
	nm := len(f.Model.Merges)
	if nm > 4*MaxVocab {
		return nil, fmt.Errorf("tokenizer: %s: %d merges exceed the limit %d", name, nm, 4*MaxVocab)
	}
	const unset = float32(math.MaxFloat32)
	scores := make([]float32, n)
	for i := range scores {
		scores[i] = unset
	}
	for r, raw := range f.Model.Merges {
		a, b, err := parseMerge(raw)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %s: model.merges[%d]: %w", name, r, err)
		}
		for _, part := range []string{a, b} {
			if _, ok := index[part]; !ok {
				return nil, fmt.Errorf("tokenizer: %s: model.merges[%d]: %q not in the vocabulary", name, r, part)
			}
		}
		id, ok := index[a+b]
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s: model.merges[%d]: result %q not in the vocabulary", name, r, a+b)
		}
		if scores[id] == unset {
			scores[id] = -float32(r)
		}
	}
	for id := range scores {
		if scores[id] == unset {
			if types[id] == TypeNormal {
				scores[id] = -float32(nm) - float32(id) - 1
			} else {
				scores[id] = 0
			}
		}
	}
	v.Scores = scores

	if id, ok := index["<s>"]; ok {
		v.BOS = id
	}
	if id, ok := index["</s>"]; ok {
		v.EOS = id
	}
	if id, ok := index["<pad>"]; ok {
		v.PAD = id
	}
	v.AddSpacePrefix = hfAddsPrefix(f.Normalizer, f.PreTokenizer)
	v.AddBOS, v.AddEOS = true, false
	if len(f.PostProcessor) > 0 && !bytes.Equal(bytes.TrimSpace(f.PostProcessor), []byte("null")) {
		single := hfTemplateSingle(f.PostProcessor)
		v.AddBOS = v.BOS >= 0 && strings.Contains(single, `"`+tokens[v.BOS]+`"`)
		v.AddEOS = v.EOS >= 0 && strings.Contains(single, `"`+tokens[v.EOS]+`"`)
	}
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

// parseMerge reads one merge: "a b" or ["a", "b"].
func parseMerge(raw json.RawMessage) (string, string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		a, b, ok := strings.Cut(s, " ")
		if !ok || strings.Contains(b, " ") || a == "" || b == "" {
			return "", "", fmt.Errorf("%q is not two pieces separated by one space", s)
		}
		return a, b, nil
	}
	var pair []string
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 || pair[0] == "" || pair[1] == "" {
		return "", "", fmt.Errorf("%.40s is neither \"a b\" nor [\"a\", \"b\"]", raw)
	}
	return pair[0], pair[1], nil
}

// hfAddsPrefix tells whether the normalizer or the pre-tokenizer prepends
// "▁" (a Prepend normalizer, or Metaspace with add_prefix_space or a
// prepend_scheme other than "never"). With neither present, LLaMA's default
// (true) applies.
func hfAddsPrefix(normalizer, preTokenizer json.RawMessage) bool {
	isNull := func(r json.RawMessage) bool {
		r = bytes.TrimSpace(r)
		return len(r) == 0 || bytes.Equal(r, []byte("null"))
	}
	if isNull(normalizer) && isNull(preTokenizer) {
		return true
	}
	found := false
	var walk func(x any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			switch x["type"] {
			case "Prepend":
				if x["prepend"] == spaceMark {
					found = true
				}
			case "Metaspace":
				if b, ok := x["add_prefix_space"].(bool); ok && b {
					found = true
				}
				if s, ok := x["prepend_scheme"].(string); ok && s != "never" {
					found = true
				}
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	for _, r := range []json.RawMessage{normalizer, preTokenizer} {
		var x any
		if json.Unmarshal(r, &x) == nil {
			walk(x)
		}
	}
	return found
}

// hfTemplateSingle returns the JSON of a TemplateProcessing post-processor's
// "single" template ("" for other post-processors).
func hfTemplateSingle(pp json.RawMessage) string {
	var x struct {
		Type       string          `json:"type"`
		Single     json.RawMessage `json:"single"`
		Processors []struct {
			Type   string          `json:"type"`
			Single json.RawMessage `json:"single"`
		} `json:"processors"`
	}
	if json.Unmarshal(pp, &x) != nil {
		return ""
	}
	if x.Type == "TemplateProcessing" {
		return string(x.Single)
	}
	for _, p := range x.Processors {
		if p.Type == "TemplateProcessing" {
			return string(p.Single)
		}
	}
	return ""
}

// hfByteLevel tells whether a tokenizer.json pre-tokenizer is byte-level
// (holds a ByteLevel step); a byte-level one must be Llama-3's: its Split
// pattern, then ByteLevel without the prefix space and without its own
// regex.
func hfByteLevel(pre json.RawMessage) (bool, error) {
	if !bytes.Contains(pre, []byte(`"ByteLevel"`)) {
		return false, nil
	}
	var seq struct {
		Type          string `json:"type"`
		Pretokenizers []struct {
			Type    string `json:"type"`
			Pattern struct {
				Regex string `json:"Regex"`
			} `json:"pattern"`
			Behavior       string `json:"behavior"`
			Invert         bool   `json:"invert"`
			AddPrefixSpace bool   `json:"add_prefix_space"`
			UseRegex       bool   `json:"use_regex"`
		} `json:"pretokenizers"`
	}
	if err := json.Unmarshal(pre, &seq); err != nil {
		return false, err
	}
	p := seq.Pretokenizers
	if seq.Type != "Sequence" || len(p) != 2 || p[0].Type != "Split" || p[0].Pattern.Regex != llama3Pattern ||
		p[0].Behavior != "Isolated" || p[0].Invert || p[1].Type != "ByteLevel" || p[1].AddPrefixSpace || p[1].UseRegex {
		return false, fmt.Errorf("byte-level pre-tokenizer other than Llama-3's (Split with its pattern, then ByteLevel) not supported")
	}
	return true, nil
}

// hfByteLevelVocab finishes a byte-level (gpt2, PreLlama3) Vocab from a
// tokenizer.json: merges in rank order, BOS <|begin_of_text|> and EOS
// <|end_of_text|> when present.
func hfByteLevelVocab(f *hfFile, tokens []string, types []int32, index map[string]int32, name string) (*Vocab, error) {
	nm := len(f.Model.Merges)
	if nm > 4*MaxVocab {
		return nil, fmt.Errorf("tokenizer: %s: %d merges exceed the limit %d", name, nm, 4*MaxVocab)
	}
	merges := make([]string, nm)
	for r, raw := range f.Model.Merges {
		a, b, err := parseMerge(raw)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %s: model.merges[%d]: %w", name, r, err)
		}
		merges[r] = a + " " + b
	}
	v := &Vocab{Model: ModelGPT2, Pre: PreLlama3, Tokens: tokens, Types: types, Merges: merges,
		BOS: -1, EOS: -1, UNK: -1, PAD: -1, AddBOS: true}
	if id, ok := index["<|begin_of_text|>"]; ok {
		v.BOS = id
	}
	if id, ok := index["<|end_of_text|>"]; ok {
		v.EOS = id
	}
	// Llama-3 models prepend BOS; a template post-processor may say
	// otherwise (the npm copy of tokenizer.json has none).
	if single := hfTemplateSingle(f.PostProcessor); single != "" {
		v.AddBOS = v.BOS >= 0 && strings.Contains(single, `"`+tokens[v.BOS]+`"`)
	}
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if _, err := newByteLevel(v); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}
