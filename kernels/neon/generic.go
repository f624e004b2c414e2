package neon

import "github.com/cogedge/cogedge/kernels/ref"

// Block sizes in bytes of the formats the kernels read.
const (
	sizeQ4_0   = ref.SizeQ4_0
	sizeQ4_1   = ref.SizeQ4_1
	sizeQ5_0   = ref.SizeQ5_0
	sizeQ5_1   = ref.SizeQ5_1
	sizeQ8_0   = ref.SizeQ8_0
	sizeQ8_1   = ref.SizeQ8_1
	sizeIQ4_NL = ref.SizeIQ4_NL
	sizeQ4_K   = ref.SizeQ4_K
	sizeQ5_K   = ref.SizeQ5_K
	sizeQ6_K   = ref.SizeQ6_K
	sizeQ8_K   = ref.SizeQ8_K
)

// The generic twins are the one reference (kernels/ref), whose float
// accumulation order the assembly follows: every tier matches it bit for bit.
var (
	dotQ4_0Q8_0Generic   = ref.DotQ4_0Q8_0
	dotQ4_1Q8_1Generic   = ref.DotQ4_1Q8_1
	dotQ5_0Q8_0Generic   = ref.DotQ5_0Q8_0
	dotQ5_1Q8_1Generic   = ref.DotQ5_1Q8_1
	dotQ8_0Q8_0Generic   = ref.DotQ8_0Q8_0
	dotIQ4_NLQ8_0Generic = ref.DotIQ4_NLQ8_0
	dotQ4_KQ8_KGeneric   = ref.DotQ4_KQ8_K
	dotQ5_KQ8_KGeneric   = ref.DotQ5_KQ8_K
	dotQ6_KQ8_KGeneric   = ref.DotQ6_KQ8_K
	quantizeQ8_0Generic  = ref.QuantizeQ8_0
)

// dot2x2Generic computes the tile from four single dots; the single-dot
// definition makes this exactly what the SMMLA kernel computes.
func dot2x2Generic(out *[4]float32, dot func(w, x []byte, nb int) float32, w0, w1, x0, x1 []byte, nb int) {
	out[0] = dot(w0, x0, nb)
	out[1] = dot(w1, x0, nb)
	out[2] = dot(w0, x1, nb)
	out[3] = dot(w1, x1, nb)
}
