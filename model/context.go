package model

import (
	"errors"
	"fmt"
	"math"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/kernels"
)

// KVType selects the element type of the KV cache.
type KVType int

// KV cache element types.
const (
	KVF16 KVType = iota // half precision (the default; half the memory)
	KVF32               // single precision
)

// ContextOptions configures a Context.
type ContextOptions struct {
	// Size is the number of sequence slots the KV cache holds (image rows
	// included), all allocated by NewContext. 0 means the model's context
	// length (2048 when the file does not say).
	Size int
	// KV is the cache element type (KVF16 by default).
	KV KVType
	// Threads for the kernels pool; 0 means the pool's default.
	Threads int
	// Batch is the largest number of slots processed per decoder pass
	// (a longer Forward is split into chunks of this size). 0 means 512.
	Batch int
	// Pool, when not nil, is used instead of a new pool (Threads is then
	// ignored and Close leaves the pool open).
	Pool *kernels.Pool
}

// Context is one conversation: the KV cache, the token types seen so far
// and scratch buffers, all allocated once. A Context is not safe for
// concurrent use.
type Context struct {
	m        *Model
	pool     *kernels.Pool
	ownPool  bool
	size     int
	batch    int
	kvType   KVType
	kvDim    int
	k16, v16 [][]uint16 // per layer, size*kvDim
	k32, v32 [][]float32
	types    []TokenType // every slot so far
	posBuf   []int32     // scratch for position ids (size)
	relBuf   []TokenType // scratch for position ids (size)
	langBuf  []TokenType // all Lang, for batches without types (size)
	maskBuf  []bool      // expert mask scratch (size)
	runBuf   []run
	nPast    int

	scratch               // decoder scratch, batch rows
	long     []float32    // the residual stream of a call longer than a batch (size*Hidden, when size > batch)
	seqBuf   [1]rowSeq    // Forward's one sequence, kept to avoid an allocation per layer
	emb      []float32    // one embedding row
	invFreq  []float32    // base^(-2i/headDim), for adjacent-pair RoPE
	neoxFreq []float32    // kernels.RoPEInvFreq's, for rotate-half RoPE (made on first use)
	ropes    []*ropeTable // cos and sin per position, one table per frequency vector

	vs *visionScratch // allocated on the first image
}

// NewContext allocates a context for m.
func (m *Model) NewContext(o ContextOptions) (*Context, error) {
	size, batch, err := contextSizes(o, m.Text.ContextLength)
	if err != nil {
		return nil, err
	}
	c := &Context{m: m, size: size, batch: batch, kvType: o.KV}
	t := &m.Text
	H := t.Hidden
	c.kvDim = t.HeadsKV * t.HeadDim
	n := c.size * c.kvDim
	for i := 0; i < t.Layers; i++ {
		if o.KV == KVF16 {
			c.k16 = append(c.k16, make([]uint16, n))
			c.v16 = append(c.v16, make([]uint16, n))
		} else {
			c.k32 = append(c.k32, make([]float32, n))
			c.v32 = append(c.v32, make([]float32, n))
		}
	}
	c.scratch = m.newScratch(c.batch)
	if c.size > c.batch {
		c.long = make([]float32, c.size*H)
	}
	c.emb = make([]float32, H)
	c.types = make([]TokenType, 0, c.size)
	c.posBuf = make([]int32, c.size)
	c.relBuf = make([]TokenType, c.size)
	c.langBuf = make([]TokenType, c.size)
	c.maskBuf = make([]bool, c.size)
	c.invFreq = make([]float32, t.HeadDim/2)
	for i := range c.invFreq {
		c.invFreq[i] = float32(math.Pow(float64(t.RopeBase), -2*float64(i)/float64(t.HeadDim)))
	}
	if o.Pool != nil {
		c.pool = o.Pool
	} else {
		c.pool = kernels.NewPool(o.Threads)
		c.ownPool = true
	}
	return c, nil
}

