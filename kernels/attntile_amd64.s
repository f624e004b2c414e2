//go:build !purego

// Tile kernels of multi-row attention (attntile.go). Query rows sit in
// SIMD lanes (qt is HeadDim × qs, st is keys × qs), so the scores of
// several keys against 16 or 32 query rows accumulate in registers with
// no horizontal sums, and the weighted values keep several query rows of
// the output in registers while each value vector is loaded once.
// AVX-512: 8 keys × 32 rows (16 zmm accumulators) for the scores, 16 rows
// × 16 dims for the values. AVX2: 4 keys × 16 rows and 4 rows × 16 dims
// (8 ymm accumulators). qs is a multiple of 32, hd of 16.

#include "textflag.h"

// ZKEY: broadcast one key element to Zb and accumulate it against the two
// query vectors Z16, Z17.
#define ZKEY(mem, Zb, Za, Zc) \
	VBROADCASTSS mem, Zb \
	VFMADD231PS  Zb, Z16, Za \
	VFMADD231PS  Zb, Z17, Zc

// ZSTORE2: store two accumulators as 32 lanes of one st row, next row.
#define ZSTORE2(Za, Zc) \
	VMOVUPS Za, (AX) \
	VMOVUPS Zc, 64(AX) \
	ADDQ    R8, AX

