//go:build !purego

// AVX2+FMA e^(x−m) over a float32 slice; the steps of expf in exp.go, eight
// lanes at a time. Constants are stored as full 32-byte vectors.

#include "textflag.h"

DATA expc<>+0(SB)/4, $0xc2d00000
DATA expc<>+4(SB)/4, $0xc2d00000
DATA expc<>+8(SB)/4, $0xc2d00000
DATA expc<>+12(SB)/4, $0xc2d00000
DATA expc<>+16(SB)/4, $0xc2d00000
DATA expc<>+20(SB)/4, $0xc2d00000
DATA expc<>+24(SB)/4, $0xc2d00000
DATA expc<>+28(SB)/4, $0xc2d00000
DATA expc<>+32(SB)/4, $0x42b20000
DATA expc<>+36(SB)/4, $0x42b20000
DATA expc<>+40(SB)/4, $0x42b20000
DATA expc<>+44(SB)/4, $0x42b20000
DATA expc<>+48(SB)/4, $0x42b20000
DATA expc<>+52(SB)/4, $0x42b20000
DATA expc<>+56(SB)/4, $0x42b20000
DATA expc<>+60(SB)/4, $0x42b20000
DATA expc<>+64(SB)/4, $0x3fb8aa3b
DATA expc<>+68(SB)/4, $0x3fb8aa3b
DATA expc<>+72(SB)/4, $0x3fb8aa3b
DATA expc<>+76(SB)/4, $0x3fb8aa3b
DATA expc<>+80(SB)/4, $0x3fb8aa3b
DATA expc<>+84(SB)/4, $0x3fb8aa3b
DATA expc<>+88(SB)/4, $0x3fb8aa3b
DATA expc<>+92(SB)/4, $0x3fb8aa3b
DATA expc<>+96(SB)/4, $0x3f318000
DATA expc<>+100(SB)/4, $0x3f318000
DATA expc<>+104(SB)/4, $0x3f318000
DATA expc<>+108(SB)/4, $0x3f318000
DATA expc<>+112(SB)/4, $0x3f318000
DATA expc<>+116(SB)/4, $0x3f318000
DATA expc<>+120(SB)/4, $0x3f318000
DATA expc<>+124(SB)/4, $0x3f318000
DATA expc<>+128(SB)/4, $0xb95e8083
DATA expc<>+132(SB)/4, $0xb95e8083
DATA expc<>+136(SB)/4, $0xb95e8083
DATA expc<>+140(SB)/4, $0xb95e8083
DATA expc<>+144(SB)/4, $0xb95e8083
DATA expc<>+148(SB)/4, $0xb95e8083
DATA expc<>+152(SB)/4, $0xb95e8083
DATA expc<>+156(SB)/4, $0xb95e8083
DATA expc<>+160(SB)/4, $0x39506967
DATA expc<>+164(SB)/4, $0x39506967
DATA expc<>+168(SB)/4, $0x39506967
DATA expc<>+172(SB)/4, $0x39506967
DATA expc<>+176(SB)/4, $0x39506967
DATA expc<>+180(SB)/4, $0x39506967
DATA expc<>+184(SB)/4, $0x39506967
DATA expc<>+188(SB)/4, $0x39506967
DATA expc<>+192(SB)/4, $0x3ab743ce
DATA expc<>+196(SB)/4, $0x3ab743ce
DATA expc<>+200(SB)/4, $0x3ab743ce
DATA expc<>+204(SB)/4, $0x3ab743ce
DATA expc<>+208(SB)/4, $0x3ab743ce
DATA expc<>+212(SB)/4, $0x3ab743ce
DATA expc<>+216(SB)/4, $0x3ab743ce
DATA expc<>+220(SB)/4, $0x3ab743ce
DATA expc<>+224(SB)/4, $0x3c088908
DATA expc<>+228(SB)/4, $0x3c088908
DATA expc<>+232(SB)/4, $0x3c088908
DATA expc<>+236(SB)/4, $0x3c088908
DATA expc<>+240(SB)/4, $0x3c088908
DATA expc<>+244(SB)/4, $0x3c088908
DATA expc<>+248(SB)/4, $0x3c088908
DATA expc<>+252(SB)/4, $0x3c088908
DATA expc<>+256(SB)/4, $0x3d2aa9c1
DATA expc<>+260(SB)/4, $0x3d2aa9c1
DATA expc<>+264(SB)/4, $0x3d2aa9c1
DATA expc<>+268(SB)/4, $0x3d2aa9c1
DATA expc<>+272(SB)/4, $0x3d2aa9c1
DATA expc<>+276(SB)/4, $0x3d2aa9c1
DATA expc<>+280(SB)/4, $0x3d2aa9c1
DATA expc<>+284(SB)/4, $0x3d2aa9c1
DATA expc<>+288(SB)/4, $0x3e2aaaaa
DATA expc<>+292(SB)/4, $0x3e2aaaaa
DATA expc<>+296(SB)/4, $0x3e2aaaaa
DATA expc<>+300(SB)/4, $0x3e2aaaaa
DATA expc<>+304(SB)/4, $0x3e2aaaaa
DATA expc<>+308(SB)/4, $0x3e2aaaaa
DATA expc<>+312(SB)/4, $0x3e2aaaaa
DATA expc<>+316(SB)/4, $0x3e2aaaaa
DATA expc<>+320(SB)/4, $0x3f000000
DATA expc<>+324(SB)/4, $0x3f000000
DATA expc<>+328(SB)/4, $0x3f000000
DATA expc<>+332(SB)/4, $0x3f000000
DATA expc<>+336(SB)/4, $0x3f000000
DATA expc<>+340(SB)/4, $0x3f000000
DATA expc<>+344(SB)/4, $0x3f000000
DATA expc<>+348(SB)/4, $0x3f000000
DATA expc<>+352(SB)/4, $0x3f800000
DATA expc<>+356(SB)/4, $0x3f800000
DATA expc<>+360(SB)/4, $0x3f800000
DATA expc<>+364(SB)/4, $0x3f800000
DATA expc<>+368(SB)/4, $0x3f800000
DATA expc<>+372(SB)/4, $0x3f800000
DATA expc<>+376(SB)/4, $0x3f800000
DATA expc<>+380(SB)/4, $0x3f800000
DATA expc<>+384(SB)/4, $0x0000007f
DATA expc<>+388(SB)/4, $0x0000007f
DATA expc<>+392(SB)/4, $0x0000007f
DATA expc<>+396(SB)/4, $0x0000007f
DATA expc<>+400(SB)/4, $0x0000007f
DATA expc<>+404(SB)/4, $0x0000007f
DATA expc<>+408(SB)/4, $0x0000007f
DATA expc<>+412(SB)/4, $0x0000007f
GLOBL expc<>(SB), RODATA|NOPTR, $416

