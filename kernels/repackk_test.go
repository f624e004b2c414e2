package kernels

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/kernels/ref"
	"github.com/cogedge/cogedge/quant"
)

var packedKTypes = []quant.Type{quant.Q4_K, quant.Q6_K}

// packedKShapes: rows below, at and above a group of eight with tails,
// one to three super-blocks per row, n = 1, a few rows (packed decode) and
// n ≥ 16 (unpacked per call, reaching the GEMM).
var packedKShapes = []struct{ rows, kBlocks, n int }{
	{1, 1, 1}, {7, 2, 1}, {8, 1, 1}, {9, 2, 1}, {16, 3, 1}, {37, 1, 1}, {64, 2, 1},
	{13, 1, 2}, {40, 2, 5}, {21, 1, 15}, {24, 1, 16}, {33, 2, 21},
}

// TestRepackKRoundTrip: Unpack inverts Repack bytewise for the K-quants,
// the packed form differs where there is a group, and the tail rows stay
// in the file layout.
func TestRepackKRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, wt := range packedKTypes {
		for _, sh := range packedKShapes {
			k := sh.kBlocks * 256
			w := randWeights(r, wt, sh.rows*sh.kBlocks, scaleMixed)
			p := make([]byte, len(w))
			Repack(wt, p, w, sh.rows, k)
			if sh.rows >= 8 && bytes.Equal(p, w) {
				t.Fatalf("%v %dx%d: packed equals unpacked", wt, sh.rows, k)
			}
			if tail := sh.rows / 8 * 8 * sh.kBlocks * wt.TypeSize(); !bytes.Equal(p[tail:], w[tail:]) {
				t.Fatalf("%v %dx%d: tail rows changed", wt, sh.rows, k)
			}
			u := make([]byte, len(w))
			Unpack(wt, u, p, sh.rows, k)
			if !bytes.Equal(u, w) {
				t.Fatalf("%v %dx%d: round trip differs", wt, sh.rows, k)
			}
		}
	}
}

// TestRepackKLayout pins the documented layouts on a few bytes of row 5,
// block 1 of a group.
func TestRepackKLayout(t *testing.T) {
	const rows, nb, r, b = 8, 2, 5, 1
	for _, c := range []struct {
		wt       quant.Type
		src, dst int // byte of the file block, byte of the packed block
	}{
		{quant.Q4_K, 0, 2 * r},                             // d
		{quant.Q4_K, 3, 16 + 2*r + 1},                      // dmin, high byte
		{quant.Q4_K, 4 + 9, 32 + 2*32 + 4*r + 1},           // scale byte 9: third scale chunk
		{quant.Q4_K, 16 + 4*13 + 2, 128 + 13*32 + 4*r + 2}, // qs byte 54: chunk 13
		{quant.Q6_K, 209, 2*r + 1},                         // d, high byte
		{quant.Q6_K, 192 + 11, 16 + 8*11 + r},              // scale 11
		{quant.Q6_K, 4*30 + 3, 144 + 30*32 + 4*r + 3},      // ql byte 123: chunk 30
		{quant.Q6_K, 128 + 4*9, 1168 + 9*32 + 4*r},         // qh byte 36: chunk 9
	} {
		size := c.wt.TypeSize()
		w := make([]byte, rows*nb*size)
		for i := range w {
			w[i] = byte(i*7 + i>>8 + 1)
		}
		p := make([]byte, len(w))
		Repack(c.wt, p, w, rows, nb*256)
		want := w[(r*nb+b)*size+c.src]
		if got := p[b*8*size+c.dst]; got != want {
			t.Errorf("%v: file byte %d of row %d block %d: packed byte %d is %#x, want %#x", c.wt, c.src, r, b, c.dst, got, want)
		}
	}
}

