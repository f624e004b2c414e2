//go:build !purego

// Row operations of the image path on amd64 (AVX2, AVX-512F): the
// element-wise add of biases and residuals. The Go wrappers in
// ops_amd64.go check bounds and run the generic code on the tail.

#include "textflag.h"

// func addAVX2(dst, a, b *float32, n int)  (n a multiple of 8)
// dst = a + b, 32 floats per turn while they last, then 8; every turn
// loads before it stores, so dst may be a or b.
TEXT ·addAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-32, BX

add2loop32:
	CMPQ AX, BX
	JAE add2loop8
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMOVUPS 64(SI)(AX*4), Y2
	VMOVUPS 96(SI)(AX*4), Y3
	VADDPS (DX)(AX*4), Y0, Y0
	VADDPS 32(DX)(AX*4), Y1, Y1
	VADDPS 64(DX)(AX*4), Y2, Y2
	VADDPS 96(DX)(AX*4), Y3, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ $32, AX
	JMP add2loop32

add2loop8:
	CMPQ AX, CX
	JAE add2done
	VMOVUPS (SI)(AX*4), Y0
	VADDPS (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	JMP add2loop8

add2done:
	VZEROUPPER
	RET

// func addAVX512(dst, a, b *float32, n int)  (n a multiple of 16)
// addAVX2 on 512-bit registers: 64 floats per turn, then 16.
TEXT ·addAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-64, BX

add5loop64:
	CMPQ AX, BX
	JAE add5loop16
	VMOVUPS (SI)(AX*4), Z0
	VMOVUPS 64(SI)(AX*4), Z1
	VMOVUPS 128(SI)(AX*4), Z2
	VMOVUPS 192(SI)(AX*4), Z3
	VADDPS (DX)(AX*4), Z0, Z0
	VADDPS 64(DX)(AX*4), Z1, Z1
	VADDPS 128(DX)(AX*4), Z2, Z2
	VADDPS 192(DX)(AX*4), Z3, Z3
	VMOVUPS Z0, (DI)(AX*4)
	VMOVUPS Z1, 64(DI)(AX*4)
	VMOVUPS Z2, 128(DI)(AX*4)
	VMOVUPS Z3, 192(DI)(AX*4)
	ADDQ $64, AX
	JMP add5loop64

add5loop16:
	CMPQ AX, CX
	JAE add5done
	VMOVUPS (SI)(AX*4), Z0
	VADDPS (DX)(AX*4), Z0, Z0
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ $16, AX
	JMP add5loop16

add5done:
	VZEROUPPER
	RET
