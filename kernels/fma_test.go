package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestFMAF32 checks fmaF32 against a·b+c computed exactly with math/big and
// rounded once to float32 (nearest, ties to even), on random operands of
// every magnitude mix and on cases built so that the float64 sum rounds to
// a float32 midpoint (where rounding twice goes wrong).
func TestFMAF32(t *testing.T) {
	exact := func(a, b, c float32) float32 {
		x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
		f, _ := x.Float32()
		return f
	}
	r := rand.New(rand.NewPCG(3, 4))
	rnd := func() float32 {
		return float32(r.NormFloat64() * math.Ldexp(1, r.IntN(60)-30))
	}
	type tc struct{ a, b, c float32 }
	cases := []tc{{1, 1, 0}, {0, 5, -0}, {-3, 2, 6}, {1 << 24, 1, 1}}
	// a·b a hair below half an ulp of c, c with an odd last bit: the
	// float64 sum rounds onto the float32 midpoint, which then rounds to
	// even (up), where the exact value rounds down
	for i := 0; i < 2000; i++ {
		c := math.Ldexp(float64(1<<23+2*r.IntN(1<<22)+1), r.IntN(40)-20)
		ulp := math.Ldexp(1, math.Ilogb(c)-23)
		a := float32(ulp / 2 * (1 + 0x1p-23))
		b := float32(1 - 0x1p-23)
		cases = append(cases, tc{a, b, float32(c)}, tc{-a, b, -float32(c)})
	}
	for i := 0; i < 200000; i++ {
		cases = append(cases, tc{rnd(), rnd(), rnd()})
	}
	// infinities: an infinite product gives an infinite sum of its sign
	inf := float32(math.Inf(1))
	for _, c := range []tc{{inf, 1, 0}, {inf, -1, 0}, {-inf, 0x1p-126, 5}, {3, 2, -inf}} {
		if got, want := fmaF32(c.a, c.b, c.c), float32(float64(c.a)*float64(c.b)+float64(c.c)); got != want {
			t.Fatalf("fmaF32(%g, %g, %g) = %g, want %g", c.a, c.b, c.c, got, want)
		}
	}
	for _, c := range cases {
		got, want := fmaF32(c.a, c.b, c.c), exact(c.a, c.b, c.c)
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fmaF32(%g, %g, %g) = %g, exact %g", c.a, c.b, c.c, got, want)
		}
	}
	// the naive float64 route does fail some of these: the test can tell
	naive := 0
	for _, c := range cases {
		if float32(float64(c.a)*float64(c.b)+float64(c.c)) != exact(c.a, c.b, c.c) {
			naive++
		}
	}
	if naive == 0 {
		t.Fatal("no case separates fmaF32 from rounding a float64 sum twice")
	}
}
