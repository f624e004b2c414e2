package kernels

import (
	"runtime"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// TestTiers names every assembly tier of both architectures as a subtest,
// so that a test run's record says which tiers this machine exercised (the
// other kernel tests loop over Implementations(), which lists only the
// tiers present) and which it could not: those skip, with the reason, and
// scripts/skipcheck fails CI on any skip its allowlist does not justify. A
// tier that is present must be the one dispatch then uses.
func TestTiers(t *testing.T) {
	present := map[string]Features{}
	for _, im := range Implementations() {
		present[im.Name] = im.Features
	}
	// bf16 attention rides on the avx512vnni tier where the CPU has it
	if f, ok := present["avx512vnni"]; ok && f.AVX512BF16 {
		present["avx512bf16"] = f
	}
	for _, tier := range []struct{ name, arch, needs string }{
		{"avx2", "amd64", "AVX2, FMA and F16C"},
		{"avxvnni", "amd64", "AVX-VNNI"},
		{"avx512vnni", "amd64", "AVX-512 F/BW/VL/VNNI"},
		{"avx512bf16", "amd64", "AVX-512 BF16"},
		{"neon", "arm64", "ASIMD"},
		{"dotprod", "arm64", "ASIMD dot product"},
		{"i8mm", "arm64", "I8MM"},
	} {
		t.Run(tier.name, func(t *testing.T) {
			switch f, ok := present[tier.name]; {
			case runtime.GOARCH != tier.arch:
				t.Skipf("%s tier on %s", tier.arch, runtime.GOARCH)
			case !asmBuild:
				t.Skip("build without assembly (purego)")
			case !ok:
				t.Skipf("CPU lacks %s (detected %+v)", tier.needs, Detected())
			default:
				prev := SetFeatures(f)
				defer SetFeatures(prev)
				if Active() != f {
					t.Fatalf("SetFeatures(%+v) left %+v active", f, Active())
				}
				// the bf16 attention kernels come with AVX-512 BF16 only
				if (impl.attnBF16 != nil) != f.AVX512BF16 {
					t.Errorf("%s active: bf16 attention installed = %v", tier.name, impl.attnBF16 != nil)
				}
				// the packed decode path is assembly on every amd64 tier and
				// on arm64 from dotprod up; the plain NEON tier keeps the
				// file layout
				// (Q4_0, and the K-quants of a Q4_K_M file)
				wantPacked := runtime.GOARCH == "amd64" || tier.name != "neon"
				// (Q6_K is not repacked by default on amd64: repackk_amd64.go)
				for _, wt := range []quant.Type{quant.Q4_0, quant.Q4_K, quant.Q6_K} {
					want := wantPacked && !(wt == quant.Q6_K && runtime.GOARCH == "amd64")
					if PackedFast(wt) != want {
						t.Errorf("%s active: PackedFast(%v) = %v, want %v", tier.name, wt, PackedFast(wt), want)
					}
				}
				// arm64 prefill: the SDOT GEMM from dotprod up, the row
				// dots of kernels/neon on the plain NEON tier
				if runtime.GOARCH == "arm64" && (impl.gemm[quant.Q4_0] != nil) != (tier.name != "neon") {
					t.Errorf("%s active: GEMM installed = %v", tier.name, impl.gemm[quant.Q4_0] != nil)
				}
				// Q8_0 and Q8_K activations go into the GEMM/GEMV slots
				// through assembly on every tier (actpack.go)
				if !impl.packQ8_0Fast || !impl.packQ8_KFast {
					t.Errorf("%s active: quantize-and-pack assembly Q8_0 %v, Q8_K %v", tier.name, impl.packQ8_0Fast, impl.packQ8_KFast)
				}
				// Q8_0 and IQ4_NL have packed kernels on arm64 only
				for _, wt := range []quant.Type{quant.Q8_0, quant.IQ4_NL} {
					want := runtime.GOARCH == "arm64" && tier.name != "neon"
					if PackedFast(wt) != want {
						t.Errorf("%s active: PackedFast(%v) = %v, want %v", tier.name, wt, PackedFast(wt), want)
					}
				}
			}
		})
	}
}