// contextSizes applies ContextOptions' defaults and checks them: the
// number of KV slots (by default trained, the model's context length) and
// the largest batch.
func contextSizes(o ContextOptions, trained int) (size, batch int, err error) {
	size, batch = o.Size, o.Batch
	if size == 0 {
		size = trained
	}
	if size == 0 {
		size = 2048
	}
	if batch == 0 {
		batch = 512
	}
	if size < 1 || size > maxDim || batch < 1 {
		return 0, 0, fmt.Errorf("model: context size %d / batch %d out of range", size, batch)
	}
	if o.KV != KVF16 && o.KV != KVF32 {
		return 0, 0, fmt.Errorf("model: unknown KV cache type %d", o.KV)
	}
	return size, min(batch, size), nil
}

// Close releases the context's thread pool (if it made one).
func (c *Context) Close() {
	if c.ownPool && c.pool != nil {
		c.pool.Close()
	}
	c.pool = nil
}

// Model returns the model c runs.
func (c *Context) Model() *Model { return c.m }

// Len returns the number of slots in the KV cache.
func (c *Context) Len() int { return c.nPast }

// Size returns the capacity of the KV cache in slots.
func (c *Context) Size() int { return c.size }

// Reset empties the KV cache (the buffers are kept).
func (c *Context) Reset() {
	c.nPast = 0
	c.types = c.types[:0]
}

// Truncate drops every slot from n on (0 <= n <= Len), so that a new
// sequence sharing the first n slots reuses their cached keys and values.
func (c *Context) Truncate(n int) error {
	if n < 0 || n > c.nPast {
		return fmt.Errorf("model: truncate to %d slots: the cache holds %d", n, c.nPast)
	}
	c.nPast = n
	c.types = c.types[:n]
	return nil
}

// Batch is the input of one forward call.
type Batch struct {
	// Tokens holds one id per slot; the ids of Vision slots are ignored.
	Tokens []int32
	// Types gives each slot's type; nil means all Lang.
	Types []TokenType
	// Embeds holds one row of Hidden floats per Vision slot, in order
	// (e.g. the output of EncodeImage).
	Embeds []float32
}

// Output says what a forward call returns. Nil slices are not computed.
type Output struct {
	// Logits receives Vocab floats for the last slot (len == Vocab) or
	// for every slot (len == n*Vocab).
	Logits []float32
	// Hidden, when len == n*Hidden, receives every slot's hidden state
	// after the final RMSNorm.
	Hidden []float32
	// Layers, when len == (Layers+1)*n*Hidden, receives the residual
	// stream: [l] the input of layer l for every slot ([0] the input
	// embeddings), [Layers] the output of the last layer (a debugging aid,
	// compared with the reference's dumps).
	Layers []float32
}

// ErrContextFull is returned (wrapped) when a forward call would exceed the
// KV cache.
var ErrContextFull = errors.New("context full")

