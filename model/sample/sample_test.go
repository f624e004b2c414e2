package sample

import (
	"math"
	"testing"
)

func TestGreedy(t *testing.T) {
	tests := []struct {
		name   string
		logits []float32
		hist   []int32
		p      Params
		want   int32
	}{
		{"max", []float32{0.1, 3, -1, 2}, nil, Params{}, 1},
		{"tie lowest id", []float32{1, 5, 5, 0}, nil, Params{}, 1},
		{"nan skipped", []float32{float32(math.NaN()), 1, 2}, nil, Params{}, 2},
		// 3/2 = 1.5 < 2: the penalty moves the choice to id 3
		{"penalty positive", []float32{0, 3, -1, 2}, []int32{1}, Params{RepeatPenalty: 2}, 3},
		// -0.5*2 = -1 < -0.8
		{"penalty negative", []float32{-0.5, -0.8, -3}, []int32{0}, Params{RepeatPenalty: 2}, 1},
		{"penalty window", []float32{0, 3, -1, 2}, []int32{1, 0, 0}, Params{RepeatPenalty: 2, RepeatLastN: 2}, 1},
		{"penalty once per id", []float32{0, 3, -1, 2}, []int32{1, 1, 1}, Params{RepeatPenalty: 1.4}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := append([]float32(nil), tc.logits...)
			if got := New(tc.p).Sample(l, tc.hist); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

// TestDistribution draws many samples and checks the frequencies against
// the softmax probabilities after top-k / top-p truncation.
func TestDistribution(t *testing.T) {
	logits := []float32{2, 1, 0.5, 0, -1}
	soft := func(temp float64, keep int) []float64 {
		p := make([]float64, len(logits))
		s := 0.0
		for i := 0; i < keep; i++ {
			p[i] = math.Exp(float64(logits[i]) / temp)
			s += p[i]
		}
		for i := range p {
			p[i] /= s
		}
		return p
	}
	tests := []struct {
		name string
		p    Params
		want []float64
	}{
		{"temp 1", Params{Temperature: 1}, soft(1, 5)},
		{"temp 0.5", Params{Temperature: 0.5}, soft(0.5, 5)},
		{"top-k 2", Params{Temperature: 1, TopK: 2}, soft(1, 2)},
		// softmax(T=1) = .55 .20 .12 .07 .03: top-p 0.8 keeps 3 (0.55+0.20 < 0.8)
		{"top-p 0.8", Params{Temperature: 1, TopP: 0.8}, soft(1, 3)},
	}
	const n = 40000
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.Seed = 7
			s := New(tc.p)
			counts := make([]int, len(logits))
			for i := 0; i < n; i++ {
				counts[s.Sample(append([]float32(nil), logits...), nil)]++
			}
			for i, w := range tc.want {
				got := float64(counts[i]) / n
				// 5 standard deviations of a binomial proportion
				tol := 5*math.Sqrt(w*(1-w)/n) + 1e-9
				if math.Abs(got-w) > tol {
					t.Errorf("token %d: frequency %.4f, want %.4f ± %.4f", i, got, w, tol)
				}
			}
		})
	}
}

func TestSeedReproducible(t *testing.T) {
	logits := []float32{0.3, 0.2, 0.1, 0, -0.1, -0.2}
	draw := func(seed uint64) []int32 {
		s := New(Params{Temperature: 1, Seed: seed})
		var out []int32
		for i := 0; i < 50; i++ {
			out = append(out, s.Sample(append([]float32(nil), logits...), nil))
		}
		return out
	}
	a, b, c := draw(1), draw(1), draw(2)
	same := func(x, y []int32) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("same seed gave different draws")
	}
	if same(a, c) {
		t.Error("different seeds gave identical 50-token draws")
	}
}
