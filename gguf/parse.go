package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"unicode/utf8"
	"unsafe"

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

// decoder reads little-endian fields from data. All reads are
// bounds-checked. Primitive reads return a *FormatError without a Field;
// callers name the field (formatting only on the error path, so parsing a
// 32000-token vocabulary allocates no messages).
type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) left() int { return len(d.data) - d.pos }

// errAt returns an unnamed error at byte offset at.
func errAt(at int, format string, args ...any) *FormatError {
	return &FormatError{Offset: int64(at), Msg: fmt.Sprintf(format, args...), Err: ErrMalformed}
}

// name sets e's field and returns it as an error.
func name(e *FormatError, format string, args ...any) error {
	e.Field = fmt.Sprintf(format, args...)
	return e
}

// need fails unless n more bytes are available.
func (d *decoder) need(n int) *FormatError {
	if d.left() < n {
		return errAt(d.pos, "need %d bytes, only %d left in the %d-byte file", n, d.left(), len(d.data))
	}
	return nil
}

func (d *decoder) u8() (uint8, *FormatError) {
	if e := d.need(1); e != nil {
		return 0, e
	}
	v := d.data[d.pos]
	d.pos++
	return v, nil
}

func (d *decoder) u16() (uint16, *FormatError) {
	if e := d.need(2); e != nil {
		return 0, e
	}
	v := binary.LittleEndian.Uint16(d.data[d.pos:])
	d.pos += 2
	return v, nil
}

func (d *decoder) u32() (uint32, *FormatError) {
	if e := d.need(4); e != nil {
		return 0, e
	}
	v := binary.LittleEndian.Uint32(d.data[d.pos:])
	d.pos += 4
	return v, nil
}

func (d *decoder) u64() (uint64, *FormatError) {
	if e := d.need(8); e != nil {
		return 0, e
	}
	v := binary.LittleEndian.Uint64(d.data[d.pos:])
	d.pos += 8
	return v, nil
}

// strLen reads a string length of at most limit that fits in the file.
// Errors are about the length field.
func (d *decoder) strLen(limit int) (int, *FormatError) {
	at := d.pos
	n, e := d.u64()
	if e != nil {
		return 0, e
	}
	if n > uint64(limit) {
		return 0, errAt(at, "string length %d exceeds the limit of %d bytes", n, limit)
	}
	if n > uint64(d.left()) {
		return 0, errAt(at, "string length %d exceeds the %d bytes left in the file", n, d.left())
	}
	return int(n), nil
}

