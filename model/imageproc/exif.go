package imageproc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrBadExif is wrapped by the errors JPEGOrientation returns for a
// malformed JPEG marker stream or Exif block.
var ErrBadExif = errors.New("malformed exif")

// tagOrientation is the TIFF/Exif Orientation tag.
const tagOrientation = 0x0112

// JPEGOrientation returns the EXIF orientation (1..8) stored in a JPEG's
// APP1 Exif segment, or 1 when there is none. It reads only the markers
// before the first scan and only IFD0, every offset checked against the
// segment, so hostile data yields an error, never a panic or a loop.
func JPEGOrientation(data []byte) (int, error) {
	if len(data) < 2 || data[0] != 0xff || data[1] != 0xd8 {
		return 1, fmt.Errorf("not a JPEG (no SOI): %w", ErrBadExif)
	}
	pos := 2
	for pos < len(data) {
		if data[pos] != 0xff {
			return 1, fmt.Errorf("offset %d: expected a marker, found 0x%02x: %w", pos, data[pos], ErrBadExif)
		}
		for pos < len(data) && data[pos] == 0xff { // fill bytes
			pos++
		}
		if pos >= len(data) {
			break
		}
		marker := data[pos]
		pos++
		switch {
		case marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7):
			continue // no length field
		case marker == 0xd9 || marker == 0xda:
			return 1, nil // end of image / start of scan: no Exif before the pixels
		}
		if pos+2 > len(data) {
			return 1, fmt.Errorf("marker 0x%02x at offset %d: truncated length: %w", marker, pos-2, ErrBadExif)
		}
		n := int(binary.BigEndian.Uint16(data[pos:]))
		if n < 2 || pos+n > len(data) {
			return 1, fmt.Errorf("marker 0x%02x at offset %d: length %d beyond file size %d: %w", marker, pos-2, n, len(data), ErrBadExif)
		}
		seg := data[pos+2 : pos+n]
		pos += n
		if marker == 0xe1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return ExifOrientation(seg[6:])
		}
	}
	return 1, nil
}

// ExifOrientation reads the Orientation tag from IFD0 of a TIFF-structured
// Exif block (starting at the "II*\0" or "MM\0*" header). It returns 1 when
// the tag is absent.
func ExifOrientation(tiff []byte) (int, error) {
	if len(tiff) < 8 {
		return 1, fmt.Errorf("exif: %d bytes, shorter than a TIFF header: %w", len(tiff), ErrBadExif)
	}
	var bo binary.ByteOrder
	switch string(tiff[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1, fmt.Errorf("exif: bad TIFF header % x: %w", tiff[:4], ErrBadExif)
	}
	ifd := uint64(bo.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > uint64(len(tiff)) {
		return 1, fmt.Errorf("exif: IFD0 offset %d beyond block size %d: %w", ifd, len(tiff), ErrBadExif)
	}
	count := uint64(bo.Uint16(tiff[ifd:]))
	entries := ifd + 2
	if entries+12*count > uint64(len(tiff)) {
		return 1, fmt.Errorf("exif: IFD0 at %d: %d entries run past block size %d: %w", ifd, count, len(tiff), ErrBadExif)
	}
	for i := uint64(0); i < count; i++ {
		e := tiff[entries+12*i : entries+12*i+12]
		if bo.Uint16(e) != tagOrientation {
			continue
		}
		typ, n := bo.Uint16(e[2:]), bo.Uint32(e[4:])
		var v uint32
		switch {
		case typ == 3 && n >= 1: // SHORT, stored inline
			v = uint32(bo.Uint16(e[8:]))
		case (typ == 4 || typ == 9) && n == 1: // LONG / SLONG, tolerated
			v = bo.Uint32(e[8:])
		default:
			return 1, fmt.Errorf("exif: orientation entry %d: type %d count %d: %w", i, typ, n, ErrBadExif)
		}
		if v < 1 || v > 8 {
			return 1, fmt.Errorf("exif: orientation %d out of range 1..8: %w", v, ErrBadExif)
		}
		return int(v), nil
	}
	return 1, nil
}

// Orient applies EXIF orientation o (1..8) to packed RGB pixels and returns
// the upright image, as Pillow's ImageOps.exif_transpose does: 2 mirror,
// 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse,
// 8 rotate 90° counter-clockwise. Other values return the input unchanged.
func Orient(rgb []uint8, w, h, o int) ([]uint8, int, int) {
	if o < 2 || o > 8 || len(rgb) != 3*w*h {
		return rgb, w, h
	}
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := make([]uint8, len(rgb))
	i := 0
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			s := 3 * (sy*w + sx)
			out[i], out[i+1], out[i+2] = rgb[s], rgb[s+1], rgb[s+2]
			i += 3
		}
	}
	return out, ow, oh
}
