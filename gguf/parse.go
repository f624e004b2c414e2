package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"unicode/utf8"

	"github.com/cogedge/cogedge/quant"
)

// Format constants and the reader's limits.
const (
	// Magic is the first four bytes of every GGUF file.
	Magic = "GGUF"
	// Version is the version this package writes; it reads 2 and 3 (identical
	// for little-endian files).
	Version = 3
	// DefaultAlignment applies when general.alignment is absent.
	DefaultAlignment = 32
	// KeyAlignment is the metadata key that overrides the alignment (u32,
	// power of two).
	KeyAlignment = "general.alignment"
	// MaxKeyLen bounds metadata keys (bytes).
	MaxKeyLen = 65535
	// MaxStringLen bounds string values (bytes), as ollama does.
	MaxStringLen = 16 << 20
	// MaxArrayLen bounds the element count of an array value, as ollama does.
	MaxArrayLen = 64 << 20
	// MaxNameLen bounds tensor names (bytes): ggml's GGML_MAX_NAME is 64
	// including the terminating NUL.
	MaxNameLen = 63
	// MaxDims is the largest number of tensor dimensions (GGML_MAX_DIMS).
	MaxDims = 4
)

// Minimum encoded sizes, used to bound counts by the bytes left.
const (
	minKVBytes     = 8 + 4 + 1     // key length, type, 1-byte value
	minTensorBytes = 8 + 4 + 4 + 8 // name length, n_dims, type, offset
)

// decoder reads little-endian fields from data, tracking the position for
// error messages. All reads are bounds-checked.
type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) left() int { return len(d.data) - d.pos }

func (d *decoder) fail(field string, at int, format string, args ...any) error {
	return &FormatError{Field: field, Offset: int64(at), Msg: fmt.Sprintf(format, args...), Err: ErrMalformed}
}

// need fails unless n more bytes are available.
func (d *decoder) need(field string, n int) error {
	if d.left() < n {
		return d.fail(field, d.pos, "need %d bytes, only %d left in the %d-byte file", n, d.left(), len(d.data))
	}
	return nil
}

func (d *decoder) u8(field string) (uint8, error) {
	if err := d.need(field, 1); err != nil {
		return 0, err
	}
	v := d.data[d.pos]
	d.pos++
	return v, nil
}

func (d *decoder) u16(field string) (uint16, error) {
	if err := d.need(field, 2); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint16(d.data[d.pos:])
	d.pos += 2
	return v, nil
}

func (d *decoder) u32(field string) (uint32, error) {
	if err := d.need(field, 4); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(d.data[d.pos:])
	d.pos += 4
	return v, nil
}

func (d *decoder) u64(field string) (uint64, error) {
	if err := d.need(field, 8); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(d.data[d.pos:])
	d.pos += 8
	return v, nil
}

// str reads a GGUF string (u64 length + bytes) of at most limit bytes.
func (d *decoder) str(field string, limit int) (string, error) {
	at := d.pos
	n, err := d.u64(field + " length")
	if err != nil {
		return "", err
	}
	if n > uint64(limit) {
		return "", d.fail(field+" length", at, "string length %d exceeds the limit of %d bytes", n, limit)
	}
	if n > uint64(d.left()) {
		return "", d.fail(field+" length", at, "string length %d exceeds the %d bytes left in the file", n, d.left())
	}
	s := string(d.data[d.pos : d.pos+int(n)])
	d.pos += int(n)
	return s, nil
}

