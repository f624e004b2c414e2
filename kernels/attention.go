package kernels

import (
	"fmt"
	"math"
)

// AttnParams describes one attention call.
type AttnParams struct {
	NHead   int     // query heads
	NHeadKV int     // key/value heads; NHead must be a multiple (grouped-query attention)
	HeadDim int     // elements per head
	Scale   float32 // multiplies q·k before the softmax, usually 1/sqrt(HeadDim)
	// Causal: query row i sits at KV index QPos0+i and sees KV rows
	// 0..QPos0+i. Otherwise every query sees every KV row.
	Causal bool
	QPos0  int
	// BF16: bf16 inputs with float32 accumulation are acceptable. On CPUs
	// with AVX-512 BF16 the tiled path then rounds the scaled queries,
	// the keys, the softmax probabilities and the values to bfloat16 and
	// sums their products in float32 (VDPBF16PS), about twice the rate of
	// the float32 FMAs; the softmax stays in float32. That is the
	// precision CogVLM was trained and is published with (bf16 attention
	// with float32 accumulation). A float16 KV cache is rounded on to
	// bf16 as its blocks are gathered. Other CPUs and the per-row path
	// (decode, fewer than 16 query rows) ignore it. The model sets it
	// where the projections around the attention are quantized.
	BF16 bool
}

const (
	attnQBlock  = 64 // query rows per task on the per-row path: each task reads its head's K and V once
	attnKVBlock = 32 // KV rows per inner tile of the per-row path
)

// attnJob is one attention call; a task is one head × one block of queries.
type attnJob struct {
	out, q []float32
	nq     int
	kf, vf []float32
	kh, vh []uint16
	nkv    int
	ap     AttnParams
	qb     int // query rows per task
	nqb    int
	p      *Pool
}

// AttentionF32 computes softmax(Scale·q·kᵀ)·v per head with a float32 KV
// cache. q and out are nq rows of NHead*HeadDim; k and v are nkv rows of
// NHeadKV*HeadDim. It works tile by tile with an online softmax and never
// holds an nq×nkv matrix. Work is split over heads and blocks of queries;
// blocks of 16 or more query rows take the register-tiled path of
// attntile.go where the implementation has one, single rows (decode) and
// small blocks a dot product per query and key row.
func (p *Pool) AttentionF32(out, q []float32, nq int, k, v []float32, nkv int, ap AttnParams) {
	checkAttn(len(out), len(q), nq, len(k), len(v), nkv, ap)
	p.attention(attnJob{out: out, q: q, nq: nq, kf: k, vf: v, nkv: nkv, ap: ap})
}

// AttentionF16 is AttentionF32 over a float16 KV cache (IEEE half bits).
func (p *Pool) AttentionF16(out, q []float32, nq int, k, v []uint16, nkv int, ap AttnParams) {
	checkAttn(len(out), len(q), nq, len(k), len(v), nkv, ap)
	p.attention(attnJob{out: out, q: q, nq: nq, kh: k, vh: v, nkv: nkv, ap: ap})
}

func checkAttn(lout, lq, nq, lk, lv, nkv int, ap AttnParams) {
	if ap.NHead <= 0 || ap.NHeadKV <= 0 || ap.HeadDim <= 0 || ap.NHead%ap.NHeadKV != 0 || nq < 0 || nkv < 0 || ap.QPos0 < 0 {
		panic(fmt.Sprintf("kernels: attention: bad parameters %+v nq=%d nkv=%d", ap, nq, nkv))
	}
	qw, kw := ap.NHead*ap.HeadDim, ap.NHeadKV*ap.HeadDim
	if lout < nq*qw || lq < nq*qw || lk < nkv*kw || lv < nkv*kw {
		panic(fmt.Sprintf("kernels: attention: short slice: out %d q %d (want %d), k %d v %d (want %d)",
			lout, lq, nq*qw, lk, lv, nkv*kw))
	}
}

func (p *Pool) attention(j attnJob) {
	if j.nq == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	j.p = p
	j.qb = attnQBlock
	if j.useTile(j.nq) {
		j.qb = attnTileQBlock
	}
	j.nqb = (j.nq + j.qb - 1) / j.qb
	p.attn = j
	p.parallel(&p.attn, j.ap.NHead*j.nqb)
	p.attn = attnJob{}
}

