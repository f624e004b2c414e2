//go:build !purego

package kernels

//go:noescape
func streamSumAVX2(p *uint64, n int) uint64

//go:noescape
func streamSumAVX512(p *uint64, n int) uint64

// streamSumFn returns the widest streaming-sum loop f allows: 512-bit
// loads with AVX-512, 256-bit with AVX2, else the Go loop. Each sums the
// whole multiple of its block and leaves the tail to sumWordsGo.
func streamSumFn(f Features) func([]uint64) uint64 {
	var fn func(*uint64, int) uint64
	var block int
	switch {
	case f.AVX512VNNI:
		fn, block = streamSumAVX512, 32
	case f.AVX2:
		fn, block = streamSumAVX2, 16
	default:
		return sumWordsGo
	}
	return func(s []uint64) uint64 {
		n := len(s) - len(s)%block
		var sum uint64
		if n > 0 {
			sum = fn(&s[0], n)
		}
		return sum + sumWordsGo(s[n:])
	}
}
