package imageproc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFormatsToRGB decodes PNG (L, LA, RGBA, P with tRNS), GIF (with a
// transparent index), lossless WebP (RGB, RGBA) and lossy WebP (libwebp's
// upsampling and colour conversion reproduced) files written by Pillow and
// compares ToRGB with Pillow's convert("RGB"): all exact.
func TestFormatsToRGB(t *testing.T) {
	g := readGolden(t)
	if len(g.Formats) < 10 {
		t.Fatalf("golden.json lists %d format cases", len(g.Formats))
	}
	for _, f := range g.Formats {
		t.Run(f.File+"_"+f.Mode, func(t *testing.T) {
			rgb, w, h := loadRGB(t, f.File)
			if w != f.W || h != f.H {
				t.Fatalf("decoded %dx%d, want %dx%d", w, h, f.W, f.H)
			}
			if s := sha(rgb); s != f.SHA256 {
				t.Errorf("convert(\"RGB\") differs from Pillow's: sha256 %s, want %s", s, f.SHA256)
			}
		})
	}
}

// jpegBounds are the largest differences allowed between Go's decode (with
// this package's libjpeg-style upsampling and colour conversion) and
// Pillow's libjpeg-turbo decode: what remains comes from the IDCT.
// Measured on the fixtures, rounded up.
var jpegBounds = map[string]struct {
	max  int
	mean float64
}{
	// measured: max 3, mean 0.027..0.032, 2.4..2.8% of bytes differ
	"jpeg_rocket_444.jpg":     {3, 0.05},
	"jpeg_rocket_422.jpg":     {3, 0.05},
	"jpeg_rocket_420.jpg":     {3, 0.05},
	"jpeg_grace_420.jpg":      {3, 0.05},
	"jpeg_grace_420_prog.jpg": {3, 0.05},
	// measured: max 1, mean 0.017 / 0.021
	"jpeg_grace_gray.jpg": {1, 0.03},
	"jpeg_grace_cmyk.jpg": {1, 0.03},
}

// TestJPEGDecodeVsPillow measures Go-decoded JPEGs against Pillow's decode
// of the same files, for each chroma layout, progressive, gray and CMYK.
func TestJPEGDecodeVsPillow(t *testing.T) {
	g := readGolden(t)
	for _, j := range g.JPEG {
		t.Run(j.File, func(t *testing.T) {
			bound, ok := jpegBounds[j.File]
			if !ok {
				t.Fatalf("no bound for %s", j.File)
			}
			got, w, h := loadRGB(t, j.File)
			want, err := os.ReadFile(filepath.Join(imagesDir, j.File+".pillow.rgb"))
			if err != nil {
				t.Fatal(err)
			}
			if w != j.W || h != j.H || len(want) != len(got) {
				t.Fatalf("decoded %dx%d, Pillow %dx%d", w, h, j.W, j.H)
			}
			m, mean, n := maxDiff(got, want)
			t.Logf("vs Pillow: max |diff| %d, mean %.4f, %d of %d bytes differ", m, mean, n, len(got))
			if m > bound.max || mean > bound.mean {
				t.Errorf("max %d mean %.4f exceed the bound %d / %.2f", m, mean, bound.max, bound.mean)
			}
		})
	}
}

// TestJPEGDecodeExternal reports the same comparison on full-size photos
// (gen_golden.py --external DIR writes them); it runs only when
// IMAGEPROC_EXTERNAL=DIR is set, since the files are not in the repository.
func TestJPEGDecodeExternal(t *testing.T) {
	dir := os.Getenv("IMAGEPROC_EXTERNAL")
	if dir == "" {
		t.Skip("set IMAGEPROC_EXTERNAL to a directory made by gen_golden.py --external")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if len(files) == 0 {
		t.Fatalf("no .jpg in %s", dir)
	}
	for _, f := range files {
		img, err := Load(f, Limits{NoOrientation: true})
		if err != nil {
			t.Fatal(err)
		}
		got, w, h := ToRGB(img)
		want, err := os.ReadFile(f + ".pillow.rgb")
		if err != nil || len(want) != len(got) {
			t.Fatalf("%s: %v (len %d vs %d)", f, err, len(want), len(got))
		}
		m, mean, n := maxDiff(got, want)
		// The plain Go conversion (image.YCbCr.At, nearest chroma) for contrast.
		naive := make([]uint8, 0, len(got))
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				naive = append(naive, uint8(r>>8), uint8(g>>8), uint8(bl>>8))
			}
		}
		nm, nmean, nn := maxDiff(naive, want)
		t.Logf("%s %dx%d %T: max |diff| %d, mean %.4f, %.2f%% bytes differ; Go's own YCbCr.At: max %d, mean %.4f, %.2f%%",
			filepath.Base(f), w, h, img, m, mean, 100*float64(n)/float64(len(got)), nm, nmean, 100*float64(nn)/float64(len(got)))
	}
}

