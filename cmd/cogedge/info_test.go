package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/quant"
)

const tinyGGUF = "../../testdata/tiny.gguf"

// runInfo runs `cogedge info args...` and returns status, stdout, stderr.
func runInfo(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(append([]string{"info"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// writeInfoFixture writes a file with a long array, a long string, a NaN
// and two tensors, and returns its path and the tensors' bytes.
func writeInfoFixture(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fixture.gguf")
	w, err := gguf.Create(path, gguf.WriterOptions{Alignment: 64})
	if err != nil {
		t.Fatal(err)
	}
	long := make([]uint32, 20)
	for i := range long {
		long[i] = uint32(i * 10)
	}
	kvs := []struct {
		k string
		v any
	}{
		{"general.architecture", "cogvlm"},
		{"z.first.in.file", int8(-3)},
		{"a.long", long},
		{"a.text", strings.Repeat("é", 150)},
		{"a.nan", float32(nan())},
		{"a.tags", []string{"x<y>&\"z\""}},
	}
	for _, kv := range kvs {
		if err := w.SetKV(kv.k, kv.v); err != nil {
			t.Fatal(err)
		}
	}
	blobs := map[string][]byte{"w": bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, 32)[:144*2], "b": make([]byte, 16)}
	w.AddTensor("w", quant.Q4_K, []uint64{256, 2})
	w.AddTensor("b", quant.F32, []uint64{4})
	w.WriteTensor("w", blobs["w"])
	w.WriteTensor("b", blobs["b"])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, blobs
}

func nan() float64 { z := 0.0; return z / z }

func TestInfoText(t *testing.T) {
	code, out, errOut := runInfo(tinyGGUF)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// 64·11 + 64 + 256·3 + 64 + 14·14·3·2 = 2776 elements.
	for _, want := range []string{
		"version:    3\n",
		"alignment:  32\n",
		"metadata:   17 keys\n",
		`"cogvlm"`,
		"tokenizer.ggml.tokens",
		`["<unk>", "<s>", "</s>", "<0x0A>", "▁a", "▁cat", "▁is", "▁on", … ] (11 items)`,
		"tensors:    5\n",
		"params:     2.78 K (2776)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// One row per tensor: name, type, shape in ggml order, offset, nbytes.
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = f
		}
	}
	if got := strings.Join(rows["v.patch_embd.weight"], " "); got != "v.patch_embd.weight F16 [14, 14, 3, 2] 1600 2352" {
		t.Errorf("patch_embd row = %q", got)
	}
	if got := strings.Join(rows["blk.0.attn_qkv.weight"], " "); got != "blk.0.attn_qkv.weight Q4_K [256, 3] 1024 432" {
		t.Errorf("attn_qkv row = %q", got)
	}

	path, blobs := writeInfoFixture(t)
	code, out, errOut = runInfo("--hash", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	sum := sha256.Sum256(blobs["w"])
	for _, want := range []string{
		"alignment:  64\n",
		"[0, 10, 20, 30, 40, 50, 60, 70, … ] (20 items)",
		"… (300 bytes)",
		"NaN",
		hex.EncodeToString(sum[:]),
		"params:     516 (516)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestInfoJSON(t *testing.T) {
	path, blobs := writeInfoFixture(t)
	for _, hash := range []bool{false, true} {
		args := []string{"--json", path}
		if hash {
			args = append([]string{"--hash"}, args...)
		}
		code, out, errOut := runInfo(args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("invalid JSON: %v\n%s", err, out)
		}
		if got := sortedKeys(doc); !reflect.DeepEqual(got, []string{"alignment", "metadata", "tensors", "version"}) {
			t.Errorf("top-level keys %v", got)
		}
		var v struct {
			Version   int
			Alignment int
			Metadata  map[string]any
			Tensors   []map[string]any
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		if v.Version != 3 || v.Alignment != 64 {
			t.Errorf("version %d alignment %d", v.Version, v.Alignment)
		}
		// Complete arrays, NaN as a string, no HTML escaping needed to parse.
		if got := v.Metadata["a.long"].([]any); len(got) != 20 || got[19].(float64) != 190 {
			t.Errorf("a.long = %v", got)
		}
		if v.Metadata["a.nan"] != "NaN" || v.Metadata["z.first.in.file"].(float64) != -3 ||
			v.Metadata["a.text"] != strings.Repeat("é", 150) || v.Metadata["a.tags"].([]any)[0] != `x<y>&"z"` {
			t.Errorf("metadata = %v", v.Metadata)
		}
		if got := metadataOrder(t, out); !reflect.DeepEqual(got, []string{"general.architecture", "z.first.in.file", "a.long", "a.text", "a.nan", "a.tags", "general.alignment"}) {
			t.Errorf("metadata order %v", got)
		}
		if len(v.Tensors) != 2 {
			t.Fatalf("%d tensors", len(v.Tensors))
		}
		wantKeys := []string{"name", "nbytes", "offset", "shape", "type"}
		if hash {
			wantKeys = []string{"name", "nbytes", "offset", "sha256", "shape", "type"}
		}
		for i, want := range []struct {
			name, typ string
			shape     []any
			off, n    float64
		}{
			{"w", "Q4_K", []any{256.0, 2.0}, 0, 288},
			{"b", "F32", []any{4.0}, 320, 16}, // 288 padded to 64
		} {
			tm := v.Tensors[i]
			if got := sortedKeys(tm); !reflect.DeepEqual(got, wantKeys) {
				t.Errorf("tensor %d keys %v, want %v", i, got, wantKeys)
			}
			if tm["name"] != want.name || tm["type"] != want.typ || !reflect.DeepEqual(tm["shape"], want.shape) || tm["offset"] != want.off || tm["nbytes"] != want.n {
				t.Errorf("tensor %d = %v", i, tm)
			}
			if hash {
				s := sha256.Sum256(blobs[want.name])
				if tm["sha256"] != hex.EncodeToString(s[:]) {
					t.Errorf("tensor %q sha256 %v", want.name, tm["sha256"])
				}
			}
		}
	}
}

// metadataOrder returns the metadata keys in the order the JSON lists them.
func metadataOrder(t *testing.T, doc string) []string {
	dec := json.NewDecoder(strings.NewReader(doc))
	var keys []string
	depth, inMeta := 0, false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch x := tok.(type) {
		case json.Delim:
			if x == '{' || x == '[' {
				depth++
			} else {
				depth--
				if inMeta && depth == 1 {
					return keys
				}
			}
		case string:
			if depth == 1 && x == "metadata" {
				inMeta = true
			} else if inMeta && depth == 2 && dec.More() {
				keys = append(keys, x)
				// skip the value
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestInfoErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.gguf")
	os.WriteFile(bad, []byte("GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00"), 0o644)
	tests := []struct {
		args    []string
		code    int
		wantErr string
	}{
		{nil, 2, "want one GGUF file, got 0"},
		{[]string{"a.gguf", "b.gguf"}, 2, "got 2 arguments"},
		{[]string{"--bogus", tinyGGUF}, 2, "unknown flag"},
		{[]string{filepath.Join(dir, "missing.gguf")}, 1, "no such file"},
		{[]string{bad}, 1, "tensor count at byte 8"},
	}
	for _, tt := range tests {
		code, _, errOut := runInfo(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.wantErr) {
			t.Errorf("info %v: exit %d, stderr %q; want %d and %q", tt.args, code, errOut, tt.code, tt.wantErr)
		}
	}
}