// EXP8 replaces Y4 with e^Y4 (eight lanes; expf's steps: clamp, n =
// round(x·log2e), r = x − n·ln2 in two parts, Cephes' polynomial, 2ⁿ as
// two factors). It needs Y11 (127 per lane), Y12 (log2e), Y13 (expHi) and
// Y14 (expLo) and leaves the result in Y2, clobbering Y1, Y3 and Y4. A NaN
// in Y4 survives the clamp: VMAXPS/VMINPS return their second source, Y4,
// when either is NaN.
#define EXP8 \
	VMAXPS Y4, Y14, Y4; \
	VMINPS Y4, Y13, Y4; \
	VMULPS Y12, Y4, Y1; \
	VROUNDPS $0, Y1, Y1; \
	VFNMADD231PS expc<>+96(SB), Y1, Y4; \
	VFNMADD231PS expc<>+128(SB), Y1, Y4; \
	VMOVUPS expc<>+160(SB), Y2; \
	VFMADD213PS expc<>+192(SB), Y4, Y2; \
	VFMADD213PS expc<>+224(SB), Y4, Y2; \
	VFMADD213PS expc<>+256(SB), Y4, Y2; \
	VFMADD213PS expc<>+288(SB), Y4, Y2; \
	VFMADD213PS expc<>+320(SB), Y4, Y2; \
	VMULPS Y4, Y4, Y3; \
	VFMADD213PS Y4, Y3, Y2; \
	VADDPS expc<>+352(SB), Y2, Y2; \
	VCVTPS2DQ Y1, Y1; \
	VPSRAD $1, Y1, Y3; \
	VPSUBD Y3, Y1, Y1; \
	VPADDD Y11, Y3, Y3; \
	VPSLLD $23, Y3, Y3; \
	VPADDD Y11, Y1, Y1; \
	VPSLLD $23, Y1, Y1; \
	VMULPS Y3, Y2, Y2; \
	VMULPS Y1, Y2, Y2;

// func expSubAVX2(s *float32, n int, m float32) float32  (n multiple of 8)
TEXT ·expSubAVX2(SB), NOSPLIT, $0-28
	MOVQ s+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS m+16(FP), Y15
	VXORPS Y0, Y0, Y0
	VMOVUPS expc<>+0(SB), Y14
	VMOVUPS expc<>+32(SB), Y13
	VMOVUPS expc<>+64(SB), Y12
	VMOVUPS expc<>+384(SB), Y11
	VXORPS Y10, Y10, Y10
	TESTQ CX, CX
	JLE expdone

