package gguf

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

// raw assembles GGUF bytes field by field, valid or not.
type raw struct{ b []byte }

// newRaw starts a v3 header with the given counts.
func newRaw(nTensors, nKV uint64) *raw {
	r := &raw{b: []byte(Magic)}
	return r.u32(3).u64(nTensors).u64(nKV)
}

func (r *raw) u8(v uint8) *raw   { r.b = append(r.b, v); return r }
func (r *raw) u32(v uint32) *raw { r.b = binary.LittleEndian.AppendUint32(r.b, v); return r }
func (r *raw) u64(v uint64) *raw { r.b = binary.LittleEndian.AppendUint64(r.b, v); return r }
func (r *raw) str(s string) *raw { return r.u64(uint64(len(s))).bytes(s) }
func (r *raw) bytes(s string) *raw {
	r.b = append(r.b, s...)
	return r
}
func (r *raw) zeros(n int) *raw { r.b = append(r.b, make([]byte, n)...); return r }

// padTo pads with zeros to a multiple of a.
func (r *raw) padTo(a int) *raw {
	for len(r.b)%a != 0 {
		r.b = append(r.b, 0)
	}
	return r
}

// kvU32 appends a u32 metadata pair.
func (r *raw) kvU32(key string, v uint32) *raw { return r.str(key).u32(uint32(TypeUint32)).u32(v) }

// tensor appends a tensor info.
func (r *raw) tensor(name string, typ uint32, off uint64, shape ...uint64) *raw {
	r.str(name).u32(uint32(len(shape)))
	for _, d := range shape {
		r.u64(d)
	}
	return r.u32(typ).u64(off)
}

// okTensorFile is a valid file with one kv and one 8-element F32 tensor.
func okTensorFile() *raw {
	r := newRaw(1, 1).kvU32("k", 1)
	r.tensor("t", 0, 0, 8).padTo(32).zeros(32)
	return r
}

type malformedCase struct {
	name string
	data []byte
	want string // a part of the error message
}

