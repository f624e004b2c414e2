//go:build !purego

// AVX2 (+FMA, F16C) kernels for amd64.
//
// Design. Quantized dots follow ggml's AVX2 scheme: a weight block is
// unpacked to 32 bytes (nibbles split with VPSRLW/VPAND, an offset or a
// VPSHUFB table applied), multiplied with the int8 activations by
// VPMADDUBSW (unsigned × signed byte pairs summed to int16) and VPMADDWD
// (int16 pairs summed to int32). Signed weights use the sign trick:
// |w| × (y·sign(w)) via two VPSIGNB, exact because activations never hold
// -128. Each block's int32 lanes are converted to float32 and accumulated
// with one FMA by the block's scale product, eight float lanes per
// accumulator, reduced horizontally once per call. K-quants keep integer
// sums for a whole 256-element super-block (sub-block scales applied with
// VPMADDWD from int16 copies on the stack) and fold the mins / the Q6_K −32
// offset in through the activation's 16 block sums, as ggml does. No
// intermediate int16 sum can saturate: |q|·|y| pairs stay below 2·128·127.
// Activation quantization to Q8_0 rounds with VCVTPS2DQ (MXCSR default:
// nearest even), the same rounding as the generic Go code, so bytes match.
// The Go wrappers in dot_amd64.go check slice lengths; the assembly takes
// pointers and a block count and reads exactly nb blocks.

#include "textflag.h"
#include "q8_0_amd64.h"

DATA iq4nl<>+0(SB)/8, $0xF6EADDCFBFAD9881
DATA iq4nl<>+8(SB)/8, $0x7159453526190D01
GLOBL iq4nl<>(SB), RODATA|NOPTR, $16

DATA permq8<>+0(SB)/4, $0
DATA permq8<>+4(SB)/4, $4
DATA permq8<>+8(SB)/4, $1
DATA permq8<>+12(SB)/4, $5
DATA permq8<>+16(SB)/4, $2
DATA permq8<>+20(SB)/4, $6
DATA permq8<>+24(SB)/4, $3
DATA permq8<>+28(SB)/4, $7
GLOBL permq8<>(SB), RODATA|NOPTR, $32

// HSUM reduces Y0 to a float32 in X0 (clobbers X1).
#define HSUM \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS       X1, X0, X0 \
	VPERMILPS    $0x4E, X0, X1 \
	VADDPS       X1, X0, X0 \
	VPERMILPS    $0xB1, X0, X1 \
	VADDSS       X1, X0, X0

// SCALE2 loads fp16 at a and b, converts and multiplies: Y1 = broadcast(f(a)*f(b)).
#define SCALE2(a, b) \
	MOVWLZX      a, AX \
	VMOVD        AX, X1 \
	VCVTPH2PS    X1, X1 \
	MOVWLZX      b, AX \
	VMOVD        AX, X2 \
	VCVTPH2PS    X2, X2 \
	VMULSS       X2, X1, X1 \
	VBROADCASTSS X1, Y1

// HSUMTO reduces Yr (clobbering Xr, X15) and stores the float32 at dst.
#define HSUMTO(Yr, Xr, dst) \
	VEXTRACTF128 $1, Yr, X15 \
	VADDPS       X15, Xr, Xr \
	VPERMILPS    $0x4E, Xr, X15 \
	VADDPS       X15, Xr, Xr \
	VPERMILPS    $0xB1, Xr, X15 \
	VADDSS       X15, Xr, Xr \
	MOVSS        Xr, dst

// X4COL multiplies the unpacked weight block (Y3 signed, Y4 = |Y3|, Y6 =
// broadcast weight scale) with activation block at xa (scale at sa) into acc.
#define X4COL(xa, sa, acc) \
	VMOVDQU      xa, Y7 \
	VPSIGNB      Y3, Y7, Y7 \
	VPMADDUBSW   Y7, Y4, Y7 \
	VPMADDWD     Y11, Y7, Y7 \
	VCVTDQ2PS    Y7, Y7 \
	VBROADCASTSS sa, Y8 \
	VMULPS       Y6, Y8, Y8 \
	VFMADD231PS  Y7, Y8, acc

