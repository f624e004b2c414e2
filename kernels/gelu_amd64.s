//go:build !purego

// Float32 GELU on amd64: gelu32's steps (gelu.go) eight lanes at a time
// with AVX2+FMA and sixteen with AVX-512F, with the same fused operations,
// optionally after adding a bias row (dst = GELU(x + b)). Constants are
// full 32-byte vectors (AVX2 memory operands; AVX-512 broadcasts their
// first lane).

#include "textflag.h"

// +0: absmask
DATA geluf<>+0(SB)/4, $0x7fffffff
DATA geluf<>+4(SB)/4, $0x7fffffff
DATA geluf<>+8(SB)/4, $0x7fffffff
DATA geluf<>+12(SB)/4, $0x7fffffff
DATA geluf<>+16(SB)/4, $0x7fffffff
DATA geluf<>+20(SB)/4, $0x7fffffff
DATA geluf<>+24(SB)/4, $0x7fffffff
DATA geluf<>+28(SB)/4, $0x7fffffff
// +32: 1/√2
DATA geluf<>+32(SB)/4, $0x3f3504f3
DATA geluf<>+36(SB)/4, $0x3f3504f3
DATA geluf<>+40(SB)/4, $0x3f3504f3
DATA geluf<>+44(SB)/4, $0x3f3504f3
DATA geluf<>+48(SB)/4, $0x3f3504f3
DATA geluf<>+52(SB)/4, $0x3f3504f3
DATA geluf<>+56(SB)/4, $0x3f3504f3
DATA geluf<>+60(SB)/4, $0x3f3504f3
// +64: −½
DATA geluf<>+64(SB)/4, $0xbf000000
DATA geluf<>+68(SB)/4, $0xbf000000
DATA geluf<>+72(SB)/4, $0xbf000000
DATA geluf<>+76(SB)/4, $0xbf000000
DATA geluf<>+80(SB)/4, $0xbf000000
DATA geluf<>+84(SB)/4, $0xbf000000
DATA geluf<>+88(SB)/4, $0xbf000000
DATA geluf<>+92(SB)/4, $0xbf000000
// +96: log2e
DATA geluf<>+96(SB)/4, $0x3fb8aa3b
DATA geluf<>+100(SB)/4, $0x3fb8aa3b
DATA geluf<>+104(SB)/4, $0x3fb8aa3b
DATA geluf<>+108(SB)/4, $0x3fb8aa3b
DATA geluf<>+112(SB)/4, $0x3fb8aa3b
DATA geluf<>+116(SB)/4, $0x3fb8aa3b
DATA geluf<>+120(SB)/4, $0x3fb8aa3b
DATA geluf<>+124(SB)/4, $0x3fb8aa3b
// +128: C1 (ln2 high)
DATA geluf<>+128(SB)/4, $0x3f318000
DATA geluf<>+132(SB)/4, $0x3f318000
DATA geluf<>+136(SB)/4, $0x3f318000
DATA geluf<>+140(SB)/4, $0x3f318000
DATA geluf<>+144(SB)/4, $0x3f318000
DATA geluf<>+148(SB)/4, $0x3f318000
DATA geluf<>+152(SB)/4, $0x3f318000
DATA geluf<>+156(SB)/4, $0x3f318000
// +160: C2 (ln2 low)
DATA geluf<>+160(SB)/4, $0xb95e8083
DATA geluf<>+164(SB)/4, $0xb95e8083
DATA geluf<>+168(SB)/4, $0xb95e8083
DATA geluf<>+172(SB)/4, $0xb95e8083
DATA geluf<>+176(SB)/4, $0xb95e8083
DATA geluf<>+180(SB)/4, $0xb95e8083
DATA geluf<>+184(SB)/4, $0xb95e8083
DATA geluf<>+188(SB)/4, $0xb95e8083
// +192: P0
DATA geluf<>+192(SB)/4, $0x39506967
DATA geluf<>+196(SB)/4, $0x39506967
DATA geluf<>+200(SB)/4, $0x39506967
DATA geluf<>+204(SB)/4, $0x39506967
DATA geluf<>+208(SB)/4, $0x39506967
DATA geluf<>+212(SB)/4, $0x39506967
DATA geluf<>+216(SB)/4, $0x39506967
DATA geluf<>+220(SB)/4, $0x39506967
// +224: P1
DATA geluf<>+224(SB)/4, $0x3ab743ce
DATA geluf<>+228(SB)/4, $0x3ab743ce
DATA geluf<>+232(SB)/4, $0x3ab743ce
DATA geluf<>+236(SB)/4, $0x3ab743ce
DATA geluf<>+240(SB)/4, $0x3ab743ce
DATA geluf<>+244(SB)/4, $0x3ab743ce
DATA geluf<>+248(SB)/4, $0x3ab743ce
DATA geluf<>+252(SB)/4, $0x3ab743ce
// +256: P2
DATA geluf<>+256(SB)/4, $0x3c088908
DATA geluf<>+260(SB)/4, $0x3c088908
DATA geluf<>+264(SB)/4, $0x3c088908
DATA geluf<>+268(SB)/4, $0x3c088908
DATA geluf<>+272(SB)/4, $0x3c088908
DATA geluf<>+276(SB)/4, $0x3c088908
DATA geluf<>+280(SB)/4, $0x3c088908
DATA geluf<>+284(SB)/4, $0x3c088908
// +288: P3
DATA geluf<>+288(SB)/4, $0x3d2aa9c1
DATA geluf<>+292(SB)/4, $0x3d2aa9c1
DATA geluf<>+296(SB)/4, $0x3d2aa9c1
DATA geluf<>+300(SB)/4, $0x3d2aa9c1
DATA geluf<>+304(SB)/4, $0x3d2aa9c1
DATA geluf<>+308(SB)/4, $0x3d2aa9c1
DATA geluf<>+312(SB)/4, $0x3d2aa9c1
DATA geluf<>+316(SB)/4, $0x3d2aa9c1
// +320: P4
DATA geluf<>+320(SB)/4, $0x3e2aaaaa
DATA geluf<>+324(SB)/4, $0x3e2aaaaa
DATA geluf<>+328(SB)/4, $0x3e2aaaaa
DATA geluf<>+332(SB)/4, $0x3e2aaaaa
DATA geluf<>+336(SB)/4, $0x3e2aaaaa
DATA geluf<>+340(SB)/4, $0x3e2aaaaa
DATA geluf<>+344(SB)/4, $0x3e2aaaaa
DATA geluf<>+348(SB)/4, $0x3e2aaaaa
// +352: P5
DATA geluf<>+352(SB)/4, $0x3f000000
DATA geluf<>+356(SB)/4, $0x3f000000
DATA geluf<>+360(SB)/4, $0x3f000000
DATA geluf<>+364(SB)/4, $0x3f000000
DATA geluf<>+368(SB)/4, $0x3f000000
DATA geluf<>+372(SB)/4, $0x3f000000
DATA geluf<>+376(SB)/4, $0x3f000000
DATA geluf<>+380(SB)/4, $0x3f000000
// +384: 1
DATA geluf<>+384(SB)/4, $0x3f800000
DATA geluf<>+388(SB)/4, $0x3f800000
DATA geluf<>+392(SB)/4, $0x3f800000
DATA geluf<>+396(SB)/4, $0x3f800000
DATA geluf<>+400(SB)/4, $0x3f800000
DATA geluf<>+404(SB)/4, $0x3f800000
DATA geluf<>+408(SB)/4, $0x3f800000
DATA geluf<>+412(SB)/4, $0x3f800000
// +416: a
DATA geluf<>+416(SB)/4, $0x3ebae148
DATA geluf<>+420(SB)/4, $0x3ebae148
DATA geluf<>+424(SB)/4, $0x3ebae148
DATA geluf<>+428(SB)/4, $0x3ebae148
DATA geluf<>+432(SB)/4, $0x3ebae148
DATA geluf<>+436(SB)/4, $0x3ebae148
DATA geluf<>+440(SB)/4, $0x3ebae148
DATA geluf<>+444(SB)/4, $0x3ebae148
// +448: zmax 9.3
DATA geluf<>+448(SB)/4, $0x4114cccd
DATA geluf<>+452(SB)/4, $0x4114cccd
DATA geluf<>+456(SB)/4, $0x4114cccd
DATA geluf<>+460(SB)/4, $0x4114cccd
DATA geluf<>+464(SB)/4, $0x4114cccd
DATA geluf<>+468(SB)/4, $0x4114cccd
DATA geluf<>+472(SB)/4, $0x4114cccd
DATA geluf<>+476(SB)/4, $0x4114cccd
// +480: G9
DATA geluf<>+480(SB)/4, $0x3d0f2b9d
DATA geluf<>+484(SB)/4, $0x3d0f2b9d
DATA geluf<>+488(SB)/4, $0x3d0f2b9d
DATA geluf<>+492(SB)/4, $0x3d0f2b9d
DATA geluf<>+496(SB)/4, $0x3d0f2b9d
DATA geluf<>+500(SB)/4, $0x3d0f2b9d
DATA geluf<>+504(SB)/4, $0x3d0f2b9d
DATA geluf<>+508(SB)/4, $0x3d0f2b9d
// +512: G8
DATA geluf<>+512(SB)/4, $0xbe389cf3
DATA geluf<>+516(SB)/4, $0xbe389cf3
DATA geluf<>+520(SB)/4, $0xbe389cf3
DATA geluf<>+524(SB)/4, $0xbe389cf3
DATA geluf<>+528(SB)/4, $0xbe389cf3
DATA geluf<>+532(SB)/4, $0xbe389cf3
DATA geluf<>+536(SB)/4, $0xbe389cf3
DATA geluf<>+540(SB)/4, $0xbe389cf3
// +544: G7
DATA geluf<>+544(SB)/4, $0x3ea3dade
DATA geluf<>+548(SB)/4, $0x3ea3dade
DATA geluf<>+552(SB)/4, $0x3ea3dade
DATA geluf<>+556(SB)/4, $0x3ea3dade
DATA geluf<>+560(SB)/4, $0x3ea3dade
DATA geluf<>+564(SB)/4, $0x3ea3dade
DATA geluf<>+568(SB)/4, $0x3ea3dade
DATA geluf<>+572(SB)/4, $0x3ea3dade
// +576: G6
DATA geluf<>+576(SB)/4, $0xbe71d355
DATA geluf<>+580(SB)/4, $0xbe71d355
DATA geluf<>+584(SB)/4, $0xbe71d355
DATA geluf<>+588(SB)/4, $0xbe71d355
DATA geluf<>+592(SB)/4, $0xbe71d355
DATA geluf<>+596(SB)/4, $0xbe71d355
DATA geluf<>+600(SB)/4, $0xbe71d355
DATA geluf<>+604(SB)/4, $0xbe71d355
// +608: G5
DATA geluf<>+608(SB)/4, $0x3e68a9fa
DATA geluf<>+612(SB)/4, $0x3e68a9fa
DATA geluf<>+616(SB)/4, $0x3e68a9fa
DATA geluf<>+620(SB)/4, $0x3e68a9fa
DATA geluf<>+624(SB)/4, $0x3e68a9fa
DATA geluf<>+628(SB)/4, $0x3e68a9fa
DATA geluf<>+632(SB)/4, $0x3e68a9fa
DATA geluf<>+636(SB)/4, $0x3e68a9fa
// +640: G4
DATA geluf<>+640(SB)/4, $0x3c935202
DATA geluf<>+644(SB)/4, $0x3c935202
DATA geluf<>+648(SB)/4, $0x3c935202
DATA geluf<>+652(SB)/4, $0x3c935202
DATA geluf<>+656(SB)/4, $0x3c935202
DATA geluf<>+660(SB)/4, $0x3c935202
DATA geluf<>+664(SB)/4, $0x3c935202
DATA geluf<>+668(SB)/4, $0x3c935202
// +672: G3
DATA geluf<>+672(SB)/4, $0x3de722f3
DATA geluf<>+676(SB)/4, $0x3de722f3
DATA geluf<>+680(SB)/4, $0x3de722f3
DATA geluf<>+684(SB)/4, $0x3de722f3
DATA geluf<>+688(SB)/4, $0x3de722f3
DATA geluf<>+692(SB)/4, $0x3de722f3
DATA geluf<>+696(SB)/4, $0x3de722f3
DATA geluf<>+700(SB)/4, $0x3de722f3
// +704: G2
DATA geluf<>+704(SB)/4, $0x3dcd2f88
DATA geluf<>+708(SB)/4, $0x3dcd2f88
DATA geluf<>+712(SB)/4, $0x3dcd2f88
DATA geluf<>+716(SB)/4, $0x3dcd2f88
DATA geluf<>+720(SB)/4, $0x3dcd2f88
DATA geluf<>+724(SB)/4, $0x3dcd2f88
DATA geluf<>+728(SB)/4, $0x3dcd2f88
DATA geluf<>+732(SB)/4, $0x3dcd2f88
// +736: G1
DATA geluf<>+736(SB)/4, $0x3dd36a2e
DATA geluf<>+740(SB)/4, $0x3dd36a2e
DATA geluf<>+744(SB)/4, $0x3dd36a2e
DATA geluf<>+748(SB)/4, $0x3dd36a2e
DATA geluf<>+752(SB)/4, $0x3dd36a2e
DATA geluf<>+756(SB)/4, $0x3dd36a2e
DATA geluf<>+760(SB)/4, $0x3dd36a2e
DATA geluf<>+764(SB)/4, $0x3dd36a2e
// +768: G0
DATA geluf<>+768(SB)/4, $0xb73a6f83
DATA geluf<>+772(SB)/4, $0xb73a6f83
DATA geluf<>+776(SB)/4, $0xb73a6f83
DATA geluf<>+780(SB)/4, $0xb73a6f83
DATA geluf<>+784(SB)/4, $0xb73a6f83
DATA geluf<>+788(SB)/4, $0xb73a6f83
DATA geluf<>+792(SB)/4, $0xb73a6f83
DATA geluf<>+796(SB)/4, $0xb73a6f83
// +800: 127 (int32)
DATA geluf<>+800(SB)/4, $0x0000007f
DATA geluf<>+804(SB)/4, $0x0000007f
DATA geluf<>+808(SB)/4, $0x0000007f
DATA geluf<>+812(SB)/4, $0x0000007f
DATA geluf<>+816(SB)/4, $0x0000007f
DATA geluf<>+820(SB)/4, $0x0000007f
DATA geluf<>+824(SB)/4, $0x0000007f
DATA geluf<>+828(SB)/4, $0x0000007f
GLOBL geluf<>(SB), RODATA|NOPTR, $832