// TestOrientation decodes one JPEG per EXIF orientation and compares with
// Pillow's ImageOps.exif_transpose of its own decode (within the JPEG decode
// tolerance; a wrong rotation gives differences of ~100).
func TestOrientation(t *testing.T) {
	g := readGolden(t)
	if len(g.Orientation) != 8 {
		t.Fatalf("%d orientation cases, want 8", len(g.Orientation))
	}
	for _, o := range g.Orientation {
		t.Run(o.File, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(imagesDir, o.File))
			if err != nil {
				t.Fatal(err)
			}
			got, err := JPEGOrientation(data)
			if err != nil || got != o.Orientation {
				t.Fatalf("JPEGOrientation = %d, %v; want %d", got, err, o.Orientation)
			}
			img, err := DecodeBytes(data, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			rgb, w, h := ToRGB(img)
			want, err := os.ReadFile(filepath.Join(imagesDir, o.File+".pillow.rgb"))
			if err != nil {
				t.Fatal(err)
			}
			if w != o.W || h != o.H {
				t.Fatalf("upright size %dx%d, Pillow %dx%d", w, h, o.W, o.H)
			}
			m, mean, _ := maxDiff(rgb, want)
			if m > 3 || mean > 0.3 {
				t.Errorf("vs exif_transpose: max |diff| %d, mean %.3f", m, mean)
			}
			raw, err := DecodeBytes(data, Limits{NoOrientation: true})
			if err != nil {
				t.Fatal(err)
			}
			if b := raw.Bounds(); b.Dx() != 67 || b.Dy() != 45 {
				t.Errorf("NoOrientation: %v, want the stored 67x45", b)
			}
		})
	}
}

func TestOrientComposition(t *testing.T) {
	// A 3x2 image with distinct pixels; each orientation is checked through
	// the pixel that ends up at the top-left, which is fixed by the EXIF
	// definition (the stored pixel that belongs at the top-left).
	src := make([]uint8, 3*3*2)
	for i := range src {
		src[i] = uint8(i / 3)
	}
	// stored pixel index (y*3+x) of the upright top-left for o = 1..8.
	topLeft := []int{0, 2, 5, 3, 0, 3, 5, 2}
	for o := 1; o <= 8; o++ {
		out, w, h := Orient(src, 3, 2, o)
		if o >= 5 && (w != 2 || h != 3) || o < 5 && (w != 3 || h != 2) {
			t.Errorf("o=%d: %dx%d", o, w, h)
		}
		if int(out[0]) != topLeft[o-1] {
			t.Errorf("o=%d: top-left is stored pixel %d, want %d", o, out[0], topLeft[o-1])
		}
	}
}

