package gguf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// ggufpyRecord is testdata/gguf/ggufpy.json: what gen_ggufpy.py told
// llama.cpp's gguf-py GGUFWriter to write.
type ggufpyRecord struct {
	Files []recordedFile `json:"files"`
}

// TestGGUFPyFiles reads the files gguf-py wrote and checks every key,
// value, tensor descriptor and tensor hash against the record.
func TestGGUFPyFiles(t *testing.T) {
	rec := readRecord(t, "../testdata/gguf/ggufpy.json")
	if len(rec.Files) < 4 {
		t.Fatalf("only %d files in the record", len(rec.Files))
	}
	seenTypes := map[ValueType]bool{}
	for _, rf := range rec.Files {
		t.Run(rf.File, func(t *testing.T) { checkRecordedFile(t, "../testdata/gguf", rf, seenTypes) })
	}
	// Every scalar type and every array element type was exercised.
	for vt := TypeUint8; vt <= TypeFloat64; vt++ {
		if !seenTypes[vt] {
			t.Errorf("no %v value in the gguf-py files", vt)
		}
		if vt != TypeArray && !seenTypes[vt+100] {
			t.Errorf("no array of %v in the gguf-py files", vt)
		}
	}
}

// readRecord reads a gguf-py record, numbers as json.Number.
func readRecord(t *testing.T, path string) ggufpyRecord {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var rec ggufpyRecord
	if err := dec.Decode(&rec); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rec
}

// TestCogedgeFilesReadByGGUFPy checks our writer against an independent
// reader: testdata/gguf/ggufpy-read.json is what llama.cpp's gguf-py
// GGUFReader read from testdata/tiny.gguf (written by gguf.Writer) and
// testdata/cogvlm-tiny.gguf (written by the converter; its test
// TestConvertReproducesCogvlmTinyGGUF keeps it the converter's current
// output). Our writer must still produce tiny.gguf byte for byte, and our
// reader must see in both files exactly what gguf-py saw.
func TestCogedgeFilesReadByGGUFPy(t *testing.T) {
	fresh := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := writeTiny(fresh); err != nil {
		t.Fatal(err)
	}
	a, errA := os.ReadFile(fresh)
	b, errB := os.ReadFile(tinyPath)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("gguf.Writer no longer writes testdata/tiny.gguf byte for byte (%v, %v)", errA, errB)
	}
	rec := readRecord(t, "../testdata/gguf/ggufpy-read.json")
	want := map[string]bool{"../tiny.gguf": true, "../cogvlm-tiny.gguf": true}
	for _, rf := range rec.Files {
		delete(want, rf.File)
		t.Run(rf.File, func(t *testing.T) { checkRecordedFile(t, "../testdata/gguf", rf, map[ValueType]bool{}) })
	}
	if len(want) != 0 {
		t.Errorf("record lacks %v", want)
	}
}

// recordedFile is one file of a gguf-py record: what gguf-py wrote
// (ggufpy.json) or read (ggufpy-read.json).
type recordedFile = struct {
	File       string `json:"file"`
	FileSHA256 string `json:"file_sha256"`
	Alignment  uint64 `json:"alignment"`
	KVs        []struct {
		Key        string `json:"key"`
		TypeID     uint32 `json:"type_id"`
		ElemTypeID *int   `json:"elem_type_id"`
		Value      any    `json:"value"`
	} `json:"kvs"`
	Tensors []struct {
		Name   string   `json:"name"`
		TypeID uint32   `json:"type_id"`
		Shape  []uint64 `json:"shape"`
		NBytes uint64   `json:"nbytes"`
		SHA256 string   `json:"sha256"`
	} `json:"tensors"`
}

