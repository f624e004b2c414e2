//go:build !purego

// The bf16 tile kernels of multi-row attention (attntilebf16.go) for
// AVX-512 BF16: the layouts of attntile_amd64.s with bf16 pairs in each
// 32-bit lane, one VDPBF16PS doing the work of two VFMADD231PS. Scores: 8
// keys × 32 query rows (16 zmm accumulators); values: 16 rows × 16 dims.
// qs is a multiple of 32, hd of 16.
//
// Go's assembler has no BF16 instructions: the macros below encode them
// (EVEX.512.0F38.W0, register operands only, no masking; register numbers
// 0-31). In Intel's operand order "op zd, zv, zm": zd the destination (or
// accumulator), zv in EVEX.vvvv, zm in ModRM.rm.
#define EVEX512RR(pp, op, zm, zv, zd) \
	BYTE $0x62; \
	BYTE $((((~((zd)>>3))&1)<<7) | (((~((zm)>>4))&1)<<6) | (((~((zm)>>3))&1)<<5) | (((~((zd)>>4))&1)<<4) | 2); \
	BYTE $((((~(zv))&15)<<3) | 4 | (pp)); \
	BYTE $(0x40 | (((~((zv)>>4))&1)<<3)); \
	BYTE $(op); \
	BYTE $(0xC0 | (((zd)&7)<<3) | ((zm)&7))

// VDPBF16PS: Z[zd] += Σ over each lane's two bf16 pairs of Z[zv]·Z[zm]
// (high halves first).
#define VDPBF16PS(zm, zv, zd) EVEX512RR(2, 0x52, zm, zv, zd)

// VCVTNE2PS2BF16: words 0-15 of Z[zd] are Z[zm] rounded to bf16, words
// 16-31 Z[zv].
#define VCVTNE2PS2BF16(zm, zv, zd) EVEX512RR(3, 0x72, zm, zv, zd)

// VCVTNEPS2BF16: Y[yd] is Z[zm] rounded to bf16.
#define VCVTNEPS2BF16(zm, yd) EVEX512RR(2, 0x72, zm, 0, yd)

#include "textflag.h"

// VPERMW indices that interleave words 0-15 with words 16-31: the pairs
// (a[i], b[i]) of VCVTNE2PS2BF16(a, b).
DATA attnPairIdx<>+0(SB)/8, $0x0011000100100000
DATA attnPairIdx<>+8(SB)/8, $0x0013000300120002
DATA attnPairIdx<>+16(SB)/8, $0x0015000500140004
DATA attnPairIdx<>+24(SB)/8, $0x0017000700160006
DATA attnPairIdx<>+32(SB)/8, $0x0019000900180008
DATA attnPairIdx<>+40(SB)/8, $0x001B000B001A000A
DATA attnPairIdx<>+48(SB)/8, $0x001D000D001C000C
DATA attnPairIdx<>+56(SB)/8, $0x001F000F001E000E
GLOBL attnPairIdx<>(SB), RODATA|NOPTR, $64

// BKEY: broadcast one key word to Z[nb] and accumulate it against the two
// query vectors Z16, Z17 into Z[na], Z[nc].
#define BKEY(mem, Zb, nb, na, nc) \
	VBROADCASTSS mem, Zb; \
	VDPBF16PS(nb, 16, na); \
	VDPBF16PS(nb, 17, nc)

#define BSTORE2(Za, Zc) \
	VMOVUPS Za, (AX) \
	VMOVUPS Zc, 64(AX) \
	ADDQ    R8, AX

// func attnScoresBF16AVX512(st *float32, qs, nl int, qt *uint16, k *uint16, nk, hd int)
TEXT ·attnScoresBF16AVX512(SB), NOSPLIT, $0-56
	MOVQ st+0(FP), DI
	MOVQ qs+8(FP), R8
	SHLQ $2, R8 // qt word row and st row stride in bytes
	MOVQ qt+24(FP), SI
	MOVQ hd+48(FP), R11
	LEAQ (R11)(R11*1), R10 // key row stride in bytes
	SHRQ $1, R11 // words per key row
	LEAQ (R10)(R10*2), R12 // 3 key rows
	XORQ R15, R15 // byte offset of the current pair of query vectors

bscPair:
	MOVQ R15, AX
	SHRQ $2, AX
	CMPQ AX, nl+16(FP) // lanes done
	JGE  bscDone
	MOVQ k+32(FP), R9
	MOVQ nk+40(FP), DX
	LEAQ (DI)(R15*1), R14 // st row of the first key of the group

bscGroup:
	CMPQ   DX, $8
	JLT    bscSingle
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

