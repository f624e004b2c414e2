package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// hotOp is one elementwise op of the dispatch table, run on traceN values.
type hotOp struct {
	name string
	run  func(t *table)
}

const traceN = 1024

// hotOps returns the ops that have assembly beside their generic twin
// (ops_arm64.s, ops_amd64.s), on fresh inputs of traceN values.
func hotOps() []hotOp {
	r := rand.New(rand.NewPCG(1, 1))
	x, y := randFloats(r, traceN, false), randFloats(r, traceN, false)
	w, b := randFloats(r, traceN, false), randFloats(r, traceN, false)
	h := make([]uint16, traceN)
	for i := range h {
		h[i] = quant.FP32ToFP16(y[i])
	}
	dst := make([]float32, traceN)
	scores := make([]float32, traceN)
	for i := range scores {
		scores[i] = -float32(r.Float64() * 10)
	}
	q := make([]byte, max(traceN/32*q8_1Bytes, traceN/256*q8_KBytes))
	return []hotOp{
		{"quantQ8_1", func(t *table) { t.quantQ8_1(q, x) }},
		{"quantQ8_K", func(t *table) { t.quantQ8_K(q, x) }},
		{"fp32ToFP16", func(t *table) { t.fp32ToFP16(h, x) }},
		{"dotF32", func(t *table) { t.dotF32(x, y) }},
		{"dotF16", func(t *table) { t.dotF16(h, x) }},
		{"axpyF32", func(t *table) { t.axpyF32(dst, 0.5, x) }},
		{"axpyF16", func(t *table) { t.axpyF16(dst, 0.5, h) }},
		{"expSub", func(t *table) { copy(dst, scores); t.expSub(dst, 0) }},
		// attention over 8 KV rows of head dimension 128 (traceN values)
		{"scoresF16", func(t *table) { t.scoresF16(scores[:8], x[:128], h, 128, 0.088) }},
		{"weightedF16", func(t *table) { t.weightedF16(dst[:128], y[:8], h, 128) }},
		{"RMSNorm", func(t *table) { rmsNorm(t, dst, x, w, 1e-6) }},
		{"LayerNorm", func(t *table) { layerNorm(t, dst, x, w, b, 1e-6) }},
		{"Add", func(t *table) { t.add(dst, x, y) }},
	}
}

// BenchmarkHotOps runs each op once per iteration, with the generic table
// ("go") and with the active one ("asm"), between two calls of traceMark;
// the package's table is that one meanwhile, so the generic attention
// loops, which dot through it, stay generic. scripts/mca.sh runs it under
// qemu -d exec with -test.benchtime 1x: the instructions executed between
// the marks are one call's dynamic trace, which llvm-mca then schedules.
// (Its ns/op under qemu mean nothing.)
func BenchmarkHotOps(b *testing.B) {
	active, gen := impl, genericImpl()
	defer func() { impl = active }()
	for _, op := range hotOps() {
		for _, side := range []struct {
			name string
			t    table
		}{{"go", gen}, {"asm", active}} {
			b.Run(op.name+"/"+side.name, func(b *testing.B) {
				impl = side.t
				defer func() { impl = active }()
				t := side.t
				b.SetBytes(4 * traceN)
				for i := 0; i < b.N; i++ {
					traceMark()
					op.run(&t)
					traceMark()
				}
			})
		}
	}
}

// traceMark delimits a traced call (see BenchmarkHotOps).
//
//go:noinline
func traceMark() { traceMarks++ }

var traceMarks int