// Forward runs the decoder over the new slots of b, appending them to the
// KV cache. The expert of each slot is chosen over the whole call (boi and
// patches vision, everything else language) and RoPE positions continue the
// sequence so far (PositionIDs over all slots).
func (c *Context) Forward(b Batch, out Output) error {
	t := &c.m.Text
	n := len(b.Tokens)
	H, V := t.Hidden, t.Vocab
	types, allLogits, err := checkForward(t, b, out, c.nPast, c.size, c.langBuf)
	if err != nil {
		return err
	}

	var mask []bool
	var pos []int32
	c.types, mask, pos = planSlots(t, c.types, types, c.maskBuf, c.posBuf, c.relBuf)
	// A call longer than one batch (an image block) runs layer by layer,
	// each layer over every chunk, rather than chunk by chunk through all
	// layers: each layer's weights are then touched once per call, so
	// weights that do not fit in memory together (the visual experts and
	// the language path under a memory limit) are read from the file once
	// rather than once per chunk. The residual stream of all rows is kept
	// in c.long; the results are the same either way.
	x := c.x[:min(n, c.batch)*H]
	if n > c.batch {
		x = c.long[:n*H]
	}
	vis := 0
	for i := 0; i < n; i++ {
		row := x[i*H : (i+1)*H]
		if types[i] == Vision {
			copy(row, b.Embeds[vis*H:(vis+1)*H])
			vis++
			continue
		}
		if err := c.m.embd.Row(row, int(b.Tokens[i])); err != nil {
			c.types = c.types[:c.nPast]
			return err
		}
	}
	past, rows := c.nPast, c.x
	vision, lang := expertsUsed(mask)
	// In the last layer only the rows the head reads need more than their
	// K and V: none for a prefill that asks for nothing (an image block),
	// the last one for next-token logits. The rest skip attention, the
	// output projection and the MLP there (1/32 of a 7B prefill's work).
	need := n
	if !allLogits && out.Hidden == nil && out.Layers == nil {
		need = 0
		if len(out.Logits) == V {
			need = 1
		}
	}
	for l := range c.m.layers {
		last := l == len(c.m.layers)-1
		if n > c.batch && l+1 < len(c.m.layers) {
			// start reading the next layer's weights while this one
			// computes (a hint in its own goroutine: it may block on I/O)
			go c.m.willNeedLayer(l+1, vision, lang)
		}
		for s := 0; s < n; s += c.batch {
			e := min(s+c.batch, n)
			if out.Layers != nil {
				copy(out.Layers[(l*n+s)*H:(l*n+e)*H], x[s*H:e*H])
			}
			runs := expertRuns(c.runBuf[:0], mask, s, e)
			c.runBuf = runs
			c.x, c.nPast = x[s*H:e*H], past+s
			from := 0
			if last {
				from = min(max(n-need-s, 0), e-s)
			}
			c.layer(l, e-s, from, runs, pos[s:e])
		}
	}
	c.x, c.nPast = rows, past+n
	if out.Layers != nil {
		L := len(c.m.layers)
		copy(out.Layers[L*n*H:(L+1)*n*H], x)
	}
	// head, a batch of rows at a time (c.xn holds one batch)
	for s := 0; s < n; s += c.batch {
		e := min(s+c.batch, n)
		m := e - s
		lo := 0
		if !allLogits && out.Hidden == nil {
			if e < n || len(out.Logits) == 0 {
				continue
			}
			lo = m - 1
		}
		for i := lo; i < m; i++ {
			kernels.RMSNorm(c.xn[i*H:(i+1)*H], x[(s+i)*H:(s+i+1)*H], c.m.outNorm, t.RMSEps)
		}
		if out.Hidden != nil {
			copy(out.Hidden[s*H:e*H], c.xn[:m*H])
		}
		switch {
		case allLogits:
			c.matmul(out.Logits[s*V:e*V], &c.m.output, c.xn, m)
		case len(out.Logits) == V && e == n:
			c.matmul(out.Logits, &c.m.output, c.xn[(m-1)*H:m*H], 1)
		}
	}
	return nil
}

// expertsUsed says whether a call with this expert mask has rows of the
// visual expert and rows of the language expert.
func expertsUsed(mask []bool) (vision, lang bool) {
	for _, v := range mask {
		if v {
			vision = true
		} else {
			lang = true
		}
	}
	return vision, lang
}

// willNeedLayer hints the OS that decoder layer l's matrices of the
// visual expert and/or the language expert are about to be read.
func (mdl *Model) willNeedLayer(l int, vision, lang bool) {
	L := &mdl.layers[l]
	if vision {
		for _, w := range []*Matrix{&L.visQKV, &L.visO, &L.visGate, &L.visUp, &L.visDown} {
			adviseBytes(w.Data, gguf.AdviceWillNeed)
		}
	}
	if lang {
		for _, w := range []*Matrix{&L.qkv, &L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down} {
			adviseBytes(w.Data, gguf.AdviceWillNeed)
		}
	}
}

