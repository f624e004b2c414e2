package converter

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cogedge/cogedge/quant"
)

// Mix is a recipe that gives every tensor a storage type, in the spirit of
// llama-quantize's file types (llama_tensor_get_type in src/llama-quant.cpp).
//
// Rules, in order:
//   - norms, biases, the CLS token, position embeddings and boi/eoi: F32;
//   - the ViT patch convolution: F16 when Base is F16, else F32;
//   - output.weight: Q6_K when Base is a quantized type other than Q8_0 and
//     Q6_K (unless Pure), else Base;
//   - the K-quant and IQ4_NL mixes raise some matrices as
//     llama_tensor_get_type does (README.md, "Type mixes"; the same rules as
//     quant/requant, so `cogedge quantize` of an F32 conversion gives the
//     same bytes as converting directly);
//   - the Vision and Expert overrides replace the type of every matrix of
//     their group;
//   - a type whose block does not divide the row length falls back:
//     Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0, then any block type → F16; with
//     Pure such a tensor stays F32 instead.
type Mix struct {
	Name     string     // the preset name ("q4_k_m", "q8_0", …)
	Base     quant.Type // the type of most matrices
	FileType uint32     // llama_ftype for general.file_type
	Pure     bool       // no output.weight promotion and no per-layer raises
	// Vision and Expert, when set, override the type of the matrices of
	// the vision tower + adapter and of the visual experts.
	Vision, Expert *quant.Type
	raise          func(s *Spec) (quant.Type, bool)
}

// moreBits is llama.cpp's use_more_bits: the first and last eighth of the
// layers and every third layer between them.
func moreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

type preset struct {
	base  quant.Type
	ftype uint32
	raise func(s *Spec) (quant.Type, bool)
}

// ffnDown reports whether s is an ffn_down by llama-quantize's name test
// (name contains "ffn_down"): the language MLP's and the ViT's, not the
// visual expert's vis_down.
func ffnDown(s *Spec) bool { return s.Role == "ffn_down" && s.Group != Expert }

var presets = map[string]preset{
	"f32":    {quant.F32, 0, nil},
	"f16":    {quant.F16, 1, nil},
	"bf16":   {quant.BF16, 32, nil},
	"q4_0":   {quant.Q4_0, 2, nil},
	"q4_1":   {quant.Q4_1, 3, nil},
	"q5_0":   {quant.Q5_0, 8, nil},
	"q5_1":   {quant.Q5_1, 9, nil},
	"q8_0":   {quant.Q8_0, 7, nil},
	"q6_k":   {quant.Q6_K, 18, nil},
	"q5_k_s": {quant.Q5_K, 16, nil},
	"iq4_nl": {quant.IQ4_NL, 25, func(s *Spec) (quant.Type, bool) {
		if ffnDown(s) && s.Layer < s.Layers/8 {
			return quant.Q5_K, true
		}
		return 0, false
	}},
	"q4_k_s": {quant.Q4_K, 14, func(s *Spec) (quant.Type, bool) {
		if ffnDown(s) && s.Layer < s.Layers/8 {
			return quant.Q5_K, true
		}
		return 0, false
	}},
	"q4_k_m": {quant.Q4_K, 15, func(s *Spec) (quant.Type, bool) {
		switch {
		case s.Role == "attn_qkv":
			return quant.Q5_K, true
		case ffnDown(s) && moreBits(s.Layer, s.Layers):
			return quant.Q6_K, true
		}
		return 0, false
	}},
	"q5_k_m": {quant.Q5_K, 17, func(s *Spec) (quant.Type, bool) {
		switch {
		case s.Role == "attn_qkv":
			return quant.Q6_K, true
		case ffnDown(s) && moreBits(s.Layer, s.Layers):
			return quant.Q6_K, true
		}
		return 0, false
	}},
}

// mixAliases are llama-quantize's extra spellings.
var mixAliases = map[string]string{"q4_k": "q4_k_m", "q5_k": "q5_k_m"}

// Presets returns the names ParseMix accepts, sorted.
func Presets() []string {
	out := make([]string, 0, len(presets)+len(mixAliases))
	for n := range presets {
		out = append(out, n)
	}
	for n := range mixAliases {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ParseMix returns the preset called name (case-insensitive: "Q4_K_M",
// "q8_0", "f16", …).
func ParseMix(name string) (Mix, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if a, ok := mixAliases[n]; ok {
		n = a
	}
	p, ok := presets[n]
	if !ok {
		return Mix{}, fmt.Errorf("convert: unknown type %q (known: %s)", name, strings.Join(Presets(), ", "))
	}
	return Mix{Name: n, Base: p.base, FileType: p.ftype, raise: p.raise}, nil
}

// MixForType returns the mix named after t ("q4_0" for Q4_0; Q4_K and
// Q5_K mean Q4_K_M and Q5_K_M, as in llama-quantize), or an error when t
// cannot be written.
func MixForType(t quant.Type) (Mix, error) {
	if !writable(t) {
		return Mix{}, fmt.Errorf("convert: type %s cannot be written (supported: f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, iq4_nl, q4_k, q5_k, q6_k)", t)
	}
	return ParseMix(strings.ToLower(t.String()))
}

// writable reports whether the converter can store matrices as t.
func writable(t quant.Type) bool {
	switch t {
	case quant.F32, quant.F16, quant.BF16, quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.Q8_0,
		quant.IQ4_NL, quant.Q4_K, quant.Q5_K, quant.Q6_K:
		return true
	}
	return false
}

// TypeFor returns the storage type of s under m.
func (m Mix) TypeFor(s *Spec) quant.Type {
	switch s.Kind {
	case Norm, Bias, Embedding:
		return quant.F32
	case Patch:
		if m.Base == quant.F16 {
			return quant.F16
		}
		return quant.F32
	}
	t := m.Base
	switch {
	case s.Group == Vision && m.Vision != nil:
		t = *m.Vision
	case s.Group == Expert && m.Expert != nil:
		t = *m.Expert
	case s.Role == "output" && !m.Pure && t.Quantized() && t != quant.Q8_0 && t != quant.Q6_K:
		t = quant.Q6_K
	case !m.Pure && m.raise != nil:
		if r, ok := m.raise(s); ok {
			t = r
		}
	}
	if m.Pure && s.Shape[0]%uint64(t.BlockSize()) != 0 {
		// As `cogedge quantize --pure`: a tensor the type cannot hold stays
		// unquantized rather than taking another type.
		return quant.F32
	}
	return fallback(t, s.Shape[0])
}

// fallback replaces t when its block size does not divide the row length
// ne0, as llama-quantize does for incompatible tensors.
func fallback(t quant.Type, ne0 uint64) quant.Type {
	if ne0%uint64(t.BlockSize()) == 0 {
		return t
	}
	switch t {
	case quant.Q4_K:
		t = quant.Q5_0
	case quant.Q5_K:
		t = quant.Q5_1
	case quant.Q6_K:
		t = quant.Q8_0
	}
	if ne0%uint64(t.BlockSize()) == 0 {
		return t
	}
	return quant.F16
}