// TestMatMulPackedK compares MatMulPacked on packed K-quant weights with
// kernels/ref's per-row dot on the file layout (dotTolerance: only the
// float rounding may differ, the block sums are exact integers), for every
// implementation and thread count. The accelerated tiers must agree
// bitwise with one another.
func TestMatMulPackedK(t *testing.T) {
	fast := map[[2]int][]float32{}
	withFeatures(t, func(t *testing.T) {
		for _, wt := range packedKTypes {
			dot, _ := ref.Dot(wt)
			for _, threads := range []int{1, 2, 3} {
				p := NewPool(threads)
				defer p.Close()
				r := rand.New(rand.NewPCG(uint64(wt), uint64(threads)))
				for si, sh := range packedKShapes {
					k, nb := sh.kBlocks*256, sh.kBlocks
					w := randWeights(r, wt, sh.rows*nb, scaleMixed)
					x := randFloats(r, sh.n*k, si%2 == 1)
					pw := make([]byte, len(w))
					Repack(wt, pw, w, sh.rows, k)
					y := make([]float32, sh.n*sh.rows+1)
					y[len(y)-1] = 42
					p.MatMulPacked(y[:sh.n*sh.rows], unaligned(pw, 3), wt, sh.rows, k, x, sh.n)
					if y[len(y)-1] != 42 {
						t.Fatalf("%v %dx%d: wrote past y", wt, sh.rows, k)
					}
					size := wt.TypeSize()
					for j := 0; j < sh.n; j++ {
						xa := actBytes(quant.Q8_K, x[j*k:(j+1)*k])
						for i := 0; i < sh.rows; i++ {
							wi := w[i*nb*size : (i+1)*nb*size]
							want := dot(wi, xa, nb)
							got := y[j*sh.rows+i]
							if tol := dotTolerance(wt, wi, xa, nb); math.Abs(float64(got)-float64(want)) > tol {
								t.Fatalf("%v t%d %dx%d n=%d: y[%d,%d]=%g want %g (tol %g)", wt, threads, sh.rows, k, sh.n, j, i, got, want, tol)
							}
						}
					}
					if PackedFast(wt) && sh.n <= packedRowsMax && threads == 1 {
						res := y[:sh.n*sh.rows]
						key := [2]int{int(wt), si}
						if prev, ok := fast[key]; ok {
							for i := range res {
								if math.Float32bits(res[i]) != math.Float32bits(prev[i]) {
									t.Fatalf("%v %dx%d: y[%d]=%g differs from another tier's %g", wt, sh.rows, k, i, res[i], prev[i])
								}
							}
						} else {
							fast[key] = append([]float32(nil), res...)
						}
					}
				}
			}
		}
	})
}

// TestPackedKKernelsMatchTwin holds every implementation's group kernels
// to their generic twins bit for bit on random groups (mixed, extreme and
// zero scales; adversarial activations; unaligned slices): the integer
// sums are exact and the float steps the same fused ones.
func TestPackedKKernelsMatchTwin(t *testing.T) {
	gen := genericImpl()
	withFeatures(t, func(t *testing.T) {
		for _, wt := range packedKTypes {
			r := rand.New(rand.NewPCG(31, uint64(wt)))
			for _, nb := range []int{1, 2, 5} {
				for trial := 0; trial < 8; trial++ {
					w := randWeights(r, wt, 8*nb, scaleMixed)
					pw := make([]byte, len(w))
					Repack(wt, pw, w, 8, nb*256)
					x := actBytes(quant.Q8_K, randFloats(r, nb*256, trial%2 == 1))
					var got, want [8]float32
					impl.gemvKx8[wt](&got, unaligned(pw, trial%4), unaligned(x, 3-trial%4), nb)
					gen.gemvKx8[wt](&want, pw, x, nb)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%v nb=%d trial %d: y[%d]=%g, generic twin %g", wt, nb, trial, i, got[i], want[i])
						}
					}
				}
			}
		}
	})
}

// TestPackedKKernelExtremes runs the group kernels on blocks built to
// reach the integer bounds (every quant at its maximum, activations ±127,
// largest 6-bit scales and mins) and on zero blocks, against the generic
// twin bitwise: every sum there is an exact integer and the scales are
// powers of two, so every float step is exact in any order (fused or not).
func TestPackedKKernelExtremes(t *testing.T) {
	gen := genericImpl()
	const nb = 2
	x := make([]byte, nb*q8_KBytes)
	for b := 0; b < nb; b++ {
		xb := x[b*q8_KBytes:]
		binary.LittleEndian.PutUint32(xb, math.Float32bits(0.5))
		v := int8(127)
		if b == 1 {
			v = -127
		}
		for i := 0; i < 256; i++ {
			xb[q8KQs+i] = byte(v)
		}
		for i := 0; i < 16; i++ {
			binary.LittleEndian.PutUint16(xb[260+2*i:], uint16(int16(16*int(v))))
		}
	}
	withFeatures(t, func(t *testing.T) {
		for _, wt := range packedKTypes {
			for _, fill := range []byte{0xFF, 0x00, 0x80} {
				size := wt.TypeSize()
				w := bytes.Repeat([]byte{fill}, 8*nb*size)
				for i := 0; i < 8*nb; i++ { // finite fp16 scales
					blk := w[i*size:]
					if wt == quant.Q6_K {
						binary.LittleEndian.PutUint16(blk[208:], quant.FP32ToFP16(0.25))
					} else {
						binary.LittleEndian.PutUint16(blk[0:], quant.FP32ToFP16(0.25))
						binary.LittleEndian.PutUint16(blk[2:], quant.FP32ToFP16(0.125))
					}
				}
				pw := make([]byte, len(w))
				Repack(wt, pw, w, 8, nb*256)
				var got, want [8]float32
				impl.gemvKx8[wt](&got, pw, x, nb)
				gen.gemvKx8[wt](&want, pw, x, nb)
				dot, _ := ref.Dot(wt)
				for r := range got {
					if math.Float32bits(got[r]) != math.Float32bits(want[r]) {
						t.Fatalf("%v fill %#x row %d: %g, generic %g", wt, fill, r, got[r], want[r])
					}
					if d := dot(w[r*nb*size:(r+1)*nb*size], x, nb); math.Abs(float64(d-want[r])) > 1e-6*math.Abs(float64(d)) {
						t.Fatalf("%v fill %#x row %d: generic %g, ref %g", wt, fill, r, want[r], d)
					}
				}
			}
		}
	})
}

