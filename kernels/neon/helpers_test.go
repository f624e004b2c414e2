package neon

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// kernel describes one exported dot and its generic twin.
type kernel struct {
	name    string
	fn      func(w, x []byte, nb int) float32
	generic func(w, x []byte, nb int) float32
	wt, xt  quant.Type
	wB, xB  int
}

var kernelsUnderTest = []kernel{
	{"Q4_0", DotQ4_0Q8_0, dotQ4_0Q8_0Generic, quant.Q4_0, quant.Q8_0, sizeQ4_0, sizeQ8_0},
	{"Q4_1", DotQ4_1Q8_1, dotQ4_1Q8_1Generic, quant.Q4_1, quant.Q8_1, sizeQ4_1, sizeQ8_1},
	{"Q5_0", DotQ5_0Q8_0, dotQ5_0Q8_0Generic, quant.Q5_0, quant.Q8_0, sizeQ5_0, sizeQ8_0},
	{"Q5_1", DotQ5_1Q8_1, dotQ5_1Q8_1Generic, quant.Q5_1, quant.Q8_1, sizeQ5_1, sizeQ8_1},
	{"Q8_0", DotQ8_0Q8_0, dotQ8_0Q8_0Generic, quant.Q8_0, quant.Q8_0, sizeQ8_0, sizeQ8_0},
	{"IQ4_NL", DotIQ4_NLQ8_0, dotIQ4_NLQ8_0Generic, quant.IQ4_NL, quant.Q8_0, sizeIQ4_NL, sizeQ8_0},
	{"Q4_K", DotQ4_KQ8_K, dotQ4_KQ8_KGeneric, quant.Q4_K, quant.Q8_K, sizeQ4_K, sizeQ8_K},
	{"Q5_K", DotQ5_KQ8_K, dotQ5_KQ8_KGeneric, quant.Q5_K, quant.Q8_K, sizeQ5_K, sizeQ8_K},
	{"Q6_K", DotQ6_KQ8_K, dotQ6_KQ8_KGeneric, quant.Q6_K, quant.Q8_K, sizeQ6_K, sizeQ8_K},
}

// tier is one set of Features; the tests run every exported function under
// each tier the CPU supports and compare with the generic twin.
type tier struct {
	name               string
	asimd, dotp, i8mm  bool
	needDotP, needI8MM bool
}

var tiers = []tier{
	{name: "i8mm", asimd: true, dotp: true, i8mm: true, needDotP: true, needI8MM: true},
	{name: "dotprod", asimd: true, dotp: true, needDotP: true},
	{name: "neon", asimd: true},
	{name: "generic"},
}

// forEachTier runs f with Features set to each tier the CPU has; the
// remaining tiers are skipped with the reason. NEON_FORCE_TIERS=1 runs them
// anyway (on a CPU without the feature that must die with SIGILL, which
// shows the tier really executes the instructions).
func forEachTier(t *testing.T, f func(t *testing.T)) { forTiers(t, true, f) }

// forTiers is forEachTier; without withI8MM the i8mm tier (which runs the
// same code as dotprod outside the Dot2x2 tiles) is left out.
func forTiers(t *testing.T, withI8MM bool, f func(t *testing.T)) {
	saved := Features
	t.Cleanup(func() { Features = saved })
	force := os.Getenv("NEON_FORCE_TIERS") == "1"
	for _, tr := range tiers {
		if tr.needI8MM && !withI8MM {
			continue
		}
		t.Run(tr.name, func(t *testing.T) {
			if !force && (tr.needDotP && !saved.DotProd || tr.needI8MM && !saved.I8MM || tr.asimd && !saved.ASIMD) {
				t.Skipf("CPU lacks the %s tier (Features %+v); set NEON_FORCE_TIERS=1 to run it anyway", tr.name, saved)
			}
			Features.ASIMD, Features.DotProd, Features.I8MM = tr.asimd, tr.dotp, tr.i8mm
			defer func() { Features = saved }()
			f(t)
		})
	}
}

// fp16 scale patterns: mostly ordinary, sometimes adversarial.
func randScale(r *rand.Rand) uint16 {
	switch r.IntN(24) {
	case 0:
		return 0 // zero scale
	case 1:
		return 0x7C00 | uint16(r.IntN(2))<<15 // ±inf
	case 2:
		return 0x7BFF | uint16(r.IntN(2))<<15 // ±65504, the largest finite
	case 3:
		return uint16(1 + r.IntN(0x3FF)) // subnormal
	case 4:
		return uint16(r.Uint32()) // any bits, NaN included
	}
	return quant.FP32ToFP16(float32(r.NormFloat64() * 0.05))
}

// randBlocks fills nb blocks of type typ with random quants and adversarial
// scales. Q8_K gets a float32 d and bsums that are usually consistent with
// its quants and sometimes arbitrary int16 (the kernels must not assume).
func randBlocks(r *rand.Rand, typ quant.Type, nb int, zeroBlocks bool) []byte {
	size := typ.TypeSize()
	b := make([]byte, nb*size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	for k := 0; k < nb; k++ {
		blk := b[k*size : (k+1)*size]
		if zeroBlocks && r.IntN(6) == 0 {
			clear(blk)
			continue
		}
		switch typ {
		case quant.Q4_0, quant.Q5_0, quant.Q8_0, quant.IQ4_NL:
			binary.LittleEndian.PutUint16(blk, randScale(r))
		case quant.Q4_1, quant.Q5_1, quant.Q8_1, quant.Q4_K, quant.Q5_K:
			binary.LittleEndian.PutUint16(blk, randScale(r))
			binary.LittleEndian.PutUint16(blk[2:], randScale(r))
		case quant.Q6_K:
			binary.LittleEndian.PutUint16(blk[208:], randScale(r))
		case quant.Q8_K:
			var d float32
			switch r.IntN(12) {
			case 0:
				d = 0
			case 1:
				d = float32(math.Inf(1 - 2*r.IntN(2)))
			case 2:
				d = math.MaxFloat32
			default:
				d = float32(r.NormFloat64() * 0.01)
			}
			binary.LittleEndian.PutUint32(blk, math.Float32bits(d))
			if r.IntN(4) != 0 {
				for i := 0; i < 16; i++ {
					var s int16
					for j := 0; j < 16; j++ {
						s += int16(int8(blk[4+16*i+j]))
					}
					binary.LittleEndian.PutUint16(blk[260+2*i:], uint16(s))
				}
			}
		}
	}
	return b
}

// unaligned returns a copy of b starting at a random odd-ish offset of a
// larger buffer, so the kernels see unaligned addresses.
func unaligned(r *rand.Rand, b []byte) []byte {
	off := r.IntN(16)
	buf := make([]byte, off+len(b))
	copy(buf[off:], b)
	return buf[off : off+len(b) : off+len(b)]
}

// sameFloat reports bit equality, treating any two NaNs as equal (which NaN
// payload propagates depends on operand order, not on the arithmetic).
func sameFloat(a, b float32) bool {
	if a != a && b != b {
		return true
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

var nbs = []int{1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 33}

// cases scales a case count: a tenth with -short, and a tenth for the
// generic tier, which only re-runs the twin through the exported function.
func cases(t *testing.T, full int) int {
	if testing.Short() || strings.HasSuffix(t.Name(), "/generic") {
		return full / 10
	}
	return full
}
