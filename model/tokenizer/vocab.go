// Package tokenizer implements the LLaMA SentencePiece BPE tokenizer the way
// llama.cpp's "llama" (SPM) tokenizer does it: score-driven bigram merges over
// UTF-8 characters, byte fallback to <0xNN> pieces, a dummy "▁" prefix and
// spaces written as "▁". It also implements Llama-3's byte-level BPE
// (llama.cpp's "gpt2" model with pre-tokenizer "llama-bpe"): the Llama-3
// split pattern, written by hand (Go's regexp has no lookahead), then merges
// by rank over the bytes written as printable characters. Text that is not
// valid UTF-8 has each maximal invalid subpart replaced by U+FFFD first, as
// the Python and JavaScript decoders in front of the reference tokenizers do.
//
// A Vocab comes from a GGUF file (VocabFromGGUF), a SentencePiece
// tokenizer.model or a Hugging Face tokenizer.json (LoadVocabFile). New builds
// a Tokenizer from it.
//
// Special tokens in text: by default Encode treats text as plain text, so a
// literal "</s>" in user input is tokenized as the characters '<', '/', 's',
// '>' and can never inject an end-of-sequence (this is what SentencePiece and
// llama-tokenizer-js do). EncodeWith with ParseSpecial set recognises the
// control pieces ("<s>", "</s>", "<unk>") in the text and emits their ids, as
// llama-cli and Hugging Face tokenizers do; use it only for trusted templates.
// User-defined pieces (GGUF token type 4) are always matched atomically, as in
// SentencePiece and llama.cpp.
package tokenizer

import (
	"errors"
	"fmt"
)

// GGUF token types (tokenizer.ggml.token_type), equal to SentencePiece's
// ModelProto.SentencePiece.Type values.
const (
	TypeNormal      int32 = 1
	TypeUnknown     int32 = 2
	TypeControl     int32 = 3
	TypeUserDefined int32 = 4
	TypeUnused      int32 = 5
	TypeByte        int32 = 6
)

// MaxVocab bounds the number of pieces accepted from any source, so hostile
// files cannot make the loaders allocate without limit.
const MaxVocab = 1 << 22

// Vocab is a vocabulary: pieces with scores or merges, types and the special
// ids. It is the data GGUF files carry under tokenizer.ggml.*. Two models
// exist, named as llama.cpp names them: "llama" (SentencePiece BPE: scores,
// "▁" for a space, byte fallback) and "gpt2" (byte-level BPE: merges by
// rank, every byte written as a printable character; Pre names the
// pre-tokenizer, only PreLlama3 is supported).
type Vocab struct {
	Model                          string    // "llama" or "gpt2"
	Pre                            string    // gpt2: the pre-tokenizer (PreLlama3)
	Tokens                         []string  // pieces: "▁" for a space and "<0xNN>" byte pieces (llama), byte-level text (gpt2)
	Scores                         []float32 // llama: merge priority of each piece, higher merges first; gpt2: nil or ignored
	Merges                         []string  // gpt2: "left right" piece pairs, rank order
	Types                          []int32   // GGUF token_type: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
	BOS, EOS, UNK, PAD             int32     // -1 when absent
	AddBOS, AddEOS, AddSpacePrefix bool      // the model's defaults
}

// Model names of Vocab.Model.
const (
	ModelLlama = "llama" // SentencePiece BPE
	ModelGPT2  = "gpt2"  // byte-level BPE
)

// KeyValue is one GGUF metadata entry; Value is of a type gguf.Writer.SetKV
// accepts.
type KeyValue struct {
	Key   string
	Value any
}

