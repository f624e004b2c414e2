package converter

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// stBytes builds a safetensors file from a raw header string and a data
// section of dataLen zero bytes (hlen overrides the length field when >= 0).
func stBytes(header string, dataLen int, hlen int64) []byte {
	var b bytes.Buffer
	n := uint64(len(header))
	if hlen >= 0 {
		n = uint64(hlen)
	}
	binary.Write(&b, binary.LittleEndian, n)
	b.WriteString(header)
	b.Write(make([]byte, dataLen))
	return b.Bytes()
}

func TestParseSafetensorsRejects(t *testing.T) {
	ok := `{"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}}`
	tests := []struct {
		name    string
		file    []byte
		wantErr string // substring; "" = must parse
	}{
		{"valid", stBytes(ok, 12, -1), ""},
		{"valid with metadata", stBytes(`{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, 4, -1), ""},
		{"too short", []byte{1, 2, 3}, "shorter than the 8-byte"},
		{"header over limit", stBytes(ok, 12, MaxHeaderSize+1), "exceeds the"},
		{"header beyond file", stBytes(ok, 12, 1000), "beyond file size"},
		{"not json", stBytes(`{"a":`, 0, -1), "header"},
		{"not an object", stBytes(`[1,2]`, 0, -1), "not a JSON object"},
		{"trailing data", stBytes(ok+`{}`, 12, -1), "trailing"},
		{"duplicate key", stBytes(`{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]},"a":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]}}`, 4, -1), `duplicate header key "a"`},
		{"unknown dtype", stBytes(`{"w":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}}`, 4, -1), `tensor "w": unsupported dtype "I8"`},
		{"negative dim", stBytes(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4, -1), "negative dimension"},
		{"overflowing shape", stBytes(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, 4, -1), "overflows"},
		{"size mismatch", stBytes(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 8, -1), "needs 8"},
		{"offsets beyond data", stBytes(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4, -1), "beyond data size"},
		{"reversed offsets", stBytes(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, 4, -1), "bad data_offsets"},
		{"three offsets", stBytes(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, 8, -1), "data_offsets has 3"},
		{"unknown field", stBytes(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8],"extra":1}}`, 8, -1), ""},
		{"overlap", stBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, 12, -1), "overlap"},
		{"bad metadata", stBytes(`{"__metadata__":{"format":1}}`, 0, -1), "__metadata__"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSafetensors(bytes.NewReader(tc.file), int64(len(tc.file)), "x.safetensors")
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("accepted; want error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestReadF32(t *testing.T) {
	// bf16 1.0, -2.0, 0.5 ; f16 1.0, -2.0, 0.5 ; f32 3.25
	data := []byte{0x80, 0x3f, 0x00, 0xc0, 0x00, 0x3f, 0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0, 0, 0x50, 0x40}
	h := `{"b":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},"h":{"dtype":"F16","shape":[1,3],"data_offsets":[6,12]},"f":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}`
	file := stBytes(h, 0, -1)
	file = append(file, data...)
	f, err := ParseSafetensors(bytes.NewReader(file), int64(len(file)), "x")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		first, n    int64
		want        []float32
		wantFailure bool
	}{
		{"b", 0, 3, []float32{1, -2, 0.5}, false},
		{"b", 1, 2, []float32{-2, 0.5}, false},
		{"h", 0, 3, []float32{1, -2, 0.5}, false},
		{"f", 0, 1, []float32{3.25}, false},
		{"b", 2, 2, nil, true},
		{"b", -1, 1, nil, true},
	}
	for _, tc := range tests {
		dst := make([]float32, 4)
		_, err := f.Tensors[tc.name].ReadF32(dst, tc.first, tc.n, nil)
		if tc.wantFailure {
			if err == nil {
				t.Errorf("%s[%d:+%d]: read out of range accepted", tc.name, tc.first, tc.n)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range tc.want {
			if dst[i] != w {
				t.Errorf("%s[%d+%d] = %v, want %v", tc.name, tc.first, i, dst[i], w)
			}
		}
	}
}

func FuzzParseSafetensors(f *testing.F) {
	f.Add(stBytes(`{"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}}`, 12, -1))
	f.Add(stBytes(`{"__metadata__":{"k":"v"}}`, 0, -1))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseSafetensors(bytes.NewReader(b), int64(len(b)), "fuzz") // must not panic
	})
}
