package kernels

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// decodeAct dequantizes partner-format activations (Q8_0, Q8_1, Q8_K) to
// float64: x = d·q.
func decodeAct(act quant.Type, x []byte, n int) []float64 {
	out := make([]float64, n)
	switch act {
	case quant.Q8_0, quant.Q8_1:
		sz, off := q8_0Bytes, 2
		if act == quant.Q8_1 {
			sz, off = q8_1Bytes, 4
		}
		for b := 0; b < n/32; b++ {
			d := float64(f16(x[b*sz:]))
			for j := 0; j < 32; j++ {
				out[b*32+j] = d * float64(int8(x[b*sz+off+j]))
			}
		}
	case quant.Q8_K:
		for b := 0; b < n/256; b++ {
			d := float64(q8Kd(x[b*q8_KBytes:]))
			for j := 0; j < 256; j++ {
				out[b*256+j] = d * float64(int8(x[b*q8_KBytes+4+j]))
			}
		}
	}
	return out
}

// TestGenericDotsAgainstDequant checks the generic dots against an
// independent float64 oracle: weights through quant.Dequantize (the quant
// package's codecs), activations decoded as d·q, products summed in
// float64. Tolerance (besides Q8_1's fp16 block sum, see below): float32 accumulation (2·(nb+8)·2⁻²⁴·magnitude) plus the
// float32 rounding of each dequantized weight, together 4·(nb+8)·2⁻²⁴·magnitude.
func TestGenericDotsAgainstDequant(t *testing.T) {
	gen := genericImpl()
	for _, wt := range quantTypes {
		act := actOf(wt)
		for _, mode := range []scaleMode{scaleNormal, scaleExtreme, scaleMixed} {
			r := rand.New(rand.NewPCG(uint64(wt)+100, uint64(mode)))
			for _, nb := range []int{1, 2, 5, 16} {
				n := nb * wt.BlockSize()
				w := randWeights(r, wt, nb, mode)
				x := actBytes(act, randFloats(r, n, true))
				wf := make([]float32, n)
				if err := quant.Dequantize(wt, wf, w); err != nil {
					t.Fatalf("%v: Dequantize: %v", wt, err)
				}
				xf := decodeAct(act, x, n)
				var want float64
				for i := range wf {
					want += float64(wf[i]) * xf[i]
				}
				got := gen.qdot[wt](w, x, nb)
				tol := 4*float64(nb+8)*0x1p-24*magnitude(wt, w, x, nb) + 1e-30
				if act == quant.Q8_1 {
					// ggml's Q8_1 carries s = fp16(d·Σq) from the unrounded d,
					// while the oracle decodes with fp16(d): two fp16
					// roundings of the m·s term, 2⁻¹¹·|m·s| each, by design.
					for b := 0; b < nb; b++ {
						tol += 0x1p-10 * math.Abs(float64(f16(w[b*wt.TypeSize()+2:]))*float64(f16(x[b*q8_1Bytes+2:])))
					}
				}
				if math.Abs(float64(got)-want) > tol {
					t.Fatalf("%v %v nb=%d: generic %g, dequantized oracle %g (tolerance %g)", wt, mode, nb, got, want, tol)
				}
			}
		}
	}
}

// TestActivationQuantizersAgainstQuant: the kernels' activation
// quantizers equal the quant package's reference ones except at exact
// ties, where the kernels round half to even (llama.cpp's AVX2 and NEON
// runtime) and quant's Q8_0/Q8_1 reference rounds half away from zero.
func TestActivationQuantizersAgainstQuant(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	refs := map[quant.Type]func([]byte, []float32){
		quant.Q8_0: quant.QuantizeQ8_0, quant.Q8_1: quant.QuantizeQ8_1, quant.Q8_K: quant.QuantizeQ8_K,
	}
	for act, ref := range refs {
		for _, nb := range []int{1, 3, 16} {
			x := randFloats(r, nb*act.BlockSize(), true)
			want := make([]byte, len(actBytes(act, x)))
			ref(want, x)
			if got := actBytes(act, x); !bytes.Equal(got, want) {
				t.Errorf("%v nb=%d: kernels' bytes differ from quant's\n got %x\nwant %x", act, nb, got, want)
			}
		}
	}
	// A tie: 0.5·(1/127 of amax) lands exactly on q = 0.5 → 0 (even) here,
	// 1 in quant's roundf reference.
	x := make([]float32, 32)
	x[0], x[1] = 127, 0.5
	got := actBytes(quant.Q8_0, x)
	if got[3] != 0 {
		t.Errorf("tie rounded to %d, want 0 (half to even)", int8(got[3]))
	}
	ref := make([]byte, q8_0Bytes)
	quant.QuantizeQ8_0(ref, x)
	if ref[3] != 1 {
		t.Errorf("quant.QuantizeQ8_0 rounds the tie to %d, want 1 (half away from zero, as ggml's quantize_row_q8_0_ref)", int8(ref[3]))
	}
}