exploop:
	VMOVUPS (SI), Y4
	VSUBPS Y15, Y4, Y4
	EXP8
	VMOVUPS Y2, (SI)
	VADDPS Y2, Y10, Y10
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ exploop

expdone:
	VMOVAPS Y10, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0x4E, X0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0xB1, X0, X1
	VADDSS X1, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func swiGLUAVX2(dst, gate, up *float32, n int)  (n a multiple of 8)
// dst = gate/(1 + e^(−gate))·up: the steps of silu (ops.go) eight lanes at a
// time, e^(−gate) as in expSubAVX2. dst may alias gate or up.
TEXT ·swiGLUAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ gate+8(FP), SI
	MOVQ up+16(FP), DX
	MOVQ n+24(FP), CX
	VMOVUPS expc<>+0(SB), Y14
	VMOVUPS expc<>+32(SB), Y13
	VMOVUPS expc<>+64(SB), Y12
	VMOVUPS expc<>+384(SB), Y11
	VMOVUPS expc<>+352(SB), Y10
	VXORPS Y9, Y9, Y9
	TESTQ CX, CX
	JLE swiGLU2done

swiGLU2loop:
	VMOVUPS (SI), Y0
	VSUBPS Y0, Y9, Y4 // −gate
	EXP8 // e^(−gate) in Y2
	VADDPS Y10, Y2, Y2 // 1 + e^(−gate)
	VDIVPS Y2, Y0, Y2  // silu(gate)
	VMULPS (DX), Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ swiGLU2loop

swiGLU2done:
	VZEROUPPER
	RET

// func swiGLUAVX512(dst, gate, up *float32, n int)  (n a multiple of 16)
// swiGLUAVX2 on sixteen lanes (AVX-512F).
TEXT ·swiGLUAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ gate+8(FP), SI
	MOVQ up+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS expc<>+0(SB), Z14
	VBROADCASTSS expc<>+32(SB), Z13
	VBROADCASTSS expc<>+64(SB), Z12
	VPBROADCASTD expc<>+384(SB), Z11
	VBROADCASTSS expc<>+352(SB), Z10
	VPXORD Z9, Z9, Z9
	TESTQ CX, CX
	JLE swiGLU5done

swiGLU5loop:
	VMOVUPS (SI), Z0
	VSUBPS Z0, Z9, Z4
	VMAXPS Z4, Z14, Z4
	VMINPS Z4, Z13, Z4
	VMULPS Z12, Z4, Z1
	VRNDSCALEPS $0, Z1, Z1
	VFNMADD231PS.BCST expc<>+96(SB), Z1, Z4
	VFNMADD231PS.BCST expc<>+128(SB), Z1, Z4
	VBROADCASTSS expc<>+160(SB), Z2
	VFMADD213PS.BCST expc<>+192(SB), Z4, Z2
	VFMADD213PS.BCST expc<>+224(SB), Z4, Z2
	VFMADD213PS.BCST expc<>+256(SB), Z4, Z2
	VFMADD213PS.BCST expc<>+288(SB), Z4, Z2
	VFMADD213PS.BCST expc<>+320(SB), Z4, Z2
	VMULPS Z4, Z4, Z3
	VFMADD213PS Z4, Z3, Z2
	VADDPS Z10, Z2, Z2
	VCVTPS2DQ Z1, Z1
	VPSRAD $1, Z1, Z3
	VPSUBD Z3, Z1, Z1
	VPADDD Z11, Z3, Z3
	VPSLLD $23, Z3, Z3
	VPADDD Z11, Z1, Z1
	VPSLLD $23, Z1, Z1
	VMULPS Z3, Z2, Z2
	VMULPS Z1, Z2, Z2
	VADDPS Z10, Z2, Z2
	VDIVPS Z2, Z0, Z2
	VMULPS (DX), Z2, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ swiGLU5loop

swiGLU5done:
	VZEROUPPER
	RET

DATA attniota<>+0(SB)/4, $0
DATA attniota<>+4(SB)/4, $1
DATA attniota<>+8(SB)/4, $2
DATA attniota<>+12(SB)/4, $3
DATA attniota<>+16(SB)/4, $4
DATA attniota<>+20(SB)/4, $5
DATA attniota<>+24(SB)/4, $6
DATA attniota<>+28(SB)/4, $7
GLOBL attniota<>(SB), RODATA|NOPTR, $32

