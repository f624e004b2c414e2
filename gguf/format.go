package gguf

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text formats v for people: integers in decimal, floats in their shortest
// exact form, strings quoted (Go syntax). Arrays longer than maxItems (if
// maxItems > 0) show their first maxItems elements as
// `[a, b, … ] (N items)`; strings longer than maxBytes (if maxBytes > 0) are
// cut at a character boundary and followed by `… (N bytes)`.
func (v Value) Text(maxItems, maxBytes int) string {
	if v.typ != TypeArray {
		return scalarText(v, maxBytes)
	}
	n := v.Len()
	shown := n
	if maxItems > 0 && n > maxItems {
		shown = maxItems
	}
	var sb strings.Builder
	sb.WriteByte('[')
	for i := 0; i < shown; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(scalarText(v.index(i), maxBytes))
	}
	if shown < n {
		sb.WriteString(", … ] (" + strconv.Itoa(n) + " items)")
	} else {
		sb.WriteByte(']')
	}
	return sb.String()
}

// index returns element i of an array as a scalar Value.
func (v Value) index(i int) Value {
	e := Value{typ: v.elem}
	switch a := v.arr.(type) {
	case []uint8:
		e.num = uint64(a[i])
	case []int8:
		e.num = uint64(uint8(a[i]))
	case []uint16:
		e.num = uint64(a[i])
	case []int16:
		e.num = uint64(uint16(a[i]))
	case []uint32:
		e.num = uint64(a[i])
	case []int32:
		e.num = uint64(uint32(a[i]))
	case []float32:
		e.num = uint64(math.Float32bits(a[i]))
	case []bool:
		if a[i] {
			e.num = 1
		}
	case []string:
		e.str = a[i]
	case []uint64:
		e.num = a[i]
	case []int64:
		e.num = uint64(a[i])
	case []float64:
		e.num = math.Float64bits(a[i])
	}
	return e
}

func scalarText(v Value, maxBytes int) string {
	switch v.typ {
	case TypeString:
		if maxBytes > 0 && len(v.str) > maxBytes {
			cut := maxBytes
			for cut > 0 && !utf8.RuneStart(v.str[cut]) {
				cut--
			}
			return strconv.Quote(v.str[:cut]) + "… (" + strconv.Itoa(len(v.str)) + " bytes)"
		}
		return strconv.Quote(v.str)
	case TypeFloat32:
		return strconv.FormatFloat(float64(math.Float32frombits(uint32(v.num))), 'g', -1, 32)
	case TypeFloat64:
		return strconv.FormatFloat(math.Float64frombits(v.num), 'g', -1, 64)
	case TypeBool:
		return strconv.FormatBool(v.num != 0)
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		return strconv.FormatUint(v.num, 10)
	}
	i, _ := v.asInt()
	return strconv.FormatInt(i, 10)
}

// AppendJSON appends v as JSON: numbers for integers and finite floats
// (float32 in its shortest float32 form), true/false, strings (bytes that
// are not valid UTF-8 become U+FFFD), arrays as JSON arrays. JSON has no
// NaN or infinity, so those floats are written as the strings "NaN",
// "+Inf" and "-Inf".
func (v Value) AppendJSON(b []byte) []byte {
	if v.typ != TypeArray {
		return appendScalarJSON(b, v)
	}
	b = append(b, '[')
	for i, n := 0, v.Len(); i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendScalarJSON(b, v.index(i))
	}
	return append(b, ']')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

func appendScalarJSON(b []byte, v Value) []byte {
	switch v.typ {
	case TypeString:
		return AppendJSONString(b, v.str)
	case TypeFloat32, TypeFloat64:
		f, _ := v.asFloat()
		switch {
		case math.IsNaN(f):
			return append(b, `"NaN"`...)
		case math.IsInf(f, 1):
			return append(b, `"+Inf"`...)
		case math.IsInf(f, -1):
			return append(b, `"-Inf"`...)
		}
		if v.typ == TypeFloat32 {
			return strconv.AppendFloat(b, f, 'g', -1, 32)
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	}
	return append(b, scalarText(v, 0)...)
}

// AppendJSONString appends s as a JSON string literal without HTML escaping;
// invalid UTF-8 becomes U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
