package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
	"unicode/utf8"

	"github.com/cogedge/cogedge/internal/outfile"
	"github.com/cogedge/cogedge/quant"
)

// WriterOptions configures a Writer.
type WriterOptions struct {
	// Alignment of the data section and of every tensor; 0 means 32 (or the
	// value of a general.alignment key set through SetKV). Must be a power of
	// two that fits in a u32. A value other than 32 is recorded in the file
	// as general.alignment.
	Alignment uint64
	// Inputs are files Create's destination must not be (see
	// internal/outfile): the files the caller reads from.
	Inputs []string
}

// Writer streams a GGUF v3 file. Declare metadata with SetKV/SetValue and
// tensors with AddTensor, then write each tensor's bytes with WriteTensor in
// declaration order, then Close. The header goes out with the first
// WriteTensor (or Close), so only one tensor's bytes are ever held.
//
// The layout is the one llama.cpp requires: keys in insertion order, tensor
// infos in declaration order, data offsets sequential from 0 with each
// tensor padded with zeros to the alignment, the last one included. The
// bytes depend only on the calls made.
//
// A Writer is not safe for concurrent use.
type Writer struct {
	bw        *bufio.Writer
	out       *outfile.File // Create only: the destination, written through a temporary file
	align     uint64
	fixed     bool // alignment fixed by WriterOptions
	kvs       []KV
	keys      map[string]bool
	tensors   []TensorInfo
	names     map[string]bool
	next      int    // index of the next tensor to write
	started   bool   // header written
	written   uint64 // bytes written so far
	err       error  // sticky I/O or configuration error
	closed    bool
	closeErr  error
	headerBuf []byte
}

// Create starts a GGUF file that appears at path only when Close succeeds
// (package internal/outfile): the bytes go to a temporary file in the same
// folder, which Close syncs and renames into place; Abort (or a failed
// Close) removes it. A path ending in ".zst" gets the file zstd-compressed,
// as the commands that read models expect of a .gguf.zst. A symlink is
// written through, a device node written in place; a folder, a dangling
// symlink or one of opts.Inputs is refused before anything is written.
func Create(path string, opts WriterOptions) (*Writer, error) {
	if err := checkAlignment(opts.Alignment); err != nil {
		return nil, err
	}
	out, err := outfile.Create(path, outfile.Options{Inputs: opts.Inputs, Zstd: strings.HasSuffix(path, ".zst")})
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	w := NewWriter(out, opts)
	w.out = out
	return w, nil
}

// NewWriter starts a GGUF stream to dst (no temporary file; Close flushes
// but does not close dst). An invalid option is reported by the first call.
func NewWriter(dst io.Writer, opts WriterOptions) *Writer {
	w := &Writer{
		bw:    bufio.NewWriterSize(dst, 1<<20),
		align: DefaultAlignment,
		keys:  map[string]bool{},
		names: map[string]bool{},
	}
	if err := checkAlignment(opts.Alignment); err != nil {
		w.err = err
	} else if opts.Alignment != 0 {
		w.align, w.fixed = opts.Alignment, true
	}
	return w
}

func checkAlignment(a uint64) error {
	if a != 0 && (a&(a-1) != 0 || a > math.MaxUint32) {
		return fmt.Errorf("gguf: alignment %d is not a power of two that fits in a u32", a)
	}
	return nil
}

// usable reports an error if metadata or tensors can no longer be declared.
func (w *Writer) usable(what string) error {
	switch {
	case w.err != nil:
		return w.err
	case w.closed:
		return fmt.Errorf("gguf: %s after Close", what)
	case w.started:
		return fmt.Errorf("gguf: %s after the first WriteTensor (the header is already written)", what)
	}
	return nil
}

// SetKV adds a metadata pair. v is one of uint8, int8, uint16, int16,
// uint32, int32, float32, bool, string, uint64, int64, float64, a slice of
// one of them, or a Value. Keys are written in insertion order; a duplicate
// key is an error. Setting general.alignment (a u32 power of two) sets the
// alignment unless WriterOptions fixed a different one, which is an error.
func (w *Writer) SetKV(key string, v any) error {
	val, err := ValueOf(v)
	if err != nil {
		return fmt.Errorf("gguf: key %q: %w", key, err)
	}
	return w.SetValue(key, val)
}

// SetValue adds a metadata pair from a Value, e.g. one read from another file.
func (w *Writer) SetValue(key string, v Value) error {
	if err := w.usable("SetKV"); err != nil {
		return err
	}
	if key == "" || len(key) > MaxKeyLen || !utf8.ValidString(key) {
		return fmt.Errorf("gguf: key %q: keys must be 1 to %d bytes of valid UTF-8", key, MaxKeyLen)
	}
	if w.keys[key] {
		return fmt.Errorf("gguf: duplicate key %q", key)
	}
	if _, err := ValueOf(v); err != nil {
		return fmt.Errorf("gguf: key %q: %w", key, err)
	}
	if err := checkWritable(v); err != nil {
		return fmt.Errorf("gguf: key %q: %w", key, err)
	}
	if key == KeyAlignment {
		a, _ := v.Uint()
		if v.Type() != TypeUint32 || a == 0 || a&(a-1) != 0 {
			return fmt.Errorf("gguf: key %q must be a u32 power of two, got %v %v", key, v.Type(), v.Any())
		}
		if w.fixed && a != w.align {
			return fmt.Errorf("gguf: key %q = %d conflicts with WriterOptions.Alignment %d", key, a, w.align)
		}
		w.align = a
	}
	w.keys[key] = true
	w.kvs = append(w.kvs, KV{Key: key, Value: v})
	return nil
}

