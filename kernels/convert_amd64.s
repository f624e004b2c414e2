//go:build !purego

#include "textflag.h"

// func fp32ToFP16AVX2(dst *uint16, src *float32, n int): n%8 == 0.
// VCVTPS2PH with round-to-nearest-even is IEEE's conversion, which is
// quant.FP32ToFP16's for every input but NaN: the instruction keeps the
// payload's top bits, the Go twin writes the canonical quiet NaN
// (sign|0x7E00), so NaN lanes are patched to that.
TEXT ·fp32ToFP16AVX2(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	MOVL         $0x80008000, AX
	VMOVD        AX, X6
	VPBROADCASTD X6, X6 // sign bit of every half
	MOVL         $0x7E007E00, AX
	VMOVD        AX, X7
	VPBROADCASTD X7, X7 // canonical quiet NaN

loop:
	TESTQ        CX, CX
	JZ           done
	VMOVUPS      (SI), Y0
	VCVTPS2PH    $0, Y0, X1
	VCMPPS       $3, Y0, Y0, Y2 // unordered: NaN lanes
	VEXTRACTI128 $1, Y2, X3
	VPACKSSDW    X3, X2, X4     // the eight lane masks as words, in order
	VPAND        X6, X1, X5
	VPOR         X7, X5, X5
	VPBLENDVB    X4, X5, X1, X1
	VMOVDQU      X1, (DI)
	ADDQ         $32, SI
	ADDQ         $16, DI
	SUBQ         $8, CX
	JMP          loop

done:
	VZEROUPPER
	RET