// Parse reads the GGUF header, metadata and tensor descriptors from data,
// which the returned File keeps (tensor data are sub-slices of it; do not
// modify data while the File is in use). Every field is validated; a
// malformed file returns a *FormatError wrapping ErrMalformed or
// ErrUnsupported.
func Parse(data []byte) (*File, error) {
	f, err := parse(data)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func parse(data []byte) (*File, error) {
	d := &decoder{data: data}
	f := &File{data: data}

	// Header.
	if len(data) < 4 {
		return nil, d.fail("magic", 0, "file is %d bytes, too short for the magic %q", len(data), Magic)
	}
	if string(data[:4]) != Magic {
		return nil, d.fail("magic", 0, "got %q, want %q", data[:4], Magic)
	}
	d.pos = 4
	ver, err := d.u32("version")
	if err != nil {
		return nil, err
	}
	switch {
	case ver == 0:
		return nil, d.fail("version", 4, "version 0 is invalid")
	case ver&0xFFFF == 0:
		e := d.fail("version", 4, "version %#x looks byte-swapped: big-endian GGUF files are not supported", ver).(*FormatError)
		e.Err = ErrUnsupported
		return nil, e
	case ver == 1:
		e := d.fail("version", 4, "GGUF v1 is no longer supported (ggml rejects it too); re-convert the model").(*FormatError)
		e.Err = ErrUnsupported
		return nil, e
	case ver > Version:
		e := d.fail("version", 4, "version %d is newer than the supported %d", ver, Version).(*FormatError)
		e.Err = ErrUnsupported
		return nil, e
	}
	f.Version = ver
	nTensors, err := d.u64("tensor count")
	if err != nil {
		return nil, err
	}
	nKV, err := d.u64("kv count")
	if err != nil {
		return nil, err
	}
	// Each entry takes at least a few bytes, so the counts are bounded by
	// the bytes left; slices grow only as entries are actually decoded.
	if nKV > uint64(d.left()/minKVBytes) {
		return nil, d.fail("kv count", 16, "%d key/value pairs cannot fit in the %d bytes left", nKV, d.left())
	}
	if nTensors > uint64(d.left()/minTensorBytes) {
		return nil, d.fail("tensor count", 8, "%d tensor infos cannot fit in the %d bytes left", nTensors, d.left())
	}

	// Metadata.
	f.KVs = make([]KV, 0, min(nKV, 1024))
	f.kvIndex = make(map[string]int, min(nKV, 1024))
	alignAt := 0 // byte offset of the general.alignment pair
	for i := 0; uint64(i) < nKV; i++ {
		at := d.pos
		kv, err := d.kv(i)
		if err != nil {
			return nil, err
		}
		if j, dup := f.kvIndex[kv.Key]; dup {
			return nil, d.fail(fmt.Sprintf("kv %d (%q)", i, kv.Key), at, "duplicate key (first defined by kv %d)", j)
		}
		if kv.Key == KeyAlignment {
			alignAt = at
		}
		f.kvIndex[kv.Key] = len(f.KVs)
		f.KVs = append(f.KVs, kv)
	}

	// Alignment.
	f.Alignment = DefaultAlignment
	if v, ok := f.Value(KeyAlignment); ok {
		field := fmt.Sprintf("kv %d (%q)", f.kvIndex[KeyAlignment], KeyAlignment)
		if v.Type() != TypeUint32 {
			return nil, d.fail(field, alignAt, "alignment must be a u32, got %v", v.Type())
		}
		a := v.num
		if a == 0 || a&(a-1) != 0 {
			return nil, d.fail(field, alignAt, "alignment %d is not a power of two", a)
		}
		f.Alignment = a
	}

	// Tensor infos.
	f.Tensors = make([]TensorInfo, 0, min(nTensors, 1024))
	f.tensorIndex = make(map[string]int, min(nTensors, 1024))
	fieldAt := make([]int, 0, min(nTensors, 1024)) // byte offset of each info's offset field
	for i := 0; uint64(i) < nTensors; i++ {
		at := d.pos
		t, offAt, err := d.tensorInfo(i)
		if err != nil {
			return nil, err
		}
		if j, dup := f.tensorIndex[t.Name]; dup {
			return nil, d.fail(fmt.Sprintf("tensor info %d (%q)", i, t.Name), at, "duplicate tensor name (first used by tensor info %d)", j)
		}
		f.tensorIndex[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
		fieldAt = append(fieldAt, offAt)
	}

	// Data section: starts at the next multiple of the alignment.
	dataOff, ok := alignUp(uint64(d.pos), f.Alignment)
	if !ok {
		return nil, d.fail("data section", d.pos, "aligning offset %d to %d overflows", d.pos, f.Alignment)
	}
	f.DataOffset = dataOff
	fileSize := uint64(len(data))
	for i := range f.Tensors {
		t := &f.Tensors[i]
		field := fmt.Sprintf("tensor info %d (%q): offset", i, t.Name)
		if t.Offset%f.Alignment != 0 {
			return nil, d.fail(field, fieldAt[i], "offset %d is not a multiple of the alignment %d", t.Offset, f.Alignment)
		}
		start, ok1 := checkedAdd(dataOff, t.Offset)
		end, ok2 := checkedAdd(start, t.Size)
		if !ok1 || !ok2 {
			return nil, d.fail(field, fieldAt[i], "offset %d + size %d overflows", t.Offset, t.Size)
		}
		if end > fileSize {
			return nil, d.fail(field, fieldAt[i], "data [%d, %d) (%d bytes) end beyond the file size %d", start, end, t.Size, fileSize)
		}
	}
	return f, nil
}

// kv decodes metadata pair i.
func (d *decoder) kv(i int) (KV, error) {
	at := d.pos
	field := fmt.Sprintf("kv %d", i)
	key, err := d.str(field+" key", MaxKeyLen)
	if err != nil {
		return KV{}, err
	}
	if key == "" {
		return KV{}, d.fail(field+" key", at, "empty key")
	}
	if !utf8.ValidString(key) {
		return KV{}, d.fail(field+" key", at, "key %q is not valid UTF-8", key)
	}
	field = fmt.Sprintf("kv %d (%q)", i, key)
	v, err := d.value(field)
	if err != nil {
		return KV{}, err
	}
	return KV{Key: key, Value: v}, nil
}

// value decodes a type id and the value that follows.
func (d *decoder) value(field string) (Value, error) {
	at := d.pos
	t, err := d.u32(field + " type")
	if err != nil {
		return Value{}, err
	}
	vt := ValueType(t)
	if !vt.valid() {
		return Value{}, d.fail(field+" type", at, "invalid value type %d", t)
	}
	if vt != TypeArray {
		return d.scalar(field+" value", vt)
	}
	at = d.pos
	et, err := d.u32(field + " array element type")
	if err != nil {
		return Value{}, err
	}
	elem := ValueType(et)
	switch {
	case elem == TypeArray:
		return Value{}, d.fail(field+" array element type", at, "nested arrays are not supported (ggml rejects them)")
	case !elem.valid():
		return Value{}, d.fail(field+" array element type", at, "invalid element type %d", et)
	}
	at = d.pos
	n, err := d.u64(field + " array length")
	if err != nil {
		return Value{}, err
	}
	if n > MaxArrayLen {
		return Value{}, d.fail(field+" array length", at, "%d elements exceed the limit of %d", n, MaxArrayLen)
	}
	minSize := elem.size()
	if elem == TypeString {
		minSize = 8
	}
	if n > uint64(d.left()/minSize) {
		return Value{}, d.fail(field+" array length", at, "%d %v elements cannot fit in the %d bytes left", n, elem, d.left())
	}
	v := Value{typ: TypeArray, elem: elem}
	field += " array"
	switch elem {
	case TypeUint8:
		v.arr, err = readArray(d, field, int(n), func(b []byte) uint8 { return b[0] }, 1)
	case TypeInt8:
		v.arr, err = readArray(d, field, int(n), func(b []byte) int8 { return int8(b[0]) }, 1)
	case TypeUint16:
		v.arr, err = readArray(d, field, int(n), binary.LittleEndian.Uint16, 2)
	case TypeInt16:
		v.arr, err = readArray(d, field, int(n), func(b []byte) int16 { return int16(binary.LittleEndian.Uint16(b)) }, 2)
	case TypeUint32:
		v.arr, err = readArray(d, field, int(n), binary.LittleEndian.Uint32, 4)
	case TypeInt32:
		v.arr, err = readArray(d, field, int(n), func(b []byte) int32 { return int32(binary.LittleEndian.Uint32(b)) }, 4)
	case TypeFloat32:
		v.arr, err = readArray(d, field, int(n), func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }, 4)
	case TypeUint64:
		v.arr, err = readArray(d, field, int(n), binary.LittleEndian.Uint64, 8)
	case TypeInt64:
		v.arr, err = readArray(d, field, int(n), func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) }, 8)
	case TypeFloat64:
		v.arr, err = readArray(d, field, int(n), func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }, 8)
	case TypeBool:
		a := make([]bool, n)
		for j := range a {
			if a[j], err = d.boolean(fmt.Sprintf("%s[%d]", field, j)); err != nil {
				return Value{}, err
			}
		}
		v.arr = a
	case TypeString:
		a := make([]string, n)
		for j := range a {
			if a[j], err = d.str(fmt.Sprintf("%s[%d]", field, j), MaxStringLen); err != nil {
				return Value{}, err
			}
		}
		v.arr = a
	}
	if err != nil {
		return Value{}, err
	}
	return v, nil
}

