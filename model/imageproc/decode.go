package imageproc

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"

	"golang.org/x/image/webp"
)

// Limits bound what Load and Decode accept, so that a hostile or broken
// file produces an error instead of exhausting memory, and carry the one
// decoding option.
type Limits struct {
	// MaxBytes is the largest accepted encoded size; <= 0 means no limit.
	MaxBytes int64
	// MaxPixels is the largest accepted width*height, checked from the
	// header before any pixel is decoded; <= 0 means no limit.
	MaxPixels int64
	// NoOrientation disables applying the EXIF orientation of JPEGs, which
	// reproduces Pillow's Image.open (the HF reference) for rotated photos.
	NoOrientation bool
}

// DefaultLimits allows files up to 100 MiB and images up to Pillow's
// decompression-bomb warning threshold (89,478,485 pixels).
var DefaultLimits = Limits{MaxBytes: 100 << 20, MaxPixels: 89478485}

// ErrUnknownFormat is wrapped by the error returned for content that is not
// JPEG, PNG, GIF or WebP.
var ErrUnknownFormat = errors.New("unknown image format (want JPEG, PNG, GIF or WebP)")

// ErrTooLarge is wrapped by the errors returned when a limit is exceeded.
var ErrTooLarge = errors.New("image exceeds limit")

// Format names what the content sniffer recognised.
type Format string

// The recognised formats.
const (
	FormatJPEG Format = "jpeg"
	FormatPNG  Format = "png"
	FormatGIF  Format = "gif"
	FormatWebP Format = "webp"
)

// Sniff recognises the image format from the first bytes of a file.
func Sniff(head []byte) (Format, bool) {
	switch {
	case len(head) >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff:
		return FormatJPEG, true
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG, true
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return FormatGIF, true
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return FormatWebP, true
	}
	return "", false
}

// Load reads and decodes the image file at path (see Decode). The file size
// is checked against lim.MaxBytes before it is read. Errors name the file.
func Load(path string, lim Limits) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("imageproc: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("imageproc: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("imageproc: %s: not a regular file", path)
	}
	if lim.MaxBytes > 0 && st.Size() > lim.MaxBytes {
		return nil, fmt.Errorf("imageproc: %s: %d bytes: %w (MaxBytes %d)", path, st.Size(), ErrTooLarge, lim.MaxBytes)
	}
	img, err := Decode(f, lim)
	if err != nil {
		return nil, fmt.Errorf("imageproc: %s: %w", path, err)
	}
	return img, nil
}

// Decode reads a whole JPEG, PNG, GIF (first frame) or WebP image from r,
// recognised by content. It reads at most lim.MaxBytes (+1 to detect an
// overflow), checks the header's width*height against lim.MaxPixels before
// decoding pixels, and, unless lim.NoOrientation, applies a JPEG's EXIF
// orientation (then the result is an *RGB). The image keeps Go's decoded
// type otherwise (use ToRGB for Pillow's convert("RGB")).
func Decode(r io.Reader, lim Limits) (image.Image, error) {
	var data []byte
	var err error
	if lim.MaxBytes > 0 {
		data, err = io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
		if err == nil && int64(len(data)) > lim.MaxBytes {
			return nil, fmt.Errorf("more than %d bytes: %w (MaxBytes)", lim.MaxBytes, ErrTooLarge)
		}
	} else {
		data, err = io.ReadAll(r)
	}
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return DecodeBytes(data, lim)
}

// DecodeBytes is Decode over bytes already in memory.
func DecodeBytes(data []byte, lim Limits) (img image.Image, err error) {
	format, ok := Sniff(data)
	if !ok {
		head := data[:min(len(data), 8)]
		return nil, fmt.Errorf("first bytes % x: %w", head, ErrUnknownFormat)
	}
	if lim.MaxBytes > 0 && int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("%d bytes: %w (MaxBytes %d)", len(data), ErrTooLarge, lim.MaxBytes)
	}
	var cfg image.Config
	switch format {
	case FormatJPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case FormatPNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case FormatGIF:
		cfg, err = gif.DecodeConfig(bytes.NewReader(data))
	case FormatWebP:
		cfg, err = webp.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%s header: %w", format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%s: empty image %dx%d", format, cfg.Width, cfg.Height)
	}
	// Both are below 2^31 (int32 fields in every format), so the product fits.
	if px := int64(cfg.Width) * int64(cfg.Height); lim.MaxPixels > 0 && px > lim.MaxPixels {
		return nil, fmt.Errorf("%s: %dx%d = %d pixels: %w (MaxPixels %d)", format, cfg.Width, cfg.Height, px, ErrTooLarge, lim.MaxPixels)
	}
	// The standard decoders return errors for malformed data; a recover
	// keeps a decoder bug on hostile input from taking the process down.
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("%s: decoder panic on malformed data: %v", format, p)
		}
	}()
	switch format {
	case FormatJPEG:
		img, err = jpeg.Decode(bytes.NewReader(data))
	case FormatPNG:
		img, err = png.Decode(bytes.NewReader(data))
	case FormatGIF:
		img, err = decodeGIF(data)
	case FormatWebP:
		img, err = webp.Decode(bytes.NewReader(data))
		if err == nil {
			img = webpToRGB(img)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", format, err)
	}
	if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > int64(cfg.Width)*int64(cfg.Height) {
		// A decoder returning more than its header said would defeat the
		// pixel limit; refuse it.
		return nil, fmt.Errorf("%s: decoded %dx%d, header said %dx%d", format, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	if format == FormatJPEG && !lim.NoOrientation {
		o, err := JPEGOrientation(data)
		if err == nil && o > 1 {
			rgb, w, h := ToRGB(img)
			rgb, w, h = Orient(rgb, w, h, o)
			img = &RGB{Pix: rgb, W: w, H: h}
		}
		// A broken EXIF block does not make the picture unusable: Pillow
		// ignores it too, so the image is returned as stored.
	}
	return img, nil
}

// decodeGIF decodes the first frame of a GIF. Go's decoder replaces the
// transparent palette entry with transparent black; Pillow keeps its stored
// colour (convert("RGB") then shows it), so the entry is restored from the
// file's colour table.
func decodeGIF(data []byte) (image.Image, error) {
	img, err := gif.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	p, ok := img.(*image.Paletted)
	if !ok {
		return img, nil
	}
	idx, rgb, found := gifTransparentColor(data)
	if found && idx < len(p.Palette) {
		pal := append(p.Palette[:0:0], p.Palette...)
		pal[idx] = nrgba(rgb[0], rgb[1], rgb[2], 0)
		p.Palette = pal
	}
	return p, nil
}
