package kernels

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/cogedge/cogedge/quant"
)

// gemmTiles computes y (n×rows) tile by tile, strip after strip and each
// strip over every activation group, with the active GEMM kernel of wt and
// the same quantization and packing as MatMul's: the order before cache
// blocking, written independently of gemmTask.
func gemmTiles(wt quant.Type, w []byte, rows, k int, x []float32, n int) []float32 {
	return gemmTilesWith(impl.gemm[wt], wt, w, rows, k, x, n)
}

// gemmTilesWith is gemmTiles with the kernel kern (the packing is still the
// active implementation's).
func gemmTilesWith(kern gemmFn, wt quant.Type, w []byte, rows, k int, x []float32, n int) []float32 {
	act := actOf(wt)
	nb := k / act.BlockSize()
	arow, _ := act.RowSize(int64(k))
	wrow, _ := wt.RowSize(int64(k))
	sblk, ablk := gemmBlocks(wt)
	goff := gemmOffset(wt)
	if impl.gemmSigned[wt] {
		goff = 0
	}
	gsz := nb * gemmCols * ablk
	ngroups := (n + gemmCols - 1) / gemmCols
	ag := make([]byte, ngroups*gsz)
	ar := make([]byte, arow)
	for r := 0; r < n; r++ {
		g := ag[r/gemmCols*gsz : (r/gemmCols+1)*gsz]
		if impl.gemmMX[wt] {
			impl.packMX(g[(r%gemmCols)*gemmActBlock:], gemmCols*gemmActBlock, x[r*k:(r+1)*k], goff)
			continue
		}
		QuantizeActivations(act, ar, x[r*k:(r+1)*k])
		if act == quant.Q8_K {
			packActRowK(g, ar, r%gemmCols, nb, wt)
		} else {
			packActRow(g, ar, r%gemmCols, nb, goff)
		}
	}
	y := make([]float32, n*rows)
	strip := make([]byte, nb*sblk)
	var out [gemmRows * gemmCols]float32
	for i0 := 0; i0 < rows; i0 += gemmRows {
		nrows := min(gemmRows, rows-i0)
		packStrip(wt, strip, w[i0*int(wrow):], int(wrow), nrows, nb, impl.gemmSigned[wt])
		for g := 0; g < ngroups; g++ {
			kern(out[:], gemmRows, strip, ag[g*gsz:(g+1)*gsz], nb)
			for c := 0; c < min(gemmCols, n-g*gemmCols); c++ {
				copy(y[(g*gemmCols+c)*rows+i0:], out[c*gemmRows:c*gemmRows+nrows])
			}
		}
	}
	return y
}

// TestGEMMBlocking runs MatMul's GEMM path under cache budgets that make a
// task unpack several strips and run them over several blocks of
// activation groups, with partial last strips, groups, strip blocks and
// group blocks. y must equal the tile-by-tile computation bit for bit (a
// skipped tile keeps the NaN y starts with) and the kernel must run once
// per tile (a tile done twice counts twice); the tile-by-tile result is
// checked against the generic row dots.
func TestGEMMBlocking(t *testing.T) {
	gen := genericImpl()
	saved := gemmCacheBudget
	defer func() { gemmCacheBudget = saved }()
	tested := 0
	for _, im := range Implementations() {
		prev := SetFeatures(im.Features)
		has := false
		for _, wt := range quantTypes {
			has = has || impl.gemm[wt] != nil
		}
		SetFeatures(prev)
		if !has {
			continue // MatMul does not reach gemmTask with these features
		}
		tested++
		t.Run(im.Name, func(t *testing.T) {
			prev := SetFeatures(im.Features)
			defer SetFeatures(prev)
			testGEMMBlocking(t, gen)
		})
	}
	if tested == 0 {
		t.Skip("no implementation of this build and CPU has a GEMM micro-kernel")
	}
}

