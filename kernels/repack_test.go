package kernels

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// packedShapes: rows below, at and above one group of eight with every tail
// size, odd and even block counts (the kernels take blocks in pairs), n = 1
// (packed decode), n ≤ packedRowsMax (packed decode, every row against each group) and n >
// packedRowsMax (unpacked per call, reaching the GEMM).
var packedShapes = []struct{ rows, kBlocks, n int }{
	{1, 1, 1}, {7, 2, 1}, {8, 1, 1}, {8, 3, 1}, {9, 2, 1}, {15, 5, 1}, {16, 4, 1},
	{37, 3, 1}, {64, 7, 1}, {300, 2, 1}, {13, 2, 2}, {40, 3, 5}, {21, 3, 15}, {24, 2, 16}, {33, 4, 21},
	{19, 2, 32}, {24, 2, 33}, {17, 3, 40},
}

// TestRepackRoundTrip checks that UnpackQ4_0 inverts RepackQ4_0 bytewise
// and that the packed form differs from the input when there is a group
// (the layout really moves bytes).
func TestRepackRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sh := range packedShapes {
		k := sh.kBlocks * 32
		w := randWeights(r, quant.Q4_0, sh.rows*sh.kBlocks, scaleMixed)
		p := make([]byte, len(w))
		RepackQ4_0(p, w, sh.rows, k)
		if sh.rows >= 8 && bytes.Equal(p, w) {
			t.Fatalf("%dx%d: packed equals unpacked", sh.rows, k)
		}
		if tail := sh.rows / 8 * 8 * sh.kBlocks * 18; !bytes.Equal(p[tail:], w[tail:]) {
			t.Fatalf("%dx%d: tail rows changed", sh.rows, k)
		}
		u := make([]byte, len(w))
		UnpackQ4_0(u, p, sh.rows, k)
		if !bytes.Equal(u, w) {
			t.Fatalf("%dx%d: round trip differs", sh.rows, k)
		}
	}
}

// TestRepackLayout pins the documented layout on one element: row 3's
// scale and nibble byte 6 (elements 6 and 22) of block 1 in a group.
func TestRepackLayout(t *testing.T) {
	const rows, nb = 8, 2
	w := make([]byte, rows*nb*18)
	for i := range w {
		w[i] = byte(i*7 + 1)
	}
	p := make([]byte, len(w))
	RepackQ4_0(p, w, rows, nb*32)
	src := w[3*nb*18+1*18:]
	blk := p[1*packedBlock:]
	if blk[6] != src[0] || blk[7] != src[1] {
		t.Errorf("scale of row 3: got %x %x want %x %x", blk[6], blk[7], src[0], src[1])
	}
	// byte 6 = chunk 1, byte 2 within the chunk's 4 bytes of row 3
	if got := blk[16+1*32+3*4+2]; got != src[2+6] {
		t.Errorf("qs[6] of row 3: got %x want %x", got, src[2+6])
	}
}

// TestMatMulPacked compares MatMulPacked on packed weights with the
// generic per-row dot on the unpacked weights (dotTolerance: the packed
// kernels sum each block exactly in int32, so they differ from the
// per-lane float sums only by float rounding), for every implementation
// and thread count. The accelerated tiers must agree bitwise with one
// another (same integer sums, same float steps).
func TestMatMulPacked(t *testing.T) {
	gen := genericImpl()
	fast := map[int][]float32{} // shape index → first accelerated result
	withFeatures(t, func(t *testing.T) {
		for _, threads := range []int{1, 2, 3} {
			p := NewPool(threads)
			defer p.Close()
			r := rand.New(rand.NewPCG(7, uint64(threads)))
			for si, sh := range packedShapes {
				k := sh.kBlocks * 32
				nb := sh.kBlocks
				w := randWeights(r, quant.Q4_0, sh.rows*nb, scaleMixed)
				x := randFloats(r, sh.n*k, true)
				pw := make([]byte, len(w))
				RepackQ4_0(pw, w, sh.rows, k)
				y := make([]float32, sh.n*sh.rows+1)
				y[len(y)-1] = 42
				p.MatMulPacked(y[:sh.n*sh.rows], unaligned(pw, 1), quant.Q4_0, sh.rows, k, x, sh.n)
				if y[len(y)-1] != 42 {
					t.Fatalf("%dx%d: wrote past y", sh.rows, k)
				}
				mx := impl.gemmMX[quant.Q4_0] && sh.n > packedRowsMax // unpacked for the GEMM: power-of-two activation scales
				for j := 0; j < sh.n; j++ {
					xa := actBytes(quant.Q8_0, x[j*k:(j+1)*k])
					for i := 0; i < sh.rows; i++ {
						wi := w[i*nb*18 : (i+1)*nb*18]
						want, tol := float64(gen.qdot[quant.Q4_0](wi, xa, nb)), dotTolerance(quant.Q4_0, wi, xa, nb)
						if mx {
							want, tol = mxRowDot(t, quant.Q4_0, wi, x[j*k:(j+1)*k], nb)
						}
						got := y[j*sh.rows+i]
						if math.Abs(float64(got)-want) > tol {
							t.Fatalf("t%d %dx%d n=%d: y[%d,%d]=%g want %g (tol %g)", threads, sh.rows, k, sh.n, j, i, got, want, tol)
						}
					}
				}
				if PackedFast(quant.Q4_0) && sh.n == 1 && threads == 1 {
					res := y[:sh.n*sh.rows]
					if prev, ok := fast[si]; ok {
						for i := range res {
							if math.Float32bits(res[i]) != math.Float32bits(prev[i]) {
								t.Fatalf("%dx%d: y[%d]=%g differs from another tier's %g", sh.rows, k, i, res[i], prev[i])
							}
						}
					} else {
						fast[si] = append([]float32(nil), res...)
					}
				}
			}
		}
	})
}