// func attnScoresAVX512(st *float32, qs, nl int, qt *float32, k *float32, ldk, nk, hd int)
TEXT ·attnScoresAVX512(SB), NOSPLIT, $0-64
	MOVQ st+0(FP), DI
	MOVQ qs+8(FP), R8
	SHLQ $2, R8 // qt and st row stride in bytes
	MOVQ qt+24(FP), SI
	MOVQ ldk+40(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R12 // 3 key rows
	MOVQ hd+56(FP), R11
	XORQ R15, R15 // byte offset of the current pair of query vectors

zscPair:
	MOVQ R15, AX
	SHRQ $2, AX
	CMPQ AX, nl+16(FP) // lanes done
	JGE  zscDone
	MOVQ k+32(FP), R9
	MOVQ nk+48(FP), DX
	LEAQ (DI)(R15*1), R14 // st row of the first key of the group

zscGroup:
	CMPQ   DX, $8
	JLT    zscSingle
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15
	LEAQ   (SI)(R15*1), AX
	MOVQ   R9, BX
	LEAQ   (R9)(R10*4), CX
	ADDQ   R10, CX // key row 5
	MOVQ   R11, R13

zscLoop8:
	VMOVUPS (AX), Z16
	VMOVUPS 64(AX), Z17
	ZKEY((BX), Z18, Z0, Z1)
	ZKEY((BX)(R10*1), Z19, Z2, Z3)
	ZKEY((BX)(R10*2), Z20, Z4, Z5)
	ZKEY((BX)(R12*1), Z21, Z6, Z7)
	ZKEY((BX)(R10*4), Z22, Z8, Z9)
	ZKEY((CX), Z23, Z10, Z11)
	ZKEY((CX)(R10*1), Z24, Z12, Z13)
	ZKEY((CX)(R10*2), Z25, Z14, Z15)
	ADDQ    $4, BX
	ADDQ    $4, CX
	ADDQ    R8, AX
	DECQ    R13
	JNZ     zscLoop8
	MOVQ    R14, AX
	ZSTORE2(Z0, Z1)
	ZSTORE2(Z2, Z3)
	ZSTORE2(Z4, Z5)
	ZSTORE2(Z6, Z7)
	ZSTORE2(Z8, Z9)
	ZSTORE2(Z10, Z11)
	ZSTORE2(Z12, Z13)
	ZSTORE2(Z14, Z15)
	MOVQ    AX, R14
	LEAQ    (R9)(R10*8), R9
	SUBQ    $8, DX
	JMP     zscGroup

zscSingle:
	TESTQ  DX, DX
	JZ     zscNextPair
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	LEAQ   (SI)(R15*1), AX
	MOVQ   R9, BX
	MOVQ   R11, R13

zscLoop1:
	VMOVUPS (AX), Z16
	VMOVUPS 64(AX), Z17
	ZKEY((BX), Z18, Z0, Z1)
	ADDQ    $4, BX
	ADDQ    R8, AX
	DECQ    R13
	JNZ     zscLoop1
	MOVQ    R14, AX
	ZSTORE2(Z0, Z1)
	MOVQ    AX, R14
	ADDQ    R10, R9
	DECQ    DX
	JMP     zscSingle

zscNextPair:
	ADDQ $128, R15
	JMP  zscPair

zscDone:
	VZEROUPPER
	RET

// ZROW: load acc row i (at BX) scaled by c[i] (at off(CX)), next row.
#define ZLOADROW(off, Z) \
	VMOVUPS     (BX), Z \
	VMULPS.BCST off(CX), Z, Z \
	ADDQ        R14, BX

#define ZSTOREROW(Z) \
	VMOVUPS Z, (BX) \
	ADDQ    R14, BX

// func attnValuesAVX512(acc *float32, hd int, p *float32, qs, nl int, v *float32, ldv, nk int, c *float32)
TEXT ·attnValuesAVX512(SB), NOSPLIT, $0-72
	MOVQ acc+0(FP), DI
	MOVQ hd+8(FP), R14
	SHLQ $2, R14 // acc row stride in bytes
	MOVQ p+16(FP), SI
	MOVQ qs+24(FP), R8
	SHLQ $2, R8 // p row stride
	MOVQ ldv+48(FP), R10
	SHLQ $2, R10
	MOVQ c+64(FP), CX
	XORQ R15, R15 // byte offset of the group's first row in p and c

zvRows:
	MOVQ R15, AX
	SHRQ $2, AX
	CMPQ AX, nl+32(FP) // lanes done
	JGE  zvDone
	XORQ R12, R12 // byte offset of the dims in a row

zvDims:
	CMPQ R12, R14
	JGE  zvNextRows
	LEAQ (DI)(R12*1), BX
	ZLOADROW(0, Z0)
	ZLOADROW(4, Z1)
	ZLOADROW(8, Z2)
	ZLOADROW(12, Z3)
	ZLOADROW(16, Z4)
	ZLOADROW(20, Z5)
	ZLOADROW(24, Z6)
	ZLOADROW(28, Z7)
	ZLOADROW(32, Z8)
	ZLOADROW(36, Z9)
	ZLOADROW(40, Z10)
	ZLOADROW(44, Z11)
	ZLOADROW(48, Z12)
	ZLOADROW(52, Z13)
	ZLOADROW(56, Z14)
	ZLOADROW(60, Z15)
	MOVQ v+40(FP), AX
	ADDQ R12, AX
	LEAQ (SI)(R15*1), R9
	MOVQ nk+56(FP), DX
	TESTQ DX, DX
	JZ   zvStore

zvLoop:
	VMOVUPS          (AX), Z16
	VFMADD231PS.BCST 0(R9), Z16, Z0
	VFMADD231PS.BCST 4(R9), Z16, Z1
	VFMADD231PS.BCST 8(R9), Z16, Z2
	VFMADD231PS.BCST 12(R9), Z16, Z3
	VFMADD231PS.BCST 16(R9), Z16, Z4
	VFMADD231PS.BCST 20(R9), Z16, Z5
	VFMADD231PS.BCST 24(R9), Z16, Z6
	VFMADD231PS.BCST 28(R9), Z16, Z7
	VFMADD231PS.BCST 32(R9), Z16, Z8
	VFMADD231PS.BCST 36(R9), Z16, Z9
	VFMADD231PS.BCST 40(R9), Z16, Z10
	VFMADD231PS.BCST 44(R9), Z16, Z11
	VFMADD231PS.BCST 48(R9), Z16, Z12
	VFMADD231PS.BCST 52(R9), Z16, Z13
	VFMADD231PS.BCST 56(R9), Z16, Z14
	VFMADD231PS.BCST 60(R9), Z16, Z15
	ADDQ             R10, AX
	ADDQ             R8, R9
	DECQ             DX
	JNZ              zvLoop

zvStore:
	LEAQ (DI)(R12*1), BX
	ZSTOREROW(Z0)
	ZSTOREROW(Z1)
	ZSTOREROW(Z2)
	ZSTOREROW(Z3)
	ZSTOREROW(Z4)
	ZSTOREROW(Z5)
	ZSTOREROW(Z6)
	ZSTOREROW(Z7)
	ZSTOREROW(Z8)
	ZSTOREROW(Z9)
	ZSTOREROW(Z10)
	ZSTOREROW(Z11)
	ZSTOREROW(Z12)
	ZSTOREROW(Z13)
	ZSTOREROW(Z14)
	ZSTOREROW(Z15)
	ADDQ $64, R12
	JMP  zvDims

zvNextRows:
	// next 16 rows: acc moves 16 rows, c and p 16 lanes
	MOVQ R14, AX
	SHLQ $4, AX
	ADDQ AX, DI
	ADDQ $64, CX
	ADDQ $64, R15
	JMP  zvRows

zvDone:
	VZEROUPPER
	RET

// YKEY: broadcast one key element to Yb and accumulate it against the two
// query vectors Y8, Y9.
#define YKEY(mem, Yb, Ya, Yc) \
	VBROADCASTSS mem, Yb \
	VFMADD231PS  Yb, Y8, Ya \
	VFMADD231PS  Yb, Y9, Yc

#define YSTORE2(Ya, Yc) \
	VMOVUPS Ya, (AX) \
	VMOVUPS Yc, 32(AX) \
	ADDQ    R8, AX

// func attnScoresAVX2(st *float32, qs, nl int, qt *float32, k *float32, ldk, nk, hd int)
TEXT ·attnScoresAVX2(SB), NOSPLIT, $0-64
	MOVQ st+0(FP), DI
	MOVQ qs+8(FP), R8
	SHLQ $2, R8
	MOVQ qt+24(FP), SI
	MOVQ ldk+40(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R12
	MOVQ hd+56(FP), R11
	XORQ R15, R15

yscPair:
	MOVQ R15, AX
	SHRQ $2, AX
	CMPQ AX, nl+16(FP) // lanes done
	JGE  yscDone
	MOVQ k+32(FP), R9
	MOVQ nk+48(FP), DX
	LEAQ (DI)(R15*1), R14

yscGroup:
	CMPQ   DX, $4
	JLT    yscSingle
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	LEAQ   (SI)(R15*1), AX
	MOVQ   R9, BX
	MOVQ   R11, R13

yscLoop4:
	VMOVUPS (AX), Y8
	VMOVUPS 32(AX), Y9
	YKEY((BX), Y10, Y0, Y1)
	YKEY((BX)(R10*1), Y11, Y2, Y3)
	YKEY((BX)(R10*2), Y12, Y4, Y5)
	YKEY((BX)(R12*1), Y13, Y6, Y7)
	ADDQ    $4, BX
	ADDQ    R8, AX
	DECQ    R13
	JNZ     yscLoop4
	MOVQ    R14, AX
	YSTORE2(Y0, Y1)
	YSTORE2(Y2, Y3)
	YSTORE2(Y4, Y5)
	YSTORE2(Y6, Y7)
	MOVQ    AX, R14
	LEAQ    (R9)(R10*4), R9
	SUBQ    $4, DX
	JMP     yscGroup

yscSingle:
	TESTQ  DX, DX
	JZ     yscNextPair
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	LEAQ   (SI)(R15*1), AX
	MOVQ   R9, BX
	MOVQ   R11, R13

yscLoop1:
	VMOVUPS (AX), Y8
	VMOVUPS 32(AX), Y9
	YKEY((BX), Y10, Y0, Y1)
	ADDQ    $4, BX
	ADDQ    R8, AX
	DECQ    R13
	JNZ     yscLoop1
	MOVQ    R14, AX
	YSTORE2(Y0, Y1)
	MOVQ    AX, R14
	ADDQ    R10, R9
	DECQ    DX
	JMP     yscSingle

yscNextPair:
	ADDQ $64, R15
	JMP  yscPair

yscDone:
	VZEROUPPER
	RET

// YLOADROW: load 16 dims of acc row i (at BX) into Ya, Yc scaled by c[i]
// (at off(CX)), next row.
#define YLOADROW(off, Ya, Yc) \
	VBROADCASTSS off(CX), Y14 \
	VMULPS       (BX), Y14, Ya \
	VMULPS       32(BX), Y14, Yc \
	ADDQ         R14, BX

#define YSTOREROW(Ya, Yc) \
	VMOVUPS Ya, (BX) \
	VMOVUPS Yc, 32(BX) \
	ADDQ    R14, BX

#define YROW(off, Yb, Ya, Yc) \
	VBROADCASTSS off(R9), Yb \
	VFMADD231PS  Yb, Y12, Ya \
	VFMADD231PS  Yb, Y13, Yc

// func attnValuesAVX2(acc *float32, hd int, p *float32, qs, nl int, v *float32, ldv, nk int, c *float32)
TEXT ·attnValuesAVX2(SB), NOSPLIT, $0-72
	MOVQ acc+0(FP), DI
	MOVQ hd+8(FP), R14
	SHLQ $2, R14
	MOVQ p+16(FP), SI
	MOVQ qs+24(FP), R8
	SHLQ $2, R8
	MOVQ ldv+48(FP), R10
	SHLQ $2, R10
	MOVQ c+64(FP), CX
	XORQ R15, R15

yvRows:
	MOVQ R15, AX
	SHRQ $2, AX
	CMPQ AX, nl+32(FP) // lanes done
	JGE  yvDone
	XORQ R12, R12

yvDims:
	CMPQ R12, R14
	JGE  yvNextRows
	LEAQ (DI)(R12*1), BX
	YLOADROW(0, Y0, Y1)
	YLOADROW(4, Y2, Y3)
	YLOADROW(8, Y4, Y5)
	YLOADROW(12, Y6, Y7)
	MOVQ v+40(FP), AX
	ADDQ R12, AX
	LEAQ (SI)(R15*1), R9
	MOVQ nk+56(FP), DX
	TESTQ DX, DX
	JZ   yvStore

yvLoop:
	VMOVUPS (AX), Y12
	VMOVUPS 32(AX), Y13
	YROW(0, Y14, Y0, Y1)
	YROW(4, Y15, Y2, Y3)
	YROW(8, Y14, Y4, Y5)
	YROW(12, Y15, Y6, Y7)
	ADDQ    R10, AX
	ADDQ    R8, R9
	DECQ    DX
	JNZ     yvLoop

yvStore:
	LEAQ (DI)(R12*1), BX
	YSTOREROW(Y0, Y1)
	YSTOREROW(Y2, Y3)
	YSTOREROW(Y4, Y5)
	YSTOREROW(Y6, Y7)
	ADDQ $64, R12
	JMP  yvDims

yvNextRows:
	MOVQ R14, AX
	SHLQ $2, AX
	ADDQ AX, DI
	ADDQ $16, CX
	ADDQ $16, R15
	JMP  yvRows

yvDone:
	VZEROUPPER
	RET

// func attnLoadQAVX2(qt *float32, qs int, q *float32, ldq, rows, hd int, scale float32)
// qt[d·qs+r] = scale·q[r·ldq+d] for r < rows, d < hd (both multiples of
// 8): 8×8 transposes in registers (unpack, shuffle, 128-bit permute).
TEXT ·attnLoadQAVX2(SB), NOSPLIT, $0-52
	MOVQ         qt+0(FP), R13
	MOVQ         qs+8(FP), R8
	SHLQ         $2, R8
	LEAQ         (R8)(R8*2), R14
	MOVQ         q+16(FP), R12
	MOVQ         ldq+24(FP), R9
	SHLQ         $2, R9
	LEAQ         (R9)(R9*2), R10
	MOVQ         rows+32(FP), DX
	MOVQ         hd+40(FP), R11
	VBROADCASTSS scale+48(FP), Y15

lqRows:
	CMPQ DX, $8
	JLT  lqDone
	MOVQ R12, AX
	MOVQ R13, CX
	MOVQ R11, DI

lqDims:
	LEAQ         (AX)(R9*4), BX
	ADDQ         R9, BX // row 5
	VMOVUPS      (AX), Y0
	VMOVUPS      (AX)(R9*1), Y1
	VMOVUPS      (AX)(R9*2), Y2
	VMOVUPS      (AX)(R10*1), Y3
	VMOVUPS      (AX)(R9*4), Y4
	VMOVUPS      (BX), Y5
	VMOVUPS      (BX)(R9*1), Y6
	VMOVUPS      (BX)(R9*2), Y7
	VUNPCKLPS    Y1, Y0, Y8
	VUNPCKHPS    Y1, Y0, Y9
	VUNPCKLPS    Y3, Y2, Y10
	VUNPCKHPS    Y3, Y2, Y11
	VUNPCKLPS    Y5, Y4, Y12
	VUNPCKHPS    Y5, Y4, Y13
	VUNPCKLPS    Y7, Y6, Y14
	VUNPCKHPS    Y7, Y6, Y0
	VSHUFPS      $0x44, Y10, Y8, Y1 // d 0 (and 4) of rows 0-3
	VSHUFPS      $0xEE, Y10, Y8, Y2 // d 1 (5)
	VSHUFPS      $0x44, Y11, Y9, Y3 // d 2 (6)
	VSHUFPS      $0xEE, Y11, Y9, Y4 // d 3 (7)
	VSHUFPS      $0x44, Y14, Y12, Y5 // rows 4-7
	VSHUFPS      $0xEE, Y14, Y12, Y6
	VSHUFPS      $0x44, Y0, Y13, Y7
	VSHUFPS      $0xEE, Y0, Y13, Y8
	LEAQ         (CX)(R8*4), BX
	ADDQ         R8, BX // qt row d+5
	VPERM2F128   $0x20, Y5, Y1, Y9
	VMULPS       Y15, Y9, Y9
	VMOVUPS      Y9, (CX)
	VPERM2F128   $0x20, Y6, Y2, Y10
	VMULPS       Y15, Y10, Y10
	VMOVUPS      Y10, (CX)(R8*1)
	VPERM2F128   $0x20, Y7, Y3, Y11
	VMULPS       Y15, Y11, Y11
	VMOVUPS      Y11, (CX)(R8*2)
	VPERM2F128   $0x20, Y8, Y4, Y12
	VMULPS       Y15, Y12, Y12
	VMOVUPS      Y12, (CX)(R14*1)
	VPERM2F128   $0x31, Y5, Y1, Y9
	VMULPS       Y15, Y9, Y9
	VMOVUPS      Y9, (CX)(R8*4)
	VPERM2F128   $0x31, Y6, Y2, Y10
	VMULPS       Y15, Y10, Y10
	VMOVUPS      Y10, (BX)
	VPERM2F128   $0x31, Y7, Y3, Y11
	VMULPS       Y15, Y11, Y11
	VMOVUPS      Y11, (BX)(R8*1)
	VPERM2F128   $0x31, Y8, Y4, Y12
	VMULPS       Y15, Y12, Y12
	VMOVUPS      Y12, (BX)(R8*2)
	ADDQ         $32, AX
	LEAQ         (CX)(R8*8), CX
	SUBQ         $8, DI
	JNZ          lqDims
	LEAQ         (R12)(R9*8), R12
	ADDQ         $32, R13
	SUBQ         $8, DX
	JMP          lqRows

lqDone:
	VZEROUPPER
	RET

// func attnStoreOutAVX2(out *float32, ldo int, acc *float32, hd int, inv *float32, rows int)
// out[r·ldo+d] = acc[r·hd+d]·inv[r] for r < rows, d < hd (a multiple of
// 16). Every destination line is prefetched first, so the
// rows' cache misses overlap.
TEXT ·attnStoreOutAVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ ldo+8(FP), R8
	SHLQ $2, R8
	MOVQ acc+16(FP), SI
	MOVQ hd+24(FP), R11
	SHLQ $2, R11
	MOVQ inv+32(FP), BX
	MOVQ rows+40(FP), DX
	TESTQ DX, DX
	JZ   soDone
	MOVQ DI, AX
	MOVQ DX, CX

soTouch:
	XORQ R9, R9

soTouchLine:
	PREFETCHT0 (AX)(R9*1)
	ADDQ      $64, R9
	CMPQ      R9, R11
	JLT       soTouchLine
	ADDQ      R8, AX
	DECQ      CX
	JNZ       soTouch

soRow:
	VBROADCASTSS (BX), Y0
	XORQ         R9, R9

soDim:
	VMULPS  (SI)(R9*1), Y0, Y1
	VMULPS  32(SI)(R9*1), Y0, Y2
	VMOVUPS Y1, (DI)(R9*1)
	VMOVUPS Y2, 32(DI)(R9*1)
	ADDQ    $64, R9
	CMPQ    R9, R11
	JLT     soDim
	ADDQ    R11, SI
	ADDQ    R8, DI
	ADDQ    $4, BX
	DECQ    DX
	JNZ     soRow

soDone:
	VZEROUPPER
	RET

// func attnGatherF32AVX2(dst *float32, src *float32, ld, rows, hd int)
// dst[t·hd+d] = src[t·ld+d] for t < rows, d < hd (a multiple of 16): a
// block of K or V rows made contiguous. Each line is copied while the same
// line eight rows on is prefetched, so the rows' cache misses overlap
// (rows past the block are prefetched too: the next block's).
TEXT ·attnGatherF32AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	MOVQ rows+24(FP), DX
	MOVQ hd+32(FP), R11
	SHLQ $2, R11
	TESTQ DX, DX
	JZ   g32Done

g32Row:
	XORQ R9, R9

g32Line:
	PREFETCHT0 (SI)(R8*8)
	VMOVUPS    (SI)(R9*1), Y0
	VMOVUPS    32(SI)(R9*1), Y1
	VMOVUPS    Y0, (DI)(R9*1)
	VMOVUPS    Y1, 32(DI)(R9*1)
	ADDQ       $64, R9
	CMPQ       R9, R11
	JLT        g32Line
	ADDQ       R8, SI
	ADDQ       R11, DI
	DECQ       DX
	JNZ        g32Row

g32Done:
	VZEROUPPER
	RET

// func attnGatherF16AVX2(dst *float32, src *uint16, ld, rows, hd int)
// attnGatherF32AVX2 from fp16 rows, converted to float32.
TEXT ·attnGatherF16AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $1, R8
	MOVQ rows+24(FP), DX
	MOVQ hd+32(FP), R11
	SHLQ $1, R11
	TESTQ DX, DX
	JZ   g16Done

g16Row:
	XORQ R9, R9
	MOVQ DI, AX

g16Line:
	PREFETCHT0 (SI)(R8*8)
	VCVTPH2PS  (SI)(R9*1), Y0
	VCVTPH2PS  16(SI)(R9*1), Y1
	VMOVUPS    Y0, (AX)
	VMOVUPS    Y1, 32(AX)
	ADDQ       $32, R9
	ADDQ       $64, AX
	CMPQ       R9, R11
	JLT        g16Line
	ADDQ       R8, SI
	LEAQ       (DI)(R11*2), DI
	DECQ       DX
	JNZ        g16Row

g16Done:
	VZEROUPPER
	RET
