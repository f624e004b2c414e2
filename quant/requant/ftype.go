package requant

import (
	"fmt"
	"strings"

	"github.com/cogedge/cogedge/quant"
)

// FType is llama.cpp's llama_ftype: the file type written to
// general.file_type (gguf-quant.md §2.1). It names a mix of tensor types.
type FType uint32

// The file types this package can produce (every type they choose has a
// codec in package quant). Numbers are llama.h's and never change.
const (
	AllF32     FType = 0
	MostlyF16  FType = 1
	MostlyQ4_0 FType = 2
	MostlyQ4_1 FType = 3
	MostlyQ8_0 FType = 7
	MostlyQ5_0 FType = 8
	MostlyQ5_1 FType = 9
	// K-quant mixes; _M promotes more tensors to higher precision than _S.
	MostlyQ4_K_S FType = 14
	MostlyQ4_K_M FType = 15
	MostlyQ5_K_S FType = 16
	MostlyQ5_K_M FType = 17
	MostlyQ6_K   FType = 18
	MostlyIQ4_NL FType = 25
	MostlyBF16   FType = 32
)

// ftypeInfo is one preset: its llama-quantize name and default tensor type.
type ftypeInfo struct {
	name string
	base quant.Type
}

var ftypes = map[FType]ftypeInfo{
	AllF32:       {"F32", quant.F32},
	MostlyF16:    {"F16", quant.F16},
	MostlyBF16:   {"BF16", quant.BF16},
	MostlyQ4_0:   {"Q4_0", quant.Q4_0},
	MostlyQ4_1:   {"Q4_1", quant.Q4_1},
	MostlyQ5_0:   {"Q5_0", quant.Q5_0},
	MostlyQ5_1:   {"Q5_1", quant.Q5_1},
	MostlyQ8_0:   {"Q8_0", quant.Q8_0},
	MostlyQ4_K_S: {"Q4_K_S", quant.Q4_K},
	MostlyQ4_K_M: {"Q4_K_M", quant.Q4_K},
	MostlyQ5_K_S: {"Q5_K_S", quant.Q5_K},
	MostlyQ5_K_M: {"Q5_K_M", quant.Q5_K},
	MostlyQ6_K:   {"Q6_K", quant.Q6_K},
	MostlyIQ4_NL: {"IQ4_NL", quant.IQ4_NL},
}

// aliases are llama-quantize's extra spellings.
var aliases = map[string]FType{"Q4_K": MostlyQ4_K_M, "Q5_K": MostlyQ5_K_M}

// String returns llama-quantize's name of f ("Q4_K_M"), or "ftype(N)".
func (f FType) String() string {
	if fi, ok := ftypes[f]; ok {
		return fi.name
	}
	return fmt.Sprintf("ftype(%d)", uint32(f))
}

// Base returns the default tensor type of the mix.
func (f FType) Base() quant.Type { return ftypes[f].base }

// ParseFType reads a type or mix name as llama-quantize does, ignoring case:
// F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K_S, Q4_K_M, Q5_K_S,
// Q5_K_M, Q6_K, IQ4_NL, and the aliases Q4_K (= Q4_K_M) and Q5_K (= Q5_K_M).
func ParseFType(s string) (FType, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if f, ok := aliases[u]; ok {
		return f, nil
	}
	for f, fi := range ftypes {
		if fi.name == u {
			return f, nil
		}
	}
	names := make([]string, 0, len(ftypes)+len(aliases))
	for _, f := range FTypes() {
		names = append(names, f.String())
	}
	return 0, fmt.Errorf("requant: unknown type %q (want one of %s, Q4_K, Q5_K)", s, strings.Join(names, ", "))
}

// FTypes lists the supported mixes in llama.h order.
func FTypes() []FType {
	return []FType{AllF32, MostlyF16, MostlyQ4_0, MostlyQ4_1, MostlyQ8_0, MostlyQ5_0, MostlyQ5_1,
		MostlyQ4_K_S, MostlyQ4_K_M, MostlyQ5_K_S, MostlyQ5_K_M, MostlyQ6_K, MostlyIQ4_NL, MostlyBF16}
}
