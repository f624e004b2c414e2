package kernels

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// bf16Kernels returns the assembly bf16 tile kernels with every detected
// feature active, or skips: only CPUs with AVX-512 BF16 have them.
func bf16Kernels(t *testing.T) *attnTileBF16 {
	t.Helper()
	switch {
	case runtime.GOARCH != "amd64" || !asmBuild:
		t.Skip("the bf16 attention kernels are amd64 assembly (this build has none)")
	case !Detected().AVX512BF16:
		t.Skipf("CPU lacks AVX-512 BF16 (detected %+v): the bf16 attention kernels are not used here", Detected())
	}
	prev := SetFeatures(Detected())
	t.Cleanup(func() { SetFeatures(prev) })
	if impl.attnBF16 == nil {
		t.Fatal("AVX-512 BF16 detected but no bf16 attention kernels installed")
	}
	return impl.attnBF16
}

// edgyBF16Bits returns n random float32 bit patterns, most of them
// ordinary numbers and the rest from the corners of VDPBF16PS and
// VCVTNEPS2BF16: zeros of both signs, denormals, numbers whose bf16
// products underflow or overflow float32, infinities, NaNs, ties of the
// rounding.
func edgyBF16Bits(r *rand.Rand, n int) []uint32 {
	x := make([]uint32, n)
	for i := range x {
		sign := uint32(r.IntN(2)) << 31
		mant := r.Uint32() & 0x7FFFFF
		var exp uint32
		switch r.IntN(10) {
		case 0:
			exp = 0 // zero or denormal
			if r.IntN(2) == 0 {
				mant = 0
			}
		case 1:
			exp = uint32(1 + r.IntN(40)) // tiny: products underflow
		case 2:
			exp = uint32(254 - r.IntN(40)) // huge: products overflow
		case 3:
			exp = 255 // Inf or NaN
			if r.IntN(2) == 0 {
				mant = 0
			}
		case 4:
			exp, mant = uint32(100+r.IntN(56)), mant&^0xFFFF|0x8000 // a rounding tie
		default:
			exp = uint32(112 + r.IntN(32))
		}
		x[i] = sign | exp<<23 | mant
	}
	return x
}

