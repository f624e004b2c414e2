//go:build !purego

#include "textflag.h"

// Eight trial scales per YMM register, one per lane; see simd.go for what
// each kernel computes (its Go twin). Only IEEE single-precision multiply,
// add and subtract (no FMA) and integer ops, in the twins' order, so every
// lane equals the scalar code bit for bit.

// Broadcast constants: 1.5·2^23 (nearest_int's magic), the mantissa mask
// and 2^22.
#define MAGIC $0x4B400000
#define MANT $0x007FFFFF
#define HALF $0x00400000

// func qkx2SumsAVX2(xm, x, w *[32]float32, is *[8]float32, nmax int32, lv *[32][8]float32, s *[3][8]float32)
TEXT ·qkx2SumsAVX2(SB), NOSPLIT, $0-56
	MOVQ xm+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ w+16(FP), DX
	MOVQ is+24(FP), AX
	MOVL nmax+32(FP), BX
	MOVQ lv+40(FP), R8
	MOVQ s+48(FP), R9
	VMOVUPS (AX), Y0
	MOVL MAGIC, CX
	VMOVD CX, X1
	VPBROADCASTD X1, Y1
	MOVL MANT, CX
	VMOVD CX, X2
	VPBROADCASTD X2, Y2
	MOVL HALF, CX
	VMOVD CX, X3
	VPBROADCASTD X3, Y3
	VMOVD BX, X4
	VPBROADCASTD X4, Y4
	VPXOR Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	XORQ CX, CX

sumsloop:
	VBROADCASTSS (SI)(CX*4), Y9
	VMULPS Y9, Y0, Y9       // is·xm
	VADDPS Y1, Y9, Y9       // + 1.5·2^23
	VPAND Y2, Y9, Y9
	VPSUBD Y3, Y9, Y9       // nearest_int
	VPMINSD Y4, Y9, Y9      // min(nmax, l)
	VPMAXSD Y5, Y9, Y9      // max(0, ·)
	VCVTDQ2PS Y9, Y9        // l as float32
	VMOVUPS Y9, (R8)
	VBROADCASTSS (DX)(CX*4), Y10
	VMULPS Y9, Y10, Y10     // wf = w·l
	VADDPS Y10, Y6, Y6      // sumL += wf
	VMULPS Y9, Y10, Y11     // wf·l
	VADDPS Y11, Y7, Y7      // sumL2 += wf·l
	VBROADCASTSS (DI)(CX*4), Y12
	VMULPS Y12, Y10, Y12    // wf·x
	VADDPS Y12, Y8, Y8      // sumXL += wf·x
	ADDQ $32, R8
	INCQ CX
	CMPQ CX, $32
	JLT sumsloop

	VMOVUPS Y6, (R9)
	VMOVUPS Y7, 32(R9)
	VMOVUPS Y8, 64(R9)
	VZEROUPPER
	RET

// func qkx2ErrAVX2(x, w *[32]float32, lv *[32][8]float32, sc, mi, e *[8]float32)
TEXT ·qkx2ErrAVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), DI
	MOVQ w+8(FP), DX
	MOVQ lv+16(FP), R8
	MOVQ sc+24(FP), AX
	MOVQ mi+32(FP), BX
	MOVQ e+40(FP), R9
	VMOVUPS (AX), Y0
	VMOVUPS (BX), Y1
	VXORPS Y2, Y2, Y2
	XORQ CX, CX

errloop:
	VMOVUPS (R8), Y3
	VMULPS Y3, Y0, Y3       // sc·l
	VADDPS Y1, Y3, Y3       // + mi
	VBROADCASTSS (DI)(CX*4), Y4
	VSUBPS Y4, Y3, Y3       // - x
	VMULPS Y3, Y3, Y3       // diff²
	VBROADCASTSS (DX)(CX*4), Y5
	VMULPS Y3, Y5, Y3       // w·diff²
	VADDPS Y3, Y2, Y2
	ADDQ $32, R8
	INCQ CX
	CMPQ CX, $32
	JLT errloop

	VMOVUPS Y2, (R9)
	VZEROUPPER
	RET

// func qxSumsAVX2(x, wv, w *[16]float32, is *[8]float32, s *[2][8]float32)
TEXT ·qxSumsAVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ wv+8(FP), DI
	MOVQ w+16(FP), DX
	MOVQ is+24(FP), AX
	MOVQ s+32(FP), R9
	VMOVUPS (AX), Y0
	MOVL MAGIC, CX
	VMOVD CX, X1
	VPBROADCASTD X1, Y1
	MOVL MANT, CX
	VMOVD CX, X2
	VPBROADCASTD X2, Y2
	MOVL HALF, CX
	VMOVD CX, X3
	VPBROADCASTD X3, Y3
	MOVL $31, CX
	VMOVD CX, X4
	VPBROADCASTD X4, Y4
	MOVL $-32, CX
	VMOVD CX, X5
	VPBROADCASTD X5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ CX, CX

qxloop:
	VBROADCASTSS (SI)(CX*4), Y8
	VMULPS Y8, Y0, Y8       // is·x
	VADDPS Y1, Y8, Y8
	VPAND Y2, Y8, Y8
	VPSUBD Y3, Y8, Y8       // nearest_int
	VPMINSD Y4, Y8, Y8      // min(31, l)
	VPMAXSD Y5, Y8, Y8      // max(-32, ·)
	VCVTDQ2PS Y8, Y8
	VBROADCASTSS (DI)(CX*4), Y9
	VMULPS Y8, Y9, Y9       // (w·x)·l
	VADDPS Y9, Y6, Y6
	VBROADCASTSS (DX)(CX*4), Y10
	VMULPS Y8, Y10, Y10     // w·l
	VMULPS Y8, Y10, Y10     // (w·l)·l
	VADDPS Y10, Y7, Y7
	INCQ CX
	CMPQ CX, $16
	JLT qxloop

	VMOVUPS Y6, (R9)
	VMOVUPS Y7, 32(R9)
	VZEROUPPER
	RET
