package kernels

import (
	"math"

	"github.com/cogedge/cogedge/quant"
)

// The tiled path of multi-row attention (prefill, ViT). A task's query
// rows are transposed once into qt (HeadDim × qs, pre-scaled, query rows
// in SIMD lanes, padded with zeros to qs, a multiple of attnTileLanes).
// For each block of KV rows, copied (and converted from fp16) into
// contiguous float32 rows:
//
//	scores:  st[t·qs+r] = Σ_d k[t][d]·qt[d·qs+r]     (no horizontal sums)
//	softmax: per lane r, the online-softmax step over the block's column
//	         st[··qs+r], with the causal mask t < lim0+r
//	values:  acc[r][·] = c[r]·acc[r][·] + Σ_t st[t·qs+r]·v[t][·]
//
// Each kernel keeps a register tile of several keys (or query rows) by
// several vectors, so one load feeds several FMAs.

const (
	attnTileLanes = 32 // qs granularity: the widest kernel's query vector pair
	attnTileMin   = 16 // fewer query rows per task take the per-row path
	// query rows per task and KV rows per block on the tiled path
	attnTileQBlock  = 256
	attnTileKVBlock = 128
)

// attnTile is one implementation of the three tile kernels.
type attnTile struct {
	// scores: st[t·qs+r] = Σ_{d<hd} k[t·ldk+d]·qt[d·qs+r], t < nk, r < nl
	// (nl ≤ qs, both multiples of attnTileLanes for the assembly).
	scores func(st []float32, qs, nl int, qt, k []float32, ldk, nk, hd int)
	// softmax: for each lane r < qs, over keys t < nk visible when
	// t < lim0+r: new maximum m'[r] = max(m[r], max_t st), c[r] =
	// e^(m[r]−m'[r]), st[t·qs+r] = e^(st−m'[r]) (0 where masked), l[r] =
	// c[r]·l[r] + Σ_t st[t·qs+r], m[r] = m'[r].
	softmax func(st []float32, qs, nk int, m, l, c []float32, lim0 int)
	// values: acc[r·hd+d] = c[r]·acc[r·hd+d] + Σ_{t<nk} p[t·qs+r]·v[t·ldv+d]
	// for r < nl, d < hd.
	values func(acc []float32, hd int, p []float32, qs, nl int, v []float32, ldv, nk int, c []float32)
	// gatherF32, gatherF16: dst[t·hd+d] = src[t·ld+d] for t < rows, d < hd
	// (a block of K or V rows made contiguous, fp16 converted)
	gatherF32 func(dst, src []float32, ld, rows, hd int)
	gatherF16 func(dst []float32, src []uint16, ld, rows, hd int)
	// loadQ: qt[d·qs+r] = scale·q[r·ldq+d] for r < rows, d < hd
	loadQ func(qt []float32, qs int, q []float32, ldq, rows, hd int, scale float32)
	// storeOut: out[r·ldo+d] = acc[r·hd+d]·inv[r] for r < rows, d < hd
	storeOut func(out []float32, ldo int, acc []float32, hd int, inv []float32, rows int)
}

var attnTileGeneric = attnTile{attnScoresGeneric, attnSoftmaxGeneric, attnValuesGeneric, attnGatherF32Generic, attnGatherF16Generic, attnLoadQGeneric, attnStoreOutGeneric}

// useTile reports whether a task of nqr query rows takes the tiled path.
func (j *attnJob) useTile(nqr int) bool {
	return impl.attnTile != nil && nqr >= attnTileMin && j.ap.HeadDim%16 == 0
}

