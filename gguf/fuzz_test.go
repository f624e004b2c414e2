package gguf

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. Parse must never panic; when it
// accepts a file, every accessor must work on it and a copy written by
// Writer must parse to the same metadata, tensors and bytes.
func FuzzParse(f *testing.F) {
	for _, a := range []uint64{0, 64} {
		data, _ := buildFile(f, WriterOptions{Alignment: a}, a)
		f.Add(data)
	}
	f.Add(okTensorFile().b)
	// Valid: no tensors and the largest alignment (once made the rewrite
	// step pad 2 GiB; such files are no longer rewritten).
	f.Add(newRaw(0, 1).kvU32(KeyAlignment, 1<<31).b)
	for _, tc := range malformedCases() {
		f.Add(tc.data)
	}
	interop, _ := filepath.Glob("../testdata/gguf/*.gguf")
	for _, p := range interop {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err != nil {
			if g != nil {
				t.Fatal("Parse returned a File with an error")
			}
			return
		}
		checkAccepted(t, g)
	})
}

// checkAccepted exercises a parsed file and round-trips it through Writer.
// Files with an alignment above 64 KiB are not rewritten: the padding alone
// could take gigabytes (general.alignment may be up to 2^31).
func checkAccepted(t *testing.T, g *File) {
	for _, kv := range g.KVs {
		_ = kv.Value.Text(8, 64)
		if js := kv.Value.AppendJSON(nil); !json.Valid(js) {
			t.Fatalf("key %q: invalid JSON %s", kv.Key, js)
		}
	}
	for i := range g.Tensors {
		ti := &g.Tensors[i]
		if d, err := g.TensorData(ti); err != nil || uint64(len(d)) != ti.Size {
			t.Fatalf("TensorData(%q) = %d bytes, %v; want %d", ti.Name, len(d), err, ti.Size)
		}
	}
	if g.Alignment > 1<<16 {
		return
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, WriterOptions{Alignment: g.Alignment})
	for _, kv := range g.KVs {
		if err := w.SetValue(kv.Key, kv.Value); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
	}
	for i := range g.Tensors {
		ti := &g.Tensors[i]
		if err := w.AddTensor(ti.Name, ti.Type, ti.Shape); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
	}
	for i := range g.Tensors {
		ti := &g.Tensors[i]
		d, _ := g.TensorData(ti)
		if err := w.WriteTensor(ti.Name, d); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("rewrite: %v", err)
	}
	h, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatalf("re-parse of the rewritten file: %v", err)
	}
	if err := h.CheckStrict(); err != nil {
		t.Fatalf("rewritten file: %v", err)
	}
	if h.Alignment != g.Alignment || len(h.Tensors) != len(g.Tensors) {
		t.Fatalf("rewrite changed alignment %d→%d or tensor count %d→%d", g.Alignment, h.Alignment, len(g.Tensors), len(h.Tensors))
	}
	for i, kv := range g.KVs {
		hk := h.KVs[i]
		if hk.Key != kv.Key || !bytes.Equal(appendValue(nil, hk.Value), appendValue(nil, kv.Value)) {
			t.Fatalf("rewrite changed kv %d %q", i, kv.Key)
		}
	}
	for i := range g.Tensors {
		a, b := &g.Tensors[i], &h.Tensors[i]
		if a.Name != b.Name || a.Type != b.Type || a.Size != b.Size || !reflect.DeepEqual(a.Shape, b.Shape) {
			t.Fatalf("rewrite changed tensor %d: %+v → %+v", i, a, b)
		}
		da, _ := g.TensorData(a)
		db, _ := h.TensorData(b)
		if !bytes.Equal(da, db) {
			t.Fatalf("rewrite changed the bytes of %q", a.Name)
		}
	}
}
