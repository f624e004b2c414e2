package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// quantTypes are the weight types with a quantized matmul kernel.
var quantTypes = []quant.Type{quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.Q8_0, quant.IQ4_NL, quant.Q4_K, quant.Q5_K, quant.Q6_K}

// scaleMode selects how test blocks pick their fp16 scales.
type scaleMode int

const (
	scaleNormal  scaleMode = iota // |d| in [1e-4, 1]
	scaleExtreme                  // ±65504, subnormals, zero
	scaleZero                     // whole block zero
	scaleMixed                    // each block picks one of the above
)

func (m scaleMode) String() string {
	return [...]string{"normal", "extreme", "zero", "mixed"}[m]
}

func randScale(r *rand.Rand, m scaleMode) uint16 {
	if m == scaleMixed {
		m = scaleMode(r.IntN(3))
	}
	switch m {
	case scaleExtreme:
		ext := []float32{65504, -65504, 6e-8, -6e-8, 0, 1e-5, 30000}
		return quant.FP32ToFP16(ext[r.IntN(len(ext))])
	case scaleZero:
		return 0
	}
	v := float32(math.Exp(r.Float64()*math.Log(1e4))) * 1e-4
	if r.IntN(2) == 0 {
		v = -v
	}
	return quant.FP32ToFP16(v)
}

// randWeights returns nb random blocks of weight type wt with finite scales.
func randWeights(r *rand.Rand, wt quant.Type, nb int, m scaleMode) []byte {
	bs := wt.TypeSize()
	out := make([]byte, nb*bs)
	for b := 0; b < nb; b++ {
		blk := out[b*bs : (b+1)*bs]
		mode := m
		if mode == scaleMixed {
			mode = scaleMode(r.IntN(3))
		}
		if mode == scaleZero {
			continue
		}
		for i := range blk {
			blk[i] = byte(r.Uint32())
		}
		put := func(off int) { binary.LittleEndian.PutUint16(blk[off:], randScale(r, mode)) }
		switch wt {
		case quant.Q4_0, quant.Q5_0, quant.Q8_0, quant.IQ4_NL:
			put(0)
		case quant.Q4_1, quant.Q5_1, quant.Q4_K, quant.Q5_K:
			put(0)
			put(2)
		case quant.Q6_K:
			put(208)
		}
	}
	return out
}

// randFloats returns n activations: mostly N(0,1), with outliers and zero
// runs when adversarial is set.
func randFloats(r *rand.Rand, n int, adversarial bool) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	if adversarial && n > 0 {
		for i := 0; i < n/16+1; i++ {
			j := r.IntN(n)
			switch r.IntN(4) {
			case 0:
				x[j] *= 1000
			case 1:
				x[j] = 0
			case 2:
				x[j] *= 1e-6
			case 3:
				// a run of zeros (possibly a whole block)
				for k := j; k < min(n, j+40); k++ {
					x[k] = 0
				}
			}
		}
	}
	return x
}

// actBytes quantizes x to format act with the generic quantizer.
func actBytes(act quant.Type, x []float32) []byte {
	sz, err := act.RowSize(int64(len(x)))
	if err != nil {
		panic(err)
	}
	out := make([]byte, sz)
	g := genericImpl()
	switch act {
	case quant.Q8_0:
		g.quantQ8_0(out, x)
	case quant.Q8_1:
		g.quantQ8_1(out, x)
	case quant.Q8_K:
		g.quantQ8_K(out, x)
	}
	return out
}

// magnitude bounds the sum of absolute values of every float32 term the
// dot of nb blocks adds, computed in float64 from the block fields. A
// float32 accumulation of m terms in any order differs from another order
// by at most about m·2⁻²³·magnitude, which the tests use as tolerance.
func magnitude(wt quant.Type, w, x []byte, nb int) float64 {
	// qmax bounds |weight quant| (times its sub-scale for K-quants).
	qmax := map[quant.Type]float64{
		quant.Q4_0: 8, quant.Q5_0: 16, quant.Q8_0: 128, quant.IQ4_NL: 127,
		quant.Q4_1: 15, quant.Q5_1: 31,
		quant.Q4_K: 63 * 15, quant.Q5_K: 63 * 31, quant.Q6_K: 128 * 32,
	}[wt]
	var s float64
	f := func(b []byte) float64 { return float64(f16(b)) }
	sumAbs := func(q []byte) (t float64) {
		for _, v := range q {
			t += math.Abs(float64(int8(v)))
		}
		return t
	}
	for b := 0; b < nb; b++ {
		wb := w[b*wt.TypeSize():]
		switch wt {
		case quant.Q4_0, quant.Q5_0, quant.Q8_0, quant.IQ4_NL:
			xb := x[b*q8_0Bytes:]
			s += math.Abs(f(wb)*f(xb)) * qmax * sumAbs(xb[2:34])
		case quant.Q4_1, quant.Q5_1:
			xb := x[b*q8_1Bytes:]
			s += math.Abs(f(wb)*f(xb))*qmax*sumAbs(xb[4:36]) + math.Abs(f(wb[2:])*f(xb[2:]))
		case quant.Q4_K, quant.Q5_K:
			xb := x[b*q8_KBytes:]
			s += math.Abs(float64(q8Kd(xb))) * (math.Abs(f(wb))*qmax + math.Abs(f(wb[2:]))*63) * sumAbs(xb[4:260])
		case quant.Q6_K:
			xb := x[b*q8_KBytes:]
			s += math.Abs(float64(q8Kd(xb))*f(wb[208:])) * qmax * sumAbs(xb[4:260])
		}
	}
	return s
}

// withFeatures runs f once per implementation available on this machine.
func withFeatures(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, im := range Implementations() {
		t.Run(im.Name, func(t *testing.T) {
			prev := SetFeatures(im.Features)
			defer SetFeatures(prev)
			f(t)
		})
	}
}

// benchImplementations runs body as a sub-benchmark for each
// implementation (Implementations), with bytes per call for b.SetBytes.
func benchImplementations(b *testing.B, bytes int64, body func()) {
	for _, im := range Implementations() {
		b.Run(im.Name, func(b *testing.B) {
			prev := SetFeatures(im.Features)
			defer SetFeatures(prev)
			b.SetBytes(bytes)
			for i := 0; i < b.N; i++ {
				body()
			}
		})
	}
}

// unaligned copies b into a fresh buffer at byte offset off, so kernels see
// a sub-slice that starts at an odd address.
func unaligned(b []byte, off int) []byte {
	buf := make([]byte, len(b)+off+64)
	copy(buf[off:], b)
	return buf[off : off+len(b)]
}

func actOf(wt quant.Type) quant.Type { a, _ := partner(wt); return a }

// packActRow rewrites one Q8_0-quantized activation row (nb blocks in src)
// into its slot of the group layout, the two-step way the tests compare
// table.packQ8_0 with: dst is the row's group, r its index in the group.
func packActRow(dst, src []byte, r, nb int, offset int32) {
	if nb > 0 {
		packActBlocks(dst[r*gemmActBlock:], gemmCols*gemmActBlock, src, nb, offset)
	}
}

// packActRowK is packActRow for a Q8_K-quantized row and weight type wt.
func packActRowK(dst, src []byte, r, nb int, wt quant.Type) {
	if nb > 0 {
		packActBlocksK(dst[r*gemmKActBlock:], gemmCols*gemmKActBlock, src, nb, wt)
	}
}
