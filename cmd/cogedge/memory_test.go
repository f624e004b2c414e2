package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/internal/memstat"
	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/quant"
	"github.com/cogedge/cogedge/tools/convert/converter"
)

// tinyQ4_0 converts the tiny checkpoint to Q4_0 (the type whose language
// matrices are repacked) with the reference tokenizer.
func tinyQ4_0(t *testing.T) string {
	t.Helper()
	tok := filepath.Join(filepath.Dir(tinyF32(t)), "tokenizer.json") // written beside it
	out := filepath.Join(t.TempDir(), "tiny-q4_0.gguf")
	err := converter.Convert(context.Background(), converter.Options{Input: tinyHF, Output: out, Type: quant.Q4_0, Tokenizer: tok, Pure: true, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRunMemoryReport answers an image question with --verbose and the
// repacked language path in a file: the per-phase memory lines and the
// memory plan are printed, and the packed file is left in the cache folder
// for the next run, which must give the same answer from it.
func TestRunMemoryReport(t *testing.T) {
	path := tinyQ4_0(t)
	cache := t.TempDir()
	t.Setenv("COGEDGE_CACHE", cache)
	args := []string{"run", "-m", path, "--image", chelsea, "-p", "What is in the image?", "-n", "8", "-t", "2",
		"--verbose", "--repack", "file", "--mlock", "--cache-dir", t.TempDir()}
	code, first, stderr := cli(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"memory: load", "repacked (file)", "memory plan: KV cache", "memory budget:",
		"memory: image encode", "memory: image prefill", "memory: prefill", "memory: decode", "resident", "anon"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("--verbose output lacks %q:\n%s", want, stderr)
		}
	}
	packed, _ := filepath.Glob(filepath.Join(cache, "*.packed.gguf"))
	if kernels.PackedFast(quant.Q4_0) && len(packed) != 1 {
		t.Errorf("packed files in the cache folder: %v, want one", packed)
	}
	code, again, stderr := cli(args...)
	if code != 0 || again != first {
		t.Errorf("second run (packed file reused): exit %d, answer %q, want %q: %s", code, again, first, stderr)
	}
	code, anon, stderr := cli(append(args[:len(args)-5], "--repack", "memory")...)
	if code != 0 || anon != first || !strings.Contains(stderr, "repacked (memory)") {
		t.Errorf("--repack memory: exit %d, answer %q, want %q: %s", code, anon, first, stderr)
	}
}

// TestRunRefusesContextThatCannotFit gives the run a 1 MiB memory budget:
// it must refuse before allocating, naming the sizes and what to lower.
func TestRunRefusesContextThatCannotFit(t *testing.T) {
	defer func(f func() (memstat.Budget, error)) { availableMemory = f }(availableMemory)
	availableMemory = func() (memstat.Budget, error) {
		return memstat.Budget{Available: 1 << 20, Total: 1 << 30, Limit: 1 << 30}, nil
	}
	code, _, stderr := cli("run", "-m", tinyQ8, "-p", "hi", "-n", "-1", "-c", "4096", "--repack", "memory")
	if code == 0 || !strings.Contains(stderr, "not enough memory for a context of 4096 slots") || !strings.Contains(stderr, "lower -c") {
		t.Errorf("exit %d, stderr %q: want a refusal naming the context size", code, stderr)
	}
	// a budget that holds the context but not the file-backed language
	// path beside it: a warning, and the answer
	availableMemory = func() (memstat.Budget, error) {
		return memstat.Budget{Available: 1 << 20, Total: 1 << 30, Limit: 1 << 30}, nil
	}
	code, out, stderr := cli("run", "-m", tinyQ8, "-p", "hi", "-n", "4", "-c", "16", "--kv-type", "f16")
	if code != 0 || out == "" || !strings.Contains(stderr, "decoding will page weights in from the file") {
		t.Errorf("exit %d, answer %q, stderr %q: want an answer and a paging warning", code, out, stderr)
	}
	if _, err := os.Stat(tinyQ8); err != nil {
		t.Fatal(err)
	}
}

func TestRepackFlag(t *testing.T) {
	code, _, stderr := cli("run", "-m", tinyQ8, "-p", "hi", "--repack", "disk")
	if code == 0 || !strings.Contains(stderr, `--repack "disk"`) {
		t.Errorf("exit %d, stderr %q: want a usage error naming --repack", code, stderr)
	}
}
