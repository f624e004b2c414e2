package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// naiveAttention is softmax(scale·q·kᵀ)·v per head in float64 with the
// whole score matrix: the oracle for the tiled kernels.
func naiveAttention(q []float32, nq int, k, v []float64, nkv int, ap AttnParams) []float64 {
	hd := ap.HeadDim
	qw, kw := ap.NHead*hd, ap.NHeadKV*hd
	out := make([]float64, nq*qw)
	for h := 0; h < ap.NHead; h++ {
		kh := h / (ap.NHead / ap.NHeadKV)
		for i := 0; i < nq; i++ {
			end := nkv
			if ap.Causal {
				end = min(nkv, ap.QPos0+i+1)
			}
			s := make([]float64, end)
			m := math.Inf(-1)
			for t := 0; t < end; t++ {
				var d float64
				for e := 0; e < hd; e++ {
					d += float64(q[i*qw+h*hd+e]) * k[t*kw+kh*hd+e]
				}
				s[t] = d * float64(ap.Scale)
				m = math.Max(m, s[t])
			}
			var z float64
			for t := range s {
				s[t] = math.Exp(s[t] - m)
				z += s[t]
			}
			for t := range s {
				for e := 0; e < hd; e++ {
					out[i*qw+h*hd+e] += s[t] / z * v[t*kw+kh*hd+e]
				}
			}
		}
	}
	return out
}

// withAttnPath runs f with the per-row attention path only ("rows") and
// with the tiled path for every task it accepts ("tile": the
// implementation's tile kernels, or the generic ones where it has none).
func withAttnPath(t *testing.T, f func(t *testing.T)) {
	for _, path := range []string{"rows", "tile"} {
		t.Run(path, func(t *testing.T) {
			prev := impl.attnTile
			defer func() { impl.attnTile = prev }()
			switch {
			case path == "rows":
				impl.attnTile = nil
			case prev == nil:
				impl.attnTile = &attnTileGeneric
			}
			f(t)
		})
	}
}

func TestAttention(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		withAttnPath(t, testAttention)
	})
}

func testAttention(t *testing.T) {
	for _, threads := range []int{1, 2} {
		p := NewPool(threads)
		defer p.Close()
		r := rand.New(rand.NewPCG(11, uint64(threads)))
		for _, c := range []struct {
			nq, nkv int
			ap      AttnParams
		}{
			{1, 1, AttnParams{NHead: 1, NHeadKV: 1, HeadDim: 8, Causal: true}},
			{1, 100, AttnParams{NHead: 4, NHeadKV: 4, HeadDim: 128, Causal: true, QPos0: 99}},  // decode
			{37, 37, AttnParams{NHead: 2, NHeadKV: 2, HeadDim: 112}},                           // ViT-like, bidirectional
			{20, 50, AttnParams{NHead: 4, NHeadKV: 2, HeadDim: 16, Causal: true, QPos0: 30}},   // GQA, prefill after a cache
			{5, 70, AttnParams{NHead: 2, NHeadKV: 1, HeadDim: 33, Causal: false}},              // odd head dim
			{17, 17, AttnParams{NHead: 3, NHeadKV: 3, HeadDim: 64, Causal: true}},              // causal from 0
			{130, 150, AttnParams{NHead: 2, NHeadKV: 1, HeadDim: 32, Causal: true, QPos0: 20}}, // several query blocks, KV tail
			{70, 45, AttnParams{NHead: 1, NHeadKV: 1, HeadDim: 16}},                            // tail blocks, bidirectional
		} {
			ap := c.ap
			ap.Scale = float32(1 / math.Sqrt(float64(ap.HeadDim)))
			qw, kw := ap.NHead*ap.HeadDim, ap.NHeadKV*ap.HeadDim
			q := randFloats(r, c.nq*qw, false)
			k := randFloats(r, c.nkv*kw, false)
			v := randFloats(r, c.nkv*kw, false)
			for i := range k {
				k[i] *= 2 // peakier softmax
			}
			kh, vh := make([]uint16, len(k)), make([]uint16, len(v))
			k64, v64, kh64, vh64 := make([]float64, len(k)), make([]float64, len(v)), make([]float64, len(k)), make([]float64, len(v))
			for i := range k {
				kh[i], vh[i] = quant.FP32ToFP16(k[i]), quant.FP32ToFP16(v[i])
				k64[i], v64[i] = float64(k[i]), float64(v[i])
				kh64[i], vh64[i] = float64(quant.FP16ToFP32(kh[i])), float64(quant.FP16ToFP32(vh[i]))
			}
			out := make([]float32, c.nq*qw)
			out16 := make([]float32, c.nq*qw)
			p.AttentionF32(out, q, c.nq, k, v, c.nkv, ap)
			p.AttentionF16(out16, q, c.nq, kh, vh, c.nkv, ap)
			want := naiveAttention(q, c.nq, k64, v64, c.nkv, ap)
			want16 := naiveAttention(q, c.nq, kh64, vh64, c.nkv, ap)
			// Outputs are convex combinations of v (|v| ≲ 5): float32
			// scores and weights give ~1e-6 relative error.
			for i := range out {
				if math.Abs(float64(out[i])-want[i]) > 2e-5 || math.Abs(float64(out16[i])-want16[i]) > 2e-5 {
					t.Fatalf("t%d %+v nq=%d nkv=%d: out[%d] f32 %g f16 %g want %g / %g", threads, ap, c.nq, c.nkv, i, out[i], out16[i], want[i], want16[i])
				}
			}
		}
	}
}

