package shapes

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGenerateDeterministic: the same seed and index give the same picture,
// other seeds or indices other pictures.
func TestGenerateDeterministic(t *testing.T) {
	a, b := Generate(5, 7), Generate(5, 7)
	if !slices.Equal(a.Draw().Pix, b.Draw().Pix) || !slices.Equal(a.Shapes, b.Shapes) {
		t.Fatal("same seed and index, different pictures")
	}
	differ := 0
	for i := uint64(0); i < 20; i++ {
		if !slices.Equal(Generate(5, i).Shapes, Generate(6, i).Shapes) {
			differ++
		}
	}
	if differ < 18 {
		t.Errorf("seeds 5 and 6 share %d of 20 pictures", 20-differ)
	}
}

// TestPictureFacts checks over many pictures that the facts hold in the
// drawn pixels: each shape's colour fills part of its box and touches all
// four sides of it, and appears nowhere outside the boxes; boxes keep the
// margin from each other and the edges.
func TestPictureFacts(t *testing.T) {
	counts := map[int]int{}
	kinds := map[string]int{}
	for i := uint64(0); i < 120; i++ {
		p := Generate(3, i)
		counts[len(p.Shapes)]++
		img := p.Draw()
		owner := make([]int, Canvas*Canvas) // which box a pixel is in (+1)
		for k, s := range p.Shapes {
			kinds[s.Kind]++
			if !fits(s.Box, slices.Concat(p.Shapes[:k], p.Shapes[k+1:])) {
				t.Fatalf("picture %d: shape %d box %v overlaps or leaves the picture", i, k, s.Box)
			}
			for y := s.Box[1]; y < s.Box[3]; y++ {
				for x := s.Box[0]; x < s.Box[2]; x++ {
					owner[y*Canvas+x] = k + 1
				}
			}
		}
		for _, s := range p.Shapes {
			rgb, _ := colourRGB(s.Colour)
			var touch [4]bool
			n := 0
			for y := s.Box[1]; y < s.Box[3]; y++ {
				for x := s.Box[0]; x < s.Box[2]; x++ {
					o := img.PixOffset(x, y)
					if [3]uint8(img.Pix[o:o+3]) == rgb {
						n++
						touch[0] = touch[0] || x == s.Box[0]
						touch[1] = touch[1] || y == s.Box[1]
						touch[2] = touch[2] || x == s.Box[2]-1
						touch[3] = touch[3] || y == s.Box[3]-1
					}
				}
			}
			area := (s.Box[2] - s.Box[0]) * (s.Box[3] - s.Box[1])
			if touch != [4]bool{true, true, true, true} || n < area/4 {
				t.Fatalf("picture %d: %s %s: %d of %d box pixels coloured, touches sides %v", i, s.Colour, s.Kind, n, area, touch)
			}
		}
		// background noise stays within 24 of the background, far from every shape colour
		for y := 0; y < Canvas; y += 7 {
			for x := 0; x < Canvas; x += 7 {
				if owner[y*Canvas+x] != 0 {
					continue
				}
				o := img.PixOffset(x, y)
				for c := 0; c < 3; c++ {
					if d := int(img.Pix[o+c]) - int(p.Background[c]); d > 24 || d < -24 {
						t.Fatalf("picture %d: background pixel (%d,%d) = %v, background %v", i, x, y, img.Pix[o:o+3], p.Background)
					}
				}
			}
		}
	}
	for n := 1; n <= 3; n++ {
		if counts[n] < 25 {
			t.Errorf("%d pictures of %d shapes in 120", counts[n], n)
		}
	}
	for _, k := range Kinds {
		if kinds[k] < 30 {
			t.Errorf("%d %ss in 120 pictures", kinds[k], k)
		}
	}
}

func TestRegion(t *testing.T) {
	tests := []struct {
		cx, cy int
		want   string
	}{
		{56, 56, "top left"}, {224, 56, "top"}, {392, 56, "top right"},
		{56, 224, "left"}, {224, 224, "center"}, {392, 224, "right"},
		{56, 392, "bottom left"}, {168, 392, "bottom"}, {336, 392, "bottom right"},
		{149, 149, "top left"}, {150, 150, "center"}, {149, 298, "left"}, {299, 299, "bottom right"},
	}
	for _, tc := range tests {
		if got := region(tc.cx, tc.cy); got != tc.want {
			t.Errorf("region(%d,%d) = %q, want %q", tc.cx, tc.cy, got, tc.want)
		}
	}
}

