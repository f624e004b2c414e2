package model

import (
	"fmt"

	"github.com/cogedge/cogedge/kernels"
)

// Batcher decodes one token for each of several conversations in one
// decoder pass: every matrix product multiplies the weights with all the
// conversations' rows at once, so each weight row is read from memory once
// per step instead of once per conversation (decode is bound by that
// read). RoPE, the KV cache and attention stay per conversation. A Batcher
// is not safe for concurrent use, and the contexts it steps must not be
// used by another goroutine meanwhile.
type Batcher struct {
	m      *Model
	pool   *kernels.Pool
	max    int
	s      scratch
	seqs   []rowSeq
	pos    []int32   // one position per sequence
	logits []float32 // max * Vocab
}

// NewBatcher returns a Batcher for up to maxSeqs conversations of m that
// computes on pool.
func (m *Model) NewBatcher(maxSeqs int, pool *kernels.Pool) (*Batcher, error) {
	if maxSeqs < 1 || maxSeqs > 4096 {
		return nil, fmt.Errorf("model: batcher for %d sequences: want 1 to 4096", maxSeqs)
	}
	if pool == nil {
		return nil, fmt.Errorf("model: batcher needs a kernels pool")
	}
	return &Batcher{m: m, pool: pool, max: maxSeqs, s: m.newScratch(maxSeqs),
		seqs: make([]rowSeq, maxSeqs), pos: make([]int32, maxSeqs),
		logits: make([]float32, maxSeqs*m.Text.Vocab)}, nil
}

// Step appends tokens[i] as a Lang slot to cs[i] and writes the logits of
// that slot (Vocab floats) to logits[i], for every i: the same result as
// cs[i].Forward of the one token, up to the summation order of the matrix
// kernels. The contexts must be distinct contexts of the Batcher's model
// with room for one more slot; on an error no context has changed.
func (b *Batcher) Step(cs []*Context, tokens []int32, logits [][]float32) error {
	t := &b.m.Text
	n := len(cs)
	H, V := t.Hidden, t.Vocab
	if n == 0 || n > b.max {
		return fmt.Errorf("model: batch step of %d sequences: the batcher takes 1 to %d", n, b.max)
	}
	if len(tokens) != n || len(logits) != n {
		return fmt.Errorf("model: batch step: %d contexts, %d tokens, %d logits rows", n, len(tokens), len(logits))
	}
	for i, c := range cs {
		switch {
		case c == nil || c.m != b.m:
			return fmt.Errorf("model: batch step: context %d does not belong to the batcher's model", i)
		case c.nPast+1 > c.size:
			return fmt.Errorf("model: batch step: context %d: %w: %d slots in use of %d", i, ErrContextFull, c.nPast, c.size)
		case tokens[i] < 0 || int(tokens[i]) >= V:
			return fmt.Errorf("model: batch step: token %d of context %d outside the vocabulary of %d", tokens[i], i, V)
		case len(logits[i]) != V:
			return fmt.Errorf("model: batch step: logits row %d has %d floats, want %d", i, len(logits[i]), V)
		}
		for _, d := range cs[:i] {
			if d == c {
				return fmt.Errorf("model: batch step: context %d appears twice", i)
			}
		}
	}
	for i := range cs {
		if err := b.m.embd.Row(b.s.x[i*H:(i+1)*H], int(tokens[i])); err != nil {
			return err
		}
	}
	for i, c := range cs {
		all := len(c.types) + 1
		c.types = append(c.types, Lang)
		b.pos[i] = positionIDs(c.posBuf[:all], c.relBuf[:all], c.types)[all-1]
		b.seqs[i] = rowSeq{c: c, start: i, n: 1, pos: b.pos[i : i+1]}
	}
	runs := []run{{start: 0, end: n}}
	for l := range b.m.layers {
		b.m.layer(b.pool, &b.s, l, n, runs, b.seqs[:n])
	}
	for i, c := range cs {
		c.nPast++
		kernels.RMSNorm(b.s.xn[i*H:(i+1)*H], b.s.x[i*H:(i+1)*H], b.m.outNorm, t.RMSEps)
		b.seqs[i] = rowSeq{}
	}
	matmul(b.pool, b.logits[:n*V], &b.m.output, b.s.xn, n)
	for i := range cs {
		copy(logits[i], b.logits[i*V:(i+1)*V])
	}
	return nil
}
