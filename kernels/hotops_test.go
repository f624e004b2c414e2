package kernels

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// specialBlock fills one block of n activations with a random character the
// quantizers treat specially: NaNs (quiet, signalling, with payloads),
// infinities, a largest magnitude reached with both signs, fp16-overflowing
// or subnormal scales, zeros of both signs.
func specialBlock(r *rand.Rand, x []float32) {
	for j := range x {
		x[j] = float32(r.NormFloat64())
	}
	pick := func() int { return r.IntN(len(x)) }
	switch r.IntN(9) {
	case 0:
		x[pick()] = float32(math.NaN())
	case 1:
		x[pick()] = math.Float32frombits(0x7f800001 | r.Uint32()&0x803fffff) // signalling NaN, any sign
	case 2:
		x[pick()] = math.Float32frombits(0xffc00000 | r.Uint32()&0x3fffff) // negative quiet NaN with payload
	case 3:
		x[pick()] = float32(math.Inf(1 - 2*r.IntN(2)))
	case 4: // the largest magnitude with both signs, in a random order
		a := float32(3 + r.Float64())
		i, k := pick(), pick()
		for k == i {
			k = pick()
		}
		x[i], x[k] = a, -a
	case 5:
		for j := range x {
			x[j] *= 1e36
		}
	case 6:
		for j := range x {
			x[j] *= 1e-41
		}
	case 7:
		for j := range x {
			x[j] = float32(math.Copysign(0, float64(r.IntN(2)-1)))
		}
	default:
		for j := range x {
			x[j] = float32(math.NaN())
		}
	}
}

// exactActs are the activation formats whose NEON paths give the generic
// bytes for every input, NaNs and infinities included (the Q8_0 assembly
// of both architectures stores a NaN scale with its payload, so Q8_0 is
// compared bit for bit only on ordinary inputs, by
// TestQuantizeActivationsMatchGeneric).
var exactActs = []quant.Type{quant.Q8_1, quant.Q8_K}

// withExactQuantizers is withFeatures over the implementations whose
// quantizers must match the generic code on special values too: all but
// the amd64 assembly tiers, whose Q8_0/Q8_1 kernels differ from it where
// a block holds a NaN or an infinity (a scale or quant of another NaN or
// sign); those tiers are held to ordinary inputs by
// TestQuantizeActivationsMatchGeneric.
func withExactQuantizers(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, im := range Implementations() {
		if im.Features.AVX2 {
			continue
		}
		t.Run(im.Name, func(t *testing.T) {
			prev := SetFeatures(im.Features)
			defer SetFeatures(prev)
			f(t)
		})
	}
}

// TestQuantizeSpecials: on every implementation the Q8_1 and Q8_K
// quantizers give the generic bytes for blocks with NaNs, infinities, ties
// for the largest magnitude, extreme scales and zeros, anywhere in a row.
func TestQuantizeSpecials(t *testing.T) {
	withExactQuantizers(t, func(t *testing.T) {
		for _, act := range exactActs {
			r := rand.New(rand.NewPCG(uint64(act), 31))
			bs := act.BlockSize()
			for trial := 0; trial < 300; trial++ {
				nb := 1 + r.IntN(5)
				x := randFloats(r, nb*bs, false)
				for b := 0; b < nb; b++ {
					if r.IntN(2) == 0 {
						specialBlock(r, x[b*bs:(b+1)*bs])
					}
				}
				checkQuantize(t, act, x)
			}
		}
	})
}

// checkQuantize compares the active quantizer with the generic one, byte
// for byte, writing into a buffer at an odd offset.
func checkQuantize(t *testing.T, act quant.Type, x []float32) {
	t.Helper()
	want := actBytes(act, x)
	buf := make([]byte, len(want)+7)
	for i := range buf {
		buf[i] = 0xA5 // stale bytes must be overwritten
	}
	QuantizeActivations(act, buf[3:3+len(want)], x)
	if got := buf[3 : 3+len(want)]; !bytes.Equal(got, want) {
		bs := act.BlockSize()
		sz := len(want) / (len(x) / bs)
		for b := 0; b < len(x)/bs; b++ {
			if !bytes.Equal(got[b*sz:(b+1)*sz], want[b*sz:(b+1)*sz]) {
				t.Fatalf("%v block %d of %d: got\n%x\nwant\n%x\nsrc %v", act, b, len(x)/bs,
					got[b*sz:(b+1)*sz], want[b*sz:(b+1)*sz], x[b*bs:(b+1)*bs])
			}
		}
	}
	if buf[2] != 0xA5 || buf[3+len(want)] != 0xA5 {
		t.Fatalf("%v: wrote outside dst", act)
	}
}