// Validate checks that the slices agree in length, the types are known and
// the special ids are in range.
func (v *Vocab) Validate() error {
	if v == nil {
		return errors.New("tokenizer: nil vocabulary")
	}
	switch v.Model {
	case ModelLlama:
	case ModelGPT2:
		if v.Pre != PreLlama3 {
			return fmt.Errorf("tokenizer: gpt2 pre-tokenizer %q not supported (want %q)", v.Pre, PreLlama3)
		}
		if len(v.Merges) == 0 {
			return errors.New("tokenizer: gpt2 vocabulary without merges")
		}
		if len(v.Merges) > 4*MaxVocab {
			return fmt.Errorf("tokenizer: %d merges exceed the limit %d", len(v.Merges), 4*MaxVocab)
		}
	default:
		return fmt.Errorf("tokenizer: model %q not supported (want \"llama\" or \"gpt2\")", v.Model)
	}
	n := len(v.Tokens)
	if n == 0 {
		return errors.New("tokenizer: empty vocabulary")
	}
	if n > MaxVocab {
		return fmt.Errorf("tokenizer: %d pieces exceed the limit %d", n, MaxVocab)
	}
	if len(v.Scores) != n && (v.Model == ModelLlama || v.Scores != nil) {
		return fmt.Errorf("tokenizer: %d scores for %d pieces", len(v.Scores), n)
	}
	if len(v.Types) != n {
		return fmt.Errorf("tokenizer: %d token types for %d pieces", len(v.Types), n)
	}
	for i, t := range v.Types {
		if t < TypeNormal || t > TypeByte {
			return fmt.Errorf("tokenizer: piece %d %q: unknown token type %d", i, v.Tokens[i], t)
		}
		if t == TypeByte {
			if _, ok := parseBytePiece(v.Tokens[i]); !ok {
				return fmt.Errorf("tokenizer: piece %d %q: byte piece not of the form <0xNN>", i, v.Tokens[i])
			}
		}
	}
	for _, s := range []struct {
		name string
		id   int32
	}{{"bos", v.BOS}, {"eos", v.EOS}, {"unk", v.UNK}, {"pad", v.PAD}} {
		if s.id < -1 || s.id >= int32(n) {
			return fmt.Errorf("tokenizer: %s id %d out of range [-1, %d)", s.name, s.id, n)
		}
	}
	return nil
}

// GGUFKeys returns the tokenizer.ggml.* metadata describing v, in the order
// llama.cpp's converter writes them (a gpt2 vocabulary: pre, tokens,
// token_type, merges, no scores). Absent special ids (-1) are omitted.
func (v *Vocab) GGUFKeys() []KeyValue {
	kv := []KeyValue{{"tokenizer.ggml.model", v.Model}}
	if v.Model == ModelGPT2 {
		kv = append(kv,
			KeyValue{"tokenizer.ggml.pre", v.Pre},
			KeyValue{"tokenizer.ggml.tokens", append([]string(nil), v.Tokens...)},
			KeyValue{"tokenizer.ggml.token_type", append([]int32(nil), v.Types...)},
			KeyValue{"tokenizer.ggml.merges", append([]string(nil), v.Merges...)})
	} else {
		kv = append(kv,
			KeyValue{"tokenizer.ggml.tokens", append([]string(nil), v.Tokens...)},
			KeyValue{"tokenizer.ggml.scores", append([]float32(nil), v.Scores...)},
			KeyValue{"tokenizer.ggml.token_type", append([]int32(nil), v.Types...)})
	}
	for _, s := range []struct {
		key string
		id  int32
	}{
		{"tokenizer.ggml.bos_token_id", v.BOS},
		{"tokenizer.ggml.eos_token_id", v.EOS},
		{"tokenizer.ggml.unknown_token_id", v.UNK},
		{"tokenizer.ggml.padding_token_id", v.PAD},
	} {
		if s.id >= 0 {
			kv = append(kv, KeyValue{s.key, uint32(s.id)})
		}
	}
	return append(kv,
		KeyValue{"tokenizer.ggml.add_bos_token", v.AddBOS},
		KeyValue{"tokenizer.ggml.add_eos_token", v.AddEOS},
		KeyValue{"tokenizer.ggml.add_space_prefix", v.AddSpacePrefix},
	)
}

// parseBytePiece reports the byte of a "<0xNN>" piece (hex digits in either
// case).
func parseBytePiece(s string) (byte, bool) {
	if len(s) != 6 || s[0] != '<' || s[1] != '0' || s[2] != 'x' || s[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexVal(s[3])
	lo, ok2 := hexVal(s[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
