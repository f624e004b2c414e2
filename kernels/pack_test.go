package kernels

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// moveTwin is Repack (pack set) or Unpack through the generic group loops
// alone: the twin of impl.packx8 and impl.unpackx8.
func moveTwin(pack bool, wt quant.Type, dst, src []byte, rows, nb int) {
	size, groups := wt.TypeSize(), rows/packRows
	f := kFormatOf(wt)
	switch {
	case f != nil && pack:
		f.packGroups0(dst, src, nb, 0, groups)
	case f != nil:
		f.unpackGroups0(dst, src, nb, 0, groups)
	case pack:
		packGroups0(dst, src, nb, 0, groups, size)
	default:
		unpackGroups0(dst, src, nb, 0, groups, size)
	}
	t := groups * packRows * nb * size
	copy(dst[t:rows*nb*size], src[t:rows*nb*size])
}

// canaryBuf returns n bytes of garbage at byte offset off of a buffer
// with 64 canary bytes after them, and a check that the canaries are
// intact.
func canaryBuf(r *rand.Rand, n, off int) (b []byte, intact func() bool) {
	buf := make([]byte, off+n+64)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	tail := bytes.Clone(buf[off+n:])
	head := bytes.Clone(buf[:off])
	return buf[off : off+n], func() bool {
		return bytes.Equal(buf[off+n:], tail) && bytes.Equal(buf[:off], head)
	}
}

// checkMoves compares Repack and Unpack of one rows × nb-block matrix of
// random bytes (scales and quants alike: these are pure data movements)
// with their twins byte for byte, writing into garbage-filled buffers at
// an odd offset whose surroundings must stay untouched.
func checkMoves(t *testing.T, r *rand.Rand, wt quant.Type, rows, nb int) {
	t.Helper()
	k := nb * wt.BlockSize()
	n := rows * nb * wt.TypeSize()
	src := make([]byte, n)
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	off := 1 + r.IntN(31)
	got, intact := canaryBuf(r, n, off)
	want := bytes.Clone(got)
	Repack(wt, got, src, rows, k)
	moveTwin(true, wt, want, src, rows, nb)
	if i := firstDiff(got, want); i >= 0 || !intact() {
		t.Fatalf("%v %d rows × %d blocks: Repack differs from its twin at byte %d (of %d), canaries intact %v", wt, rows, nb, i, n, intact())
	}
	back, intact := canaryBuf(r, n, off)
	wantBack := bytes.Clone(back)
	Unpack(wt, back, got, rows, k)
	moveTwin(false, wt, wantBack, got, rows, nb)
	if i := firstDiff(back, wantBack); i >= 0 || !intact() {
		t.Fatalf("%v %d rows × %d blocks: Unpack differs from its twin at byte %d (of %d), canaries intact %v", wt, rows, nb, i, n, intact())
	}
	if !bytes.Equal(back, src) {
		t.Fatalf("%v %d rows × %d blocks: Unpack(Repack(w)) != w", wt, rows, nb)
	}
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// TestMovesMatchTwin holds every implementation's Repack and Unpack to the
// generic group loops, for each packed type, row counts with and without a
// tail of fewer than eight rows, and odd and even block counts.
func TestMovesMatchTwin(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(31, 32))
		for _, wt := range packedTypes {
			for _, rows := range []int{1, 7, 8, 9, 15, 16, 23, 40} {
				for _, nb := range []int{1, 2, 3, 6} {
					checkMoves(t, r, wt, rows, nb)
				}
			}
		}
	})
}

// checkStrip compares packStrip with packStripGeneric on rows × nb blocks
// of random bytes, rows wrow ≥ nb·bs bytes apart, into garbage-filled
// strips whose surroundings must stay untouched.
func checkStrip(t *testing.T, r *rand.Rand, wt quant.Type, nrows, nb, pad int, signed bool) {
	t.Helper()
	sblk, _ := gemmBlocks(wt)
	wrow := nb*wt.TypeSize() + pad
	w := make([]byte, (nrows-1)*wrow+nb*wt.TypeSize())
	for i := range w {
		w[i] = byte(r.Uint32())
	}
	w = unaligned(w, r.IntN(16))
	got, intact := canaryBuf(r, nb*sblk, 1+r.IntN(31))
	want := bytes.Clone(got)
	packStrip(wt, got, w, wrow, nrows, nb, signed)
	packStripGeneric(wt, want, w, wrow, nrows, nb, signed)
	if i := firstDiff(got, want); i >= 0 || !intact() {
		t.Fatalf("%v rows=%d nb=%d wrow=%d signed=%v: strip differs from the twin at byte %d, canaries intact %v", wt, nrows, nb, wrow, signed, i, intact())
	}
}

// TestPackStripMatchesTwin holds every implementation's packStrip to the
// Go twin for every row count of a strip (partial strips mix the
// eight-row kernel with the Go rows), signed and unsigned strips, and rows
// with padding between them.
func TestPackStripMatchesTwin(t *testing.T) {
	withFeatures(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(33, 34))
		for _, wt := range []quant.Type{quant.Q4_0, quant.Q5_0, quant.Q8_0, quant.IQ4_NL, quant.Q4_K, quant.Q5_K, quant.Q6_K} {
			for nrows := 1; nrows <= gemmRows; nrows++ {
				for _, nb := range []int{1, 2, 5} {
					for _, signed := range []bool{false, true} {
						checkStrip(t, r, wt, nrows, nb, r.IntN(2)*7, signed)
					}
				}
			}
		}
	})
}

// FuzzMoves drives the same comparisons with shapes and contents from the
// fuzzer, on the active implementation.
func FuzzMoves(f *testing.F) {
	f.Add(uint8(0), uint8(16), uint8(3), uint64(1))
	f.Add(uint8(1), uint8(9), uint8(1), uint64(2))
	f.Add(uint8(3), uint8(13), uint8(2), uint64(3))
	f.Add(uint8(4), uint8(8), uint8(4), uint64(4))
	f.Add(uint8(2), uint8(31), uint8(5), uint64(5))
	f.Fuzz(func(t *testing.T, typ, rows, nb uint8, seed uint64) {
		types := []quant.Type{quant.Q4_0, quant.Q8_0, quant.IQ4_NL, quant.Q4_K, quant.Q6_K, quant.Q5_0, quant.Q5_K}
		wt := types[int(typ)%len(types)]
		r := rand.New(rand.NewPCG(seed, uint64(typ)))
		nrows, blocks := 1+int(rows)%40, 1+int(nb)%8
		if PackedLayout(wt) != "" {
			checkMoves(t, r, wt, nrows, blocks)
		}
		checkStrip(t, r, wt, 1+int(rows)%gemmRows, blocks, int(seed%9), seed&1 == 1)
	})
}
