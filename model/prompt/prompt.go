// Package prompt builds CogVLM prompt text from a question and the earlier
// turns of a conversation, exactly as the reference's
// _history_to_prompt does (cogvlm.md §4.2). The text is then tokenized
// without special tokens; BOS and the image rows are added by the model.
package prompt

import (
	"fmt"
	"strings"
)

// Templates.
const (
	Chat = "chat" // "Question: {q} Answer: {a}\n…Question: {query} Answer:"
	VQA  = "vqa"  // as Chat with "Short answer:"
	Base = "base" // the query alone (history ignored)
)

// Turn is one earlier question and its answer.
type Turn struct {
	Question, Answer string
}

// Build returns the prompt text of template for history and query.
func Build(template string, history []Turn, query string) (string, error) {
	var tag string
	switch template {
	case Base:
		return query, nil
	case Chat:
		tag = "Answer:"
	case VQA:
		tag = "Short answer:"
	default:
		return "", fmt.Errorf("prompt: unknown template %q (want chat, vqa or base)", template)
	}
	var b strings.Builder
	for _, t := range history {
		b.WriteString("Question: " + t.Question + " " + tag + " " + t.Answer + "\n")
	}
	b.WriteString("Question: " + query + " " + tag)
	return b.String(), nil
}
