package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestStreamReadBandwidth(t *testing.T) {
	for _, threads := range []int{1, 3} {
		bw := StreamReadBandwidth(threads, 4<<20)
		if !(bw > 0) || math.IsInf(bw, 0) {
			t.Errorf("StreamReadBandwidth(%d, 4 MiB) = %v, want a positive finite rate", threads, bw)
		}
	}
}

// TestSumWords checks every implementation's streaming sum against a
// one-accumulator loop, at lengths around the vector blocks (16 and 32
// words) and from unaligned starts, with wrapping sums.
func TestSumWords(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	buf := make([]uint64, 5000)
	for i := range buf {
		buf[i] = r.Uint64()
	}
	for _, im := range Implementations() {
		prev := SetFeatures(im.Features)
		sum := impl.sumWords
		SetFeatures(prev)
		for _, n := range []int{0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 100, 4096, 4990} {
			for _, off := range []int{0, 1, 3} {
				s := buf[off : off+n]
				var want uint64
				for _, v := range s {
					want += v
				}
				if got := sum(s); got != want {
					t.Errorf("%s: sum of %d words from %d = %d, want %d", im.Name, n, off, got, want)
				}
			}
		}
	}
}
