package neon

import "golang.org/x/sys/cpu"

// Features are the CPU features the kernels may use, captured once at start-up
// from golang.org/x/sys/cpu. Tests (and callers that want a slower tier) may
// switch them off; switching on a feature the CPU lacks makes the kernels
// execute instructions it does not have (SIGILL). They are false on other
// architectures, where the generic code always runs.
var Features struct {
	ASIMD   bool // Advanced SIMD (every arm64 core): the SMULL/SADALP tier
	DotProd bool // FEAT_DotProd (SDOT): Cortex-A76 and later, Apple M1+
	I8MM    bool // FEAT_I8MM (SMMLA): the Dot2x2 tiles; Apple M2+, Graviton3
}

func init() {
	Features.ASIMD = cpu.ARM64.HasASIMD
	Features.DotProd = cpu.ARM64.HasASIMDDP
	Features.I8MM = cpu.ARM64.HasI8MM
}