// func attnSoftmaxAVX2(st *float32, qs, nk int, m, l, c *float32, lim0 int)
// The online-softmax step of attntile.go over a block's scores st (nk rows
// of qs lanes), eight lanes at a time: lane r sees key t when t < lim0+r.
// A first pass takes the maximum over the visible keys, a second replaces
// the scores with e^(s−m') (masked keys: 0) and sums them.
TEXT ·attnSoftmaxAVX2(SB), NOSPLIT, $0-56
	MOVQ st+0(FP), DI
	MOVQ qs+8(FP), R8
	SHLQ $2, R8
	MOVQ nk+16(FP), R9
	MOVQ m+24(FP), R10
	MOVQ l+32(FP), R11
	MOVQ c+40(FP), BX
	MOVQ lim0+48(FP), R13
	VMOVUPS expc<>+0(SB), Y14
	VMOVUPS expc<>+32(SB), Y13
	VMOVUPS expc<>+64(SB), Y12
	VMOVUPS expc<>+384(SB), Y11
	MOVL $0xFF800000, R12 // -Inf
	VMOVD R12, X15
	VPBROADCASTD X15, Y15
	VPCMPEQD Y8, Y8, Y8
	VPSRLD $31, Y8, Y8 // 1 in every lane
	XORQ R15, R15 // byte offset of the chunk

smChunk:
	CMPQ R15, R8
	JGE smDone
	VMOVD R13, X9
	VPBROADCASTD X9, Y9
	VPADDD attniota<>(SB), Y9, Y9 // lane limits
	// pass 1: m' = max(m, visible scores)
	VMOVUPS (R10)(R15*1), Y5
	VPXOR Y7, Y7, Y7
	LEAQ (DI)(R15*1), AX
	MOVQ R9, CX
	TESTQ CX, CX
	JZ smCorr

smMax:
	VMOVUPS (AX), Y0
	VPCMPGTD Y7, Y9, Y10
	VBLENDVPS Y10, Y0, Y15, Y0
	VMAXPS Y0, Y5, Y5
	VPADDD Y8, Y7, Y7
	ADDQ R8, AX
	DECQ CX
	JNZ smMax

smCorr:
	// c = e^(m−m'), m = m'
	VMOVUPS (R10)(R15*1), Y4
	VSUBPS Y5, Y4, Y4
	EXP8
	VMOVUPS Y2, (BX)(R15*1)
	VMOVUPS Y5, (R10)(R15*1)
	// pass 2: p = e^(s−m') where visible, else 0
	VXORPS Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	LEAQ (DI)(R15*1), AX
	MOVQ R9, CX
	TESTQ CX, CX
	JZ smSum

smExp:
	VMOVUPS (AX), Y4
	VSUBPS Y5, Y4, Y4
	EXP8
	VPCMPGTD Y7, Y9, Y10
	VANDPS Y10, Y2, Y2
	VMOVUPS Y2, (AX)
	VADDPS Y2, Y6, Y6
	VPADDD Y8, Y7, Y7
	ADDQ R8, AX
	DECQ CX
	JNZ smExp

smSum:
	// l = c·l + Σp
	VMOVUPS (R11)(R15*1), Y0
	VMULPS (BX)(R15*1), Y0, Y0
	VADDPS Y6, Y0, Y0
	VMOVUPS Y0, (R11)(R15*1)
	ADDQ $8, R13
	ADDQ $32, R15
	JMP smChunk

smDone:
	VZEROUPPER
	RET

// EXPZ4: Z2·2^Z1 = e^Z4 (clobbers Z3, Z4); the caller applies VSCALEFPS
// Z1, Z2 (with its mask). The reduction and polynomial of expf in exp.go
// on 16 lanes; the power of two is applied by VSCALEFPS, which rounds
// once and gives 0 below the subnormals. Needs Z19..Z30 from
// attnSoftmaxAVX512's prologue.
#define EXPZ4 \
	VMAXPS       Z20, Z4, Z4 \
	VMINPS       Z21, Z4, Z4 \
	VMULPS       Z22, Z4, Z1 \
	VRNDSCALEPS  $0, Z1, Z1 \
	VFNMADD231PS Z23, Z1, Z4 \
	VFNMADD231PS Z24, Z1, Z4 \
	VMOVAPS      Z25, Z2 \
	VFMADD213PS  Z26, Z4, Z2 \
	VFMADD213PS  Z27, Z4, Z2 \
	VFMADD213PS  Z28, Z4, Z2 \
	VFMADD213PS  Z29, Z4, Z2 \
	VFMADD213PS  Z30, Z4, Z2 \
	VMULPS       Z4, Z4, Z3 \
	VFMADD213PS  Z4, Z3, Z2 \
	VADDPS       Z19, Z2, Z2

