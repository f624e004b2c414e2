package model_test

import (
	"math"
	"os"
	"runtime"
	"testing"

	"github.com/cogedge/cogedge/kernels/metal"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
)

// TestDeviceGoldens runs the reference cases through the Metal backend's
// decoder (DeviceContext: host code plus shaders) on the simulated device
// (Linux) and on the real GPU (darwin; skipped elsewhere). The vision tower
// runs on the CPU. Bars: F32 weights max |Δ logits| ≤ 2e-3 and the same
// argmax at every position; Q8_0 weights RMS error ≤ 5 % of the logits'
// std.
func TestDeviceGoldens(t *testing.T) {
	for _, backend := range []string{"metal-sim", "metal"} {
		t.Run(backend, func(t *testing.T) {
			switch {
			case backend == "metal" && runtime.GOOS != "darwin":
				t.Skip("the Metal GPU goldens run on darwin only (a Mac with Apple silicon); nothing here to run them on")
			case backend == "metal-sim" && runtime.GOOS != "linux":
				t.Skip("the simulated device exists in Linux builds only")
			}
			dev, err := metal.OpenNamed(backend)
			if err != nil {
				if os.Getenv("COGEDGE_REQUIRE_SIM") != "" && backend == "metal-sim" {
					t.Fatalf("COGEDGE_REQUIRE_SIM is set: %v", err)
				}
				t.Skipf("%s unavailable: %v", backend, err)
			}
			defer dev.Close()
			for _, typ := range []quant.Type{quant.F32, quant.Q8_0} {
				m := openTiny(t, typ)
				V := m.Text.Vocab
				for _, name := range goldenCases {
					g := loadGolden(t, name)
					var img []float32
					if g.Image != nil {
						c, err := m.NewContext(model.ContextOptions{Size: 8, Threads: 2})
						if err != nil {
							t.Fatal(err)
						}
						img = make([]float32, m.ImageEmbeds())
						err = c.EncodeImage(img, g.f32(t, "pixel_values"))
						c.Close()
						if err != nil {
							t.Fatal(err)
						}
					}
					d, err := m.NewDeviceContext(dev, model.ContextOptions{Size: 128, Batch: 16})
					if err != nil {
						t.Fatal(err)
					}
					b := m.PromptBatch(g.TextIDs, img)
					got := make([]float32, len(b.Tokens)*V)
					err = d.Forward(b, model.Output{Logits: got})
					d.Close()
					if err != nil {
						t.Fatal(err)
					}
					want := g.f32(t, "logits")
					var se, sum, sum2 float64
					for i := range want {
						dd := float64(got[i]) - float64(want[i])
						se += dd * dd
						sum += float64(want[i])
						sum2 += float64(want[i]) * float64(want[i])
					}
					n := float64(len(want))
					rms, std := math.Sqrt(se/n), math.Sqrt(sum2/n-(sum/n)*(sum/n))
					positions := len(want) / V
					same := 0
					for p := 0; p < positions; p++ {
						if argmax(got[p*V:(p+1)*V]) == argmax(want[p*V:(p+1)*V]) {
							same++
						}
					}
					maxAbs := maxAbsDiff(got, want)
					t.Logf("%v %s: max |Δ logits| %.3g, RMS %.3g (%.2f%% of std), same argmax at %d of %d positions", typ, name, maxAbs, rms, 100*rms/std, same, positions)
					switch typ {
					case quant.F32:
						if !(maxAbs <= 2e-3) || same != positions {
							t.Errorf("%v %s: max |Δ| %.3g (bar 2e-3), argmax equal at %d of %d", typ, name, maxAbs, same, positions)
						}
					case quant.Q8_0:
						if !(rms <= 0.05*std) {
							t.Errorf("%v %s: RMS error %.3g > 5%% of std %.3g", typ, name, rms, std)
						}
					}
				}
			}
		})
	}
}
