// Package imageproc decodes images and turns them into the pixel tensors the
// CogVLM vision tower expects, bit-exactly as the PyTorch reference does with
// Pillow and torchvision.
//
// The reference pipeline is Image.open(path).convert("RGB"), then
// Image.resize((s, s), Image.BICUBIC) (the image is squashed: no crop, no
// padding), then ToTensor (v/255) and the OpenAI CLIP normalisation.
// [ResizeBicubic] reproduces Pillow's fixed-point resampler (libImaging
// Resample.c) exactly, so given the same decoded RGB the resized pixels are
// identical to Pillow's. [Normalize] computes (v/255 - mean)/std in float32
// in the same order as torchvision, so it matches as well.
//
// Decoding: JPEG, PNG, GIF (first frame) and WebP are recognised by their
// content. Sizes are checked before decoding ([Limits]). PNG, GIF and WebP
// (lossless, and lossy: libwebp's upsampling and limited-range YUV
// conversion are reproduced) give exactly Pillow's convert("RGB") pixels.
// Differences from the reference that remain:
//
//   - EXIF orientation of JPEGs is applied by default (a phone photo comes out
//     upright), while Pillow's Image.open does not apply it; for rotated JPEGs
//     the HF reference therefore sees a sideways image. Set
//     Limits.NoOrientation to get the reference behaviour.
//   - JPEG decoding uses Go's image/jpeg. Chroma upsampling and the YCbCr to
//     RGB conversion are done here the way libjpeg(-turbo) does them (fancy
//     upsampling, the jdcolor.c fixed-point tables), but the inverse DCT is
//     Go's, so about 2-4% of the bytes differ from Pillow's decode, by at
//     most 3 (mean 0.03; Go's own YCbCr conversion: max 4-46, mean 0.3-0.9).
//     Feed Pillow-decoded RGB where bit-exactness with the reference matters.
//   - 16-bit gray PNGs keep their high byte; Pillow opens them as mode "I"
//     and clips to 255.
//   - Pillow built for arm64 may fuse multiply-adds (gcc's default
//     -ffp-contract=fast) in its coefficient computation; the goldens and
//     this code follow the unfused x86-64 build.
package imageproc
