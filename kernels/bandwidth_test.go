package kernels

import (
	"math"
	"testing"
)

func TestStreamReadBandwidth(t *testing.T) {
	for _, threads := range []int{1, 3} {
		bw := StreamReadBandwidth(threads, 4<<20)
		if !(bw > 0) || math.IsInf(bw, 0) {
			t.Errorf("StreamReadBandwidth(%d, 4 MiB) = %v, want a positive finite rate", threads, bw)
		}
	}
	s := make([]uint64, 1000)
	var want uint64
	for i := range s {
		s[i] = uint64(i) * 7
		want += s[i]
	}
	if got := sumWords(s); got != want {
		t.Errorf("sumWords = %d, want %d", got, want)
	}
}