bscLoop8:
	VMOVUPS (AX), Z16
	VMOVUPS 64(AX), Z17
	BKEY((BX), Z18, 18, 0, 1)
	BKEY((BX)(R10*1), Z19, 19, 2, 3)
	BKEY((BX)(R10*2), Z20, 20, 4, 5)
	BKEY((BX)(R12*1), Z21, 21, 6, 7)
	BKEY((BX)(R10*4), Z22, 22, 8, 9)
	BKEY((CX), Z23, 23, 10, 11)
	BKEY((CX)(R10*1), Z24, 24, 12, 13)
	BKEY((CX)(R10*2), Z25, 25, 14, 15)
	ADDQ    $4, BX
	ADDQ    $4, CX
	ADDQ    R8, AX
	DECQ    R13
	JNZ     bscLoop8
	MOVQ    R14, AX
	BSTORE2(Z0, Z1)
	BSTORE2(Z2, Z3)
	BSTORE2(Z4, Z5)
	BSTORE2(Z6, Z7)
	BSTORE2(Z8, Z9)
	BSTORE2(Z10, Z11)
	BSTORE2(Z12, Z13)
	BSTORE2(Z14, Z15)
	MOVQ    AX, R14
	LEAQ    (R9)(R10*8), R9
	SUBQ    $8, DX
	JMP     bscGroup

bscSingle:
	TESTQ  DX, DX
	JZ     bscNextPair
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	LEAQ   (SI)(R15*1), AX
	MOVQ   R9, BX
	MOVQ   R11, R13

bscLoop1:
	VMOVUPS (AX), Z16
	VMOVUPS 64(AX), Z17
	BKEY((BX), Z18, 18, 0, 1)
	ADDQ    $4, BX
	ADDQ    R8, AX
	DECQ    R13
	JNZ     bscLoop1
	MOVQ    R14, AX
	BSTORE2(Z0, Z1)
	MOVQ    AX, R14
	ADDQ    R10, R9
	DECQ    DX
	JMP     bscSingle

bscNextPair:
	ADDQ $128, R15
	JMP  bscPair

bscDone:
	VZEROUPPER
	RET

// BLOADROW: load acc row i (at BX) scaled by c[i] (at off(CX)), next row.
#define BLOADROW(off, Z) \
	VMOVUPS     (BX), Z \
	VMULPS.BCST off(CX), Z, Z \
	ADDQ        R14, BX

#define BSTOREROW(Z) \
	VMOVUPS Z, (BX) \
	ADDQ    R14, BX

// BROW: accumulate row i's probability word (at off(R9), a multiple of
// 4 below 512, broadcast: {1to16}) against the value words Z16 into
// Z[zd]: VDPBF16PS zd, z16, dword bcst [R9+off] (EVEX.b set, disp8
// scaled by 4).
#define BROW(off, zd) \
	BYTE $0x62; \
	BYTE $((((~((zd)>>3))&1)<<7) | 0x40 | (((~((zd)>>4))&1)<<4) | 2); \
	BYTE $((((~16)&15)<<3) | 4 | 2); \
	BYTE $0x50; \
	BYTE $0x52; \
	BYTE $(0x40 | (((zd)&7)<<3) | 1); \
	BYTE $((off)/4)

