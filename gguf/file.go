package gguf

import (
	"errors"
	"fmt"
	"os"

	"github.com/cogedge/cogedge/quant"
)

// KV is one metadata pair.
type KV struct {
	Key   string
	Value Value
}

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name string
	Type quant.Type
	// Shape is in ggml order: Shape[0] (ne0) is the contiguous, innermost
	// dimension. A PyTorch Linear weight (out, in) has Shape {in, out}.
	Shape  []uint64
	Offset uint64 // relative to the start of the data section (File.DataOffset)
	Size   uint64 // bytes
}

// Elements returns the number of elements (the product of Shape; 1 for a
// tensor with no dimensions).
func (t *TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a parsed GGUF file. Its exported fields describe the file and must
// not be modified. A File is safe for concurrent use by several goroutines,
// except Close.
type File struct {
	Version    uint32       // 2 or 3
	Alignment  uint64       // general.alignment, or 32
	DataOffset uint64       // absolute byte offset of the tensor data section
	KVs        []KV         // metadata in file order
	Tensors    []TensorInfo // tensor descriptors in file order

	path        string
	data        []byte
	release     func() error // unmaps Open's mapping; nil for Parse
	mapped      bool         // data is an mmap'ed region (Advise works)
	kvIndex     map[string]int
	tensorIndex map[string]int
}

// Open maps the file at path read-only and parses it. On Linux and macOS the
// file is memory-mapped, so tensor data are paged in on first touch and
// TensorData never copies; elsewhere the file is read into memory. Close
// releases the mapping.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("gguf: %s: not a regular file", path)
	}
	size := st.Size()
	if size < 4 {
		return nil, &FormatError{Path: path, Field: "magic", Offset: 0, Msg: fmt.Sprintf("file is %d bytes, too short for the magic %q", size, Magic), Err: ErrMalformed}
	}
	if uint64(size) > uint64(maxMapSize) {
		return nil, fmt.Errorf("gguf: %s: file size %d exceeds what this platform can map", path, size)
	}
	data, release, mapped, err := mapFile(fh, int(size))
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", path, err)
	}
	f, err := parse(data)
	if err != nil {
		if release != nil {
			release()
		}
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Path = path
		}
		return nil, err
	}
	f.path, f.release, f.mapped = path, release, mapped
	return f, nil
}

// Close releases the mapping. Slices returned by TensorData must not be
// used afterwards (on Linux and macOS touching them faults).
func (f *File) Close() error {
	if f.data == nil {
		return nil
	}
	f.data = nil
	if f.release != nil {
		r := f.release
		f.release = nil
		if err := r(); err != nil {
			return fmt.Errorf("gguf: %s: unmap: %w", f.path, err)
		}
	}
	return nil
}

// Path returns the path given to Open ("" for Parse).
func (f *File) Path() string { return f.path }

// Tensor looks up a tensor by name. The pointer refers to f.Tensors.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tensorIndex[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// TensorData returns the bytes of tensor t: a zero-copy, read-only view into
// the file (writing to it faults on a mapping). t may come from this file's
// Tensors or Tensor; its extent is checked again against the file.
func (f *File) TensorData(t *TensorInfo) ([]byte, error) {
	if f.data == nil {
		return nil, ErrClosed
	}
	start, ok1 := checkedAdd(f.DataOffset, t.Offset)
	end, ok2 := checkedAdd(start, t.Size)
	if !ok1 || !ok2 || end > uint64(len(f.data)) {
		return nil, fmt.Errorf("gguf: tensor %q: data at offset %d size %d lie outside the %d-byte file", t.Name, t.Offset, t.Size, len(f.data))
	}
	return f.data[start:end:end], nil
}

// Mapping returns the whole file as Open mapped it (page-aligned, read-only,
// valid until Close), or nil when the file was read into memory (Parse, or
// a platform without mmap). Offsets into it are file offsets: a tensor's
// bytes start at DataOffset + Offset. A GPU backend wraps it in zero-copy
// device buffers.
func (f *File) Mapping() []byte {
	if !f.mapped {
		return nil
	}
	return f.data
}

