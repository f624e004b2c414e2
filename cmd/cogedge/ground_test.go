package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/grounding"
)

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func rgbaAt(img image.Image, x, y int) color.RGBA {
	return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
}

// TestGroundDraw writes the boxes of an answer on chelsea.png (451 x 300)
// with `ground --draw`, decodes the PNG and finds each box's edges at the
// pixels the thousandths give: x = round(v * 451 / 1000), y = v * 300 /
// 1000, outlines 2 px wide inside the box; every other pixel of the
// scanned lines is the original picture's.
func TestGroundDraw(t *testing.T) {
	out := filepath.Join(t.TempDir(), "boxes.png")
	answer := "The cat[[100,200,500,800]] sits near a ball[[600,820,900,950]]."
	var so, se bytes.Buffer
	if code := run([]string{"ground", "--image", chelsea, "--answer", answer, "--draw", out, "--json"}, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	var res grounding.Result
	if err := json.Unmarshal(so.Bytes(), &res); err != nil {
		t.Fatalf("%q: %v", so.String(), err)
	}
	want := []grounding.Box{
		{Phrase: "The cat", X0: 45, Y0: 60, X1: 226, Y1: 240},            // 45.1, 60, 225.5, 240
		{Phrase: "sits near a ball", X0: 271, Y0: 246, X1: 406, Y1: 285}, // 270.6, 246, 405.9, 285
	}
	if res.Text != answer || !reflect.DeepEqual(res.Boxes, want) {
		t.Fatalf("printed %+v, want text %q and boxes %+v", res, answer, want)
	}
	got := decodePNG(t, out)
	src := decodePNG(t, chelsea)
	if got.Bounds() != src.Bounds() {
		t.Fatalf("drawn picture %v, original %v", got.Bounds(), src.Bounds())
	}
	H, W := src.Bounds().Dy(), src.Bounds().Dx()
	for i, b := range want {
		c := grounding.Palette[i]
		// a row through the middle: the left and right edges
		y := (b.Y0 + b.Y1) / 2
		var xs []int
		for x := 0; x < W; x++ {
			if p := rgbaAt(got, x, y); p == c {
				xs = append(xs, x)
			} else if p != rgbaAt(src, x, y) {
				t.Errorf("box %d: pixel (%d,%d) = %v, neither the box colour nor the picture's %v", i+1, x, y, p, rgbaAt(src, x, y))
			}
		}
		if w := []int{b.X0, b.X0 + 1, b.X1 - 2, b.X1 - 1}; !reflect.DeepEqual(xs, w) {
			t.Errorf("box %d: row %d has the box colour at x = %v, want %v", i+1, y, xs, w)
		}
		// a column through the middle, from the top edge down (the label
		// sits above the box): the top and bottom edges
		x := (b.X0 + b.X1) / 2
		var ys []int
		for y := b.Y0; y < H; y++ {
			if p := rgbaAt(got, x, y); p == c {
				ys = append(ys, y)
			} else if p != rgbaAt(src, x, y) {
				t.Errorf("box %d: pixel (%d,%d) = %v, neither the box colour nor the picture's", i+1, x, y, p)
			}
		}
		if w := []int{b.Y0, b.Y0 + 1, b.Y1 - 2, b.Y1 - 1}; !reflect.DeepEqual(ys, w) {
			t.Errorf("box %d: column %d has the box colour at y = %v, want %v", i+1, x, ys, w)
		}
		// the label: a tag of the box colour just above it, with white text
		white := 0
		for y := b.Y0 - 17; y < b.Y0; y++ {
			for x := b.X0; x < b.X0+40; x++ {
				if rgbaAt(got, x, y) == (color.RGBA{255, 255, 255, 255}) {
					white++
				}
			}
		}
		if white == 0 {
			t.Errorf("box %d: no label text above it", i+1)
		}
	}
	// the text form names each box in pixels
	so.Reset()
	if code := run([]string{"ground", "--image", chelsea, "--answer", answer}, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	if !strings.Contains(so.String(), `box 2: "sits near a ball" x0=271 y0=246 x1=406 y1=285`) {
		t.Errorf("text output %q", so.String())
	}
}

// TestGroundModel asks the tiny model: the printed text is `run`'s answer
// to the same question, the JSON parses, and --draw refuses to replace
// the picture it reads before the model loads.
func TestGroundModel(t *testing.T) {
	q := "Where is the cat? answer in [[x0,y0,x1,y1]] format."
	var so, se bytes.Buffer
	out := filepath.Join(t.TempDir(), "out.png")
	if code := run([]string{"ground", "-m", tinyQ8, "--image", chelsea, "-p", q, "--json", "-n", "12", "--no-image-cache", "--draw", out}, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	var res grounding.Result
	if err := json.Unmarshal(so.Bytes(), &res); err != nil {
		t.Fatalf("%q: %v", so.String(), err)
	}
	if want := runAnswer(t, "--image", chelsea, "-p", q); res.Text+"\n" != want {
		t.Errorf("ground's text %q, run's answer %q", res.Text, want)
	}
	if !reflect.DeepEqual(res.Boxes, grounding.ParseAnswer(res.Text, 451, 300).Boxes) {
		t.Errorf("boxes %+v do not match the text", res.Boxes)
	}
	if got := decodePNG(t, out); got.Bounds().Dx() != 451 {
		t.Errorf("drawn picture %v", got.Bounds())
	}
	se.Reset()
	code := run([]string{"ground", "-m", "no-such-model.gguf", "--image", chelsea, "-p", q, "--draw", chelsea}, &so, &se)
	if code != 2 || !strings.Contains(se.String(), "is also an input") {
		t.Errorf("--draw onto the input: exit %d, stderr %q", code, se.String())
	}
}