// X4SETUP loads the arguments of a one-row × four-activation-rows kernel.
#define X4SETUP \
	MOVQ out+0(FP), BX \
	MOVQ w+8(FP), SI \
	MOVQ x+16(FP), DI \
	MOVQ xs+24(FP), R8 \
	MOVQ sc+32(FP), R9 \
	MOVQ nb+40(FP), CX \
	MOVQ CX, R10 \
	SHLQ $2, R10 \
	LEAQ (DI)(R8*2), R11 \
	ADDQ R8, R11 \
	LEAQ (R9)(R10*2), R12 \
	ADDQ R10, R12 \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
	VXORPS Y2, Y2, Y2 \
	VXORPS Y10, Y10, Y10 \
	MOVL $0x00010001, AX \
	VMOVD AX, X11 \
	VPBROADCASTD X11, Y11

#define X4STEP(wsz) \
	X4COL(2(DI), (R9), Y0) \
	X4COL(2(DI)(R8*1), (R9)(R10*1), Y1) \
	X4COL(2(DI)(R8*2), (R9)(R10*2), Y2) \
	X4COL(2(R11), (R12), Y10) \
	ADDQ $wsz, SI \
	ADDQ $34, DI \
	ADDQ $34, R11 \
	ADDQ $4, R9 \
	ADDQ $4, R12 \
	DECQ CX

#define X4DONE \
	HSUMTO(Y0, X0, 0(BX)) \
	HSUMTO(Y1, X1, 4(BX)) \
	HSUMTO(Y2, X2, 8(BX)) \
	HSUMTO(Y10, X10, 12(BX)) \
	VZEROUPPER \
	RET

// func dotQ4_0Q8_0AVX2(w, x *byte, nb int) float32
TEXT ·dotQ4_0Q8_0AVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	TESTQ CX, CX
	JLE q40done
	MOVL $0x0F0F0F0F, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13
	MOVL $0x08080808, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12
	MOVL $0x00010001, AX
	VMOVD AX, X11
	VPBROADCASTD X11, Y11

q40loop:
	SCALE2((SI), (DI))
	VMOVDQU     2(SI), X3
	VPSRLW      $4, X3, X4
	VINSERTI128 $1, X4, Y3, Y3
	VPAND       Y13, Y3, Y3
	VPSUBB      Y12, Y3, Y3
	VMOVDQU     2(DI), Y5
	VPSIGNB     Y3, Y3, Y6
	VPSIGNB     Y3, Y5, Y7
	VPMADDUBSW  Y7, Y6, Y6
	VPMADDWD    Y11, Y6, Y6
	VCVTDQ2PS   Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ $18, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q40loop

q40done:
	HSUM
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotIQ4_NLQ8_0AVX2(w, x *byte, nb int) float32
TEXT ·dotIQ4_NLQ8_0AVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	TESTQ CX, CX
	JLE iq4done
	MOVL $0x0F0F0F0F, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13
	VBROADCASTI128 iq4nl<>(SB), Y12
	MOVL $0x00010001, AX
	VMOVD AX, X11
	VPBROADCASTD X11, Y11

iq4loop:
	SCALE2((SI), (DI))
	VMOVDQU     2(SI), X3
	VPSRLW      $4, X3, X4
	VINSERTI128 $1, X4, Y3, Y3
	VPAND       Y13, Y3, Y3
	VPSHUFB     Y3, Y12, Y3
	VMOVDQU     2(DI), Y5
	VPSIGNB     Y3, Y3, Y6
	VPSIGNB     Y3, Y5, Y7
	VPMADDUBSW  Y7, Y6, Y6
	VPMADDWD    Y11, Y6, Y6
	VCVTDQ2PS   Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ $18, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  iq4loop