// FuzzQuantizeActivations: arbitrary float32 bit patterns quantize to the
// generic Q8_1 and Q8_K bytes on every implementation.
func FuzzQuantizeActivations(f *testing.F) {
	seed := make([]byte, 4*256)
	for i := 0; i < 256; i++ {
		binary.LittleEndian.PutUint32(seed[4*i:], math.Float32bits(float32(i%7)-3))
	}
	f.Add(seed)
	binary.LittleEndian.PutUint32(seed[40:], 0x7f800001)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		x := make([]float32, len(data)/4)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		for _, im := range Implementations() {
			if im.Features.AVX2 {
				continue // see withExactQuantizers
			}
			prev := SetFeatures(im.Features)
			for _, act := range exactActs {
				n := len(x) / act.BlockSize() * act.BlockSize()
				checkQuantize(t, act, x[:n])
			}
			SetFeatures(prev)
		}
	})
}

// TestFP32ToFP16Row: the row conversion equals quant.FP32ToFP16 on every
// implementation, over a sweep of float32 bit patterns of both signs
// (normal, subnormal and overflowing halves, ties, Inf, NaNs with
// payloads) and every length around the vector width.
func TestFP32ToFP16Row(t *testing.T) {
	var in []float32
	for b := uint64(0); b <= 0xffffffff; b += 7919 {
		in = append(in, math.Float32frombits(uint32(b)))
	}
	// ties at the half-precision rounding point, around 1 and the subnormals
	for _, b := range []uint32{0x3f801000, 0x3f803000, 0x33000000, 0x33800000, 0x387fc000, 0x477ff000, 0x477fefff, 0x7f800001, 0xffc00001} {
		in = append(in, math.Float32frombits(b), math.Float32frombits(b|0x80000000))
	}
	withFeatures(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 15, 16, 17, 33, len(in)} {
			got := make([]uint16, n+1)
			got[n] = 0xBEEF
			FP32ToFP16(got[:n], in[:n])
			for i, v := range in[:n] {
				if want := quant.FP32ToFP16(v); got[i] != want {
					t.Fatalf("n=%d: %08x → %04x, want %04x", n, math.Float32bits(v), got[i], want)
				}
			}
			if got[n] != 0xBEEF {
				t.Fatalf("n=%d: wrote past the end", n)
			}
		}
	})
}

// FuzzFP32ToFP16: arbitrary bit patterns convert as quant.FP32ToFP16.
func FuzzFP32ToFP16(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x7f, 1, 0, 0x80, 0x7f, 0, 0x10, 0x80, 0x3f})
	f.Fuzz(func(t *testing.T, data []byte) {
		x := make([]float32, len(data)/4)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		got := make([]uint16, len(x))
		for _, im := range Implementations() {
			prev := SetFeatures(im.Features)
			FP32ToFP16(got, x)
			SetFeatures(prev)
			for i, v := range x {
				if want := quant.FP32ToFP16(v); got[i] != want {
					t.Fatalf("%s: %08x → %04x, want %04x", im.Name, math.Float32bits(v), got[i], want)
				}
			}
		}
	})
}