// GELU8 leaves gelu32(X) in Q for the eight lanes of Y register X (kept),
// with Z, U, L, N, P, T, G scratch: z = |x|/√2; h = x·x, l = fma(x, x, −h);
// u = −h/2; e^u by expf's steps (n = round(u·log2e), two fused reduction
// steps, Cephes' polynomial, ·2ⁿ); ·(1 − l/2) fused; t = 1/(1 + a·z);
// q = G(t)·e^(−x²/2); x·(x < 0 ? q : 1 − q) (chosen by the sign bit: ±0
// and NaN give the same either way); z > 9.3: max(x, 0).
#define GELU8(X, Z, U, L, N, P, Q, T, G) \
	VANDPS geluf<>+0(SB), X, Z; \
	VMULPS geluf<>+32(SB), Z, Z; \
	VMULPS X, X, U; \
	VMOVAPS X, L; \
	VFMSUB213PS U, X, L; \
	VMULPS geluf<>+64(SB), U, U; \
	VMULPS geluf<>+64(SB), L, L; \
	VMULPS geluf<>+96(SB), U, N; \
	VROUNDPS $0, N, N; \
	VFNMADD231PS geluf<>+128(SB), N, U; \
	VFNMADD231PS geluf<>+160(SB), N, U; \
	VMOVUPS geluf<>+192(SB), P; \
	VFMADD213PS geluf<>+224(SB), U, P; \
	VFMADD213PS geluf<>+256(SB), U, P; \
	VFMADD213PS geluf<>+288(SB), U, P; \
	VFMADD213PS geluf<>+320(SB), U, P; \
	VFMADD213PS geluf<>+352(SB), U, P; \
	VMULPS U, U, Q; \
	VFMADD213PS U, Q, P; \
	VADDPS geluf<>+384(SB), P, P; \
	VCVTPS2DQ N, N; \
	VPADDD geluf<>+800(SB), N, N; \
	VPSLLD $23, N, N; \
	VMULPS N, P, P; \
	VFMADD213PS P, L, P; \
	VMOVUPS geluf<>+384(SB), T; \
	VFMADD231PS geluf<>+416(SB), Z, T; \
	VMOVUPS geluf<>+384(SB), Q; \
	VDIVPS T, Q, T; \
	VMOVUPS geluf<>+480(SB), G; \
	VFMADD213PS geluf<>+512(SB), T, G; \
	VFMADD213PS geluf<>+544(SB), T, G; \
	VFMADD213PS geluf<>+576(SB), T, G; \
	VFMADD213PS geluf<>+608(SB), T, G; \
	VFMADD213PS geluf<>+640(SB), T, G; \
	VFMADD213PS geluf<>+672(SB), T, G; \
	VFMADD213PS geluf<>+704(SB), T, G; \
	VFMADD213PS geluf<>+736(SB), T, G; \
	VFMADD213PS geluf<>+768(SB), T, G; \
	VMULPS P, G, G; \
	VSUBPS G, Q, Q; \
	VBLENDVPS X, G, Q, Q; \
	VMULPS Q, X, Q; \
	VCMPPS $0x1e, geluf<>+448(SB), Z, Z; \
	VXORPS T, T, T; \
	VMAXPS T, X, T; \
	VBLENDVPS Z, T, Q, Q

