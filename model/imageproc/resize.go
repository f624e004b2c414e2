package imageproc

import (
	"fmt"
	"math"
)

// precisionBits is the number of fraction bits of Pillow's fixed-point
// resampling coefficients for 8-bit images (32 - 8 - 2).
const precisionBits = 32 - 8 - 2

// bicubicSupport is the radius of the Keys cubic kernel before scaling.
const bicubicSupport = 2.0

// bicubic is the Keys cubic convolution kernel with a = -0.5, evaluated as
// Pillow's bicubic_filter. Every product is converted explicitly so that the
// compiler cannot fuse it into an FMA (the Go spec allows fusing otherwise),
// which keeps the doubles identical to Pillow's x86-64 build.
func bicubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		t := float64(float64((a+2.0)*x) - (a + 3.0))
		return float64(float64(t*x)*x) + 1
	}
	if x < 2 {
		t := float64(float64((x-5)*x) + 8)
		t = float64(float64(t*x) - 4)
		return t * a
	}
	return 0
}

// coeffs holds the fixed-point filter of one resampling pass: for output
// index i the input span is [start[i], start[i]+count[i]) and the weights are
// k[i*ksize : i*ksize+count[i]].
type coeffs struct {
	ksize int
	start []int
	count []int
	k     []int32
}

// precomputeCoeffs mirrors Pillow's precompute_coeffs followed by
// normalize_coeffs_8bpc for the region [in0, in1) of an axis of inSize
// pixels resampled to outSize pixels.
func precomputeCoeffs(inSize int, in0, in1 float32, outSize int) coeffs {
	scale := float64(in1-in0) / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := bicubicSupport * filterscale
	ksize := int(math.Ceil(support))*2 + 1

	c := coeffs{
		ksize: ksize,
		start: make([]int, outSize),
		count: make([]int, outSize),
		k:     make([]int32, outSize*ksize),
	}
	w := make([]float64, ksize)
	ss := 1.0 / filterscale
	for xx := 0; xx < outSize; xx++ {
		center := float64(in0) + float64((float64(xx)+0.5)*scale)
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		if xmax > ksize { // cannot happen with the rounding above; keeps indexing safe
			xmax = ksize
		}
		ww := 0.0
		for x := 0; x < xmax; x++ {
			v := bicubic(float64((float64(x+xmin) - center + 0.5) * ss))
			w[x] = v
			ww += v
		}
		k := c.k[xx*ksize : xx*ksize+ksize]
		for x := 0; x < xmax; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			f := float64(v * (1 << precisionBits))
			if v < 0 {
				k[x] = int32(-0.5 + f)
			} else {
				k[x] = int32(0.5 + f)
			}
		}
		c.start[xx] = xmin
		c.count[xx] = xmax
	}
	return c
}

// clip8 converts an accumulator with precisionBits fraction bits to a byte,
// clamping like Pillow's clip8 lookup table.
func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// ResizeBicubic resizes a packed RGB image of w×h pixels to outW×outH
// exactly as Pillow's Image.resize((outW, outH), Image.BICUBIC) does for an
// RGB image (Pillow ≥ 7, whole-image box, no reducing_gap): Keys cubic
// a = -0.5 whose support grows with the downscale factor (antialiasing),
// coefficients normalised and rounded to 22 fraction bits, a horizontal pass
// over just the rows the vertical pass needs, then the vertical pass, each
// rounded and clamped to uint8. When the size is unchanged it returns a copy.
//
// It panics if a size is not positive or len(rgb) != 3*w*h: those are
// programming errors, not properties of an input file.
func ResizeBicubic(rgb []uint8, w, h, outW, outH int) []uint8 {
	if w <= 0 || h <= 0 || outW <= 0 || outH <= 0 {
		panic(fmt.Sprintf("imageproc: ResizeBicubic %dx%d -> %dx%d: sizes must be positive", w, h, outW, outH))
	}
	if len(rgb) != 3*w*h {
		panic(fmt.Sprintf("imageproc: ResizeBicubic: len(rgb) = %d, want 3*%d*%d = %d", len(rgb), w, h, 3*w*h))
	}
	needH := outW != w
	needV := outH != h
	if !needH && !needV {
		return append([]uint8(nil), rgb...)
	}
	ch := precomputeCoeffs(w, 0, float32(w), outW)
	cv := precomputeCoeffs(h, 0, float32(h), outH)

	src, srcH := rgb, h
	if needH {
		// Only rows ybox_first .. ybox_last are read by the vertical pass.
		first, last := 0, h
		if needV {
			first = cv.start[0]
			last = cv.start[outH-1] + cv.count[outH-1]
			for i := range cv.start {
				cv.start[i] -= first
			}
		}
		tmp := make([]uint8, 3*outW*(last-first))
		resampleHorizontal(tmp, rgb[3*w*first:3*w*last], w, outW, last-first, &ch)
		src, srcH = tmp, last-first
	}
	if !needV {
		return src
	}
	out := make([]uint8, 3*outW*outH)
	resampleVertical(out, src, outW, srcH, outH, &cv)
	return out
}

// resampleHorizontal runs Pillow's ImagingResampleHorizontal_8bpc over rows
// packed RGB rows of inW pixels into rows of outW pixels.
func resampleHorizontal(dst, src []uint8, inW, outW, rows int, c *coeffs) {
	const half = 1 << (precisionBits - 1)
	for y := 0; y < rows; y++ {
		in := src[3*inW*y : 3*inW*(y+1)]
		out := dst[3*outW*y : 3*outW*(y+1)]
		for xx := 0; xx < outW; xx++ {
			n := c.count[xx]
			k := c.k[xx*c.ksize : xx*c.ksize+n]
			p := in[3*c.start[xx] : 3*(c.start[xx]+n)]
			var s0, s1, s2 int32 = half, half, half
			for _, kv := range k {
				if len(p) < 3 {
					break // never taken: len(p) == 3*len(k); lets the compiler drop bounds checks
				}
				s0 += int32(p[0]) * kv
				s1 += int32(p[1]) * kv
				s2 += int32(p[2]) * kv
				p = p[3:]
			}
			out[3*xx] = clip8(s0)
			out[3*xx+1] = clip8(s1)
			out[3*xx+2] = clip8(s2)
		}
	}
}

// resampleVertical runs Pillow's ImagingResampleVertical_8bpc: inH rows of
// w packed RGB pixels into outH rows.
func resampleVertical(dst, src []uint8, w, inH, outH int, c *coeffs) {
	const half = 1 << (precisionBits - 1)
	stride := 3 * w
	acc := make([]int32, stride)
	for yy := 0; yy < outH; yy++ {
		n := c.count[yy]
		k := c.k[yy*c.ksize : yy*c.ksize+n]
		ymin := c.start[yy]
		for i := range acc {
			acc[i] = half
		}
		for y, kv := range k {
			row := src[stride*(ymin+y) : stride*(ymin+y+1)]
			row = row[:len(acc)]
			for i, v := range row {
				acc[i] += int32(v) * kv
			}
		}
		out := dst[stride*yy : stride*(yy+1)]
		out = out[:len(acc)]
		for i, a := range acc {
			out[i] = clip8(a)
		}
	}
}
