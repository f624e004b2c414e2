package model_test

import (
	"math"
	"os"
	"runtime"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/kernels/metal"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
)

// openDevice opens the named device for a test, closed at its end, or
// skips saying why: the GPU exists on darwin only, the simulator in Linux
// builds with clang (CI sets COGEDGE_REQUIRE_SIM, which turns its absence
// into a failure).
func openDevice(t *testing.T, backend string) metal.Device {
	t.Helper()
	switch {
	case backend == "metal" && runtime.GOOS != "darwin":
		t.Skip("the Metal GPU tests run on darwin only (a Mac with Apple silicon); nothing here to run them on")
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
	t.Cleanup(func() { dev.Close() })
	return dev
}

// TestDeviceZeroCopy: a device context holds the weights as views of the
// GGUF mapping, so the device memory it allocates is the KV cache and the
// activation scratch (bounded here from the model's shape), far less than
// the weights, also after a forward call (which adds the quantized
// activations' scratch). Q8_0 weights, so copies could not hide in F32
// vectors either.
func TestDeviceZeroCopy(t *testing.T) {
	for _, backend := range []string{"metal-sim", "metal"} {
		t.Run(backend, func(t *testing.T) {
			dev := openDevice(t, backend)
			path := tinyGGUF(t, quant.Q8_0)
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			weights := 0
			for _, ti := range f.Tensors {
				weights += int(ti.Size)
			}
			f.Close()
			m, err := model.Open(path, "")
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			c := m.Text
			const size, batch = 128, 4
			ff := c.FFN
			if m.Vision != nil {
				ff = max(ff, 4*c.Hidden) // the vision expert's MLP may be wider
			}
			kv := 2 * c.Layers * size * c.HeadsKV * c.HeadDim * 4
			acts := 4 * batch * (5*c.Hidden + 2*ff + c.Vocab + 2)
			scratch := max(64<<10, batch*c.Hidden/32*34) // Q8_0 activations
			before := dev.Allocated()
			d, err := m.NewDeviceContext(dev, model.ContextOptions{Size: size, Batch: batch})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			atLoad := dev.Allocated() - before
			ids := []int32{1, 5, 9, 3}
			logits := make([]float32, c.Vocab)
			if err := d.Forward(model.Batch{Tokens: ids}, model.Output{Logits: logits}); err != nil {
				t.Fatal(err)
			}
			afterForward := dev.Allocated() - before
			t.Logf("weights %d bytes; device memory allocated: %d at load (KV %d + activations ≤ %d), %d after a forward (scratch ≤ %d)",
				weights, atLoad, kv, acts, afterForward, scratch)
			if kv+acts+scratch >= weights/2 {
				t.Fatalf("the bound %d is not small beside the weights (%d bytes): the test would not see a copy", kv+acts+scratch, weights)
			}
			if atLoad < kv || atLoad > kv+acts {
				t.Errorf("allocated %d bytes at load, want the KV cache %d plus at most %d of activations", atLoad, kv, acts)
			}
			if afterForward > kv+acts+scratch {
				t.Errorf("allocated %d bytes after a forward, more than KV %d + activations %d + scratch %d", afterForward, kv, acts, scratch)
			}
		})
	}
}

// TestDeviceGoldens runs the reference cases through the Metal backend's
// decoder (DeviceContext: host code plus shaders) on the simulated device
// (Linux) and on the real GPU (darwin; skipped elsewhere). The vision tower
// runs on the CPU. Bars: F32 weights max |Δ logits| ≤ 2e-3 and the same
// argmax at every position; Q8_0 weights RMS error ≤ 5 % of the logits'
// std.
func TestDeviceGoldens(t *testing.T) {
	for _, backend := range []string{"metal-sim", "metal"} {
		t.Run(backend, func(t *testing.T) {
			dev := openDevice(t, backend)
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
