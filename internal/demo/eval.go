package demo

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cogedge/cogedge/internal/shapes"
)

// Record is one graded question of an evaluation.
type Record struct {
	Index    uint64 // picture index
	Type     string
	Question string
	Want     string
	Got      string
	Right    bool
	IoU      float64 // grounding questions only
}

// TypeScore is the score of one question type.
type TypeScore struct {
	Type   string
	N      int
	Right  int
	IoUSum float64 // grounding questions only
}

// Accuracy is Right/N (0 when N is 0).
func (t TypeScore) Accuracy() float64 {
	if t.N == 0 {
		return 0
	}
	return float64(t.Right) / float64(t.N)
}

// MeanIoU is the mean IoU of the type's answers (grounding only).
func (t TypeScore) MeanIoU() float64 {
	if t.N == 0 {
		return 0
	}
	return t.IoUSum / float64(t.N)
}

// Report is the result of an evaluation.
type Report struct {
	Seed     uint64
	Pictures int
	Records  []Record
	Types    []TypeScore // in shapes.Types order
	Elapsed  time.Duration
}

// Overall returns the accuracy over every question.
func (r *Report) Overall() float64 {
	right := 0
	for _, x := range r.Records {
		if x.Right {
			right++
		}
	}
	if len(r.Records) == 0 {
		return 0
	}
	return float64(right) / float64(len(r.Records))
}

// Type returns the score of one type.
func (r *Report) Type(t string) TypeScore {
	for _, s := range r.Types {
		if s.Type == t {
			return s
		}
	}
	return TypeScore{Type: t}
}

// Evaluate asks every question type about pictures first..first+n-1 of seed
// and grades the answers. each, when not nil, sees every record as it is
// graded.
func Evaluate(a *Answerer, seed, first uint64, n int, each func(Record)) (*Report, error) {
	t0 := time.Now()
	r := &Report{Seed: seed, Pictures: n}
	idx := map[string]int{}
	for i, t := range shapes.Types {
		idx[t] = i
		r.Types = append(r.Types, TypeScore{Type: t})
	}
	for k := 0; k < n; k++ {
		pic := shapes.Generate(seed, first+uint64(k))
		if err := a.SetImage(pic.Draw()); err != nil {
			return nil, fmt.Errorf("picture %d: %w", first+uint64(k), err)
		}
		for _, q := range pic.Questions() {
			got, _, err := a.Ask(q.Text)
			if err != nil {
				return nil, fmt.Errorf("picture %d: %q: %w", first+uint64(k), q.Text, err)
			}
			right, iou := shapes.Score(q, got)
			rec := Record{Index: first + uint64(k), Type: q.Type, Question: q.Text, Want: q.Answer, Got: strings.TrimSpace(got), Right: right, IoU: iou}
			r.Records = append(r.Records, rec)
			s := &r.Types[idx[q.Type]]
			s.N++
			s.IoUSum += iou
			if right {
				s.Right++
			}
			if each != nil {
				each(rec)
			}
		}
	}
	r.Elapsed = time.Since(t0)
	return r, nil
}

// WriteTable prints the per-type accuracy table of r.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %9s %9s\n", "type", "questions", "accuracy")
	total := 0
	for _, s := range r.Types {
		fmt.Fprintf(&b, "%-8s %9d %8.1f%%", s.Type, s.N, 100*s.Accuracy())
		if s.Type == shapes.TypeGround {
			fmt.Fprintf(&b, "   mean IoU %.3f (right: IoU >= %.1f)", s.MeanIoU(), shapes.GroundIoUThreshold)
		}
		b.WriteByte('\n')
		total += s.N
	}
	fmt.Fprintf(&b, "%-8s %9d %8.1f%%\n", "overall", total, 100*r.Overall())
	_, err := io.WriteString(w, b.String())
	return err
}