// str reads a GGUF string (u64 length + bytes) of at most limit bytes.
// Errors are about the length field.
func (d *decoder) str(limit int) (string, *FormatError) {
	n, e := d.strLen(limit)
	if e != nil {
		return "", e
	}
	s := string(d.data[d.pos : d.pos+n])
	d.pos += n
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
		return nil, name(errAt(0, "file is %d bytes, too short for the magic %q", len(data), Magic), "magic")
	}
	if string(data[:4]) != Magic {
		return nil, name(errAt(0, "got %q, want %q", data[:4], Magic), "magic")
	}
	d.pos = 4
	ver, e := d.u32()
	if e != nil {
		return nil, name(e, "version")
	}
	var verr *FormatError
	switch {
	case ver == 0:
		verr = errAt(4, "version 0 is invalid")
	case ver&0xFFFF == 0:
		verr = errAt(4, "version %#x looks byte-swapped: big-endian GGUF files are not supported", ver)
		verr.Err = ErrUnsupported
	case ver == 1:
		verr = errAt(4, "GGUF v1 is no longer supported (ggml rejects it too); re-convert the model")
		verr.Err = ErrUnsupported
	case ver > Version:
		verr = errAt(4, "version %d is newer than the supported %d", ver, Version)
		verr.Err = ErrUnsupported
	}
	if verr != nil {
		return nil, name(verr, "version")
	}
	f.Version = ver
	nTensors, e := d.u64()
	if e != nil {
		return nil, name(e, "tensor count")
	}
	nKV, e := d.u64()
	if e != nil {
		return nil, name(e, "kv count")
	}
	// Each entry takes at least a few bytes, so the counts are bounded by
	// the bytes left; slices grow only as entries are actually decoded.
	if nKV > uint64(d.left()/minKVBytes) {
		return nil, name(errAt(16, "%d key/value pairs cannot fit in the %d bytes left", nKV, d.left()), "kv count")
	}
	if nTensors > uint64(d.left()/minTensorBytes) {
		return nil, name(errAt(8, "%d tensor infos cannot fit in the %d bytes left", nTensors, d.left()), "tensor count")
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
			return nil, name(errAt(at, "duplicate key (first defined by kv %d)", j), "kv %d (%q)", i, kv.Key)
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
		i := f.kvIndex[KeyAlignment]
		if v.Type() != TypeUint32 {
			return nil, name(errAt(alignAt, "alignment must be a u32, got %v", v.Type()), "kv %d (%q)", i, KeyAlignment)
		}
		a := v.num
		if a == 0 || a&(a-1) != 0 {
			return nil, name(errAt(alignAt, "alignment %d is not a power of two", a), "kv %d (%q)", i, KeyAlignment)
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
			return nil, name(errAt(at, "duplicate tensor name (first used by tensor info %d)", j), "tensor info %d (%q)", i, t.Name)
		}
		f.tensorIndex[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
		fieldAt = append(fieldAt, offAt)
	}

	// Data section: starts at the next multiple of the alignment.
	dataOff, ok := alignUp(uint64(d.pos), f.Alignment)
	if !ok {
		return nil, name(errAt(d.pos, "aligning offset %d to %d overflows", d.pos, f.Alignment), "data section")
	}
	f.DataOffset = dataOff
	fileSize := uint64(len(data))
	for i := range f.Tensors {
		t := &f.Tensors[i]
		var e *FormatError
		start, ok1 := checkedAdd(dataOff, t.Offset)
		end, ok2 := checkedAdd(start, t.Size)
		switch {
		case t.Offset%f.Alignment != 0:
			e = errAt(fieldAt[i], "offset %d is not a multiple of the alignment %d", t.Offset, f.Alignment)
		case !ok1 || !ok2:
			e = errAt(fieldAt[i], "offset %d + size %d overflows", t.Offset, t.Size)
		case end > fileSize:
			e = errAt(fieldAt[i], "data [%d, %d) (%d bytes) end beyond the file size %d", start, end, t.Size, fileSize)
		}
		if e != nil {
			return nil, name(e, "tensor info %d (%q): offset", i, t.Name)
		}
	}
	return f, nil
}

// kv decodes metadata pair i.
func (d *decoder) kv(i int) (KV, error) {
	at := d.pos
	key, e := d.str(MaxKeyLen)
	if e != nil {
		return KV{}, name(e, "kv %d key length", i)
	}
	if key == "" {
		return KV{}, name(errAt(at, "empty key"), "kv %d key", i)
	}
	if !utf8.ValidString(key) {
		return KV{}, name(errAt(at, "key %q is not valid UTF-8", key), "kv %d key", i)
	}
	v, err := d.value(func(field string, args ...any) string {
		return fmt.Sprintf("kv %d (%q) ", i, key) + fmt.Sprintf(field, args...)
	})
	if err != nil {
		return KV{}, err
	}
	return KV{Key: key, Value: v}, nil
}

