package gguf

import (
	"fmt"
	"math"
)

// ValueType is the type id of a GGUF metadata value (gguf_type in ggml's
// gguf.h). The numbers are stored in files and never change.
type ValueType uint32

// The GGUF metadata value types.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{
	TypeUint8:   "u8",
	TypeInt8:    "i8",
	TypeUint16:  "u16",
	TypeInt16:   "i16",
	TypeUint32:  "u32",
	TypeInt32:   "i32",
	TypeFloat32: "f32",
	TypeBool:    "bool",
	TypeString:  "str",
	TypeArray:   "arr",
	TypeUint64:  "u64",
	TypeInt64:   "i64",
	TypeFloat64: "f64",
}

// String returns a short name: u8, i8, u16, i16, u32, i32, f32, bool, str,
// arr, u64, i64, f64, or "type(N)" for an invalid id.
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// valid reports whether t is one of the thirteen defined ids.
func (t ValueType) valid() bool { return t <= TypeFloat64 }

// size returns the encoded size of a fixed-size scalar of type t, or 0 for
// STRING, ARRAY and invalid ids.
func (t ValueType) size() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// Value is one metadata value: a scalar, a string, or an array of scalars or
// strings (GGUF arrays never nest here: ggml rejects nested arrays, so this
// package neither reads nor writes them). The zero Value is an invalid
// UINT8-typed placeholder; obtain values from a File or from ValueOf.
type Value struct {
	typ  ValueType
	elem ValueType // element type when typ == TypeArray
	num  uint64    // scalar payload: integer bits, float bits, bool 0/1
	str  string    // TypeString payload
	arr  any       // TypeArray payload: []uint8 … []float64, []bool or []string
}

// Type returns the value's type id (TypeArray for arrays).
func (v Value) Type() ValueType { return v.typ }

// ElemType returns the element type of an array; for scalars it returns
// the value's own type.
func (v Value) ElemType() ValueType {
	if v.typ == TypeArray {
		return v.elem
	}
	return v.typ
}

// Len returns the number of elements of an array, or 1 for a scalar.
func (v Value) Len() int {
	if v.typ != TypeArray {
		return 1
	}
	switch a := v.arr.(type) {
	case []uint8:
		return len(a)
	case []int8:
		return len(a)
	case []uint16:
		return len(a)
	case []int16:
		return len(a)
	case []uint32:
		return len(a)
	case []int32:
		return len(a)
	case []float32:
		return len(a)
	case []bool:
		return len(a)
	case []string:
		return len(a)
	case []uint64:
		return len(a)
	case []int64:
		return len(a)
	case []float64:
		return len(a)
	}
	return 0
}

// Any returns the value as a Go value: uint8, int8, uint16, int16, uint32,
// int32, float32, bool, string, uint64, int64 or float64 for scalars, and a
// slice of one of those for arrays ([]string, []float32, []int32, …). Array
// slices are shared with the Value: do not modify them.
func (v Value) Any() any {
	switch v.typ {
	case TypeUint8:
		return uint8(v.num)
	case TypeInt8:
		return int8(v.num)
	case TypeUint16:
		return uint16(v.num)
	case TypeInt16:
		return int16(v.num)
	case TypeUint32:
		return uint32(v.num)
	case TypeInt32:
		return int32(v.num)
	case TypeFloat32:
		return math.Float32frombits(uint32(v.num))
	case TypeBool:
		return v.num != 0
	case TypeString:
		return v.str
	case TypeArray:
		return v.arr
	case TypeUint64:
		return v.num
	case TypeInt64:
		return int64(v.num)
	case TypeFloat64:
		return math.Float64frombits(v.num)
	}
	return nil
}

// ValueOf converts a Go value to a Value. Accepted: uint8, int8, uint16,
// int16, uint32, int32, float32, bool, string, uint64, int64, float64, a
// slice of one of those, or a Value (returned as is). Slices are copied.
// Plain int and uint are refused because their GGUF width would be a guess
// (llama.cpp expects u32 for most counts): convert explicitly.
func ValueOf(x any) (Value, error) {
	switch x := x.(type) {
	case Value:
		if !x.typ.valid() || (x.typ == TypeArray && (!x.elem.valid() || x.elem == TypeArray || x.arr == nil)) {
			return Value{}, fmt.Errorf("gguf: invalid Value of type %v", x.typ)
		}
		return x, nil
	case uint8:
		return Value{typ: TypeUint8, num: uint64(x)}, nil
	case int8:
		return Value{typ: TypeInt8, num: uint64(uint8(x))}, nil
	case uint16:
		return Value{typ: TypeUint16, num: uint64(x)}, nil
	case int16:
		return Value{typ: TypeInt16, num: uint64(uint16(x))}, nil
	case uint32:
		return Value{typ: TypeUint32, num: uint64(x)}, nil
	case int32:
		return Value{typ: TypeInt32, num: uint64(uint32(x))}, nil
	case float32:
		return Value{typ: TypeFloat32, num: uint64(math.Float32bits(x))}, nil
	case bool:
		var n uint64
		if x {
			n = 1
		}
		return Value{typ: TypeBool, num: n}, nil
	case string:
		return Value{typ: TypeString, str: x}, nil
	case uint64:
		return Value{typ: TypeUint64, num: x}, nil
	case int64:
		return Value{typ: TypeInt64, num: uint64(x)}, nil
	case float64:
		return Value{typ: TypeFloat64, num: math.Float64bits(x)}, nil
	case []uint8:
		return arrayOf(TypeUint8, x), nil
	case []int8:
		return arrayOf(TypeInt8, x), nil
	case []uint16:
		return arrayOf(TypeUint16, x), nil
	case []int16:
		return arrayOf(TypeInt16, x), nil
	case []uint32:
		return arrayOf(TypeUint32, x), nil
	case []int32:
		return arrayOf(TypeInt32, x), nil
	case []float32:
		return arrayOf(TypeFloat32, x), nil
	case []bool:
		return arrayOf(TypeBool, x), nil
	case []string:
		return arrayOf(TypeString, x), nil
	case []uint64:
		return arrayOf(TypeUint64, x), nil
	case []int64:
		return arrayOf(TypeInt64, x), nil
	case []float64:
		return arrayOf(TypeFloat64, x), nil
	case int, uint:
		return Value{}, fmt.Errorf("gguf: value %v of Go type %T has no fixed GGUF width; convert it to uint32, int32, uint64 or int64", x, x)
	case nil:
		return Value{}, fmt.Errorf("gguf: nil value")
	}
	return Value{}, fmt.Errorf("gguf: unsupported value type %T (nested arrays and other Go types cannot be stored)", x)
}

