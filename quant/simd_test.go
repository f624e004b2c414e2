package quant

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// The lane kernels are tested against their Go twins on random and hostile
// values, lane by lane and bit for bit (any NaN equals any NaN: a NaN's
// payload never reaches the output, see qkx2SearchLanes). End to end, the
// differential test runs both with and without them.

func laneValue(rng *rand.Rand) float32 {
	switch rng.IntN(10) {
	case 0:
		return math.Float32frombits(rng.Uint32())
	case 1:
		return float32(rng.IntN(64)) / 2
	case 2:
		return []float32{0, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-45, 3e38, -3e38}[rng.IntN(7)]
	default:
		return float32(rng.NormFloat64())
	}
}

func TestQXSumsMatchGo(t *testing.T) {
	if !useSIMD {
		t.Skip("no assembly lane kernels on this build or CPU; the Go twins are what runs")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for trial := 0; trial < 3000; trial++ {
		var xm, x, w [32]float32
		var is [qkx2Lanes]float32
		for i := range x {
			xm[i], x[i], w[i] = laneValue(rng), laneValue(rng), laneValue(rng)
			if trial%2 == 0 { // mostly well-formed
				x[i] = float32(rng.NormFloat64())
				xm[i] = x[i] + 3
				w[i] = float32(rng.ExpFloat64())
			}
		}
		for k := range is {
			is[k] = laneValue(rng) * 8
			// A NaN times a NaN gives either operand's payload as the
			// compiler orders them, and the payload decides nearest_int's
			// garbage; so scales are never NaN here. In the quantizers a
			// NaN scale comes only from a NaN x[0], which also makes every
			// weight NaN, so no such level is ever chosen.
			for is[k] != is[k] {
				is[k] = laneValue(rng) * 8
			}
		}
		x16, wv, w16 := (*[16]float32)(x[:16]), (*[16]float32)(xm[16:]), (*[16]float32)(w[:16])
		var q1, q2 [2][qkx2Lanes]float32
		var is1, is2 [qkx2Lanes]float32
		max := laneValue(rng)
		for max != max {
			max = laneValue(rng)
		}
		qxSums(x16, wv, w16, &is, max, &is1, &q1)
		qxSumsGo(x16, wv, w16, &is, max, &is2, &q2)
		for k := range is1 {
			if !sameF32(is1[k], is2[k]) {
				t.Fatalf("trial %d: qxSums scale lane %d = %v, Go %v", trial, k, is1[k], is2[k])
			}
		}
		for j := range q1 {
			for k := range q1[j] {
				if !sameF32(q1[j][k], q2[j][k]) {
					t.Fatalf("trial %d: qxSums sum %d lane %d = %v, Go %v", trial, j, k, q1[j][k], q2[j][k])
				}
			}
		}
	}
}

// TestQKX2FrameLayout pins the field offsets simd_amd64.s uses.
func TestQKX2FrameLayout(t *testing.T) {
	var f qkx2Frame
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"xm", unsafe.Offsetof(f.xm), 0}, {"x", unsafe.Offsetof(f.x), 128}, {"w", unsafe.Offsetof(f.w), 256},
		{"lv", unsafe.Offsetof(f.lv), 384}, {"isc", unsafe.Offsetof(f.isc), 1408}, {"D", unsafe.Offsetof(f.D), 1440},
		{"sc", unsafe.Offsetof(f.sc), 1472}, {"mi", unsafe.Offsetof(f.mi), 1504}, {"e", unsafe.Offsetof(f.e), 1536},
		{"base", unsafe.Offsetof(f.base), 1568}, {"rmin", unsafe.Offsetof(f.rmin), 1572},
		{"rdelta", unsafe.Offsetof(f.rdelta), 1576}, {"fnmax", unsafe.Offsetof(f.fnmax), 1580},
		{"span", unsafe.Offsetof(f.span), 1584}, {"sumW", unsafe.Offsetof(f.sumW), 1588},
		{"sumX", unsafe.Offsetof(f.sumX), 1592}, {"nmax", unsafe.Offsetof(f.nmax), 1596},
		{"size", unsafe.Sizeof(f), 1600},
	} {
		if c.got != c.want {
			t.Errorf("qkx2Frame.%s at %d, simd_amd64.s says %d", c.name, c.got, c.want)
		}
	}
}

