package quant

import (
	"encoding/binary"
	"runtime"
	"testing"
)

// advRows is the number of adversarial rows (goldenPerRow wide) in
// adv_input.f32: testdata/quant/gen/gen.c's make_adv_rows, 12 kinds
// (NaN with payloads, infinities, FLT_MAX, subnormals, exact ties, equal
// blocks, IQ4_NL table midpoints, fp16-limit scales, ...), 8 rows each.
const advRows = 96

// TestQuantizeAdversarialMatchesGGML compares every quantizer, with and
// without the SIMD lanes, with ggml's own bytes (<type>.adv.q) for the
// adversarial rows. Blocks whose input holds a NaN are outside the
// bit-exact contract (maskNaNBlocks says why) and are compared as zero
// after running; every other block must be identical, infinities included.
// One platform difference remains: a NaN that the arithmetic creates (inf/inf
// from an infinite or overflowing block maximum) has the sign bit set on x86
// and clear on ARM, so a NaN scale is 0xFE00 in ggml's x86 bytes and 0x7E00
// from any arm64 build; off amd64, sameNaNScales forgives that bit.
func TestQuantizeAdversarialMatchesGGML(t *testing.T) {
	x := bytesToF32(readGolden(t, "adv_input.f32"))
	if len(x) != advRows*goldenPerRow {
		t.Fatalf("adv_input.f32: %d floats, want %d", len(x), advRows*goldenPerRow)
	}
	forEachQuantPath(t, func(t *testing.T) {
		for _, tc := range codecTypes {
			t.Run(tc.typ.String(), func(t *testing.T) {
				want := readGolden(t, tc.name+".adv.q")
				rs, _ := tc.typ.RowSize(goldenPerRow)
				if int64(len(want)) != rs*advRows {
					t.Fatalf("%s.adv.q: %d bytes, want %d", tc.name, len(want), rs*advRows)
				}
				masked, compared := 0, 0
				for r := 0; r < advRows; r++ {
					in := x[r*goldenPerRow : (r+1)*goldenPerRow]
					got := make([]byte, rs)
					for i := range got {
						got[i] = 0xA5 // a stale destination must be fully overwritten
					}
					if err := Quantize(tc.typ, got, in); err != nil {
						t.Fatal(err)
					}
					w := append([]byte(nil), want[int64(r)*rs:int64(r+1)*rs]...)
					maskNaNBlocks(got, w, in, tc.typ)
					sameNaNScales(got, w, tc.typ)
					for b := 0; b < len(in)/tc.typ.BlockSize(); b++ {
						if hasNaN(in[b*tc.typ.BlockSize() : (b+1)*tc.typ.BlockSize()]) {
							masked++
						} else {
							compared++
						}
					}
					if d := firstDiff(got, w, tc.typ.TypeSize()); d != "" {
						t.Errorf("row %d (kind %d): %s\ninput block: %v", r, r%12, d, firstDiffInput(got, w, in, tc.typ))
					}
				}
				// Most blocks must be compared, or the test checks little.
				if compared < 4*masked {
					t.Errorf("%d blocks compared, %d masked for NaN", compared, masked)
				}
			})
		}
	})
}

func hasNaN(x []float32) bool {
	for _, v := range x {
		if v != v {
			return true
		}
	}
	return false
}

// TestSlowRefMatchesGGML holds the frozen oracle of the randomized
// differential test (slowref_test.go) to ggml's bytes on the golden and
// adversarial rows, so that test compares against something checked.
func TestSlowRefMatchesGGML(t *testing.T) {
	names := map[Type]string{}
	for _, tc := range codecTypes {
		names[tc.typ] = tc.name
	}
	for _, set := range []struct{ input, suffix string }{{"input.f32", ".q"}, {"adv_input.f32", ".adv.q"}} {
		x := bytesToF32(readGolden(t, set.input))
		for _, sq := range slowQuantizers {
			want := readGolden(t, names[sq.typ]+set.suffix)
			rs, _ := sq.typ.RowSize(goldenPerRow)
			for r := 0; r < len(x)/goldenPerRow; r++ {
				in := x[r*goldenPerRow : (r+1)*goldenPerRow]
				got := make([]byte, rs)
				sq.fn(got, in)
				w := append([]byte(nil), want[int64(r)*rs:int64(r+1)*rs]...)
				maskNaNBlocks(got, w, in, sq.typ)
				sameNaNScales(got, w, sq.typ)
				if d := firstDiff(got, w, sq.typ.TypeSize()); d != "" {
					t.Errorf("%v %s row %d: %s", sq.typ, set.input, r, d)
				}
			}
		}
	}
}

// halfFields returns the byte offsets of a block's fp16 (bf16 for BF16)
// fields: the scales of the block types, every element of F16 and BF16.
func halfFields(t Type) []int {
	switch t {
	case F16, BF16:
		return []int{0}
	case Q4_0, Q5_0, Q8_0, IQ4_NL:
		return []int{0}
	case Q4_1, Q5_1, Q4_K, Q5_K:
		return []int{0, 2}
	case Q6_K:
		return []int{208}
	}
	return nil
}

// sameNaNScales copies want's sign bit into got's fp16/bf16 fields where
// both hold a NaN that differs only in sign, on platforms other than amd64
// (whose default NaN is the one in ggml's bytes).
func sameNaNScales(got, want []byte, t Type) {
	if runtime.GOARCH == "amd64" {
		return
	}
	expMask := uint16(0x7C00)
	if t == BF16 {
		expMask = 0x7F80
	}
	isNaN := func(h uint16) bool { return h&expMask == expMask && h&^(expMask|0x8000) != 0 }
	ts := t.TypeSize()
	for b := 0; b+ts <= len(got); b += ts {
		for _, off := range halfFields(t) {
			g := binary.LittleEndian.Uint16(got[b+off:])
			w := binary.LittleEndian.Uint16(want[b+off:])
			if isNaN(g) && isNaN(w) && g^w == 0x8000 {
				binary.LittleEndian.PutUint16(got[b+off:], w)
			}
		}
	}
}
