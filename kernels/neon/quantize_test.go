package neon

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// randActivations returns n floats per block with a random character:
// ordinary, exact .5 ties after scaling, inf, NaN, huge, tiny or zero.
func randActivations(r *rand.Rand, nb int) []float32 {
	x := make([]float32, 32*nb)
	for b := 0; b < nb; b++ {
		xs := x[32*b : 32*b+32]
		switch r.IntN(8) {
		case 0: // ties: amax 127 gives d = 1, id = 1, so k+0.5 stays a tie
			for j := range xs {
				xs[j] = float32(r.IntN(254)-127) + 0.5
			}
			xs[r.IntN(32)] = 127
		case 1:
			clear(xs)
		case 2:
			for j := range xs {
				xs[j] = float32(r.NormFloat64())
			}
			xs[r.IntN(32)] = float32(math.Inf(1 - 2*r.IntN(2)))
		case 3:
			for j := range xs {
				xs[j] = float32(r.NormFloat64())
			}
			xs[r.IntN(32)] = float32(math.NaN())
		case 4:
			for j := range xs {
				xs[j] = float32(r.NormFloat64() * 1e38)
			}
		case 5:
			for j := range xs {
				xs[j] = float32(r.NormFloat64() * 1e-40) // subnormal
			}
		default:
			for j := range xs {
				xs[j] = float32(r.NormFloat64() * math.Exp(r.NormFloat64()*3))
			}
		}
	}
	return x
}

// sameQ8_0 compares two Q8_0 rows: quants exactly, d exactly or both NaN
// (a NaN's payload depends on which NaN input the max picked).
func sameQ8_0(a, b []byte) (int, bool) {
	for k := 0; k < len(a)/sizeQ8_0; k++ {
		ba, bb := a[k*sizeQ8_0:(k+1)*sizeQ8_0], b[k*sizeQ8_0:(k+1)*sizeQ8_0]
		da, db := binary.LittleEndian.Uint16(ba), binary.LittleEndian.Uint16(bb)
		nan := da&0x7C00 == 0x7C00 && da&0x3FF != 0 && db&0x7C00 == 0x7C00 && db&0x3FF != 0
		if da != db && !nan || string(ba[2:]) != string(bb[2:]) {
			return k, false
		}
	}
	return 0, true
}

func TestQuantizeQ8_0MatchesGeneric(t *testing.T) {
	forTiers(t, false, func(t *testing.T) {
		r := rand.New(rand.NewPCG(4, 0))
		for i := 0; i < cases(t, 1000); i++ {
			nb := nbs[i%len(nbs)]
			src := randActivations(r, nb)
			got := unaligned(r, make([]byte, nb*sizeQ8_0))
			want := make([]byte, nb*sizeQ8_0)
			QuantizeQ8_0(got, src)
			quantizeQ8_0Generic(want, src)
			if k, ok := sameQ8_0(got, want); !ok {
				t.Fatalf("case %d block %d: got % x, generic % x (src %v)", i, k,
					got[k*sizeQ8_0:(k+1)*sizeQ8_0], want[k*sizeQ8_0:(k+1)*sizeQ8_0], src[32*k:32*k+32])
			}
		}
	})
}

// TestQuantizeQ8_0Rounding pins the rounding rule against the quant
// package's reference (roundf, half away from zero): equal except at ties.
func TestQuantizeQ8_0Rounding(t *testing.T) {
	src := make([]float32, 32)
	src[0] = 127 // d = 1, id = 1: every x*id is x
	for j, v := range []float32{2.5, -2.5, 3.5, 0.5, -0.5, 1.25, 126.5} {
		src[1+j] = v
	}
	got := make([]byte, sizeQ8_0)
	ref := make([]byte, sizeQ8_0)
	QuantizeQ8_0(got, src)
	quant.QuantizeQ8_0(ref, src)
	for _, tc := range []struct {
		j              int
		halfEven, away int8
	}{{0, 127, 127}, {1, 2, 3}, {2, -2, -3}, {3, 4, 4}, {4, 0, 1}, {5, 0, -1}, {6, 1, 1}, {7, 126, 127}} {
		if g := int8(got[2+tc.j]); g != tc.halfEven {
			t.Errorf("x=%g: QuantizeQ8_0 gave %d, want %d (half to even)", src[tc.j], g, tc.halfEven)
		}
		if g := int8(ref[2+tc.j]); g != tc.away {
			t.Errorf("x=%g: quant.QuantizeQ8_0 gave %d, want %d (half away from zero)", src[tc.j], g, tc.away)
		}
	}
	// Without ties both rules agree on everything, scale included.
	r := rand.New(rand.NewPCG(5, 0))
	for i := 0; i < cases(t, 200); i++ {
		src := make([]float32, 32*8)
		for j := range src {
			src[j] = float32(r.NormFloat64())
		}
		QuantizeQ8_0(got[:0:0], nil) // zero blocks: no-op
		a := make([]byte, 8*sizeQ8_0)
		b := make([]byte, 8*sizeQ8_0)
		QuantizeQ8_0(a, src)
		quant.QuantizeQ8_0(b, src)
		if string(a) != string(b) {
			// a tie is possible only if some x*id is exactly k+0.5; random normals never are
			t.Fatalf("case %d: half-even and roundf quantization differ without ties", i)
		}
	}
}

func TestQuantizeQ8_0Panics(t *testing.T) {
	for _, tc := range []struct {
		name string
		dst  int
		src  int
	}{{"not a multiple of 32", 34, 31}, {"short dst", 33, 32}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			QuantizeQ8_0(make([]byte, tc.dst), make([]float32, tc.src))
		}()
	}
}
