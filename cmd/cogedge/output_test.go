package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/quant"
	"github.com/klauspost/compress/zstd"
)

// asCogedgeEnv, set to 1, makes the test binary run as cogedge with its
// arguments (see TestMain): for tests that signal a real process.
const asCogedgeEnv = "COGEDGE_TEST_AS_COGEDGE"

// cogedgeProcess starts this test binary as `cogedge args...`.
func cogedgeProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asCogedgeEnv+"=1")
	return cmd
}

func zstdFile(t *testing.T, src, dst string) {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := zstd.NewWriter(nil)
	if err := os.WriteFile(dst, enc.EncodeAll(raw, nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestQuantizeCompressedInPlace: `quantize X.gguf.zst X.gguf.zst` once
// replaced its input; it is refused before anything is decompressed.
func TestQuantizeCompressedInPlace(t *testing.T) {
	dir := t.TempDir()
	zst := filepath.Join(dir, "m.gguf.zst")
	zstdFile(t, quantizeInput(t), zst)
	before, _ := os.ReadFile(zst)
	cache := t.TempDir()
	t.Setenv("COGEDGE_CACHE", cache)
	var so, se bytes.Buffer
	if code := run([]string{"quantize", zst, zst, "q8_0"}, &so, &se); code != 2 || !strings.Contains(se.String(), "is also an input") {
		t.Fatalf("exit %d, stderr %q; want 2 and a refusal", code, se.String())
	}
	if after, _ := os.ReadFile(zst); !bytes.Equal(before, after) {
		t.Error("the input changed")
	}
	if es, _ := os.ReadDir(cache); len(es) != 0 {
		t.Errorf("the input was decompressed before the refusal: cache holds %d entries", len(es))
	}
	// a folder as OUT is refused before the input is decompressed too
	if code := run([]string{"quantize", zst, dir, "q8_0"}, &so, &se); code != 2 || !strings.Contains(se.String(), "is a folder") {
		t.Fatalf("exit %d, stderr %q; want 2 and 'is a folder'", code, se.String())
	}
	if es, _ := os.ReadDir(cache); len(es) != 0 {
		t.Errorf("the input was decompressed before the refusal: cache holds %d entries", len(es))
	}
}

// TestQuantizeToZst: an OUT named .gguf.zst is a zstd-compressed GGUF (it
// was an uncompressed file under that name), and loads back as one.
func TestQuantizeToZst(t *testing.T) {
	in := quantizeInput(t)
	dir := t.TempDir()
	t.Setenv("COGEDGE_CACHE", t.TempDir())
	out := filepath.Join(dir, "out.gguf.zst")
	var so, se bytes.Buffer
	if code := run([]string{"quantize", "--pure", in, out, "q8_0"}, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		t.Fatalf("%s starts with % x, not a zstd frame", out, raw[:4])
	}
	path, err := mappable(out)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ti, ok := f.Tensor("blk.0.ffn_up.weight")
	if !ok || ti.Type != quant.Q8_0 {
		t.Fatalf("tensor %+v", ti)
	}
	got, _ := f.TensorData(ti)
	want, _ := os.ReadFile("../../testdata/quant/q8_0.q")
	if !bytes.Equal(got, want) {
		t.Error("the Q8_0 tensor differs from ggml's bytes")
	}
}

// bigQuantizeInput writes a GGUF with one 64 MiB F32 matrix, enough for a
// Q6_K quantize to take seconds.
func bigQuantizeInput(t *testing.T, path string) {
	t.Helper()
	const rows, cols = 4096, 4096
	w, err := gguf.Create(path, gguf.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SetKV("general.architecture", "llama"); err != nil {
		t.Fatal(err)
	}
	if err := w.AddTensor("blk.0.ffn_up.weight", quant.F32, []uint64{cols, rows}); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 4*rows*cols)
	for i := 0; i < rows*cols; i++ {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(math.Sin(float64(i)*0.37))*0.02))
	}
	if err := w.WriteTensor("blk.0.ffn_up.weight", data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestQuantizeInterrupted: SIGINT or SIGTERM in the middle of a quantize
// removes its hidden temporary file (it was left behind) and writes
// nothing at OUT.
func TestQuantizeInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 64 MiB input")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.gguf")
	bigQuantizeInput(t, in)
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			out := filepath.Join(dir, "out.gguf")
			cmd := cogedgeProcess(t, "quantize", "--pure", "-t", "1", in, out, "q6_k")
			var se bytes.Buffer
			cmd.Stderr = &se
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// wait for the temporary output to appear: the work has started
			deadline := time.Now().Add(30 * time.Second)
			for {
				m, _ := filepath.Glob(filepath.Join(dir, ".out.gguf.tmp-*"))
				if len(m) > 0 {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatal("no temporary file appeared")
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			if err == nil || !strings.Contains(se.String(), "interrupted") {
				t.Fatalf("exit %v, stderr %q; want a failure saying interrupted", err, se.String())
			}
			es, _ := os.ReadDir(dir)
			if len(es) != 1 {
				var names []string
				for _, e := range es {
					names = append(names, e.Name())
				}
				t.Errorf("folder holds %v, want only in.gguf", names)
			}
		})
	}
}

