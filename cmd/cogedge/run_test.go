package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/kernels/metal"
	"github.com/cogedge/cogedge/model/tokenizer"
	"github.com/cogedge/cogedge/quant"
	"github.com/cogedge/cogedge/tools/convert/converter"
	"github.com/klauspost/compress/zstd"
)

var (
	tinyHF      = filepath.Join("..", "..", "testdata", "cogvlm-tiny", "hf")
	tinyQ8      = filepath.Join("..", "..", "testdata", "cogvlm-tiny.gguf")
	goldenRoot  = filepath.Join("..", "..", "testdata", "cogvlm-tiny", "golden")
	chelsea     = filepath.Join("..", "..", "testdata", "images", "chelsea.png")
	vocabZst    = filepath.Join("..", "..", "testdata", "tokenizer", "llama2-tokenizer.json.zst")
	f32Once     sync.Once
	f32Path     string
	f32Err      error
	f32TempRoot string
)

func TestMain(m *testing.M) {
	if os.Getenv(asCogedgeEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) // a subprocess test: this binary is cogedge
	}
	// the image KV cache and decompressed models go to a folder of the
	// test binary's own, never the user's
	cache, err := os.MkdirTemp("", "cogedge-cli-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("COGEDGE_CACHE", cache)
	code := m.Run()
	os.RemoveAll(cache)
	if f32TempRoot != "" {
		os.RemoveAll(f32TempRoot)
	}
	os.Exit(code)
}

// tinyF32 converts the tiny checkpoint to F32 with the real vocabulary
// (once per test binary).
func tinyF32(t *testing.T) string {
	t.Helper()
	f32Once.Do(func() {
		f32TempRoot, f32Err = os.MkdirTemp("", "cogedge-cli-test-")
		if f32Err != nil {
			return
		}
		var raw []byte
		raw, f32Err = os.ReadFile(vocabZst)
		if f32Err != nil {
			return
		}
		dec, err := zstd.NewReader(nil)
		if err != nil {
			f32Err = err
			return
		}
		defer dec.Close()
		js, err := dec.DecodeAll(raw, nil)
		if err != nil {
			f32Err = err
			return
		}
		tok := filepath.Join(f32TempRoot, "tokenizer.json")
		if f32Err = os.WriteFile(tok, js, 0o644); f32Err != nil {
			return
		}
		f32Path = filepath.Join(f32TempRoot, "tiny-f32.gguf")
		f32Err = converter.Convert(context.Background(), converter.Options{
			Input: tinyHF, Output: f32Path, Type: quant.F32, Tokenizer: tok, Pure: true, Threads: 2,
		})
	})
	if f32Err != nil {
		t.Fatal(f32Err)
	}
	return f32Path
}

type goldenCase struct {
	Case      string     `json:"case"`
	Template  string     `json:"template"`
	Query     string     `json:"query"`
	History   [][]string `json:"history"`
	TextIDs   []int32    `json:"text_ids"`
	SeqLen    int        `json:"seq_len"`
	Generated []int32    `json:"generated_ids"`
	Image     *struct{}  `json:"image"`
	// LogitsRows lists the positions a trimmed CogVLM2 dump keeps logits for.
	LogitsRows []int `json:"logits_rows"`
}

func readGolden(t *testing.T, name string) (*goldenCase, []float32) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(goldenRoot, name, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	g := &goldenCase{}
	if err := json.Unmarshal(raw, g); err != nil {
		t.Fatal(err)
	}
	return g, readF32(t, filepath.Join(goldenRoot, name, "logits.f32.bin"))
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

func joinIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ",")
}

