package grounding

import (
	"encoding/json"
	"image"
	"image/color"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []Box
	}{
		{"bare box", "[[302,189,584,776]]", []Box{{"", 302, 189, 584, 776}}},
		{"phrases", "The cat[[302,189,584,776]] is lying on a couch [[000,393,998,999]].",
			[]Box{{"The cat", 302, 189, 584, 776}, {"is lying on a couch", 0, 393, 998, 999}}},
		{"several in one bracket", "two remotes [[086,540,400,760;500,200,700,500]]",
			[]Box{{"two remotes", 86, 540, 400, 760}, {"two remotes", 500, 200, 700, 500}}},
		{"sentence break starts the phrase", "It is a photo. A dog [[1,2,3,4]]", []Box{{"A dog", 1, 2, 3, 4}}},
		{"spaces inside", "x [[ 10 , 20 ,30, 40 ]]", []Box{{"x", 10, 20, 30, 40}}},
		{"swapped corners", "[[600,700,100,200]]", []Box{{"", 100, 200, 600, 700}}},
		{"1000 allowed", "[[0,0,1000,1000]]", []Box{{"", 0, 0, 1000, 1000}}},
		{"bad group skipped, good kept", "a [[1,2,3;4,5,6,7]]", []Box{{"a", 4, 5, 6, 7}}},
		{"out of range", "[[0,0,1001,5]]", nil},
		{"five numbers", "[[1,2,3,4,5]]", nil},
		{"negative", "[[-1,2,3,4]]", nil},
		{"not digits", "[[x0,y0,x1,y1]]", nil},
		{"too many digits", "[[00001,2,3,4]]", nil},
		{"unclosed", "a cat [[1,2,3,4", nil},
		{"empty group", "[[]]", nil},
		{"no boxes", "just text", nil},
		{"phrase after a bad group spans it", "a [[oops]] b [[1,2,3,4]]", []Box{{"a [[oops]] b", 1, 2, 3, 4}}},
		{"CogAgent action", "CLICK(box=[[100,200,300,400]])", []Box{{"CLICK(box=", 100, 200, 300, 400}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Parse(tc.text)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%q) = %+v, want %+v", tc.text, got, tc.want)
			}
		})
	}
}

func TestInPixels(t *testing.T) {
	for _, tc := range []struct {
		w, h int
		in   Box
		want Box
	}{
		{640, 480, Box{"c", 0, 0, 1000, 1000}, Box{"c", 0, 0, 640, 480}},
		{640, 480, Box{"c", 500, 500, 999, 999}, Box{"c", 320, 240, 639, 480}}, // 999*480/1000 = 479.52
		{451, 300, Box{"", 302, 189, 584, 776}, Box{"", 136, 57, 263, 233}},    // 136.202, 56.7, 263.384, 232.8
		{1, 1, Box{"", 499, 500, 0, 1000}, Box{"", 0, 1, 0, 1}},
	} {
		got := InPixels([]Box{tc.in}, tc.w, tc.h)[0]
		if got != tc.want {
			t.Errorf("InPixels(%+v, %d, %d) = %+v, want %+v", tc.in, tc.w, tc.h, got, tc.want)
		}
	}
}

func TestParseAnswerJSON(t *testing.T) {
	b, err := json.Marshal(ParseAnswer("no box here", 10, 10))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"text":"no box here","boxes":[]}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
	b, _ = json.Marshal(ParseAnswer("cat [[100,200,300,400]]", 1000, 500))
	if want := `{"text":"cat [[100,200,300,400]]","boxes":[{"phrase":"cat","x0":100,"y0":100,"x1":300,"y1":200}]}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
}

func TestDraw(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 200, 120))
	grey := color.RGBA{90, 90, 90, 255}
	for i := 0; i < len(src.Pix); i += 4 {
		copy(src.Pix[i:], []uint8{grey.R, grey.G, grey.B, grey.A})
	}
	box := Box{Phrase: "cat", X0: 40, Y0: 50, X1: 150, Y1: 110}
	out := Draw(src, []Box{box}, 3)
	red := Palette[0]
	for _, p := range []image.Point{
		{40, 80}, {42, 80}, {149, 80}, {147, 80}, // left and right edges, 3 wide
		{90, 50}, {90, 52}, {90, 109}, {90, 107}, // top and bottom
	} {
		if got := out.RGBAAt(p.X, p.Y); got != red {
			t.Errorf("pixel %v = %v, want the box colour %v", p, got, red)
		}
	}
	for _, p := range []image.Point{{39, 80}, {43, 80}, {150, 80}, {146, 80}, {90, 53}, {90, 110}, {90, 106}, {90, 80}} {
		if got := out.RGBAAt(p.X, p.Y); got != grey {
			t.Errorf("pixel %v = %v, want the picture %v", p, got, grey)
		}
	}
	// the label tag sits above the top edge and holds white text
	white := 0
	for y := 50 - 17; y < 50; y++ {
		for x := 40; x < 80; x++ {
			if out.RGBAAt(x, y) == (color.RGBA{255, 255, 255, 255}) {
				white++
			}
		}
	}
	if white == 0 {
		t.Error("no label text above the box")
	}
	if src.RGBAAt(40, 80) != grey {
		t.Error("Draw changed its input")
	}
	// a box outside the picture draws nothing; one crossing it is clipped
	out = Draw(src, []Box{{X0: 300, Y0: 300, X1: 400, Y1: 400}, {X0: 180, Y0: -10, X1: 260, Y1: 60}}, 2)
	if got := out.RGBAAt(199, 30); got != Palette[1] {
		t.Errorf("clipped box: right edge pixel = %v, want %v", got, Palette[1])
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"The cat[[302,189,584,776]] on a mat [[1,2,3,4;5,6,7,8]].", "[[", "]][[1,2,3,4]]", "[[9999,1,1,1]]", "a [[b]] [[1,1,1,1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		boxes := Parse(s)
		if len(boxes) > strings.Count(s, ",")/3 {
			t.Fatalf("%d boxes from %d commas", len(boxes), strings.Count(s, ","))
		}
		for _, b := range boxes {
			if b.X0 < 0 || b.Y0 < 0 || b.X1 > Scale || b.Y1 > Scale || b.X0 > b.X1 || b.Y0 > b.Y1 {
				t.Fatalf("box out of range: %+v", b)
			}
			if !strings.Contains(s, b.Phrase) {
				t.Fatalf("phrase %q not in the text", b.Phrase)
			}
			px := InPixels([]Box{b}, 640, 480)[0]
			if px.X1 > 640 || px.Y1 > 480 || px.X0 > px.X1 || px.Y0 > px.Y1 {
				t.Fatalf("pixel box out of the image: %+v", px)
			}
		}
		_ = Draw(image.NewRGBA(image.Rect(0, 0, 8, 8)), InPixels(boxes, 8, 8), 2)
	})
}