// checkForward validates a forward call over b appending to a cache of
// size slots holding nPast, for every backend: it returns the slot types
// (all Lang from langBuf when b has none) and whether every slot's logits
// are wanted.
func checkForward(t *TextConfig, b Batch, out Output, nPast, size int, langBuf []TokenType) (types []TokenType, allLogits bool, err error) {
	n := len(b.Tokens)
	H, V := t.Hidden, t.Vocab
	if n == 0 {
		return nil, false, errors.New("model: empty batch")
	}
	if b.Types != nil && len(b.Types) != n {
		return nil, false, fmt.Errorf("model: batch has %d tokens but %d types", n, len(b.Types))
	}
	if nPast+n > size {
		return nil, false, fmt.Errorf("model: %w: %d slots in use + %d new exceed the context size %d (raise -c)", ErrContextFull, nPast, n, size)
	}
	types = b.Types
	if types == nil {
		types = langBuf[:n]
	}
	nVis := 0
	for i, ty := range types {
		switch ty {
		case Vision:
			nVis++
		case Lang:
			if id := b.Tokens[i]; id < 0 || int(id) >= V {
				return nil, false, fmt.Errorf("model: token %d at slot %d outside the vocabulary of %d", id, i, V)
			}
		default:
			return nil, false, fmt.Errorf("model: slot %d: unknown token type %d", i, ty)
		}
	}
	if nVis > 0 && !t.Experts {
		return nil, false, errors.New("model: image slots given to a model without visual experts")
	}
	if len(b.Embeds) != nVis*H {
		return nil, false, fmt.Errorf("model: %d vision slots need %d embedding floats, got %d", nVis, nVis*H, len(b.Embeds))
	}
	switch len(out.Logits) {
	case 0, V:
	case n * V:
		allLogits = true
	default:
		return nil, false, fmt.Errorf("model: logits buffer of %d floats: want %d (last slot) or %d (all slots)", len(out.Logits), V, n*V)
	}
	if out.Hidden != nil && len(out.Hidden) != n*H {
		return nil, false, fmt.Errorf("model: hidden buffer of %d floats: want %d", len(out.Hidden), n*H)
	}
	if out.Layers != nil && len(out.Layers) != (t.Layers+1)*n*H {
		return nil, false, fmt.Errorf("model: layer states buffer of %d floats: want %d", len(out.Layers), (t.Layers+1)*n*H)
	}
	return types, allLogits, nil
}

// planSlots appends the new slots' types to all (the cache's) and returns
// it with the expert mask of the new slots (vision expert where on) and
// their RoPE positions, which continue the sequence so far.
func planSlots(t *TextConfig, all, types []TokenType, maskBuf []bool, posBuf []int32, relBuf []TokenType) ([]TokenType, []bool, []int32) {
	past := len(all)
	mask := visionExpertMask(maskBuf[:len(types)], types)
	if !t.Experts {
		clear(mask)
	}
	all = append(all, types...)
	pos := positionIDs(posBuf[:len(all)], relBuf[:len(all)], all)[past:]
	return all, mask, pos
}

func (c *Context) matmul(y []float32, w *Matrix, x []float32, n int) {
	matmul(c.pool, y, w, x, n)
}

func matmul(pool *kernels.Pool, y []float32, w *Matrix, x []float32, n int) {
	if w.Packed {
		pool.MatMulPacked(y, w.Data, w.Type, w.Rows, w.K, x, n)
		return
	}
	pool.MatMul(y, w.Data, w.Type, w.Rows, w.K, x, n)
}

// scratch holds a decoder pass's activations for up to a fixed number of
// rows.
type scratch struct {
	x, xn, q, att, o []float32
	qkv              []float32 // rows * (H + 2*kvDim)
	kr, vr           []float32 // rows * kvDim
	// gu: 2 * rows * max FFN, the gate and up products of nr rows
	// ([0, nr·ff) and [nr·ff, 2·nr·ff), or [gate|up] per row when fused)
	gu []float32
}

func (m *Model) newScratch(rows int) scratch {
	t := &m.Text
	H, kvd := t.Hidden, t.HeadsKV*t.HeadDim
	ff := t.FFN
	for _, L := range m.layers {
		if L.visGate.Rows > ff {
			ff = L.visGate.Rows
		}
	}
	return scratch{
		x: make([]float32, rows*H), xn: make([]float32, rows*H), q: make([]float32, rows*H),
		att: make([]float32, rows*H), o: make([]float32, rows*H),
		qkv: make([]float32, rows*(H+2*kvd)),
		kr:  make([]float32, rows*kvd), vr: make([]float32, rows*kvd),
		gu: make([]float32, 2*rows*ff),
	}
}

