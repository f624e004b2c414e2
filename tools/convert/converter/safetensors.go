package converter

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/cogedge/cogedge/quant"
)

// MaxHeaderSize bounds the JSON header of one safetensors file. The
// reference implementation uses the same 100 MB limit; a real header is a
// few hundred kilobytes.
const MaxHeaderSize = 100 << 20

// maxRank bounds the number of dimensions of a safetensors tensor.
const maxRank = 8

// DType is a safetensors element type this package reads.
type DType string

// The element types a checkpoint may use. Anything else is rejected with an
// error naming the tensor.
const (
	BF16 DType = "BF16"
	F16  DType = "F16"
	F32  DType = "F32"
)

// Size returns the byte size of one element, or 0 for an unsupported type.
func (d DType) Size() int64 {
	switch d {
	case BF16, F16:
		return 2
	case F32:
		return 4
	}
	return 0
}

// STTensor describes one tensor of a safetensors file.
type STTensor struct {
	Name  string
	DType DType
	Shape []int64 // PyTorch order: the last dimension is contiguous
	// Offset and Size locate the data in File, in bytes from the start of
	// the file (the 8-byte length and the header included).
	Offset, Size int64
	File         *STFile
}

// Elements returns the number of elements of t.
func (t *STTensor) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Cols returns the length of the innermost (contiguous) dimension: ggml's ne0.
func (t *STTensor) Cols() int64 {
	if len(t.Shape) == 0 {
		return 1
	}
	return t.Shape[len(t.Shape)-1]
}

// ReadF32 reads n elements starting at element index first, converting
// them to float32 into dst[:n]. buf is scratch space reused between calls
// (it is grown as needed and returned).
func (t *STTensor) ReadF32(dst []float32, first, n int64, buf []byte) ([]byte, error) {
	if first < 0 || n < 0 || first > t.Elements()-n || int64(len(dst)) < n {
		return buf, fmt.Errorf("safetensors: %s: tensor %q: read of %d elements at %d out of range", t.File.Path, t.Name, n, first)
	}
	es := t.DType.Size()
	need := int(n * es)
	if cap(buf) < need {
		buf = make([]byte, need)
	}
	buf = buf[:need]
	off := t.Offset + first*es
	if _, err := t.File.r.ReadAt(buf, off); err != nil {
		return buf, fmt.Errorf("safetensors: %s: tensor %q: reading %d bytes at offset %d: %w", t.File.Path, t.Name, need, off, err)
	}
	decode(dst[:n], buf, t.DType)
	return buf, nil
}

// decode converts little-endian elements of type d to float32.
func decode(dst []float32, src []byte, d DType) {
	switch d {
	case BF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
		}
	case F16:
		for i := range dst {
			dst[i] = quant.FP16ToFP32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	}
}

// STFile is one opened safetensors file.
type STFile struct {
	Path     string
	Size     int64
	Metadata map[string]string
	Tensors  map[string]*STTensor
	r        io.ReaderAt
	c        io.Closer
}

// Close releases the file.
func (f *STFile) Close() error {
	if f.c == nil {
		return nil
	}
	return f.c.Close()
}

// OpenSafetensors opens and validates one safetensors file. Tensor data is
// not read; use STTensor.ReadF32.
func OpenSafetensors(path string) (*STFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := ParseSafetensors(fh, st.Size(), path)
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.c = fh
	return f, nil
}

