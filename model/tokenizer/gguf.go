package tokenizer

import (
	"fmt"
	"slices"

	"github.com/cogedge/cogedge/gguf"
)

// ggufSource is the part of *gguf.File VocabFromGGUF reads.
type ggufSource interface {
	Value(key string) (gguf.Value, bool)
	String(key string) (string, bool)
	Strings(key string) ([]string, bool)
	Float32s(key string) ([]float32, bool)
	Int32s(key string) ([]int32, bool)
	Uint(key string) (uint64, bool)
	Bool(key string) (bool, bool)
}

// VocabFromGGUF reads the tokenizer.ggml.* keys of a GGUF file. Absent keys
// take llama.cpp's defaults for SentencePiece models: scores 0, all pieces
// normal, BOS 1, EOS 2, UNK 0, no padding, add_bos_token true,
// add_eos_token false, add_space_prefix true. A key present with the wrong
// type is an error.
func VocabFromGGUF(f *gguf.File) (*Vocab, error) {
	name := f.Path()
	if name == "" {
		name = "gguf"
	}
	return vocabFromSource(f, name)
}

func vocabFromSource(f ggufSource, name string) (*Vocab, error) {
	errf := func(key, format string, args ...any) error {
		return fmt.Errorf("tokenizer: %s: %s: %s", name, key, fmt.Sprintf(format, args...))
	}
	present := func(key string) bool { _, ok := f.Value(key); return ok }

	const kModel = "tokenizer.ggml.model"
	model, ok := f.String(kModel)
	if !ok {
		if present(kModel) {
			return nil, errf(kModel, "not a string")
		}
		return nil, errf(kModel, "missing")
	}
	if model != ModelLlama && model != ModelGPT2 {
		return nil, errf(kModel, "%q not supported (want \"llama\" or \"gpt2\")", model)
	}
	const kTokens = "tokenizer.ggml.tokens"
	tokens, ok := f.Strings(kTokens)
	if !ok {
		if present(kTokens) {
			return nil, errf(kTokens, "not an array of strings")
		}
		return nil, errf(kTokens, "missing")
	}
	n := len(tokens)
	if n == 0 || n > MaxVocab {
		return nil, errf(kTokens, "%d pieces, want 1..%d", n, MaxVocab)
	}
	v := &Vocab{Model: model, Tokens: slices.Clone(tokens), BOS: 1, EOS: 2, UNK: 0, PAD: -1,
		AddBOS: true, AddSpacePrefix: true}
	if model == ModelGPT2 {
		// A byte-level vocabulary has no defaults for its special ids and
		// no dummy prefix.
		v.BOS, v.EOS, v.UNK, v.AddSpacePrefix = -1, -1, -1, false
		const kPre, kMerges = "tokenizer.ggml.pre", "tokenizer.ggml.merges"
		pre, ok := f.String(kPre)
		if !ok {
			return nil, errf(kPre, "missing or not a string (a gpt2 vocabulary needs its pre-tokenizer)")
		}
		if pre != PreLlama3 {
			return nil, errf(kPre, "%q not supported (want %q)", pre, PreLlama3)
		}
		v.Pre = pre
		merges, ok := f.Strings(kMerges)
		if !ok || len(merges) == 0 {
			return nil, errf(kMerges, "missing, empty or not an array of strings")
		}
		v.Merges = slices.Clone(merges)
	}

	const kScores = "tokenizer.ggml.scores"
	if model == ModelGPT2 {
		// llama.cpp writes no scores for gpt2 vocabularies; ignore any.
	} else if s, ok := f.Float32s(kScores); ok {
		if len(s) != n {
			return nil, errf(kScores, "%d scores for %d tokens", len(s), n)
		}
		v.Scores = slices.Clone(s)
	} else if present(kScores) {
		return nil, errf(kScores, "not an array of float32")
	} else {
		v.Scores = make([]float32, n)
	}
	const kTypes = "tokenizer.ggml.token_type"
	if t, ok := f.Int32s(kTypes); ok {
		if len(t) != n {
			return nil, errf(kTypes, "%d types for %d tokens", len(t), n)
		}
		v.Types = slices.Clone(t)
	} else if present(kTypes) {
		return nil, errf(kTypes, "not an array of int32")
	} else {
		v.Types = make([]int32, n)
		for i := range v.Types {
			v.Types[i] = TypeNormal
		}
	}
	for _, s := range []struct {
		key string
		dst *int32
	}{
		{"tokenizer.ggml.bos_token_id", &v.BOS},
		{"tokenizer.ggml.eos_token_id", &v.EOS},
		{"tokenizer.ggml.unknown_token_id", &v.UNK},
		{"tokenizer.ggml.padding_token_id", &v.PAD},
	} {
		if id, ok := f.Uint(s.key); ok {
			if id >= uint64(n) {
				return nil, errf(s.key, "id %d out of range [0, %d)", id, n)
			}
			*s.dst = int32(id)
		} else if present(s.key) {
			// llama.cpp writes -1 (as an int32) for "none" in some files.
			if val, _ := f.Value(s.key); isMinusOne(val) {
				*s.dst = -1
				continue
			}
			return nil, errf(s.key, "not a non-negative integer")
		}
	}
	for _, s := range []struct {
		key string
		dst *bool
	}{
		{"tokenizer.ggml.add_bos_token", &v.AddBOS},
		{"tokenizer.ggml.add_eos_token", &v.AddEOS},
		{"tokenizer.ggml.add_space_prefix", &v.AddSpacePrefix},
	} {
		if b, ok := f.Bool(s.key); ok {
			*s.dst = b
		} else if present(s.key) {
			return nil, errf(s.key, "not a bool")
		}
	}
	// Ids beyond a short vocabulary fall back to "absent".
	for _, id := range []*int32{&v.BOS, &v.EOS, &v.UNK} {
		if *id >= int32(n) {
			*id = -1
		}
	}
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

func isMinusOne(v gguf.Value) bool {
	i, ok := v.Int()
	return ok && i == -1
}
