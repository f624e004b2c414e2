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
