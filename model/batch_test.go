package model_test

import (
	"bytes"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
)

// TestBatcherMatchesForward decodes three conversations of different
// lengths (two with the image, one text-only) together with a Batcher and
// each alone with Forward, feeding both the same tokens: every step's
// logits agree up to summation order. Q4_0 covers the packed weights when
// the CPU repacks them.
func TestBatcherMatchesForward(t *testing.T) {
	for _, tc := range []struct {
		typ quant.Type
		tol float64
	}{{quant.F32, 1e-4}, {quant.Q8_0, 2e-3}, {quant.Q4_0, 2e-3}} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			m := openTiny(t, tc.typ)
			V := m.Text.Vocab
			pool := kernels.NewPool(2)
			defer pool.Close()
			cases := []string{"tiny-image-chat", "tiny-text-only", "tiny-image-chat-history"}
			var alone, together []*model.Context
			next := make([]int32, len(cases))
			for i, name := range cases {
				g := loadGolden(t, name)
				var cs [2]*model.Context
				for j := range cs {
					c, err := m.NewContext(model.ContextOptions{Size: 128, Pool: pool})
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					cs[j] = c
				}
				next[i] = int32(argmax(prefillGolden(t, m, cs[0], g)))
				// the batched context starts from a copy of the prompt's
				// KV state (WriteState/ReadState), not a second prefill
				var state bytes.Buffer
				if err := cs[0].WriteState(&state, cs[0].Len()); err != nil {
					t.Fatal(err)
				}
				var rows []float32 // only their count matters for the slot types
				if g.Image != nil {
					rows = make([]float32, m.ImageEmbeds())
				}
				if err := cs[1].ReadState(&state, m.PromptBatch(g.TextIDs, rows).Types); err != nil {
					t.Fatal(err)
				}
				alone, together = append(alone, cs[0]), append(together, cs[1])
			}
			b, err := m.NewBatcher(4, pool)
			if err != nil {
				t.Fatal(err)
			}
			rows := make([][]float32, len(cases))
			for i := range rows {
				rows[i] = make([]float32, V)
			}
			want := make([]float32, V)
			for step := 0; step < 6; step++ {
				if err := b.Step(together, next, rows); err != nil {
					t.Fatal(err)
				}
				for i, c := range alone {
					if err := c.Forward(model.Batch{Tokens: next[i : i+1]}, model.Output{Logits: want}); err != nil {
						t.Fatal(err)
					}
					if d := maxAbsDiff(rows[i], want); d > tc.tol {
						t.Errorf("step %d, %s: batched logits differ from Forward's by %.3g", step, cases[i], d)
					}
					if together[i].Len() != c.Len() {
						t.Fatalf("step %d, %s: %d slots batched, %d alone", step, cases[i], together[i].Len(), c.Len())
					}
					next[i] = int32(argmax(want))
				}
			}
		})
	}
}

