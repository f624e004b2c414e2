// Package shapes draws the demo's pictures: one to three coloured shapes on a
// plain or noisy background, deterministic from a seed and an index, with
// the ground-truth facts of each picture. The same pictures train the
// embedded demo model (tools/shapes writes them for the training script) and
// test it (cogedge demo --eval).
//
// Shapes sit on a coarse grid (centres at multiples of Canvas/8, three
// sizes), so every fact, including each box in thousandths, has a short
// exact answer.
package shapes

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// Canvas is the side of every picture in pixels: four times the demo
// model's 112-pixel input, so the resize to the model's input matters.
const Canvas = 448

// grid is the spacing of shape centres (Canvas/8 = 56 px).
const grid = Canvas / 8

// margin is the least gap in pixels between two shapes' boxes and between a
// box and the picture's edge.
const margin = 8

// Kinds of shape, in the order their names are listed.
var Kinds = []string{"circle", "square", "triangle", "star", "diamond"}

// Colour is a named shape colour.
type Colour struct {
	Name string
	RGB  [3]uint8
}

// Colours a shape can have.
var Colours = []Colour{
	{"red", [3]uint8{220, 40, 40}},
	{"green", [3]uint8{40, 170, 60}},
	{"blue", [3]uint8{40, 80, 220}},
	{"yellow", [3]uint8{235, 200, 30}},
	{"purple", [3]uint8{140, 60, 180}},
	{"orange", [3]uint8{245, 130, 20}},
}

// backgrounds are light, so every shape colour stands out.
var backgrounds = [][3]uint8{
	{255, 255, 255},
	{225, 225, 225},
	{240, 230, 210},
	{215, 230, 245},
}

// radii are the three shape sizes: half the side of the box a shape is
// drawn in, in pixels.
var radii = []int{36, 48, 60}

// Shape is one shape of a picture.
type Shape struct {
	Kind   string
	Colour string
	CX, CY int    // centre in pixels
	R      int    // half the side of the square the shape is drawn in
	Box    [4]int // tight bounding box in pixels: x0, y0, x1, y1 (x1, y1 exclusive)
}

// Picture is a generated picture and its facts.
type Picture struct {
	Seed, Index uint64
	Background  [3]uint8
	Noise       int // amplitude of the per-pixel background noise (0 = plain)
	Shapes      []Shape
}

// rng is splitmix64: tiny, and its stream is fixed forever (math/rand's may
// change between Go releases, and the pictures must not).
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); the modulo bias is below 2^-50 for the
// small n used here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func newRNG(seed, index, stream uint64) *rng {
	r := &rng{s: seed*0x100000001b3 ^ index*0x9e3779b97f4a7c15 ^ stream<<56}
	r.next()
	return r
}

// Generate returns picture index of seed: its facts, not yet drawn.
func Generate(seed, index uint64) Picture {
	r := newRNG(seed, index, 1)
	p := Picture{Seed: seed, Index: index, Background: backgrounds[r.intn(len(backgrounds))]}
	if r.intn(2) == 1 {
		p.Noise = 12 + r.intn(13)
	}
	n := 1 + r.intn(3)
	kinds := r.perm(len(Kinds))
	cols := r.perm(len(Colours))
	for i := 0; i < n; i++ {
		s := Shape{Kind: Kinds[kinds[i]], Colour: Colours[cols[i]].Name}
		for try := 0; ; try++ {
			s.R = radii[r.intn(len(radii))]
			s.CX = grid * (1 + r.intn(7))
			s.CY = grid * (1 + r.intn(7))
			s.Box = box(s.Kind, s.CX, s.CY, s.R)
			if fits(s.Box, p.Shapes) {
				break
			}
			if try == 1000 { // cannot happen with three shapes this size; keep what fits
				return p
			}
		}
		p.Shapes = append(p.Shapes, s)
	}
	return p
}

func (r *rng) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

func fits(b [4]int, others []Shape) bool {
	if b[0] < margin || b[1] < margin || b[2] > Canvas-margin || b[3] > Canvas-margin {
		return false
	}
	for _, o := range others {
		if b[0] < o.Box[2]+margin && o.Box[0] < b[2]+margin && b[1] < o.Box[3]+margin && o.Box[1] < b[3]+margin {
			return false
		}
	}
	return true
}

