package quant

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// The quantizers were rewritten for speed; the rewrite must not change one
// output byte. The reference for adversarial input is ggml itself:
// TestQuantizeAdversarialMatchesGGML compares with ggml's bytes for 96 such
// rows of every type. TestQuantizeMatchesSlowRef adds breadth (thousands of
// seeded rows, 256 to 1024 wide, in the same spirit: exact rounding ties,
// values on the midpoints of the IQ4_NL table, scales near GROUP_MAX_EPS and
// fp16 limits, subnormals, constant and zero blocks, infinities and NaNs, see
// maskNaNBlocks) against the frozen pre-speedup implementation in
// slowref_test.go, which is itself held to ggml by the golden tests.

// slowQuantizers maps each type to its frozen reference quantizer.
var slowQuantizers = []struct {
	typ Type
	fn  func(dst []byte, src []float32)
}{
	{Q4_0, slowQuantizeQ4_0}, {Q4_1, slowQuantizeQ4_1}, {Q5_0, slowQuantizeQ5_0},
	{Q5_1, slowQuantizeQ5_1}, {Q8_0, slowQuantizeQ8_0Ref},
	{Q4_K, slowQuantizeQ4_K}, {Q5_K, slowQuantizeQ5_K}, {Q6_K, slowQuantizeQ6_K},
	{IQ4_NL, slowQuantizeIQ4_NL},
}

// diffRows is the number of random rows per type: QUANT_DIFF_ROWS if set
// (20000 was run natively and 3000 under qemu for arm64 when the fast code
// landed), else few enough for the suite's three qemu runs.
func diffRows(t *testing.T) int {
	if s := os.Getenv("QUANT_DIFF_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("QUANT_DIFF_ROWS=%q: want a positive integer", s)
		}
		return n
	}
	if testing.Short() {
		return 100
	}
	return 600
}

// fillAdversarial fills x (a multiple of 32 long) with one of several
// generators chosen by kind; scale multiplies the gaussian-like cases.
func fillAdversarial(rng *rand.Rand, x []float32, kind int) {
	scales := []float32{1, 0.02, 1e-3, 1e-6, 1e-15, 2e-15, 1e-20, 1e4, 3e5, 6e4, 1e-38, 1e30}
	sc := scales[rng.IntN(len(scales))]
	switch kind {
	case 0: // gaussian at a random scale
		for i := range x {
			x[i] = float32(rng.NormFloat64()) * sc
		}
	case 1: // multiples of 0.5 and small integers: rounding ties everywhere
		den := float32(1 + rng.IntN(4))
		for i := range x {
			x[i] = float32(rng.IntN(65)-32) / den * float32(0.5)
		}
	case 2: // midpoints and entries of the IQ4_NL table times a power of two
		d := float32(math.Ldexp(1, rng.IntN(20)-14))
		for i := range x {
			j := rng.IntN(15)
			a, b := float32(kvaluesIQ4NL[j]), float32(kvaluesIQ4NL[j+1])
			v := a
			switch rng.IntN(3) {
			case 0:
				v = (a + b) / 2
			case 1:
				v = b
			}
			if rng.IntN(2) == 0 {
				v = -v
			}
			x[i] = v * d
		}
	case 3: // constant blocks (sometimes zero) with occasional one-off values
		for b := 0; b < len(x); b += 32 {
			c := float32(rng.NormFloat64()) * sc
			if rng.IntN(4) == 0 {
				c = 0
			}
			for i := b; i < b+32; i++ {
				x[i] = c
			}
			if rng.IntN(2) == 0 {
				x[b+rng.IntN(32)] = float32(rng.NormFloat64()) * sc * 100
			}
		}
	case 4: // equal magnitudes with opposite signs, and an extreme per block
		for i := range x {
			x[i] = float32(rng.NormFloat64()) * sc
		}
		for b := 0; b < len(x); b += 32 {
			m := float32(rng.ExpFloat64()+1) * sc
			x[b+rng.IntN(32)] = m
			x[b+rng.IntN(32)] = -m
		}
	case 5: // random bit patterns: subnormals, huge values, infinities (NaNs are kind 10's)
		for i := range x {
			x[i] = math.Float32frombits(rng.Uint32())
			for x[i] != x[i] {
				x[i] = math.Float32frombits(rng.Uint32())
			}
		}
	case 6: // mostly gaussian with sprinkled specials
		special := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -1e-45, 1.1754942e-38,
			math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)),
			float32(math.NaN()), 65504, 65520, -65520, 1e-15, 0.5, -0.5}
		for i := range x {
			if rng.IntN(16) == 0 {
				x[i] = special[rng.IntN(len(special))]
			} else {
				x[i] = float32(rng.NormFloat64()) * sc
			}
		}
	case 7: // float32 subnormals and tiny values only
		for i := range x {
			x[i] = math.Float32frombits(rng.Uint32N(1<<24)) * float32(1-2*rng.IntN(2))
		}
	case 8: // sparse: mostly exact zeros, and per-16-group scales
		for i := range x {
			if rng.IntN(5) == 0 {
				x[i] = float32(rng.NormFloat64()) * sc
			} else {
				x[i] = 0
			}
		}
		for g := 0; g < len(x); g += 16 {
			s := float32(math.Ldexp(1, rng.IntN(30)-15))
			for i := g; i < g+16; i++ {
				x[i] *= s
			}
		}
	case 9: // grid values k·2^e: quantized levels land exactly on .5 more often
		e := rng.IntN(12) - 6
		for i := range x {
			x[i] = float32(math.Ldexp(float64(rng.IntN(257)-128), e)) / 8
		}
	case 10: // several NaNs with distinct payloads per block, and infinities
		for i := range x {
			x[i] = float32(rng.NormFloat64()) * sc
		}
		for b := 0; b < len(x); b += 16 {
			for range 1 + rng.IntN(3) {
				x[b+rng.IntN(16)] = math.Float32frombits(0x7f800001 + rng.Uint32N(0x7fffff) | rng.Uint32N(2)<<31)
			}
			if rng.IntN(4) == 0 {
				x[b+rng.IntN(16)] = float32(math.Inf(1 - 2*rng.IntN(2)))
			}
		}
	default: // all one sign, heavy tailed
		sign := float32(1 - 2*rng.IntN(2))
		for i := range x {
			x[i] = sign * float32(math.Abs(rng.NormFloat64()/(rng.Float64()+1e-3))) * sc
		}
	}
}

