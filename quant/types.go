// Package quant describes ggml's tensor element types and block formats:
// one table of type traits, exact fp16/bf16 conversions, and reference
// quantizers and dequantizers whose bytes equal ggml's.
//
// quant knows blocks, never a matmul: the kernels package builds on it.
package quant

import (
	"fmt"
	"strings"
)

// Type is a ggml tensor element type, numbered as ggml's enum ggml_type
// (include/ggml.h). The numbers are stored in GGUF files and never change.
type Type uint32

// The ggml types. Gaps are types removed from ggml (4, 5, 31–33, 36–38);
// files that use them are rejected.
const (
	F32     Type = 0
	F16     Type = 1
	Q4_0    Type = 2
	Q4_1    Type = 3
	Q5_0    Type = 6
	Q5_1    Type = 7
	Q8_0    Type = 8
	Q8_1    Type = 9
	Q2_K    Type = 10
	Q3_K    Type = 11
	Q4_K    Type = 12
	Q5_K    Type = 13
	Q6_K    Type = 14
	Q8_K    Type = 15
	IQ2_XXS Type = 16
	IQ2_XS  Type = 17
	IQ3_XXS Type = 18
	IQ1_S   Type = 19
	IQ4_NL  Type = 20
	IQ3_S   Type = 21
	IQ2_S   Type = 22
	IQ4_XS  Type = 23
	I8      Type = 24
	I16     Type = 25
	I32     Type = 26
	I64     Type = 27
	F64     Type = 28
	IQ1_M   Type = 29
	BF16    Type = 30
	TQ1_0   Type = 34
	TQ2_0   Type = 35
	MXFP4   Type = 39
)

// QK_K is the number of weights in a K-quant super-block.
const QK_K = 256

// Traits describes the storage of one type: BlockSize elements are stored
// in TypeSize bytes. Quantized types have BlockSize > 1.
type Traits struct {
	Name      string // ggml's spelling, e.g. "Q4_K"
	BlockSize int    // elements per block
	TypeSize  int    // bytes per block
	Quantized bool
	// Codec reports whether this package can quantize and dequantize the type.
	// Types without a codec can still be described (and listed by `cogedge info`).
	Codec bool
}

// traits is indexed by Type; the zero Traits marks a removed or unknown id.
// Block and byte sizes follow ggml's type_traits table in src/ggml.c and the
// block structs in src/ggml-common.h.
var traits = [...]Traits{
	F32:     {"F32", 1, 4, false, true},
	F16:     {"F16", 1, 2, false, true},
	Q4_0:    {"Q4_0", 32, 18, true, true},
	Q4_1:    {"Q4_1", 32, 20, true, true},
	Q5_0:    {"Q5_0", 32, 22, true, true},
	Q5_1:    {"Q5_1", 32, 24, true, true},
	Q8_0:    {"Q8_0", 32, 34, true, true},
	Q8_1:    {"Q8_1", 32, 36, true, false},
	Q2_K:    {"Q2_K", 256, 84, true, false},
	Q3_K:    {"Q3_K", 256, 110, true, false},
	Q4_K:    {"Q4_K", 256, 144, true, true},
	Q5_K:    {"Q5_K", 256, 176, true, true},
	Q6_K:    {"Q6_K", 256, 210, true, true},
	Q8_K:    {"Q8_K", 256, 292, true, false},
	IQ2_XXS: {"IQ2_XXS", 256, 66, true, false},
	IQ2_XS:  {"IQ2_XS", 256, 74, true, false},
	IQ3_XXS: {"IQ3_XXS", 256, 98, true, false},
	IQ1_S:   {"IQ1_S", 256, 50, true, false},
	IQ4_NL:  {"IQ4_NL", 32, 18, true, true},
	IQ3_S:   {"IQ3_S", 256, 110, true, false},
	IQ2_S:   {"IQ2_S", 256, 82, true, false},
	IQ4_XS:  {"IQ4_XS", 256, 136, true, false},
	I8:      {"I8", 1, 1, false, false},
	I16:     {"I16", 1, 2, false, false},
	I32:     {"I32", 1, 4, false, false},
	I64:     {"I64", 1, 8, false, false},
	F64:     {"F64", 1, 8, false, false},
	IQ1_M:   {"IQ1_M", 256, 56, true, false},
	BF16:    {"BF16", 1, 2, false, true},
	TQ1_0:   {"TQ1_0", 256, 54, true, false},
	TQ2_0:   {"TQ2_0", 256, 66, true, false},
	MXFP4:   {"MXFP4", 32, 17, true, false},
}

// Known reports whether t is a type ggml still defines (removed ids and ids
// past the table are unknown).
func (t Type) Known() bool {
	return int(t) < len(traits) && traits[t].BlockSize > 0
}

// Traits returns the storage traits of t; ok is false for an unknown type.
func (t Type) Traits() (tr Traits, ok bool) {
	if !t.Known() {
		return Traits{}, false
	}
	return traits[t], true
}

// String returns ggml's name for t, or "type(N)" for an unknown id.
func (t Type) String() string {
	if !t.Known() {
		return fmt.Sprintf("type(%d)", uint32(t))
	}
	return traits[t].Name
}

// BlockSize returns the number of elements per block (1 for plain types, 0 if unknown).
func (t Type) BlockSize() int {
	if !t.Known() {
		return 0
	}
	return traits[t].BlockSize
}

// TypeSize returns the number of bytes per block (0 if unknown).
func (t Type) TypeSize() int {
	if !t.Known() {
		return 0
	}
	return traits[t].TypeSize
}

// Quantized reports whether t stores blocks of more than one element.
func (t Type) Quantized() bool { return t.Known() && traits[t].Quantized }

// HasCodec reports whether this package can quantize to and dequantize from t.
func (t Type) HasCodec() bool { return t.Known() && traits[t].Codec }

// RowSize returns the byte size of n elements of type t. It fails when t is
// unknown, n is negative or not a multiple of the block size, or the size
// overflows int64.
func (t Type) RowSize(n int64) (int64, error) {
	if !t.Known() {
		return 0, fmt.Errorf("quant: unknown type id %d", uint32(t))
	}
	tr := traits[t]
	if n < 0 {
		return 0, fmt.Errorf("quant: %s: negative element count %d", tr.Name, n)
	}
	if n%int64(tr.BlockSize) != 0 {
		return 0, fmt.Errorf("quant: %s: %d elements is not a multiple of the block size %d", tr.Name, n, tr.BlockSize)
	}
	blocks := n / int64(tr.BlockSize)
	const maxInt64 = 1<<63 - 1
	if blocks > maxInt64/int64(tr.TypeSize) {
		return 0, fmt.Errorf("quant: %s: byte size of %d elements overflows", tr.Name, n)
	}
	return blocks * int64(tr.TypeSize), nil
}

// ParseType reads a type name as ggml and llama-quantize spell it, ignoring
// case ("q4_k", "Q8_0", "iq4_nl", "f16", "bf16").
func ParseType(s string) (Type, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	for id, tr := range traits {
		if tr.BlockSize > 0 && tr.Name == u {
			return Type(id), nil
		}
	}
	return 0, fmt.Errorf("quant: unknown type %q", s)
}