// malformedCases returns the hand-made corpus; each must fail with want.
func malformedCases() []malformedCase {
	one := func(name, want string, r *raw) malformedCase { return malformedCase{name, r.b, want} }
	kv := func(f func(r *raw)) *raw { r := newRaw(0, 1); f(r); return r }
	ti := func(f func(r *raw)) *raw { r := newRaw(1, 0); f(r); r.padTo(32).zeros(64); return r }
	cases := []malformedCase{
		{"empty", nil, "too short for the magic"},
		{"3 bytes", []byte("GGU"), "too short for the magic"},
		{"lowercase magic", append([]byte("gguf"), okTensorFile().b[4:]...), `got "gguf", want "GGUF"`},
		{"GGML magic", append([]byte("ggml"), okTensorFile().b[4:]...), `want "GGUF"`},
		{"byte-swapped magic", append([]byte("FUGG"), okTensorFile().b[4:]...), `want "GGUF"`},
		{"no version", []byte("GGUF\x03\x00"), "version at byte 4: need 4 bytes"},
	}
	version := func(v uint32) []byte {
		b := okTensorFile().b
		binary.LittleEndian.PutUint32(b[4:], v)
		return b
	}
	cases = append(cases,
		malformedCase{"version 0", version(0), "version 0 is invalid"},
		malformedCase{"version 1", version(1), "GGUF v1 is no longer supported"},
		malformedCase{"version 4", version(4), "version 4 is newer than the supported 3"},
		malformedCase{"version 0xFFFFFFFF", version(math.MaxUint32), "newer than"},
		malformedCase{"byte-swapped version", version(0x03000000), "byte-swapped"},
		one("no tensor count", "tensor count at byte 8: need 8 bytes", &raw{b: []byte("GGUF\x03\x00\x00\x00\x01")}),
		one("huge tensor count", "tensor count at byte 8: 4611686018427387904 tensor infos cannot fit", newRaw(1<<62, 0).zeros(64)),
		one("huge kv count", "kv count at byte 16: 18446744073709551615 key/value pairs cannot fit", newRaw(0, math.MaxUint64).zeros(64)),
		one("kv count past end", "kv 1 key length at byte 41: string length 100 exceeds the 6 bytes left", newRaw(0, 2).kvU32("a", 1).u64(100).zeros(6)),
		one("huge key length", "kv 0 key length at byte 24: string length 9223372036854775808 exceeds the limit of 65535", newRaw(0, 1).u64(1<<63).zeros(20)),
		one("key longer than file", "kv 0 key length at byte 24: string length 100 exceeds the 13 bytes left", newRaw(0, 1).u64(100).bytes("abc").zeros(10)),
		one("empty key", "kv 0 key at byte 24: empty key", kv(func(r *raw) { r.str("").u32(0).u8(1) })),
		one("invalid UTF-8 key", `kv 0 key at byte 24: key "a\xff" is not valid UTF-8`, kv(func(r *raw) { r.str("a\xff").u32(0).u8(1) })),
		one("overlong UTF-8 key", "not valid UTF-8", kv(func(r *raw) { r.str("\xc0\xaf").u32(0).u8(1) })),
		one("duplicate key", `kv 1 ("a") at byte 41: duplicate key (first defined by kv 0)`, newRaw(0, 2).kvU32("a", 1).kvU32("a", 2)),
		one("value type 13", `kv 0 ("a") type at byte 33: invalid value type 13`, kv(func(r *raw) { r.str("a").u32(13).u32(0) })),
		one("value type max", "invalid value type 4294967295", kv(func(r *raw) { r.str("a").u32(math.MaxUint32).u32(0) })),
		one("truncated u64 value", `kv 0 ("a") value at byte 37: need 8 bytes, only 3 left`, kv(func(r *raw) { r.str("a").u32(uint32(TypeUint64)).zeros(3) })),
		one("nested array", `kv 0 ("a") array element type at byte 37: nested arrays are not supported`, kv(func(r *raw) { r.str("a").u32(9).u32(9).u64(1).u32(0).u64(0) })),
		one("array element type 200", "invalid element type 200", kv(func(r *raw) { r.str("a").u32(9).u32(200).u64(0) })),
		one("array over the limit", "67108865 elements exceed the limit of 67108864", kv(func(r *raw) { r.str("a").u32(9).u32(0).u64(MaxArrayLen + 1) })),
		one("array past end", "1000 u32 elements cannot fit in the 8 bytes left", kv(func(r *raw) { r.str("a").u32(9).u32(4).u64(1000).zeros(8) })),
		one("string array past end", "5000000 str elements cannot fit", kv(func(r *raw) { r.str("a").u32(9).u32(8).u64(5000000).zeros(100) })),
		one("string array element too long", `kv 0 ("a") array[1] length at byte 59: string length 50 exceeds the 2 bytes left`,
			kv(func(r *raw) { r.str("a").u32(9).u32(8).u64(2).str("xy").u64(50).bytes("ab") })),
		one("bool 2", `kv 0 ("a") value at byte 37: bool byte is 2, want 0 or 1`, kv(func(r *raw) { r.str("a").u32(7).u8(2) })),
		one("bool 255 in array", `kv 0 ("a") array[2] at byte 51: bool byte is 255`, kv(func(r *raw) { r.str("a").u32(9).u32(7).u64(3).u8(1).u8(0).u8(255) })),
		one("string over the limit", "string length 16777217 exceeds the limit of 16777216", kv(func(r *raw) { r.str("a").u32(8).u64(MaxStringLen + 1).zeros(8) })),
		one("alignment 48", `kv 0 ("general.alignment") at byte 24: alignment 48 is not a power of two`, newRaw(0, 1).kvU32(KeyAlignment, 48)),
		one("alignment 0", "alignment 0 is not a power of two", newRaw(0, 1).kvU32(KeyAlignment, 0)),
		one("alignment u64", "alignment must be a u32, got u64", newRaw(0, 1).str(KeyAlignment).u32(uint32(TypeUint64)).u64(64)),
		one("alignment string", "alignment must be a u32, got str", newRaw(0, 1).str(KeyAlignment).u32(uint32(TypeString)).str("32")),
		one("empty tensor name", "tensor info 0 name at byte 24: empty tensor name", ti(func(r *raw) { r.tensor("", 0, 0, 4) })),
		one("tensor name 64 bytes", "tensor info 0 name length at byte 24: string length 64 exceeds the limit of 63", ti(func(r *raw) { r.tensor(strings.Repeat("x", 64), 0, 0, 4) })),
		one("tensor name invalid UTF-8", `name "\xfe" is not valid UTF-8`, ti(func(r *raw) { r.tensor("\xfe", 0, 0, 4) })),
		one("duplicate tensor name", `tensor info 1 ("w") at byte 57: duplicate tensor name (first used by tensor info 0)`,
			newRaw(2, 0).tensor("w", 0, 0, 4).tensor("w", 0, 32, 4).padTo(32).zeros(64)),
		one("5 dims", `tensor info 0 ("w"): n_dims at byte 33: 5 dimensions, at most 4 allowed`, ti(func(r *raw) { r.tensor("w", 0, 0, 1, 1, 1, 1, 1) })),
		one("n_dims max", "4294967295 dimensions", ti(func(r *raw) { r.str("w").u32(math.MaxUint32) })),
		one("zero dim", `tensor info 0 ("w"): ne[1] at byte 45: dimension is 0`, ti(func(r *raw) { r.tensor("w", 0, 0, 4, 0) })),
		one("negative dim", `ne[0] at byte 37: dimension 9223372036854775808 is negative`, ti(func(r *raw) { r.tensor("w", 0, 0, 1<<63) })),
		one("overflowing shape", `ne[1] at byte 45: element count of shape [4294967296 4294967296] overflows int64`, ti(func(r *raw) { r.tensor("w", 0, 0, 1<<32, 1<<32) })),
		one("overflowing 4d shape", "overflows int64", ti(func(r *raw) { r.tensor("w", 0, 0, 1<<16, 1<<16, 1<<16, 1<<15) })),
		one("byte size overflows", "byte size of 1152921504606846976 elements overflows", ti(func(r *raw) { r.tensor("w", 28, 0, 1<<60) })),
		one("removed type 4", `tensor info 0 ("w"): type at byte 45: unknown or removed ggml type id 4`, ti(func(r *raw) { r.tensor("w", 4, 0, 32) })),
		one("removed type 5", "unknown or removed ggml type id 5", ti(func(r *raw) { r.tensor("w", 5, 0, 32) })),
		one("removed type 31", "unknown or removed ggml type id 31", ti(func(r *raw) { r.tensor("w", 31, 0, 32) })),
		one("removed type 37", "unknown or removed ggml type id 37", ti(func(r *raw) { r.tensor("w", 37, 0, 32) })),
		one("type id 1000", "unknown or removed ggml type id 1000", ti(func(r *raw) { r.tensor("w", 1000, 0, 32) })),
		one("Q4_0 ne0 33", "ne[0] = 33 is not a multiple of the Q4_0 block size 32", ti(func(r *raw) { r.tensor("w", 2, 0, 33, 2) })),
		one("Q4_K ne0 32", "ne[0] = 32 is not a multiple of the Q4_K block size 256", ti(func(r *raw) { r.tensor("w", 12, 0, 32) })),
		one("misaligned offset", `tensor info 0 ("w"): offset at byte 49: offset 4 is not a multiple of the alignment 32`, ti(func(r *raw) { r.tensor("w", 0, 4, 4) })),
		one("offset beyond file", `tensor info 0 ("w"): offset at byte 49: data [1099511627840, 1099511627856) (16 bytes) end beyond the file size`, ti(func(r *raw) { r.tensor("w", 0, 1<<40, 4) })),
		one("offset overflows", "offset 18446744073709551584 + size 16 overflows", ti(func(r *raw) { r.tensor("w", 0, math.MaxUint64-31, 4) })),
		one("data cut short", "end beyond the file size 95", &raw{b: okTensorFile().b[:95]}),
		one("huge alignment", "beyond the file size", newRaw(1, 1).kvU32(KeyAlignment, 1<<31).tensor("t", 0, 0, 4).zeros(64)),
		one("second tensor beyond file", `tensor info 1 ("b")`, newRaw(2, 0).tensor("a", 0, 0, 4).tensor("b", 0, 32, 4).padTo(32).zeros(40)),
		one("tensor info truncated", `tensor info 0 ("w"): offset at byte 49: need 8 bytes`, newRaw(1, 0).str("w").u32(1).u64(4).u32(0).zeros(3)),
	)
	return cases
}