// TestPackedKernelZero: zero blocks (scale 0) and nb = 0 give exact zeros.
func TestPackedKernelZero(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		w := make([]byte, 3*packedBlock)
		x := make([]byte, 3*gemmActBlock)
		for i := range x {
			x[i] = byte(i)
		}
		y := [8]float32{1, 1, 1, 1, 1, 1, 1, 1}
		impl.gemvQ4_0x8(&y, w, x, 3)
		if y != ([8]float32{}) {
			t.Fatalf("zero weights: %v", y)
		}
	})
}

func TestMatMulPackedPanics(t *testing.T) {
	p := NewPool(1)
	defer p.Close()
	w := make([]byte, 8*18)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"type", func() { p.MatMulPacked(make([]float32, 8), w, quant.Q8_0, 8, 32, make([]float32, 32), 1) }},
		{"k", func() { p.MatMulPacked(make([]float32, 8), w, quant.Q4_0, 8, 33, make([]float32, 33), 1) }},
		{"w", func() { p.MatMulPacked(make([]float32, 9), w, quant.Q4_0, 9, 32, make([]float32, 32), 1) }},
		{"y", func() { p.MatMulPacked(make([]float32, 7), w, quant.Q4_0, 8, 32, make([]float32, 32), 1) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			c.f()
		}()
	}
}

func TestMatMulPackedNoAllocs(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	r := rand.New(rand.NewPCG(3, 4))
	w := randWeights(r, quant.Q4_0, 64*4, scaleNormal)
	pw := make([]byte, len(w))
	RepackQ4_0(pw, w, 64, 128)
	x := randFloats(r, 8*128, false)
	y := make([]float32, 8*64)
	for _, n := range []int{1, 8} {
		p.MatMulPacked(y, pw, quant.Q4_0, 64, 128, x, n)
		if a := testing.AllocsPerRun(20, func() { p.MatMulPacked(y, pw, quant.Q4_0, 64, 128, x, n) }); a != 0 {
			t.Errorf("n=%d: %v allocations per call", n, a)
		}
	}
}

// packedBenchMatrices returns copies of one random rows×k Q4_0 matrix in
// the file layout and the packed layout, enough of them (at least two,
// over 96 MiB together) that a decode rotating through them reads from
// DRAM, not from the last-level cache (32 MiB on the 2-core EPYC VMs).
func packedBenchMatrices(rows, k int, seed uint64) (plain, packed [][]byte) {
	r := rand.New(rand.NewPCG(5, seed))
	w := randWeights(r, quant.Q4_0, rows*k/32, scaleNormal)
	for c := 0; c < max(2, (96<<20)/len(w)+1); c++ {
		pw := make([]byte, len(w))
		RepackQ4_0(pw, w, rows, k)
		plain = append(plain, append([]byte(nil), w...))
		packed = append(packed, pw)
	}
	return plain, packed
}

// BenchmarkDecodeQ4_0 compares decode (n = 1) on a 4096×11008 Q4_0 matrix
// unpacked (MatMul) and packed (MatMulPacked), 2 threads, rotating through
// copies beyond the caches; SetBytes is the weight bytes streamed per call
// (MB/s is the GB/s of weights read, to set against the streaming read of
// BenchmarkStreamRead), MB/cpu-s the same per CPU-second of the process.
func BenchmarkDecodeQ4_0(b *testing.B) {
	const rows, k = 11008, 4096
	plain, packed := packedBenchMatrices(rows, k, 6)
	x := randFloats(rand.New(rand.NewPCG(5, 9)), k, false)
	y := make([]float32, rows)
	p := NewPool(2)
	defer p.Close()
	for _, c := range []struct {
		name string
		mats [][]byte
		mm   func([]float32, []byte, quant.Type, int, int, []float32, int)
	}{{"unpacked", plain, p.MatMul}, {"packed", packed, p.MatMulPacked}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.mats[0])))
			cpu0 := processCPUSeconds()
			i := 0
			for b.Loop() {
				c.mm(y, c.mats[i%len(c.mats)], quant.Q4_0, rows, k, x, 1)
				i++
			}
			if cpu := processCPUSeconds() - cpu0; cpu > 0 {
				b.ReportMetric(float64(len(c.mats[0])*i)/cpu/1e6, "MB/cpu-s")
			}
		})
	}
}

