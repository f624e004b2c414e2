package shapes

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Question types, in report order.
const (
	TypeShapes = "shapes" // which shapes are in the picture
	TypeColour = "colour" // what colour is the X
	TypeCount  = "count"  // how many shapes
	TypeExists = "exists" // is there a Y
	TypeWhere  = "where"  // where is the X (a third of the picture each way)
	TypeGround = "ground" // the box of the X in [[x0,y0,x1,y1]] thousandths
)

// Types lists every question type.
var Types = []string{TypeShapes, TypeColour, TypeCount, TypeExists, TypeWhere, TypeGround}

// Question is one question about a picture with its expected answer.
type Question struct {
	Type   string
	Text   string
	Answer string
	Shape  int // index of the shape asked about (colour, where, ground), else -1
}

var numberWords = []string{"Zero", "One", "Two", "Three"}

// Questions returns one question of every type about p, in Types order. The
// shape asked about, and for exists the kind asked for (present or not, half
// each), come from a stream of (seed, index) of their own, so the same
// picture always gets the same questions.
func (p Picture) Questions() []Question {
	r := newRNG(p.Seed, p.Index, 3)
	out := make([]Question, 0, len(Types))
	for _, t := range Types {
		out = append(out, p.question(t, r))
	}
	return out
}

func (p Picture) question(t string, r *rng) Question {
	q := Question{Type: t, Shape: -1}
	switch t {
	case TypeShapes:
		q.Text = "Which shapes are in the picture?"
		q.Answer = p.listAnswer()
	case TypeCount:
		q.Text = "How many shapes are there?"
		q.Answer = numberWords[len(p.Shapes)] + "."
	case TypeExists:
		var kind string
		if r.intn(2) == 0 || len(p.Shapes) == len(Kinds) {
			kind = p.Shapes[r.intn(len(p.Shapes))].Kind
		} else {
			var absent []string
			for _, k := range Kinds {
				if p.find(k) < 0 {
					absent = append(absent, k)
				}
			}
			kind = absent[r.intn(len(absent))]
		}
		q.Text = "Is there a " + kind + "?"
		q.Answer = "No."
		if p.find(kind) >= 0 {
			q.Answer = "Yes."
		}
	default: // about one shape
		i := r.intn(len(p.Shapes))
		s := p.Shapes[i]
		q.Shape = i
		switch t {
		case TypeColour:
			q.Text = "What color is the " + s.Kind + "?"
			q.Answer = capital(s.Colour) + "."
		case TypeWhere:
			q.Text = "Where is the " + s.Kind + "?"
			q.Answer = capital(region(s.CX, s.CY)) + "."
		case TypeGround:
			q.Text = "Where is the " + s.Kind + "? Answer in [[x0,y0,x1,y1]] format."
			q.Answer = FormatBox(Thousandths(s.Box))
		}
	}
	return q
}

func (p Picture) find(kind string) int {
	for i, s := range p.Shapes {
		if s.Kind == kind {
			return i
		}
	}
	return -1
}

// listAnswer names the shapes from left to right (top first on a tie):
// "A red circle, a blue star and a green square."
func (p Picture) listAnswer() string {
	s := append([]Shape(nil), p.Shapes...)
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].CX != s[j].CX {
			return s[i].CX < s[j].CX
		}
		return s[i].CY < s[j].CY
	})
	parts := make([]string, len(s))
	for i, sh := range s {
		art := "a "
		if strings.ContainsRune("aeiou", rune(sh.Colour[0])) {
			art = "an "
		}
		parts[i] = art + sh.Colour + " " + sh.Kind
	}
	var b strings.Builder
	for i, x := range parts {
		switch {
		case i == 0:
		case i == len(parts)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(x)
	}
	return capital(b.String()) + "."
}

// region names the third of the picture, each way, that a centre falls in.
func region(cx, cy int) string {
	third := func(v int, lo, mid, hi string) string {
		switch {
		case 3*v < Canvas:
			return lo
		case 3*v < 2*Canvas:
			return mid
		}
		return hi
	}
	v := third(cy, "top", "", "bottom")
	h := third(cx, "left", "", "right")
	switch {
	case v == "" && h == "":
		return "center"
	case v == "":
		return h
	case h == "":
		return v
	}
	return v + " " + h
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// FormatBox writes a box in CogVLM's grounding format, three digits each:
// [[086,540,400,760]].
func FormatBox(t [4]int) string {
	return fmt.Sprintf("[[%03d,%03d,%03d,%03d]]", t[0], t[1], t[2], t[3])
}

var boxRE = regexp.MustCompile(`\[\[(\d{1,4}),(\d{1,4}),(\d{1,4}),(\d{1,4})\]\]`)

// ParseBox reads the first [[x0,y0,x1,y1]] box of an answer.
func ParseBox(answer string) ([4]int, bool) {
	m := boxRE.FindStringSubmatch(answer)
	if m == nil {
		return [4]int{}, false
	}
	var t [4]int
	for i := range t {
		t[i], _ = strconv.Atoi(m[i+1]) // at most 4 digits: always fits
	}
	return t, true
}

// IoU is the intersection over union of two boxes (x1, y1 exclusive); 0 for
// empty or inverted boxes.
func IoU(a, b [4]int) float64 {
	area := func(t [4]int) int { return max(t[2]-t[0], 0) * max(t[3]-t[1], 0) }
	in := [4]int{max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])}
	ai, u := area(in), area(a)+area(b)-area(in)
	if u <= 0 {
		return 0
	}
	return float64(ai) / float64(u)
}

// GroundIoUThreshold is the IoU at which a grounding answer counts as right.
const GroundIoUThreshold = 0.5

// Score grades an answer to q: right or wrong, and for grounding questions
// the IoU of the answered box with the truth (0 when no box parses).
func Score(q Question, answer string) (right bool, iou float64) {
	answer = strings.TrimSpace(answer)
	if q.Type != TypeGround {
		return answer == q.Answer, 0
	}
	got, ok := ParseBox(answer)
	want, _ := ParseBox(q.Answer)
	if !ok {
		return false, 0
	}
	iou = IoU(got, want)
	return iou >= GroundIoUThreshold, iou
}
