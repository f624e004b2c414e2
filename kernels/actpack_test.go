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

// packStrides are the two layouts packQ8_0 writes: one row of an
// activation group and a linear GEMV row.
var packStrides = []int{gemmCols * gemmActBlock, gemmActBlock}

// checkPackQ8_0 runs the active packQ8_0 on x into a buffer of stale bytes
// at an odd offset and requires, byte for byte, what the active Q8_0
// quantizer followed by packActBlocks writes into the same buffer: the
// slots, and the bytes between and around them untouched.
func checkPackQ8_0(t *testing.T, x []float32, stride int, offset int32) {
	t.Helper()
	nb := len(x) / 32
	size := (nb-1)*stride + gemmActBlock
	stale := func() []byte {
		buf := make([]byte, size+8)
		for i := range buf {
			buf[i] = 0xA5
		}
		return buf
	}
	want := stale()
	q := make([]byte, nb*q8_0Bytes)
	QuantizeActivations(quant.Q8_0, q, x)
	packActBlocks(want[3:3+size], stride, q, nb, offset)
	got := stale()
	impl.packQ8_0(got[3:3+size], stride, x, offset)
	if bytes.Equal(got, want) {
		return
	}
	for i := range got {
		if got[i] != want[i] {
			b := (i - 3) / stride
			t.Fatalf("nb=%d stride=%d offset=%d: byte %d (block %d, slot byte %d) = %#02x, two steps give %#02x\nblock %v",
				nb, stride, offset, i-3, b, (i-3)%stride, got[i], want[i], x[min(b, nb-1)*32:min(b, nb-1)*32+32])
		}
	}
}

// TestPackQ8_0 holds every implementation's quantize-and-pack to the bytes
// of the two steps it replaces on the same implementation, over both
// layouts, every offset in use and the block counts of every unroll:
// ordinary rows, rows with outliers and zero runs, exact rounding ties,
// and rows whose blocks hold NaNs, infinities, ties for the largest
// magnitude, fp16-overflowing and subnormal scales and signed zeros. On
// ordinary rows the slots must also be the generic quantizer's (the
// assembly quantizers differ from it only on special values).
func TestPackQ8_0(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(41, 42))
		for _, stride := range packStrides {
			for _, offset := range []int32{0, 8, 16, 128} {
				for _, nb := range blockCounts {
					for trial := 0; trial < 6; trial++ {
						x := randFloats(r, nb*32, trial%2 == 1)
						switch trial {
						case 4: // exact ties: multiples of amax/254 land on k+0.5
							for i := range x {
								x[i] = float32(r.IntN(255)-127) * 0.5
							}
						case 5:
							for b := 0; b < nb; b++ {
								specialBlock(r, x[b*32:(b+1)*32])
							}
						}
						checkPackQ8_0(t, x, stride, offset)
						if trial == 5 {
							continue
						}
						want := make([]byte, (nb-1)*stride+gemmActBlock)
						packActBlocks(want, stride, actBytes(quant.Q8_0, x), nb, offset)
						got := make([]byte, len(want))
						impl.packQ8_0(got, stride, x, offset)
						if !bytes.Equal(got, want) {
							t.Fatalf("nb=%d stride=%d offset=%d trial %d: slots differ from the generic quantizer's", nb, stride, offset, trial)
						}
					}
				}
			}
		}
	})
}

// TestPackQ8_0Short: a dst that cannot hold the last slot, or a stride
// below a slot, panics before anything is written.
func TestPackQ8_0Short(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		x := randFloats(rand.New(rand.NewPCG(1, 1)), 3*32, false)
		for _, c := range []struct{ stride, size int }{{gemmActBlock, 3*gemmActBlock - 1}, {320, 2*320 + gemmActBlock - 1}, {gemmActBlock - 1, 200}} {
			dst := make([]byte, c.size)
			func() {
				defer func() {
					if recover() == nil {
						t.Fatalf("stride %d into %d bytes: no panic", c.stride, c.size)
					}
				}()
				impl.packQ8_0(dst, c.stride, x, 8)
			}()
			if !bytes.Equal(dst, make([]byte, c.size)) {
				t.Fatalf("stride %d into %d bytes: wrote before panicking", c.stride, c.size)
			}
		}
	})
}

// FuzzPackQ8_0: arbitrary float32 bit patterns give, on every
// implementation, the bytes of that implementation's two steps.
func FuzzPackQ8_0(f *testing.F) {
	seed := make([]byte, 4*64)
	for i := 0; i < 64; i++ {
		binary.LittleEndian.PutUint32(seed[4*i:], math.Float32bits(float32(i%7)-3))
	}
	f.Add(seed, uint8(8))
	binary.LittleEndian.PutUint32(seed[40:], 0x7f800001)
	binary.LittleEndian.PutUint32(seed[200:], 0xff800000)
	f.Add(seed, uint8(128))
	f.Fuzz(func(t *testing.T, data []byte, offset uint8) {
		x := make([]float32, len(data)/4/32*32)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		if len(x) == 0 {
			return
		}
		for _, im := range Implementations() {
			prev := SetFeatures(im.Features)
			for _, stride := range packStrides {
				t.Run(fmt.Sprintf("%s/%d", im.Name, stride), func(t *testing.T) {
					checkPackQ8_0(t, x, stride, int32(offset))
				})
			}
			SetFeatures(prev)
		}
	})
}

// BenchmarkPackQ8_0 measures the quantize phase of a GEMM per activation
// row (bytes: the float row): the quantizer followed by the Go repack it
// used to take ("two-step"), and packQ8_0 ("fused"), on each
// implementation, for the decoder's k = 4096 and the ViT MLP's 15360.
func BenchmarkPackQ8_0(b *testing.B) {
	for _, k := range []int{4096, 15360} {
		x := randFloats(rand.New(rand.NewPCG(5, 5)), k, false)
		nb := k / 32
		q := make([]byte, nb*q8_0Bytes)
		group := make([]byte, nb*gemmCols*gemmActBlock)
		b.Run(fmt.Sprintf("k%d/two-step", k), func(b *testing.B) {
			benchImplementations(b, int64(4*k), func() {
				QuantizeActivations(quant.Q8_0, q, x)
				packActRow(group, q, 3, nb, 8)
			})
		})
		b.Run(fmt.Sprintf("k%d/fused", k), func(b *testing.B) {
			benchImplementations(b, int64(4*k), func() {
				impl.packQ8_0(group[3*gemmActBlock:], gemmCols*gemmActBlock, x, 8)
			})
		})
	}
}
