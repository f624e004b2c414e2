package model

import (
	"fmt"
)

// PromptBatch builds the reference's input sequence for one conversation:
// [BOS] + the image rows (when image is not nil: the output of
// EncodeImage) + textIDs, the ids of the templated prompt encoded without
// special tokens.
func (m *Model) PromptBatch(textIDs []int32, image []float32) Batch {
	nImg := 0
	if image != nil && m.Text.Hidden > 0 {
		nImg = len(image) / m.Text.Hidden
	}
	n := 1 + nImg + len(textIDs)
	b := Batch{Tokens: make([]int32, n), Types: make([]TokenType, n), Embeds: image}
	b.Tokens[0] = m.Text.BOS
	pad := m.Text.PAD
	if pad < 0 {
		pad = 0
	}
	for i := 1; i <= nImg; i++ {
		b.Tokens[i] = pad
		b.Types[i] = Vision
	}
	copy(b.Tokens[1+nImg:], textIDs)
	return b
}

// Sampler picks the next token from a row of logits; history holds the
// tokens of the sequence so far (for repetition penalties).
type Sampler interface {
	Sample(logits []float32, history []int32) int32
}

// GenerateOptions configures Generate.
type GenerateOptions struct {
	MaxTokens int     // stop after this many tokens (> 0)
	Sampler   Sampler // chooses each token
	// StopAtEOS ends generation at the model's stop tokens (EOS, and EOT
	// when the model has one), which are returned but not fed back.
	StopAtEOS bool
	// History is the token history the sampler sees first (e.g. the text
	// prompt ids); generated tokens are appended.
	History []int32
	// OnToken, when not nil, is called with each token as it is chosen;
	// an error stops generation and is returned.
	OnToken func(id int32) error
}

// Generate continues the sequence in c from logits, the last row of the
// previous Forward (Vocab floats; it is used as scratch). Each chosen
// token is fed back as a Lang slot at position last+1.
func (c *Context) Generate(logits []float32, o GenerateOptions) ([]int32, error) {
	if len(logits) != c.m.Text.Vocab {
		return nil, fmt.Errorf("model: logits row of %d floats, want %d", len(logits), c.m.Text.Vocab)
	}
	if o.Sampler == nil || o.MaxTokens <= 0 {
		return nil, fmt.Errorf("model: generate needs a sampler and MaxTokens > 0")
	}
	hist := append([]int32(nil), o.History...)
	var out []int32
	tok := []int32{0}
	for len(out) < o.MaxTokens {
		id := o.Sampler.Sample(logits, hist)
		out = append(out, id)
		hist = append(hist, id)
		if o.OnToken != nil {
			if err := o.OnToken(id); err != nil {
				return out, err
			}
		}
		if (o.StopAtEOS && c.m.Text.IsStop(id)) || len(out) == o.MaxTokens {
			break
		}
		tok[0] = id
		if err := c.Forward(Batch{Tokens: tok}, Output{Logits: logits}); err != nil {
			return out, err
		}
	}
	return out, nil
}