// checkWritable applies the reader's limits to a value so the Writer never
// produces a file the reader rejects.
func checkWritable(v Value) error {
	if v.Type() == TypeString && len(v.str) > MaxStringLen {
		return fmt.Errorf("string of %d bytes exceeds the limit of %d", len(v.str), MaxStringLen)
	}
	if v.Type() != TypeArray {
		return nil
	}
	if v.Len() > MaxArrayLen {
		return fmt.Errorf("array of %d elements exceeds the limit of %d", v.Len(), MaxArrayLen)
	}
	if s, ok := v.Strings(); ok {
		for i, e := range s {
			if len(e) > MaxStringLen {
				return fmt.Errorf("array element %d: string of %d bytes exceeds the limit of %d", i, len(e), MaxStringLen)
			}
		}
	}
	return nil
}

// AddTensor declares a tensor: its name (unique, 1 to 63 bytes of UTF-8),
// type and shape in ggml order (at most 4 dimensions, none zero, Shape[0] a
// multiple of the type's block size; no dimensions is a scalar). All tensors are declared before the
// first WriteTensor.
func (w *Writer) AddTensor(name string, typ quant.Type, shape []uint64) error {
	if err := w.usable("AddTensor"); err != nil {
		return err
	}
	if name == "" || len(name) > MaxNameLen || !utf8.ValidString(name) {
		return fmt.Errorf("gguf: tensor %q: names must be 1 to %d bytes of valid UTF-8", name, MaxNameLen)
	}
	if w.names[name] {
		return fmt.Errorf("gguf: duplicate tensor name %q", name)
	}
	size, err := TensorSize(typ, shape)
	if err != nil {
		return fmt.Errorf("gguf: tensor %q: %w", name, err)
	}
	w.names[name] = true
	w.tensors = append(w.tensors, TensorInfo{Name: name, Type: typ, Shape: append([]uint64(nil), shape...), Size: size})
	return nil
}

// TensorSize returns the byte size of a tensor of type typ and shape (ggml
// order), checking what the reader checks: a known type, at most 4 non-zero
// dimensions, Shape[0] a multiple of the block size, no overflow.
func TensorSize(typ quant.Type, shape []uint64) (uint64, error) {
	if !typ.Known() {
		return 0, fmt.Errorf("unknown or removed ggml type id %d", uint32(typ))
	}
	if len(shape) > MaxDims {
		return 0, fmt.Errorf("%d dimensions, at most %d allowed", len(shape), MaxDims)
	}
	elems := uint64(1)
	for j, ne := range shape {
		if ne == 0 || ne > math.MaxInt64 {
			return 0, fmt.Errorf("dimension %d is %d", j, ne)
		}
		hi, lo := bits.Mul64(elems, ne)
		if hi != 0 || lo >= math.MaxInt64 {
			return 0, fmt.Errorf("element count of shape %v overflows int64", shape)
		}
		elems = lo
	}
	ne0 := uint64(1)
	if len(shape) > 0 {
		ne0 = shape[0]
	}
	if bs := uint64(typ.BlockSize()); ne0%bs != 0 {
		return 0, fmt.Errorf("ne[0] = %d is not a multiple of the %v block size %d", ne0, typ, bs)
	}
	n, err := typ.RowSize(int64(elems))
	if err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// WriteTensor writes the bytes of the next declared tensor; name must be
// that tensor's and len(data) its size. The first call writes the header.
func (w *Writer) WriteTensor(name string, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("gguf: WriteTensor after Close")
	}
	if w.next >= len(w.tensors) {
		return fmt.Errorf("gguf: WriteTensor %q: all %d declared tensors are written", name, len(w.tensors))
	}
	t := &w.tensors[w.next]
	if t.Name != name {
		return fmt.Errorf("gguf: WriteTensor %q: tensors are written in declaration order, next is %q", name, t.Name)
	}
	if uint64(len(data)) != t.Size {
		return fmt.Errorf("gguf: WriteTensor %q: %d bytes, the declared %v %v tensor has %d", name, len(data), t.Type, t.Shape, t.Size)
	}
	if !w.started {
		if err := w.writeHeader(); err != nil {
			return err
		}
	}
	w.write(data)
	w.pad()
	w.next++
	return w.err
}

// layout fixes the alignment key and the tensor offsets.
func (w *Writer) layout() error {
	if w.align != DefaultAlignment && !w.keys[KeyAlignment] {
		w.keys[KeyAlignment] = true
		w.kvs = append(w.kvs, KV{Key: KeyAlignment, Value: Value{typ: TypeUint32, num: w.align}})
	}
	var off uint64
	for i := range w.tensors {
		w.tensors[i].Offset = off
		padded, ok := alignUp(w.tensors[i].Size, w.align)
		if ok {
			off, ok = checkedAdd(off, padded)
		}
		if !ok {
			return fmt.Errorf("gguf: tensor %q: data section size overflows", w.tensors[i].Name)
		}
	}
	return nil
}

