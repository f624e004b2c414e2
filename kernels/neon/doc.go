// Package neon holds the arm64 NEON dot-product kernels behind the kernels
// package's quantized matmul: one weight block row dotted with one activation
// row quantized to the weight type's partner format (Q8_0, Q8_1 or Q8_K), as
// ggml's vec_dot functions do.
//
// Every kernel has three arm64 tiers chosen at run time from Features:
// SDOT (FEAT_DotProd: Pi 5, Orin, Apple M1+), plain NEON with
// SMULL/SADALP (Cortex-A72/A53: Pi 4), and for Q4_0/Q8_0 a 2×2 SMMLA tile
// (FEAT_I8MM: Apple M2+, Graviton3). Each has a generic Go twin that is
// always compiled; it runs on other architectures, with -tags purego, and
// when Features are switched off.
//
// Results are identical, bit for bit, across the tiers and the generic twin,
// which is the one reference in kernels/ref: integer block sums are exact,
// and the float accumulation order is fixed by the definitions below (and
// ref's doc), which the assembly follows.
//
// For 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL), block b's
// integer dot isum_b is scaled by the exact float32 product of the two fp16
// scales and added into accumulator b mod 4 (no fused multiply-add):
//
//	acc[b%4] += float32(isum_b) * (d_w * d_x)
//	result = (acc[0]+acc[1]) + (acc[2]+acc[3])
//
// Q4_1 and Q5_1 add a second set of four accumulators for m_w*s_x, summed
// the same way and added last. The Dot2x2 tiles use the same definition per
// output, so Dot2x2 equals four single dots. K-quants accumulate one
// super-block at a time in float32: sum += float32(isum)*(d_x*d_w) for the
// scale term and, for Q4_K and Q5_K, summ += float32(imin)*(d_x*dmin_w),
// returning sum - summ.
//
// The assembly is generated: kernels/neon/_gen writes dot_arm64.s and
// dot_arm64.go (go generate ./kernels/neon).
package neon

//go:generate go run ./_gen -o .