// func geluAVX2(dst, x, b *float32, n int)  (n a multiple of 8)
// dst = gelu32(x), or gelu32(x + b) when b is not nil; dst may be x.
TEXT ·geluAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	TESTQ CX, CX
	JLE gelu2done
	TESTQ DX, DX
	JNZ gelu2bias

gelu2loop:
	VMOVUPS (SI), Y0
	GELU8(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8)
	VMOVUPS Y6, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ gelu2loop
	JMP gelu2done

gelu2bias:
	VMOVUPS (SI), Y0
	VADDPS (DX), Y0, Y0
	GELU8(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8)
	VMOVUPS Y6, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ gelu2bias

gelu2done:
	VZEROUPPER
	RET

// GELU16 is GELU8 on sixteen lanes of Z registers, with Z31 |x| mask,
// Z30 1/√2, Z29 −½, Z28 log2e, Z27 1, Z26 0 and Z25 9.3 loaded, 2ⁿ
// applied by VSCALEFPS (the same product: 2ⁿ is normal, n ≥ −125 where
// z ≤ 9.3), and x < 0 and z > 9.3 as masks KN and KB.
#define GELU16(X, Z, U, L, N, P, Q, T, G, KN, KB) \
	VPANDD Z31, X, Z; \
	VMULPS Z30, Z, Z; \
	VMULPS X, X, U; \
	VMOVAPS X, L; \
	VFMSUB213PS U, X, L; \
	VMULPS Z29, U, U; \
	VMULPS Z29, L, L; \
	VMULPS Z28, U, N; \
	VRNDSCALEPS $0, N, N; \
	VFNMADD231PS.BCST geluf<>+128(SB), N, U; \
	VFNMADD231PS.BCST geluf<>+160(SB), N, U; \
	VBROADCASTSS geluf<>+192(SB), P; \
	VFMADD213PS.BCST geluf<>+224(SB), U, P; \
	VFMADD213PS.BCST geluf<>+256(SB), U, P; \
	VFMADD213PS.BCST geluf<>+288(SB), U, P; \
	VFMADD213PS.BCST geluf<>+320(SB), U, P; \
	VFMADD213PS.BCST geluf<>+352(SB), U, P; \
	VMULPS U, U, Q; \
	VFMADD213PS U, Q, P; \
	VADDPS Z27, P, P; \
	VSCALEFPS N, P, P; \
	VFMADD213PS P, L, P; \
	VMOVAPS Z27, T; \
	VFMADD231PS.BCST geluf<>+416(SB), Z, T; \
	VDIVPS T, Z27, T; \
	VBROADCASTSS geluf<>+480(SB), G; \
	VFMADD213PS.BCST geluf<>+512(SB), T, G; \
	VFMADD213PS.BCST geluf<>+544(SB), T, G; \
	VFMADD213PS.BCST geluf<>+576(SB), T, G; \
	VFMADD213PS.BCST geluf<>+608(SB), T, G; \
	VFMADD213PS.BCST geluf<>+640(SB), T, G; \
	VFMADD213PS.BCST geluf<>+672(SB), T, G; \
	VFMADD213PS.BCST geluf<>+704(SB), T, G; \
	VFMADD213PS.BCST geluf<>+736(SB), T, G; \
	VFMADD213PS.BCST geluf<>+768(SB), T, G; \
	VMULPS P, G, G; \
	VSUBPS G, Z27, Q; \
	VCMPPS $1, Z26, X, KN; \
	VMOVAPS G, KN, Q; \
	VMULPS Q, X, Q; \
	VCMPPS $0x1e, Z25, Z, KB; \
	VMAXPS Z26, X, KB, Q

