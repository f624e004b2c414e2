//go:build !purego

// Row operations of the image path on amd64 (AVX2, AVX-512F): the
// element-wise add of biases and residuals, and the loops of RMSNorm and
// LayerNorm (AVX2 only: the norms run over 1792- or 4096-float rows). The Go wrappers in
// ops_amd64.go check bounds and run the generic code on the tail.

#include "textflag.h"

// func addAVX2(dst, a, b *float32, n int)  (n a multiple of 8)
// dst = a + b, 32 floats per turn while they last, then 8; every turn
// loads before it stores, so dst may be a or b.
TEXT ·addAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-32, BX

add2loop32:
	CMPQ AX, BX
	JAE add2loop8
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMOVUPS 64(SI)(AX*4), Y2
	VMOVUPS 96(SI)(AX*4), Y3
	VADDPS (DX)(AX*4), Y0, Y0
	VADDPS 32(DX)(AX*4), Y1, Y1
	VADDPS 64(DX)(AX*4), Y2, Y2
	VADDPS 96(DX)(AX*4), Y3, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ $32, AX
	JMP add2loop32

add2loop8:
	CMPQ AX, CX
	JAE add2done
	VMOVUPS (SI)(AX*4), Y0
	VADDPS (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	JMP add2loop8

add2done:
	VZEROUPPER
	RET

// func addAVX512(dst, a, b *float32, n int)  (n a multiple of 16)
// addAVX2 on 512-bit registers: 64 floats per turn, then 16.
TEXT ·addAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-64, BX

add5loop64:
	CMPQ AX, BX
	JAE add5loop16
	VMOVUPS (SI)(AX*4), Z0
	VMOVUPS 64(SI)(AX*4), Z1
	VMOVUPS 128(SI)(AX*4), Z2
	VMOVUPS 192(SI)(AX*4), Z3
	VADDPS (DX)(AX*4), Z0, Z0
	VADDPS 64(DX)(AX*4), Z1, Z1
	VADDPS 128(DX)(AX*4), Z2, Z2
	VADDPS 192(DX)(AX*4), Z3, Z3
	VMOVUPS Z0, (DI)(AX*4)
	VMOVUPS Z1, 64(DI)(AX*4)
	VMOVUPS Z2, 128(DI)(AX*4)
	VMOVUPS Z3, 192(DI)(AX*4)
	ADDQ $64, AX
	JMP add5loop64

add5loop16:
	CMPQ AX, CX
	JAE add5done
	VMOVUPS (SI)(AX*4), Z0
	VADDPS (DX)(AX*4), Z0, Z0
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ $16, AX
	JMP add5loop16

add5done:
	VZEROUPPER
	RET

// REDUCE4PD leaves (Y0+Y1)+(Y2+Y3), summed across its four lanes, in X0.
#define REDUCE4PD \
	VADDPD Y1, Y0, Y0; \
	VADDPD Y3, Y2, Y2; \
	VADDPD Y2, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPD X1, X0, X0; \
	VPERMILPD $1, X0, X1; \
	VADDSD X1, X0, X0; \
	VZEROUPPER

// func sumF64AVX2(x *float32, n int) float64  (n a positive multiple of 16)
// Σ x in float64: four accumulators of four lanes, then a tree.
TEXT ·sumF64AVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

sumloop:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y6
	VCVTPS2PD 48(SI), Y7
	VADDPD Y4, Y0, Y0
	VADDPD Y5, Y1, Y1
	VADDPD Y6, Y2, Y2
	VADDPD Y7, Y3, Y3
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ sumloop
	REDUCE4PD
	MOVSD X0, ret+16(FP)
	RET

// func sumSqF64AVX2(x *float32, n int, c float64) float64  (n a positive multiple of 16)
// Σ (x−c)² in float64 with fused multiply-adds, accumulated as sumF64AVX2.
TEXT ·sumSqF64AVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSD c+16(FP), Y8
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

sumsqloop:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y6
	VCVTPS2PD 48(SI), Y7
	VSUBPD Y8, Y4, Y4
	VSUBPD Y8, Y5, Y5
	VSUBPD Y8, Y6, Y6
	VSUBPD Y8, Y7, Y7
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y5, Y5, Y1
	VFMADD231PD Y6, Y6, Y2
	VFMADD231PD Y7, Y7, Y3
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ sumsqloop
	REDUCE4PD
	MOVSD X0, ret+24(FP)
	RET

// func scaleMulAVX2(dst, x, w *float32, n int, scale float32)  (n a multiple of 16)
// dst = (x·scale)·w, RMSNorm's second pass: the generic code's two
// roundings, so the bytes match it.
TEXT ·scaleMulAVX2(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS scale+32(FP), Y7
	TESTQ CX, CX
	JLE scalemuldone

scalemulloop:
	VMULPS (SI), Y7, Y0
	VMULPS 32(SI), Y7, Y1
	VMULPS (DX), Y0, Y0
	VMULPS 32(DX), Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ scalemulloop

scalemuldone:
	VZEROUPPER
	RET

// func lnApplyAVX2(dst, x, w, b *float32, n int, m, scale float32)  (n a multiple of 16)
// dst = ((x−m)·scale)·w + b, LayerNorm's second pass, unfused as the Go
// compiler leaves it on amd64, so the bytes match the generic code.
TEXT ·lnApplyAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ b+24(FP), R8
	MOVQ n+32(FP), CX
	VBROADCASTSS m+40(FP), Y6
	VBROADCASTSS scale+44(FP), Y7
	TESTQ CX, CX
	JLE lnapplydone

lnapplyloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSUBPS Y6, Y0, Y0
	VSUBPS Y6, Y1, Y1
	VMULPS Y7, Y0, Y0
	VMULPS Y7, Y1, Y1
	VMULPS (DX), Y0, Y0
	VMULPS 32(DX), Y1, Y1
	VADDPS (R8), Y0, Y0
	VADDPS 32(R8), Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R8
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ lnapplyloop

lnapplydone:
	VZEROUPPER
	RET
