package converter

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cogedge/cogedge/gguf"
)

// buildConverter builds the convert command into a temporary folder.
func buildConverter(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the converter binary")
	}
	bin := filepath.Join(t.TempDir(), "convert")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/cogedge/cogedge/tools/convert")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// temps lists the temporary files of out.
func temps(out string) []string {
	m, _ := filepath.Glob(globEscape(tempPrefix(out)) + "*")
	return m
}

// TestKillNeverLeavesPartialOutput SIGKILLs the converter at random points
// (fixed seeds) of a run: the destination must either not exist or be a
// complete file; the temporary file a killed run leaves is removed by the
// next run to the same destination. SIGINT must end the run cleanly with
// nothing left at all.
func TestKillNeverLeavesPartialOutput(t *testing.T) {
	bin := buildConverter(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "m.gguf")
	args := []string{"--synthetic", "tiny", "-t", "q8_0", "-o", out, "--threads", "1"}

	// Calibrate: how long a full run takes here.
	start := time.Now()
	if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("calibration run: %v\n%s", err, b)
	}
	full := time.Since(start)
	want := fileSHA(t, out)
	os.Remove(out)

	for seed := uint64(1); seed <= 3; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill at a random point after the temporary file appears: while
		// tensors are written, during the sync and rename, or after.
		waitForTemp(out, 0)
		delay := time.Duration(r.Int64N(int64(full) / 2))
		time.Sleep(delay)
		cmd.Process.Kill()
		cmd.Wait()
		if _, statErr := os.Stat(out); statErr == nil {
			// Only a run that got as far as the rename leaves the file, and then it is whole.
			if fileSHA(t, out) != want {
				t.Fatalf("seed %d: killed after %v: partial file at the destination", seed, delay)
			}
			os.Remove(out)
		}
		t.Logf("seed %d: killed after %v of ~%v; temporaries left: %d", seed, delay.Round(time.Millisecond), full.Round(time.Millisecond), len(temps(out)))
		stale := temps(out)
		// The next run cleans up after the killed one.
		if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("seed %d: run after kill: %v\n%s", seed, err, b)
		}
		if fileSHA(t, out) != want {
			t.Fatalf("seed %d: run after kill wrote different bytes", seed)
		}
		for _, s := range stale {
			if _, err := os.Stat(s); err == nil {
				t.Errorf("seed %d: stale temporary %s not removed by the next run", seed, filepath.Base(s))
			}
		}
		os.Remove(out)
	}

	// SIGINT while the temporary file is being written.
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForTemp(out, 1<<20)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("after SIGINT: %v (stderr %q), want exit status 130", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr %q does not say it was interrupted", stderr.String())
	}
	assertNoOutput(t, out)
}

// waitForTemp waits (up to 30 s) until a temporary file of out holds more
// than size bytes.
func waitForTemp(out string, size int64) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if ts := temps(out); len(ts) > 0 {
			if st, err := os.Stat(ts[0]); err == nil && st.Size() >= size {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPeakMemoryBigCheckpoint converts a ~4 GB bf16 checkpoint in a child
// process and checks its peak RSS stays under 1.5 GB. Set COGEDGE_BIG=1
// (needs ~10 GB of free disk and a few minutes).
func TestPeakMemoryBigCheckpoint(t *testing.T) {
	if os.Getenv("COGEDGE_BIG") == "" {
		t.Skip("set COGEDGE_BIG=1 to write and convert a 4 GB checkpoint")
	}
	bin := buildConverter(t)
	dir := t.TempDir()
	cfg := &Config{
		Architectures: []string{Architecture}, VocabSize: 32000, HiddenSize: 2048, IntermediateSize: 5632,
		NumHiddenLayers: 16, NumAttentionHeads: 16, MaxPositionEmbeddings: 2048, RMSNormEps: 1e-5,
		RopeTheta: 10000, TemplateVersion: "chat", BOSTokenID: 1, EOSTokenIDs: TokenIDs{2},
		Vision: VisionConfig{HiddenSize: 1024, ImageSize: 224, InChannels: 3, IntermediateSize: 4096,
			LayerNormEps: 1e-6, NumHeads: 16, NumHiddenLayers: 12, PatchSize: 14},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "hf")
	start := time.Now()
	writeHF(t, in, cfg, 4, hfEdit{fill: func(name string, i int64, kind Kind) float32 {
		if kind == Norm {
			return 1
		}
		return float32(int64(i*2654435761)%2001-1000) * 3e-5
	}})
	var size int64
	ents, _ := os.ReadDir(in)
	for _, e := range ents {
		if info, err := e.Info(); err == nil {
			size += info.Size()
		}
	}
	t.Logf("wrote a %.2f GB checkpoint (%d parameters) in %v", float64(size)/1e9, ParamCount(cfg), time.Since(start).Round(time.Second))
	for _, typ := range []string{"q4_k_m", "f32"} {
		out := filepath.Join(dir, typ+".gguf")
		cmd := exec.Command(bin, "-i", in, "-o", out, "-t", typ, "--no-tokenizer")
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", typ, err, b)
		}
		ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if !ok {
			t.Skip("no rusage on this platform")
		}
		peak := int64(ru.Maxrss) * 1024 // KiB on Linux
		st, _ := os.Stat(out)
		t.Logf("-t %s: %.2f GB out in %v, peak RSS %.0f MB", typ, float64(st.Size())/1e9, time.Since(start).Round(time.Millisecond), float64(peak)/1e6)
		if peak > 1500e6 {
			t.Errorf("-t %s: peak RSS %d bytes exceeds 1.5 GB", typ, peak)
		}
		f, err := gguf.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.CheckStrict(); err != nil {
			t.Error(err)
		}
		f.Close()
		os.Remove(out)
	}
}