// checkRecordedFile opens rf.File (relative to dir), requires its sha256
// to be the recorded one, and compares every key, value, tensor descriptor
// and tensor hash our reader sees with the record. seenTypes collects the
// value types met (array element types as type+100).
func checkRecordedFile(t *testing.T, dir string, rf recordedFile, seenTypes map[ValueType]bool) {
	path := filepath.Join(dir, rf.File)
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(whole); hex.EncodeToString(sum[:]) != rf.FileSHA256 {
		t.Fatalf("%s changed since it was generated", rf.File)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Version != 3 || f.Alignment != rf.Alignment {
		t.Errorf("version %d alignment %d, want 3 and %d", f.Version, f.Alignment, rf.Alignment)
	}
	if err := f.CheckStrict(); err != nil {
		t.Error(err)
	}
	if len(f.KVs) != len(rf.KVs) {
		t.Fatalf("%d KVs, want %d", len(f.KVs), len(rf.KVs))
	}
	for i, want := range rf.KVs {
		kv := f.KVs[i]
		if kv.Key != want.Key {
			t.Errorf("kv %d is %q, want %q", i, kv.Key, want.Key)
			continue
		}
		if uint32(kv.Value.Type()) != want.TypeID {
			t.Errorf("%q: type %v, want id %d", want.Key, kv.Value.Type(), want.TypeID)
			continue
		}
		seenTypes[kv.Value.Type()] = true
		if want.ElemTypeID != nil {
			if int(kv.Value.ElemType()) != *want.ElemTypeID {
				t.Errorf("%q: element type %v, want id %d", want.Key, kv.Value.ElemType(), *want.ElemTypeID)
				continue
			}
			seenTypes[kv.Value.ElemType()+100] = true
		}
		if err := sameValue(kv.Value, want.Value); err != nil {
			t.Errorf("%q: %v", want.Key, err)
		}
	}
	if len(f.Tensors) != len(rf.Tensors) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(rf.Tensors))
	}
	for i, want := range rf.Tensors {
		ti := &f.Tensors[i]
		if ti.Name != want.Name || uint32(ti.Type) != want.TypeID || !reflect.DeepEqual(ti.Shape, want.Shape) || ti.Size != want.NBytes {
			t.Errorf("tensor %d = %q %v %v %d bytes, want %q id %d %v %d bytes", i, ti.Name, ti.Type, ti.Shape, ti.Size, want.Name, want.TypeID, want.Shape, want.NBytes)
			continue
		}
		d, err := f.TensorData(ti)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(d); hex.EncodeToString(sum[:]) != want.SHA256 {
			t.Errorf("tensor %q: sha256 differs", want.Name)
		}
	}
}

// sameValue compares a decoded Value with a JSON value (json.Number for
// numbers) of the record.
func sameValue(v Value, want any) error {
	if v.Type() != TypeArray {
		return sameScalar(v.Type(), v.Any(), want)
	}
	ws, ok := want.([]any)
	if !ok {
		return fmt.Errorf("record value %v is not an array", want)
	}
	got := reflect.ValueOf(v.Any())
	if got.Len() != len(ws) {
		return fmt.Errorf("%d elements, want %d", got.Len(), len(ws))
	}
	for i := range ws {
		if err := sameScalar(v.ElemType(), got.Index(i).Interface(), ws[i]); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
	}
	return nil
}

func sameScalar(vt ValueType, got, want any) error {
	switch vt {
	case TypeString, TypeBool:
		if got != want {
			return fmt.Errorf("got %#v, want %#v", got, want)
		}
		return nil
	}
	n, ok := want.(json.Number)
	if !ok {
		return fmt.Errorf("record value %#v is not a number", want)
	}
	var match bool
	switch g := got.(type) {
	case float32:
		w, err := strconv.ParseFloat(string(n), 64)
		match = err == nil && math.Float32bits(g) == math.Float32bits(float32(w))
	case float64:
		w, err := strconv.ParseFloat(string(n), 64)
		match = err == nil && math.Float64bits(g) == math.Float64bits(w)
	case uint8, uint16, uint32, uint64:
		w, err := strconv.ParseUint(string(n), 10, 64)
		match = err == nil && reflect.ValueOf(g).Uint() == w
	default:
		w, err := strconv.ParseInt(string(n), 10, 64)
		match = err == nil && reflect.ValueOf(g).Int() == w
	}
	if !match {
		return fmt.Errorf("got %v (%T), want %s", got, got, n)
	}
	return nil
}