// TestQKX2GroupMatchesGo compares the whole group kernel with its twin.
func TestQKX2GroupMatchesGo(t *testing.T) {
	if !useSIMD {
		t.Skip("no assembly lane kernels on this build or CPU; the Go twins are what runs")
	}
	rng := rand.New(rand.NewPCG(23, 24))
	for trial := 0; trial < 3000; trial++ {
		var f qkx2Frame
		for i := range f.x {
			f.x[i] = laneValue(rng)
			if trial%2 == 0 {
				f.x[i] = float32(rng.NormFloat64())
			}
			f.w[i] = float32(rng.ExpFloat64())
			if trial%7 == 0 {
				f.w[i] = laneValue(rng)
			}
		}
		f.base = float32(rng.IntN(21))
		f.rmin, f.rdelta = []float32{-1, -0.5}[trial%2], 0.1
		f.nmax = int32([]int{15, 31}[trial%2])
		f.fnmax = float32(f.nmax)
		mn := min(float32(0), float32(-rng.ExpFloat64()))
		for i, v := range f.x {
			f.xm[i] = v - mn
		}
		f.span = float32(rng.ExpFloat64()*4) - mn
		if trial%11 == 0 {
			f.span = laneValue(rng) // NaN spans are excluded: see TestQXSumsMatchGo
			for f.span != f.span {
				f.span = laneValue(rng)
			}
		}
		for i := range f.x {
			f.sumW += f.w[i]
			f.sumX += float32(f.w[i] * f.x[i])
		}
		g := f
		qkx2Group(&f)
		qkx2GroupGo(&g)
		for k := 0; k < qkx2Lanes; k++ {
			for _, c := range []struct {
				name string
				a, b float32
			}{{"isc", f.isc[k], g.isc[k]}, {"D", f.D[k], g.D[k]}, {"sc", f.sc[k], g.sc[k]}, {"mi", f.mi[k], g.mi[k]}, {"e", f.e[k], g.e[k]}} {
				if !sameF32(c.a, c.b) {
					t.Fatalf("trial %d lane %d: %s = %v, Go %v", trial, k, c.name, c.a, c.b)
				}
			}
			for i := range f.lv {
				if !sameF32(f.lv[i][k], g.lv[i][k]) {
					t.Fatalf("trial %d: level [%d][%d] = %v, Go %v", trial, i, k, f.lv[i][k], g.lv[i][k])
				}
			}
		}
	}
}

// TestIQ4NLSumsMatchGo compares the IQ4_NL fit kernel with its twin,
// including inverse scales that put id·x exactly on the table midpoints.
func TestIQ4NLSumsMatchGo(t *testing.T) {
	if !useSIMD {
		t.Skip("no assembly lane kernels on this build or CPU; the Go twins are what runs")
	}
	rng := rand.New(rand.NewPCG(25, 26))
	for trial := 0; trial < 5000; trial++ {
		var x, w [32]float32
		var id [qkx2Lanes]float32
		for i := range x {
			switch trial % 3 {
			case 0:
				x[i] = float32(rng.NormFloat64())
			case 1: // on or next to a midpoint or entry after scaling by id = 1
				k := 1 + rng.IntN(15)
				v := (float32(kvaluesIQ4NL[k-1]) + float32(kvaluesIQ4NL[k])) / 2
				if rng.IntN(3) == 0 {
					v = float32(kvaluesIQ4NL[k])
				}
				x[i] = math.Float32frombits(math.Float32bits(v) + uint32(rng.IntN(3)) - 1)
			default:
				x[i] = laneValue(rng)
			}
			w[i] = x[i] * x[i]
		}
		for k := range id {
			id[k] = float32(rng.NormFloat64()*0.1) + 1
			if trial%3 == 1 {
				id[k] = 1
			}
			if trial%3 == 2 { // hostile but never NaN (see TestQXSumsMatchGo)
				id[k] = laneValue(rng)
				for id[k] != id[k] {
					id[k] = laneValue(rng)
				}
			}
		}
		var s1, s2 [2][qkx2Lanes]float32
		iq4nlSums(&x, &w, &id, &s1)
		iq4nlSumsGo(&x, &w, &id, &s2)
		for j := range s1 {
			for k := range s1[j] {
				if !sameF32(s1[j][k], s2[j][k]) {
					t.Fatalf("trial %d: iq4nlSums sum %d lane %d = %v, Go %v", trial, j, k, s1[j][k], s2[j][k])
				}
			}
		}
	}
}