// cli runs cogedge with args and returns the exit status and outputs.
func cli(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func maxAbs(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func argmaxRows(x []float32, V int) []int {
	var out []int
	for r := 0; r*V < len(x); r++ {
		row := x[r*V : (r+1)*V]
		b := 0
		for i, v := range row {
			if v > row[b] {
				b = i
			}
		}
		out = append(out, b)
	}
	return out
}

// TestEvalMatchesReference runs `cogedge eval --tokens` on the F32 model
// for every reference case, the image loaded and preprocessed from the PNG
// (so Pillow-exact resizing is part of the check), and compares the logits
// file with the reference: max |Δ| within the bar and the same argmax at
// every position. Then `-p` with the template and tokenizer must give the
// very same logits as the reference's text ids.
func TestEvalMatchesReference(t *testing.T) {
	mp := tinyF32(t)
	dir := t.TempDir()
	const V = 32000
	for _, tc := range []struct {
		name, kv string
		tol      float64
	}{
		{"tiny-image-chat", "f32", 5e-5},
		{"tiny-image-chat", "f16", 1e-3},
		{"tiny-text-only", "f32", 5e-5},
		{"tiny-image-chat-history", "f16", 1e-3},
	} {
		t.Run(tc.name+"/"+tc.kv, func(t *testing.T) {
			g, want := readGolden(t, tc.name)
			out := filepath.Join(dir, tc.name+"-"+tc.kv+".bin")
			args := []string{"eval", "-m", mp, "--kv-type", tc.kv, "-t", "2", "--tokens", joinIDs(g.TextIDs), "--logits-out", out}
			if g.Image != nil {
				args = append(args, "--image", chelsea)
			}
			code, stdout, stderr := cli(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, fmt.Sprintf("positions: %d\n", g.SeqLen)) {
				t.Errorf("stdout %q does not report %d positions", stdout, g.SeqLen)
			}
			got := readF32(t, out)
			d := maxAbs(got, want)
			t.Logf("eval logits vs reference: max |Δ| = %.3g", d)
			if d > tc.tol {
				t.Errorf("max |Δ| = %.3g > %g", d, tc.tol)
			}
			ga, wa := argmaxRows(got, V), argmaxRows(want, V)
			for p := range wa {
				if p < len(ga) && ga[p] != wa[p] {
					t.Errorf("position %d: argmax %d, reference %d", p, ga[p], wa[p])
				}
			}
			out2 := filepath.Join(dir, tc.name+"-"+tc.kv+"-p.bin")
			args = []string{"eval", "-m", mp, "--kv-type", tc.kv, "-t", "2", "--template", g.Template, "-p", g.Query, "--logits-out", out2}
			if g.Image != nil {
				args = append(args, "--image", chelsea)
			}
			if len(g.History) > 0 {
				hj, _ := json.Marshal(g.History)
				args = append(args, "--history", string(hj))
			}
			if code, _, stderr := cli(args...); code != 0 {
				t.Fatalf("eval -p: exit %d: %s", code, stderr)
			}
			a, _ := os.ReadFile(out)
			b, _ := os.ReadFile(out2)
			if !bytes.Equal(a, b) {
				t.Errorf("eval -p %q (template %s) differs from --tokens with the reference ids", g.Query, g.Template)
			}
		})
	}
}

// TestEvalMetalSim runs `cogedge eval --backend metal-sim` (the Metal
// backend's host code and shaders on the simulated device) on the F32
// model for the image case and holds it to the reference: max |Δ logits|
// ≤ 2e-3 and the same argmax at every position.
func TestEvalMetalSim(t *testing.T) {
	needSim(t)
	const V = 32000
	g, want := readGolden(t, "tiny-image-chat")
	out := filepath.Join(t.TempDir(), "sim.bin")
	code, _, stderr := cli("eval", "-m", tinyF32(t), "--backend", "metal-sim", "--verbose", "--tokens", joinIDs(g.TextIDs), "--image", chelsea, "--logits-out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "backend: metal-sim") {
		t.Errorf("--verbose does not name the backend: %q", stderr)
	}
	got := readF32(t, out)
	d := maxAbs(got, want)
	t.Logf("eval --backend metal-sim vs reference: max |Δ| = %.3g", d)
	if d > 2e-3 {
		t.Errorf("max |Δ| = %.3g > 2e-3", d)
	}
	ga, wa := argmaxRows(got, V), argmaxRows(want, V)
	for p := range wa {
		if p >= len(ga) || ga[p] != wa[p] {
			t.Fatalf("position %d: argmax differs from the reference", p)
		}
	}
}

// TestRunGreedy checks that `cogedge run --temp 0` streams the
// reference's 16 greedy tokens (as text).
func TestRunGreedy(t *testing.T) {
	for _, name := range []string{"tiny-image-chat", "tiny-text-only"} {
		t.Run(name, func(t *testing.T) { runGreedy(t, name, "cpu", 0) })
	}
}

// TestRunMetalSim is TestRunGreedy through the Metal backend on the
// simulated device (Linux): the image prefix and every decode step on the
// device give the reference's tokens. The simulator is slow, so it runs
// the image case and the first 6 tokens.
func TestRunMetalSim(t *testing.T) {
	needSim(t)
	runGreedy(t, "tiny-image-chat", "metal-sim", 6)
}

// runGreedy runs golden case name on backend and compares the output with
// the reference's first n generated tokens (0: all of them).
func runGreedy(t *testing.T, name, backend string, n int) {
	mp := tinyF32(t)
	tok := fileTokenizer(t, mp)
	g, _ := readGolden(t, name)
	gen := g.Generated
	if n > 0 {
		gen = gen[:n]
	}
	for _, id := range gen {
		if id == 2 {
			t.Fatal("reference continuation contains EOS; run would stop early")
		}
	}
	args := []string{"run", "-m", mp, "-p", g.Query, "--template", g.Template, "-n", fmt.Sprint(len(gen)), "--temp", "0", "-t", "2", "--backend", backend, "--verbose"}
	if g.Image != nil {
		args = append(args, "--image", chelsea)
	}
	code, stdout, stderr := cli(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "backend: "+backend) {
		t.Errorf("--verbose does not name the backend %s: %q", backend, stderr)
	}
	if want := streamText(tok, gen); stdout != want {
		t.Errorf("run --backend %s printed %q, want the reference tokens %v = %q", backend, stdout, gen, want)
	}
}

// fileTokenizer loads the tokenizer of the GGUF file at path.
func fileTokenizer(t *testing.T, path string) *tokenizer.Tokenizer {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := tokenizer.VocabFromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// needSim skips a test of the simulated Metal device where it cannot run
// (not Linux, or no clang), failing instead when CI requires it
// (COGEDGE_REQUIRE_SIM).
func needSim(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the simulated Metal device exists in Linux builds only")
	}
	if _, err := metal.FindClang(); err != nil {
		if os.Getenv("COGEDGE_REQUIRE_SIM") != "" {
			t.Fatalf("COGEDGE_REQUIRE_SIM is set: %v", err)
		}
		t.Skip(err)
	}
}

// streamText is what `cogedge run` prints for ids: the stream decoder's
// text and a newline.
func streamText(tok *tokenizer.Tokenizer, ids []int32) string {
	sd := tok.NewStreamDecoder()
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(sd.Add(id))
	}
	return b.String() + sd.Flush() + "\n"
}

// TestRunQuickstart runs the committed Q8_0 model the way the README does.
func TestRunQuickstart(t *testing.T) {
	args := []string{"run", "-m", tinyQ8, "--image", chelsea, "-p", "What is in the image?", "-n", "16", "--verbose", "-t", "2", "--cache-dir", t.TempDir()}
	code, stdout, stderr := cli(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.TrimSpace(stdout) == "" {
		t.Error("no answer printed")
	}
	// BOS and the 18 image rows, then the 10 text slots
	for _, want := range []string{"image encode:", "image prefill:", "image cache: miss", "prefill: 10 slots (19 reused)", "decode: 15 tokens", "t/s"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("--verbose output lacks %q:\n%s", want, stderr)
		}
	}
	// the same picture again: the image block comes from the cache, the
	// answer is the same
	code, again, stderr := cli(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if again != stdout {
		t.Errorf("answer with the cached image %q, without %q", again, stdout)
	}
	if !strings.Contains(stderr, "image cache: hit") || strings.Contains(stderr, "image encode:") {
		t.Errorf("second run: no cache hit shown, or the image encoded again:\n%s", stderr)
	}
	// sampling with a seed is reproducible
	a := []string{"run", "-m", tinyQ8, "-p", "Hello", "-n", "8", "--temp", "0.9", "-s", "42", "-t", "1"}
	_, out1, _ := cli(a...)
	_, out2, _ := cli(a...)
	if out1 != out2 || out1 == "" {
		t.Errorf("same seed, different answers: %q vs %q", out1, out2)
	}
}

func TestRunEvalErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.bin")
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"run without model", []string{"run", "-p", "hi"}, 2, "-m MODEL"},
		{"run without prompt", []string{"run", "-m", tinyQ8}, 2, "-p PROMPT"},
		{"run bad kv", []string{"run", "-m", tinyQ8, "-p", "hi", "--kv-type", "q4"}, 2, "kv-type"},
		{"run bad n", []string{"run", "-m", tinyQ8, "-p", "hi", "-n", "0"}, 2, "-n"},
		{"run bad flag", []string{"run", "--nope"}, 2, "nope"},
		{"run missing model file", []string{"run", "-m", "/nonexistent.gguf", "-p", "hi"}, 1, "nonexistent"},
		{"run missing image", []string{"run", "-m", tinyQ8, "-p", "hi", "--image", "/nonexistent.png"}, 1, "nonexistent"},
		{"run context too small", []string{"run", "-m", tinyQ8, "-p", "hi", "--image", chelsea, "-c", "10"}, 1, "context"},
		{"run bad template", []string{"run", "-m", tinyQ8, "-p", "hi", "--template", "nope"}, 2, "template"},
		{"eval without output", []string{"eval", "-m", tinyQ8, "-p", "hi"}, 2, "--logits-out"},
		{"eval both inputs", []string{"eval", "-m", tinyQ8, "-p", "hi", "--tokens", "1", "--logits-out", out}, 2, "exactly one"},
		{"eval bad token", []string{"eval", "-m", tinyQ8, "--tokens", "1,32000", "--logits-out", out}, 2, "32000"},
		{"run bad history", []string{"run", "-m", tinyQ8, "-p", "hi", "--history", `[["q"]]`}, 2, "history"},
		{"eval junk token", []string{"eval", "-m", tinyQ8, "--tokens", "1,x", "--logits-out", out}, 2, "\"x\""},
		{"eval bad backend", []string{"eval", "-m", tinyQ8, "--tokens", "1", "--backend", "cuda", "--logits-out", out}, 2, "--backend"},
		{"run bad backend", []string{"run", "-m", tinyQ8, "-p", "hi", "--backend", "gpu"}, 2, "--backend"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := cli(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tc.code, tc.msg)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed eval left %s behind", out)
	}
}

