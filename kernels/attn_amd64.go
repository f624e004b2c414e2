//go:build !purego

package kernels

//go:noescape
func scoresF32AVX2(s *float32, q *float32, k *float32, ldk, rows, n int)

//go:noescape
func scoresF16AVX2(s *float32, q *float32, k *uint16, ldk, rows, n int)

//go:noescape
func weightedF32AVX2(y *float32, p *float32, v *float32, ldv, rows, n int)

//go:noescape
func weightedF16AVX2(y *float32, p *float32, v *uint16, ldv, rows, n int)

// attnAVX2 installs the attention kernels of attn_amd64.s. The wrappers
// check that every row is in bounds; head dimensions that are not a
// multiple of 8 take the generic code.
func attnAVX2(t *table) {
	t.scoresF32 = func(s, q, k []float32, ldk int) {
		n, rows := len(q), len(s)
		if n%8 != 0 || n == 0 || rows == 0 {
			scoresF32Generic(s, q, k, ldk)
			return
		}
		_ = k[(rows-1)*ldk+n-1]
		scoresF32AVX2(&s[0], &q[0], &k[0], ldk, rows, n)
	}
	t.scoresF16 = func(s, q []float32, k []uint16, ldk int) {
		n, rows := len(q), len(s)
		if n%8 != 0 || n == 0 || rows == 0 {
			scoresF16Generic(s, q, k, ldk)
			return
		}
		_ = k[(rows-1)*ldk+n-1]
		scoresF16AVX2(&s[0], &q[0], &k[0], ldk, rows, n)
	}
	t.weightedF32 = func(y, p, v []float32, ldv int) {
		n, rows := len(y), len(p)
		if n%8 != 0 || n == 0 || rows == 0 {
			weightedF32Generic(y, p, v, ldv)
			return
		}
		_ = v[(rows-1)*ldv+n-1]
		weightedF32AVX2(&y[0], &p[0], &v[0], ldv, rows, n)
	}
	t.weightedF16 = func(y, p []float32, v []uint16, ldv int) {
		n, rows := len(y), len(p)
		if n%8 != 0 || n == 0 || rows == 0 {
			weightedF16Generic(y, p, v, ldv)
			return
		}
		_ = v[(rows-1)*ldv+n-1]
		weightedF16AVX2(&y[0], &p[0], &v[0], ldv, rows, n)
	}
}