func TestMatMulPackedKNoAllocs(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	r := rand.New(rand.NewPCG(3, 5))
	for _, wt := range packedKTypes {
		w := randWeights(r, wt, 64*2, scaleNormal)
		pw := make([]byte, len(w))
		Repack(wt, pw, w, 64, 512)
		x := randFloats(r, 8*512, false)
		y := make([]float32, 8*64)
		for _, n := range []int{1, 8} {
			p.MatMulPacked(y, pw, wt, 64, 512, x, n)
			if a := testing.AllocsPerRun(20, func() { p.MatMulPacked(y, pw, wt, 64, 512, x, n) }); a != 0 {
				t.Errorf("%v n=%d: %v allocations per call", wt, n, a)
			}
		}
	}
}

// BenchmarkDecodeK compares decode (n = 1) on 4096×11008 Q4_K and Q6_K
// matrices (beyond the caches) in the file layout (MatMul) and packed
// (MatMulPacked), 2 threads; SetBytes is the weight bytes per call, and
// MB/cpu-s the same per CPU-second of this process (less load-dependent
// on a shared machine).
func BenchmarkDecodeK(b *testing.B) {
	const rows, k = 11008, 4096
	p := NewPool(2)
	defer p.Close()
	for _, wt := range packedKTypes {
		r := rand.New(rand.NewPCG(5, uint64(wt)))
		w := randWeights(r, wt, rows*k/256, scaleNormal)
		pw := make([]byte, len(w))
		Repack(wt, pw, w, rows, k)
		x := randFloats(r, k, false)
		y := make([]float32, rows)
		for _, packed := range []bool{false, true} {
			name, mat, mm := "unpacked", w, p.MatMul
			if packed {
				name, mat, mm = "packed", pw, p.MatMulPacked
			}
			b.Run(wt.String()+"/"+name, func(b *testing.B) {
				b.SetBytes(int64(len(mat)))
				cpu0 := processCPUSeconds()
				for b.Loop() {
					mm(y, mat, wt, rows, k, x, 1)
				}
				if cpu := processCPUSeconds() - cpu0; cpu > 0 {
					b.ReportMetric(float64(len(mat)*b.N)/cpu/1e6, "MB/cpu-s")
				}
			})
		}
	}
}

// BenchmarkPackedKGroup is the group kernels alone on one cached group of
// 16 blocks (a 4096-wide row) for every implementation: SetBytes is the
// packed weight bytes, so MB/s is the compute rate with no memory limit.
func BenchmarkPackedKGroup(b *testing.B) {
	const nb = 16
	r := rand.New(rand.NewPCG(9, 9))
	for _, im := range Implementations() {
		prev := SetFeatures(im.Features)
		for _, wt := range packedKTypes {
			w := randWeights(r, wt, 8*nb, scaleNormal)
			pw := make([]byte, len(w))
			Repack(wt, pw, w, 8, nb*256)
			x := actBytes(quant.Q8_K, randFloats(r, nb*256, false))
			kern := impl.gemvKx8[wt]
			b.Run(im.Name+"/"+wt.String(), func(b *testing.B) {
				var y [8]float32
				b.SetBytes(int64(len(pw)))
				for b.Loop() {
					kern(&y, pw, x, nb)
				}
			})
		}
		SetFeatures(prev)
	}
}