// TestLogitsOut: --logits-out - writes to stdout (it created a file named
// "-"), a device is written in place (as root, /dev/null was replaced by a
// regular file), a symlink is written through, and a folder is refused
// before the model loads.
func TestLogitsOut(t *testing.T) {
	dir := t.TempDir()
	model := tinyQ8Abs(t)
	t.Chdir(dir)
	args := func(out string) []string {
		return []string{"eval", "-m", model, "--tokens", "1,2,3", "--logits-out", out}
	}
	var so, se bytes.Buffer
	if code := run(args("-"), &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	if so.Len() != 4*4*32000 {
		t.Errorf("stdout got %d bytes, want 4 positions x 32000 float32", so.Len())
	}
	if !strings.Contains(se.String(), "positions: 4") {
		t.Errorf("the summary should move to stderr when the logits use stdout: %q", se.String())
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("files created: %d", len(es))
	}
	so.Reset()
	se.Reset()
	if code := run(args(os.DevNull), &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	if st, err := os.Stat(os.DevNull); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is no longer a device", os.DevNull)
	}
	os.WriteFile("real.f32", nil, 0o644)
	os.Symlink("real.f32", "link.f32")
	if code := run(args("link.f32"), &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	if st, _ := os.Lstat("link.f32"); st.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced")
	}
	if st, _ := os.Stat("real.f32"); st.Size() != 4*4*32000 {
		t.Errorf("the link's target holds %d bytes", st.Size())
	}
	os.Mkdir("folder", 0o755)
	se.Reset()
	code := run([]string{"eval", "-m", "missing.gguf", "--tokens", "1", "--logits-out", "folder"}, &so, &se)
	if code == 0 || !strings.Contains(se.String(), "is a folder") {
		t.Errorf("exit %d, stderr %q: want the folder refused before the (missing) model is opened", code, se.String())
	}
}

func tinyQ8Abs(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(tinyQ8)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestQuantizeReadmeExample runs the README's quantize example on the
// shipped Q8_0 model (it failed: requantizing needs --allow-requantize,
// and the error did not say so).
func TestQuantizeReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var example []string
	for line := range strings.Lines(string(readme)) {
		if strings.HasPrefix(line, "go run ./cmd/cogedge quantize ") {
			example = strings.Fields(strings.TrimPrefix(line, "go run ./cmd/cogedge "))
			break
		}
	}
	if example == nil {
		t.Fatal("README has no `go run ./cmd/cogedge quantize` example line")
	}
	out := filepath.Join(t.TempDir(), "q.gguf")
	for i, a := range example {
		if strings.HasPrefix(a, "testdata/") {
			example[i] = "../../" + a
		}
		if strings.HasSuffix(a, ".gguf") && strings.HasPrefix(a, "/tmp/") {
			example[i] = out
		}
	}
	var so, se bytes.Buffer
	if code := run(example, &so, &se); code != 0 {
		t.Fatalf("%v: exit %d: %s", example, code, se.String())
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
	// without the flag the error names it
	var noFlag []string
	for _, a := range example {
		if a != "--allow-requantize" {
			noFlag = append(noFlag, a)
		}
	}
	se.Reset()
	if code := run(noFlag, &so, &se); code != 1 || !strings.Contains(se.String(), "--allow-requantize") {
		t.Errorf("%v: exit %d, stderr %q: want the error to name --allow-requantize", noFlag, code, se.String())
	}
}
