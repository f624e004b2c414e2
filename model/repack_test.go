package model_test

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
)

// forcedDecodeLogits prefills g's prompt (image included), then feeds the
// reference's greedy tokens one at a time (teacher forcing) and returns
// the logits after each (len(g.Generated) × Vocab): row s predicts
// g.Generated[s+1], as row s+1 of the reference's decode_logits does. Every
// step after the prompt is the n = 1 path that reads packed matrices.
func forcedDecodeLogits(t *testing.T, m *model.Model, g *golden) []float32 {
	t.Helper()
	c, err := m.NewContext(model.ContextOptions{Size: 128, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var img []float32
	if g.Image != nil {
		img = make([]float32, m.ImageEmbeds())
		if err := c.EncodeImage(img, g.f32(t, "pixel_values")); err != nil {
			t.Fatal(err)
		}
	}
	V := m.Text.Vocab
	logits := make([]float32, V)
	if err := c.Forward(m.PromptBatch(g.TextIDs, img), model.Output{Logits: logits}); err != nil {
		t.Fatal(err)
	}
	var out []float32
	for _, tok := range g.Generated {
		if err := c.Forward(model.Batch{Tokens: []int32{tok}}, model.Output{Logits: logits}); err != nil {
			t.Fatal(err)
		}
		out = append(out, logits...)
	}
	return out
}

// TestRepackDecode runs the Q4_0 tiny model's decode steps three ways: in
// the file layout (COGEDGE_NO_REPACK=1), with the default load-time
// repacking, and with repacking forced (model.SetForceRepack), which runs
// the packed layout through the generic packed kernel where the CPU has no
// assembly one (arm64, -tags purego, amd64 without AVX2). It asserts which
// matrices were packed (on amd64 assembly builds with AVX2 the default load
// must pack every language matrix), that packed and unpacked logits agree
// to float32 rounding (the packed kernels sum each block exactly in int32,
// the unpacked ones add per-lane float partial sums: at most 1e-4 of the
// largest |logit|), and that all of them stay within Q4_0's error of the
// PyTorch reference's decode logits (F32 weights).
func TestRepackDecode(t *testing.T) {
	path := tinyGGUF(t, quant.Q4_0)
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
	plain := open("1", true) // COGEDGE_NO_REPACK wins over forcing
	byDefault := open("", false)
	forced := open("", true)
	all := len(forced.LanguageWeights())
	// amd64 with AVX2 and arm64 with the dot product (Pi 5, Orin, Apple
	// M-series; qemu -cpu max and neoverse-n1) repack; the plain NEON tier
	// (cortex-a72) and purego builds do not
	f := kernels.Active()
	fast := !puregoBuild && (runtime.GOARCH == "amd64" && f.AVX2 || runtime.GOARCH == "arm64" && f.DotProd)
	if kernels.PackedFast(quant.Q4_0) != fast {
		t.Fatalf("kernels.PackedFast(Q4_0) = %v on %s (purego %v, features %+v), want %v",
			kernels.PackedFast(quant.Q4_0), runtime.GOARCH, puregoBuild, f, fast)
	}
	wantDefault := 0
	if fast {
		wantDefault = all
	}
	for _, c := range []struct {
		name string
		m    *model.Model
		want int
	}{{"COGEDGE_NO_REPACK=1", plain, 0}, {"default", byDefault, wantDefault}, {"forced", forced, all}} {
		if n := c.m.PackedMatrices(); n != c.want || all == 0 {
			t.Fatalf("%s: %d of %d language matrices packed, want %d", c.name, n, all, c.want)
		}
	}
	for _, name := range goldenCases {
		g := loadGolden(t, name)
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
					t.Fatalf("%s: %s: logit %d: packed %g, unpacked %g (max |logit| %g)", name, other.name, i, b[i], a[i], scale)
				}
			}
			if g.has("decode_logits") {
				V := other.m.Text.Vocab
				ref := g.f32(t, "decode_logits")[V:] // row 0 is the prompt's last position
				checkQ4_0Decode(t, name+"/"+other.name, b[:len(ref)], ref, V)
			}
		}
	}
}