// readArray decodes n fixed-size elements; the caller has checked that
// n*size bytes are left.
func readArray[T any](d *decoder, field string, n int, get func([]byte) T, size int) ([]T, error) {
	if err := d.need(field, n*size); err != nil {
		return nil, err
	}
	a := make([]T, n)
	for j := range a {
		a[j] = get(d.data[d.pos:])
		d.pos += size
	}
	return a, nil
}

// boolean reads a BOOL byte, which must be 0 or 1.
func (d *decoder) boolean(field string) (bool, error) {
	at := d.pos
	b, err := d.u8(field)
	if err != nil {
		return false, err
	}
	if b > 1 {
		return false, d.fail(field, at, "bool byte is %d, want 0 or 1", b)
	}
	return b == 1, nil
}

// scalar decodes one non-array value of type vt.
func (d *decoder) scalar(field string, vt ValueType) (Value, error) {
	v := Value{typ: vt}
	var err error
	switch vt {
	case TypeUint8, TypeInt8:
		var b uint8
		b, err = d.u8(field)
		v.num = uint64(b)
	case TypeUint16, TypeInt16:
		var h uint16
		h, err = d.u16(field)
		v.num = uint64(h)
	case TypeUint32, TypeInt32, TypeFloat32:
		var w uint32
		w, err = d.u32(field)
		v.num = uint64(w)
	case TypeUint64, TypeInt64, TypeFloat64:
		v.num, err = d.u64(field)
	case TypeBool:
		var b bool
		b, err = d.boolean(field)
		if b {
			v.num = 1
		}
	case TypeString:
		v.str, err = d.str(field, MaxStringLen)
	}
	return v, err
}

