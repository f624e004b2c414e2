package ref

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// TestDotsAgainstDequant checks every reference dot against an independent
// oracle: quant's dequantizers and a float64 dot of the dequantized values.
func TestDotsAgainstDequant(t *testing.T) {
	for _, wt := range []quant.Type{quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.Q8_0, quant.IQ4_NL, quant.Q4_K, quant.Q5_K, quant.Q6_K} {
		dot, _ := Dot(wt)
		act, qa := activation(wt)
		r := rand.New(rand.NewPCG(7, uint64(wt)))
		for _, nb := range []int{1, 2, 3, 5, 8, 13} {
			n := nb * wt.BlockSize()
			wf, xf := make([]float32, n), make([]float32, n)
			for i := range wf {
				wf[i], xf[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			}
			w := make([]byte, nb*wt.TypeSize())
			x := make([]byte, n/act.BlockSize()*act.TypeSize())
			if err := quant.Quantize(wt, w, wf); err != nil {
				t.Fatal(err)
			}
			qa(x, xf)
			wd := make([]float32, n)
			if err := quant.Dequantize(wt, wd, w); err != nil {
				t.Fatal(err)
			}
			xd := make([]float32, n)
			for i := range xd { // q·d of the activation blocks, by hand
				bs, off := act.TypeSize(), 2
				b := i / act.BlockSize()
				var d float32
				switch act {
				case quant.Q8_K:
					d, off = math.Float32frombits(binary.LittleEndian.Uint32(x[b*bs:])), 4
				case quant.Q8_1:
					d, off = quant.FP16ToFP32(binary.LittleEndian.Uint16(x[b*bs:])), 4
				default:
					d = quant.FP16ToFP32(binary.LittleEndian.Uint16(x[b*bs:]))
				}
				xd[i] = d * float32(int8(x[b*bs+off+i%act.BlockSize()]))
			}
			var want, mag float64
			for i := range wd {
				want += float64(wd[i]) * float64(xd[i])
				mag += math.Abs(float64(wd[i]) * float64(xd[i]))
			}
			if act == quant.Q8_1 {
				want = 0
				for b := 0; b < nb; b++ {
					m := float64(quant.FP16ToFP32(binary.LittleEndian.Uint16(w[b*wt.TypeSize()+2:])))
					s := float64(quant.FP16ToFP32(binary.LittleEndian.Uint16(x[b*SizeQ8_1+2:])))
					want += m * s
					for j := 0; j < 32; j++ {
						want += (float64(wd[32*b+j]) - m) * float64(xd[32*b+j])
					}
				}
			}
			got := float64(dot(w, x, nb))
			if tol := 2e-6*mag + 1e-30; math.Abs(got-want) > tol {
				t.Errorf("%v nb=%d: ref %g, float64 oracle %g (|diff| %g > %g)", wt, nb, got, want, math.Abs(got-want), tol)
			}
		}
	}
}

func activation(wt quant.Type) (quant.Type, func(dst []byte, src []float32)) {
	switch wt {
	case quant.Q4_1, quant.Q5_1:
		return quant.Q8_1, QuantizeQ8_1
	case quant.Q4_K, quant.Q5_K, quant.Q6_K:
		return quant.Q8_K, QuantizeQ8_K
	}
	return quant.Q8_0, QuantizeQ8_0
}

// TestQuantizeQ8_0AgainstFileFormat: away from exact ties the runtime
// quantizer (ties to even) and ggml's file-format one (roundf) agree.
func TestQuantizeQ8_0AgainstFileFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 32*64)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	got, want := make([]byte, 64*SizeQ8_0), make([]byte, 64*SizeQ8_0)
	QuantizeQ8_0(got, x)
	quant.QuantizeQ8_0(want, x)
	if !bytes.Equal(got, want) {
		t.Fatal("runtime Q8_0 quantizer differs from quant.QuantizeQ8_0 on tie-free data")
	}
	// an exact tie: 0.5·d rounds to 0 here, to 1 with roundf
	tie := make([]float32, 32)
	tie[0], tie[1] = 127, 0.5
	QuantizeQ8_0(got[:SizeQ8_0], tie)
	if got[3] != 0 {
		t.Errorf("tie 0.5 quantized to %d, want 0 (ties to even)", int8(got[3]))
	}
}