// value decodes a type id and the value that follows; field names the
// failing part (called only on error).
func (d *decoder) value(field func(format string, args ...any) string) (Value, error) {
	fail := func(e *FormatError, format string, args ...any) (Value, error) {
		e.Field = field(format, args...)
		return Value{}, e
	}
	at := d.pos
	t, e := d.u32()
	if e != nil {
		return fail(e, "type")
	}
	vt := ValueType(t)
	if !vt.valid() {
		return fail(errAt(at, "invalid value type %d", t), "type")
	}
	if vt != TypeArray {
		v, e := d.scalar(vt)
		if e != nil {
			return fail(e, "value")
		}
		return v, nil
	}
	at = d.pos
	et, e := d.u32()
	if e != nil {
		return fail(e, "array element type")
	}
	elem := ValueType(et)
	switch {
	case elem == TypeArray:
		return fail(errAt(at, "nested arrays are not supported (ggml rejects them)"), "array element type")
	case !elem.valid():
		return fail(errAt(at, "invalid element type %d", et), "array element type")
	}
	at = d.pos
	n, e := d.u64()
	if e != nil {
		return fail(e, "array length")
	}
	if n > MaxArrayLen {
		return fail(errAt(at, "%d elements exceed the limit of %d", n, MaxArrayLen), "array length")
	}
	minSize := elem.size()
	if elem == TypeString {
		minSize = 8
	}
	if n > uint64(d.left()/minSize) {
		return fail(errAt(at, "%d %v elements cannot fit in the %d bytes left", n, elem, d.left()), "array length")
	}
	v := Value{typ: TypeArray, elem: elem}
	switch elem {
	case TypeUint8:
		v.arr = readArray(d, int(n), 1, func(b []byte) uint8 { return b[0] })
	case TypeInt8:
		v.arr = readArray(d, int(n), 1, func(b []byte) int8 { return int8(b[0]) })
	case TypeUint16:
		v.arr = readArray(d, int(n), 2, binary.LittleEndian.Uint16)
	case TypeInt16:
		v.arr = readArray(d, int(n), 2, func(b []byte) int16 { return int16(binary.LittleEndian.Uint16(b)) })
	case TypeUint32:
		v.arr = readArray(d, int(n), 4, binary.LittleEndian.Uint32)
	case TypeInt32:
		v.arr = readArray(d, int(n), 4, func(b []byte) int32 { return int32(binary.LittleEndian.Uint32(b)) })
	case TypeFloat32:
		v.arr = readArray(d, int(n), 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
	case TypeUint64:
		v.arr = readArray(d, int(n), 8, binary.LittleEndian.Uint64)
	case TypeInt64:
		v.arr = readArray(d, int(n), 8, func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) })
	case TypeFloat64:
		v.arr = readArray(d, int(n), 8, func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) })
	case TypeBool:
		a := make([]bool, n)
		for j := range a {
			var e *FormatError
			if a[j], e = d.boolean(); e != nil {
				return fail(e, "array[%d]", j)
			}
		}
		v.arr = a
	case TypeString:
		a, j, e := d.strings(int(n))
		if e != nil {
			return fail(e, "array[%d] length", j)
		}
		v.arr = a
	}
	return v, nil
}

// readArray decodes n fixed-size elements; the caller has checked that
// n*size bytes are left.
func readArray[T any](d *decoder, n, size int, get func([]byte) T) []T {
	a := make([]T, n)
	for j := range a {
		a[j] = get(d.data[d.pos:])
		d.pos += size
	}
	return a
}

// strings decodes n strings into one shared backing buffer (one allocation
// for a whole vocabulary). On error it returns the failing index.
func (d *decoder) strings(n int) ([]string, int, *FormatError) {
	// First pass: validate every length and sum them.
	start, total := d.pos, 0
	for j := 0; j < n; j++ {
		k, e := d.strLen(MaxStringLen)
		if e != nil {
			return nil, j, e
		}
		d.pos += k
		total += k // <= len(d.data): every k was inside the file
	}
	buf := make([]byte, 0, total)
	a := make([]string, n)
	d.pos = start
	for j := range a {
		k := int(binary.LittleEndian.Uint64(d.data[d.pos:]))
		d.pos += 8
		off := len(buf)
		buf = append(buf, d.data[d.pos:d.pos+k]...)
		d.pos += k
		if k > 0 {
			// buf never grows past its capacity and is never written again,
			// so the strings may share it.
			a[j] = unsafe.String(&buf[off], k)
		}
	}
	return a, 0, nil
}

