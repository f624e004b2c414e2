// Package sample chooses the next token from a row of logits: greedy at
// temperature 0, otherwise top-k, temperature, top-p (nucleus) and a seeded
// random draw, with an optional repetition penalty first, in the spirit of
// llama.cpp's default sampler chain.
package sample

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Params configures a Sampler. The zero value is greedy decoding.
type Params struct {
	// Temperature divides the logits; <= 0 means greedy (argmax, lowest id
	// on ties).
	Temperature float32
	// TopK keeps the K most likely tokens (<= 0: all).
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability
	// reaches P (>= 1 or <= 0: all).
	TopP float32
	// RepeatPenalty divides positive logits and multiplies negative ones of
	// tokens seen in the last RepeatLastN tokens of the history (llama.cpp's
	// rule); 1 or 0 disables it.
	RepeatPenalty float32
	// RepeatLastN is the window of the penalty (0 means 64; < 0 means the
	// whole history).
	RepeatLastN int
	// Seed seeds the random draw.
	Seed uint64
}

// Sampler draws tokens; it implements model.Sampler. It reuses its scratch
// space and is not safe for concurrent use.
type Sampler struct {
	p    Params
	rng  *rand.Rand
	cand []cand
	seen map[int32]bool
}

type cand struct {
	id int32
	v  float32
}

// New returns a sampler for p.
func New(p Params) *Sampler {
	if p.RepeatLastN == 0 {
		p.RepeatLastN = 64
	}
	return &Sampler{p: p, rng: rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15)), seen: map[int32]bool{}}
}

// Sample returns the next token for logits (which it may modify when a
// repetition penalty applies); history is the sequence so far.
func (s *Sampler) Sample(logits []float32, history []int32) int32 {
	if len(logits) == 0 {
		return -1
	}
	if rp := s.p.RepeatPenalty; rp > 0 && rp != 1 {
		h := history
		if n := s.p.RepeatLastN; n > 0 && len(h) > n {
			h = h[len(h)-n:]
		}
		clear(s.seen)
		for _, id := range h {
			if id < 0 || int(id) >= len(logits) || s.seen[id] {
				continue
			}
			s.seen[id] = true
			if logits[id] > 0 {
				logits[id] /= rp
			} else {
				logits[id] *= rp
			}
		}
	}
	if s.p.Temperature <= 0 {
		return int32(Argmax(logits))
	}
	c := s.cand[:0]
	for i, v := range logits {
		if !math.IsNaN(float64(v)) {
			c = append(c, cand{int32(i), v})
		}
	}
	s.cand = c
	if len(c) == 0 {
		return 0
	}
	sort.Slice(c, func(i, j int) bool {
		if c[i].v != c[j].v {
			return c[i].v > c[j].v
		}
		return c[i].id < c[j].id
	})
	if k := s.p.TopK; k > 0 && k < len(c) {
		c = c[:k]
	}
	// softmax with temperature, in float64
	inv := 1 / float64(s.p.Temperature)
	maxv := float64(c[0].v)
	probs := make([]float64, len(c))
	sum := 0.0
	for i := range c {
		probs[i] = math.Exp((float64(c[i].v) - maxv) * inv)
		sum += probs[i]
	}
	n := len(c)
	if tp := float64(s.p.TopP); tp > 0 && tp < 1 {
		acc := 0.0
		for i := range probs {
			acc += probs[i] / sum
			if acc >= tp {
				n = i + 1
				break
			}
		}
		sum = 0
		for _, p := range probs[:n] {
			sum += p
		}
	}
	r := s.rng.Float64() * sum
	for i := 0; i < n; i++ {
		r -= probs[i]
		if r < 0 {
			return c[i].id
		}
	}
	return c[n-1].id
}

// Argmax returns the index of the largest value (the lowest on ties; NaNs
// are skipped).
func Argmax(x []float32) int {
	best := -1
	for i, v := range x {
		if v != v {
			continue
		}
		if best < 0 || v > x[best] {
			best = i
		}
	}
	if best < 0 {
		return 0
	}
	return best
}