// Value returns the value of a metadata key.
func (f *File) Value(key string) (Value, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return Value{}, false
	}
	return f.KVs[i].Value, true
}

// String returns a STRING value.
func (f *File) String(key string) (string, bool) {
	v, ok := f.Value(key)
	if !ok {
		return "", false
	}
	return v.Str()
}

// Uint returns an integer value of any width (llama.cpp writes u32 where the
// spec says u64; both are read) when it is non-negative.
func (f *File) Uint(key string) (uint64, bool) {
	v, ok := f.Value(key)
	if !ok {
		return 0, false
	}
	return v.Uint()
}

// Int returns an integer value of any width that fits in an int64.
func (f *File) Int(key string) (int64, bool) {
	v, ok := f.Value(key)
	if !ok {
		return 0, false
	}
	return v.Int()
}

// Float returns a FLOAT32 or FLOAT64 value, or an integer value converted.
func (f *File) Float(key string) (float64, bool) {
	v, ok := f.Value(key)
	if !ok {
		return 0, false
	}
	return v.Float()
}

// Bool returns a BOOL value.
func (f *File) Bool(key string) (bool, bool) {
	v, ok := f.Value(key)
	if !ok {
		return false, false
	}
	return v.Bool()
}

// Strings returns an array of STRING (shared with the File; do not modify).
func (f *File) Strings(key string) ([]string, bool) {
	v, ok := f.Value(key)
	if !ok {
		return nil, false
	}
	return v.Strings()
}

// Float32s returns an array of FLOAT32 (shared; do not modify) or a
// converted array of FLOAT64.
func (f *File) Float32s(key string) ([]float32, bool) {
	v, ok := f.Value(key)
	if !ok {
		return nil, false
	}
	return v.Float32s()
}

// Int32s returns an array of INT32 (shared; do not modify), or a converted
// copy of another integer array whose elements all fit in an int32.
func (f *File) Int32s(key string) ([]int32, bool) {
	v, ok := f.Value(key)
	if !ok {
		return nil, false
	}
	return v.Int32s()
}

// Advice values for Advise (the POSIX madvise numbers on Linux and macOS).
const (
	AdviceNormal     = 0
	AdviceRandom     = 1
	AdviceSequential = 2
	AdviceWillNeed   = 3 // start reading the pages in
	AdviceDontNeed   = 4 // the pages may be dropped (they are re-read on the next touch)
)

// Advise passes a paging hint for tensor t's bytes to the kernel (madvise on
// a mapping; a no-op for Parse, other platforms or invalid t).
func (f *File) Advise(t *TensorInfo, advice int) {
	if !f.mapped || f.data == nil {
		return
	}
	start, ok1 := checkedAdd(f.DataOffset, t.Offset)
	end, ok2 := checkedAdd(start, t.Size)
	if !ok1 || !ok2 || end > uint64(len(f.data)) || start == end {
		return
	}
	advise(f.data, int(start), int(end), advice)
}

// CheckStrict applies llama.cpp's layout rule (gguf_init_from_file): each
// tensor in file order starts where the previous one ended, padded to the
// alignment, the first at offset 0. Files this package's Writer produces
// always pass; the reader itself only requires aligned, in-bounds offsets.
func (f *File) CheckStrict() error {
	var expected uint64
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if t.Offset != expected {
			return fmt.Errorf("gguf: tensor %d (%q) has offset %d, expected %d (llama.cpp requires sequential offsets): %w", i, t.Name, t.Offset, expected, ErrMalformed)
		}
		padded, ok := alignUp(t.Size, f.Alignment)
		if ok {
			expected, ok = checkedAdd(expected, padded)
		}
		if !ok {
			return fmt.Errorf("gguf: tensor %d (%q): data section size overflows: %w", i, t.Name, ErrMalformed)
		}
	}
	return nil
}

// ParamCount returns the total number of tensor elements.
func (f *File) ParamCount() uint64 {
	var n uint64
	for i := range f.Tensors {
		n += f.Tensors[i].Elements()
	}
	return n
}
