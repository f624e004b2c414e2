//go:build !purego

// AVX2 dots for Q5_0, Q4_1, Q5_1, Q5_K and BF16, and the Q8_1 and Q8_K
// activation quantizers; same scheme as dot_amd64.s (macros are repeated
// here because they are file-local).
//
// The fifth bit of Q5_0/Q5_1 quants is spread from the 32-bit qh field to
// one byte per element as ggml's bytes_from_bits_32 does: VPSHUFB copies
// byte i/8 of qh into byte i, OR with a mask that has every bit but bit
// i%8 set, and VPCMPEQB with all-ones leaves 0xFF exactly where the bit is
// set. Q5_0 then ORs 0xF0 into the nibble where the bit is clear (q−16 in
// two's complement); Q5_1 ORs 0x10 where it is set (unsigned q).
// Q8_K quantization reproduces quantize_row_q8_K_ref: the scale comes from
// the first element of largest magnitude (found with VCMPPS/VMOVMSKPS/BSF),
// values are rounded with VCVTPS2DQ (nearest even) and saturated by the
// packs (the reference clamps at 127), and the 16 block sums come from
// VPMADDUBSW with ones and a VPHADDW tree.

#include "textflag.h"

DATA bitsShuf<>+0(SB)/8, $0x0000000000000000
DATA bitsShuf<>+8(SB)/8, $0x0101010101010101
DATA bitsShuf<>+16(SB)/8, $0x0202020202020202
DATA bitsShuf<>+24(SB)/8, $0x0303030303030303
GLOBL bitsShuf<>(SB), RODATA|NOPTR, $32

DATA permq8b<>+0(SB)/4, $0
DATA permq8b<>+4(SB)/4, $4
DATA permq8b<>+8(SB)/4, $1
DATA permq8b<>+12(SB)/4, $5
DATA permq8b<>+16(SB)/4, $2
DATA permq8b<>+20(SB)/4, $6
DATA permq8b<>+24(SB)/4, $3
DATA permq8b<>+28(SB)/4, $7
GLOBL permq8b<>(SB), RODATA|NOPTR, $32

#define HSUM \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS       X1, X0, X0 \
	VPERMILPS    $0x4E, X0, X1 \
	VADDPS       X1, X0, X0 \
	VPERMILPS    $0xB1, X0, X1 \
	VADDSS       X1, X0, X0

#define SCALE2(a, b) \
	MOVWLZX      a, AX \
	VMOVD        AX, X1 \
	VCVTPH2PS    X1, X1 \
	MOVWLZX      b, AX \
	VMOVD        AX, X2 \
	VCVTPH2PS    X2, X2 \
	VMULSS       X2, X1, X1 \
	VBROADCASTSS X1, Y1

// FP16MUL adds f16(a)·f16(b) to the scalar accumulator Xacc (clobbers X2, X3).
#define FP16MUL(a, b, Xacc) \
	MOVWLZX     a, AX \
	VMOVD       AX, X2 \
	VCVTPH2PS   X2, X2 \
	MOVWLZX     b, AX \
	VMOVD       AX, X3 \
	VCVTPH2PS   X3, X3 \
	VFMADD231SS X3, X2, Xacc

// BITS32 spreads the 32 bits at mem into Yd: 0xFF where set, 0 where clear
// (needs Y10 = bitsShuf, Y9 = bit mask, Y8 = all ones).
#define BITS32(mem, Yd) \
	VPBROADCASTD mem, Yd \
	VPSHUFB      Y10, Yd, Yd \
	VPOR         Y9, Yd, Yd \
	VPCMPEQB     Y8, Yd, Yd

// NIBBLES unpacks the 16 bytes at mem to 32 bytes in Yd: low nibbles then
// high nibbles (needs Y13 = 0x0F bytes; clobbers X5).
#define NIBBLES(mem, Yd, Xd) \
	VMOVDQU     mem, Xd \
	VPSRLW      $4, Xd, X5 \
	VINSERTI128 $1, X5, Yd, Yd \
	VPAND       Y13, Yd, Yd

