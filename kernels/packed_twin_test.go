package kernels

import (
	"bytes"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// TestPackedKernelsMatchTwin runs the packed decode kernels of every tier
// and packed type on one group against their generic twins (gemvx8Generic
// over the type's layout; for four activation rows gemvQ4_0x8x4Generic, or
// four one-row twins where the kernel takes the rows one at a time), bit
// for bit: the assembly of both architectures takes the twins' float
// steps, fused multiply-adds included (fmaF32).
func TestPackedKernelsMatchTwin(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, wt := range []quant.Type{quant.Q4_0, quant.Q8_0, quant.IQ4_NL} {
			k1, k4 := impl.gemvQ4_0x8, impl.gemvQ4_0x8x4
			twin, twin4 := gemvQ4_0x8Generic, gemvQ4_0x8x4Generic
			if wt != quant.Q4_0 {
				k1, k4, twin, twin4 = impl.gemv8x8[wt], impl.gemv8x8x4[wt], genericImpl().gemv8x8[wt], nil
			}
			if runtime.GOARCH == "arm64" && PackedFast(wt) {
				twin4 = nil // the arm64 kernel takes the rows one at a time
			}
			for _, nb := range []int{1, 2, 3, 4, 7, 16, 33} {
				k := nb * 32
				w := randWeights(r, wt, packRows*nb, scaleMixed)
				pw := make([]byte, len(w))
				Repack(wt, pw, w, packRows, k)
				xs := make([]byte, 4*nb*gemmActBlock)
				for c := 0; c < 4; c++ {
					a := actBytes(quant.Q8_0, randFloats(r, k, true))
					packActLinear(xs[c*nb*gemmActBlock:], a, nb, packedOffset(wt))
				}
				var got, want [8]float32
				k1(&got, unaligned(pw, 3), unaligned(xs[:nb*gemmActBlock], 1), nb)
				twin(&want, pw, xs, nb)
				checkTwin(t, wt.String(), nb, got[:], want[:])

				var got4, want4 [4][8]float32
				stride := nb * gemmActBlock
				k4(&got4, pw, xs, stride, nb)
				if twin4 != nil {
					twin4(&want4, pw, xs, stride, nb)
				} else {
					for c := range want4 {
						twin(&want4[c], pw, xs[c*stride:], nb)
					}
				}
				for c := range got4 {
					checkTwin(t, wt.String()+" x4", nb, got4[c][:], want4[c][:])
				}
			}
		}
	})
}

// TestMatMulPacked8 is TestMatMulPacked for the Q8_0 and IQ4_NL layouts:
// the round trip through Repack and Unpack, then MatMulPacked on packed
// weights against the generic per-row dot on the file layout (within
// dotTolerance), for every tier, thread count and shape.
func TestMatMulPacked8(t *testing.T) {
	gen := genericImpl()
	withFeatures(t, func(t *testing.T) {
		for _, wt := range []quant.Type{quant.Q8_0, quant.IQ4_NL} {
			for _, threads := range []int{1, 3} {
				p := NewPool(threads)
				defer p.Close()
				r := rand.New(rand.NewPCG(9, uint64(threads)))
				for _, sh := range packedShapes {
					k, nb, bs := sh.kBlocks*32, sh.kBlocks, wt.TypeSize()
					w := randWeights(r, wt, sh.rows*nb, scaleMixed)
					pw := make([]byte, len(w))
					Repack(wt, pw, w, sh.rows, k)
					u := make([]byte, len(w))
					Unpack(wt, u, pw, sh.rows, k)
					if !bytes.Equal(u, w) || sh.rows >= 8 && bytes.Equal(pw, w) {
						t.Fatalf("%v %dx%d: round trip differs, or the packed form equals the file's", wt, sh.rows, k)
					}
					x := randFloats(r, sh.n*k, true)
					y := make([]float32, sh.n*sh.rows)
					p.MatMulPacked(y, unaligned(pw, 1), wt, sh.rows, k, x, sh.n)
					mx := impl.gemmMX[wt] && sh.n > packedRowsMax // unpacked for the GEMM: power-of-two activation scales
					for j := 0; j < sh.n; j++ {
						xa := actBytes(quant.Q8_0, x[j*k:(j+1)*k])
						for i := 0; i < sh.rows; i++ {
							wi := w[i*nb*bs : (i+1)*nb*bs]
							want, tol := float64(gen.qdot[wt](wi, xa, nb)), dotTolerance(wt, wi, xa, nb)
							if mx {
								want, tol = mxRowDot(t, wt, wi, x[j*k:(j+1)*k], nb)
							}
							if math.Abs(float64(y[j*sh.rows+i])-want) > tol {
								t.Fatalf("%v t%d %dx%d n=%d: y[%d,%d]=%g want %g (tol %g)", wt, threads, sh.rows, k, sh.n, j, i, y[j*sh.rows+i], want, tol)
							}
						}
					}
				}
			}
		}
	})
}

// checkTwin compares one group's results with the twin's, bit for bit.
func checkTwin(t *testing.T, what string, nb int, got, want []float32) {
	t.Helper()
	for r := range got {
		if math.Float32bits(got[r]) != math.Float32bits(want[r]) {
			t.Fatalf("%s nb=%d row %d: %g, twin %g (bits differ)", what, nb, r, got[r], want[r])
		}
	}
}
