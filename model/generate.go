package model

import (
	"fmt"
	"time"
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
	return generate(c.m, c.Forward, logits, o)
}

// Generate is Context.Generate on the device.
func (d *DeviceContext) Generate(logits []float32, o GenerateOptions) ([]int32, error) {
	return generate(d.m, d.Forward, logits, o)
}

// generate is Generate over a backend's forward call.
func generate(m *Model, forward func(Batch, Output) error, logits []float32, o GenerateOptions) ([]int32, error) {
	if len(logits) != m.Text.Vocab {
		return nil, fmt.Errorf("model: logits row of %d floats, want %d", len(logits), m.Text.Vocab)
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
		if (o.StopAtEOS && m.Text.IsStop(id)) || len(out) == o.MaxTokens {
			break
		}
		tok[0] = id
		if err := forward(Batch{Tokens: tok}, Output{Logits: logits}); err != nil {
			return out, err
		}
	}
	return out, nil
}

// Sequence is one conversation on a backend: a KV cache and the calls
// that fill and read it. *Context (the CPU) and *DeviceContext (Metal)
// implement it; run, chat and serve drive either through it.
type Sequence interface {
	// Model returns the model the sequence runs.
	Model() *Model
	// Forward appends the slots of b to the cache (Context.Forward).
	Forward(b Batch, out Output) error
	// Generate samples and feeds back tokens (Context.Generate).
	Generate(logits []float32, o GenerateOptions) ([]int32, error)
	// EncodeImage computes an image's rows for Batch.Embeds.
	EncodeImage(dst, pixels []float32) error
	// ReleaseVision frees the vision tower's scratch until the next image.
	ReleaseVision()
	// Len is the number of slots in the cache, Size its capacity.
	Len() int
	Size() int
	// Truncate keeps the first n slots; Reset keeps none.
	Truncate(n int) error
	Reset()
	// Close frees the sequence's buffers.
	Close()
}

var (
	_ Sequence = (*Context)(nil)
	_ Sequence = (*DeviceContext)(nil)
)

// PrefillImage puts BOS and the image block of pixels into the empty
// sequence s: the vision tower, then one forward call over the block
// (what imagecache.Cache.Prefill does for a CPU context, without the
// cache). release, when not nil, runs between the two (to free the vision
// tower's memory before the prefill). It returns the time each took.
func PrefillImage(s Sequence, pixels []float32, release func()) (encode, prefill time.Duration, err error) {
	m := s.Model()
	if m.Vision == nil {
		return 0, 0, ErrNoVision
	}
	if s.Len() != 0 {
		return 0, 0, fmt.Errorf("model: image prefill needs an empty context (it holds %d slots)", s.Len())
	}
	t0 := time.Now()
	emb := make([]float32, m.ImageEmbeds())
	if err := s.EncodeImage(emb, pixels); err != nil {
		return 0, 0, err
	}
	encode = time.Since(t0)
	if release != nil {
		release()
	}
	t0 = time.Now()
	if err := s.Forward(m.PromptBatch(nil, emb), Output{}); err != nil {
		s.Reset()
		return encode, 0, err
	}
	return encode, time.Since(t0), nil
}
