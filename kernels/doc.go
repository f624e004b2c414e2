// Package kernels holds cogedge's CPU compute: quantized matrix-vector and
// matrix-matrix products over ggml weight blocks, the element-wise and
// normalisation ops of a transformer, and tiled attention over a KV cache.
//
// Every op has a generic Go implementation that is always compiled and is
// the reference in tests. Faster paths (AVX2 assembly on amd64, NEON through
// kernels/neon on arm64) are chosen once at start-up from the CPU features
// in cpu.go; build with -tags purego to compile only the generic code.
//
// Matrix products quantize their float32 activations on the fly to the
// weight type's partner format, as ggml does: Q8_0 for Q4_0, Q5_0, Q8_0 and
// IQ4_NL; Q8_1 for Q4_1 and Q5_1; Q8_K for the K-quants. F32, F16 and BF16
// weights multiply the float32 activations directly.
package kernels
