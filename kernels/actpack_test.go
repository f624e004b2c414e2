package kernels

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// packVariant is one quantize-and-pack with one parameter (the Q8_0
// offset or the K-quant weight type): its activation format, slot size and
// strides, and the fused and the two-step writers.
type packVariant struct {
	name    string
	act     quant.Type
	slot    int
	strides []int
	fused   func(dst []byte, stride int, x []float32)
	repack  func(dst []byte, stride int, q []byte, nb int)
}

// packVariants: Q8_0 slots with every weight offset in use, in a group row
// and a GEMV row; K-quant group slots for each K-quant weight type.
func packVariants() []packVariant {
	var vs []packVariant
	for _, off := range []int32{0, 8, 16, 128} {
		vs = append(vs, packVariant{
			fmt.Sprintf("Q8_0/offset%d", off), quant.Q8_0, gemmActBlock,
			[]int{gemmCols * gemmActBlock, gemmActBlock},
			func(dst []byte, stride int, x []float32) { impl.packQ8_0(dst, stride, x, off) },
			func(dst []byte, stride int, q []byte, nb int) { packActBlocks(dst, stride, q, nb, off) },
		})
	}
	for _, wt := range []quant.Type{quant.Q4_K, quant.Q5_K, quant.Q6_K} {
		vs = append(vs, packVariant{
			"Q8_K/" + wt.String(), quant.Q8_K, gemmKActBlock,
			[]int{gemmCols * gemmKActBlock, gemmKActBlock},
			func(dst []byte, stride int, x []float32) { impl.packQ8_K(dst, stride, x, wt) },
			func(dst []byte, stride int, q []byte, nb int) { packActBlocksK(dst, stride, q, nb, wt) },
		})
	}
	return vs
}

// checkPack runs v's fused writer on x into a buffer of stale bytes at an
// odd offset and requires, byte for byte, what the active quantizer
// followed by v's repack writes into the same buffer: the slots, and the
// bytes between and around them untouched.
func checkPack(t *testing.T, v packVariant, x []float32, stride int) {
	t.Helper()
	bs := v.act.BlockSize()
	nb := len(x) / bs
	size := (nb-1)*stride + v.slot
	stale := func() []byte {
		buf := make([]byte, size+8)
		for i := range buf {
			buf[i] = 0xA5
		}
		return buf
	}
	want := stale()
	q := make([]byte, nb*v.act.TypeSize())
	QuantizeActivations(v.act, q, x)
	v.repack(want[3:3+size], stride, q, nb)
	got := stale()
	v.fused(got[3:3+size], stride, x)
	if bytes.Equal(got, want) {
		return
	}
	for i := range got {
		if got[i] != want[i] {
			b := min(max(i-3, 0)/stride, nb-1)
			t.Fatalf("%s nb=%d stride=%d: byte %d (block %d, slot byte %d) = %#02x, two steps give %#02x\nblock %v",
				v.name, nb, stride, i-3, b, (i-3)-b*stride, got[i], want[i], x[b*bs:(b+1)*bs])
		}
	}
}

// TestQuantizePack holds every implementation's quantize-and-packs to the
// bytes of the two steps they replace on the same implementation, over
// both layouts of each and the block counts of every unroll: ordinary
// rows, rows with outliers and zero runs (whole zero blocks among them),
// exact rounding ties, and rows whose blocks hold NaNs, infinities, ties
// for the largest magnitude, fp16-overflowing and subnormal scales and
// signed zeros. On rows without special values the slots must also be the
// generic quantizer's (the assembly quantizers differ from it only on
// special values).
func TestQuantizePack(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(41, 42))
		for _, v := range packVariants() {
			bs := v.act.BlockSize()
			counts := blockCounts
			if v.act == quant.Q8_K {
				counts = []int{1, 2, 3, 5}
			}
			for _, stride := range v.strides {
				for _, nb := range counts {
					for trial := 0; trial < 6; trial++ {
						x := randFloats(r, nb*bs, trial%2 == 1)
						switch trial {
						case 4: // a zero block, then exact ties: multiples of amax/254 land on k+0.5
							clear(x[:bs])
							for i := bs; i < len(x); i++ {
								x[i] = float32(r.IntN(255)-127) * 0.5
							}
						case 5:
							for b := 0; b < nb; b++ {
								specialBlock(r, x[b*bs:(b+1)*bs])
							}
						}
						checkPack(t, v, x, stride)
						if trial == 5 {
							continue
						}
						want := make([]byte, (nb-1)*stride+v.slot)
						v.repack(want, stride, actBytes(v.act, x), nb)
						got := make([]byte, len(want))
						v.fused(got, stride, x)
						if !bytes.Equal(got, want) {
							t.Fatalf("%s nb=%d stride=%d trial %d: slots differ from the generic quantizer's", v.name, nb, stride, trial)
						}
					}
				}
			}
		}
	})
}