func sameFloat(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// TestBF16Twins checks the generic twins' emulation of VCVTNEPS2BF16
// (through gatherK) and VDPBF16PS (through scores) against the CPU, bit
// for bit, over inputs from every corner of the instructions: a wrong
// BYTE encoding of either instruction fails it too.
func TestBF16Twins(t *testing.T) {
	tb := bf16Kernels(t)
	r := rand.New(rand.NewPCG(41, 41))
	const hd, ld, rows = 48, 53, 37
	src := make([]float32, (rows-1)*ld+hd)
	for i, u := range edgyBF16Bits(r, len(src)) {
		src[i] = math.Float32frombits(u)
	}
	got, want := make([]uint16, rows*hd), make([]uint16, rows*hd)
	tb.gatherK(got, src, ld, rows, hd)
	attnGatherKBF16Generic(want, src, ld, rows, hd)
	for i := range got {
		if got[i] != want[i] {
			tt, d := i/hd, i%hd
			t.Fatalf("VCVTNEPS2BF16(%#08x) = %#04x, twin %#04x", math.Float32bits(src[tt*ld+d]), got[i], want[i])
		}
	}
	// scores over random bf16 words: q·k sums through the corners
	const qs, nk = 64, 11
	qt, k := make([]uint16, hd*qs), make([]uint16, nk*hd)
	for i, u := range edgyBF16Bits(r, len(qt)) {
		qt[i] = uint16(u >> 16)
	}
	for i, u := range edgyBF16Bits(r, len(k)) {
		k[i] = uint16(u >> 16)
	}
	for _, nl := range []int{32, 64} {
		st, stw := make([]float32, nk*qs), make([]float32, nk*qs)
		tb.scores(st, qs, nl, qt, k, nk, hd)
		attnScoresBF16Generic(stw, qs, nl, qt, k, nk, hd)
		for i := range st {
			if !sameFloat(st[i], stw[i]) {
				t.Fatalf("nl=%d: score[%d][%d] = %#08x, twin %#08x", nl, i/qs, i%qs, math.Float32bits(st[i]), math.Float32bits(stw[i]))
			}
		}
	}
	// the values kernel over words and accumulators at the edges of the
	// float32 range: denormal inputs and sums, products that underflow
	// to a denormal and sums they would lift to a normal number
	words := []uint16{0, 0x8000, 0x0001, 0x8041, 0x0080, 0x8080, 0x3F80, 0xBF80, 0x0D80, 0x3080, 0x3F81, 0x7F80, 0x4000}
	accs := []float32{0, 1e-38, -1e-38, 0x1p-126, -0x1p-126, 3e-39, 0x1p-125, 1, 0x1p-24}
	for iter := 0; iter < 20; iter++ {
		const nu = 3
		p, v := make([]uint16, 2*nu*32), make([]uint16, 2*nu*16)
		for i := range p {
			p[i] = words[r.IntN(len(words))]
		}
		for i := range v {
			v[i] = words[r.IntN(len(words))]
		}
		acc := make([]float32, 32*16)
		for i := range acc {
			acc[i] = accs[r.IntN(len(accs))]
		}
		accw := append([]float32(nil), acc...)
		acc0 := append([]float32(nil), acc...)
		c := make([]float32, 32)
		for i := range c {
			c[i] = 1
		}
		tb.values(acc, 16, p, 32, 32, v, 1+iter%nu, c)
		attnValuesBF16Generic(accw, 16, p, 32, 32, v, 1+iter%nu, c)
		for i := range acc {
			if !sameFloat(acc[i], accw[i]) {
				rr, d := i/16, i%16
				for u := 0; u < 1+iter%nu; u++ {
					t.Logf("u=%d p %#04x %#04x v %#04x %#04x", u, p[2*(u*32+rr)], p[2*(u*32+rr)+1], v[2*(u*16+d)], v[2*(u*16+d)+1])
				}
				t.Logf("acc in %#08x", math.Float32bits(acc0[i]))
				t.Fatalf("values at the edges: acc[%d][%d] = %#08x, twin %#08x", i/16, i%16, math.Float32bits(acc[i]), math.Float32bits(accw[i]))
			}
		}
	}
}

// TestAttnBF16Kernels compares the assembly bf16 tile kernels with their
// twins bit for bit on realistic data (normal floats), over the models'
// head dimensions, one and two vector pairs of lanes, key counts around
// the kernels' groups (odd ones leave half a pair) and strided sources.
func TestAttnBF16Kernels(t *testing.T) {
	tb := bf16Kernels(t)
	g := &attnTileBF16Generic
	r := rand.New(rand.NewPCG(43, 43))
	for _, hd := range []int{16, 64, 80, 96, 112, 128} {
		for _, lanes := range [][2]int{{32, 32}, {64, 64}, {64, 32}} {
			qs, nl := lanes[0], lanes[1]
			for _, nk := range []int{1, 2, 3, 7, 8, 9, 17, 32, 33} {
				ld := hd + 5
				src := randFloats(r, (nk-1)*ld+hd, false)
				k, kw := make([]uint16, nk*hd), make([]uint16, nk*hd)
				tb.gatherK(k, src, ld, nk, hd)
				g.gatherK(kw, src, ld, nk, hd)
				nv := (nk + 1) / 2 * 2 * hd
				v, vw := make([]uint16, nv+9), make([]uint16, nv+9)
				for i := range v {
					v[i], vw[i] = 0xAAAA, 0xAAAA
				}
				tb.pairRows(v, src, ld, nk, hd)
				g.pairRows(vw, src, ld, nk, hd)
				for i := range v {
					if v[i] != vw[i] || k[min(i, len(k)-1)] != kw[min(i, len(k)-1)] {
						t.Fatalf("hd=%d nk=%d: gathered word %d: V %#04x K %#04x, twin %#04x %#04x", hd, nk, i, v[i], k[min(i, len(k)-1)], vw[i], kw[min(i, len(k)-1)])
					}
				}
				if v[nv] != 0xAAAA {
					t.Fatalf("hd=%d nk=%d: pairRows wrote past the block", hd, nk)
				}
				qt := make([]uint16, hd*qs)
				for i := range qt {
					qt[i] = bf16Round(float32(r.NormFloat64()))
				}
				st0 := randFloats(r, nk*qs, false)
				st, stw := append([]float32(nil), st0...), append([]float32(nil), st0...)
				tb.scores(st, qs, nl, qt, k, nk, hd)
				g.scores(stw, qs, nl, qt, k, nk, hd)
				for i := range st {
					if math.Float32bits(st[i]) != math.Float32bits(stw[i]) {
						t.Fatalf("scores hd=%d qs=%d nl=%d nk=%d: st[%d][%d] = %g, twin %g", hd, qs, nl, nk, i/qs, i%qs, st[i], stw[i])
					}
				}
				// probabilities in [0, 1] as pairs, then the values
				for i := range st {
					st[i] = r.Float32()
				}
				p, pw := make([]uint16, (nk+1)/2*2*qs), make([]uint16, (nk+1)/2*2*qs)
				tb.pairRows(p, st, qs, nk, qs)
				g.pairRows(pw, st, qs, nk, qs)
				c := randFloats(r, qs, false)
				acc := randFloats(r, qs*hd, false)
				accw := append([]float32(nil), acc...)
				tb.values(acc, hd, p, qs, nl, v, (nk+1)/2, c)
				g.values(accw, hd, pw, qs, nl, vw, (nk+1)/2, c)
				for i := range acc {
					if math.Float32bits(acc[i]) != math.Float32bits(accw[i]) {
						t.Fatalf("values hd=%d qs=%d nl=%d nk=%d: acc[%d][%d] = %g, twin %g", hd, qs, nl, nk, i/hd, i%hd, acc[i], accw[i])
					}
				}
			}
		}
	}
}

// TestAttnBF16Twins runs whole attention calls with BF16 set, over
// float32 and float16 KV, through the assembly bf16 kernels and through
// their twins (everything else the same), bit for bit, over head dimensions of the models, causal and
// not, query rows and keys that leave partial lane groups, odd key
// counts and blocks, and a causal prefill whose first rows see no key of
// later blocks.
func TestAttnBF16Twins(t *testing.T) {
	tb := bf16Kernels(t)
	p := NewPool(2)
	defer p.Close()
	r := rand.New(rand.NewPCG(47, 47))
	for _, c := range []struct {
		nq, nkv int
		ap      AttnParams
	}{
		{37, 37, AttnParams{NHead: 2, NHeadKV: 2, HeadDim: 112}},
		{300, 301, AttnParams{NHead: 1, NHeadKV: 1, HeadDim: 64}},
		{50, 129, AttnParams{NHead: 2, NHeadKV: 1, HeadDim: 80, Causal: true, QPos0: 79}},
		{130, 130, AttnParams{NHead: 2, NHeadKV: 2, HeadDim: 96, Causal: true}},
		{40, 200, AttnParams{NHead: 1, NHeadKV: 1, HeadDim: 128, Causal: true, QPos0: 160}},
	} {
		ap := c.ap
		ap.Scale = float32(1 / math.Sqrt(float64(ap.HeadDim)))
		ap.BF16 = true
		qw, kw := ap.NHead*ap.HeadDim, ap.NHeadKV*ap.HeadDim
		q := randFloats(r, c.nq*qw, false)
		k := randFloats(r, c.nkv*kw, false)
		v := randFloats(r, c.nkv*kw, false)
		kh, vh := make([]uint16, len(k)), make([]uint16, len(v))
		for i := range k {
			kh[i], vh[i] = quant.FP32ToFP16(k[i]), quant.FP32ToFP16(v[i])
		}
		for _, f16 := range []bool{false, true} {
			attend := func(out []float32) {
				if f16 {
					p.AttentionF16(out, q, c.nq, kh, vh, c.nkv, ap)
				} else {
					p.AttentionF32(out, q, c.nq, k, v, c.nkv, ap)
				}
			}
			out, outw := make([]float32, c.nq*qw), make([]float32, c.nq*qw)
			attend(out)
			impl.attnBF16 = &attnTileBF16Generic
			attend(outw)
			impl.attnBF16 = tb
			for i := range out {
				if math.Float32bits(out[i]) != math.Float32bits(outw[i]) {
					t.Fatalf("%+v nq=%d nkv=%d f16 KV %v: out[%d] = %g, twins %g", ap, c.nq, c.nkv, f16, i, out[i], outw[i])
				}
			}
		}
	}
}

// bf16Oracle is naiveAttention over the inputs the bf16 path sees: the
// scaled queries, the keys and the values rounded to bf16.
func bf16Oracle(q []float32, nq int, k, v []float32, nkv int, ap AttnParams) []float64 {
	qs := make([]float32, len(q))
	for i, x := range q {
		qs[i] = bf16DAZ(bf16Round(x * ap.Scale))
	}
	k64, v64 := make([]float64, len(k)), make([]float64, len(v))
	for i := range k {
		k64[i], v64[i] = float64(bf16DAZ(bf16Round(k[i]))), float64(bf16DAZ(bf16Round(v[i])))
	}
	ap.Scale = 1
	return naiveAttention(qs, nq, k64, v64, nkv, ap)
}

// TestAttentionBF16 bounds the bf16 path against float64 attention: of
// the inputs it rounds, where only the probabilities' rounding to bf16
// (relative error ≤ 2⁻⁹ each) is left, so an output moves by at most
// 2⁻⁹·max|v| (plus float32 noise); and of the original float32 inputs,
// where the rounding of q and k also moves the scores: on these
// unit-normal inputs the largest error seen is ~2⁻⁸·max|v| (0.014 for
// max|v| ≈ 4, the float32 path 3e-6), bounded at 2⁻⁷·max|v|. Tiers
// without bf16 kernels must give the float32 result with the flag set.
func TestAttentionBF16(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	r := rand.New(rand.NewPCG(53, 53))
	for _, c := range []struct {
		nq, nkv int
		ap      AttnParams
	}{
		{37, 37, AttnParams{NHead: 2, NHeadKV: 2, HeadDim: 112}},
		{257, 257, AttnParams{NHead: 1, NHeadKV: 1, HeadDim: 112}},
		{70, 45, AttnParams{NHead: 1, NHeadKV: 1, HeadDim: 64}},
		{130, 150, AttnParams{NHead: 2, NHeadKV: 1, HeadDim: 128, Causal: true, QPos0: 20}},
		{33, 33, AttnParams{NHead: 1, NHeadKV: 1, HeadDim: 80, Causal: true}},
		{20, 50, AttnParams{NHead: 4, NHeadKV: 2, HeadDim: 96, Causal: true, QPos0: 30}},
	} {
		ap := c.ap
		ap.Scale = float32(1 / math.Sqrt(float64(ap.HeadDim)))
		qw, kw := ap.NHead*ap.HeadDim, ap.NHeadKV*ap.HeadDim
		q := randFloats(r, c.nq*qw, false)
		k := randFloats(r, c.nkv*kw, false)
		v := randFloats(r, c.nkv*kw, false)
		for i := range k {
			k[i] *= 2 // peakier softmax
		}
		var vmax float64
		k64, v64 := make([]float64, len(k)), make([]float64, len(v))
		for i := range k {
			k64[i], v64[i] = float64(k[i]), float64(v[i])
			vmax = math.Max(vmax, math.Abs(float64(v[i])))
		}
		want := naiveAttention(q, c.nq, k64, v64, c.nkv, ap)
		wantbf := bf16Oracle(q, c.nq, k, v, c.nkv, ap)
		kh, vh := make([]uint16, len(k)), make([]uint16, len(v))
		k16, v16 := make([]float32, len(k)), make([]float32, len(v))
		for i := range k {
			kh[i], vh[i] = quant.FP32ToFP16(k[i]), quant.FP32ToFP16(v[i])
			k16[i], v16[i] = quant.FP16ToFP32(kh[i]), quant.FP16ToFP32(vh[i])
		}
		// the f16 cache: bf16 of the fp16 values (no double rounding
		// bound is needed: the oracle rounds the same way)
		wantbf16 := bf16Oracle(q, c.nq, k16, v16, c.nkv, ap)
		out32 := make([]float32, c.nq*qw)
		p.AttentionF32(out32, q, c.nq, k, v, c.nkv, ap)
		withFeatures(t, func(t *testing.T) {
			bf := ap
			bf.BF16 = true
			out := make([]float32, c.nq*qw)
			p.AttentionF32(out, q, c.nq, k, v, c.nkv, bf)
			out16, ref16 := make([]float32, c.nq*qw), make([]float32, c.nq*qw)
			p.AttentionF16(out16, q, c.nq, kh, vh, c.nkv, bf)
			if impl.attnBF16 == nil || impl.attnTile == nil || c.nq < attnTileMin {
				// the flag is ignored: the float32 result of this tier
				ref := make([]float32, len(out))
				p.AttentionF32(ref, q, c.nq, k, v, c.nkv, ap)
				p.AttentionF16(ref16, q, c.nq, kh, vh, c.nkv, ap)
				for i := range out16 {
					if math.Float32bits(out16[i]) != math.Float32bits(ref16[i]) {
						t.Fatalf("%+v: BF16 set on a tier without bf16 kernels changed the f16-KV out[%d]: %g, not %g", bf, i, out16[i], ref16[i])
					}
				}
				for i := range out {
					if math.Float32bits(out[i]) != math.Float32bits(ref[i]) {
						t.Fatalf("%+v: BF16 set on a tier without bf16 kernels changed out[%d]: %g, not %g", bf, i, out[i], ref[i])
					}
				}
				return
			}
			var maxd, maxd32 float64
			for i := range out16 {
				if d := math.Abs(float64(out16[i]) - wantbf16[i]); d > 0x1p-9*vmax+1e-5 {
					t.Fatalf("%+v nq=%d nkv=%d: f16-KV out[%d] = %g, bf16-input oracle %g", bf, c.nq, c.nkv, i, out16[i], wantbf16[i])
				}
			}
			for i := range out {
				if d := math.Abs(float64(out[i]) - wantbf[i]); d > 0x1p-9*vmax+1e-5 {
					t.Fatalf("%+v nq=%d nkv=%d: out[%d] = %g, bf16-input oracle %g", bf, c.nq, c.nkv, i, out[i], wantbf[i])
				}
				d := math.Abs(float64(out[i]) - want[i])
				if d > 0x1p-7*vmax {
					t.Fatalf("%+v nq=%d nkv=%d: out[%d] = %g, float64 attention %g", bf, c.nq, c.nkv, i, out[i], want[i])
				}
				maxd, maxd32 = math.Max(maxd, d), math.Max(maxd32, math.Abs(float64(out32[i])-want[i]))
			}
			// rounding happened: the bf16 result is not the float32 one
			if maxd <= 4*maxd32 {
				t.Fatalf("%+v: bf16 max error %g, float32 %g: the bf16 kernels did not run", bf, maxd, maxd32)
			}
		})
	}
}