// TestBatcherRejects checks the argument errors of Step and that a
// rejected step leaves the contexts as they were.
func TestBatcherRejects(t *testing.T) {
	m := openTiny(t, quant.F32)
	other := openTiny(t, quant.Q8_0)
	V := m.Text.Vocab
	pool := kernels.NewPool(1)
	defer pool.Close()
	newCtx := func(mm *model.Model, size int) *model.Context {
		c, err := mm.NewContext(model.ContextOptions{Size: size, Pool: pool})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	a, full, foreign := newCtx(m, 8), newCtx(m, 1), newCtx(other, 8)
	if err := full.Forward(model.Batch{Tokens: []int32{1}}, model.Output{}); err != nil {
		t.Fatal(err)
	}
	b, err := m.NewBatcher(2, pool)
	if err != nil {
		t.Fatal(err)
	}
	row := func() []float32 { return make([]float32, V) }
	for _, tc := range []struct {
		name   string
		cs     []*model.Context
		tokens []int32
		logits [][]float32
		is     error
	}{
		{"none", nil, nil, nil, nil},
		{"too many", []*model.Context{a, newCtx(m, 8), newCtx(m, 8)}, []int32{1, 1, 1}, [][]float32{row(), row(), row()}, nil},
		{"count mismatch", []*model.Context{a}, []int32{1, 2}, [][]float32{row()}, nil},
		{"foreign model", []*model.Context{foreign}, []int32{1}, [][]float32{row()}, nil},
		{"full", []*model.Context{a, full}, []int32{1, 1}, [][]float32{row(), row()}, model.ErrContextFull},
		{"token", []*model.Context{a}, []int32{int32(V)}, [][]float32{row()}, nil},
		{"short logits", []*model.Context{a}, []int32{1}, [][]float32{make([]float32, V-1)}, nil},
		{"duplicate", []*model.Context{a, a}, []int32{1, 1}, [][]float32{row(), row()}, nil},
	} {
		err := b.Step(tc.cs, tc.tokens, tc.logits)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.is)
		}
		if a.Len() != 0 || full.Len() != 1 {
			t.Errorf("%s: a rejected step changed a context (%d, %d slots)", tc.name, a.Len(), full.Len())
		}
	}
	if _, err := m.NewBatcher(0, pool); err == nil {
		t.Error("NewBatcher(0): no error")
	}
}

// prefillGolden feeds g's prompt (with its image, if any) into the empty
// context c and returns the last slot's logits.
func prefillGolden(t *testing.T, m *model.Model, c *model.Context, g *golden) []float32 {
	t.Helper()
	var img []float32
	if g.Image != nil {
		img = make([]float32, m.ImageEmbeds())
		if err := c.EncodeImage(img, g.f32(t, "pixel_values")); err != nil {
			t.Fatal(err)
		}
	}
	logits := make([]float32, m.Text.Vocab)
	if err := c.Forward(m.PromptBatch(g.TextIDs, img), model.Output{Logits: logits}); err != nil {
		t.Fatal(err)
	}
	return logits
}

// BenchmarkBatchedDecode measures decode steps of 1, 2 and 4 conversations
// together through a Batcher (f16 KV caches of 256 slots, 2 threads);
// tok/s is the aggregate over the conversations, bytes/s the weights a
// step reads once for all of them, tok/cpu-s the tokens per CPU-second
// (less dependent on other load). COGEDGE_BENCH_MODEL picks the model
// (see benchModels), e.g. the synthetic 17B at Q4_0.
func BenchmarkBatchedDecode(b *testing.B) {
	for name, m := range benchModels(b) {
		for _, n := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				pool := kernels.NewPool(2)
				defer pool.Close()
				bt, err := m.NewBatcher(n, pool)
				if err != nil {
					b.Fatal(err)
				}
				cs := make([]*model.Context, n)
				rows := make([][]float32, n)
				toks := make([]int32, n)
				for i := range cs {
					if cs[i], err = m.NewContext(model.ContextOptions{Size: 256, Pool: pool}); err != nil {
						b.Fatal(err)
					}
					defer cs[i].Close()
					rows[i] = make([]float32, m.Text.Vocab)
				}
				b.SetBytes(languageBytes(m))
				step := 0
				cpu0 := processCPUSeconds()
				for b.Loop() {
					if cs[0].Len() == cs[0].Size() {
						for _, c := range cs {
							c.Reset()
						}
					}
					for i := range toks {
						toks[i] = int32((step*7 + i*13 + 1) % m.Text.Vocab)
					}
					step++
					if err := bt.Step(cs, toks, rows); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n*step)/b.Elapsed().Seconds(), "tok/s")
				// on a shared machine: tokens per CPU-second of this process
				if cpu := processCPUSeconds() - cpu0; cpu > 0 {
					b.ReportMetric(float64(n*step)/cpu, "tok/cpu-s")
				}
			})
		}
	}
}

// processCPUSeconds is the user+system CPU time of the process so far.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