#define BITCONSTS \
	MOVL $0x0F0F0F0F, AX \
	VMOVD AX, X13 \
	VPBROADCASTD X13, Y13 \
	MOVL $0x00010001, AX \
	VMOVD AX, X11 \
	VPBROADCASTD X11, Y11 \
	VMOVDQU bitsShuf<>(SB), Y10 \
	MOVQ $0x7fbfdfeff7fbfdfe, AX \
	VMOVQ AX, X9 \
	VPBROADCASTQ X9, Y9 \
	VPCMPEQB Y8, Y8, Y8

// func dotQ5_0Q8_0AVX2(w, x *byte, nb int) float32
TEXT ·dotQ5_0Q8_0AVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	TESTQ CX, CX
	JLE q50done
	BITCONSTS
	MOVL $0xF0F0F0F0, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12

q50loop:
	SCALE2((SI), (DI))
	BITS32(2(SI), Y3)
	VPANDN Y12, Y3, Y3 // 0xF0 where the bit is clear
	NIBBLES(6(SI), Y4, X4)
	VPOR Y3, Y4, Y4
	VMOVDQU 2(DI), Y5
	VPSIGNB Y4, Y4, Y6
	VPSIGNB Y4, Y5, Y7
	VPMADDUBSW Y7, Y6, Y6
	VPMADDWD Y11, Y6, Y6
	VCVTDQ2PS Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ $22, SI
	ADDQ $34, DI
	DECQ CX
	JNZ q50loop

q50done:
	HSUM
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotQ4_1Q8_1AVX2(w, x *byte, nb int) float32
TEXT ·dotQ4_1Q8_1AVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS X14, X14, X14 // Σ m·s
	TESTQ CX, CX
	JLE q41done
	BITCONSTS

q41loop:
	SCALE2((SI), (DI))
	FP16MUL(2(SI), 2(DI), X14)
	NIBBLES(4(SI), Y4, X4)
	VPMADDUBSW 4(DI), Y4, Y6
	VPMADDWD Y11, Y6, Y6
	VCVTDQ2PS Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ $20, SI
	ADDQ $36, DI
	DECQ CX
	JNZ q41loop

q41done:
	HSUM
	VADDSS X14, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotQ5_1Q8_1AVX2(w, x *byte, nb int) float32
TEXT ·dotQ5_1Q8_1AVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS X14, X14, X14
	TESTQ CX, CX
	JLE q51done
	BITCONSTS
	MOVL $0x10101010, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12

q51loop:
	SCALE2((SI), (DI))
	FP16MUL(2(SI), 2(DI), X14)
	BITS32(4(SI), Y3)
	VPAND Y12, Y3, Y3 // 0x10 where the bit is set
	NIBBLES(8(SI), Y4, X4)
	VPOR Y3, Y4, Y4
	VPMADDUBSW 4(DI), Y4, Y6
	VPMADDWD Y11, Y6, Y6
	VCVTDQ2PS Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ $24, SI
	ADDQ $36, DI
	DECQ CX
	JNZ q51loop

q51done:
	HSUM
	VADDSS X14, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// Q5KCHUNK: 64 elements c of a Q5_K block: nibbles at qoff(SI), the fifth
// bits from Y14 (qh shifted right by 2c, bits 0 and 1 of each byte), the
// activations at yoff(DI), sub-block scales at sa(SP), sb(SP); adds to Y8.
#define Q5KCHUNK(qoff, yoff, sa, sb) \
	VMOVDQU qoff(SI), Y1 \
	VPSRLW $4, Y1, Y2 \
	VPAND Y13, Y1, Y1 \
	VPAND Y13, Y2, Y2 \
	VPAND Y12, Y14, Y3 \
	VPSLLW $4, Y3, Y3 \
	VPOR Y3, Y1, Y1 \
	VPSRLW $1, Y14, Y3 \
	VPAND Y12, Y3, Y3 \
	VPSLLW $4, Y3, Y3 \
	VPOR Y3, Y2, Y2 \
	VPSRLW $2, Y14, Y14 \
	VPMADDUBSW yoff(DI), Y1, Y1 \
	VPMADDUBSW yoff+32(DI), Y2, Y2 \
	VPBROADCASTW sa(SP), Y3 \
	VPBROADCASTW sb(SP), Y4 \
	VPMADDWD Y3, Y1, Y1 \
	VPMADDWD Y4, Y2, Y2 \
	VPADDD Y1, Y8, Y8 \
	VPADDD Y2, Y8, Y8