// runTile is attnJob.run for one head h and query rows i0..i1 on the tiled
// path.
func (j *attnJob) runTile(w, h, i0, i1 int) {
	ap := j.ap
	hd := ap.HeadDim
	nqr := i1 - i0
	qs := (nqr + attnTileLanes - 1) / attnTileLanes * attnTileLanes
	kvh := h / (ap.NHead / ap.NHeadKV)
	qw, kw := ap.NHead*hd, ap.NHeadKV*hd
	tk := impl.attnTile
	tb := impl.attnBF16 // bf16 kernels, when allowed
	if !ap.BF16 {
		tb = nil
	}

	kvn := attnTileKVBlock * hd
	buf := j.p.scratch(w, hd*qs+attnTileKVBlock*qs+qs*hd+3*qs+2*kvn)
	qt, buf := buf[:hd*qs], buf[hd*qs:]
	st, buf := buf[:attnTileKVBlock*qs], buf[attnTileKVBlock*qs:]
	acc, buf := buf[:qs*hd], buf[qs*hd:]
	m, l, c, buf := buf[:qs], buf[qs:2*qs], buf[2*qs:3*qs], buf[3*qs:]
	kc, vc := buf[:kvn], buf[kvn:2*kvn]
	// the bf16 words: qt, a K block, a V block and the probabilities
	var qb, kb, vb, pb []uint16
	if tb != nil {
		b16 := j.p.scratch16(w, hd*qs+2*kvn+attnTileKVBlock*qs)
		qb, kb, vb, pb = b16[:hd*qs], b16[hd*qs:hd*qs+kvn], b16[hd*qs+kvn:hd*qs+2*kvn], b16[hd*qs+2*kvn:]
	}
	// scores of keys 0..n−1 for lanes r0..r0+nl−1, and their values
	scores := func(r0, nl, n int) {
		if tb != nil {
			tb.scores(st[r0:], qs, nl, qb[2*r0:], kb, n, hd)
			return
		}
		tk.scores(st[r0:], qs, nl, qt[r0:], kc, hd, n, hd)
	}
	values := func(r0, nl, n int) {
		if tb != nil {
			tb.values(acc[r0*hd:], hd, pb[2*r0:], qs, nl, vb, (n+1)/2, c[r0:])
			return
		}
		tk.values(acc[r0*hd:], hd, st[r0:], qs, nl, vc, hd, n, c[r0:])
	}

	clear(qt)
	tk.loadQ(qt, qs, j.q[i0*qw+h*hd:], qw, nqr, hd, ap.Scale)
	if tb != nil {
		// word (i, r) pairs the rows 2i and 2i+1 of qt
		tb.pairRows(qb, qt, qs, hd, qs)
	}
	clear(acc)
	for r := range m {
		// finite: the first block's correction e^(m−m') is 0, never NaN
		m[r] = -math.MaxFloat32
		l[r] = 0
	}
	end := j.nkv
	if ap.Causal {
		end = min(end, ap.QPos0+i1)
	}
	for t0 := 0; t0 < end; t0 += attnTileKVBlock {
		nk := min(attnTileKVBlock, end-t0)
		b := t0*kw + kvh*hd
		switch {
		case tb != nil && j.kh != nil:
			// fp16 → float32 → bf16 (the float32 step is exact)
			tk.gatherF16(kc, j.kh[b:], kw, nk, hd)
			tk.gatherF16(vc, j.vh[b:], kw, nk, hd)
			tb.gatherK(kb, kc, hd, nk, hd)
			tb.pairRows(vb, vc, hd, nk, hd)
		case tb != nil:
			tb.gatherK(kb, j.kf[b:], kw, nk, hd)
			tb.pairRows(vb, j.vf[b:], kw, nk, hd)
		case j.kh != nil:
			tk.gatherF16(kc, j.kh[b:], kw, nk, hd)
			tk.gatherF16(vc, j.vh[b:], kw, nk, hd)
		default:
			tk.gatherF32(kc, j.kf[b:], kw, nk, hd)
			tk.gatherF32(vc, j.vf[b:], kw, nk, hd)
		}
		// lane r sees key t0+t when t0+t ≤ QPos0+i0+r
		lim0 := nk
		if ap.Causal {
			lim0 = min(nk, ap.QPos0+i0+1-t0)
		}
		if lim0 >= nk {
			scores(0, qs, nk)
			tk.softmax(st, qs, nk, m, l, c, lim0)
			if tb != nil {
				tb.pairRows(pb, st, qs, nk, qs)
			}
			values(0, qs, nk)
			continue
		}
		// A block on the causal diagonal: each group of lanes skips the
		// keys none of its rows sees (their p are 0 after the softmax).
		for r0 := 0; r0 < qs; r0 += attnTileLanes {
			if n := min(nk, lim0+r0+attnTileLanes-1); n > 0 {
				scores(r0, attnTileLanes, n)
			}
		}
		tk.softmax(st, qs, nk, m, l, c, lim0)
		if tb != nil {
			tb.pairRows(pb, st, qs, nk, qs)
		}
		for r0 := 0; r0 < qs; r0 += attnTileLanes {
			values(r0, attnTileLanes, max(0, min(nk, lim0+r0+attnTileLanes-1)))
		}
	}
	inv := c[:nqr] // free after the last block
	for r := range inv {
		inv[r] = 0
		if l[r] != 0 { // no visible key: the output row is 0
			inv[r] = 1 / l[r]
		}
	}
	tk.storeOut(j.out[i0*qw+h*hd:], qw, acc, hd, inv, nqr)
}