const diffKinds = 12

func TestQuantizeMatchesSlowRef(t *testing.T) {
	forEachQuantPath(t, testQuantizeMatchesSlowRef)
}

// forEachQuantPath runs f as subtest "simd" with the SIMD lanes (where the
// build and CPU have them) and as "go" with the Go twins only.
func forEachQuantPath(t *testing.T, f func(t *testing.T)) {
	modes := []bool{false}
	if useSIMD {
		modes = []bool{true, false}
	}
	defer func(v bool) { useSIMD = v }(useSIMD)
	for _, simd := range modes {
		useSIMD = simd
		name := "go"
		if simd {
			name = "simd"
		}
		t.Run(name, f)
	}
}

func testQuantizeMatchesSlowRef(t *testing.T) {
	rows := diffRows(t)
	for _, sq := range slowQuantizers {
		t.Run(sq.typ.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(0x636f6765, uint64(sq.typ)))
			bs := sq.typ.BlockSize()
			for r := 0; r < rows; r++ {
				// Rows of 1..4 super-blocks of 256 so multi-block calls
				// check that no state leaks from one block to the next.
				n := 256 * (1 + rng.IntN(4))
				if n%bs != 0 {
					t.Fatalf("row of %d not a multiple of block size %d", n, bs)
				}
				x := make([]float32, n)
				kind := r % diffKinds
				fillAdversarial(rng, x, kind)
				rs, err := sq.typ.RowSize(int64(n))
				if err != nil {
					t.Fatal(err)
				}
				want := make([]byte, rs)
				got := make([]byte, rs)
				for i := range got {
					got[i] = 0xA5 // a stale destination must be fully overwritten
				}
				sq.fn(want, x)
				if err := Quantize(sq.typ, got, x); err != nil {
					t.Fatal(err)
				}
				maskNaNBlocks(got, want, x, sq.typ)
				if !bytes.Equal(got, want) {
					t.Fatalf("row %d (kind %d, %d elements): %s\ninput block: %v", r, kind, n,
						firstDiff(got, want, sq.typ.TypeSize()), firstDiffInput(got, want, x, sq.typ))
				}
			}
		})
	}
}

// maskNaNBlocks zeroes, in got and want, every block whose input holds a
// NaN. Such blocks are outside the bit-exact contract: when two NaNs with
// different payloads meet in one addition the result keeps one of them by
// operand order, which Go leaves to the compiler (it differs between the
// old and new code on arm64, and between x86 and ARM hardware), and the
// payload can reach a scale byte through nearest_int. Inputs without NaN
// only ever produce the platform's default NaN (from inf-inf or 0·inf), so
// their bytes do not depend on operand order and are compared in full. The
// NaN blocks still run, which checks that they do not panic.
func maskNaNBlocks(got, want []byte, x []float32, t Type) {
	ts, bs := t.TypeSize(), t.BlockSize()
	for b := 0; b*bs < len(x); b++ {
		for _, v := range x[b*bs : (b+1)*bs] {
			if v != v {
				clear(got[b*ts : (b+1)*ts])
				clear(want[b*ts : (b+1)*ts])
				break
			}
		}
	}
}

// firstDiffInput returns the float32 inputs of the first differing block.
func firstDiffInput(got, want []byte, x []float32, t Type) string {
	ts, bs := t.TypeSize(), t.BlockSize()
	for b := 0; b*ts < len(got); b++ {
		if !bytes.Equal(got[b*ts:(b+1)*ts], want[b*ts:(b+1)*ts]) {
			return fmt.Sprint(x[b*bs : (b+1)*bs])
		}
	}
	return ""
}

// TestDiffGeneratorsCanFail guards the differential test against comparing
// a function with itself: the oracle must differ from a perturbed twin.
func TestDiffGeneratorsCanFail(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 256)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	a := make([]byte, sizeQ4_K)
	b := make([]byte, sizeQ4_K)
	slowQuantizeQ4_K(a, x)
	x[3] += 0.5
	if err := Quantize(Q4_K, b, x); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("perturbed input gave identical bytes: the comparison cannot fail")
	}
}

// BenchmarkQuantizeSlowRef measures the frozen pre-speedup quantizers on the
// input of BenchmarkQuantize, for before/after figures under the same load.
func BenchmarkQuantizeSlowRef(b *testing.B) {
	x := benchInput()
	for _, sq := range slowQuantizers {
		b.Run(sq.typ.String(), func(b *testing.B) {
			rs, _ := sq.typ.RowSize(int64(len(x)))
			q := make([]byte, rs)
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				sq.fn(q, x)
			}
		})
	}
}
