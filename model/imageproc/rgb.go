package imageproc

import (
	"image"
	"image/color"
)

// RGB is a packed 8-bit RGB image (3 bytes a pixel, no padding), the layout
// the resampler works on. Load returns one when it had to rotate a photo.
type RGB struct {
	Pix  []uint8 // len 3*W*H, row-major
	W, H int
}

// NewRGB wraps packed RGB bytes of w×h pixels. It returns nil if
// len(pix) != 3*w*h or a size is negative.
func NewRGB(pix []uint8, w, h int) *RGB {
	if w < 0 || h < 0 || len(pix) != 3*w*h {
		return nil
	}
	return &RGB{Pix: pix, W: w, H: h}
}

// ColorModel implements image.Image.
func (m *RGB) ColorModel() color.Model { return color.RGBAModel }

// Bounds implements image.Image; the origin is (0, 0).
func (m *RGB) Bounds() image.Rectangle { return image.Rect(0, 0, m.W, m.H) }

// At implements image.Image.
func (m *RGB) At(x, y int) color.Color {
	if x < 0 || y < 0 || x >= m.W || y >= m.H {
		return color.RGBA{}
	}
	p := m.Pix[3*(y*m.W+x):]
	return color.RGBA{p[0], p[1], p[2], 0xff}
}

// ToRGB converts any image to packed RGB as Pillow's convert("RGB") does:
// gray is replicated, alpha is dropped without compositing (the colour
// channels are kept as stored, straight alpha), paletted images are looked
// up in their palette, CMYK uses Pillow's cmyk2rgb formula. YCbCr images
// (Go's JPEG output) are upsampled and converted the way libjpeg(-turbo)
// does for Pillow: "fancy" triangular chroma upsampling for 4:2:0, 4:2:2 and
// 4:4:0 and the jdcolor.c fixed-point YCbCr→RGB tables. 16-bit channels keep
// their high byte (what Pillow does for 16-bit RGB/RGBA PNGs; Pillow opens
// 16-bit gray PNGs as mode "I" and clips them instead, which is not copied).
// Go's premultiplied RGBA images are un-premultiplied first.
func ToRGB(img image.Image) (rgb []uint8, w, h int) {
	b := img.Bounds()
	w, h = b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return nil, 0, 0
	}
	rgb = make([]uint8, 3*w*h)
	switch m := img.(type) {
	case *RGB:
		copy(rgb, m.Pix)
	case *image.YCbCr:
		ycbcrToRGB(rgb, m)
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			out := rgb[3*w*y:]
			for x, v := range row {
				out[3*x], out[3*x+1], out[3*x+2] = v, v, v
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			out := rgb[3*w*y:]
			for x := 0; x < w; x++ {
				out[3*x], out[3*x+1], out[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.Paletted:
		var pal [256][3]uint8
		for i, c := range m.Palette {
			if i >= len(pal) {
				break
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[i] = [3]uint8{n.R, n.G, n.B}
		}
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			out := rgb[3*w*y:]
			for x, v := range row {
				p := pal[v]
				out[3*x], out[3*x+1], out[3*x+2] = p[0], p[1], p[2]
			}
		}
	case *image.CMYK:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			out := rgb[3*w*y:]
			for x := 0; x < w; x++ {
				nk := 255 - int(row[4*x+3])
				out[3*x] = cmykChannel(row[4*x], nk)
				out[3*x+1] = cmykChannel(row[4*x+1], nk)
				out[3*x+2] = cmykChannel(row[4*x+2], nk)
			}
		}
	default:
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				n := color.NRGBA64Model.Convert(img.At(x, y)).(color.NRGBA64)
				rgb[i], rgb[i+1], rgb[i+2] = uint8(n.R>>8), uint8(n.G>>8), uint8(n.B>>8)
				i += 3
			}
		}
	}
	return rgb, w, h
}

// cmykChannel is one channel of Pillow's cmyk2rgb: nk - c*nk/255 with
// Pillow's MULDIV255 rounding, clipped.
func cmykChannel(c uint8, nk int) uint8 {
	t := int(c)*nk + 128
	v := nk - ((t>>8)+t)>>8
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