func TestQuestions(t *testing.T) {
	p := Picture{Seed: 1, Index: 1, Shapes: []Shape{
		{Kind: "star", Colour: "orange", CX: 336, CY: 112, R: 36, Box: box("star", 336, 112, 36)},
		{Kind: "circle", Colour: "red", CX: 112, CY: 336, R: 48, Box: box("circle", 112, 336, 48)},
	}}
	if got, want := p.listAnswer(), "A red circle and an orange star."; got != want {
		t.Errorf("list: %q, want %q", got, want)
	}
	if got := Thousandths(p.Shapes[1].Box); got != [4]int{143, 643, 357, 857} {
		t.Errorf("circle box in thousandths %v", got)
	}
	yes, no := 0, 0
	for i := uint64(0); i < 400; i++ {
		pic := Generate(9, i)
		qs := pic.Questions()
		if len(qs) != len(Types) {
			t.Fatalf("%d questions", len(qs))
		}
		for j, q := range qs {
			if q.Type != Types[j] {
				t.Fatalf("question %d of type %s, want %s", j, q.Type, Types[j])
			}
			if ok, _ := Score(q, q.Answer); !ok {
				t.Fatalf("the expected answer %q to %q scores wrong", q.Answer, q.Text)
			}
			switch q.Type {
			case TypeExists:
				kind := strings.TrimSuffix(strings.TrimPrefix(q.Text, "Is there a "), "?")
				if (pic.find(kind) >= 0) != (q.Answer == "Yes.") {
					t.Fatalf("%q answered %q for %+v", q.Text, q.Answer, pic.Shapes)
				}
				if q.Answer == "Yes." {
					yes++
				} else {
					no++
				}
			case TypeColour, TypeWhere, TypeGround:
				if !strings.Contains(q.Text, " "+pic.Shapes[q.Shape].Kind+"?") {
					t.Fatalf("%q is not about shape %d %+v", q.Text, q.Shape, pic.Shapes[q.Shape])
				}
			}
		}
	}
	if yes < 150 || no < 150 {
		t.Errorf("exists answers: %d yes, %d no", yes, no)
	}
}

func TestScoreAndBoxes(t *testing.T) {
	q := Question{Type: TypeGround, Answer: "[[100,100,300,300]]"}
	tests := []struct {
		got   string
		right bool
		iou   float64
	}{
		{"[[100,100,300,300]]", true, 1},
		{" [[100,100,300,200]]", true, 0.5},
		{"[[100,100,200,200]]", false, 0.25},
		{"[[300,300,400,400]]", false, 0},
		{"[[300,300,100,100]]", false, 0},
		{"somewhere", false, 0},
	}
	for _, tc := range tests {
		right, iou := Score(q, tc.got)
		if right != tc.right || iou != tc.iou {
			t.Errorf("Score(%q) = %v, %v; want %v, %v", tc.got, right, iou, tc.right, tc.iou)
		}
	}
	if r, _ := Score(Question{Type: TypeColour, Answer: "Red."}, " Red.\n"); !r {
		t.Error("surrounding space counted against an answer")
	}
	if FormatBox([4]int{5, 40, 600, 999}) != "[[005,040,600,999]]" {
		t.Error(FormatBox([4]int{5, 40, 600, 999}))
	}
	if Thousandths([4]int{0, 224, 447, 448}) != [4]int{0, 500, 998, 999} {
		t.Error(Thousandths([4]int{0, 224, 447, 448}))
	}
}

func TestWritePNG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.png")
	img := Generate(1, 0).Draw()
	if err := WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < Canvas; y += 13 {
		for x := 0; x < Canvas; x += 13 {
			if back.At(x, y) != img.At(x, y) {
				t.Fatalf("pixel (%d,%d) changed in the PNG", x, y)
			}
		}
	}
	link := filepath.Join(dir, "link.png")
	if err := os.Symlink(path, link); err == nil {
		if err := WritePNG(link, img); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Error("the symlink was replaced, not followed")
		}
	}
	if err := WritePNG(dir, img); err == nil {
		t.Error("replaced a folder")
	}
}