// func dotQ5_KQ8_KAVX2(w, x *byte, nb int) float32
// Stack: 0(SP) holds the eight sub-block scales as int16.
TEXT ·dotQ5_KQ8_KAVX2(SB), NOSPLIT, $16-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y9, Y9, Y9
	TESTQ CX, CX
	JLE q5kdone
	MOVL $0x0F0F0F0F, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13
	MOVL $0x01010101, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12

q5kloop:
	// scales and mins: the kmask decode of the 12 bytes at 4(SI).
	MOVL 4(SI), R8
	MOVL 8(SI), R9
	MOVL 12(SI), R10
	MOVL R10, R11
	SHRL $4, R11
	ANDL $0x0F0F0F0F, R11
	MOVL R9, R12
	SHRL $6, R12
	ANDL $0x03030303, R12
	SHLL $4, R12
	ORL  R12, R11
	MOVL R9, R12
	ANDL $0x3F3F3F3F, R12
	ANDL $0x0F0F0F0F, R10
	MOVL R8, R13
	SHRL $6, R13
	ANDL $0x03030303, R13
	SHLL $4, R13
	ORL  R13, R10
	ANDL $0x3F3F3F3F, R8
	VMOVD   R8, X2
	VPINSRD $1, R10, X2, X2
	VPMOVZXBW X2, X2
	VMOVDQU X2, 0(SP)
	VMOVD   R12, X3
	VPINSRD $1, R11, X3, X3
	VPMOVZXBW X3, X3
	VMOVDQU 260(DI), Y4
	VEXTRACTI128 $1, Y4, X5
	VPHADDW X5, X4, X4
	VPMADDWD X4, X3, X3
	VCVTDQ2PS X3, X3
	MOVWLZX 2(SI), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS (DI), X6, X6
	VBROADCASTSS X6, X6
	VFMADD231PS X3, X6, X9

	VPXOR Y8, Y8, Y8
	VMOVDQU 16(SI), Y14
	Q5KCHUNK(48, 4, 0, 2)
	Q5KCHUNK(80, 68, 4, 6)
	Q5KCHUNK(112, 132, 8, 10)
	Q5KCHUNK(144, 196, 12, 14)

	MOVWLZX (SI), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS (DI), X6, X6
	VBROADCASTSS X6, Y6
	VCVTDQ2PS Y8, Y8
	VFMADD231PS Y8, Y6, Y0

	ADDQ $176, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q5kloop

q5kdone:
	VSUBPS Y9, Y0, Y0
	HSUM
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotBF16AVX2(w *uint16, x *float32, n int) float32  (n multiple of 8)
TEXT ·dotBF16AVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4

bfloop32:
	CMPQ CX, $32
	JLT  bfloop8
	VPMOVZXWD (SI), Y5
	VPMOVZXWD 16(SI), Y6
	VPMOVZXWD 32(SI), Y7
	VPMOVZXWD 48(SI), Y8
	VPSLLD $16, Y5, Y5
	VPSLLD $16, Y6, Y6
	VPSLLD $16, Y7, Y7
	VPSLLD $16, Y8, Y8
	VFMADD231PS (DI), Y5, Y0
	VFMADD231PS 32(DI), Y6, Y2
	VFMADD231PS 64(DI), Y7, Y3
	VFMADD231PS 96(DI), Y8, Y4
	ADDQ $64, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  bfloop32

bfloop8:
	CMPQ CX, $8
	JLT  bfdone
	VPMOVZXWD (SI), Y5
	VPSLLD $16, Y5, Y5
	VFMADD231PS (DI), Y5, Y0
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  bfloop8

bfdone:
	VADDPS Y2, Y0, Y0
	VADDPS Y4, Y3, Y3
	VADDPS Y3, Y0, Y0
	HSUM
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func quantQ8_1AVX2(dst *byte, src *float32, nb int)
TEXT ·quantQ8_1AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JLE q81done
	MOVL $0x7FFFFFFF, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x42FE0000, AX // 127.0
	VMOVD AX, X14
	MOVL $0x3F800000, AX // 1.0
	VMOVD AX, X13
	VXORPS X12, X12, X12
	VMOVDQU permq8b<>(SB), Y10

