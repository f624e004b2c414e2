package quant

import (
	"math"
	"math/rand/v2"
	"testing"
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

func TestLaneKernelsMatchGo(t *testing.T) {
	if !useSIMD {
		t.Skip("no assembly lane kernels on this build or CPU; the Go twins are what runs")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for trial := 0; trial < 3000; trial++ {
		var xm, x, w [32]float32
		var is, sc, mi [qkx2Lanes]float32
		for i := range x {
			xm[i], x[i], w[i] = laneValue(rng), laneValue(rng), laneValue(rng)
			if trial%2 == 0 { // mostly well-formed
				x[i] = float32(rng.NormFloat64())
				xm[i] = x[i] + 3
				w[i] = float32(rng.ExpFloat64())
			}
		}
		for k := range is {
			is[k], sc[k], mi[k] = laneValue(rng)*8, laneValue(rng), laneValue(rng)
			// A NaN times a NaN gives either operand's payload as the
			// compiler orders them, and the payload decides nearest_int's
			// garbage; so scales are never NaN here. In the quantizers a
			// NaN scale comes only from a NaN x[0], which also makes every
			// weight NaN, so no such level is ever chosen.
			for is[k] != is[k] {
				is[k] = laneValue(rng) * 8
			}
		}
		nmax := int32([]int{15, 31}[trial%2])
		var lv1, lv2 [32][qkx2Lanes]float32
		var s1, s2 [3][qkx2Lanes]float32
		qkx2Sums(&xm, &x, &w, &is, nmax, &lv1, &s1)
		qkx2SumsGo(&xm, &x, &w, &is, nmax, &lv2, &s2)
		for k := 0; k < qkx2Lanes; k++ {
			for i := range lv1 {
				if !sameF32(lv1[i][k], lv2[i][k]) {
					t.Fatalf("trial %d: qkx2Sums level [%d][%d] = %v, Go %v (is %#x, xm %#x)", trial, i, k, lv1[i][k], lv2[i][k], math.Float32bits(is[k]), math.Float32bits(xm[i]))
				}
			}
			for j := range s1 {
				if !sameF32(s1[j][k], s2[j][k]) {
					t.Fatalf("trial %d: qkx2Sums sum %d lane %d = %v, Go %v", trial, j, k, s1[j][k], s2[j][k])
				}
			}
		}
		var e1, e2 [qkx2Lanes]float32
		qkx2Err(&x, &w, &lv1, &sc, &mi, &e1)
		qkx2ErrGo(&x, &w, &lv1, &sc, &mi, &e2)
		for k := range e1 {
			if !sameF32(e1[k], e2[k]) {
				t.Fatalf("trial %d: qkx2Err lane %d = %v, Go %v", trial, k, e1[k], e2[k])
			}
		}
		x16, wv, w16 := (*[16]float32)(x[:16]), (*[16]float32)(xm[16:]), (*[16]float32)(w[:16])
		var q1, q2 [2][qkx2Lanes]float32
		qxSums(x16, wv, w16, &is, &q1)
		qxSumsGo(x16, wv, w16, &is, &q2)
		for j := range q1 {
			for k := range q1[j] {
				if !sameF32(q1[j][k], q2[j][k]) {
					t.Fatalf("trial %d: qxSums sum %d lane %d = %v, Go %v", trial, j, k, q1[j][k], q2[j][k])
				}
			}
		}
	}
}
