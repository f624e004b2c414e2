package neon

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// fill repeats data over n bytes (zeros if data is empty).
func fill(data []byte, n int) []byte {
	b := make([]byte, n)
	if len(data) > 0 {
		for i := range b {
			b[i] = data[i%len(data)]
		}
	}
	return b
}

// FuzzDot compares every kernel (at the detected tier) with its generic twin
// on arbitrary bytes: any scale bits, any quants, any bsums.
func FuzzDot(f *testing.F) {
	f.Add(uint8(0), uint8(1), []byte{0x00, 0x3c, 0x12, 0x34}, []byte{0x00, 0x3c, 0x80, 0x7f})
	f.Add(uint8(6), uint8(3), []byte{0xff, 0x7b, 0xff}, []byte{0x00, 0x00, 0x80, 0x7f, 0x81})
	f.Add(uint8(8), uint8(2), []byte{0x01}, []byte{0x00, 0x7c})
	f.Fuzz(func(t *testing.T, kind, nb8 uint8, wdata, xdata []byte) {
		k := kernelsUnderTest[int(kind)%len(kernelsUnderTest)]
		nb := 1 + int(nb8)%40
		w := fill(wdata, nb*k.wB)
		x := fill(xdata, nb*k.xB)
		if got, want := k.fn(w, x, nb), k.generic(w, x, nb); !sameFloat(got, want) {
			t.Fatalf("%s nb=%d: %g, generic %g", k.name, nb, got, want)
		}
		if k.wt == quant.Q4_0 || k.wt == quant.Q8_0 {
			var out [4]float32
			dot := Dot2x2Q4_0Q8_0
			if k.wt == quant.Q8_0 {
				dot = Dot2x2Q8_0Q8_0
			}
			w1 := fill(xdata, nb*k.wB)
			x1 := fill(wdata, nb*k.xB)
			dot(&out, w, w1, x, x1, nb)
			want := [4]float32{k.generic(w, x, nb), k.generic(w1, x, nb), k.generic(w, x1, nb), k.generic(w1, x1, nb)}
			for i := range out {
				if !sameFloat(out[i], want[i]) {
					t.Fatalf("Dot2x2 %s nb=%d out[%d] = %g, generic %g", k.name, nb, i, out[i], want[i])
				}
			}
		}
	})
}

// FuzzQuantizeQ8_0 compares the activation quantizer (at the detected tier)
// with its generic twin on arbitrary float32 bit patterns.
func FuzzQuantizeQ8_0(f *testing.F) {
	f.Add([]byte{0x00, 0x00, 0xfe, 0x42, 0x00, 0x00, 0x20, 0x40})             // 127, 2.5: a tie
	f.Add([]byte{0x00, 0x00, 0x80, 0x7f, 0x00, 0x00, 0xc0, 0x7f, 0x01, 0x00}) // inf, NaN
	f.Fuzz(func(t *testing.T, data []byte) {
		raw := fill(data, 4*32*3)
		src := make([]float32, 32*3)
		for i := range src {
			src[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		got := make([]byte, 3*sizeQ8_0)
		want := make([]byte, 3*sizeQ8_0)
		QuantizeQ8_0(got, src)
		quantizeQ8_0Generic(want, src)
		if k, ok := sameQ8_0(got, want); !ok {
			t.Fatalf("block %d: % x, generic % x", k, got[k*sizeQ8_0:(k+1)*sizeQ8_0], want[k*sizeQ8_0:(k+1)*sizeQ8_0])
		}
	})
}
