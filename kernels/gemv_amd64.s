//go:build !purego

// Q4_0 decode dot with VPDPBUSD (AVX-512 VL+VNNI, EVEX; or AVX-VNNI, VEX,
// hand-encoded; or VPMADDUBSW+VPMADDWD on plain AVX2): the unsigned nibbles (0..15) are multiplied with the
// activation's int8 quants, the block sum starts at the activation's
// −8·Σq (packActLinear) in lane 0 (VMOVD zeroes the other seven), so no
// "subtract 8" or sign trick is needed. Two
// float accumulators (even and odd blocks) keep the FMA chain short.
// func gemvQ4_0<variant>(w, x *byte, nb int) float32: w in Q4_0 blocks
// (18 bytes), x in 40-byte slots (int8 qs[32], float32 d, int32 correction).

#include "textflag.h"

// BLOCK processes the Q4_0 block at woff(SI) and the slot at xoff(DI)
// into the float accumulator acc (clobbers Y3–Y6, X6, AX).
#define BLOCK(woff, xoff, acc) \
	VMOVDQU      woff+2(SI), X3 \
	VPSRLW       $4, X3, X4 \
	VINSERTI128  $1, X4, Y3, Y3 \
	VPAND        Y13, Y3, Y3 \
	VMOVD        xoff+36(DI), X5 \
	VMOVDQU      xoff(DI), Y4 \
	DPBUSD \
	VCVTDQ2PS    Y5, Y5 \
	MOVWLZX      woff(SI), AX \
	VMOVD        AX, X6 \
	VCVTPH2PS    X6, X6 \
	VMULSS       xoff+32(DI), X6, X6 \
	VBROADCASTSS X6, Y6 \
	VFMADD231PS  Y6, Y5, acc

#define GEMVQ4_0(name) \
TEXT name(SB), NOSPLIT, $0-28 \
	MOVQ w+0(FP), SI \
	MOVQ x+8(FP), DI \
	MOVQ nb+16(FP), CX \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
	MOVL $0x0F0F0F0F, AX \
	VMOVD AX, X13 \
	VPBROADCASTD X13, Y13 \
	MOVL $0x00010001, AX \
	VMOVD AX, X11 \
	VPBROADCASTD X11, Y11 \
loop2: \
	CMPQ CX, $2 \
	JLT tail \
	BLOCK(0, 0, Y0) \
	BLOCK(18, 40, Y1) \
	ADDQ $36, SI \
	ADDQ $80, DI \
	SUBQ $2, CX \
	JMP loop2 \
tail: \
	TESTQ CX, CX \
	JZ done \
	BLOCK(0, 0, Y0) \
done: \
	VADDPS Y1, Y0, Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS X1, X0, X0 \
	VPERMILPS $0x4E, X0, X1 \
	VADDPS X1, X0, X0 \
	VPERMILPS $0xB1, X0, X1 \
	VADDSS X1, X0, X0 \
	VZEROUPPER \
	MOVSS X0, ret+24(FP) \
	RET

// Y5 += u8(Y3) · s8(Y4): EVEX form (needs AVX512VL and AVX512VNNI).
#define DPBUSD VPDPBUSD Y4, Y3, Y5
GEMVQ4_0(·gemvQ4_0AVX512)
#undef DPBUSD

// The same as VEX (AVX-VNNI): C4 E2 65 50 EC = {vex} vpdpbusd %ymm4, %ymm3, %ymm5.
#define DPBUSD BYTE $0xC4; BYTE $0xE2; BYTE $0x65; BYTE $0x50; BYTE $0xEC
GEMVQ4_0(·gemvQ4_0AVXVNNI)
#undef DPBUSD

// Plain AVX2: VPMADDUBSW pairs (at most 2·15·127, no saturation) summed
// to int32 by VPMADDWD with ones (Y11), then added to the correction.
#define DPBUSD VPMADDUBSW Y4, Y3, Y4; VPMADDWD Y11, Y4, Y4; VPADDD Y4, Y5, Y5
GEMVQ4_0(·gemvQ4_0AVX2)
#undef DPBUSD
