// Package demo asks a CogVLM model questions about the pictures of package
// shapes and grades the answers: what `cogedge demo` shows, and what the
// demo model's accuracy and quantization tests measure.
package demo

import (
	"errors"
	"fmt"
	"image"
	"time"

	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/model/imageproc"
	"github.com/cogedge/cogedge/model/prompt"
	"github.com/cogedge/cogedge/model/sample"
	"github.com/cogedge/cogedge/model/tokenizer"
)

// MaxAnswerTokens bounds a generated answer (the longest expected answer,
// three shapes named with colours, is 25 tokens).
const MaxAnswerTokens = 40

// maxPromptTokens bounds a question's templated ids; the context is sized
// for it.
const maxPromptTokens = 64

// Answerer answers chat-template questions about one picture at a time,
// greedily. The picture's rows (BOS, the image block) are computed once
// and kept in the KV cache for every question about it.
type Answerer struct {
	m      *model.Model
	tok    *tokenizer.Tokenizer
	c      *model.Context
	img    []float32
	nImg   int
	logits []float32
	greedy *sample.Sampler

	// EncodeTime is the time of the last SetImage (vision tower and the
	// prefill of the image rows).
	EncodeTime time.Duration
}

// New returns an Answerer over m (which must have a vision tower and a
// tokenizer) using threads kernel threads and a KV cache of kv.
func New(m *model.Model, tok *tokenizer.Tokenizer, threads int, kv model.KVType) (*Answerer, error) {
	if m.Vision == nil {
		return nil, errors.New("demo: the model has no vision tower")
	}
	if tok == nil {
		return nil, errors.New("demo: the model file has no tokenizer")
	}
	n := m.Vision.ImageTokens
	c, err := m.NewContext(model.ContextOptions{Size: 1 + n + maxPromptTokens + MaxAnswerTokens + 1, KV: kv, Threads: threads})
	if err != nil {
		return nil, err
	}
	return &Answerer{m: m, tok: tok, c: c, nImg: n, logits: make([]float32, m.Text.Vocab),
		greedy: sample.New(sample.Params{Temperature: 0})}, nil
}

// Close releases the context (not the model).
func (a *Answerer) Close() { a.c.Close() }

// Model returns the model the answers come from.
func (a *Answerer) Model() *model.Model { return a.m }

// SetImage makes img the picture the next questions are about: it is
// resized to the model's input with the Pillow-exact bicubic filter,
// normalized, encoded and prefilled after BOS.
func (a *Answerer) SetImage(img image.Image) error {
	t0 := time.Now()
	vc := a.m.Vision
	rgb, w, h := imageproc.ToRGB(img)
	px := imageproc.Normalize(imageproc.ResizeBicubic(rgb, w, h, vc.ImageSize, vc.ImageSize), vc.ImageSize, vc.ImageSize, vc.ImageMean, vc.ImageStd)
	if cap(a.img) < a.m.ImageEmbeds() {
		a.img = make([]float32, a.m.ImageEmbeds())
	}
	a.img = a.img[:a.m.ImageEmbeds()]
	if err := a.c.EncodeImage(a.img, px); err != nil {
		return err
	}
	a.c.Reset()
	b := a.m.PromptBatch(nil, a.img)
	if err := a.c.Forward(b, model.Output{}); err != nil {
		return err
	}
	a.EncodeTime = time.Since(t0)
	return nil
}

// PromptIDs returns the chat-template ids of a question (no BOS).
func (a *Answerer) PromptIDs(question string) ([]int32, error) {
	text, err := prompt.Build(prompt.Chat, nil, question)
	if err != nil {
		return nil, err
	}
	ids := a.tok.Encode(text, false)
	if len(ids) > maxPromptTokens {
		return nil, fmt.Errorf("demo: question of %d tokens; at most %d", len(ids), maxPromptTokens)
	}
	return ids, nil
}

// Ask answers a question about the current picture greedily and returns
// the answer's text and ids (without EOS).
func (a *Answerer) Ask(question string) (string, []int32, error) {
	ids, err := a.PromptIDs(question)
	if err != nil {
		return "", nil, err
	}
	if err := a.prefill(ids, a.logits); err != nil {
		return "", nil, err
	}
	toks, err := a.c.Generate(a.logits, model.GenerateOptions{MaxTokens: MaxAnswerTokens, Sampler: a.greedy, StopAtEOS: true, History: ids})
	if err != nil {
		return "", nil, err
	}
	if len(toks) > 0 && toks[len(toks)-1] == a.m.Text.EOS {
		toks = toks[:len(toks)-1]
	}
	return a.tok.Decode(toks), toks, nil
}

// prefill feeds text ids after the picture's rows, dropping any earlier
// question, and writes the logits (the last row, or every row) to out.
func (a *Answerer) prefill(ids []int32, out []float32) error {
	if a.c.Len() < 1+a.nImg {
		return errors.New("demo: no picture (call SetImage first)")
	}
	if err := a.c.Truncate(1 + a.nImg); err != nil {
		return err
	}
	return a.c.Forward(model.Batch{Tokens: ids}, model.Output{Logits: out})
}

// TeacherForced returns the logits that predict each token of want (and the
// EOS after it) when want follows the question: len(want)+1 rows of Vocab.
func (a *Answerer) TeacherForced(question string, want []int32) ([]float32, error) {
	ids, err := a.PromptIDs(question)
	if err != nil {
		return nil, err
	}
	if len(want) > MaxAnswerTokens {
		return nil, fmt.Errorf("demo: answer of %d tokens; at most %d", len(want), MaxAnswerTokens)
	}
	seq := append(append([]int32(nil), ids...), want...)
	V := a.m.Text.Vocab
	all := make([]float32, len(seq)*V)
	if err := a.prefill(seq, all); err != nil {
		return nil, err
	}
	return all[(len(ids)-1)*V:], nil
}

// Encode tokenizes an answer as the model emits it (no BOS, no EOS).
func (a *Answerer) Encode(answer string) []int32 { return a.tok.Encode(answer, false) }