q81loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VANDPS  Y15, Y0, Y4
	VANDPS  Y15, Y1, Y5
	VMAXPS  Y5, Y4, Y4
	VANDPS  Y15, Y2, Y5
	VMAXPS  Y5, Y4, Y4
	VANDPS  Y15, Y3, Y5
	VMAXPS  Y5, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VMAXPS  X5, X4, X4
	VPERMILPS $0x4E, X4, X5
	VMAXPS  X5, X4, X4
	VPERMILPS $0xB1, X4, X5
	VMAXPS  X5, X4, X4
	VDIVSS  X14, X4, X6 // d = amax/127
	VXORPS  X8, X8, X8
	VUCOMISS X12, X6
	JEQ     q81zero
	VDIVSS  X6, X13, X8 // id = 1/d

q81zero:
	VCVTPS2PH $0, X6, X9
	VMOVD   X9, AX
	MOVW    AX, (DI)
	VBROADCASTSS X8, Y8
	VMULPS  Y8, Y0, Y0
	VMULPS  Y8, Y1, Y1
	VMULPS  Y8, Y2, Y2
	VMULPS  Y8, Y3, Y3
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VCVTPS2DQ Y2, Y2
	VCVTPS2DQ Y3, Y3
	// s = fp16(d·Σq)
	VPADDD  Y1, Y0, Y4
	VPADDD  Y3, Y2, Y5
	VPADDD  Y5, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD  X5, X4, X4
	VPSHUFD $0x4E, X4, X5
	VPADDD  X5, X4, X4
	VPSHUFD $0xB1, X4, X5
	VPADDD  X5, X4, X4
	VCVTDQ2PS X4, X4
	VMULSS  X6, X4, X4
	VCVTPS2PH $0, X4, X4
	VMOVD   X4, AX
	MOVW    AX, 2(DI)
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD  Y0, Y10, Y0
	VMOVDQU Y0, 4(DI)
	ADDQ $128, SI
	ADDQ $36, DI
	DECQ CX
	JNZ  q81loop

q81done:
	VZEROUPPER
	RET

// func quantQ8_KAVX2(dst *byte, src *float32, nb, stride, layout int)
// Block b goes to dst + b·stride: a Q8_K block (layout 0: d, quants,
// int16 bsums) or a K-quant group slot (actpack.go: quants, d, then the
// eight pair sums as float32 and eight zeros for layout 1, the sixteen
// −32·bsum as int32 for layout 2).
TEXT ·quantQ8_KAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
	MOVQ stride+24(FP), R12
	MOVQ layout+32(FP), R13
	TESTQ CX, CX
	JLE q8kdone
	// R9: the quants, R10: d, relative to DI
	MOVQ $4, R9
	MOVQ $0, R10
	TESTQ R13, R13
	JEQ  q8kconst
	MOVQ $0, R9
	MOVQ $256, R10

q8kconst:
	MOVL $0x7FFFFFFF, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0xC2FE0000, AX // -127.0
	VMOVD AX, X14
	MOVL $0x3F800000, AX // 1.0
	VMOVD AX, X13
	VXORPS X12, X12, X12
	VMOVDQU permq8b<>(SB), Y10
	MOVL $0x01010101, AX
	VMOVD AX, X11
	VPBROADCASTD X11, Y11

q8kloop:
	// amax over 256 values
	VXORPS Y4, Y4, Y4
	XORQ AX, AX

q8kamax:
	VANDPS (SI)(AX*1), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 32(SI)(AX*1), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 64(SI)(AX*1), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 96(SI)(AX*1), Y15, Y5
	VMAXPS Y5, Y4, Y4
	ADDQ $128, AX
	CMPQ AX, $1024
	JLT  q8kamax
	VEXTRACTF128 $1, Y4, X5
	VMAXPS  X5, X4, X4
	VPERMILPS $0x4E, X4, X5
	VMAXPS  X5, X4, X4
	VPERMILPS $0xB1, X4, X5
	VMAXPS  X5, X4, X4
	VUCOMISS X12, X4
	JNE q8knonzero
	VPXOR Y0, Y0, Y0
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y0, 32(DI)
	VMOVDQU Y0, 64(DI)
	VMOVDQU Y0, 96(DI)
	VMOVDQU Y0, 128(DI)
	VMOVDQU Y0, 160(DI)
	VMOVDQU Y0, 192(DI)
	VMOVDQU Y0, 224(DI)
	VMOVDQU Y0, 256(DI)
	MOVL $0, 288(DI)
	TESTQ R13, R13
	JEQ  q8knext
	VMOVDQU Y0, 288(DI) // a group slot: 324 bytes
	MOVL $0, 320(DI)
	JMP q8knext