// tensorInfo decodes tensor descriptor i and returns it with the byte
// offset of its offset field.
func (d *decoder) tensorInfo(i int) (TensorInfo, int, error) {
	at := d.pos
	field := fmt.Sprintf("tensor info %d", i)
	name, err := d.str(field+" name", MaxNameLen)
	if err != nil {
		return TensorInfo{}, 0, err
	}
	if name == "" {
		return TensorInfo{}, 0, d.fail(field+" name", at, "empty tensor name")
	}
	if !utf8.ValidString(name) {
		return TensorInfo{}, 0, d.fail(field+" name", at, "name %q is not valid UTF-8", name)
	}
	field = fmt.Sprintf("tensor info %d (%q)", i, name)
	at = d.pos
	nDims, err := d.u32(field + ": n_dims")
	if err != nil {
		return TensorInfo{}, 0, err
	}
	if nDims > MaxDims {
		return TensorInfo{}, 0, d.fail(field+": n_dims", at, "%d dimensions, at most %d allowed", nDims, MaxDims)
	}
	shape := make([]uint64, nDims)
	elems := uint64(1)
	for j := range shape {
		at = d.pos
		dimField := fmt.Sprintf("%s: ne[%d]", field, j)
		ne, err := d.u64(dimField)
		if err != nil {
			return TensorInfo{}, 0, err
		}
		if ne == 0 {
			return TensorInfo{}, 0, d.fail(dimField, at, "dimension is 0")
		}
		if ne > math.MaxInt64 {
			return TensorInfo{}, 0, d.fail(dimField, at, "dimension %d is negative as ggml's int64", ne)
		}
		hi, lo := bits.Mul64(elems, ne)
		if hi != 0 || lo >= math.MaxInt64 {
			return TensorInfo{}, 0, d.fail(dimField, at, "element count of shape %v overflows int64", append(shape[:j:j], ne))
		}
		elems = lo
		shape[j] = ne
	}
	at = d.pos
	tid, err := d.u32(field + ": type")
	if err != nil {
		return TensorInfo{}, 0, err
	}
	typ := quant.Type(tid)
	if !typ.Known() {
		return TensorInfo{}, 0, d.fail(field+": type", at, "unknown or removed ggml type id %d", tid)
	}
	ne0 := uint64(1)
	if len(shape) > 0 {
		ne0 = shape[0]
	}
	if bs := uint64(typ.BlockSize()); ne0%bs != 0 {
		return TensorInfo{}, 0, d.fail(field+": type", at, "ne[0] = %d is not a multiple of the %v block size %d", ne0, typ, bs)
	}
	size, err := typ.RowSize(int64(elems))
	if err != nil {
		return TensorInfo{}, 0, d.fail(field+": type", at, "byte size: %v", err)
	}
	offAt := d.pos
	off, err := d.u64(field + ": offset")
	if err != nil {
		return TensorInfo{}, 0, err
	}
	return TensorInfo{Name: name, Type: typ, Shape: shape, Offset: off, Size: uint64(size)}, offAt, nil
}

// alignUp rounds x up to a multiple of a (a power of two or any positive
// number), reporting overflow.
func alignUp(x, a uint64) (uint64, bool) {
	r := x % a
	if r == 0 {
		return x, true
	}
	return checkedAdd(x, a-r)
}

// checkedAdd returns a+b and whether it did not overflow.
func checkedAdd(a, b uint64) (uint64, bool) {
	s, carry := bits.Add64(a, b, 0)
	return s, carry == 0
}
