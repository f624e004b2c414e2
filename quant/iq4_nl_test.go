package quant

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// TestBestIndexIQ4NL checks the table lookup against ggml's binary search
// (bestIndexInt8) on every float32 within 2^16 ulps of each midpoint and
// table entry, on special values and on random bit patterns.
// QUANT_EXHAUSTIVE=1 checks all 2^32 float32 values (about a minute).
func TestBestIndexIQ4NL(t *testing.T) {
	check := func(x float32) {
		if got, want := bestIndexIQ4NL(x), bestIndexInt8(&kvaluesIQ4NL, x); got != want {
			t.Fatalf("bestIndexIQ4NL(%v = %#08x) = %d, bestIndexInt8 %d", x, math.Float32bits(x), got, want)
		}
	}
	if os.Getenv("QUANT_EXHAUSTIVE") != "" {
		for b := uint64(0); b < 1<<32; b++ {
			check(math.Float32frombits(uint32(b)))
		}
		return
	}
	var centers []float32
	for k := range kvaluesIQ4NL {
		a := float32(kvaluesIQ4NL[k])
		centers = append(centers, a, -a, 2*a, a/2)
		if k > 0 {
			centers = append(centers, (float32(kvaluesIQ4NL[k-1])+a)/2)
		}
	}
	centers = append(centers, 0, 128, -128, 127.5, -127.5, 256, -256)
	for _, c := range centers {
		for _, s := range []float32{c, -c} {
			for d := int32(-1 << 16); d <= 1<<16; d++ {
				b := int64(math.Float32bits(s)) + int64(d)
				if b >= 0 && b <= math.MaxUint32 {
					check(math.Float32frombits(uint32(b)))
				}
			}
		}
	}
	for _, x := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.MaxFloat32, -math.MaxFloat32, 1e-45, -1e-45, float32(math.Copysign(0, -1)), 4.7e-7, -4.7e-7} {
		check(x)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 1<<20; i++ {
		check(math.Float32frombits(rng.Uint32()))
		check(float32(rng.Float64()*300 - 150))
	}
}
