package imageproc

import (
	"fmt"
	"image"
)

// CLIPMean and CLIPStd are the OpenAI CLIP normalisation constants CogVLM's
// image transform uses.
var (
	CLIPMean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	CLIPStd  = [3]float32{0.26862954, 0.26130258, 0.27577711}
)

// Normalize turns packed RGB into a CHW float32 tensor (3 planes of w*h)
// computing (v/255 - mean[c]) / std[c] in float32, the order torchvision's
// ToTensor and Normalize use, so the values are identical to theirs.
// It panics if len(rgb) != 3*w*h (a programming error).
func Normalize(rgb []uint8, w, h int, mean, std [3]float32) []float32 {
	if w < 0 || h < 0 || len(rgb) != 3*w*h {
		panic(fmt.Sprintf("imageproc: Normalize: len(rgb) = %d, want 3*%d*%d", len(rgb), w, h))
	}
	n := w * h
	out := make([]float32, 3*n)
	for c := 0; c < 3; c++ {
		var lut [256]float32
		for v := range lut {
			x := float32(v) / 255
			x -= mean[c]
			lut[v] = x / std[c]
		}
		plane := out[c*n : (c+1)*n]
		for i := range plane {
			plane[i] = lut[rgb[3*i+c]]
		}
	}
	return out
}

// Preprocess is CogVLM's image transform: convert to RGB (ToRGB), squash to
// size×size with Pillow's bicubic resize, and CLIP-normalise. It returns
// the CHW pixels (3*size*size) and the resized RGB (for display or
// debugging). size must be positive; an empty image gives nil results.
func Preprocess(img image.Image, size int) (pixels []float32, rgb []uint8) {
	src, w, h := ToRGB(img)
	if w == 0 || h == 0 || size <= 0 {
		return nil, nil
	}
	rgb = ResizeBicubic(src, w, h, size, size)
	return Normalize(rgb, size, size, CLIPMean, CLIPStd), rgb
}