// func attnSoftmaxAVX512(st *float32, qs, nk int, m, l, c *float32, lim0 int)
// attnSoftmaxAVX2 on 16 lanes, with mask registers for the causal limits.
TEXT ·attnSoftmaxAVX512(SB), NOSPLIT, $0-56
	MOVQ         st+0(FP), DI
	MOVQ         qs+8(FP), R8
	SHLQ         $2, R8
	MOVQ         nk+16(FP), R9
	MOVQ         m+24(FP), R10
	MOVQ         l+32(FP), R11
	MOVQ         c+40(FP), BX
	MOVQ         lim0+48(FP), R13
	VBROADCASTSS expc<>+352(SB), Z19 // 1
	VBROADCASTSS expc<>+0(SB), Z20
	VBROADCASTSS expc<>+32(SB), Z21
	VBROADCASTSS expc<>+64(SB), Z22
	VBROADCASTSS expc<>+96(SB), Z23
	VBROADCASTSS expc<>+128(SB), Z24
	VBROADCASTSS expc<>+160(SB), Z25
	VBROADCASTSS expc<>+192(SB), Z26
	VBROADCASTSS expc<>+224(SB), Z27
	VBROADCASTSS expc<>+256(SB), Z28
	VBROADCASTSS expc<>+288(SB), Z29
	VBROADCASTSS expc<>+320(SB), Z30
	MOVL         $1, R12
	VPBROADCASTD R12, Z8
	VMOVDQU32    attniota16<>(SB), Z10
	XORQ         R15, R15

smzChunk:
	CMPQ         R15, R8
	JGE          smzDone
	VPBROADCASTD R13, Z9
	VPADDD       Z10, Z9, Z9 // lane limits
	VMOVUPS      (R10)(R15*1), Z5
	VPXORD       Z7, Z7, Z7
	LEAQ         (DI)(R15*1), AX
	MOVQ         R9, CX
	TESTQ        CX, CX
	JZ           smzCorr

smzMax:
	VPCMPGTD Z7, Z9, K1
	VMAXPS   (AX), Z5, K1, Z5
	VPADDD   Z8, Z7, Z7
	ADDQ     R8, AX
	DECQ     CX
	JNZ      smzMax

smzCorr:
	VMOVUPS   (R10)(R15*1), Z4
	VSUBPS    Z5, Z4, Z4
	EXPZ4
	VSCALEFPS Z1, Z2, Z2
	VMOVUPS   Z2, (BX)(R15*1)
	VMOVUPS   Z5, (R10)(R15*1)
	VXORPS    Z6, Z6, Z6
	VPXORD    Z7, Z7, Z7
	LEAQ      (DI)(R15*1), AX
	MOVQ      R9, CX
	TESTQ     CX, CX
	JZ        smzSum

smzExp:
	VMOVUPS     (AX), Z4
	VSUBPS      Z5, Z4, Z4
	EXPZ4
	VPCMPGTD    Z7, Z9, K1
	VSCALEFPS.Z Z1, Z2, K1, Z2
	VMOVUPS     Z2, (AX)
	VADDPS      Z2, Z6, Z6
	VPADDD      Z8, Z7, Z7
	ADDQ        R8, AX
	DECQ        CX
	JNZ         smzExp

smzSum:
	VMOVUPS (R11)(R15*1), Z0
	VMULPS  (BX)(R15*1), Z0, Z0
	VADDPS  Z6, Z0, Z0
	VMOVUPS Z0, (R11)(R15*1)
	ADDQ    $16, R13
	ADDQ    $64, R15
	JMP     smzChunk

smzDone:
	VZEROUPPER
	RET

DATA attniota16<>+0(SB)/4, $0
DATA attniota16<>+4(SB)/4, $1
DATA attniota16<>+8(SB)/4, $2
DATA attniota16<>+12(SB)/4, $3
DATA attniota16<>+16(SB)/4, $4
DATA attniota16<>+20(SB)/4, $5
DATA attniota16<>+24(SB)/4, $6
DATA attniota16<>+28(SB)/4, $7
DATA attniota16<>+32(SB)/4, $8
DATA attniota16<>+36(SB)/4, $9
DATA attniota16<>+40(SB)/4, $10
DATA attniota16<>+44(SB)/4, $11
DATA attniota16<>+48(SB)/4, $12
DATA attniota16<>+52(SB)/4, $13
DATA attniota16<>+56(SB)/4, $14
DATA attniota16<>+60(SB)/4, $15
GLOBL attniota16<>(SB), RODATA|NOPTR, $64
