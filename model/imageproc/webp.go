package imageproc

import "image"

// webpToRGB converts the 4:2:0 planes of a lossy WebP (as x/image/webp
// returns them) to an image the way libwebp does for Pillow: its "fancy"
// upsampler (io_dec.c EmitFancyRGB with the upsampling.c line-pair
// function) and its BT.601 limited-range integer conversion (yuv.h,
// 14-bit coefficients). Go's image.YCbCr colour model is JFIF full-range,
// which would shift colours by ~10 levels on average. The result is an *RGB,
// or an *image.NRGBA carrying the alpha plane of an NYCbCrA.
func webpToRGB(img image.Image) image.Image {
	var m *image.YCbCr
	var alpha []uint8
	alphaStride := 0
	switch v := img.(type) {
	case *image.YCbCr:
		m = v
	case *image.NYCbCrA:
		m, alpha, alphaStride = &v.YCbCr, v.A, v.AStride
	default:
		return img
	}
	r := m.Rect
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 || r.Min != (image.Point{}) {
		return img // not what the VP8 decoder produces; keep Go's conversion
	}
	w, h := r.Dx(), r.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	if len(m.Cb) < (ch-1)*m.CStride+cw || len(m.Cr) < (ch-1)*m.CStride+cw || len(m.Y) < (h-1)*m.YStride+w {
		return img
	}
	rgb := make([]uint8, 3*w*h)
	u := make([]int32, w)
	v := make([]int32, w)
	for y := 0; y < h; y++ {
		// Chroma rows (top, cur) and whether this luma row is the upper
		// ("top") or lower line of libwebp's line pair.
		var top, cur int
		upper := true
		switch {
		case y == 0:
			top, cur = 0, 0
		case y&1 == 1 && y+1 < h:
			top, cur = (y-1)/2, (y+1)/2
		case y&1 == 1: // last row of an even-height picture
			top, cur = ch-1, ch-1
		default:
			top, cur = y/2-1, y/2
			upper = false
		}
		webpUpsampleRow(u, m.Cb[top*m.CStride:][:cw], m.Cb[cur*m.CStride:][:cw], upper)
		webpUpsampleRow(v, m.Cr[top*m.CStride:][:cw], m.Cr[cur*m.CStride:][:cw], upper)
		yrow := m.Y[y*m.YStride:][:w]
		out := rgb[3*w*y:][:3*w]
		for x, yv := range yrow {
			yy := webpMultHi(int32(yv), 19077)
			out[3*x] = webpClip8(yy + webpMultHi(v[x], 26149) - 14234)
			out[3*x+1] = webpClip8(yy - webpMultHi(u[x], 6419) - webpMultHi(v[x], 13320) + 8708)
			out[3*x+2] = webpClip8(yy + webpMultHi(u[x], 33050) - 17685)
		}
	}
	if alpha == nil {
		return &RGB{Pix: rgb, W: w, H: h}
	}
	n := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		a := alpha[y*alphaStride:][:w]
		for x := 0; x < w; x++ {
			o := y*n.Stride + 4*x
			copy(n.Pix[o:o+3], rgb[3*(y*w+x):])
			n.Pix[o+3] = a[x]
		}
	}
	return n
}

// webpUpsampleRow computes one luma row's worth of chroma from the chroma
// rows above (top) and below (cur) it, as libwebp's UPSAMPLE_FUNC does for
// its top line (upper) or bottom line.
func webpUpsampleRow(dst []int32, top, cur []uint8, upper bool) {
	n := len(dst)
	near, far := top, cur // upper line: nearer to top
	if !upper {
		near, far = cur, top
	}
	dst[0] = (3*int32(near[0]) + int32(far[0]) + 2) >> 2
	last := (n - 1) >> 1
	for x := 1; x <= last; x++ {
		tl, t := int32(top[x-1]), int32(top[x])
		l, c := int32(cur[x-1]), int32(cur[x])
		avg := tl + t + l + c + 8
		diag12 := (avg + 2*(t+l)) >> 3
		diag03 := (avg + 2*(tl+c)) >> 3
		if upper {
			dst[2*x-1] = (diag12 + tl) >> 1
			dst[2*x] = (diag03 + t) >> 1
		} else {
			dst[2*x-1] = (diag03 + l) >> 1
			dst[2*x] = (diag12 + c) >> 1
		}
	}
	if n&1 == 0 {
		dst[n-1] = (3*int32(near[last]) + int32(far[last]) + 2) >> 2
	}
}

func webpMultHi(v, coeff int32) int32 { return (v * coeff) >> 8 }

// webpClip8 is libwebp's VP8Clip8 with YUV_FIX2 = 6.
func webpClip8(v int32) uint8 {
	const mask = (256 << 6) - 1
	if v&^mask == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}