func TestMalformed(t *testing.T) {
	cases := malformedCases()
	if len(cases) < 40 {
		t.Fatalf("only %d malformed cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.data)
			if err == nil {
				t.Fatalf("Parse accepted it: %d tensors, %d KVs", len(f.Tensors), len(f.KVs))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\n does not contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "gguf: ") || !strings.Contains(err.Error(), " at byte ") {
				t.Errorf("error %q does not name the field and byte offset", err)
			}
			var fe *FormatError
			if !errors.As(err, &fe) || !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupported)) {
				t.Errorf("error %T does not wrap ErrMalformed/ErrUnsupported", err)
			}
		})
	}
}

func TestValidRawFiles(t *testing.T) {
	// The builders' valid bases parse; version 2 is read like 3.
	v2 := okTensorFile().b
	binary.LittleEndian.PutUint32(v2[4:], 2)
	for name, b := range map[string][]byte{
		"ok":         okTensorFile().b,
		"version 2":  v2,
		"no padding": newRaw(0, 1).kvU32("k", 1).b, // no tensors: nothing after the KVs
		"0 dims":     newRaw(1, 0).tensor("s", 0, 0).padTo(32).zeros(4).b,
		"2^31 align": newRaw(0, 1).kvU32(KeyAlignment, 1<<31).b,
	} {
		if _, err := Parse(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTruncated cuts a valid file at every byte up to the end of the last
// tensor's data; each prefix must fail with a bounds error. Prefixes that
// hold all tensor data but lack the final padding are valid.
func TestTruncated(t *testing.T) {
	data, _ := buildFile(t, WriterOptions{}, 3)
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	last := f.Tensors[len(f.Tensors)-1]
	end := int(f.DataOffset + last.Offset + last.Size)
	// Below the data offset every byte; inside the data every 7th byte and
	// each section boundary (cheap enough under qemu).
	cuts := map[int]bool{}
	for n := 0; n < int(f.DataOffset); n++ {
		cuts[n] = true
	}
	for n := int(f.DataOffset); n < end; n += 7 {
		cuts[n] = true
	}
	for _, ti := range f.Tensors {
		cuts[int(f.DataOffset+ti.Offset)] = true
		cuts[int(f.DataOffset+ti.Offset+ti.Size)-1] = true
	}
	for n := range cuts {
		_, err := Parse(data[:n])
		if err == nil {
			t.Fatalf("prefix of %d bytes (of %d) accepted", n, len(data))
		}
		msg := err.Error()
		if !strings.Contains(msg, " at byte ") || !(strings.Contains(msg, "need ") || strings.Contains(msg, " left") ||
			strings.Contains(msg, "beyond the file size") || strings.Contains(msg, "too short")) {
			t.Fatalf("prefix of %d bytes: unexpected error %q", n, msg)
		}
	}
	for n := end; n <= len(data); n++ {
		if _, err := Parse(data[:n]); err != nil {
			t.Fatalf("prefix of %d bytes holding all tensor data: %v", n, err)
		}
	}
}

// TestMalformedCasesDistinct keeps the corpus honest: every case has its
// own name, its own bytes (two identical files test one thing) and an
// expected error to match.
func TestMalformedCasesDistinct(t *testing.T) {
	names := map[string]bool{}
	files := map[string]string{}
	for _, tc := range malformedCases() {
		if names[tc.name] {
			t.Errorf("case name %q used twice", tc.name)
		}
		names[tc.name] = true
		if prev, ok := files[string(tc.data)]; ok {
			t.Errorf("cases %q and %q are the same bytes", prev, tc.name)
		}
		files[string(tc.data)] = tc.name
		if tc.want == "" {
			t.Errorf("case %q expects no particular error", tc.name)
		}
	}
}