// rowSeq is the part of a decoder pass that belongs to one context: rows
// [start, start+n) of the scratch, whose slots start at KV index c.nPast
// and have RoPE positions pos.
type rowSeq struct {
	c        *Context
	start, n int
	from     int // rows [start, start+from) need only their K and V
	pos      []int32
}

// layer runs decoder layer l over the m rows in c.x, whose slots start at
// KV index c.nPast and have RoPE positions pos.
// Rows [0, from) only get their K and V appended to the cache (their
// outputs are not needed).
func (c *Context) layer(l, m, from int, runs []run, pos []int32) {
	c.seqBuf[0] = rowSeq{c: c, n: m, from: from, pos: pos}
	c.m.layer(c.pool, &c.scratch, l, m, runs, c.seqBuf[:])
	c.seqBuf[0] = rowSeq{}
}

// layer runs decoder layer l over the m rows of s. The matrix products
// take all m rows at once (each weight row is read once for all of them);
// RoPE, the KV cache append and attention run per sequence, each against
// its own context's cache. A single sequence may start its outputs at
// row seqs[0].from: the rows before it end after the KV append.
func (mdl *Model) layer(pool *kernels.Pool, s *scratch, l, m int, runs []run, seqs []rowSeq) {
	t := &mdl.Text
	L := &mdl.layers[l]
	H, kvd := t.Hidden, t.HeadsKV*t.HeadDim
	if m >= rowGrain {
		pool.Rows(m, rowGrain, func(lo, hi int) { normRows(s, L.attnNorm, H, t.RMSEps, lo, hi) })
	} else {
		normRows(s, L.attnNorm, H, t.RMSEps, 0, m)
	}
	// Q, K, V by expert run
	qd := H + 2*kvd
	for _, r := range runs {
		nr := r.end - r.start
		xr := s.xn[r.start*H:]
		switch {
		case r.vision:
			matmul(pool, s.qkv[r.start*qd:], &L.visQKV, xr, nr)
		case t.FusedQKV:
			matmul(pool, s.qkv[r.start*qd:], &L.qkv, xr, nr)
		default:
			matmul(pool, s.q[r.start*H:], &L.q, xr, nr)
			matmul(pool, s.kr[r.start*kvd:], &L.k, xr, nr)
			matmul(pool, s.vr[r.start*kvd:], &L.v, xr, nr)
			continue
		}
		bias := L.visQKVB
		if !r.vision {
			bias = nil
		}
		if nr >= rowGrain {
			pool.Rows(nr, rowGrain, func(lo, hi int) { splitQKVRows(s, bias, H, kvd, r.start+lo, r.start+hi) })
		} else {
			splitQKVRows(s, bias, H, kvd, r.start, r.end)
		}
	}
	for _, sq := range seqs {
		sq.c.attend(pool, s, l, sq)
	}
	from := 0
	if len(seqs) == 1 {
		from = seqs[0].from
	}
	if from > 0 {
		if from == m {
			return
		}
		runs = clipRuns(runs, from)
	}
	for _, r := range runs {
		w := &L.o
		if r.vision {
			w = &L.visO
		}
		matmul(pool, s.o[r.start*H:], w, s.att[r.start*H:], r.end-r.start)
	}
	if m-from >= rowGrain {
		pool.Rows(m-from, rowGrain, func(lo, hi int) {
			addRows(s, H, from+lo, from+hi)
			normRows(s, L.ffnNorm, H, t.RMSEps, from+lo, from+hi)
		})
	} else {
		addRows(s, H, from, m)
		normRows(s, L.ffnNorm, H, t.RMSEps, from, m)
	}
	for _, r := range runs {
		gw, uw, dw := &L.gate, &L.up, &L.down
		if r.vision {
			gw, uw, dw = &L.visGate, &L.visUp, &L.visDown
		}
		nr := r.end - r.start
		ff := gw.Rows
		g, u := s.gu[:nr*ff], s.gu[nr*ff:2*nr*ff]
		if gu := &L.gateUp; !r.vision && gu.Data != nil && nr <= kernels.PackedDecodeRows {
			// one pass over [gate|up]: row j's gate at 2j·ff, its up
			// after it; row j's SwiGLU output (at j·ff) overwrites only
			// rows already used.
			both := s.gu[:2*nr*ff]
			matmul(pool, both, gu, s.xn[r.start*H:], nr)
			for j := 0; j < nr; j++ {
				kernels.SwiGLU(g[j*ff:(j+1)*ff], both[2*j*ff:(2*j+1)*ff], both[(2*j+1)*ff:(2*j+2)*ff])
			}
		} else {
			matmul(pool, g, gw, s.xn[r.start*H:], nr)
			matmul(pool, u, uw, s.xn[r.start*H:], nr)
			swiGLURows(pool, g, u, nr, ff)
		}
		matmul(pool, s.o[r.start*H:], dw, g, nr)
	}
	if m-from >= rowGrain {
		pool.Rows(m-from, rowGrain, func(lo, hi int) { addRows(s, H, from+lo, from+hi) })
	} else {
		addRows(s, H, from, m)
	}
}

