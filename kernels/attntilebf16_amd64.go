//go:build !purego

package kernels

//go:noescape
func attnScoresBF16AVX512(st *float32, qs, nl int, qt *uint16, k *uint16, nk, hd int)

//go:noescape
func attnValuesBF16AVX512(acc *float32, hd int, p *uint16, qs, nl int, v *uint16, nu int, c *float32)

//go:noescape
func attnGatherKBF16AVX512(dst *uint16, src *float32, ld, rows, hd int)

//go:noescape
func attnPairRowsBF16AVX512(dst *uint16, src *float32, ld, rows, hd int)

// attnTileBF16AVX512 returns the bf16 tile kernels of
// attntilebf16_amd64.s. The wrappers check the slice bounds the assembly
// relies on; shapes it does not take go to the generic twins.
func attnTileBF16AVX512() *attnTileBF16 {
	return &attnTileBF16{
		scores: func(st []float32, qs, nl int, qt, k []uint16, nk, hd int) {
			if qs%attnTileLanes != 0 || nl%attnTileLanes != 0 || nl > qs || hd%16 != 0 || hd == 0 || nl == 0 || nk <= 0 {
				attnScoresBF16Generic(st, qs, nl, qt, k, nk, hd)
				return
			}
			_, _, _ = st[(nk-1)*qs+nl-1], qt[(hd/2-1)*2*qs+2*nl-1], k[nk*hd-1]
			attnScoresBF16AVX512(&st[0], qs, nl, &qt[0], &k[0], nk, hd)
		},
		values: func(acc []float32, hd int, p []uint16, qs, nl int, v []uint16, nu int, c []float32) {
			if qs%attnTileLanes != 0 || nl%attnTileLanes != 0 || nl > qs || hd%16 != 0 || hd == 0 || nl == 0 || nu <= 0 {
				attnValuesBF16Generic(acc, hd, p, qs, nl, v, nu, c)
				return
			}
			_, _, _, _ = acc[nl*hd-1], p[2*((nu-1)*qs+nl)-1], v[2*nu*hd-1], c[nl-1]
			attnValuesBF16AVX512(&acc[0], hd, &p[0], qs, nl, &v[0], nu, &c[0])
		},
		gatherK: func(dst []uint16, src []float32, ld, rows, hd int) {
			if rows <= 0 || hd%16 != 0 || hd == 0 {
				attnGatherKBF16Generic(dst, src, ld, rows, hd)
				return
			}
			_, _ = dst[rows*hd-1], src[(rows-1)*ld+hd-1]
			attnGatherKBF16AVX512(&dst[0], &src[0], ld, rows, hd)
		},
		pairRows: func(dst []uint16, src []float32, ld, rows, hd int) {
			if rows <= 0 || hd%16 != 0 || hd == 0 {
				attnPairRowsBF16Generic(dst, src, ld, rows, hd)
				return
			}
			_, _ = dst[(rows+1)/2*2*hd-1], src[(rows-1)*ld+hd-1]
			attnPairRowsBF16AVX512(&dst[0], &src[0], ld, rows, hd)
		},
	}
}