// ParseSafetensors validates the header of a safetensors file of the given
// size read through r; name is used in errors. Checks: the header length is
// at most MaxHeaderSize and fits the file; the header is one JSON object
// without duplicate keys; each entry has a supported dtype, non-negative
// dimensions and data_offsets whose length equals the shape's byte size,
// inside the file; no two tensors overlap.
func ParseSafetensors(r io.ReaderAt, size int64, name string) (*STFile, error) {
	var lenBuf [8]byte
	if size < 8 {
		return nil, fmt.Errorf("safetensors: %s: file of %d bytes is shorter than the 8-byte header length", name, size)
	}
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: %s: reading header length: %w", name, err)
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: %s: header length %d exceeds the %d-byte limit", name, hlen, MaxHeaderSize)
	}
	if hlen > uint64(size-8) {
		return nil, fmt.Errorf("safetensors: %s: header length %d beyond file size %d", name, hlen, size)
	}
	hdr := make([]byte, hlen)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, fmt.Errorf("safetensors: %s: reading %d-byte header: %w", name, hlen, err)
	}
	dataStart := 8 + int64(hlen)
	dataSize := size - dataStart
	f := &STFile{Path: name, Size: size, Tensors: map[string]*STTensor{}, r: r}

	dec := json.NewDecoder(bytes.NewReader(hdr))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("safetensors: %s: header is not a JSON object", name)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("safetensors: %s: header JSON at byte %d: %w", name, 8+dec.InputOffset(), err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("safetensors: %s: header JSON at byte %d: expected a key", name, 8+dec.InputOffset())
		}
		if seen[key] {
			return nil, fmt.Errorf("safetensors: %s: duplicate header key %q", name, key)
		}
		seen[key] = true
		if key == "__metadata__" {
			if err := dec.Decode(&f.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: %s: __metadata__ is not an object of strings: %w", name, err)
			}
			continue
		}
		var e struct {
			DType       string  `json:"dtype"`
			Shape       []int64 `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("safetensors: %s: tensor %q: bad header entry: %w", name, key, err)
		}
		t, err := checkEntry(name, key, DType(e.DType), e.Shape, e.DataOffsets, dataSize)
		if err != nil {
			return nil, err
		}
		t.Offset += dataStart
		t.File = f
		f.Tensors[key] = t
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("safetensors: %s: header JSON: %w", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("safetensors: %s: trailing data after the header object", name)
	}
	if err := checkOverlaps(f); err != nil {
		return nil, err
	}
	return f, nil
}

func checkEntry(file, name string, dt DType, shape, offs []int64, dataSize int64) (*STTensor, error) {
	es := dt.Size()
	if es == 0 {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: unsupported dtype %q (want BF16, F16 or F32)", file, name, string(dt))
	}
	if len(shape) > maxRank {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: %d dimensions (at most %d)", file, name, len(shape), maxRank)
	}
	if len(offs) != 2 {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: data_offsets has %d values, want 2", file, name, len(offs))
	}
	n := int64(1)
	for i, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("safetensors: %s: tensor %q: negative dimension %d at index %d", file, name, d, i)
		}
		if d != 0 && n > math.MaxInt64/es/d {
			return nil, fmt.Errorf("safetensors: %s: tensor %q: shape %v overflows", file, name, shape)
		}
		n *= d
	}
	begin, end := offs[0], offs[1]
	if begin < 0 || end < begin {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: bad data_offsets [%d, %d]", file, name, begin, end)
	}
	if end > dataSize {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: data_offsets end %d beyond data size %d", file, name, end, dataSize)
	}
	if end-begin != n*es {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: data_offsets span %d bytes, shape %v of %s needs %d", file, name, end-begin, shape, dt, n*es)
	}
	return &STTensor{Name: name, DType: dt, Shape: append([]int64(nil), shape...), Offset: begin, Size: end - begin}, nil
}

func checkOverlaps(f *STFile) error {
	ts := make([]*STTensor, 0, len(f.Tensors))
	for _, t := range f.Tensors {
		if t.Size > 0 {
			ts = append(ts, t)
		}
	}
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].Offset != ts[j].Offset {
			return ts[i].Offset < ts[j].Offset
		}
		return ts[i].Name < ts[j].Name
	})
	for i := 1; i < len(ts); i++ {
		if p := ts[i-1]; p.Offset+p.Size > ts[i].Offset {
			return fmt.Errorf("safetensors: %s: tensors %q and %q overlap", f.Path, p.Name, ts[i].Name)
		}
	}
	return nil
}

// Checkpoint is a Hugging Face checkpoint folder: one model.safetensors or
// shards listed by model.safetensors.index.json.
type Checkpoint struct {
	Dir     string
	Files   []*STFile
	tensors map[string]*STTensor
}

// indexFile is the shard index of a sharded checkpoint.
type indexFile struct {
	WeightMap map[string]string `json:"weight_map"`
}

// maxIndexSize bounds model.safetensors.index.json.
const maxIndexSize = 64 << 20

// OpenCheckpoint opens the safetensors of dir. With an index, every tensor
// it lists must be in the shard it names, every shard must exist, and
// shards may not hold tensors the index does not list; without one,
// dir/model.safetensors is used.
func OpenCheckpoint(dir string) (*Checkpoint, error) {
	c := &Checkpoint{Dir: dir, tensors: map[string]*STTensor{}}
	idxPath := filepath.Join(dir, "model.safetensors.index.json")
	raw, err := readSmallFile(idxPath, maxIndexSize)
	if errors.Is(err, os.ErrNotExist) {
		single := filepath.Join(dir, "model.safetensors")
		f, err := OpenSafetensors(single)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("convert: %s: neither model.safetensors.index.json nor model.safetensors found", dir)
			}
			return nil, err
		}
		c.Files = append(c.Files, f)
		for n, t := range f.Tensors {
			c.tensors[n] = t
		}
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	var idx indexFile
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("convert: %s: %w", idxPath, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("convert: %s: empty weight_map", idxPath)
	}
	shards := map[string]*STFile{}
	var shardNames []string
	for _, s := range idx.WeightMap {
		if _, ok := shards[s]; !ok {
			shards[s] = nil
			shardNames = append(shardNames, s)
		}
	}
	sort.Strings(shardNames)
	for _, s := range shardNames {
		if s == "" || filepath.Base(s) != s {
			c.Close()
			return nil, fmt.Errorf("convert: %s: shard name %q is not a plain file name", idxPath, s)
		}
		f, err := OpenSafetensors(filepath.Join(dir, s))
		if err != nil {
			c.Close()
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("convert: shard %q listed in %s is missing", s, idxPath)
			}
			return nil, err
		}
		shards[s] = f
		c.Files = append(c.Files, f)
	}
	names := make([]string, 0, len(idx.WeightMap))
	for n := range idx.WeightMap {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := idx.WeightMap[n]
		t, ok := shards[s].Tensors[n]
		if !ok {
			c.Close()
			return nil, fmt.Errorf("convert: tensor %q: index maps it to shard %q, which does not contain it", n, s)
		}
		c.tensors[n] = t
	}
	for _, s := range shardNames {
		for n := range shards[s].Tensors {
			if idx.WeightMap[n] != s {
				c.Close()
				return nil, fmt.Errorf("convert: tensor %q in shard %q is not listed for that shard in the index", n, s)
			}
		}
	}
	return c, nil
}

// Tensor returns the named tensor.
func (c *Checkpoint) Tensor(name string) (*STTensor, bool) {
	t, ok := c.tensors[name]
	return t, ok
}

// Names returns every tensor name, sorted.
func (c *Checkpoint) Names() []string {
	out := make([]string, 0, len(c.tensors))
	for n := range c.tensors {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Close closes every shard.
func (c *Checkpoint) Close() error {
	var first error
	for _, f := range c.Files {
		if f == nil {
			continue
		}
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// readSmallFile reads a whole file, refusing files larger than limit.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes exceeds the %d-byte limit", path, st.Size(), limit)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}