// TestAttnBlockKernels compares each implementation's block kernels
// (scaled scores with their maximum, weighted value sums) with float64
// sums, over head dimensions with and without a SIMD width and row counts
// around the kernels' groups of 4 and 8.
func TestAttnBlockKernels(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 21))
		for _, hd := range []int{8, 16, 24, 33, 112, 128} {
			for _, rows := range []int{1, 3, 4, 5, 8, 9, 31, 32} {
				ld := hd + 7 // rows not contiguous
				q := randFloats(r, hd, false)
				k := randFloats(r, rows*ld, false)
				k16 := make([]uint16, len(k))
				for i := range k {
					k16[i] = quant.FP32ToFP16(k[i])
				}
				const scale = -0.37 // negative: the maximum is not that of the raw dots
				s, s16 := make([]float32, rows), make([]float32, rows)
				m, m16 := impl.scoresF32(s, q, k, ld, scale), impl.scoresF16(s16, q, k16, ld, scale)
				wm, wm16 := math.Inf(-1), math.Inf(-1)
				for i := 0; i < rows; i++ {
					var d, d16, mag float64
					for e := 0; e < hd; e++ {
						d += float64(q[e]) * float64(k[i*ld+e])
						d16 += float64(q[e]) * float64(quant.FP16ToFP32(k16[i*ld+e]))
						mag += math.Abs(float64(q[e]) * float64(k[i*ld+e]))
					}
					d, d16 = d*scale, d16*scale
					tol := 4 * float64(hd) * 0x1p-24 * (mag + 1)
					if math.Abs(float64(s[i])-d) > tol || math.Abs(float64(s16[i])-d16) > tol {
						t.Fatalf("hd=%d rows=%d: s[%d] = %g / %g, want %g / %g", hd, rows, i, s[i], s16[i], d, d16)
					}
					wm, wm16 = math.Max(wm, float64(s[i])), math.Max(wm16, float64(s16[i]))
				}
				if float64(m) != wm || float64(m16) != wm16 {
					t.Fatalf("hd=%d rows=%d: max %g / %g, want %g / %g", hd, rows, m, m16, wm, wm16)
				}
				// weighted: y += Σ p[t]·v_t
				p := randFloats(r, rows, false)
				y0 := randFloats(r, hd, false)
				y, y16 := append([]float32(nil), y0...), append([]float32(nil), y0...)
				impl.weightedF32(y, p, k, ld)
				impl.weightedF16(y16, p, k16, ld)
				for e := 0; e < hd; e++ {
					want, want16, mag := float64(y0[e]), float64(y0[e]), math.Abs(float64(y0[e]))
					for i := 0; i < rows; i++ {
						want += float64(p[i]) * float64(k[i*ld+e])
						want16 += float64(p[i]) * float64(quant.FP16ToFP32(k16[i*ld+e]))
						mag += math.Abs(float64(p[i]) * float64(k[i*ld+e]))
					}
					tol := 4 * float64(rows+1) * 0x1p-24 * (mag + 1)
					if math.Abs(float64(y[e])-want) > tol || math.Abs(float64(y16[e])-want16) > tol {
						t.Fatalf("hd=%d rows=%d: y[%d] = %g / %g, want %g / %g", hd, rows, e, y[e], y16[e], want, want16)
					}
				}
			}
		}
		var s []float32
		if m := impl.scoresF32(s, make([]float32, 16), nil, 16, 1); !math.IsInf(float64(m), -1) {
			t.Fatalf("max of no scores = %g, want -Inf", m)
		}
	})
}