q8knonzero:
	// the first element whose magnitude is amax gives the signed max
	VBROADCASTSS X4, Y4
	XORQ AX, AX

q8kfind:
	VANDPS (SI)(AX*4), Y15, Y5
	VCMPPS $0, Y4, Y5, Y5
	VMOVMSKPS Y5, DX
	TESTL DX, DX
	JNZ q8kfound
	ADDQ $8, AX
	JMP q8kfind

q8kfound:
	BSFL DX, DX
	ADDQ DX, AX
	VMOVSS (SI)(AX*4), X7
	VDIVSS X7, X14, X8 // iscale = -127/max
	VDIVSS X8, X13, X9 // d = 1/iscale
	VMOVSS X9, (DI)(R10*1)
	VBROADCASTSS X8, Y8
	XORQ AX, AX
	LEAQ (DI)(R9*1), DX

q8kquant:
	VMULPS (SI)(AX*4), Y8, Y0
	VMULPS 32(SI)(AX*4), Y8, Y1
	VMULPS 64(SI)(AX*4), Y8, Y2
	VMULPS 96(SI)(AX*4), Y8, Y3
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VCVTPS2DQ Y2, Y2
	VCVTPS2DQ Y3, Y3
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD  Y0, Y10, Y0
	VMOVDQU Y0, (DX)(AX*1)
	ADDQ $32, AX
	CMPQ AX, $256
	JLT  q8kquant

	// block sums of 16: pair sums, then a VPHADDW tree; the low lane ends
	// with the even blocks, the high lane with the odd ones.
	VPMADDUBSW 0(DX), Y11, Y0
	VPMADDUBSW 32(DX), Y11, Y1
	VPMADDUBSW 64(DX), Y11, Y2
	VPMADDUBSW 96(DX), Y11, Y3
	VPMADDUBSW 128(DX), Y11, Y4
	VPMADDUBSW 160(DX), Y11, Y5
	VPMADDUBSW 192(DX), Y11, Y6
	VPMADDUBSW 224(DX), Y11, Y7
	VPHADDW Y1, Y0, Y0
	VPHADDW Y3, Y2, Y2
	VPHADDW Y5, Y4, Y4
	VPHADDW Y7, Y6, Y6
	VPHADDW Y2, Y0, Y0
	VPHADDW Y6, Y4, Y4
	VPHADDW Y4, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPUNPCKLWD X1, X0, X2
	VPUNPCKHWD X1, X0, X3
	CMPQ R13, $1
	JEQ  q8kpairs
	JGT  q8kcorr
	VMOVDQU X2, 260(DI)
	VMOVDQU X3, 276(DI)
	JMP  q8knext

q8kpairs:
	// Q4_K/Q5_K: float32(bsum[2j]+bsum[2j+1]) for j < 8, then zeros
	VPHADDW X3, X2, X2
	VPMOVSXWD X2, Y2
	VCVTDQ2PS Y2, Y2
	VMOVUPS Y2, 260(DI)
	VPXOR Y3, Y3, Y3
	VMOVDQU Y3, 292(DI)
	JMP  q8knext

q8kcorr:
	// Q6_K: −32·bsum[j] as int32
	VPXOR Y4, Y4, Y4
	VPMOVSXWD X2, Y2
	VPMOVSXWD X3, Y3
	VPSLLD $5, Y2, Y2
	VPSLLD $5, Y3, Y3
	VPSUBD Y2, Y4, Y2
	VPSUBD Y3, Y4, Y3
	VMOVDQU Y2, 260(DI)
	VMOVDQU Y3, 292(DI)

q8knext:
	ADDQ $1024, SI
	ADDQ R12, DI
	DECQ CX
	JNZ  q8kloop

q8kdone:
	VZEROUPPER
	RET
