package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/cogedge/cogedge/quant"
)

// everyValue holds one key per value type and per array element type, in
// the order they are written.
var everyValue = []struct {
	key string
	val any
}{
	{"t.u8", uint8(200)},
	{"t.i8", int8(-100)},
	{"t.u16", uint16(60000)},
	{"t.i16", int16(-30000)},
	{"t.u32", uint32(4000000000)},
	{"t.i32", int32(-2000000000)},
	{"t.f32", float32(3.1415927)},
	{"t.f32.inf", float32(math.Inf(-1))},
	{"t.bool.true", true},
	{"t.bool.false", false},
	{"t.str", "héllo\nwörld ✓"},
	{"t.str.empty", ""},
	{"t.u64", uint64(math.MaxUint64)},
	{"t.i64", int64(math.MinInt64)},
	{"t.f64", 2.718281828459045},
	{"t.arr.u8", []uint8{0, 1, 255}},
	{"t.arr.i8", []int8{-128, 0, 127}},
	{"t.arr.u16", []uint16{0, 65535}},
	{"t.arr.i16", []int16{-32768, 32767}},
	{"t.arr.u32", []uint32{0, 1, math.MaxUint32}},
	{"t.arr.i32", []int32{math.MinInt32, -1, 0, math.MaxInt32}},
	{"t.arr.f32", []float32{0.5, -1.25, float32(math.Inf(1))}},
	{"t.arr.bool", []bool{true, false, true}},
	{"t.arr.str", []string{"<s>", "", "▁the", "\x00nul"}},
	{"t.arr.u64", []uint64{0, math.MaxUint64}},
	{"t.arr.i64", []int64{math.MinInt64, math.MaxInt64}},
	{"t.arr.f64", []float64{1e300, -0.0}},
	{"t.arr.empty", []int32{}},
	{"t.arr.str.empty", []string{}},
}

// tensorCase is one tensor of the round-trip tests.
type tensorCase struct {
	name  string
	typ   quant.Type
	shape []uint64
}

// tensorCases covers F32/F16/BF16/Q4_0/Q8_0/Q4_K/Q6_K in 1 to 4 dimensions.
var tensorCases = []tensorCase{
	{"f32.1d", quant.F32, []uint64{7}},
	{"f32.4d", quant.F32, []uint64{3, 2, 2, 2}},
	{"f16.2d", quant.F16, []uint64{5, 3}},
	{"f16.3d", quant.F16, []uint64{2, 3, 4}},
	{"bf16.1d", quant.BF16, []uint64{9}},
	{"bf16.2d", quant.BF16, []uint64{4, 4}},
	{"q4_0.1d", quant.Q4_0, []uint64{32}},
	{"q4_0.2d", quant.Q4_0, []uint64{64, 3}},
	{"q8_0.3d", quant.Q8_0, []uint64{32, 2, 2}},
	{"q8_0.4d", quant.Q8_0, []uint64{96, 1, 2, 1}},
	{"q4_k.2d", quant.Q4_K, []uint64{256, 2}},
	{"q4_k.1d", quant.Q4_K, []uint64{512}},
	{"q6_k.2d", quant.Q6_K, []uint64{256, 3}},
	{"q6_k.4d", quant.Q6_K, []uint64{256, 1, 1, 2}},
}

