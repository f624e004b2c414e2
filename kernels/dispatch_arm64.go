//go:build !purego

package kernels

import (
	"github.com/cogedge/cogedge/kernels/neon"
	"github.com/cogedge/cogedge/quant"
)

// archImpl installs the kernels/neon dots when the CPU has Advanced SIMD,
// and passes the active feature tier (dotprod, i8mm) on to kernels/neon,
// which picks its instruction sequences from neon.Features.
func archImpl(t *table, f Features) {
	neon.Features.ASIMD = f.ASIMD
	neon.Features.DotProd = f.DotProd
	neon.Features.I8MM = f.I8MM
	packedKNEON(t, f)
	if !f.ASIMD {
		return
	}
	movesNEON.install(t)
	packedSDOT(t, f)
	gemmSDOT(t, f)
	t.qdot[quant.Q4_0] = neon.DotQ4_0Q8_0
	t.qdot[quant.Q4_1] = neon.DotQ4_1Q8_1
	t.qdot[quant.Q5_0] = neon.DotQ5_0Q8_0
	t.qdot[quant.Q5_1] = neon.DotQ5_1Q8_1
	t.qdot[quant.Q8_0] = neon.DotQ8_0Q8_0
	t.qdot[quant.IQ4_NL] = neon.DotIQ4_NLQ8_0
	t.qdot[quant.Q4_K] = neon.DotQ4_KQ8_K
	t.qdot[quant.Q5_K] = neon.DotQ5_KQ8_K
	t.qdot[quant.Q6_K] = neon.DotQ6_KQ8_K
	t.quantQ8_0 = neon.QuantizeQ8_0
	actPackNEON(t)
	neonOps(t)
}
