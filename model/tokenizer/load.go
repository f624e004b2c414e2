package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// MaxVocabFileSize bounds the size of a tokenizer file LoadVocabFile reads.
const MaxVocabFileSize = 256 << 20

// LoadVocabFile reads a SentencePiece tokenizer.model (ModelProto protobuf,
// BPE) or a Hugging Face tokenizer.json; the content decides which, not the
// name. For tokenizer.json the scores are derived from the merge ranks (see
// ParseVocab).
func LoadVocabFile(path string) (*Vocab, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if st.Size() > MaxVocabFileSize {
		return nil, fmt.Errorf("tokenizer: %s: size %d exceeds the limit %d", path, st.Size(), MaxVocabFileSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxVocabFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	if len(data) > MaxVocabFileSize {
		return nil, fmt.Errorf("tokenizer: %s: larger than the limit %d", path, MaxVocabFileSize)
	}
	return ParseVocab(data, path)
}

// ParseVocab parses the content of a tokenizer.model or tokenizer.json; name
// appears in errors. A tokenizer.json (a JSON object) gives
// each piece minus the rank of the first merge that makes it as its score, so
// that score-driven merging applies merges in rank order.
func ParseVocab(data []byte, name string) (*Vocab, error) {
	// A ModelProto starts with field 1 (0x0A) and is never valid JSON.
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' && json.Valid(t) {
		return parseHFJSON(t, name)
	}
	return parseSentencePiece(data, name)
}