// buildFile writes everyValue and tensorCases (with random bytes seeded by
// seed) and returns the file and the tensor bytes.
func buildFile(t testing.TB, opts WriterOptions, seed uint64) ([]byte, map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, opts)
	for _, kv := range everyValue {
		if err := w.SetKV(kv.key, kv.val); err != nil {
			t.Fatalf("SetKV(%q): %v", kv.key, err)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	blobs := map[string][]byte{}
	for _, tc := range tensorCases {
		if err := w.AddTensor(tc.name, tc.typ, tc.shape); err != nil {
			t.Fatalf("AddTensor(%q): %v", tc.name, err)
		}
		size, err := TensorSize(tc.typ, tc.shape)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		blobs[tc.name] = b
	}
	for _, tc := range tensorCases {
		if err := w.WriteTensor(tc.name, blobs[tc.name]); err != nil {
			t.Fatalf("WriteTensor(%q): %v", tc.name, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), blobs
}

// equalValue compares a decoded value with what was written, NaN-safe.
func equalValue(got, want any) bool {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		return ok && math.Float64bits(g) == math.Float64bits(w)
	case []float64:
		g, ok := got.([]float64)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range g {
			if math.Float64bits(g[i]) != math.Float64bits(w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}

func TestRoundTrip(t *testing.T) {
	for _, align := range []uint64{0, 1, 8, 32, 64, 256, 4096} {
		data, blobs := buildFile(t, WriterOptions{Alignment: align}, align)
		f, err := Parse(data)
		if err != nil {
			t.Fatalf("align %d: Parse: %v", align, err)
		}
		wantAlign := align
		if align == 0 {
			wantAlign = 32
		}
		if f.Version != 3 || f.Alignment != wantAlign {
			t.Errorf("align %d: version %d alignment %d", align, f.Version, f.Alignment)
		}
		// general.alignment is written only when it differs from 32.
		nKV := len(everyValue)
		if wantAlign != 32 {
			nKV++
			if a, ok := f.Uint(KeyAlignment); !ok || a != wantAlign {
				t.Errorf("align %d: general.alignment = %d, %v", align, a, ok)
			}
		} else if _, ok := f.Value(KeyAlignment); ok {
			t.Errorf("align %d: unexpected general.alignment key", align)
		}
		if len(f.KVs) != nKV {
			t.Fatalf("align %d: %d KVs, want %d", align, len(f.KVs), nKV)
		}
		for i, kv := range everyValue {
			if f.KVs[i].Key != kv.key {
				t.Errorf("KV %d is %q, want %q (insertion order)", i, f.KVs[i].Key, kv.key)
			}
			v, ok := f.Value(kv.key)
			if !ok {
				t.Errorf("key %q missing", kv.key)
				continue
			}
			if !equalValue(v.Any(), kv.val) {
				t.Errorf("key %q = %#v (%v), want %#v", kv.key, v.Any(), v.Type(), kv.val)
			}
		}
		if f.DataOffset%wantAlign != 0 {
			t.Errorf("align %d: data offset %d not aligned", align, f.DataOffset)
		}
		if err := f.CheckStrict(); err != nil {
			t.Errorf("align %d: %v", align, err)
		}
		if err := strictLayout(data, f); err != nil {
			t.Errorf("align %d: %v", align, err)
		}
		if len(f.Tensors) != len(tensorCases) {
			t.Fatalf("%d tensors, want %d", len(f.Tensors), len(tensorCases))
		}
		for i, tc := range tensorCases {
			ti := &f.Tensors[i]
			if ti.Name != tc.name || ti.Type != tc.typ || !reflect.DeepEqual(ti.Shape, tc.shape) {
				t.Errorf("tensor %d = %q %v %v, want %q %v %v", i, ti.Name, ti.Type, ti.Shape, tc.name, tc.typ, tc.shape)
			}
			byName, ok := f.Tensor(tc.name)
			if !ok || byName != ti {
				t.Errorf("Tensor(%q) lookup failed", tc.name)
			}
			got, err := f.TensorData(ti)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, blobs[tc.name]) {
				t.Errorf("align %d: tensor %q bytes differ", align, tc.name)
			}
		}
		// The writer pads after the last tensor as well.
		last := f.Tensors[len(f.Tensors)-1]
		end := f.DataOffset + last.Offset + last.Size
		if want := end + (wantAlign-end%wantAlign)%wantAlign; uint64(len(data)) != want {
			t.Errorf("align %d: file is %d bytes, want %d (padded after the last tensor)", align, len(data), want)
		}
	}
}

// strictLayout re-implements llama.cpp's gguf_init_from_file layout rule
// from the raw bytes, independently of Parse's result except for where the
// tensor infos start and the alignment: walk the infos, require offset ==
// running expected size, expected += pad(nbytes, align); then require the
// data section to start at the padded end of the infos and hold all of it.
func strictLayout(data []byte, f *File) error {
	pos := 24
	le := binary.LittleEndian
	skipString := func() string {
		n := int(le.Uint64(data[pos:]))
		s := string(data[pos+8 : pos+8+n])
		pos += 8 + n
		return s
	}
	var skipValue func(vt uint32)
	skipValue = func(vt uint32) {
		switch vt {
		case 0, 1, 7:
			pos++
		case 2, 3:
			pos += 2
		case 4, 5, 6:
			pos += 4
		case 10, 11, 12:
			pos += 8
		case 8:
			skipString()
		case 9:
			et := le.Uint32(data[pos:])
			n := le.Uint64(data[pos+4:])
			pos += 12
			for range n {
				skipValue(et)
			}
		}
	}
	nT := le.Uint64(data[8:])
	nKV := le.Uint64(data[16:])
	for range nKV {
		skipString()
		vt := le.Uint32(data[pos:])
		pos += 4
		skipValue(vt)
	}
	var expected uint64
	for i := range nT {
		name := skipString()
		nd := le.Uint32(data[pos:])
		pos += 4
		ne := make([]uint64, nd)
		for j := range ne {
			ne[j] = le.Uint64(data[pos:])
			pos += 8
		}
		typ := quant.Type(le.Uint32(data[pos:]))
		off := le.Uint64(data[pos+4:])
		pos += 12
		if off != expected {
			return errors.New("tensor " + name + ": offset not sequential")
		}
		n := uint64(1)
		for _, d := range ne {
			n *= d
		}
		nbytes := n / uint64(typ.BlockSize()) * uint64(typ.TypeSize())
		expected += (nbytes + f.Alignment - 1) / f.Alignment * f.Alignment
		_ = i
	}
	dataStart := (uint64(pos) + f.Alignment - 1) / f.Alignment * f.Alignment
	if dataStart != f.DataOffset {
		return errors.New("data offset differs from the padded end of the tensor infos")
	}
	if dataStart+expected > uint64(len(data)) {
		return errors.New("data section shorter than the padded tensor sizes")
	}
	return nil
}

func TestWriterDeterministic(t *testing.T) {
	a, _ := buildFile(t, WriterOptions{}, 7)
	b, _ := buildFile(t, WriterOptions{}, 7)
	if !bytes.Equal(a, b) {
		t.Fatal("two identical writes produced different bytes")
	}
}

func TestCheckStrictRejectsGaps(t *testing.T) {
	// Two F32 tensors of 4 bytes at offsets 0 and 64 with alignment 32:
	// aligned and inside the file (Parse accepts) but not sequential.
	r := newRaw(2, 0)
	r.tensor("a", 0, 0, 1)
	r.tensor("b", 0, 64, 1)
	r.padTo(32)
	r.zeros(96)
	f, err := Parse(r.b)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	err = f.CheckStrict()
	if err == nil || !strings.Contains(err.Error(), `("b") has offset 64, expected 32`) {
		t.Fatalf("CheckStrict = %v, want a sequential-offset error for b", err)
	}
	if strictLayout(r.b, f) == nil {
		t.Fatal("the test's own strict check accepted a gap")
	}
}

func TestAccessors(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, WriterOptions{})
	kvs := []struct {
		k string
		v any
	}{
		{"u32", uint32(7)}, {"u64", uint64(1 << 40)}, {"big", uint64(math.MaxUint64)},
		{"neg", int32(-5)}, {"i8", int8(3)}, {"f32", float32(0.25)}, {"f64", 1e-6},
		{"b", true}, {"s", "x"}, {"strs", []string{"a", "b"}},
		{"f32s", []float32{1, 2}}, {"f64s", []float64{0.5}},
		{"i32s", []int32{-1, 2}}, {"u32s", []uint32{1, 2}}, {"u8s", []uint8{9}},
		{"u32s.big", []uint32{math.MaxUint32}}, {"i64s.small", []int64{math.MinInt32 - 1}},
	}
	for _, kv := range kvs {
		if err := w.SetKV(kv.k, kv.v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	type res struct {
		v  any
		ok bool
	}
	r := func(v any, ok bool) res { return res{v, ok} }
	tests := []struct {
		name      string
		got, want res
	}{
		{"Uint u32", r(f.Uint("u32")), res{uint64(7), true}},
		{"Uint u64", r(f.Uint("u64")), res{uint64(1 << 40), true}},
		{"Uint i8", r(f.Uint("i8")), res{uint64(3), true}},
		{"Uint negative", r(f.Uint("neg")), res{uint64(0), false}},
		{"Uint string", r(f.Uint("s")), res{uint64(0), false}},
		{"Uint missing", r(f.Uint("nope")), res{uint64(0), false}},
		{"Int negative", r(f.Int("neg")), res{int64(-5), true}},
		{"Int u64 too big", r(f.Int("big")), res{int64(0), false}},
		{"Int u32", r(f.Int("u32")), res{int64(7), true}},
		{"Float f32", r(f.Float("f32")), res{0.25, true}},
		{"Float f64", r(f.Float("f64")), res{1e-6, true}},
		{"Float int", r(f.Float("neg")), res{-5.0, true}},
		{"Float bool", r(f.Float("b")), res{0.0, false}},
		{"Bool", r(f.Bool("b")), res{true, true}},
		{"Bool u8", r(f.Bool("i8")), res{false, false}},
		{"String", r(f.String("s")), res{"x", true}},
		{"String u32", r(f.String("u32")), res{"", false}},
		{"Strings", r(f.Strings("strs")), res{[]string{"a", "b"}, true}},
		{"Strings f32s", r(f.Strings("f32s")), res{[]string(nil), false}},
		{"Float32s", r(f.Float32s("f32s")), res{[]float32{1, 2}, true}},
		{"Float32s f64", r(f.Float32s("f64s")), res{[]float32{0.5}, true}},
		{"Float32s scalar", r(f.Float32s("f32")), res{[]float32(nil), false}},
		{"Int32s", r(f.Int32s("i32s")), res{[]int32{-1, 2}, true}},
		{"Int32s u32", r(f.Int32s("u32s")), res{[]int32{1, 2}, true}},
		{"Int32s u8", r(f.Int32s("u8s")), res{[]int32{9}, true}},
		{"Int32s u32 overflow", r(f.Int32s("u32s.big")), res{[]int32(nil), false}},
		{"Int32s i64 underflow", r(f.Int32s("i64s.small")), res{[]int32(nil), false}},
		{"Int32s strings", r(f.Int32s("strs")), res{[]int32(nil), false}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
}

func TestValueText(t *testing.T) {
	long := make([]int32, 20)
	for i := range long {
		long[i] = int32(i)
	}
	tests := []struct {
		v    any
		want string
	}{
		{uint8(7), "7"},
		{int16(-3), "-3"},
		{float32(0.1), "0.1"},
		{1e-7, "1e-07"},
		{true, "true"},
		{"a\"\n", `"a\"\n"`},
		{"ééé", `"é"… (6 bytes)`},
		{[]string{"x", "y"}, `["x", "y"]`},
		{long, "[0, 1, 2, 3, 4, 5, 6, 7, … ] (20 items)"},
		{[]bool{}, "[]"},
	}
	for _, tt := range tests {
		v, err := ValueOf(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Text(8, 3); got != tt.want {
			t.Errorf("Text(%#v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

func TestValueJSON(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{uint64(math.MaxUint64), "18446744073709551615"},
		{int8(-8), "-8"},
		{float32(0.1), "0.1"},
		{float32(math.NaN()), `"NaN"`},
		{math.Inf(-1), `"-Inf"`},
		{"<s>\x01\xff", `"<s>\u0001\ufffd"`},
		{[]float32{1.5, float32(math.Inf(1))}, `[1.5,"+Inf"]`},
		{[]string{}, `[]`},
		{false, "false"},
	}
	for _, tt := range tests {
		v, err := ValueOf(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(v.AppendJSON(nil)); got != tt.want {
			t.Errorf("JSON(%#v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

func TestValueOfRejects(t *testing.T) {
	for _, v := range []any{1, uint(1), nil, [][]int32{{1}}, []any{uint8(1)}, map[string]int{}, struct{}{}} {
		if _, err := ValueOf(v); err == nil {
			t.Errorf("ValueOf(%#v) succeeded", v)
		}
	}
}

func TestWriterErrors(t *testing.T) {
	f32x4 := make([]byte, 16)
	tests := []struct {
		name string
		do   func(w *Writer) error
		want string
	}{
		{"duplicate key", func(w *Writer) error { w.SetKV("a", uint8(1)); return w.SetKV("a", uint8(2)) }, `duplicate key "a"`},
		{"empty key", func(w *Writer) error { return w.SetKV("", uint8(1)) }, "keys must be"},
		{"invalid UTF-8 key", func(w *Writer) error { return w.SetKV("a\xff", uint8(1)) }, "keys must be"},
		{"int value", func(w *Writer) error { return w.SetKV("a", 5) }, "no fixed GGUF width"},
		{"nested array", func(w *Writer) error { return w.SetKV("a", [][]uint8{{1}}) }, "nested arrays"},
		{"alignment u64", func(w *Writer) error { return w.SetKV(KeyAlignment, uint64(64)) }, "must be a u32 power of two"},
		{"alignment 48", func(w *Writer) error { return w.SetKV(KeyAlignment, uint32(48)) }, "must be a u32 power of two"},
		{"duplicate tensor", func(w *Writer) error {
			w.AddTensor("t", quant.F32, []uint64{4})
			return w.AddTensor("t", quant.F32, []uint64{4})
		}, `duplicate tensor name "t"`},
		{"long name", func(w *Writer) error { return w.AddTensor(strings.Repeat("n", 64), quant.F32, []uint64{4}) }, "names must be 1 to 63 bytes"},
		{"5 dims", func(w *Writer) error { return w.AddTensor("t", quant.F32, []uint64{1, 1, 1, 1, 1}) }, "5 dimensions"},
		{"zero dim", func(w *Writer) error { return w.AddTensor("t", quant.F32, []uint64{4, 0}) }, "dimension 1 is 0"},
		{"removed type", func(w *Writer) error { return w.AddTensor("t", quant.Type(4), []uint64{32}) }, "unknown or removed ggml type id 4"},
		{"block size", func(w *Writer) error { return w.AddTensor("t", quant.Q4_K, []uint64{32}) }, "not a multiple of the Q4_K block size 256"},
		{"overflow", func(w *Writer) error { return w.AddTensor("t", quant.F32, []uint64{1 << 32, 1 << 32}) }, "overflows"},
		{"byte overflow", func(w *Writer) error { return w.AddTensor("t", quant.F64, []uint64{1 << 61}) }, "overflows"},
		{"wrong order", func(w *Writer) error {
			w.AddTensor("a", quant.F32, []uint64{4})
			w.AddTensor("b", quant.F32, []uint64{4})
			return w.WriteTensor("b", f32x4)
		}, `next is "a"`},
		{"wrong size", func(w *Writer) error { w.AddTensor("a", quant.F32, []uint64{4}); return w.WriteTensor("a", f32x4[:15]) }, "15 bytes"},
		{"too many", func(w *Writer) error {
			w.AddTensor("a", quant.F32, []uint64{4})
			w.WriteTensor("a", f32x4)
			return w.WriteTensor("a", f32x4)
		}, "all 1 declared tensors"},
		{"add after write", func(w *Writer) error {
			w.AddTensor("a", quant.F32, []uint64{4})
			w.WriteTensor("a", f32x4)
			return w.AddTensor("b", quant.F32, []uint64{4})
		}, "after the first WriteTensor"},
		{"kv after write", func(w *Writer) error {
			w.AddTensor("a", quant.F32, []uint64{4})
			w.WriteTensor("a", f32x4)
			return w.SetKV("k", uint8(1))
		}, "after the first WriteTensor"},
		{"missing tensor", func(w *Writer) error { w.AddTensor("a", quant.F32, []uint64{4}); return w.Close() }, `tensor "a" (1 of 1) was declared but not written`},
	}
	for _, tt := range tests {
		w := NewWriter(&bytes.Buffer{}, WriterOptions{})
		err := tt.do(w)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
	// Invalid options are reported.
	if _, err := Create(filepath.Join(t.TempDir(), "x.gguf"), WriterOptions{Alignment: 24}); err == nil {
		t.Error("Create accepted alignment 24")
	}
	w := NewWriter(&bytes.Buffer{}, WriterOptions{Alignment: 1 << 33})
	if err := w.SetKV("a", uint8(1)); err == nil || !strings.Contains(err.Error(), "power of two") {
		t.Errorf("NewWriter alignment 2^33: %v", err)
	}
	w = NewWriter(&bytes.Buffer{}, WriterOptions{Alignment: 64})
	if err := w.SetKV(KeyAlignment, uint32(128)); err == nil || !strings.Contains(err.Error(), "conflicts") {
		t.Errorf("conflicting alignment key: %v", err)
	}
}

func TestWriterAlignmentKey(t *testing.T) {
	// general.alignment set through SetKV (no option) sets the layout and
	// stays where it was inserted.
	var buf bytes.Buffer
	w := NewWriter(&buf, WriterOptions{})
	w.SetKV("a", uint8(1))
	w.SetKV(KeyAlignment, uint32(128))
	w.SetKV("b", uint8(2))
	w.AddTensor("t", quant.F32, []uint64{3})
	if err := w.WriteTensor("t", make([]byte, 12)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.Alignment != 128 || f.KVs[1].Key != KeyAlignment || len(f.KVs) != 3 || f.DataOffset%128 != 0 || len(buf.Bytes())%128 != 0 {
		t.Fatalf("alignment %d, keys %v, data offset %d, size %d", f.Alignment, f.KVs, f.DataOffset, buf.Len())
	}
}

func TestCreateAbortClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	entries := func() []string {
		es, _ := os.ReadDir(dir)
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}

	// Abort leaves nothing.
	w, err := Create(path, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.SetKV("a", "b")
	w.AddTensor("t", quant.F32, []uint64{2})
	w.WriteTensor("t", make([]byte, 8))
	w.Abort()
	if n := entries(); len(n) != 0 {
		t.Fatalf("after Abort the folder holds %v", n)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after Abort succeeded")
	}

	// A failed Close leaves nothing either.
	w, _ = Create(path, WriterOptions{})
	w.AddTensor("t", quant.F32, []uint64{2})
	if err := w.Close(); err == nil {
		t.Fatal("Close with an unwritten tensor succeeded")
	}
	if n := entries(); len(n) != 0 {
		t.Fatalf("after a failed Close the folder holds %v", n)
	}

	// While writing, the destination does not exist yet; Close renames.
	w, _ = Create(path, WriterOptions{})
	w.SetKV("general.name", "x")
	w.AddTensor("t", quant.F32, []uint64{2})
	w.WriteTensor("t", []byte{0, 0, 128, 63, 0, 0, 0, 64})
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("destination exists before Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Abort() // no effect after a successful Close
	if n := entries(); !reflect.DeepEqual(n, []string{"m.gguf"}) {
		t.Fatalf("after Close the folder holds %v", n)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Path() != path {
		t.Errorf("Path = %q", f.Path())
	}
	ti, _ := f.Tensor("t")
	d, err := f.TensorData(ti)
	if err != nil || !bytes.Equal(d, []byte{0, 0, 128, 63, 0, 0, 0, 64}) {
		t.Fatalf("TensorData = %v, %v", d, err)
	}
	f.Advise(ti, AdviceWillNeed)
	f.Advise(ti, AdviceDontNeed)
	if d, _ := f.TensorData(ti); d[2] != 128 {
		t.Fatal("data changed after madvise")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.TensorData(ti); !errors.Is(err, ErrClosed) {
		t.Fatalf("TensorData after Close: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.gguf")
	os.WriteFile(bad, []byte("GGUF\x01\x00\x00\x00"+strings.Repeat("\x00", 16)), 0o644)
	_, err := Open(bad)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Path != bad || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), bad+": version at byte 4") {
		t.Errorf("Open(v1 file) = %v", err)
	}
	empty := filepath.Join(dir, "empty.gguf")
	os.WriteFile(empty, nil, 0o644)
	if _, err := Open(empty); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("Open(empty) = %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.gguf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v", err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Open(dir) = %v", err)
	}
}

func TestTensorDataForeignInfo(t *testing.T) {
	data, _ := buildFile(t, WriterOptions{}, 1)
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	bogus := TensorInfo{Name: "x", Offset: math.MaxUint64 - 3, Size: 8}
	if _, err := f.TensorData(&bogus); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("TensorData(bogus) = %v", err)
	}
	f.Advise(&bogus, AdviceWillNeed) // must not panic
}

func TestParamCount(t *testing.T) {
	data, _ := buildFile(t, WriterOptions{}, 1)
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var want uint64
	for _, tc := range tensorCases {
		n := uint64(1)
		for _, d := range tc.shape {
			n *= d
		}
		want += n
	}
	if got := f.ParamCount(); got != want {
		t.Fatalf("ParamCount = %d, want %d", got, want)
	}
}

// TestMapping: a file Open maps exposes the whole file, page-aligned, with
// the tensor bytes at DataOffset+Offset; Parse's in-memory file has none.
func TestMapping(t *testing.T) {
	path := filepath.Join("..", "testdata", "tiny.gguf")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mem := f.Mapping()
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		if mem != nil {
			t.Fatal("Mapping is not nil on a platform that reads files into memory")
		}
		return
	}
	if !bytes.Equal(mem, raw) {
		t.Fatalf("Mapping is %d bytes, not the %d-byte file", len(mem), len(raw))
	}
	if uintptr(unsafe.Pointer(&mem[0]))%uintptr(os.Getpagesize()) != 0 {
		t.Fatal("the mapping does not start on a page")
	}
	ti := &f.Tensors[len(f.Tensors)-1]
	data, err := f.TensorData(ti)
	if err != nil {
		t.Fatal(err)
	}
	at := f.DataOffset + ti.Offset
	if &mem[at] != &data[0] {
		t.Fatalf("tensor %q is not at DataOffset+Offset of the mapping", ti.Name)
	}
	p, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mapping() != nil {
		t.Fatal("a parsed in-memory file reports a mapping")
	}
}