// BenchmarkDecodeQ4_0Batch is batched decode: n activation rows against a
// 4096×11008 Q4_0 matrix, 2 threads, rotating through copies beyond the
// caches. SetBytes is the weight bytes per call times n, so MB/s compares
// with n separate one-row calls: n times the n = 1 figure means the matrix
// is read once for all rows at no extra cost; MB/cpu-s is the same per
// CPU-second (compute cost, less load-dependent).
func BenchmarkDecodeQ4_0Batch(b *testing.B) {
	const rows, k = 11008, 4096
	plain, packed := packedBenchMatrices(rows, k, 8)
	x := randFloats(rand.New(rand.NewPCG(5, 10)), 8*k, false)
	y := make([]float32, 8*rows)
	p := NewPool(2)
	defer p.Close()
	for _, n := range []int{1, 2, 3, 4, 8} {
		for _, isPacked := range []bool{false, true} {
			name, mats, mm := "unpacked", plain, p.MatMul
			if isPacked {
				name, mats, mm = "packed", packed, p.MatMulPacked
			}
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				size := len(mats[0])
				b.SetBytes(int64(size * n))
				cpu0 := processCPUSeconds()
				i := 0
				for b.Loop() {
					mm(y, mats[i%len(mats)], quant.Q4_0, rows, k, x, n)
					i++
				}
				// on a shared machine: weight bytes per CPU-second of
				// this process, which the load changes much less
				if cpu := processCPUSeconds() - cpu0; cpu > 0 {
					b.ReportMetric(float64(size*n*i)/cpu/1e6, "MB/cpu-s")
				}
			})
		}
	}
}

// TestPackedKernelX4 holds the four-row packed kernel to four one-row
// generic kernel calls (dotTolerance of each row's dot: only float
// rounding differs) for every implementation and odd and even block
// counts; the accelerated tiers agree with the generic x4 twin's float
// steps up to rounding and bitwise with one another, and the two-row
// kernel, where the tier has one, bitwise with the four-row kernel.
func TestPackedKernelX4(t *testing.T) {
	gen := genericImpl()
	fast := map[int][4][8]float32{}
	withFeatures(t, func(t *testing.T) {
		for _, nb := range []int{1, 2, 5, 16} {
			r := rand.New(rand.NewPCG(11, uint64(nb)))
			k := nb * 32
			w := randWeights(r, quant.Q4_0, 8*nb, scaleMixed)
			pw := make([]byte, len(w))
			RepackQ4_0(pw, w, 8, k)
			stride := nb*gemmActBlock + 40 // rows not adjacent
			x := make([]byte, 4*stride)
			acts := make([][]byte, 4)
			for c := range acts {
				acts[c] = actBytes(quant.Q8_0, randFloats(r, k, c == 3))
				packActLinear(x[c*stride:c*stride+nb*gemmActBlock], acts[c], nb, gemmOffset(quant.Q4_0))
			}
			var got [4][8]float32
			impl.gemvQ4_0x8x4(&got, pw, x, stride, nb)
			for c := range acts {
				var one [8]float32
				gen.gemvQ4_0x8(&one, pw, x[c*stride:], nb)
				for i := 0; i < 8; i++ {
					wi := w[i*nb*18 : (i+1)*nb*18]
					if tol := dotTolerance(quant.Q4_0, wi, acts[c], nb); math.Abs(float64(got[c][i])-float64(one[i])) > tol {
						t.Fatalf("nb=%d: y[%d][%d]=%g, one-row kernel %g (tol %g)", nb, c, i, got[c][i], one[i], tol)
					}
				}
			}
			if PackedFast(quant.Q4_0) {
				if prev, ok := fast[nb]; ok && prev != got {
					t.Fatalf("nb=%d: %v differs from another tier's %v", nb, got, prev)
				}
				fast[nb] = got
			}
			// the two-row kernel takes the same float steps as the
			// four-row one: its rows equal the x4 result's bitwise
			if k2 := impl.gemvQ4_0x8x2; k2 != nil {
				for c := 0; c+2 <= 4; c += 2 {
					var two [2][8]float32
					k2(&two, pw, x[c*stride:], stride, nb)
					if two[0] != got[c] || two[1] != got[c+1] {
						t.Fatalf("nb=%d: two-row kernel on rows %d,%d gave %v, four-row %v", nb, c, c+1, two, got[c:c+2])
					}
				}
			}
		}
	})
}