// normRows writes RMSNorm(x)·w of rows [lo, hi) of s.x to s.xn.
func normRows(s *scratch, w []float32, H int, eps float32, lo, hi int) {
	for i := lo; i < hi; i++ {
		kernels.RMSNorm(s.xn[i*H:(i+1)*H], s.x[i*H:(i+1)*H], w, eps)
	}
}

// addRows adds rows [lo, hi) of s.o to s.x (the residual).
func addRows(s *scratch, H, lo, hi int) {
	kernels.Add(s.x[lo*H:hi*H], s.x[lo*H:hi*H], s.o[lo*H:hi*H])
}

// splitQKVRows adds the bias (if any) to fused Q|K|V rows [lo, hi) and
// copies them apart into s.q, s.kr and s.vr.
func splitQKVRows(s *scratch, bias []float32, H, kvd, lo, hi int) {
	qd := H + 2*kvd
	for i := lo; i < hi; i++ {
		row := s.qkv[i*qd : (i+1)*qd]
		if bias != nil {
			kernels.Add(row, row, bias)
		}
		copy(s.q[i*H:(i+1)*H], row[:H])
		copy(s.kr[i*kvd:(i+1)*kvd], row[H:H+kvd])
		copy(s.vr[i*kvd:(i+1)*kvd], row[H+kvd:])
	}
}

// clipRuns drops rows [0, from) from runs, in place.
func clipRuns(runs []run, from int) []run {
	out := runs[:0]
	for _, r := range runs {
		if r.end <= from {
			continue
		}
		r.start = max(r.start, from)
		out = append(out, r)
	}
	return out
}

// attend applies RoPE to the Q and K rows of sq, appends its K and V rows
// to c's cache at c.nPast and writes its attention output rows.
func (c *Context) attend(pool *kernels.Pool, s *scratch, l int, sq rowSeq) {
	t := &c.m.Text
	H, kvd, m := t.Hidden, c.kvDim, sq.n
	// RoPE, then append to the cache
	tab := c.ropeTableFor(l, sq.pos[:m])
	if m >= rowGrain {
		pool.Rows(m, rowGrain, func(lo, hi int) { c.ropeAppend(s, l, sq, tab, lo, hi) })
	} else {
		c.ropeAppend(s, l, sq, tab, 0, m)
	}
	nkv := c.nPast + m
	ap := kernels.AttnParams{NHead: t.Heads, NHeadKV: t.HeadsKV, HeadDim: t.HeadDim,
		Scale: float32(1 / math.Sqrt(float64(t.HeadDim))), Causal: true, QPos0: c.nPast,
		BF16: c.m.layers[l].quantizedAttention()}
	// rows before sq.from need no attention output
	f := sq.from
	ap.QPos0 += f
	att, q := s.att[(sq.start+f)*H:(sq.start+m)*H], s.q[(sq.start+f)*H:(sq.start+m)*H]
	if c.kvType == KVF16 {
		pool.AttentionF16(att, q, m-f, c.k16[l][:nkv*kvd], c.v16[l][:nkv*kvd], nkv, ap)
	} else {
		pool.AttentionF32(att, q, m-f, c.k32[l][:nkv*kvd], c.v32[l][:nkv*kvd], nkv, ap)
	}
}

