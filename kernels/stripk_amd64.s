//go:build !purego

// The float vectors of K-quant strips (packStripK) for a whole strip of 16
// rows, one super-block per iteration: each lane gathers its row's scale
// bytes and fp16 d (and dmin), decodes them as quant.ScaleMinK4 does and
// multiplies in float32 as the Go code does, so the bytes are the same.

#include "textflag.h"

DATA stripkconst<>+0(SB)/4, $0
DATA stripkconst<>+4(SB)/4, $1
DATA stripkconst<>+8(SB)/4, $2
DATA stripkconst<>+12(SB)/4, $3
DATA stripkconst<>+16(SB)/4, $4
DATA stripkconst<>+20(SB)/4, $5
DATA stripkconst<>+24(SB)/4, $6
DATA stripkconst<>+28(SB)/4, $7
DATA stripkconst<>+32(SB)/4, $8
DATA stripkconst<>+36(SB)/4, $9
DATA stripkconst<>+40(SB)/4, $10
DATA stripkconst<>+44(SB)/4, $11
DATA stripkconst<>+48(SB)/4, $12
DATA stripkconst<>+52(SB)/4, $13
DATA stripkconst<>+56(SB)/4, $14
DATA stripkconst<>+60(SB)/4, $15
GLOBL stripkconst<>(SB), RODATA|NOPTR, $64

// rowIndex sets Z31 to r·wrow for the 16 lanes r (wrow in DX).
#define ROWINDEX \
	VMOVDQU32 stripkconst<>(SB), Z31 \
	VPBROADCASTD DX, Z30 \
	VPMULLD Z30, Z31, Z31

// GATHER loads the dword at off of every row's block into dst.
#define GATHER(off, dst) \
	KXNORW K1, K1, K1 \
	VPGATHERDD off(SI)(Z31*1), K1, dst

// func stripKScales4AVX512(sv, blk *byte, wrow, nb, bs int)
// Q4_K and Q5_K: per block, 16 vectors of 16 float32 at sv: d·sc_j
// (j < 8), then −dmin·m_j.
TEXT ·stripKScales4AVX512(SB), NOSPLIT, $0-40
	MOVQ sv+0(FP), DI
	MOVQ blk+8(FP), SI
	MOVQ wrow+16(FP), DX
	MOVQ nb+24(FP), CX
	MOVQ bs+32(FP), BX
	ROWINDEX
	MOVL $0x3f3f3f3f, AX
	VPBROADCASTD AX, Z29 // 6-bit mask per byte
	MOVL $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z28
	MOVL $0x03030303, AX
	VPBROADCASTD AX, Z27
	MOVL $0xff, AX
	VPBROADCASTD AX, Z26
	MOVL $0x80000000, AX
	VPBROADCASTD AX, Z25
	TESTQ CX, CX
	JLE s4done

s4loop:
	GATHER(0, Z0)  // d | dmin<<16
	GATHER(4, Z1)  // lo: sc0–3, top bits of sc4–7
	GATHER(8, Z2)  // mid: m0–3, top bits of m4–7
	GATHER(12, Z3) // hi: low nibbles of sc4–7 | m4–7 << 4
	VPMOVDW Z0, Y4
	VCVTPH2PS Y4, Z4 // d
	VPSRLD $16, Z0, Z5
	VPMOVDW Z5, Y5
	VCVTPH2PS Y5, Z5
	VPXORD Z25, Z5, Z5 // −dmin
	// sc bytes: Z6 = sc0–3, Z7 = sc4–7; m bytes: Z8 = m0–3, Z9 = m4–7
	VPANDD Z29, Z1, Z6
	VPSRLD $6, Z1, Z10
	VPANDD Z27, Z10, Z10
	VPSLLD $4, Z10, Z10
	VPANDD Z28, Z3, Z7
	VPORD Z10, Z7, Z7
	VPANDD Z29, Z2, Z8
	VPSRLD $6, Z2, Z10
	VPANDD Z27, Z10, Z10
	VPSLLD $4, Z10, Z10
	VPSRLD $4, Z3, Z9
	VPANDD Z28, Z9, Z9
	VPORD Z10, Z9, Z9

#define EMIT(src, shift, scale, off) \
	VPSRLD $shift, src, Z10 \
	VPANDD Z26, Z10, Z10 \
	VCVTDQ2PS Z10, Z10 \
	VMULPS Z10, scale, Z10 \
	VMOVUPS Z10, off(DI)

	EMIT(Z6, 0, Z4, 0)
	EMIT(Z6, 8, Z4, 64)
	EMIT(Z6, 16, Z4, 128)
	EMIT(Z6, 24, Z4, 192)
	EMIT(Z7, 0, Z4, 256)
	EMIT(Z7, 8, Z4, 320)
	EMIT(Z7, 16, Z4, 384)
	EMIT(Z7, 24, Z4, 448)
	EMIT(Z8, 0, Z5, 512)
	EMIT(Z8, 8, Z5, 576)
	EMIT(Z8, 16, Z5, 640)
	EMIT(Z8, 24, Z5, 704)
	EMIT(Z9, 0, Z5, 768)
	EMIT(Z9, 8, Z5, 832)
	EMIT(Z9, 16, Z5, 896)
	EMIT(Z9, 24, Z5, 960)
	ADDQ BX, SI
	ADDQ $5120, DI
	DECQ CX
	JNZ s4loop

s4done:
	VZEROUPPER
	RET

// func stripKScales6AVX512(sv, blk *byte, wrow, nb, bs int)
// Q6_K: per block, 16 vectors of 16 float32 at sv: d·scales[j] (int8).
TEXT ·stripKScales6AVX512(SB), NOSPLIT, $0-40
	MOVQ sv+0(FP), DI
	MOVQ blk+8(FP), SI
	MOVQ wrow+16(FP), DX
	MOVQ nb+24(FP), CX
	MOVQ bs+32(FP), BX
	ROWINDEX
	TESTQ CX, CX
	JLE s6done

s6loop:
	GATHER(192, Z0)
	GATHER(196, Z1)
	GATHER(200, Z2)
	GATHER(204, Z3) // scales 12–15
	GATHER(206, Z5) // scales 14–15 | d << 16 (the dword at 208 would pass the block)
	VPSRLD $16, Z5, Z5
	VPMOVDW Z5, Y5
	VCVTPH2PS Y5, Z4 // d

#define EMIT6(src, shl, off) \
	VPSLLD $shl, src, Z10 \
	VPSRAD $24, Z10, Z10 \
	VCVTDQ2PS Z10, Z10 \
	VMULPS Z10, Z4, Z10 \
	VMOVUPS Z10, off(DI)

	EMIT6(Z0, 24, 0)
	EMIT6(Z0, 16, 64)
	EMIT6(Z0, 8, 128)
	EMIT6(Z0, 0, 192)
	EMIT6(Z1, 24, 256)
	EMIT6(Z1, 16, 320)
	EMIT6(Z1, 8, 384)
	EMIT6(Z1, 0, 448)
	EMIT6(Z2, 24, 512)
	EMIT6(Z2, 16, 576)
	EMIT6(Z2, 8, 640)
	EMIT6(Z2, 0, 704)
	EMIT6(Z3, 24, 768)
	EMIT6(Z3, 16, 832)
	EMIT6(Z3, 8, 896)
	EMIT6(Z3, 0, 960)
	ADDQ BX, SI
	ADDQ $5120, DI
	DECQ CX
	JNZ s6loop

s6done:
	VZEROUPPER
	RET
