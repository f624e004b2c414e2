package imageproc

import "image"

// libjpeg's jdcolor.c YCbCr→RGB tables (SCALEBITS 16, FIX rounds to
// nearest), built once.
var (
	crR, cbB [256]int32
	crG, cbG [256]int32
)

func init() {
	const scaleBits = 16
	const oneHalf = 1 << (scaleBits - 1)
	fix := func(x float64) int32 { return int32(x*(1<<scaleBits) + 0.5) }
	for i := 0; i < 256; i++ {
		x := int32(i - 128)
		crR[i] = (fix(1.40200)*x + oneHalf) >> scaleBits
		cbB[i] = (fix(1.77200)*x + oneHalf) >> scaleBits
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + oneHalf
	}
}

func clampByte(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// ycbcrToRGB converts Go's decoded YCbCr planes to packed RGB the way
// libjpeg(-turbo) does with its default settings (do_fancy_upsampling):
// triangular upsampling of subsampled chroma (h2v1, h2v2 when the chroma row
// is wider than 2 samples, h1v2), edge samples replicated, other ratios
// replicated, then the jdcolor.c integer conversion.
func ycbcrToRGB(dst []uint8, m *image.YCbCr) {
	r := m.Rect
	w, h := r.Dx(), r.Dy()
	// Chroma plane extent in absolute chroma coordinates.
	hf, vf := 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hf = 2
	case image.YCbCrSubsampleRatio420:
		hf, vf = 2, 2
	case image.YCbCrSubsampleRatio440:
		vf = 2
	case image.YCbCrSubsampleRatio411:
		hf = 4
	case image.YCbCrSubsampleRatio410:
		hf, vf = 4, 2
	}
	cx0, cx1 := r.Min.X/hf, (r.Max.X+hf-1)/hf
	cy0, cy1 := r.Min.Y/vf, (r.Max.Y+vf-1)/vf
	cw := cx1 - cx0
	fancyH := hf == 2 && cw > 2
	fancyV := vf == 2 && hf <= 2 && (hf == 1 || cw > 2)

	cb := make([]int32, w)
	cr := make([]int32, w)
	sumCb := make([]int32, cw)
	sumCr := make([]int32, cw)
	for y := 0; y < h; y++ {
		Y := r.Min.Y + y
		cy := Y / vf
		switch {
		case fancyV:
			// Column sums 3*nearest row + next nearest row.
			ny := cy - 1
			if Y&1 == 1 {
				ny = cy + 1
			}
			if ny < cy0 {
				ny = cy0
			}
			if ny >= cy1 {
				ny = cy1 - 1
			}
			a := (cy - cy0) * m.CStride
			b := (ny - cy0) * m.CStride
			for i := 0; i < cw; i++ {
				sumCb[i] = 3*int32(m.Cb[a+i]) + int32(m.Cb[b+i])
				sumCr[i] = 3*int32(m.Cr[a+i]) + int32(m.Cr[b+i])
			}
			if hf == 1 { // h1v2: (colsum + bias) >> 2
				bias := int32(1)
				if Y&1 == 1 {
					bias = 2
				}
				for x := 0; x < w; x++ {
					i := r.Min.X + x - cx0
					cb[x] = (sumCb[i] + bias) >> 2
					cr[x] = (sumCr[i] + bias) >> 2
				}
			} else { // h2v2 fancy
				for x := 0; x < w; x++ {
					X := r.Min.X + x
					i := X/2 - cx0
					if X&1 == 0 {
						j := max(i-1, 0)
						cb[x] = (3*sumCb[i] + sumCb[j] + 8) >> 4
						cr[x] = (3*sumCr[i] + sumCr[j] + 8) >> 4
					} else {
						j := min(i+1, cw-1)
						cb[x] = (3*sumCb[i] + sumCb[j] + 7) >> 4
						cr[x] = (3*sumCr[i] + sumCr[j] + 7) >> 4
					}
				}
			}
		case fancyH && vf == 1: // h2v1 fancy
			a := (cy - cy0) * m.CStride
			for x := 0; x < w; x++ {
				X := r.Min.X + x
				i := X/2 - cx0
				if X&1 == 0 {
					j := max(i-1, 0)
					cb[x] = (3*int32(m.Cb[a+i]) + int32(m.Cb[a+j]) + 1) >> 2
					cr[x] = (3*int32(m.Cr[a+i]) + int32(m.Cr[a+j]) + 1) >> 2
				} else {
					j := min(i+1, cw-1)
					cb[x] = (3*int32(m.Cb[a+i]) + int32(m.Cb[a+j]) + 2) >> 2
					cr[x] = (3*int32(m.Cr[a+i]) + int32(m.Cr[a+j]) + 2) >> 2
				}
			}
		default: // 4:4:4, or plain replication
			for x := 0; x < w; x++ {
				o := m.COffset(r.Min.X+x, Y)
				cb[x] = int32(m.Cb[o])
				cr[x] = int32(m.Cr[o])
			}
		}
		yrow := m.Y[m.YOffset(r.Min.X, Y):][:w]
		out := dst[3*w*y:][:3*w]
		for x, yv := range yrow {
			yy := int32(yv)
			b, rr := cb[x], cr[x]
			out[3*x] = clampByte(yy + crR[rr])
			out[3*x+1] = clampByte(yy + (cbG[b]+crG[rr])>>16)
			out[3*x+2] = clampByte(yy + cbB[b])
		}
	}
}
