//go:build !purego

package kernels

//go:noescape
func scoresF32AVX2(s *float32, q *float32, k *float32, ldk, rows, n int, scale float32) float32

//go:noescape
func scoresF16AVX2(s *float32, q *float32, k *uint16, ldk, rows, n int, scale float32) float32

//go:noescape
func weightedF32AVX2(y *float32, p *float32, v *float32, ldv, rows, n int)

//go:noescape
func weightedF16AVX2(y *float32, p *float32, v *uint16, ldv, rows, n int)

//go:noescape
func scoresF32AVX512(s *float32, q *float32, k *float32, ldk, rows, n int, scale float32) float32

//go:noescape
func scoresF16AVX512(s *float32, q *float32, k *uint16, ldk, rows, n int, scale float32) float32

//go:noescape
func weightedF32AVX512(y *float32, p *float32, v *float32, ldv, rows, n int)

//go:noescape
func weightedF16AVX512(y *float32, p *float32, v *uint16, ldv, rows, n int)

// attnKernels is one implementation of the four attention kernels over
// pointers: head dimension n a multiple of step.
type attnKernels struct {
	step        int
	scoresF32   func(s *float32, q *float32, k *float32, ldk, rows, n int, scale float32) float32
	scoresF16   func(s *float32, q *float32, k *uint16, ldk, rows, n int, scale float32) float32
	weightedF32 func(y *float32, p *float32, v *float32, ldv, rows, n int)
	weightedF16 func(y *float32, p *float32, v *uint16, ldv, rows, n int)
}

var (
	attnYMM = attnKernels{8, scoresF32AVX2, scoresF16AVX2, weightedF32AVX2, weightedF16AVX2}
	attnZMM = attnKernels{16, scoresF32AVX512, scoresF16AVX512, weightedF32AVX512, weightedF16AVX512}
)

// attnAVX2 installs the attention kernels of attn_amd64.s: the AVX-512
// ones when avx512 is set and the head dimension is a multiple of 16,
// else the AVX2 ones (multiple of 8), else the generic code. The wrappers
// check that every row is in bounds.
func attnAVX2(t *table, avx512 bool) {
	pick := func(n int) *attnKernels {
		switch {
		case avx512 && n%16 == 0:
			return &attnZMM
		case n%8 == 0:
			return &attnYMM
		}
		return nil
	}
	t.scoresF32 = func(s, q, k []float32, ldk int, scale float32) float32 {
		n, rows := len(q), len(s)
		ak := pick(n)
		if ak == nil || n == 0 || rows == 0 {
			return scoresF32Generic(s, q, k, ldk, scale)
		}
		_ = k[(rows-1)*ldk+n-1]
		return ak.scoresF32(&s[0], &q[0], &k[0], ldk, rows, n, scale)
	}
	t.scoresF16 = func(s, q []float32, k []uint16, ldk int, scale float32) float32 {
		n, rows := len(q), len(s)
		ak := pick(n)
		if ak == nil || n == 0 || rows == 0 {
			return scoresF16Generic(s, q, k, ldk, scale)
		}
		_ = k[(rows-1)*ldk+n-1]
		return ak.scoresF16(&s[0], &q[0], &k[0], ldk, rows, n, scale)
	}
	t.weightedF32 = func(y, p, v []float32, ldv int) {
		n, rows := len(y), len(p)
		ak := pick(n)
		if ak == nil || n == 0 || rows == 0 {
			weightedF32Generic(y, p, v, ldv)
			return
		}
		_ = v[(rows-1)*ldv+n-1]
		ak.weightedF32(&y[0], &p[0], &v[0], ldv, rows, n)
	}
	t.attnTile = attnTileAVX2(avx512)
	t.weightedF16 = func(y, p []float32, v []uint16, ldv int) {
		n, rows := len(y), len(p)
		ak := pick(n)
		if ak == nil || n == 0 || rows == 0 {
			weightedF16Generic(y, p, v, ldv)
			return
		}
		_ = v[(rows-1)*ldv+n-1]
		ak.weightedF16(&y[0], &p[0], &v[0], ldv, rows, n)
	}
}

//go:noescape
func attnScoresAVX512(st *float32, qs, nl int, qt *float32, k *float32, ldk, nk, hd int)

//go:noescape
func attnValuesAVX512(acc *float32, hd int, p *float32, qs, nl int, v *float32, ldv, nk int, c *float32)

//go:noescape
func attnScoresAVX2(st *float32, qs, nl int, qt *float32, k *float32, ldk, nk, hd int)

//go:noescape
func attnValuesAVX2(acc *float32, hd int, p *float32, qs, nl int, v *float32, ldv, nk int, c *float32)

//go:noescape
func attnSoftmaxAVX2(st *float32, qs, nk int, m, l, c *float32, lim0 int)

//go:noescape
func attnSoftmaxAVX512(st *float32, qs, nk int, m, l, c *float32, lim0 int)