// TestAttnTileKernels compares each implementation's tile kernels
// (attntile.go; the generic ones where it has none) with float64
// computations, over head dimensions of the models and not, key counts
// around the kernels' key groups, one and two query vector pairs, and
// causal limits that mask none, some and all of a lane's keys.
func TestAttnTileKernels(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		tk := impl.attnTile
		if tk == nil {
			tk = &attnTileGeneric
		}
		r := rand.New(rand.NewPCG(31, 31))
		for _, hd := range []int{16, 48, 112, 128} {
			for _, lanes := range [][2]int{{32, 32}, {64, 64}, {64, 32}} {
				qs, nl := lanes[0], lanes[1] // row stride, lanes computed
				for _, nk := range []int{1, 3, 4, 5, 8, 9, 17, 31, 32} {
					ld := hd + 5
					// scores
					qt := randFloats(r, hd*qs, false)
					k := randFloats(r, nk*ld, false)
					st := randFloats(r, nk*qs, false) // overwritten where q < nl
					st0 := append([]float32(nil), st...)
					tk.scores(st, qs, nl, qt, k, ld, nk, hd)
					for tt := 0; tt < nk; tt++ {
						for q := nl; q < qs; q++ {
							if st[tt*qs+q] != st0[tt*qs+q] {
								t.Fatalf("scores hd=%d qs=%d nl=%d nk=%d: lane %d written", hd, qs, nl, nk, q)
							}
						}
						for q := 0; q < nl; q++ {
							var want, mag float64
							for d := 0; d < hd; d++ {
								x := float64(k[tt*ld+d]) * float64(qt[d*qs+q])
								want, mag = want+x, mag+math.Abs(x)
							}
							if got := float64(st[tt*qs+q]); math.Abs(got-want) > 4*float64(hd)*0x1p-24*(mag+1) {
								t.Fatalf("scores hd=%d qs=%d nk=%d: st[%d][%d] = %g, want %g", hd, qs, nk, tt, q, got, want)
							}
						}
					}
					// softmax, from the start (m = −MaxFloat32) and from a
					// running state, under several causal limits
					for _, lim0 := range []int{nk, nk - 3, 1, 0, -7} {
						s0 := randFloats(r, nk*qs, false)
						m0, l0 := make([]float32, qs), make([]float32, qs)
						for q := range m0 {
							m0[q], l0[q] = -math.MaxFloat32, 0
							if q%3 != 0 {
								m0[q], l0[q] = float32(r.NormFloat64()), 1+r.Float32()*5
							}
						}
						s, m, l, c := append([]float32(nil), s0...), append([]float32(nil), m0...), append([]float32(nil), l0...), make([]float32, qs)
						tk.softmax(s, qs, nk, m, l, c, lim0)
						for q := 0; q < qs; q++ {
							n := min(nk, max(lim0+q, 0))
							mw := float64(m0[q])
							for tt := 0; tt < n; tt++ {
								mw = math.Max(mw, float64(s0[tt*qs+q]))
							}
							cw := math.Exp(float64(m0[q]) - mw)
							lw := cw * float64(l0[q])
							for tt := 0; tt < nk; tt++ {
								pw := 0.0
								if tt < n {
									pw = math.Exp(float64(s0[tt*qs+q]) - mw)
								}
								lw += pw
								if got := float64(s[tt*qs+q]); math.Abs(got-pw) > 1e-6*pw+0x1p-149 || (pw == 0 && got != 0) {
									t.Fatalf("softmax hd=%d qs=%d nk=%d lim0=%d: p[%d][%d] = %g, want %g", hd, qs, nk, lim0, tt, q, got, pw)
								}
							}
							if float64(m[q]) != mw || math.Abs(float64(c[q])-cw) > 1e-6*cw || math.Abs(float64(l[q])-lw) > 1e-6*lw {
								t.Fatalf("softmax hd=%d qs=%d nk=%d lim0=%d lane %d: m c l = %g %g %g, want %g %g %g", hd, qs, nk, lim0, q, m[q], c[q], l[q], mw, cw, lw)
							}
						}
					}
					// values
					p := randFloats(r, nk*qs, false)
					v := randFloats(r, nk*ld, false)
					c := randFloats(r, qs, false)
					acc0 := randFloats(r, qs*hd, false)
					acc := append([]float32(nil), acc0...)
					tk.values(acc, hd, p, qs, nl, v, ld, nk, c)
					for q := nl; q < qs; q++ {
						for d := 0; d < hd; d++ {
							if acc[q*hd+d] != acc0[q*hd+d] {
								t.Fatalf("values hd=%d qs=%d nl=%d nk=%d: row %d written", hd, qs, nl, nk, q)
							}
						}
					}
					for q := 0; q < nl; q++ {
						for d := 0; d < hd; d++ {
							want := float64(c[q]) * float64(acc0[q*hd+d])
							mag := math.Abs(want)
							for tt := 0; tt < nk; tt++ {
								x := float64(p[tt*qs+q]) * float64(v[tt*ld+d])
								want, mag = want+x, mag+math.Abs(x)
							}
							if got := float64(acc[q*hd+d]); math.Abs(got-want) > 4*float64(nk+2)*0x1p-24*(mag+1) {
								t.Fatalf("values hd=%d qs=%d nk=%d: acc[%d][%d] = %g, want %g", hd, qs, nk, q, d, got, want)
							}
						}
					}
				}
			}
			// query transposition and output rows, over row counts around
			// the kernels' groups of 8 and 16
			for _, rows := range []int{1, 7, 8, 17, 32} {
				const qs, ldq = 32, 200
				q := randFloats(r, (rows-1)*ldq+hd, false)
				qt := randFloats(r, hd*qs, false)
				qt0 := append([]float32(nil), qt...)
				tk.loadQ(qt, qs, q, ldq, rows, hd, -0.3)
				for d := 0; d < hd; d++ {
					for q0 := 0; q0 < qs; q0++ {
						want := qt0[d*qs+q0]
						if q0 < rows {
							want = q[q0*ldq+d] * -0.3
						}
						if qt[d*qs+q0] != want {
							t.Fatalf("loadQ hd=%d rows=%d: qt[%d][%d] = %g, want %g", hd, rows, d, q0, qt[d*qs+q0], want)
						}
					}
				}
				acc, inv := randFloats(r, rows*hd, false), randFloats(r, rows, false)
				out := randFloats(r, (rows-1)*ldq+hd+7, false)
				out0 := append([]float32(nil), out...)
				tk.storeOut(out, ldq, acc, hd, inv, rows)
				for i := range out {
					want := out0[i]
					if rr, d := i/ldq, i%ldq; rr < rows && d < hd {
						want = acc[rr*hd+d] * inv[rr]
					}
					if out[i] != want {
						t.Fatalf("storeOut hd=%d rows=%d: out[%d] = %g, want %g", hd, rows, i, out[i], want)
					}
				}
			}
			// K/V blocks made contiguous, fp16 converted: random bit
			// patterns (NaN, ±Inf and subnormals among them)
			for _, rows := range []int{1, 5, 9} {
				ld := hd + 24
				src := make([]uint16, (rows-1)*ld+hd)
				src32 := make([]float32, len(src))
				for i := range src {
					src[i] = uint16(r.Uint32())
					src32[i] = math.Float32frombits(r.Uint32())
				}
				src[0], src[1], src[2] = 0x7c00, 0xfc00, 0x0001 // ±Inf, smallest subnormal
				dst, dst32 := randFloats(r, rows*hd+5, false), randFloats(r, rows*hd+5, false)
				tail, tail32 := append([]float32(nil), dst[rows*hd:]...), append([]float32(nil), dst32[rows*hd:]...)
				tk.gatherF16(dst, src, ld, rows, hd)
				tk.gatherF32(dst32, src32, ld, rows, hd)
				for tt := 0; tt < rows; tt++ {
					for d := 0; d < hd; d++ {
						h, got := src[tt*ld+d], dst[tt*hd+d]
						if want := quant.FP16ToFP32(h); math.Float32bits(got) != math.Float32bits(want) && !(want != want && got != got) {
							t.Fatalf("gatherF16 row %d: %#04x -> %g, want %g", tt, h, got, want)
						}
						if got, want := dst32[tt*hd+d], src32[tt*ld+d]; math.Float32bits(got) != math.Float32bits(want) {
							t.Fatalf("gatherF32 row %d dim %d: %g, want %g", tt, d, got, want)
						}
					}
				}
				for i := range tail {
					if dst[rows*hd+i] != tail[i] || math.Float32bits(dst32[rows*hd+i]) != math.Float32bits(tail32[i]) {
						t.Fatalf("gather rows=%d wrote past the block", rows)
					}
				}
			}
		}
	})
}
