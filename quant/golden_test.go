package quant

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// The golden files come from ggml itself; testdata/README.md ("quant")
// says how. Rows: goldenRows rows of goldenPerRow float32 in input.f32.
const (
	goldenDir    = "../testdata/quant"
	goldenRows   = 24
	goldenPerRow = 512
)

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatalf("golden file: %v", err)
	}
	return b
}

func bytesToF32(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func goldenInput(t *testing.T) []float32 {
	t.Helper()
	x := bytesToF32(readGolden(t, "input.f32"))
	if len(x) != goldenRows*goldenPerRow {
		t.Fatalf("input.f32: %d floats, want %d", len(x), goldenRows*goldenPerRow)
	}
	return x
}

// codecTypes lists every type with a codec and ggml's file-name spelling
// (ggml's type_name) used by the generator.
var codecTypes = []struct {
	typ  Type
	name string
}{
	{F16, "f16"}, {BF16, "bf16"},
	{Q4_0, "q4_0"}, {Q4_1, "q4_1"}, {Q5_0, "q5_0"}, {Q5_1, "q5_1"}, {Q8_0, "q8_0"},
	{Q4_K, "q4_K"}, {Q5_K, "q5_K"}, {Q6_K, "q6_K"}, {IQ4_NL, "iq4_nl"},
}

// firstDiff reports the first differing block of two byte strings made of
// blocks of size bsz, or "" when they are equal.
func firstDiff(got, want []byte, bsz int) string {
	if len(got) != len(want) {
		return fmt.Sprintf("length %d, want %d", len(got), len(want))
	}
	for i := 0; i < len(got); i += bsz {
		g, w := got[i:i+bsz], want[i:i+bsz]
		if string(g) != string(w) {
			return fmt.Sprintf("block %d (byte %d):\n got % x\nwant % x", i/bsz, i, g, w)
		}
	}
	return ""
}

func TestQuantizeMatchesGGML(t *testing.T) {
	x := goldenInput(t)
	for _, tc := range codecTypes {
		t.Run(tc.typ.String(), func(t *testing.T) {
			want := readGolden(t, tc.name+".q")
			rs, _ := tc.typ.RowSize(goldenPerRow)
			got := make([]byte, rs*goldenRows)
			// Row by row, the way requant calls it, and reporting the row.
			for r := 0; r < goldenRows; r++ {
				row := got[int64(r)*rs : int64(r+1)*rs]
				if err := Quantize(tc.typ, row, x[r*goldenPerRow:(r+1)*goldenPerRow]); err != nil {
					t.Fatal(err)
				}
				if d := firstDiff(row, want[int64(r)*rs:int64(r+1)*rs], tc.typ.TypeSize()); d != "" {
					t.Errorf("row %d: %s", r, d)
				}
			}
			// All rows in one call must give the same bytes.
			all := make([]byte, len(got))
			if err := Quantize(tc.typ, all, x); err != nil {
				t.Fatal(err)
			}
			if d := firstDiff(all, want, tc.typ.TypeSize()); d != "" {
				t.Errorf("one call over all rows: %s", d)
			}
		})
	}
}

// sameF32 compares bit patterns, except that any two NaNs are equal (the
// payload of a generated NaN differs between x86 and arm64).
func sameF32(a, b float32) bool {
	if a != a && b != b {
		return true
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

func TestDequantizeMatchesGGML(t *testing.T) {
	for _, tc := range codecTypes {
		for _, set := range []string{"", ".rnd"} {
			if set == ".rnd" && !tc.typ.Quantized() {
				continue
			}
			t.Run(tc.typ.String()+set, func(t *testing.T) {
				var src []byte
				if set == "" {
					src = readGolden(t, tc.name+".q")
				} else {
					src = readGolden(t, tc.name+".rnd")
				}
				want := bytesToF32(readGolden(t, tc.name+set+tailName(set)))
				got := make([]float32, len(want))
				if err := Dequantize(tc.typ, got, src); err != nil {
					t.Fatal(err)
				}
				bad := 0
				for i := range got {
					if !sameF32(got[i], want[i]) {
						if bad < 5 {
							t.Errorf("element %d (block %d): got %g (%#08x), want %g (%#08x)", i, i/tc.typ.BlockSize(),
								got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
						}
						bad++
					}
				}
				if bad > 0 {
					t.Errorf("%d of %d elements differ", bad, len(got))
				}
			})
		}
	}
}

// tailName gives the suffix of the dequantized file for a set: ".deq.f32"
// for the quantizer's output, ".f32" after ".rnd" for the random blocks.
func tailName(set string) string {
	if set == "" {
		return ".deq.f32"
	}
	return ".f32"
}

func TestActivationQuantizersMatchGGML(t *testing.T) {
	x := goldenInput(t)
	for _, tc := range []struct {
		name string
		size int // bytes per block
		qk   int
		fn   func(dst []byte, src []float32)
	}{
		{"act_q8_0.q", 34, 32, QuantizeQ8_0},
		{"act_q8_1.q", 36, 32, QuantizeQ8_1},
		{"act_q8_k.q", 292, 256, QuantizeQ8_K},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := readGolden(t, tc.name)
			got := make([]byte, len(x)/tc.qk*tc.size)
			for i := range got {
				got[i] = 0xA5 // every byte must be written, also for zero blocks
			}
			tc.fn(got, x)
			if d := firstDiff(got, want, tc.size); d != "" {
				t.Error(d)
			}
		})
	}
}