// testGEMMBlocking is TestGEMMBlocking for the active implementation.
func testGEMMBlocking(t *testing.T, gen table) {
	blocked := false // some case had several strips per task and a partial strip block and group block
	for _, wt := range quantTypes {
		kern := impl.gemm[wt]
		if kern == nil {
			continue
		}
		kb := 3 // k in 32-element blocks: 96
		if wt.BlockSize() == 256 {
			kb = 1
		}
		r := rand.New(rand.NewPCG(uint64(wt), 31))
		for _, sh := range []struct{ rows, n, threads int }{
			{16*13 + 5, 8*9 + 3, 1}, // 14 strips, 10 groups, both with a partial last one
			{16*13 + 5, 8*9 + 3, 2},
			{37, 8*9 + 3, 2},    // few strips: several chunks of groups
			{16 * 12, 8 * 6, 1}, // whole strips and groups
		} {
			k := kb * wt.BlockSize()
			nb := kb * wt.BlockSize() / actOf(wt).BlockSize()
			rs := kb * wt.TypeSize()
			w := randWeights(r, wt, sh.rows*kb, scaleMixed)
			x := randFloats(r, sh.n*k, true)
			want := gemmTiles(wt, w, sh.rows, k, x, sh.n)
			act := actOf(wt)
			if impl.gemmMX[wt] {
				// power-of-two activation scales: the twin computes the
				// same tiles bit for bit (TestGEMMStripMX checks it
				// against the float products)
				twin := gemmTilesWith(gemmStripGenericMX, wt, w, sh.rows, k, x, sh.n)
				for i := range want {
					if math.Float32bits(want[i]) != math.Float32bits(twin[i]) {
						t.Fatalf("%v %+v: tile-by-tile y[%d] = %g, MX twin %g", wt, sh, i, want[i], twin[i])
					}
				}
			}
			for j := 0; j < sh.n && !impl.gemmMX[wt]; j++ {
				xa := actBytes(act, x[j*k:(j+1)*k])
				for i := 0; i < sh.rows; i++ {
					wi := w[i*rs : (i+1)*rs]
					ref := gen.qdot[wt](wi, xa, kb)
					if tol := dotTolerance(wt, wi, xa, kb); math.Abs(float64(want[j*sh.rows+i])-float64(ref)) > tol {
						t.Fatalf("%v %+v: tile-by-tile y[%d,%d]=%g, row dot %g (tol %g)", wt, sh, j, i, want[j*sh.rows+i], ref, tol)
					}
				}
			}
			sblk, ablk := gemmBlocks(wt)
			sb, gb := nb*sblk, nb*gemmCols*ablk
			nstrips, ngroups := (sh.rows+gemmRows-1)/gemmRows, (sh.n+gemmCols-1)/gemmCols
			p := NewPool(sh.threads)
			for _, budget := range []int{0, sb + gb, 2*sb + 3*gb, 3*sb + 4*gb, 3*sb + 2*gb, 1 << 30} {
				gemmCacheBudget = budget
				sper, nchunks, gblk := gemmPlan(nstrips, ngroups, sb, gb, sh.threads, budget)
				per := (ngroups + nchunks - 1) / nchunks
				if sper > 1 && nstrips%sper != 0 && gblk > 1 && per%gblk != 0 {
					blocked = true
				}
				var calls atomic.Int64
				impl.gemm[wt] = func(y []float32, ldy int, w, a []byte, nb int) {
					calls.Add(1)
					kern(y, ldy, w, a, nb)
				}
				y := make([]float32, sh.n*sh.rows+1)
				for i := range y {
					y[i] = float32(math.NaN())
				}
				p.MatMul(y[:sh.n*sh.rows], w, wt, sh.rows, k, x, sh.n)
				impl.gemm[wt] = kern
				if c := calls.Load(); c != int64(nstrips*ngroups) {
					t.Fatalf("%v %+v budget %d (strips/task %d, chunks %d, groups/block %d): %d kernel calls, want %d",
						wt, sh, budget, sper, nchunks, gblk, c, nstrips*ngroups)
				}
				if !math.IsNaN(float64(y[len(y)-1])) {
					t.Fatalf("%v %+v budget %d: wrote past y", wt, sh, budget)
				}
				for i := range want {
					if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v %+v budget %d (strips/task %d, chunks %d, groups/block %d): y[%d,%d]=%g, tile by tile %g",
							wt, sh, budget, sper, nchunks, gblk, i/sh.rows, i%sh.rows, y[i], want[i])
					}
				}
			}
			p.Close()
		}
	}
	if !blocked {
		t.Fatal("no case had several strips per task with partial strip and group blocks")
	}
}

// TestGEMMPlan checks the task plan's invariants over CogVLM's prefill
// shapes: the strips and one group block fit the budget unless one strip
// and one group alone exceed it, every thread gets four tasks where the
// strips allow, and at least one strip and one group per task.
func TestGEMMPlan(t *testing.T) {
	for _, wt := range []quant.Type{quant.Q4_0, quant.Q8_0, quant.Q4_K, quant.Q6_K} {
		sblk, ablk := gemmBlocks(wt)
		for _, sh := range []struct{ rows, k, n int }{
			{4096, 4096, 1228}, {11008, 4096, 1228}, {4096, 11008, 1228}, {1792, 1792, 1226}, {15360, 1792, 1226}, {1792, 15360, 1226}, {48, 256, 16},
		} {
			nb := sh.k / 32
			if wt.BlockSize() == 256 {
				nb = sh.k / 256
			}
			sb, gb := nb*sblk, nb*gemmCols*ablk
			nstrips, ngroups := (sh.rows+gemmRows-1)/gemmRows, (sh.n+gemmCols-1)/gemmCols
			for _, threads := range []int{1, 2, 4, 8} {
				for _, budget := range []int{512 << 10, 1 << 20} {
					sper, nchunks, gblk := gemmPlan(nstrips, ngroups, sb, gb, threads, budget)
					if sper < 1 || nchunks < 1 || gblk < 1 || nchunks > ngroups {
						t.Fatalf("%v %+v t%d: plan %d strips/task, %d chunks, %d groups/block", wt, sh, threads, sper, nchunks, gblk)
					}
					if sper*sb+gblk*gb > budget && (sper > 1 || gblk > 1) {
						t.Errorf("%v %+v t%d budget %d: %d strips of %d + %d groups of %d exceed it", wt, sh, threads, budget, sper, sb, gblk, gb)
					}
					if tasks := (nstrips + sper - 1) / sper * nchunks; tasks < min(4*threads, nstrips*ngroups) {
						t.Errorf("%v %+v t%d budget %d: %d tasks for %d threads", wt, sh, threads, budget, tasks, threads)
					}
				}
			}
		}
	}
}

// TestParseCacheSize covers sysfs's cache size forms and rejects sizes no
// core's L2 has.
func TestParseCacheSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"1024K\n", 1 << 20, true}, {"512K", 512 << 10, true}, {"2M", 2 << 20, true}, {"262144", 256 << 10, true},
		{"", 0, false}, {"K", 0, false}, {"-1K", 0, false}, {"0K", 0, false}, {"32K", 0, false}, {"128M", 0, false},
		{"99999999999999999999K", 0, false}, {"1.5M", 0, false},
	} {
		got, ok := parseCacheSize(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseCacheSize(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