// pngHeader makes the signature and an IHDR chunk with a valid CRC.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestHostileInputs(t *testing.T) {
	fixture := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(imagesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	jpg := fixture("jpeg_rocket_420.jpg")
	// A JPEG whose SOF0 claims 60000x60000.
	hugeJPEG := append([]byte(nil), jpg...)
	if i := bytes.Index(hugeJPEG, []byte{0xff, 0xc0}); i < 0 {
		t.Fatal("no SOF0 in fixture")
	} else {
		binary.BigEndian.PutUint16(hugeJPEG[i+5:], 60000)
		binary.BigEndian.PutUint16(hugeJPEG[i+7:], 60000)
	}
	// A WebP VP8X header claiming a 40000x40000 canvas.
	hugeWebP := []byte("RIFF\x16\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\x3f\x9c\x00\x3f\x9c\x00")
	hugeGIF := append([]byte(nil), fixture("fmt_p.gif")...)
	binary.LittleEndian.PutUint16(hugeGIF[6:], 65535)
	binary.LittleEndian.PutUint16(hugeGIF[8:], 65535)

	cases := []struct {
		name string
		data []byte
		lim  Limits
		want error  // errors.Is target, or nil for "any error"
		msg  string // substring of the message
	}{
		{"empty", nil, DefaultLimits, ErrUnknownFormat, ""},
		{"text", []byte("hello, world"), DefaultLimits, ErrUnknownFormat, "68 65 6c"},
		{"bmp", []byte("BM\x00\x00\x00\x00\x00\x00"), DefaultLimits, ErrUnknownFormat, ""},
		{"png 100000x100000", pngHeader(100000, 100000), DefaultLimits, ErrTooLarge, "100000x100000"},
		{"png 2^31-1 square", pngHeader(1<<31-1, 1<<31-1), DefaultLimits, nil, ""},
		{"png header only", pngHeader(64, 64), DefaultLimits, nil, ""},
		{"jpeg 60000x60000", hugeJPEG, DefaultLimits, ErrTooLarge, "60000x60000"},
		{"gif 65535x65535", hugeGIF, DefaultLimits, ErrTooLarge, "65535x65535"},
		{"webp 40000x40000", hugeWebP, DefaultLimits, ErrTooLarge, "40000x40000"},
		{"max bytes", jpg, Limits{MaxBytes: 100}, ErrTooLarge, "MaxBytes"},
		{"max pixels", jpg, Limits{MaxPixels: 67*45 - 1}, ErrTooLarge, "67x45"},
		{"soi only", []byte{0xff, 0xd8, 0xff}, DefaultLimits, nil, "jpeg"},
		{"riff not webp body", []byte("RIFF\x10\x00\x00\x00WEBPVP8 \x00\x00\x00\x00"), DefaultLimits, nil, "webp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, err := Decode(bytes.NewReader(c.data), c.lim)
			if err == nil {
				t.Fatalf("no error (image %v)", img.Bounds())
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error %q does not wrap %q", err, c.want)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
		})
	}
	// Every fixture cut short at many points: an error or a (partial) image
	// from the decoder, never a panic.
	for _, name := range []string{"jpeg_rocket_420.jpg", "jpeg_grace_420_prog.jpg", "fmt_rgba.png", "fmt_p.gif", "fmt_rgba.webp", "orient_6.jpg"} {
		data := fixture(name)
		for n := 0; n < len(data); n += 1 + n/16 {
			img, err := DecodeBytes(data[:n], DefaultLimits)
			if err == nil {
				ToRGB(img)
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.png")
	if err := os.WriteFile(big, pngHeader(100000, 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(big, DefaultLimits)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), "100000x100000") {
		t.Errorf("huge PNG: %v", err)
	}
	_, err = Load(filepath.Join(imagesDir, "photo_rocket.png"), Limits{MaxBytes: 1000})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "photo_rocket.png") {
		t.Errorf("MaxBytes: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.jpg"), DefaultLimits); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(dir, DefaultLimits); err == nil {
		t.Error("directory: no error")
	}
}

// exifJPEG wraps a TIFF block in a minimal JPEG marker stream.
func exifJPEG(tiff []byte) []byte {
	seg := append([]byte("Exif\x00\x00"), tiff...)
	b := []byte{0xff, 0xd8, 0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(b[4:], uint16(len(seg)+2))
	b = append(b, seg...)
	return append(b, 0xff, 0xda, 0, 2, 0xff, 0xd9)
}

// tiffBlock builds a TIFF header + IFD0 with the given entries.
func tiffBlock(bo binary.ByteOrder, ifdOffset uint32, count uint16, entries ...[12]byte) []byte {
	b := make([]byte, 8)
	if bo == binary.LittleEndian {
		copy(b, "II*\x00")
	} else {
		copy(b, "MM\x00*")
	}
	bo.PutUint32(b[4:], ifdOffset)
	c := make([]byte, 2)
	bo.PutUint16(c, count)
	b = append(b, c...)
	for _, e := range entries {
		b = append(b, e[:]...)
	}
	return b
}

func entry(bo binary.ByteOrder, tag, typ uint16, n uint32, v uint32) [12]byte {
	var e [12]byte
	bo.PutUint16(e[0:], tag)
	bo.PutUint16(e[2:], typ)
	bo.PutUint32(e[4:], n)
	if typ == 3 {
		bo.PutUint16(e[8:], uint16(v))
	} else {
		bo.PutUint32(e[8:], v)
	}
	return e
}

func TestJPEGOrientationParser(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	cases := []struct {
		name    string
		data    []byte
		want    int
		wantErr bool
	}{
		{"LE orientation 6", exifJPEG(tiffBlock(le, 8, 2, entry(le, 0x010f, 2, 4, 0), entry(le, 0x0112, 3, 1, 6))), 6, false},
		{"BE orientation 8", exifJPEG(tiffBlock(be, 8, 1, entry(be, 0x0112, 3, 1, 8))), 8, false},
		{"LONG orientation 3", exifJPEG(tiffBlock(be, 8, 1, entry(be, 0x0112, 4, 1, 3))), 3, false},
		{"no orientation tag", exifJPEG(tiffBlock(le, 8, 1, entry(le, 0x010f, 2, 4, 0))), 1, false},
		{"no exif", []byte{0xff, 0xd8, 0xff, 0xe0, 0, 4, 1, 2, 0xff, 0xda, 0, 2}, 1, false},
		{"fill bytes and RST", []byte{0xff, 0xd8, 0xff, 0xff, 0xd0, 0xff, 0xd9}, 1, false},
		{"orientation 0", exifJPEG(tiffBlock(le, 8, 1, entry(le, 0x0112, 3, 1, 0))), 1, true},
		{"orientation 9", exifJPEG(tiffBlock(le, 8, 1, entry(le, 0x0112, 3, 1, 9))), 1, true},
		{"wrong type", exifJPEG(tiffBlock(le, 8, 1, entry(le, 0x0112, 2, 1, 6))), 1, true},
		{"IFD offset beyond block", exifJPEG(tiffBlock(le, 0xfffffff0, 1, entry(le, 0x0112, 3, 1, 6))), 1, true},
		{"IFD offset into header", exifJPEG(tiffBlock(le, 0, 1, entry(le, 0x0112, 3, 1, 6))), 1, true},
		{"IFD points at itself", exifJPEG(tiffBlock(le, 4, 1, entry(le, 0x0112, 3, 1, 6))), 1, true},
		{"entry count past end", exifJPEG(tiffBlock(le, 8, 65535, entry(le, 0x0112, 3, 1, 6))), 1, true},
		{"bad byte order", exifJPEG([]byte("XX*\x00\x08\x00\x00\x00\x00\x00")), 1, true},
		{"short tiff", exifJPEG([]byte("II*")), 1, true},
		{"segment length past end", []byte{0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 'E', 'x'}, 1, true},
		{"segment length 0", []byte{0xff, 0xd8, 0xff, 0xe1, 0, 0}, 1, true},
		{"truncated length", []byte{0xff, 0xd8, 0xff, 0xe1, 0}, 1, true},
		{"garbage between markers", []byte{0xff, 0xd8, 0x00, 0x00}, 1, true},
		{"not jpeg", []byte("GIF89a"), 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := JPEGOrientation(c.data)
			if (err != nil) != c.wantErr || got != c.want {
				t.Errorf("= %d, %v; want %d, error %v", got, err, c.want, c.wantErr)
			}
			if err != nil && !errors.Is(err, ErrBadExif) {
				t.Errorf("error %v does not wrap ErrBadExif", err)
			}
		})
	}
}

func TestToRGBTypes(t *testing.T) {
	r := image.Rect(0, 0, 2, 1)
	nrgba := image.NewNRGBA(r)
	nrgba.Pix = []uint8{10, 20, 30, 0, 40, 50, 60, 128}
	rgba := image.NewRGBA(r) // premultiplied: (100,50,0) at alpha 128 is straight (199,99,0)
	rgba.Pix = []uint8{100, 50, 0, 128, 1, 2, 3, 255}
	g16 := image.NewGray16(r)
	g16.SetGray16(0, 0, color.Gray16{Y: 0x12ff})
	g16.SetGray16(1, 0, color.Gray16{Y: 0xff00})
	cmyk := image.NewCMYK(r)
	cmyk.Pix = []uint8{0, 0, 0, 0, 255, 128, 0, 64}
	sub := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range sub.Pix {
		sub.Pix[i] = uint8(i)
	}
	cases := []struct {
		name string
		img  image.Image
		want []uint8
	}{
		{"NRGBA drops alpha", nrgba, []uint8{10, 20, 30, 40, 50, 60}},
		{"RGBA un-premultiplied", rgba, []uint8{199, 99, 0, 1, 2, 3}},
		{"Gray16 high byte", g16, []uint8{0x12, 0x12, 0x12, 0xff, 0xff, 0xff}},
		// Pillow cmyk2rgb: nk - c*nk/255 rounded: k=64 -> nk=191; c=255 -> 0, m=128 -> 191-96=95, y=0 -> 191.
		{"CMYK", cmyk, []uint8{255, 255, 255, 0, 95, 191}},
		{"Gray subimage", sub.SubImage(image.Rect(1, 2, 3, 3)), []uint8{9, 9, 9, 10, 10, 10}},
		{"RGB", &RGB{Pix: []uint8{1, 2, 3}, W: 1, H: 1}, []uint8{1, 2, 3}},
		{"empty", image.NewGray(image.Rect(0, 0, 0, 5)), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _, _ := ToRGB(c.img)
			if !bytes.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// FuzzJPEGOrientation feeds arbitrary bytes to the EXIF parser, seeded with
// the orientation fixtures: any input must give 1..8 or an error, and no
// panic.
func FuzzJPEGOrientation(f *testing.F) {
	for i := 1; i <= 8; i++ {
		if b, err := os.ReadFile(filepath.Join(imagesDir, "orient_"+string(rune('0'+i))+".jpg")); err == nil {
			f.Add(b[:min(len(b), 400)])
		}
	}
	f.Add(exifJPEG(tiffBlock(binary.BigEndian, 8, 1, entry(binary.BigEndian, 0x0112, 3, 1, 8))))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := JPEGOrientation(data)
		if o < 1 || o > 8 || (err != nil && o != 1) {
			t.Fatalf("orientation %d, err %v", o, err)
		}
		if len(data) > 6 {
			if o, err := ExifOrientation(data[6:]); o < 1 || o > 8 || (err != nil && o != 1) {
				t.Fatalf("ExifOrientation %d, err %v", o, err)
			}
		}
	})
}

// FuzzDecode feeds arbitrary bytes to DecodeBytes with small limits, seeded
// with one fixture per format: an error or an image within the limits.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"jpeg_grace_420.jpg", "fmt_p.png", "fmt_p.gif", "fmt_rgba.webp", "orient_6.jpg"} {
		if b, err := os.ReadFile(filepath.Join(imagesDir, name)); err == nil {
			f.Add(b)
		}
	}
	f.Add(pngHeader(100000, 100000))
	lim := Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 18}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodeBytes(data, lim)
		if err != nil {
			return
		}
		b := img.Bounds()
		if int64(b.Dx())*int64(b.Dy()) > lim.MaxPixels {
			t.Fatalf("decoded %v beyond MaxPixels", b)
		}
		rgb, w, h := ToRGB(img)
		if len(rgb) != 3*w*h {
			t.Fatalf("ToRGB len %d for %dx%d", len(rgb), w, h)
		}
	})
}