// polygon returns the vertices of a polygonal kind (nil for the circle).
func polygon(kind string, cx, cy, r int) [][2]float64 {
	x, y, f := float64(cx), float64(cy), float64(r)
	switch kind {
	case "square":
		s := 0.8 * f
		return [][2]float64{{x - s, y - s}, {x + s, y - s}, {x + s, y + s}, {x - s, y + s}}
	case "triangle":
		return [][2]float64{{x, y - f}, {x + f, y + f}, {x - f, y + f}}
	case "diamond":
		return [][2]float64{{x, y - f}, {x + 0.75*f, y}, {x, y + f}, {x - 0.75*f, y}}
	case "star":
		v := make([][2]float64, 10)
		for i := range v {
			rad := f
			if i%2 == 1 {
				rad = 0.45 * f
			}
			a := float64(i) * math.Pi / 5
			v[i] = [2]float64{x + rad*math.Sin(a), y - rad*math.Cos(a)}
		}
		return v
	}
	return nil
}

// box is the tight pixel box of a shape: the pixels whose centre is inside.
func box(kind string, cx, cy, r int) [4]int {
	b := [4]int{Canvas, Canvas, 0, 0}
	for y := cy - r - 1; y <= cy+r+1; y++ {
		for x := cx - r - 1; x <= cx+r+1; x++ {
			if inside(kind, cx, cy, r, float64(x)+0.5, float64(y)+0.5) {
				b[0], b[1] = min(b[0], x), min(b[1], y)
				b[2], b[3] = max(b[2], x+1), max(b[3], y+1)
			}
		}
	}
	return b
}

// inside reports whether point (px, py) is inside the shape.
func inside(kind string, cx, cy, r int, px, py float64) bool {
	if kind == "circle" {
		dx, dy := px-float64(cx), py-float64(cy)
		return dx*dx+dy*dy <= float64(r*r)
	}
	return inPolygon(polygon(kind, cx, cy, r), px, py)
}

// inPolygon is the even-odd crossing test.
func inPolygon(v [][2]float64, px, py float64) bool {
	in := false
	for i, j := 0, len(v)-1; i < len(v); j, i = i, i+1 {
		a, b := v[i], v[j]
		if (a[1] > py) != (b[1] > py) && px < (b[0]-a[0])*(py-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

// colourRGB returns the RGB of a colour name.
func colourRGB(name string) ([3]uint8, error) {
	for _, c := range Colours {
		if c.Name == name {
			return c.RGB, nil
		}
	}
	return [3]uint8{}, fmt.Errorf("shapes: unknown colour %q", name)
}

// Draw renders the picture at Canvas x Canvas pixels.
func (p Picture) Draw() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, Canvas, Canvas))
	r := newRNG(p.Seed, p.Index, 2)
	for i := 0; i < len(img.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			v := int(p.Background[c])
			if p.Noise > 0 {
				v += r.intn(2*p.Noise+1) - p.Noise
			}
			img.Pix[i+c] = uint8(min(max(v, 0), 255))
		}
		img.Pix[i+3] = 255
	}
	for _, s := range p.Shapes {
		rgb, err := colourRGB(s.Colour)
		if err != nil {
			continue // facts from Generate always name known colours
		}
		c := color.RGBA{rgb[0], rgb[1], rgb[2], 255}
		for y := s.Box[1]; y < s.Box[3]; y++ {
			for x := s.Box[0]; x < s.Box[2]; x++ {
				if inside(s.Kind, s.CX, s.CY, s.R, float64(x)+0.5, float64(y)+0.5) {
					img.SetRGBA(x, y, c)
				}
			}
		}
	}
	return img
}

// Thousandths is a box in CogVLM's grounding units: each coordinate divided
// by the picture's side, times 1000, rounded, at most 999.
func Thousandths(b [4]int) [4]int {
	var t [4]int
	for i, v := range b {
		t[i] = min(int(math.Round(float64(v)*1000/Canvas)), 999)
	}
	return t
}