// func attnValuesBF16AVX512(acc *float32, hd int, p *uint16, qs, nl int, v *uint16, nu int, c *float32)
TEXT ·attnValuesBF16AVX512(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ hd+8(FP), R14
	SHLQ $2, R14 // acc row and v word row stride in bytes
	MOVQ p+16(FP), SI
	MOVQ qs+24(FP), R8
	SHLQ $2, R8 // p word row stride
	MOVQ c+56(FP), CX
	XORQ R15, R15 // byte offset of the group's first row in p and c

bvRows:
	MOVQ R15, AX
	SHRQ $2, AX
	CMPQ AX, nl+32(FP) // lanes done
	JGE  bvDone
	XORQ R12, R12 // byte offset of the dims in an acc row and a v word row

bvDims:
	CMPQ     R12, R14
	JGE      bvNextRows
	LEAQ     (DI)(R12*1), BX
	BLOADROW(0, Z0)
	BLOADROW(4, Z1)
	BLOADROW(8, Z2)
	BLOADROW(12, Z3)
	BLOADROW(16, Z4)
	BLOADROW(20, Z5)
	BLOADROW(24, Z6)
	BLOADROW(28, Z7)
	BLOADROW(32, Z8)
	BLOADROW(36, Z9)
	BLOADROW(40, Z10)
	BLOADROW(44, Z11)
	BLOADROW(48, Z12)
	BLOADROW(52, Z13)
	BLOADROW(56, Z14)
	BLOADROW(60, Z15)
	MOVQ     v+40(FP), AX
	ADDQ     R12, AX
	LEAQ     (SI)(R15*1), R9
	MOVQ     nu+48(FP), DX
	TESTQ    DX, DX
	JZ       bvStore

bvLoop:
	VMOVUPS (AX), Z16
	BROW(0, 0)
	BROW(4, 1)
	BROW(8, 2)
	BROW(12, 3)
	BROW(16, 4)
	BROW(20, 5)
	BROW(24, 6)
	BROW(28, 7)
	BROW(32, 8)
	BROW(36, 9)
	BROW(40, 10)
	BROW(44, 11)
	BROW(48, 12)
	BROW(52, 13)
	BROW(56, 14)
	BROW(60, 15)
	ADDQ    R14, AX
	ADDQ    R8, R9
	DECQ    DX
	JNZ     bvLoop

bvStore:
	LEAQ (DI)(R12*1), BX
	BSTOREROW(Z0)
	BSTOREROW(Z1)
	BSTOREROW(Z2)
	BSTOREROW(Z3)
	BSTOREROW(Z4)
	BSTOREROW(Z5)
	BSTOREROW(Z6)
	BSTOREROW(Z7)
	BSTOREROW(Z8)
	BSTOREROW(Z9)
	BSTOREROW(Z10)
	BSTOREROW(Z11)
	BSTOREROW(Z12)
	BSTOREROW(Z13)
	BSTOREROW(Z14)
	BSTOREROW(Z15)
	ADDQ $64, R12
	JMP  bvDims

bvNextRows:
	// next 16 rows: acc moves 16 rows, c and p 16 lanes
	MOVQ R14, AX
	SHLQ $4, AX
	ADDQ AX, DI
	ADDQ $64, CX
	ADDQ $64, R15
	JMP  bvRows

bvDone:
	VZEROUPPER
	RET

// func attnGatherKBF16AVX512(dst *uint16, src *float32, ld, rows, hd int)
// dst[t·hd+d] = bf16 src[t·ld+d] for t < rows, d < hd (a multiple of 16),
// the same row eight on prefetched line by line.
TEXT ·attnGatherKBF16AVX512(SB), NOSPLIT, $0-40
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  ld+16(FP), R8
	SHLQ  $2, R8
	MOVQ  rows+24(FP), DX
	MOVQ  hd+32(FP), R11
	SHLQ  $2, R11 // source bytes per row
	TESTQ DX, DX
	JZ    gkDone

gkRow:
	XORQ R9, R9
	LEAQ (SI)(R8*8), CX

gkLine:
	PREFETCHT0 (CX)(R9*1)
	VMOVUPS    (SI)(R9*1), Z0
	VCVTNEPS2BF16(0, 1)
	VMOVDQU    Y1, (DI)
	ADDQ       $32, DI
	ADDQ       $64, R9
	CMPQ       R9, R11
	JLT        gkLine
	ADDQ       R8, SI
	DECQ       DX
	JNZ        gkRow

gkDone:
	VZEROUPPER
	RET

// func attnPairRowsBF16AVX512(dst *uint16, src *float32, ld, rows, hd int)
// dst word (u, d) = (bf16 src[2u·ld+d], bf16 src[(2u+1)·ld+d]) for u <
// ⌈rows/2⌉, d < hd (a multiple of 16), 0 in the second half past the last
// row; the rows eight on are prefetched line by line.
TEXT ·attnPairRowsBF16AVX512(SB), NOSPLIT, $0-40
	MOVQ      dst+0(FP), DI
	MOVQ      src+8(FP), SI
	MOVQ      ld+16(FP), R8
	SHLQ      $2, R8
	MOVQ      rows+24(FP), DX
	MOVQ      hd+32(FP), R11
	SHLQ      $2, R11 // source bytes per row, and destination bytes per word row
	VMOVDQU64 attnPairIdx<>(SB), Z31
	VPXORD    Z30, Z30, Z30

prPair:
	CMPQ DX, $2
	JLT  prLast
	LEAQ (SI)(R8*1), BX // the second row
	LEAQ (SI)(R8*8), CX
	LEAQ (BX)(R8*8), R10
	XORQ R9, R9

prLine:
	PREFETCHT0 (CX)(R9*1)
	PREFETCHT0 (R10)(R9*1)
	VMOVUPS    (SI)(R9*1), Z0
	VMOVUPS    (BX)(R9*1), Z1
	VCVTNE2PS2BF16(0, 1, 2)
	VPERMW     Z2, Z31, Z2
	VMOVDQU32  Z2, (DI)(R9*1)
	ADDQ       $64, R9
	CMPQ       R9, R11
	JLT        prLine
	ADDQ       R11, DI
	LEAQ       (SI)(R8*2), SI
	SUBQ       $2, DX
	JMP        prPair

prLast:
	TESTQ DX, DX
	JZ    prDone
	XORQ  R9, R9

prLastLine:
	VMOVUPS   (SI)(R9*1), Z0
	VCVTNE2PS2BF16(0, 30, 2)
	VPERMW    Z2, Z31, Z2
	VMOVDQU32 Z2, (DI)(R9*1)
	ADDQ      $64, R9
	CMPQ      R9, R11
	JLT       prLastLine

prDone:
	VZEROUPPER
	RET
