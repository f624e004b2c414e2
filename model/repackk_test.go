package model_test

import (
	"context"
	"math"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
	"github.com/cogedge/cogedge/tools/convert/converter"
)

// TestRepackDecodeK is TestRepackDecode for the K-quant mix most people
// download: the synthetic tiny shape (hidden 256, so rows hold whole
// super-blocks) converted with the q4_k_m preset, whose language matrices
// are Q4_K and Q6_K. Its decode steps run in the file layout
// (COGEDGE_NO_REPACK=1), with the default load-time repacking (assembly
// builds with AVX2 on amd64 must pack every Q4_K matrix, with SDOT on
// arm64 every Q4_K and Q6_K one) and with
// repacking forced (every Q4_K and Q6_K matrix, through the generic packed
// kernels where there is no assembly one); the logits must agree to
// float32 rounding (at most 1e-4 of the largest |logit|).
func TestRepackDecodeK(t *testing.T) {
	path := filepath.Join(t.TempDir(), "synthetic-tiny-q4_k_m.gguf")
	if err := converter.Synthetic(context.Background(), "tiny", path, quant.Q4_K, converter.Options{Preset: "q4_k_m", Threads: 2, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	open := func(noRepack string, force bool) *model.Model {
		t.Helper()
		t.Setenv("COGEDGE_NO_REPACK", noRepack)
		defer model.SetForceRepack(model.SetForceRepack(force))
		m, err := model.Open(path, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	}
	plain := open("1", true)
	byDefault := open("", false)
	forced := open("", true)
	count := map[quant.Type]int{}
	for _, w := range forced.LanguageWeights() {
		count[w.Type]++
	}
	if count[quant.Q4_K] == 0 || count[quant.Q6_K] == 0 {
		t.Fatalf("language matrices by type %v: want Q4_K and Q6_K ones", count)
	}
	wantDefault := 0
	for _, typ := range []quant.Type{quant.Q4_K, quant.Q6_K} {
		if kernels.PackedFast(typ) {
			wantDefault += count[typ]
		}
	}
	act := kernels.Active()
	fast := !puregoBuild && (runtime.GOARCH == "amd64" && act.AVX2 || runtime.GOARCH == "arm64" && act.DotProd)
	for _, typ := range []quant.Type{quant.Q4_K, quant.Q6_K} {
		want := fast && !(typ == quant.Q6_K && runtime.GOARCH == "amd64") // not by default there (kernels)
		if kernels.PackedFast(typ) != want {
			t.Fatalf("kernels.PackedFast(%v) = %v on %s (purego %v, features %+v), want %v", typ, kernels.PackedFast(typ), runtime.GOARCH, puregoBuild, act, want)
		}
	}
	for _, c := range []struct {
		name string
		m    *model.Model
		want int
	}{{"COGEDGE_NO_REPACK=1", plain, 0}, {"default", byDefault, wantDefault}, {"forced", forced, count[quant.Q4_K] + count[quant.Q6_K]}} {
		if n := c.m.PackedMatrices(); n != c.want {
			t.Fatalf("%s: %d language matrices packed, want %d (types %v)", c.name, n, c.want, count)
		}
	}
	g := loadGolden(t, "tiny-image-chat")
	a := forcedDecodeLogits(t, plain, g)
	scale := 0.0
	for _, v := range a {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for _, other := range []struct {
		name string
		m    *model.Model
	}{{"default", byDefault}, {"forced", forced}} {
		b := forcedDecodeLogits(t, other.m, g)
		for i := range a {
			if d := math.Abs(float64(a[i]) - float64(b[i])); !(d <= 1e-4*scale) {
				t.Fatalf("%s: logit %d: packed %g, unpacked %g (max |logit| %g)", other.name, i, b[i], a[i], scale)
			}
		}
	}
}