// func geluAVX512(dst, x, b *float32, n int)  (n a multiple of 16)
// geluAVX2 on sixteen lanes (AVX-512F), two vectors a turn while they last.
TEXT ·geluAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	VPBROADCASTD geluf<>+0(SB), Z31
	VBROADCASTSS geluf<>+32(SB), Z30
	VBROADCASTSS geluf<>+64(SB), Z29
	VBROADCASTSS geluf<>+96(SB), Z28
	VBROADCASTSS geluf<>+384(SB), Z27
	VPXORD Z26, Z26, Z26
	VBROADCASTSS geluf<>+448(SB), Z25
	TESTQ DX, DX
	JNZ gelu5bias

gelu5loop32:
	CMPQ CX, $32
	JLT gelu5loop16
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z10
	GELU16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, K1, K2)
	GELU16(Z10, Z11, Z12, Z13, Z14, Z15, Z16, Z17, Z18, K3, K4)
	VMOVUPS Z6, (DI)
	VMOVUPS Z16, 64(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP gelu5loop32

gelu5loop16:
	TESTQ CX, CX
	JLE gelu5done
	VMOVUPS (SI), Z0
	GELU16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, K1, K2)
	VMOVUPS Z6, (DI)
	JMP gelu5done

gelu5bias:
	CMPQ CX, $32
	JLT gelu5bias16
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z10
	VADDPS (DX), Z0, Z0
	VADDPS 64(DX), Z10, Z10
	GELU16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, K1, K2)
	GELU16(Z10, Z11, Z12, Z13, Z14, Z15, Z16, Z17, Z18, K3, K4)
	VMOVUPS Z6, (DI)
	VMOVUPS Z16, 64(DI)
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $128, DI
	SUBQ $32, CX
	JMP gelu5bias

gelu5bias16:
	TESTQ CX, CX
	JLE gelu5done
	VMOVUPS (SI), Z0
	VADDPS (DX), Z0, Z0
	GELU16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, K1, K2)
	VMOVUPS Z6, (DI)

gelu5done:
	VZEROUPPER
	RET