// TestNormsMatchGeneric: RMSNorm and LayerNorm on every implementation stay
// within 2 ulp of the generic result (the float64 sums may add in another
// order; the per-element steps are the same operations), in place too.
func TestNormsMatchGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 17))
	gen := genericImpl()
	withFeatures(t, func(t *testing.T) {
		for _, n := range []int{1, 7, 8, 9, 64, 1792, 4095, 4096} {
			x := randFloats(r, n, true)
			for i := range x {
				x[i] = x[i]*3 + 5 // a mean that LayerNorm must remove
			}
			w, b := randFloats(r, n, false), randFloats(r, n, false)
			got, want := make([]float32, n), make([]float32, n)
			rmsNorm(&gen, want, x, w, 1e-6)
			RMSNorm(got, x, w, 1e-6)
			compareULP(t, "RMSNorm", n, got, want, 2)
			layerNorm(&gen, want, x, w, b, 1e-5)
			in := append([]float32(nil), x...)
			LayerNorm(in, in, w, b, 1e-5) // in place
			compareULP(t, "LayerNorm", n, in, want, 2)
		}
	})
}

func compareULP(t *testing.T, name string, n int, got, want []float32, maxULP int64) {
	t.Helper()
	for i := range want {
		if d := ulpDiff(got[i], want[i]); d > maxULP && math.Abs(float64(got[i]-want[i])) > 1e-30 {
			t.Fatalf("%s n=%d [%d]: got %g want %g (%d ulp)", name, n, i, got[i], want[i], d)
		}
	}
}

// TestNormLoopsMatchGeneric holds the four loops of RMSNorm and LayerNorm
// to the generic code on every implementation, over lengths around the
// vector widths (the assembly takes a multiple of 8 or 16, the twin the
// rest) and starts off any vector alignment: scaleMul and lnApply bit for
// bit (the same roundings, fused on arm64 where Go fuses), in place too;
// the float64 sums within the error of summing in another order,
// (n+1)·2⁻⁵²·Σ|term|, a bound a lost or repeated element breaks by far.
func TestNormLoopsMatchGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 23))
	const size = 4200
	x := randFloats(r, size, true)
	for i := range x {
		x[i] = x[i]*3 + 5
	}
	w, b := randFloats(r, size, false), randFloats(r, size, false)
	gen := genericImpl()
	withFeatures(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1792, 4096} {
			for _, off := range []int{0, 1, 3} {
				xs, ws, bs := x[off:off+n], w[off:off+n], b[off:off+n]
				const c = 4.75
				var mag, magSq float64
				for _, v := range xs {
					mag += math.Abs(float64(v))
					magSq += (float64(v) - c) * (float64(v) - c)
				}
				tol := float64(n+1) * 0x1p-52
				if got, want := impl.sumF64(xs), gen.sumF64(xs); math.Abs(got-want) > tol*mag {
					t.Fatalf("n=%d off=%d: sumF64 %v, generic %v", n, off, got, want)
				}
				if got, want := impl.sumSqF64(xs, c), gen.sumSqF64(xs, c); math.Abs(got-want) > tol*magSq {
					t.Fatalf("n=%d off=%d: sumSqF64 %v, generic %v", n, off, got, want)
				}
				want := make([]float32, n)
				got := make([]float32, n+1)
				got[n] = 99
				gen.scaleMul(want, xs, ws, 0.37)
				impl.scaleMul(got[:n], xs, ws, 0.37)
				inPlace := append([]float32(nil), xs...)
				impl.scaleMul(inPlace, inPlace, ws, 0.37)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(inPlace[i]) != math.Float32bits(want[i]) {
						t.Fatalf("n=%d off=%d: scaleMul [%d] = %g (in place %g), generic %g", n, off, i, got[i], inPlace[i], want[i])
					}
				}
				gen.lnApply(want, xs, ws, bs, 5.125, 0.37)
				impl.lnApply(got[:n], xs, ws, bs, 5.125, 0.37)
				inPlace = append(inPlace[:0], xs...)
				impl.lnApply(inPlace, inPlace, ws, bs, 5.125, 0.37)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(inPlace[i]) != math.Float32bits(want[i]) {
						t.Fatalf("n=%d off=%d: lnApply [%d] = %g (in place %g), generic %g", n, off, i, got[i], inPlace[i], want[i])
					}
				}
				if got[n] != 99 {
					t.Fatalf("n=%d off=%d: wrote past the end", n, off)
				}
			}
		}
	})
}