// arrayOf copies s into an array Value of element type et.
func arrayOf[T any](et ValueType, s []T) Value {
	c := make([]T, len(s))
	copy(c, s)
	return Value{typ: TypeArray, elem: et, arr: c}
}

// asUint returns v as a uint64 when v is an integer scalar with a
// non-negative value.
func (v Value) asUint() (uint64, bool) {
	switch v.typ {
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		return v.num, true
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		i, _ := v.asInt()
		if i < 0 {
			return 0, false
		}
		return uint64(i), true
	}
	return 0, false
}

// asInt returns v as an int64 when v is an integer scalar that fits.
func (v Value) asInt() (int64, bool) {
	switch v.typ {
	case TypeUint8, TypeUint16, TypeUint32:
		return int64(v.num), true
	case TypeUint64:
		if v.num > math.MaxInt64 {
			return 0, false
		}
		return int64(v.num), true
	case TypeInt8:
		return int64(int8(v.num)), true
	case TypeInt16:
		return int64(int16(v.num)), true
	case TypeInt32:
		return int64(int32(v.num)), true
	case TypeInt64:
		return int64(v.num), true
	}
	return 0, false
}

// asFloat returns v as a float64 for float and integer scalars.
func (v Value) asFloat() (float64, bool) {
	switch v.typ {
	case TypeFloat32:
		return float64(math.Float32frombits(uint32(v.num))), true
	case TypeFloat64:
		return math.Float64frombits(v.num), true
	case TypeUint64:
		return float64(v.num), true
	}
	if i, ok := v.asInt(); ok {
		return float64(i), true
	}
	return 0, false
}

// Uint returns v as a uint64 when v is an integer scalar of any width with
// a non-negative value.
func (v Value) Uint() (uint64, bool) { return v.asUint() }

// Int returns v as an int64 when v is an integer scalar that fits.
func (v Value) Int() (int64, bool) { return v.asInt() }

// Float returns v as a float64 for FLOAT32, FLOAT64 and integer scalars.
func (v Value) Float() (float64, bool) { return v.asFloat() }

// Bool returns v's value when v is a BOOL.
func (v Value) Bool() (bool, bool) { return v.typ == TypeBool && v.num != 0, v.typ == TypeBool }

// Str returns v's value when v is a STRING.
func (v Value) Str() (string, bool) { return v.str, v.typ == TypeString }

// Strings returns the elements of an array of STRING (shared; do not modify).
func (v Value) Strings() ([]string, bool) {
	s, ok := v.arr.([]string)
	return s, ok && v.typ == TypeArray
}

// Float32s returns the elements of an array of FLOAT32 (shared; do not
// modify), or a converted copy of an array of FLOAT64.
func (v Value) Float32s() ([]float32, bool) {
	if v.typ != TypeArray {
		return nil, false
	}
	switch a := v.arr.(type) {
	case []float32:
		return a, true
	case []float64:
		out := make([]float32, len(a))
		for i, x := range a {
			out[i] = float32(x)
		}
		return out, true
	}
	return nil, false
}

// Int32s returns the elements of an array of INT32 (shared; do not modify),
// or a converted copy of an integer array of another width whose every
// element fits in an int32.
func (v Value) Int32s() ([]int32, bool) {
	if v.typ != TypeArray {
		return nil, false
	}
	switch a := v.arr.(type) {
	case []int32:
		return a, true
	case []uint8:
		return convertInts(a)
	case []int8:
		return convertInts(a)
	case []uint16:
		return convertInts(a)
	case []int16:
		return convertInts(a)
	case []uint32:
		return convertInts(a)
	case []uint64:
		return convertInts(a)
	case []int64:
		return convertInts(a)
	}
	return nil, false
}

// convertInts copies a into an []int32, failing if any element is out of range.
func convertInts[T uint8 | int8 | uint16 | int16 | uint32 | uint64 | int64](a []T) ([]int32, bool) {
	out := make([]int32, len(a))
	for i, x := range a {
		if x < 0 && int64(x) < math.MinInt32 {
			return nil, false
		}
		if x > 0 && uint64(x) > math.MaxInt32 {
			return nil, false
		}
		out[i] = int32(x)
	}
	return out, true
}