func (j *attnJob) run(w, t int) {
	ap := j.ap
	hd := ap.HeadDim
	h := t / j.nqb
	i0 := (t % j.nqb) * j.qb
	i1 := min(i0+j.qb, j.nq)
	nqr := i1 - i0
	if j.useTile(nqr) {
		j.runTile(w, h, i0, i1)
		return
	}
	kvh := h / (ap.NHead / ap.NHeadKV)
	qw, kw := ap.NHead*hd, ap.NHeadKV*hd

	// With several query rows, each KV block of this head is first copied
	// to contiguous rows (kc, vc), read by every row: the cache rows are
	// NHeadKV·HeadDim apart, a stride that maps a block's rows onto few L1
	// sets and many pages. A single query row (decode) reads the cache in
	// place.
	kvn := attnKVBlock * hd
	buf := j.p.scratch(w, nqr*hd+2*nqr+attnKVBlock+2*kvn)
	acc := buf[:nqr*hd]
	mx := buf[nqr*hd : nqr*hd+nqr]
	l := buf[nqr*hd+nqr : nqr*hd+2*nqr]
	s := buf[nqr*hd+2*nqr : nqr*hd+2*nqr+attnKVBlock]
	kc := buf[nqr*hd+2*nqr+attnKVBlock:][:kvn]
	vc := buf[nqr*hd+2*nqr+attnKVBlock+kvn:][:kvn]
	pack := nqr >= 4
	var kc16, vc16 []uint16
	if j.kh != nil {
		b16 := j.p.scratch16(w, 2*kvn)
		kc16, vc16 = b16[:kvn], b16[kvn:]
	}
	clear(acc)
	for r := range mx {
		mx[r] = float32(math.Inf(-1))
		l[r] = 0
	}
	// KV rows any query of this block may see.
	end := j.nkv
	if ap.Causal {
		end = min(end, ap.QPos0+i1)
	}
	for t0 := 0; t0 < end; t0 += attnKVBlock {
		t1 := min(t0+attnKVBlock, end)
		for t := t0; t < t1 && pack; t++ {
			src := t*kw + kvh*hd
			dst := (t - t0) * hd
			if j.kh != nil {
				copy(kc16[dst:dst+hd], j.kh[src:src+hd])
				copy(vc16[dst:dst+hd], j.vh[src:src+hd])
			} else {
				copy(kc[dst:dst+hd], j.kf[src:src+hd])
				copy(vc[dst:dst+hd], j.vf[src:src+hd])
			}
		}
		for r := 0; r < nqr; r++ {
			te := t1
			if ap.Causal {
				te = min(te, ap.QPos0+i0+r+1)
			}
			if te <= t0 {
				continue
			}
			qi := j.q[(i0+r)*qw+h*hd : (i0+r)*qw+h*hd+hd]
			nr := te - t0
			// K and V rows of the block: packed, or in the cache
			ks, ks16, vs, vs16, ld := kc, kc16, vc, vc16, hd
			if !pack {
				kb := t0*kw + kvh*hd
				ld = kw
				if j.kh != nil {
					ks16, vs16 = j.kh[kb:kb+(nr-1)*kw+hd], j.vh[kb:kb+(nr-1)*kw+hd]
				} else {
					ks, vs = j.kf[kb:kb+(nr-1)*kw+hd], j.vf[kb:kb+(nr-1)*kw+hd]
				}
			}
			var tm float32 // largest scaled score of the block
			if j.kh != nil {
				tm = impl.scoresF16(s[:nr], qi, ks16, ld, ap.Scale)
			} else {
				tm = impl.scoresF32(s[:nr], qi, ks, ld, ap.Scale)
			}
			ar := acc[r*hd : r*hd+hd]
			if tm > mx[r] {
				c := expf(mx[r] - tm)
				Scale(ar, c)
				l[r] *= c
				mx[r] = tm
			}
			l[r] += impl.expSub(s[:nr], mx[r])
			if j.vh != nil {
				impl.weightedF16(ar, s[:nr], vs16, ld)
			} else {
				impl.weightedF32(ar, s[:nr], vs, ld)
			}
		}
	}
	for r := 0; r < nqr; r++ {
		o := j.out[(i0+r)*qw+h*hd : (i0+r)*qw+h*hd+hd]
		if l[r] == 0 {
			clear(o)
			continue
		}
		inv := 1 / l[r]
		for e, v := range acc[r*hd : r*hd+hd] {
			o[e] = v * inv
		}
	}
}

// scoresF32Generic: s[t] = scale · (q · k[t·ldk : t·ldk+len(q)]); returns
// the largest s[t] (−Inf when s is empty).
func scoresF32Generic(s, q, k []float32, ldk int, scale float32) float32 {
	m := float32(math.Inf(-1))
	for t := range s {
		d := impl.dotF32(q, k[t*ldk:t*ldk+len(q)]) * scale
		s[t] = d
		if d > m {
			m = d
		}
	}
	return m
}

// scoresF16Generic is scoresF32Generic over fp16 keys.
func scoresF16Generic(s, q []float32, k []uint16, ldk int, scale float32) float32 {
	m := float32(math.Inf(-1))
	for t := range s {
		d := impl.dotF16(k[t*ldk:t*ldk+len(q)], q) * scale
		s[t] = d
		if d > m {
			m = d
		}
	}
	return m
}

// weightedF32Generic: y += Σ_t p[t]·v[t·ldv : t·ldv+len(y)].
func weightedF32Generic(y, p, v []float32, ldv int) {
	for t, pt := range p {
		impl.axpyF32(y, pt, v[t*ldv:t*ldv+len(y)])
	}
}

// weightedF16Generic is weightedF32Generic over fp16 values.
func weightedF16Generic(y, p []float32, v []uint16, ldv int) {
	for t, pt := range p {
		impl.axpyF16(y, pt, v[t*ldv:t*ldv+len(y)])
	}
}