// TestRunInteractive checks that a second question read from stdin, which
// reuses the cached image and first turn, gives the same answer as a fresh
// run given the first turn as --history.
func TestRunInteractive(t *testing.T) {
	mp := tinyF32(t)
	const q1, q2 = "What is in the image?", "What color is the cat?"
	base := []string{"run", "-m", mp, "--image", chelsea, "-n", "6", "--temp", "0", "-t", "2", "--kv-type", "f32"}
	code, a1, stderr := cli(append(base, "-p", q1)...)
	if code != 0 {
		t.Fatal(stderr)
	}
	hj, _ := json.Marshal([][]string{{q1, strings.TrimSuffix(a1, "\n")}})
	code, a2, stderr := cli(append(base, "-p", q2, "--history", string(hj))...)
	if code != 0 {
		t.Fatal(stderr)
	}
	old := stdin
	defer func() { stdin = old }()
	stdin = strings.NewReader("\n" + q2 + "\n")
	code, got, stderr := cli(append(base, "-p", q1, "-i", "--verbose")...)
	if code != 0 {
		t.Fatal(stderr)
	}
	if got != a1+a2 {
		t.Errorf("interactive answers %q, want %q + %q", got, a1, a2)
	}
	var reused []int
	for _, m := range regexp.MustCompile(`\((\d+) reused\)`).FindAllStringSubmatch(stderr, -1) {
		n, _ := strconv.Atoi(m[1])
		reused = append(reused, n)
	}
	if len(reused) != 2 || reused[0] != 19 || reused[1] < 29 {
		t.Errorf("reused slots per turn %v: the second turn should reuse at least the first prompt's 29:\n%s", reused, stderr)
	}
}