// checkQ4_0Decode holds Q4_0 decode logits to the F32 reference: RMS error
// at most 30% of the reference's standard deviation (measured 19%: Q4_0 on
// 64- and 128-wide rows; unrelated logits of the same spread give 141%,
// all-zero ones 100%) and the same argmax at half of the steps or more
// (measured 10 of 15; the median top-two margin is 0.03).
func checkQ4_0Decode(t *testing.T, what string, got, ref []float32, V int) {
	t.Helper()
	var se, sum, sum2 float64
	for i := range ref {
		d := float64(got[i]) - float64(ref[i])
		se += d * d
		sum += float64(ref[i])
		sum2 += float64(ref[i]) * float64(ref[i])
	}
	n := float64(len(ref))
	rms, std := math.Sqrt(se/n), math.Sqrt(sum2/n-(sum/n)*(sum/n))
	steps, same := len(ref)/V, 0
	for s := 0; s < steps; s++ {
		if argmax(got[s*V:(s+1)*V]) == argmax(ref[s*V:(s+1)*V]) {
			same++
		}
	}
	if !(rms <= 0.3*std) || 2*same < steps {
		t.Errorf("%s: decode logits vs reference: RMS %.3g (%.1f%% of std %.3g), same argmax at %d of %d steps",
			what, rms, 100*rms/std, std, same, steps)
	}
}

// TestPackedFile loads the Q4_0 tiny model with its packed matrices kept in
// a file (LoadOptions.PackedFile): the decode logits must equal those of
// the anonymous-memory repack bit for bit (same bytes, same kernels); a
// second load reuses the file unchanged; a file made from another version
// of the model (other modification time) or a damaged one is rewritten.
func TestPackedFile(t *testing.T) {
	defer model.SetForceRepack(model.SetForceRepack(true))
	path := tinyGGUF(t, quant.Q4_0)
	anon, err := model.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	g := loadGolden(t, goldenCases[0])
	want := forcedDecodeLogits(t, anon, g)

	pf := filepath.Join(t.TempDir(), "tiny.packed.gguf")
	load := func(what string) os.FileInfo {
		t.Helper()
		m, err := model.OpenWith(path, "", model.LoadOptions{PackedFile: pf})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		defer m.Close()
		if n, all := m.PackedMatrices(), len(m.LanguageWeights()); n != all {
			t.Fatalf("%s: %d of %d matrices packed", what, n, all)
		}
		if got := forcedDecodeLogits(t, m, g); !slices.Equal(got, want) {
			t.Fatalf("%s: decode logits differ from the anonymous repack", what)
		}
		st, err := os.Stat(pf)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return st
	}
	first := load("first load")
	time.Sleep(10 * time.Millisecond) // a rewrite would get a later mtime
	if again := load("second load"); !again.ModTime().Equal(first.ModTime()) {
		t.Errorf("second load rewrote the packed file (mtime %v, was %v)", again.ModTime(), first.ModTime())
	}
	later := first.ModTime().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if st := load("after the model changed"); st.ModTime().Equal(first.ModTime()) {
		t.Errorf("packed file of an older model file was reused")
	}
	if err := os.Truncate(pf, 1000); err != nil {
		t.Fatal(err)
	}
	if st := load("after damage"); st.Size() == 1000 {
		t.Errorf("damaged packed file was not rewritten")
	}
}

// TestFusedGateUp: with the Q4_0 tiny model repacked, every layer's gate
// and up matrices are joined into one packed matrix (their packed copies
// share one allocation), and decode through the joined matrix gives the
// same logits bit for bit as the two matrices multiplied separately (the
// same rows, kernels and activation quantization).
func TestFusedGateUp(t *testing.T) {
	defer model.SetForceRepack(model.SetForceRepack(true))
	m, err := model.Open(tinyGGUF(t, quant.Q4_0), "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if n := m.FusedGateUps(); n != m.Text.Layers || m.Text.FFN%8 != 0 {
		t.Fatalf("%d of %d layers join gate and up (FFN %d)", n, m.Text.Layers, m.Text.FFN)
	}
	g := loadGolden(t, goldenCases[0])
	fused := forcedDecodeLogits(t, m, g)
	m.UnfuseGateUp()
	if m.FusedGateUps() != 0 {
		t.Fatal("UnfuseGateUp left a joined matrix")
	}
	if apart := forcedDecodeLogits(t, m, g); !slices.Equal(fused, apart) {
		t.Fatal("decode logits through the joined gate/up matrix differ from the separate ones")
	}
}
