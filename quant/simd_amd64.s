//go:build !purego

#include "textflag.h"

// Eight trial scales per YMM register, one per lane; see simd.go for what
// each kernel computes (its Go twin). Only IEEE single-precision multiply,
// add, subtract and divide (no FMA) and integer ops, in the twins' order, so
// every lane equals the scalar code bit for bit.

// Broadcast constants: 1.5·2^23 (nearest_int's magic), the mantissa mask
// and 2^22.
#define MAGIC $0x4B400000
#define MANT $0x007FFFFF
#define HALF $0x00400000

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

// qkx2Frame field offsets (TestQKX2FrameLayout checks them).
#define F_XM 0
#define F_X 128
#define F_W 256
#define F_LV 384
#define F_ISC 1408
#define F_D 1440
#define F_SC 1472
#define F_MI 1504
#define F_E 1536
#define F_BASE 1568
#define F_RMIN 1572
#define F_RDELTA 1576
#define F_FNMAX 1580
#define F_SPAN 1584
#define F_SUMW 1588
#define F_SUMX 1592
#define F_NMAX 1596

DATA lanes<>+0(SB)/4, $0.0
DATA lanes<>+4(SB)/4, $1.0
DATA lanes<>+8(SB)/4, $2.0
DATA lanes<>+12(SB)/4, $3.0
DATA lanes<>+16(SB)/4, $4.0
DATA lanes<>+20(SB)/4, $5.0
DATA lanes<>+24(SB)/4, $6.0
DATA lanes<>+28(SB)/4, $7.0
GLOBL lanes<>(SB), RODATA|NOPTR, $32

// func qkx2GroupAVX2(f *qkx2Frame): qkx2GroupGo in eight lanes.
TEXT ·qkx2GroupAVX2(SB), NOSPLIT, $0-8
	MOVQ f+0(FP), R8

	// isc = ((rmin + rdelta·(base+k)) + fnmax) / span
	VBROADCASTSS F_BASE(R8), Y0
	VADDPS lanes<>(SB), Y0, Y0
	VBROADCASTSS F_RDELTA(R8), Y1
	VMULPS Y0, Y1, Y0
	VBROADCASTSS F_RMIN(R8), Y1
	VADDPS Y0, Y1, Y0
	VBROADCASTSS F_FNMAX(R8), Y1
	VADDPS Y1, Y0, Y0
	VBROADCASTSS F_SPAN(R8), Y1
	VDIVPS Y1, Y0, Y0
	VMOVUPS Y0, F_ISC(R8)

	MOVL MAGIC, CX
	VMOVD CX, X1
	VPBROADCASTD X1, Y1
	MOVL MANT, CX
	VMOVD CX, X2
	VPBROADCASTD X2, Y2
	MOVL HALF, CX
	VMOVD CX, X3
	VPBROADCASTD X3, Y3
	VPBROADCASTD F_NMAX(R8), Y4
	VPXOR Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	LEAQ F_LV(R8), DI
	XORQ CX, CX

gsums:
	VBROADCASTSS F_XM(R8)(CX*4), Y9
	VMULPS Y9, Y0, Y9       // isc·xm
	VADDPS Y1, Y9, Y9
	VPAND Y2, Y9, Y9
	VPSUBD Y3, Y9, Y9       // nearest_int
	VPMINSD Y4, Y9, Y9
	VPMAXSD Y5, Y9, Y9
	VCVTDQ2PS Y9, Y9        // level
	VMOVUPS Y9, (DI)
	VBROADCASTSS F_W(R8)(CX*4), Y10
	VMULPS Y9, Y10, Y10     // wf = w·l
	VADDPS Y10, Y6, Y6      // sumL
	VMULPS Y9, Y10, Y11
	VADDPS Y11, Y7, Y7      // sumL2
	VBROADCASTSS F_X(R8)(CX*4), Y12
	VMULPS Y12, Y10, Y12
	VADDPS Y12, Y8, Y8      // sumXL
	ADDQ $32, DI
	INCQ CX
	CMPQ CX, $32
	JLT gsums

	// D = sumW·sumL2 - sumL·sumL
	VBROADCASTSS F_SUMW(R8), Y9
	VBROADCASTSS F_SUMX(R8), Y10
	VMULPS Y7, Y9, Y11
	VMULPS Y6, Y6, Y12
	VSUBPS Y12, Y11, Y11
	VMOVUPS Y11, F_D(R8)
	// scale = (sumW·sumXL - sumX·sumL) / D
	VMULPS Y8, Y9, Y12
	VMULPS Y6, Y10, Y13
	VSUBPS Y13, Y12, Y12
	VDIVPS Y11, Y12, Y12
	// min = (sumL2·sumX - sumL·sumXL) / D
	VMULPS Y10, Y7, Y13
	VMULPS Y8, Y6, Y14
	VSUBPS Y14, Y13, Y13
	VDIVPS Y11, Y13, Y13
	// if min > 0 { min = 0; scale = sumXL / sumL2 }
	VXORPS Y14, Y14, Y14
	VCMPPS $0x1e, Y14, Y13, Y15 // min > 0, ordered
	VDIVPS Y7, Y8, Y9
	VBLENDVPS Y15, Y9, Y12, Y12
	VBLENDVPS Y15, Y14, Y13, Y13
	VMOVUPS Y12, F_SC(R8)
	VMOVUPS Y13, F_MI(R8)

	// e = Σ w·((sc·l + mi) - x)²
	VXORPS Y2, Y2, Y2
	LEAQ F_LV(R8), DI
	XORQ CX, CX

gerr:
	VMULPS (DI), Y12, Y3    // sc·l
	VADDPS Y13, Y3, Y3      // + mi
	VBROADCASTSS F_X(R8)(CX*4), Y4
	VSUBPS Y4, Y3, Y3       // - x
	VMULPS Y3, Y3, Y3
	VBROADCASTSS F_W(R8)(CX*4), Y5
	VMULPS Y3, Y5, Y3
	VADDPS Y3, Y2, Y2
	ADDQ $32, DI
	INCQ CX
	CMPQ CX, $32
	JLT gerr

	VMOVUPS Y2, F_E(R8)
	VZEROUPPER
	RET
