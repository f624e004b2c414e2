package kernels

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// TestPackedKernelsMatchTwin runs the packed decode kernels of every tier
// on one group against their generic twins (gemvQ4_0x8Generic, and for four
// activation rows gemvQ4_0x8x4Generic, or four gemvQ4_0x8Generic for the
// arm64 assembly, which takes the rows one at a time), bit for bit: the
// assembly of both architectures takes the twins' float steps, fused
// multiply-adds included (fmaF32).
func TestPackedKernelsMatchTwin(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, nb := range []int{1, 2, 3, 4, 7, 16, 33} {
			k := nb * 32
			w := randWeights(r, quant.Q4_0, packRows*nb, scaleMixed)
			pw := make([]byte, len(w))
			RepackQ4_0(pw, w, packRows, k)
			xs := make([]byte, 4*nb*gemmActBlock)
			for c := 0; c < 4; c++ {
				a := actBytes(quant.Q8_0, randFloats(r, k, true))
				packActLinear(xs[c*nb*gemmActBlock:], a, nb, gemmOffset(quant.Q4_0))
			}
			var got, want [8]float32
			impl.gemvQ4_0x8(&got, unaligned(pw, 3), unaligned(xs[:nb*gemmActBlock], 1), nb)
			gemvQ4_0x8Generic(&want, pw, xs, nb)
			checkTwin(t, "gemvQ4_0x8", nb, got[:], want[:])

			var got4, want4 [4][8]float32
			stride := nb * gemmActBlock
			impl.gemvQ4_0x8x4(&got4, pw, xs, stride, nb)
			if runtime.GOARCH == "arm64" && PackedFast(quant.Q4_0) {
				for c := range want4 {
					gemvQ4_0x8Generic(&want4[c], pw, xs[c*stride:], nb)
				}
			} else {
				gemvQ4_0x8x4Generic(&want4, pw, xs, stride, nb)
			}
			for c := range got4 {
				checkTwin(t, "gemvQ4_0x8x4", nb, got4[c][:], want4[c][:])
			}
		}
	})
}

// checkTwin compares one group's results with the twin's, bit for bit.
func checkTwin(t *testing.T, what string, nb int, got, want []float32) {
	t.Helper()
	for r := range got {
		if math.Float32bits(got[r]) != math.Float32bits(want[r]) {
			t.Fatalf("%s nb=%d row %d: %g, twin %g (bits differ)", what, nb, r, got[r], want[r])
		}
	}
}
