package imageproc

import "image/color"

func nrgba(r, g, b, a uint8) color.NRGBA { return color.NRGBA{R: r, G: g, B: b, A: a} }

// gifTransparentColor scans a GIF up to its first image descriptor and
// returns the transparent index of that frame's Graphic Control Extension
// and the colour the frame's colour table (local, else global) stores for
// it. Every read is bounds-checked; found is false for anything unexpected.
func gifTransparentColor(data []byte) (idx int, rgb [3]uint8, found bool) {
	if len(data) < 13 {
		return 0, rgb, false
	}
	pos := 13
	var global []byte
	if flags := data[10]; flags&0x80 != 0 {
		n := 3 << ((flags & 7) + 1)
		if pos+n > len(data) {
			return 0, rgb, false
		}
		global = data[pos : pos+n]
		pos += n
	}
	trans := -1
	for pos < len(data) {
		switch data[pos] {
		case 0x21: // extension
			if pos+2 > len(data) {
				return 0, rgb, false
			}
			label := data[pos+1]
			pos += 2
			first := true
			for pos < len(data) { // data sub-blocks
				n := int(data[pos])
				pos++
				if n == 0 {
					break
				}
				if pos+n > len(data) {
					return 0, rgb, false
				}
				if label == 0xf9 && first && n >= 4 {
					if data[pos]&1 != 0 {
						trans = int(data[pos+3])
					} else {
						trans = -1
					}
				}
				first = false
				pos += n
			}
		case 0x2c: // image descriptor
			if pos+10 > len(data) || trans < 0 {
				return 0, rgb, false
			}
			table := global
			if flags := data[pos+9]; flags&0x80 != 0 {
				n := 3 << ((flags & 7) + 1)
				if pos+10+n > len(data) {
					return 0, rgb, false
				}
				table = data[pos+10 : pos+10+n]
			}
			if 3*trans+3 > len(table) {
				return 0, rgb, false
			}
			copy(rgb[:], table[3*trans:])
			return trans, rgb, true
		default: // trailer or garbage
			return 0, rgb, false
		}
	}
	return 0, rgb, false
}