func attnScoresGeneric(st []float32, qs, nl int, qt, k []float32, ldk, nk, hd int) {
	for t := 0; t < nk; t++ {
		s := st[t*qs : t*qs+nl]
		clear(s)
		for d, kd := range k[t*ldk : t*ldk+hd] {
			for r, x := range qt[d*qs : d*qs+nl] {
				s[r] += kd * x
			}
		}
	}
}

func attnSoftmaxGeneric(st []float32, qs, nk int, m, l, c []float32, lim0 int) {
	for r := 0; r < qs; r++ {
		n := min(nk, max(lim0+r, 0)) // visible keys of lane r
		mb := m[r]
		for t := 0; t < n; t++ {
			mb = max(mb, st[t*qs+r])
		}
		cr := float32(1)
		if mb != m[r] {
			cr = expf(m[r] - mb)
		}
		var sum float32
		for t := 0; t < nk; t++ {
			p := float32(0)
			if t < n {
				p = expf(st[t*qs+r] - mb)
			}
			st[t*qs+r] = p
			sum += p
		}
		c[r], m[r], l[r] = cr, mb, cr*l[r]+sum
	}
}

func attnValuesGeneric(acc []float32, hd int, p []float32, qs, nl int, v []float32, ldv, nk int, c []float32) {
	for r := 0; r < nl; r++ {
		a := acc[r*hd : r*hd+hd]
		for d := range a {
			a[d] *= c[r]
		}
		for t := 0; t < nk; t++ {
			axpyF32Generic(a, p[t*qs+r], v[t*ldv:t*ldv+hd])
		}
	}
}

func attnGatherF32Generic(dst, src []float32, ld, rows, hd int) {
	for t := 0; t < rows; t++ {
		copy(dst[t*hd:t*hd+hd], src[t*ld:t*ld+hd])
	}
}

func attnGatherF16Generic(dst []float32, src []uint16, ld, rows, hd int) {
	for t := 0; t < rows; t++ {
		for d, h := range src[t*ld : t*ld+hd] {
			dst[t*hd+d] = quant.FP16ToFP32(h)
		}
	}
}

// attnLoadQGeneric works on 16 rows at a time, d outer: the rows' cache
// misses overlap, and each d writes one 64-byte run of qt.
func attnLoadQGeneric(qt []float32, qs int, q []float32, ldq, rows, hd int, scale float32) {
	for r0 := 0; r0 < rows; r0 += 16 {
		n := min(16, rows-r0)
		for d := 0; d < hd; d++ {
			dst := qt[d*qs+r0 : d*qs+r0+n]
			for r := range dst {
				dst[r] = q[(r0+r)*ldq+d] * scale
			}
		}
	}
}

func attnStoreOutGeneric(out []float32, ldo int, acc []float32, hd int, inv []float32, rows int) {
	for r := 0; r < rows; r++ {
		o := out[r*ldo : r*ldo+hd]
		for d, v := range acc[r*hd : r*hd+hd] {
			o[d] = v * inv[r]
		}
	}
}