// TestPackShort: a dst that cannot hold the last slot, or a stride below
// a slot, panics before anything is written, for both quantize-and-packs.
func TestPackShort(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		x := randFloats(rand.New(rand.NewPCG(1, 1)), 3*256, false)
		for _, c := range []struct {
			k            bool
			stride, size int
		}{
			{false, gemmActBlock, 23*gemmActBlock + gemmActBlock - 1},
			{false, 320, 23*320 + gemmActBlock - 1},
			{false, gemmActBlock - 1, 24 * gemmActBlock},
			{true, gemmKActBlock, 3*gemmKActBlock - 1},
			{true, 8 * gemmKActBlock, 2*8*gemmKActBlock + gemmKActBlock - 1},
			{true, gemmKActBlock - 1, 3 * gemmKActBlock},
		} {
			dst := make([]byte, c.size)
			func() {
				defer func() {
					if recover() == nil {
						t.Fatalf("%+v: no panic", c)
					}
				}()
				if c.k {
					impl.packQ8_K(dst, c.stride, x, quant.Q4_K)
				} else {
					impl.packQ8_0(dst, c.stride, x, 8)
				}
			}()
			if !bytes.Equal(dst, make([]byte, c.size)) {
				t.Fatalf("%+v: wrote before panicking", c)
			}
		}
	})
}

// FuzzQuantizePack: arbitrary float32 bit patterns give, on every
// implementation, the bytes of that implementation's two steps, for every
// packVariant (whole blocks of the input, in group rows).
func FuzzQuantizePack(f *testing.F) {
	seed := make([]byte, 4*256)
	for i := 0; i < 256; i++ {
		binary.LittleEndian.PutUint32(seed[4*i:], math.Float32bits(float32(i%7)-3))
	}
	f.Add(seed)
	binary.LittleEndian.PutUint32(seed[40:], 0x7f800001)
	binary.LittleEndian.PutUint32(seed[200:], 0xff800000)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		x := make([]float32, len(data)/4)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		for _, im := range Implementations() {
			prev := SetFeatures(im.Features)
			t.Run(im.Name, func(t *testing.T) {
				for _, v := range packVariants() {
					if n := len(x) / v.act.BlockSize() * v.act.BlockSize(); n > 0 {
						checkPack(t, v, x[:n], v.strides[0])
					}
				}
			})
			SetFeatures(prev)
		}
	})
}

// BenchmarkQuantizePack measures the quantize phase of a GEMM per
// activation row (bytes: the float row): the quantizer followed by the Go
// repack it used to take ("two-step"), and the quantize-and-pack
// ("fused"), on each implementation, for Q8_0 (Q4_0 weights) and Q8_K
// (Q4_K), at the decoder's k = 4096 and the ViT MLP's 15360.
func BenchmarkQuantizePack(b *testing.B) {
	for _, k := range []int{4096, 15360} {
		x := randFloats(rand.New(rand.NewPCG(5, 5)), k, false)
		q := make([]byte, k/32*q8_0Bytes)
		qk := make([]byte, k/256*q8_KBytes)
		group := make([]byte, k/256*gemmCols*gemmKActBlock) // ≥ k/32·gemmCols·gemmActBlock
		for _, c := range []struct {
			name string
			fn   func()
		}{
			{"Q8_0/two-step", func() {
				QuantizeActivations(quant.Q8_0, q, x)
				packActRow(group, q, 3, k/32, 8)
			}},
			{"Q8_0/fused", func() { impl.packQ8_0(group[3*gemmActBlock:], gemmCols*gemmActBlock, x, 8) }},
			{"Q8_K/two-step", func() {
				QuantizeActivations(quant.Q8_K, qk, x)
				packActRowK(group, qk, 3, k/256, quant.Q4_K)
			}},
			{"Q8_K/fused", func() { impl.packQ8_K(group[3*gemmKActBlock:], gemmCols*gemmKActBlock, x, quant.Q4_K) }},
		} {
			b.Run(fmt.Sprintf("k%d/%s", k, c.name), func(b *testing.B) {
				benchImplementations(b, int64(4*k), c.fn)
			})
		}
	}
}