// writeHeader writes magic, version, counts, metadata, tensor infos and the
// padding before the data section.
func (w *Writer) writeHeader() error {
	if err := w.layout(); err != nil {
		w.err = err
		return err
	}
	w.started = true
	b := w.headerBuf[:0]
	b = append(b, Magic...)
	b = binary.LittleEndian.AppendUint32(b, Version)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(w.tensors)))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(w.kvs)))
	w.write(b)
	for _, kv := range w.kvs {
		b = appendString(b[:0], kv.Key)
		b = appendValue(b, kv.Value)
		w.write(b)
	}
	for i := range w.tensors {
		t := &w.tensors[i]
		b = appendString(b[:0], t.Name)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Shape)))
		for _, ne := range t.Shape {
			b = binary.LittleEndian.AppendUint64(b, ne)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(t.Type))
		b = binary.LittleEndian.AppendUint64(b, t.Offset)
		w.write(b)
	}
	w.headerBuf = b[:0]
	w.pad()
	return w.err
}

// write appends p to the output, recording the first error.
func (w *Writer) write(p []byte) {
	if w.err != nil {
		return
	}
	n, err := w.bw.Write(p)
	w.written += uint64(n)
	if err != nil {
		w.err = fmt.Errorf("gguf: write: %w", err)
	}
}

var zeros [4096]byte

// pad writes zeros up to the next multiple of the alignment.
func (w *Writer) pad() {
	n := (w.align - w.written%w.align) % w.align
	for n > 0 && w.err == nil {
		k := min(n, uint64(len(zeros)))
		w.write(zeros[:k])
		n -= k
	}
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue encodes type id and payload.
func appendValue(b []byte, v Value) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(v.typ))
	if v.typ != TypeArray {
		return appendScalar(b, v.typ, v.num, v.str)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(v.elem))
	b = binary.LittleEndian.AppendUint64(b, uint64(v.Len()))
	switch a := v.arr.(type) {
	case []uint8:
		b = append(b, a...)
	case []int8:
		for _, x := range a {
			b = append(b, uint8(x))
		}
	case []uint16:
		for _, x := range a {
			b = binary.LittleEndian.AppendUint16(b, x)
		}
	case []int16:
		for _, x := range a {
			b = binary.LittleEndian.AppendUint16(b, uint16(x))
		}
	case []uint32:
		for _, x := range a {
			b = binary.LittleEndian.AppendUint32(b, x)
		}
	case []int32:
		for _, x := range a {
			b = binary.LittleEndian.AppendUint32(b, uint32(x))
		}
	case []float32:
		for _, x := range a {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	case []bool:
		for _, x := range a {
			if x {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
	case []string:
		for _, x := range a {
			b = appendString(b, x)
		}
	case []uint64:
		for _, x := range a {
			b = binary.LittleEndian.AppendUint64(b, x)
		}
	case []int64:
		for _, x := range a {
			b = binary.LittleEndian.AppendUint64(b, uint64(x))
		}
	case []float64:
		for _, x := range a {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
	}
	return b
}

func appendScalar(b []byte, t ValueType, num uint64, str string) []byte {
	switch t.size() {
	case 1:
		return append(b, uint8(num))
	case 2:
		return binary.LittleEndian.AppendUint16(b, uint16(num))
	case 4:
		return binary.LittleEndian.AppendUint32(b, uint32(num))
	case 8:
		return binary.LittleEndian.AppendUint64(b, num)
	}
	return appendString(b, str) // TypeString
}

// Close writes whatever is left (the header if no tensor was written),
// flushes, and for Create syncs the temporary file and renames it into
// place. It fails, leaving nothing at the destination, if a declared tensor
// was not written or any write failed.
func (w *Writer) Close() error {
	if w.closed {
		return w.closeErr
	}
	err := w.finish()
	if err != nil {
		w.Abort()
	}
	w.closed, w.closeErr = true, err
	return err
}

func (w *Writer) finish() error {
	if w.err != nil {
		return w.err
	}
	if !w.started {
		if err := w.writeHeader(); err != nil {
			return err
		}
	}
	if w.next < len(w.tensors) {
		return fmt.Errorf("gguf: Close: tensor %q (%d of %d) was declared but not written", w.tensors[w.next].Name, w.next+1, len(w.tensors))
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("gguf: write: %w", err)
	}
	if w.out == nil {
		return nil
	}
	if err := w.out.Commit(); err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	w.out = nil
	return nil
}

// Abort stops the Writer; for Create it removes the temporary file, so
// nothing appears at the destination. Calling it after a successful Close
// does nothing.
func (w *Writer) Abort() {
	if w.out != nil {
		w.out.Abort()
		w.out = nil
	}
	if !w.closed {
		w.closed = true
		w.closeErr = errors.New("gguf: writer aborted")
	}
}