// ropeAppend rotates the Q and K rows [lo, hi) of sq (relative to its
// start), with the cos and sin of tab when it is not nil, and appends their
// K and V to layer l's cache.
func (c *Context) ropeAppend(s *scratch, l int, sq rowSeq, tab *ropeTable, lo, hi int) {
	t := &c.m.Text
	H, kvd := t.Hidden, c.kvDim
	invFreq := c.m.layers[l].ropeInvFreq
	for j := lo; j < hi; j++ {
		i := sq.start + j
		p := float32(sq.pos[j])
		q := s.q[i*H : (i+1)*H]
		k := s.kr[i*kvd : (i+1)*kvd]
		switch {
		case tab != nil && (invFreq != nil || t.RopeNeoX):
			cos, sin := tab.at(int(sq.pos[j]))
			rotateHalf(q, t.Heads, t.HeadDim, cos, sin)
			rotateHalf(k, t.HeadsKV, t.HeadDim, cos, sin)
		case tab != nil:
			cos, sin := tab.at(int(sq.pos[j]))
			rotateAdjacent(q, t.Heads, t.HeadDim, cos, sin)
			rotateAdjacent(k, t.HeadsKV, t.HeadDim, cos, sin)
		case invFreq != nil:
			ropeNeoXFreqs(q, t.Heads, t.HeadDim, p, invFreq)
			ropeNeoXFreqs(k, t.HeadsKV, t.HeadDim, p, invFreq)
		case t.RopeNeoX:
			kernels.RoPENeoX(q, t.Heads, t.HeadDim, p, t.RopeBase)
			kernels.RoPENeoX(k, t.HeadsKV, t.HeadDim, p, t.RopeBase)
		default:
			ropeAdjacent(q, t.Heads, t.HeadDim, p, c.invFreq)
			ropeAdjacent(k, t.HeadsKV, t.HeadDim, p, c.invFreq)
		}
	}
	base := (c.nPast + lo) * kvd
	n := (hi - lo) * kvd
	kr, vr := s.kr[(sq.start+lo)*kvd:(sq.start+hi)*kvd], s.vr[(sq.start+lo)*kvd:(sq.start+hi)*kvd]
	if c.kvType == KVF16 {
		kernels.FP32ToFP16(c.k16[l][base:base+n], kr)
		kernels.FP32ToFP16(c.v16[l][base:base+n], vr)
	} else {
		copy(c.k32[l][base:base+n], kr)
		copy(c.v32[l][base:base+n], vr)
	}
}

// ropeNeoXFreqs is kernels.RoPENeoX with the inverse frequencies given
// (CogVLM2's checkpoint stores them, BF16-rounded): pairs (x[i],
// x[i+headDim/2]) of every head rotate by theta_i = pos·invFreq[i], the
// angle a float32 product as the reference computes it.
func ropeNeoXFreqs(x []float32, nHeads, headDim int, pos float32, invFreq []float32) {
	half := headDim / 2
	for i, f := range invFreq[:half] {
		theta := pos * f
		cos, sin := float32(math.Cos(float64(theta))), float32(math.Sin(float64(theta)))
		for h := 0; h < nHeads; h++ {
			j := h * headDim
			a, b := x[j+i], x[j+i+half]
			x[j+i] = a*cos - b*sin
			x[j+i+half] = b*cos + a*sin
		}
	}
}

// ropeAdjacent rotates adjacent pairs (x[2i], x[2i+1]) of every head by
// theta_i = pos * invFreq[i], invFreq[i] = base^(-2i/headDim): llama.cpp's
// "normal" RoPE, which matches HF's rotate-half once Q and K rows are
// permuted as llama.cpp's converter does for arch llama.
func ropeAdjacent(x []float32, nHeads, headDim int, pos float32, invFreq []float32) {
	for i := range invFreq {
		ang := pos * invFreq[i]
		cos, sin := float32(math.Cos(float64(ang))), float32(math.Sin(float64(ang)))
		for h := 0; h < nHeads; h++ {
			j := h*headDim + 2*i
			a, b := x[j], x[j+1]
			x[j] = a*cos - b*sin
			x[j+1] = a*sin + b*cos
		}
	}
}
