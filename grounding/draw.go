package grounding

import (
	"image"
	"image/color"
	"image/draw"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Palette colours the boxes in turn: saturated colours that stand out on
// photographs.
var Palette = []color.RGBA{
	{255, 0, 0, 255}, {0, 200, 0, 255}, {0, 90, 255, 255}, {255, 170, 0, 255},
	{220, 0, 220, 255}, {0, 210, 210, 255},
}

// Draw returns a copy of img with each box (in pixels of img) outlined in
// Palette[i % len(Palette)] and labelled with its number and phrase in a
// filled tag above its top-left corner (inside the box when there is no
// room above). Outlines are thickness pixels wide, drawn inward from the
// box edges, so the outer edge of a box is exactly at X0/Y0 and X1/Y1 - 1.
// Boxes are clipped to the image.
func Draw(img image.Image, boxes []Box, thickness int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	thickness = max(thickness, 1)
	for i, bx := range boxes {
		c := Palette[i%len(Palette)]
		r := image.Rect(bx.X0, bx.Y0, bx.X1, bx.Y1).Intersect(out.Bounds())
		if r.Empty() {
			continue
		}
		outline(out, r, thickness, c)
		label(out, r, strconv.Itoa(i+1)+" "+bx.Phrase, c)
	}
	return out
}

// outline draws the border of r, t pixels wide, inside r.
func outline(dst *image.RGBA, r image.Rectangle, t int, c color.RGBA) {
	u := image.NewUniform(c)
	t = min(t, (r.Dx()+1)/2, (r.Dy()+1)/2)
	for _, side := range []image.Rectangle{
		image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+t), // top
		image.Rect(r.Min.X, r.Max.Y-t, r.Max.X, r.Max.Y), // bottom
		image.Rect(r.Min.X, r.Min.Y, r.Min.X+t, r.Max.Y), // left
		image.Rect(r.Max.X-t, r.Min.Y, r.Max.X, r.Max.Y), // right
	} {
		draw.Draw(dst, side, u, image.Point{}, draw.Src)
	}
}

// label writes text in white on a tag of colour c, above r's top-left
// corner when it fits there, else just inside it.
func label(dst *image.RGBA, r image.Rectangle, text string, c color.RGBA) {
	face := basicfont.Face7x13
	const pad = 2
	w := font.MeasureString(face, text).Ceil() + 2*pad
	h := face.Height + 2*pad
	top := r.Min.Y - h
	if top < 0 {
		top = r.Min.Y
	}
	tag := image.Rect(r.Min.X, top, r.Min.X+w, top+h).Intersect(dst.Bounds())
	draw.Draw(dst, tag, image.NewUniform(c), image.Point{}, draw.Src)
	d := font.Drawer{Dst: dst, Src: image.White, Face: face,
		Dot: fixed.P(r.Min.X+pad, top+pad+face.Ascent)}
	d.DrawString(text)
}
