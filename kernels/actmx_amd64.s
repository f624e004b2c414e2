//go:build !purego

// packActRowMX in AVX-512: one 32-element block per iteration, written to
// its slot stride bytes after the previous one. Bit-identical to the Go
// code (gemm.go): the exponent from VGETEXPPS (exact, subnormals included), the scaling by VSCALEFPS (exact),
// rounding by VCVTPS2DQ under the default round-to-nearest-even.

#include "textflag.h"

DATA mxconst<>+0(SB)/4, $0x7fffffff  // |x| mask
DATA mxconst<>+4(SB)/4, $0x40c00000  // 6.0
DATA mxconst<>+8(SB)/4, $0x42ff0000  // 127.5
DATA mxconst<>+12(SB)/4, $0x3f800000 // 1.0
DATA mxconst<>+16(SB)/4, $0xc2c80000 // -100.0 (mxMinExp)
DATA mxconst<>+20(SB)/4, $0x42c80000 // 100.0 (mxMaxExp)
DATA mxconst<>+24(SB)/4, $0x42fe0000 // 127.0
DATA mxconst<>+28(SB)/4, $0xc2fe0000 // -127.0
DATA mxconst<>+32(SB)/4, $0x80000000 // sign bit
GLOBL mxconst<>(SB), RODATA|NOPTR, $36

// func packActRowMXAVX512(dst *byte, stride int, x *float32, nb int, negOffset int32)
TEXT ·packActRowMXAVX512(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ stride+8(FP), R9
	MOVQ x+16(FP), SI
	MOVQ nb+24(FP), CX
	MOVL negOffset+32(FP), R8
	VPBROADCASTD mxconst<>+0(SB), Z20  // abs mask
	VBROADCASTSS mxconst<>+24(SB), Z21 // 127
	VBROADCASTSS mxconst<>+28(SB), Z22 // -127
	VMOVSS mxconst<>+4(SB), X23        // 6
	VMOVSS mxconst<>+8(SB), X24        // 127.5
	VMOVSS mxconst<>+12(SB), X25       // 1
	VMOVSS mxconst<>+16(SB), X26       // -100
	VMOVSS mxconst<>+20(SB), X27       // 100
	VMOVSS mxconst<>+32(SB), X28       // sign bit
	TESTQ CX, CX
	JLE done

loop:
	VMOVUPS 0(SI), Z0
	VMOVUPS 64(SI), Z1
	// NaN or ±Inf anywhere: NaN scale, zero quants
	VFPCLASSPSZ $0x99, Z0, K1
	VFPCLASSPSZ $0x99, Z1, K2
	KORW K1, K2, K1
	KORTESTW K1, K1
	JNZ nonfinite
	// amax into every lane of X2
	VPANDD Z20, Z0, Z2
	VPANDD Z20, Z1, Z3
	VMAXPS Z3, Z2, Z2
	VEXTRACTF64X4 $1, Z2, Y3
	VMAXPS Y3, Y2, Y2
	VEXTRACTF128 $1, Y2, X3
	VMAXPS X3, X2, X2
	VPERMILPS $0x4e, X2, X3
	VMAXPS X3, X2, X2
	VPERMILPS $0xb1, X2, X3
	VMAXPS X3, X2, X2
	// e = floor(log2 amax) − 6, plus one when amax·2^−e ≥ 127.5; in
	// [−100, 100] (amax = 0: −Inf, then −100)
	VGETEXPSS X2, X2, X3
	VSUBSS X23, X3, X3
	VXORPS X28, X3, X4
	VSCALEFSS X4, X2, X5
	VUCOMISS X24, X5
	JCS noinc              // below 127.5, or unordered (amax = 0)
	VADDSS X25, X3, X3
noinc:
	VMAXSS X26, X3, X3
	VMINSS X27, X3, X3
	VMOVSS X3, 32(DI)
	VXORPS X28, X3, X4
	VBROADCASTSS X4, Z4
	VSCALEFPS Z4, Z0, Z0
	VSCALEFPS Z4, Z1, Z1
	VMAXPS Z22, Z0, Z0
	VMINPS Z21, Z0, Z0
	VMAXPS Z22, Z1, Z1
	VMINPS Z21, Z1, Z1
	VCVTPS2DQ Z0, Z0
	VCVTPS2DQ Z1, Z1
	VPMOVSDB Z0, X6
	VPMOVSDB Z1, X7
	VMOVDQU X6, 0(DI)
	VMOVDQU X7, 16(DI)
	// correction −offset·Σq
	VPADDD Z1, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDD Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0x4e, X0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0xb1, X0, X1
	VPADDD X1, X0, X0
	VMOVD X0, AX
	IMULL R8, AX
	MOVL AX, 36(DI)
	JMP next

nonfinite:
	VPXORD Y6, Y6, Y6
	VMOVDQU Y6, 0(DI)
	MOVL $0x7fc00000, 32(DI)
	MOVL $0, 36(DI)

next:
	ADDQ $128, SI
	ADDQ R9, DI
	DECQ CX
	JNZ loop

done:
	VZEROUPPER
	RET
