package model_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
	"github.com/cogedge/cogedge/tools/convert/converter"
)

// The tiny checkpoint and the PyTorch reference dumps (testdata/README.md,
// section cogvlm-tiny).
var (
	tinyHF     = filepath.Join("..", "testdata", "cogvlm-tiny", "hf")
	goldenRoot = filepath.Join("..", "testdata", "cogvlm-tiny", "golden")
)

// converted caches one conversion of the tiny checkpoint per type for the
// whole test binary.
var converted struct {
	sync.Mutex
	dir   string
	paths map[string]string // by input folder and type
}

// tinyGGUF converts the tiny HF checkpoint with the converter library to a
// GGUF whose matrices are typ (a "pure" mix: every matrix typ where the
// block size allows) and returns its path.
func tinyGGUF(t testing.TB, typ quant.Type) string {
	t.Helper()
	return convertCached(t, tinyHF, "tiny", typ)
}

// convertCached converts the HF checkpoint input to a pure-typ GGUF once
// per test binary (name names the file) and returns its path.
func convertCached(t testing.TB, input, name string, typ quant.Type) string {
	t.Helper()
	converted.Lock()
	defer converted.Unlock()
	key := fmt.Sprintf("%s-%s", name, typ)
	if p, ok := converted.paths[key]; ok {
		return p
	}
	if converted.dir == "" {
		d, err := os.MkdirTemp("", "cogedge-model-test-")
		if err != nil {
			t.Fatal(err)
		}
		converted.dir = d
		converted.paths = map[string]string{}
	}
	out := filepath.Join(converted.dir, key+".gguf")
	err := converter.Convert(context.Background(), converter.Options{
		Input: input, Output: out, Type: typ, NoTokenizer: true, Pure: true, Threads: 2,
	})
	if err != nil {
		t.Fatalf("convert tiny checkpoint to %v: %v", typ, err)
	}
	converted.paths[key] = out
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if converted.dir != "" {
		os.RemoveAll(converted.dir)
	}
	os.Exit(code)
}

func openTiny(t testing.TB, typ quant.Type) *model.Model {
	t.Helper()
	m, err := model.Open(tinyGGUF(t, typ), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// golden is one case of the reference dumps.
type golden struct {
	dir      string
	Case     string  `json:"case"`
	TextIDs  []int32 `json:"text_ids"`
	InputIDs []int32 `json:"input_ids"`
	SeqLen   int     `json:"seq_len"`
	Image    *struct {
		File string `json:"file"`
	} `json:"image"`
	Template  string     `json:"template"`
	Query     string     `json:"query"`
	History   [][]string `json:"history"`
	Generated []int32    `json:"generated_ids"`
	// LogitsRows and DecodeRows list the positions and decode steps whose
	// logits rows a trimmed dump keeps (testdata/cogvlm2-tiny/trim_golden.py).
	LogitsRows []int `json:"logits_rows"`
	DecodeRows []int `json:"decode_logits_rows"`
	Tensors    map[string]struct {
		File  string `json:"file"`
		Dtype string `json:"dtype"`
		Shape []int  `json:"shape"`
	} `json:"tensors"`
}

func loadGolden(t testing.TB, name string) *golden {
	t.Helper()
	return loadGoldenIn(t, goldenRoot, name)
}

// loadGoldenIn loads the case name of the dumps under root.
func loadGoldenIn(t testing.TB, root, name string) *golden {
	t.Helper()
	dir := filepath.Join(root, name)
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	g := &golden{dir: dir}
	if err := json.Unmarshal(raw, g); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return g
}

func (g *golden) has(name string) bool { _, ok := g.Tensors[name]; return ok }

func (g *golden) f32(t testing.TB, name string) []float32 {
	t.Helper()
	ti, ok := g.Tensors[name]
	if !ok || ti.Dtype != "float32" {
		t.Fatalf("%s: no float32 tensor %q", g.Case, name)
	}
	raw, err := os.ReadFile(filepath.Join(g.dir, ti.File))
	if err != nil {
		t.Fatal(err)
	}
	n := 1
	for _, d := range ti.Shape {
		n *= d
	}
	if len(raw) != 4*n {
		t.Fatalf("%s/%s: %d bytes, want %d", g.Case, name, len(raw), 4*n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

func (g *golden) i32(t testing.TB, name string) []int32 {
	t.Helper()
	ti, ok := g.Tensors[name]
	if !ok || ti.Dtype != "int32" {
		t.Fatalf("%s: no int32 tensor %q", g.Case, name)
	}
	raw, err := os.ReadFile(filepath.Join(g.dir, ti.File))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int32, len(raw)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

func (g *golden) imagePath() string {
	if g.Image == nil {
		return ""
	}
	return filepath.Join(g.dir, filepath.FromSlash(g.Image.File))
}

// maxAbsDiff returns max |a-b| (Inf when the lengths differ or a value is
// not finite).
func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = max(m, d)
	}
	return m
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