iq4done:
	HSUM
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotQ8_0Q8_0AVX2(w, x *byte, nb int) float32
TEXT ·dotQ8_0Q8_0AVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	TESTQ CX, CX
	JLE q80done
	MOVL $0x00010001, AX
	VMOVD AX, X11
	VPBROADCASTD X11, Y11

q80loop:
	SCALE2((SI), (DI))
	VMOVDQU     2(SI), Y3
	VMOVDQU     2(DI), Y5
	VPSIGNB     Y3, Y3, Y6
	VPSIGNB     Y3, Y5, Y7
	VPMADDUBSW  Y7, Y6, Y6
	VPMADDWD    Y11, Y6, Y6
	VCVTDQ2PS   Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ $34, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q80loop

q80done:
	HSUM
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func quantQ8_0AVX2(dst *byte, src *float32, nb int)
TEXT ·quantQ8_0AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JLE qqdone
	Q8_0_CONSTS(permq8<>(SB))

qqloop:
	Q8_0_BLOCK
	VCVTPS2PH $0, X6, X9
	VMOVD   X9, AX
	MOVW    AX, (DI)
	VMOVDQU Y0, 2(DI)
	ADDQ $128, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  qqloop

qqdone:
	VZEROUPPER
	RET

// func packQ8_0AVX2(dst *byte, stride int, src *float32, nb int, negOffset int32)
// actpack.go's quantize-and-pack: per block Q8_0_BLOCK,
// the sequence of quantQ8_0AVX2, so quants and fp16 scale are that
// quantizer's bytes for every input, then the slot's float32 scale
// (VCVTPH2PS of the fp16, as F16C and quant.FP16ToFP32 agree) and the
// correction from the stored int8 quants: VPSADBW of the quants XOR 0x80
// against zero sums q+128 over the 32 bytes.
TEXT ·packQ8_0AVX2(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ stride+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ nb+24(FP), CX
	MOVL negOffset+32(FP), R8
	TESTQ CX, CX
	JLE pqdone
	Q8_0_CONSTS(permq8<>(SB))
	MOVL $0x80808080, AX
	VMOVD AX, X11
	VPBROADCASTD X11, Y11

pqloop:
	Q8_0_BLOCK
	VCVTPS2PH $0, X6, X9
	VCVTPH2PS X9, X9
	VMOVSS  X9, 32(DI)
	VMOVDQU Y0, (DI)
	// Σq = Σ(q+128) − 32·128
	VPXOR   Y11, Y0, Y1
	VPSADBW Y12, Y1, Y1
	VEXTRACTI128 $1, Y1, X2
	VPADDQ  X2, X1, X1
	VPSHUFD $0x4E, X1, X2
	VPADDQ  X2, X1, X1
	VMOVD   X1, AX
	SUBL    $4096, AX
	IMULL   R8, AX
	MOVL    AX, 36(DI)
	ADDQ $128, SI
	ADDQ DX, DI
	DECQ CX
	JNZ  pqloop

pqdone:
	VZEROUPPER
	RET

// func dotQ4_KQ8_KAVX2(w, x *byte, nb int) float32
// Stack: 0(SP) holds the eight sub-block scales as int16.
TEXT ·dotQ4_KQ8_KAVX2(SB), NOSPLIT, $16-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0   // main accumulator
	VXORPS Y9, Y9, Y9   // mins accumulator (low 128 bits used)
	TESTQ CX, CX
	JLE q4kdone
	MOVL $0x0F0F0F0F, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13

q4kloop:
	// scales: ggml's kmask decode of the 12 packed bytes.
	MOVL 4(SI), R8      // u0
	MOVL 8(SI), R9      // u1
	MOVL 12(SI), R10    // u2
	MOVL R10, R11
	SHRL $4, R11
	ANDL $0x0F0F0F0F, R11
	MOVL R9, R12
	SHRL $6, R12
	ANDL $0x03030303, R12
	SHLL $4, R12
	ORL  R12, R11       // u3 = mins 4..7
	MOVL R9, R12
	ANDL $0x3F3F3F3F, R12 // uaux = mins 0..3
	ANDL $0x0F0F0F0F, R10
	MOVL R8, R13
	SHRL $6, R13
	ANDL $0x03030303, R13
	SHLL $4, R13
	ORL  R13, R10       // u1' = scales 4..7
	ANDL $0x3F3F3F3F, R8 // u0' = scales 0..3
	VMOVD   R8, X2
	VPINSRD $1, R10, X2, X2
	VPMOVZXBW X2, X2
	VMOVDQU X2, 0(SP)
	VMOVD   R12, X3
	VPINSRD $1, R11, X3, X3
	VPMOVZXBW X3, X3    // mins as int16
	// mins · pairwise bsums
	VMOVDQU 260(DI), Y4
	VEXTRACTI128 $1, Y4, X5
	VPHADDW X5, X4, X4
	VPMADDWD X4, X3, X3
	VCVTDQ2PS X3, X3
	// dmin * yd
	MOVWLZX 2(SI), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS (DI), X6, X6
	VBROADCASTSS X6, X6
	VFMADD231PS X3, X6, X9

	VPXOR Y8, Y8, Y8    // int32 sums
	// four chunks of 64 elements
	VMOVDQU 16(SI), Y1
	VPSRLW $4, Y1, Y2
	VPAND Y13, Y1, Y1
	VPAND Y13, Y2, Y2
	VPMADDUBSW 4(DI), Y1, Y1
	VPMADDUBSW 36(DI), Y2, Y2
	VPBROADCASTW 0(SP), Y3
	VPBROADCASTW 2(SP), Y4
	VPMADDWD Y3, Y1, Y1
	VPMADDWD Y4, Y2, Y2
	VPADDD Y1, Y8, Y8
	VPADDD Y2, Y8, Y8

	VMOVDQU 48(SI), Y1
	VPSRLW $4, Y1, Y2
	VPAND Y13, Y1, Y1
	VPAND Y13, Y2, Y2
	VPMADDUBSW 68(DI), Y1, Y1
	VPMADDUBSW 100(DI), Y2, Y2
	VPBROADCASTW 4(SP), Y3
	VPBROADCASTW 6(SP), Y4
	VPMADDWD Y3, Y1, Y1
	VPMADDWD Y4, Y2, Y2
	VPADDD Y1, Y8, Y8
	VPADDD Y2, Y8, Y8

	VMOVDQU 80(SI), Y1
	VPSRLW $4, Y1, Y2
	VPAND Y13, Y1, Y1
	VPAND Y13, Y2, Y2
	VPMADDUBSW 132(DI), Y1, Y1
	VPMADDUBSW 164(DI), Y2, Y2
	VPBROADCASTW 8(SP), Y3
	VPBROADCASTW 10(SP), Y4
	VPMADDWD Y3, Y1, Y1
	VPMADDWD Y4, Y2, Y2
	VPADDD Y1, Y8, Y8
	VPADDD Y2, Y8, Y8

	VMOVDQU 112(SI), Y1
	VPSRLW $4, Y1, Y2
	VPAND Y13, Y1, Y1
	VPAND Y13, Y2, Y2
	VPMADDUBSW 196(DI), Y1, Y1
	VPMADDUBSW 228(DI), Y2, Y2
	VPBROADCASTW 12(SP), Y3
	VPBROADCASTW 14(SP), Y4
	VPMADDWD Y3, Y1, Y1
	VPMADDWD Y4, Y2, Y2
	VPADDD Y1, Y8, Y8
	VPADDD Y2, Y8, Y8

	// d * yd
	MOVWLZX (SI), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS (DI), X6, X6
	VBROADCASTSS X6, Y6
	VCVTDQ2PS Y8, Y8
	VFMADD231PS Y8, Y6, Y0

	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q4kloop

q4kdone:
	VSUBPS Y9, Y0, Y0   // upper half of Y9 is zero
	HSUM
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// Q6GROUP computes one 32-element group: Yq holds q (0..63), y at yoff(DI),
// scales a, a+1 at sa(SP), sb(SP); adds into Y8.
#define Q6GROUP(Yq, yoff, sa, sb) \
	VPMADDUBSW   yoff(DI), Yq, Yq \
	VPBROADCASTW sa(SP), X4 \
	VPBROADCASTW sb(SP), X5 \
	VINSERTI128  $1, X5, Y4, Y4 \
	VPMADDWD     Y4, Yq, Yq \
	VPADDD       Yq, Y8, Y8

// Q6HALF builds the four groups of half h (ql at qloff, qh at qhoff) and
// accumulates them; scale index base s0 (bytes of int16: 2*8h).
#define Q6HALF(qloff, qhoff, yb, s0) \
	VMOVDQU qhoff(SI), Y1 \
	VMOVDQU qloff(SI), Y2 \
	VMOVDQU qloff+32(SI), Y3 \
	VPAND   Y13, Y2, Y10 \
	VPAND   Y12, Y1, Y11 \
	VPSLLW  $4, Y11, Y11 \
	VPOR    Y11, Y10, Y10 \
	Q6GROUP(Y10, yb, s0, s0+2) \
	VPAND   Y13, Y3, Y10 \
	VPSRLW  $2, Y1, Y11 \
	VPAND   Y12, Y11, Y11 \
	VPSLLW  $4, Y11, Y11 \
	VPOR    Y11, Y10, Y10 \
	Q6GROUP(Y10, yb+32, s0+4, s0+6) \
	VPSRLW  $4, Y2, Y10 \
	VPAND   Y13, Y10, Y10 \
	VPSRLW  $4, Y1, Y11 \
	VPAND   Y12, Y11, Y11 \
	VPSLLW  $4, Y11, Y11 \
	VPOR    Y11, Y10, Y10 \
	Q6GROUP(Y10, yb+64, s0+8, s0+10) \
	VPSRLW  $4, Y3, Y10 \
	VPAND   Y13, Y10, Y10 \
	VPSRLW  $6, Y1, Y11 \
	VPAND   Y12, Y11, Y11 \
	VPSLLW  $4, Y11, Y11 \
	VPOR    Y11, Y10, Y10 \
	Q6GROUP(Y10, yb+96, s0+12, s0+14)

// func dotQ6_KQ8_KAVX2(w, x *byte, nb int) float32
// Stack: 0(SP) holds the 16 sub-block scales as int16.
TEXT ·dotQ6_KQ8_KAVX2(SB), NOSPLIT, $32-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	TESTQ CX, CX
	JLE q6kdone
	MOVL $0x0F0F0F0F, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13
	MOVL $0x03030303, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12

q6kloop:
	VPMOVSXBW 192(SI), Y7
	VMOVDQU Y7, 0(SP)
	VPMADDWD 260(DI), Y7, Y9 // Σ sc·bsum, for the −32 offset
	VPXOR Y8, Y8, Y8
	Q6HALF(0, 128, 4, 0)
	Q6HALF(64, 160, 132, 16)
	VPSLLD $5, Y9, Y9
	VPSUBD Y9, Y8, Y8
	MOVWLZX 208(SI), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS (DI), X6, X6
	VBROADCASTSS X6, Y6
	VCVTDQ2PS Y8, Y8
	VFMADD231PS Y8, Y6, Y0
	ADDQ $210, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q6kloop

q6kdone:
	HSUM
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotF32AVX2(a, b *float32, n int) float32  (n multiple of 8)
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4

f32loop32:
	CMPQ CX, $32
	JLT  f32loop8
	VMOVUPS (SI), Y5
	VMOVUPS 32(SI), Y6
	VMOVUPS 64(SI), Y7
	VMOVUPS 96(SI), Y8
	VFMADD231PS (DI), Y5, Y0
	VFMADD231PS 32(DI), Y6, Y2
	VFMADD231PS 64(DI), Y7, Y3
	VFMADD231PS 96(DI), Y8, Y4
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  f32loop32

f32loop8:
	CMPQ CX, $8
	JLT  f32done
	VMOVUPS (SI), Y5
	VFMADD231PS (DI), Y5, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  f32loop8

f32done:
	VADDPS Y2, Y0, Y0
	VADDPS Y4, Y3, Y3
	VADDPS Y3, Y0, Y0
	HSUM
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotF16AVX2(w *uint16, x *float32, n int) float32  (n multiple of 8)
TEXT ·dotF16AVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4

f16loop32:
	CMPQ CX, $32
	JLT  f16loop8
	VCVTPH2PS (SI), Y5
	VCVTPH2PS 16(SI), Y6
	VCVTPH2PS 32(SI), Y7
	VCVTPH2PS 48(SI), Y8
	VFMADD231PS (DI), Y5, Y0
	VFMADD231PS 32(DI), Y6, Y2
	VFMADD231PS 64(DI), Y7, Y3
	VFMADD231PS 96(DI), Y8, Y4
	ADDQ $64, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  f16loop32

f16loop8:
	CMPQ CX, $8
	JLT  f16done
	VCVTPH2PS (SI), Y5
	VFMADD231PS (DI), Y5, Y0
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  f16loop8

f16done:
	VADDPS Y2, Y0, Y0
	VADDPS Y4, Y3, Y3
	VADDPS Y3, Y0, Y0
	HSUM
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func axpyF32AVX2(y, x *float32, n int, a float32)  (n multiple of 8)
TEXT ·axpyF32AVX2(SB), NOSPLIT, $0-28
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Y0

axloop:
	CMPQ CX, $8
	JLT  axdone
	VMOVUPS (DI), Y1
	VFMADD231PS (SI), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  axloop

axdone:
	VZEROUPPER
	RET

// func axpyF16AVX2(y *float32, x *uint16, n int, a float32)  (n multiple of 8)
TEXT ·axpyF16AVX2(SB), NOSPLIT, $0-28
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Y0

ahloop:
	CMPQ CX, $8
	JLT  ahdone
	VCVTPH2PS (SI), Y2
	VMOVUPS (DI), Y1
	VFMADD231PS Y2, Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  ahloop

ahdone:
	VZEROUPPER
	RET

// func dotQ4_0x4AVX2(out *[4]float32, w, x *byte, xs int, sc *float32, nb int)
// One Q4_0 weight row against four Q8_0 activation rows (x + c·xs) whose
// block scales are also given as float32 (sc + c·nb): the weight block is
// unpacked once per four products.
TEXT ·dotQ4_0x4AVX2(SB), NOSPLIT, $0-48
	X4SETUP
	TESTQ CX, CX
	JLE q40x4done
	MOVL $0x0F0F0F0F, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13
	MOVL $0x08080808, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12

q40x4loop:
	MOVWLZX      (SI), AX
	VMOVD        AX, X6
	VCVTPH2PS    X6, X6
	VBROADCASTSS X6, Y6
	VMOVDQU      2(SI), X3
	VPSRLW       $4, X3, X4
	VINSERTI128  $1, X4, Y3, Y3
	VPAND        Y13, Y3, Y3
	VPSUBB       Y12, Y3, Y3
	VPSIGNB      Y3, Y3, Y4
	X4STEP(18)
	JNZ q40x4loop

q40x4done:
	X4DONE

// func dotQ8_0x4AVX2(out *[4]float32, w, x *byte, xs int, sc *float32, nb int)
TEXT ·dotQ8_0x4AVX2(SB), NOSPLIT, $0-48
	X4SETUP
	TESTQ CX, CX
	JLE q80x4done

q80x4loop:
	MOVWLZX      (SI), AX
	VMOVD        AX, X6
	VCVTPH2PS    X6, X6
	VBROADCASTSS X6, Y6
	VMOVDQU      2(SI), Y3
	VPSIGNB      Y3, Y3, Y4
	X4STEP(34)
	JNZ q80x4loop

q80x4done:
	X4DONE
