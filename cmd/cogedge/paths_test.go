package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// compressTo writes a zstd copy of src at dst.
func compressTo(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, enc.EncodeAll(data, nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A distributed .gguf.zst works wherever a .gguf does, through the cache.
func TestZstdModelFiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("COGEDGE_CACHE", filepath.Join(dir, "cache"))

	zinfo := filepath.Join(dir, "tiny.gguf.zst")
	compressTo(t, tinyGGUF, zinfo)
	code, plain, _ := runInfo("--hash", tinyGGUF)
	if code != 0 {
		t.Fatalf("info on the plain file: status %d", code)
	}
	code, viaZstd, stderr := runInfo("--hash", zinfo)
	if code != 0 {
		t.Fatalf("info on %s: status %d: %s", zinfo, code, stderr)
	}
	if !strings.HasPrefix(viaZstd, "file:       "+zinfo+"\n") {
		t.Errorf("info on the .zst copy should name the file the user gave; got:\n%s", viaZstd)
	}
	_, plain, _ = strings.Cut(plain, "\n")
	_, viaZstd, _ = strings.Cut(viaZstd, "\n")
	if plain != viaZstd {
		t.Errorf("info differs between the file and its .zst copy:\n%s\n---\n%s", plain, viaZstd)
	}

	zmodel := filepath.Join(dir, "cogvlm-tiny.gguf.zst")
	compressTo(t, "../../testdata/cogvlm-tiny.gguf", zmodel)
	args := []string{"run", "--temp", "0", "-n", "4", "-p", "Hello"}
	code, want, stderr := cli(append(args, "-m", "../../testdata/cogvlm-tiny.gguf")...)
	if code != 0 {
		t.Fatalf("run on the plain model: status %d: %s", code, stderr)
	}
	for i := 0; i < 2; i++ { // the second run reuses the cached copy
		code, got, stderr := cli(append(args, "-m", zmodel)...)
		if code != 0 {
			t.Fatalf("run %d on %s: status %d: %s", i, zmodel, code, stderr)
		}
		if got != want {
			t.Errorf("run %d on the .zst model printed %q, want %q", i, got, want)
		}
	}
	cached, err := filepath.Glob(filepath.Join(dir, "cache", "*"))
	if err != nil || len(cached) != 2 {
		t.Errorf("cache folder holds %v (err %v), want one copy per compressed file", cached, err)
	}

	if code, _, stderr := runInfo(filepath.Join(dir, "missing.gguf.zst")); code == 0 || stderr == "" {
		t.Errorf("info on a missing .zst: status %d, stderr %q; want an error", code, stderr)
	}
}