//go:noescape
func attnLoadQAVX2(qt *float32, qs int, q *float32, ldq, rows, hd int, scale float32)

//go:noescape
func attnStoreOutAVX2(out *float32, ldo int, acc *float32, hd int, inv *float32, rows int)

//go:noescape
func attnGatherF32AVX2(dst *float32, src *float32, ld, rows, hd int)

//go:noescape
func attnGatherF16AVX2(dst *float32, src *uint16, ld, rows, hd int)

// attnTileAVX2 returns the tile kernels of attntile_amd64.s and the
// softmax of exp_amd64.s (their AVX-512 versions when avx512 is set). The wrappers check the slice
// bounds the assembly relies on; shapes the assembly does not take (qs not
// a multiple of 32, hd of 16) go to the generic code.
func attnTileAVX2(avx512 bool) *attnTile {
	scores, softmax, values := attnScoresAVX2, attnSoftmaxAVX2, attnValuesAVX2
	if avx512 {
		scores, softmax, values = attnScoresAVX512, attnSoftmaxAVX512, attnValuesAVX512
	}
	return &attnTile{
		scores: func(st []float32, qs, nl int, qt, k []float32, ldk, nk, hd int) {
			if qs%attnTileLanes != 0 || nl%attnTileLanes != 0 || nl > qs || hd%16 != 0 || hd == 0 || nl == 0 || nk <= 0 {
				attnScoresGeneric(st, qs, nl, qt, k, ldk, nk, hd)
				return
			}
			_, _, _ = st[(nk-1)*qs+nl-1], qt[(hd-1)*qs+nl-1], k[(nk-1)*ldk+hd-1]
			scores(&st[0], qs, nl, &qt[0], &k[0], ldk, nk, hd)
		},
		softmax: func(st []float32, qs, nk int, m, l, c []float32, lim0 int) {
			if qs%attnTileLanes != 0 || qs == 0 || nk <= 0 {
				attnSoftmaxGeneric(st, qs, nk, m, l, c, lim0)
				return
			}
			_, _, _, _ = st[nk*qs-1], m[qs-1], l[qs-1], c[qs-1]
			// lane limits stay in int32 and keep their meaning
			softmax(&st[0], qs, nk, &m[0], &l[0], &c[0], min(max(lim0, -qs), nk))
		},
		values: func(acc []float32, hd int, p []float32, qs, nl int, v []float32, ldv, nk int, c []float32) {
			if qs%attnTileLanes != 0 || nl%attnTileLanes != 0 || nl > qs || hd%16 != 0 || hd == 0 || nl == 0 || nk <= 0 {
				attnValuesGeneric(acc, hd, p, qs, nl, v, ldv, nk, c)
				return
			}
			_, _, _, _ = acc[nl*hd-1], p[(nk-1)*qs+nl-1], v[(nk-1)*ldv+hd-1], c[nl-1]
			values(&acc[0], hd, &p[0], qs, nl, &v[0], ldv, nk, &c[0])
		},
		gatherF32: func(dst, src []float32, ld, rows, hd int) {
			if rows == 0 || hd%16 != 0 || hd == 0 {
				attnGatherF32Generic(dst, src, ld, rows, hd)
				return
			}
			_, _ = dst[rows*hd-1], src[(rows-1)*ld+hd-1]
			attnGatherF32AVX2(&dst[0], &src[0], ld, rows, hd)
		},
		gatherF16: func(dst []float32, src []uint16, ld, rows, hd int) {
			if rows == 0 || hd%16 != 0 || hd == 0 {
				attnGatherF16Generic(dst, src, ld, rows, hd)
				return
			}
			_, _ = dst[rows*hd-1], src[(rows-1)*ld+hd-1]
			attnGatherF16AVX2(&dst[0], &src[0], ld, rows, hd)
		},
		loadQ: func(qt []float32, qs int, q []float32, ldq, rows, hd int, scale float32) {
			n := rows &^ 7
			if n == 0 || hd%8 != 0 || hd == 0 {
				attnLoadQGeneric(qt, qs, q, ldq, rows, hd, scale)
				return
			}
			_, _ = qt[(hd-1)*qs+n-1], q[(n-1)*ldq+hd-1]
			attnLoadQAVX2(&qt[0], qs, &q[0], ldq, n, hd, scale)
			if n < rows {
				attnLoadQGeneric(qt[n:], qs, q[n*ldq:], ldq, rows-n, hd, scale)
			}
		},
		storeOut: func(out []float32, ldo int, acc []float32, hd int, inv []float32, rows int) {
			if rows == 0 || hd%16 != 0 || hd == 0 {
				attnStoreOutGeneric(out, ldo, acc, hd, inv, rows)
				return
			}
			_, _, _ = out[(rows-1)*ldo+hd-1], acc[rows*hd-1], inv[rows-1]
			attnStoreOutAVX2(&out[0], ldo, &acc[0], hd, &inv[0], rows)
		},
	}
}