// boolean reads a BOOL byte, which must be 0 or 1.
func (d *decoder) boolean() (bool, *FormatError) {
	at := d.pos
	b, e := d.u8()
	if e != nil {
		return false, e
	}
	if b > 1 {
		return false, errAt(at, "bool byte is %d, want 0 or 1", b)
	}
	return b == 1, nil
}

// scalar decodes one non-array value of type vt.
func (d *decoder) scalar(vt ValueType) (Value, *FormatError) {
	v := Value{typ: vt}
	var e *FormatError
	switch vt {
	case TypeUint8, TypeInt8:
		var b uint8
		b, e = d.u8()
		v.num = uint64(b)
	case TypeUint16, TypeInt16:
		var h uint16
		h, e = d.u16()
		v.num = uint64(h)
	case TypeUint32, TypeInt32, TypeFloat32:
		var w uint32
		w, e = d.u32()
		v.num = uint64(w)
	case TypeUint64, TypeInt64, TypeFloat64:
		v.num, e = d.u64()
	case TypeBool:
		var b bool
		b, e = d.boolean()
		if b {
			v.num = 1
		}
	case TypeString:
		v.str, e = d.str(MaxStringLen)
	}
	return v, e
}

// tensorInfo decodes tensor descriptor i and returns it with the byte
// offset of its offset field.
func (d *decoder) tensorInfo(i int) (TensorInfo, int, error) {
	at := d.pos
	tname, e := d.str(MaxNameLen)
	if e != nil {
		return TensorInfo{}, 0, name(e, "tensor info %d name length", i)
	}
	if tname == "" {
		return TensorInfo{}, 0, name(errAt(at, "empty tensor name"), "tensor info %d name", i)
	}
	if !utf8.ValidString(tname) {
		return TensorInfo{}, 0, name(errAt(at, "name %q is not valid UTF-8", tname), "tensor info %d name", i)
	}
	fail := func(e *FormatError, format string, args ...any) (TensorInfo, int, error) {
		e.Field = fmt.Sprintf("tensor info %d (%q): ", i, tname) + fmt.Sprintf(format, args...)
		return TensorInfo{}, 0, e
	}
	at = d.pos
	nDims, e := d.u32()
	if e != nil {
		return fail(e, "n_dims")
	}
	if nDims > MaxDims {
		return fail(errAt(at, "%d dimensions, at most %d allowed", nDims, MaxDims), "n_dims")
	}
	shape := make([]uint64, nDims)
	elems := uint64(1)
	for j := range shape {
		at = d.pos
		ne, e := d.u64()
		if e != nil {
			return fail(e, "ne[%d]", j)
		}
		if ne == 0 {
			return fail(errAt(at, "dimension is 0"), "ne[%d]", j)
		}
		if ne > math.MaxInt64 {
			return fail(errAt(at, "dimension %d is negative as ggml's int64", ne), "ne[%d]", j)
		}
		hi, lo := bits.Mul64(elems, ne)
		if hi != 0 || lo >= math.MaxInt64 {
			return fail(errAt(at, "element count of shape %v overflows int64", append(shape[:j:j], ne)), "ne[%d]", j)
		}
		elems = lo
		shape[j] = ne
	}
	at = d.pos
	tid, e := d.u32()
	if e != nil {
		return fail(e, "type")
	}
	typ := quant.Type(tid)
	if !typ.Known() {
		return fail(errAt(at, "unknown or removed ggml type id %d", tid), "type")
	}
	ne0 := uint64(1)
	if len(shape) > 0 {
		ne0 = shape[0]
	}
	if bs := uint64(typ.BlockSize()); ne0%bs != 0 {
		return fail(errAt(at, "ne[0] = %d is not a multiple of the %v block size %d", ne0, typ, bs), "type")
	}
	size, err := typ.RowSize(int64(elems))
	if err != nil {
		return fail(errAt(at, "byte size: %v", err), "type")
	}
	offAt := d.pos
	off, e := d.u64()
	if e != nil {
		return fail(e, "offset")
	}
	return TensorInfo{Name: tname, Type: typ, Shape: shape, Offset: off, Size: uint64(size)}, offAt, nil
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