// TestQKX2PrologueLayout pins the field offsets simd_amd64.s uses.
func TestQKX2PrologueLayout(t *testing.T) {
	var p qkx2Prologue
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"xt", unsafe.Offsetof(p.xt), 0}, {"wt", unsafe.Offsetof(p.wt), 1024}, {"lt", unsafe.Offsetof(p.lt), 2048},
		{"mn", unsafe.Offsetof(p.mn), 3072}, {"mx", unsafe.Offsetof(p.mx), 3104}, {"sumW", unsafe.Offsetof(p.sumW), 3136},
		{"sumX", unsafe.Offsetof(p.sumX), 3168}, {"scale", unsafe.Offsetof(p.scale), 3200},
		{"bestErr", unsafe.Offsetof(p.bestErr), 3232}, {"fnmax", unsafe.Offsetof(p.fnmax), 3264},
		{"nmax", unsafe.Offsetof(p.nmax), 3268}, {"size", unsafe.Sizeof(p), 3272},
	} {
		if c.got != c.want {
			t.Errorf("qkx2Prologue.%s at %d, simd_amd64.s says %d", c.name, c.got, c.want)
		}
	}
}

// TestQKX2PrologueMatchesGo compares the prologue kernel with its twin on
// gaussian, signed-zero, constant, tie and hostile sub-blocks.
func TestQKX2PrologueMatchesGo(t *testing.T) {
	if !useSIMD {
		t.Skip("no assembly lane kernels on this build or CPU; the Go twins are what runs")
	}
	rng := rand.New(rand.NewPCG(27, 28))
	for trial := 0; trial < 3000; trial++ {
		var p qkx2Prologue
		for j := 0; j < qkx2Lanes; j++ {
			kind := rng.IntN(6)
			c := float32(rng.NormFloat64())
			for i := range p.xt {
				var v float32
				switch kind {
				case 0:
					v = float32(rng.NormFloat64())
				case 1: // signed zeros and tiny values
					v = []float32{0, float32(math.Copysign(0, -1)), 1e-45, -1e-45}[rng.IntN(4)]
				case 2: // constant
					v = c
				case 3: // all positive
					v = float32(rng.ExpFloat64())
				case 4: // halves: rounding ties
					v = float32(rng.IntN(33)-16) / 2
				default: // hostile, never NaN (see maskNaNBlocks)
					v = laneValue(rng)
					for v != v {
						v = laneValue(rng)
					}
				}
				p.xt[i][j] = v
			}
		}
		p.nmax = int32([]int{15, 31}[trial%2])
		p.fnmax = float32(p.nmax)
		g := p
		qkx2PrologueRun(&p)
		qkx2PrologueGo(&g)
		for j := 0; j < qkx2Lanes; j++ {
			for _, c := range []struct {
				name string
				a, b float32
			}{{"mn", p.mn[j], g.mn[j]}, {"mx", p.mx[j], g.mx[j]}, {"sumW", p.sumW[j], g.sumW[j]}, {"sumX", p.sumX[j], g.sumX[j]},
				{"scale", p.scale[j], g.scale[j]}, {"bestErr", p.bestErr[j], g.bestErr[j]}} {
				if !sameF32(c.a, c.b) {
					t.Fatalf("trial %d lane %d: %s = %v, Go %v", trial, j, c.name, c.a, c.b)
				}
			}
			for i := range p.wt {
				if !sameF32(p.wt[i][j], g.wt[i][j]) || !sameF32(p.lt[i][j], g.lt[i][j]) {
					t.Fatalf("trial %d lane %d element %d: w %v l %v, Go w %v l %v", trial, j, i, p.wt[i][j], p.lt[i][j], g.wt[i][j], g.lt[i][j])
				}
			}
		}
	}
}
