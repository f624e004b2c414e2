package neon

import (
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// TestFeaturesUnderQEMU checks detection against the CPU model qemu-user
// emulates (scripts/test.sh sets QEMU_CPU): a wrong detection would either
// leave speed on the table or, worse, reach SDOT/SMMLA on a core without them.
func TestFeaturesUnderQEMU(t *testing.T) {
	cpuModel := os.Getenv("QEMU_CPU")
	if runtime.GOARCH != "arm64" || cpuModel == "" {
		t.Skipf("not arm64 under qemu with QEMU_CPU set (GOARCH=%s, QEMU_CPU=%q); Features = %+v", runtime.GOARCH, cpuModel, Features)
	}
	want := map[string][3]bool{ // ASIMD, DotProd, I8MM (testing.md §1.2)
		"max":         {true, true, true},
		"neoverse-n1": {true, true, false},
		"cortex-a76":  {true, true, false},
		"cortex-a72":  {true, false, false},
		"cortex-a53":  {true, false, false},
		"cortex-a57":  {true, false, false},
		"cortex-a35":  {true, false, false},
	}
	w, ok := want[cpuModel]
	if !ok {
		t.Skipf("no expectation for QEMU_CPU=%s", cpuModel)
	}
	got := [3]bool{Features.ASIMD, Features.DotProd, Features.I8MM}
	if got != w {
		t.Fatalf("QEMU_CPU=%s: Features (ASIMD, DotProd, I8MM) = %v, want %v", cpuModel, got, w)
	}
}

// TestDefaultDispatch calls every exported kernel with the detected Features.
// On a core without dotprod (qemu -cpu cortex-a72) reaching an SDOT or SMMLA
// path would kill the test binary with SIGILL, so passing there proves the
// dispatch stays on the NEON tier.
func TestDefaultDispatch(t *testing.T) {
	t.Logf("GOARCH=%s Features=%+v", runtime.GOARCH, Features)
	r := rand.New(rand.NewPCG(6, 0))
	for _, k := range kernelsUnderTest {
		for _, nb := range []int{1, 5, 8} {
			w := randBlocks(r, k.wt, nb, false)
			x := randBlocks(r, k.xt, nb, false)
			if got, want := k.fn(w, x, nb), k.generic(w, x, nb); !sameFloat(got, want) {
				t.Errorf("%s nb=%d: %g, generic %g", k.name, nb, got, want)
			}
		}
	}
	var out [4]float32
	w := randBlocks(r, quant.Q4_0, 5, false)
	x := randBlocks(r, quant.Q8_0, 5, false)
	Dot2x2Q4_0Q8_0(&out, w, w, x, x, 5)
	w8 := randBlocks(r, quant.Q8_0, 5, false)
	Dot2x2Q8_0Q8_0(&out, w8, w8, x, x, 5)
	dst := make([]byte, 5*sizeQ8_0)
	QuantizeQ8_0(dst, randActivations(r, 5))
}
