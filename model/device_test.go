package model_test

import (
	"fmt"
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
			d, err := m.NewDeviceContext(dev, model.ContextOptions{Size: size, Batch: batch, KV: model.KVF32})
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

// TestDeviceGoldens runs the reference cases through the Metal backend
// (DeviceContext: host code plus shaders), the vision tower and adapter
// included, on the simulated device (Linux) and on the real GPU (darwin;
// skipped elsewhere). Bars: the image rows as checkDeviceImage states;
// F32 weights max |Δ logits| ≤ 2e-3 and the same argmax at every
// position, with the f32 and with the f16 KV cache; Q8_0 weights (f16
// cache) RMS error ≤ 5 % of the logits' std.
func TestDeviceGoldens(t *testing.T) {
	for _, backend := range []string{"metal-sim", "metal"} {
		t.Run(backend, func(t *testing.T) {
			dev := openDevice(t, backend)
			for _, cfg := range []struct {
				typ quant.Type
				kv  model.KVType
			}{{quant.F32, model.KVF32}, {quant.F32, model.KVF16}, {quant.Q8_0, model.KVF16}} {
				typ := cfg.typ
				m := openTiny(t, typ)
				V := m.Text.Vocab
				for _, name := range goldenCases {
					g := loadGolden(t, name)
					d, err := m.NewDeviceContext(dev, model.ContextOptions{Size: 128, Batch: 16, KV: cfg.kv})
					if err != nil {
						t.Fatal(err)
					}
					var img []float32
					if g.Image != nil {
						img = make([]float32, m.ImageEmbeds())
						if err := d.EncodeImage(img, g.f32(t, "pixel_values")); err != nil {
							t.Fatal(err)
						}
						checkDeviceImage(t, fmt.Sprintf("%v %s", typ, name), typ, img, g.f32(t, "image_embeds"))
					}
					b := m.PromptBatch(g.TextIDs, img)
					got := make([]float32, len(b.Tokens)*V)
					err = d.Forward(b, model.Output{Logits: got})
					d.Close()
					if err != nil {
						t.Fatal(err)
					}
					want := g.f32(t, "logits")
					rms, std := rmsErr(got, want)
					positions := len(want) / V
					same := 0
					for p := 0; p < positions; p++ {
						if argmax(got[p*V:(p+1)*V]) == argmax(want[p*V:(p+1)*V]) {
							same++
						}
					}
					maxAbs := maxAbsDiff(got, want)
					t.Logf("%v kv-%s %s: max |Δ logits| %.3g, RMS %.3g (%.2f%% of std), same argmax at %d of %d positions", typ, kvName(cfg.kv), name, maxAbs, rms, 100*rms/std, same, positions)
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

// checkDeviceImage holds the device's image rows (ViT, adapter) to the
// reference's: F32 weights max |Δ| ≤ 1e-5 (the CPU path's own bar is
// 5e-6; the device sums in another order and through SIMD-group matrix
// tiles; the simulator measures 3e-9 on the tiny model); Q8_0 weights RMS error ≤ 5 %
// of the rows' std (the weights' quantization dominates).
func checkDeviceImage(t *testing.T, what string, typ quant.Type, got, want []float32) {
	t.Helper()
	rms, std := rmsErr(got, want)
	maxAbs := maxAbsDiff(got, want)
	t.Logf("%s image rows on the device: max |Δ| %.3g, RMS %.3g (%.2f%% of std)", what, maxAbs, rms, 100*rms/std)
	switch typ {
	case quant.F32:
		if !(maxAbs <= 1e-5) {
			t.Errorf("%s image rows: max |Δ| %.3g > 1e-5", what, maxAbs)
		}
	default:
		if !(rms <= 0.05*std) {
			t.Errorf("%s image rows: RMS error %.3g > 5%% of std %.3g", what, rms, std)
		}
	}
}

// rmsErr returns the RMS of got−want and the standard deviation of want.
func rmsErr(got, want []float32) (rms, std float64) {
	var se, sum, sum2 float64
	for i := range want {
		dd := float64(got[i]) - float64(want[i])
		se += dd * dd
		sum += float64(want[i])
		sum2 += float64(want[i]) * float64(want[i])
	}
	n := float64(len(want))
	return math.Sqrt(se / n), math.Sqrt(sum2/n - (sum/n)*(sum/n))
}

func kvName(kv model.KVType) string {
	if kv == model.KVF32 {
		return "f32"
	}
	return "f16"
}

// TestDeviceCogVLM2 runs the tiny CogVLM2's image cases (the odd 5×5 grid
// included) through the Metal backend with the f16 KV cache: the vision
// tower, the 2×2 downsample and the adapter on the device (image rows
// within 1e-5 of the reference, the CPU path's bar), then the decoder with
// the vision-expert QKV bias, the stored RoPE frequencies and GQA: the
// final hidden state of every position within 3e-3 and the last
// position's logits within 1e-3 where the dump keeps them (the CPU path's
// f16-cache bars), the same argmax, and for the first case two greedy
// tokens. (The text-only case adds no op; the simulator's 128k-row logits
// are slow, so it is left to the CPU tests.)
func TestDeviceCogVLM2(t *testing.T) {
	for _, backend := range []string{"metal-sim", "metal"} {
		t.Run(backend, func(t *testing.T) {
			dev := openDevice(t, backend)
			for i, name := range golden2Cases[:2] {
				m := openTiny2(t, quant.F32, name == oddGridCase)
				g := loadGoldenIn(t, golden2Root, name)
				d, err := m.NewDeviceContext(dev, model.ContextOptions{Size: 64, Batch: 8})
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				var img []float32
				if g.Image != nil {
					img = make([]float32, m.ImageEmbeds())
					if err := d.EncodeImage(img, g.f32(t, "pixel_values")); err != nil {
						t.Fatal(err)
					}
					checkDeviceImage(t, name, quant.F32, img, g.f32(t, "image_embeds"))
				}
				b := m.PromptBatch(g.TextIDs, img)
				L, V, H := len(b.Tokens), m.Text.Vocab, m.Text.Hidden
				hidden := make([]float32, L*H)
				logits := make([]float32, V)
				if err := d.Forward(b, model.Output{Hidden: hidden, Logits: logits}); err != nil {
					t.Fatal(err)
				}
				dh := maxAbsDiff(hidden, g.f32(t, "final_hidden"))
				if !(dh <= 3e-3) {
					t.Errorf("%s: final hidden max |Δ| %.3g > 3e-3", name, dh)
				}
				if a, want := argmax(logits), g.i32(t, "logits_argmax")[L-1]; int32(a) != want {
					t.Errorf("%s: last position's argmax %d, reference %d", name, a, want)
				}
				dl := -1.0
				for i, p := range g.LogitsRows {
					if p == L-1 {
						dl = maxAbsDiff(logits, g.f32(t, "logits_rows")[i*V:(i+1)*V])
						if !(dl <= 1e-3) {
							t.Errorf("%s: last position's logits max |Δ| %.3g > 1e-3", name, dl)
						}
					}
				}
				var toks []int32
				if i == 0 {
					if toks, err = d.Generate(logits, model.GenerateOptions{MaxTokens: 2, Sampler: greedy{}}); err != nil {
						t.Fatal(err)
					}
					if !equalIDs(toks, g.Generated[:2]) {
						t.Errorf("%s: greedy tokens %v, reference %v", name, toks, g.Generated[:2])
					}
				}
				t.Logf("%s on %s: final hidden max |Δ| %.3g, last logits max |Δ| %.3g (-1: row not kept), tokens %v", name, backend, dh, dl, toks)
			}
		})
	}
}
