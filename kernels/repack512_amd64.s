//go:build !purego

// Packed Q4_0 decode with AVX-512 (VL + VNNI), the same sums and float
// steps as repack_amd64.s (the tiers agree bitwise) in fewer instructions
// and shorter dependency chains, so that more of the weight stream is in
// flight per core:
//   - the activation's 4 bytes come as VPDPBUSD's embedded broadcast, not a
//     separate broadcast load;
//   - the high nibbles are masked in place (b & 0xF0 = 16·hi) instead of
//     shifted: VPDPBUSD sums u8·s8 into int32 without saturation, so the
//     high-nibble sum is exactly 16 times the wanted one and one VPSRAD
//     per block restores it (|16·15·128·4·4| < 2^31);
//   - two blocks are computed side by side in separate registers (an even
//     and an odd block, the even- and odd-block accumulators of the
//     generic twin), so the out-of-order core overlaps their chains.

#include "textflag.h"

// CHUNK512: the 32-byte chunk at wo(SI) (4 nibble bytes of each of 8 rows)
// against the activation bytes at xo(DI) (low nibbles) and xo+16(DI) (high
// nibbles): lo += u8(chunk & 0x0F)·s8(x lo), hi += u8(chunk & 0xF0)·s8(x hi).
// t and u are scratch.
#define CHUNK512(wo, xo, lo, hi, t, u) \
	VMOVDQU       wo(SI), t \
	VPAND         Y13, t, u \
	VPAND         Y12, t, t \
	VPDPBUSD.BCST xo(DI), u, lo \
	VPDPBUSD.BCST xo+16(DI), t, hi

// BLK512: the packed block at wo(SI) with the activation slot at xo(DI)
// into the float accumulator acc (clobbers Y2–Y5, Y10).
#define BLK512(wo, xo, acc) \
	VPBROADCASTD xo+36(DI), Y5 \
	VPXOR        Y2, Y2, Y2 \
	CHUNK512(wo+16, xo, Y5, Y2, Y3, Y4) \
	CHUNK512(wo+48, xo+4, Y5, Y2, Y3, Y4) \
	CHUNK512(wo+80, xo+8, Y5, Y2, Y3, Y4) \
	CHUNK512(wo+112, xo+12, Y5, Y2, Y3, Y4) \
	VPSRAD       $4, Y2, Y2 \
	VPADDD       Y2, Y5, Y5 \
	VCVTDQ2PS    Y5, Y5 \
	VCVTPH2PS    wo(SI), Y10 \
	VMULPS.BCST  xo+32(DI), Y10, Y10 \
	VFMADD231PS  Y10, Y5, acc

// func gemvQ4_0x8AVX512(y *float32, w, x *byte, nb int): as gemvQ4_0x8AVX2.
TEXT ·gemvQ4_0x8AVX512(SB), NOSPLIT, $0-32
	MOVQ         y+0(FP), DX
	MOVQ         w+8(FP), SI
	MOVQ         x+16(FP), DI
	MOVQ         nb+24(FP), CX
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	MOVL         $0x0F0F0F0F, AX
	VPBROADCASTD AX, Y13
	MOVL         $0xF0F0F0F0, AX
	VPBROADCASTD AX, Y12

pair:
	CMPQ         CX, $2
	JLT          last
	// even block: Y5 (low, with the correction), Y2 (high); odd: Y6, Y7
	VPBROADCASTD 36(DI), Y5
	VPBROADCASTD 76(DI), Y6
	VPXOR        Y2, Y2, Y2
	VPXOR        Y7, Y7, Y7
	CHUNK512(16, 0, Y5, Y2, Y3, Y4)
	CHUNK512(160, 40, Y6, Y7, Y8, Y9)
	CHUNK512(48, 4, Y5, Y2, Y3, Y4)
	CHUNK512(192, 44, Y6, Y7, Y8, Y9)
	CHUNK512(80, 8, Y5, Y2, Y3, Y4)
	CHUNK512(224, 48, Y6, Y7, Y8, Y9)
	CHUNK512(112, 12, Y5, Y2, Y3, Y4)
	CHUNK512(256, 52, Y6, Y7, Y8, Y9)
	VPSRAD       $4, Y2, Y2
	VPSRAD       $4, Y7, Y7
	VPADDD       Y2, Y5, Y5
	VPADDD       Y7, Y6, Y6
	VCVTDQ2PS    Y5, Y5
	VCVTDQ2PS    Y6, Y6
	VCVTPH2PS    0(SI), Y10
	VCVTPH2PS    144(SI), Y11
	VMULPS.BCST  32(DI), Y10, Y10
	VMULPS.BCST  72(DI), Y11, Y11
	VFMADD231PS  Y10, Y5, Y0
	VFMADD231PS  Y11, Y6, Y1
	ADDQ         $288, SI
	ADDQ         $80, DI
	SUBQ         $2, CX
	JMP          pair

last:
	TESTQ        CX, CX
	JZ           done
	BLK512(0, 0, Y0)

done:
	VADDPS       Y1, Y0, Y0
	VMOVUPS      Y0, (DX)
	VZEROUPPER
	RET

// Four activation rows (at DI, R9, R10, R11, xstride apart) against one
// packed group, as gemvQ4_0x8x4AVX2 (one float accumulator per row, Y8–Y11,
// acc += float(sum)·(d_w·d_x) fused) with the chunk split into nibbles once
// for the four rows and eight independent int32 accumulators (low nibbles
// Y16–Y19 seeded with each row's correction, high nibbles ×16 Y20–Y23), so
// that the VPDPBUSD chains are four long instead of eight, and a software
// prefetch.

// ROWS4: the chunk at wo(SI) against the four rows' bytes at xo.
#define ROWS4(wo, xo) \
	VMOVDQU       wo(SI), Y3 \
	VPAND         Y13, Y3, Y4 \
	VPAND         Y12, Y3, Y3 \
	VPDPBUSD.BCST xo(DI), Y4, Y16 \
	VPDPBUSD.BCST xo+16(DI), Y3, Y20 \
	VPDPBUSD.BCST xo(R9), Y4, Y17 \
	VPDPBUSD.BCST xo+16(R9), Y3, Y21 \
	VPDPBUSD.BCST xo(R10), Y4, Y18 \
	VPDPBUSD.BCST xo+16(R10), Y3, Y22 \
	VPDPBUSD.BCST xo(R11), Y4, Y19 \
	VPDPBUSD.BCST xo+16(R11), Y3, Y23

// SUM4: row ptr's block sum (lo + hi/16) scaled into facc.
#define SUM4(ptr, lo, hi, facc) \
	VPSRAD        $4, hi, hi \
	VPADDD        hi, lo, lo \
	VCVTDQ2PS     lo, lo \
	VMULPS.BCST   32(ptr), Y14, Y15 \
	VFMADD231PS   Y15, lo, facc

// func gemvQ4_0x8x4AVX512(y *float32, w, x *byte, xstride, nb int)
TEXT ·gemvQ4_0x8x4AVX512(SB), NOSPLIT, $0-40
	MOVQ         y+0(FP), DX
	MOVQ         w+8(FP), SI
	MOVQ         x+16(FP), DI
	MOVQ         xstride+24(FP), R8
	MOVQ         nb+32(FP), CX
	LEAQ         (DI)(R8*1), R9
	LEAQ         (R9)(R8*1), R10
	LEAQ         (R10)(R8*1), R11
	VXORPS       Y8, Y8, Y8
	VXORPS       Y9, Y9, Y9
	VXORPS       Y10, Y10, Y10
	VXORPS       Y11, Y11, Y11
	MOVL         $0x0F0F0F0F, AX
	VPBROADCASTD AX, Y13
	MOVL         $0xF0F0F0F0, AX
	VPBROADCASTD AX, Y12
	TESTQ        CX, CX
	JZ           done4

block4:
	// The four rows make this loop slow enough per byte that the
	// hardware prefetcher alone leaves DRAM latency exposed: fetch the
	// block 2 KiB ahead (measured: +45 % per CPU-second against DRAM on
	// Zen 4; the one-row kernel above got slower with it).
	PREFETCHT0   2048(SI)
	PREFETCHT0   2112(SI)
	PREFETCHT0   2176(SI)
	VPBROADCASTD 36(DI), Y16
	VPBROADCASTD 36(R9), Y17
	VPBROADCASTD 36(R10), Y18
	VPBROADCASTD 36(R11), Y19
	VPXORD       Y20, Y20, Y20
	VPXORD       Y21, Y21, Y21
	VPXORD       Y22, Y22, Y22
	VPXORD       Y23, Y23, Y23
	ROWS4(16, 0)
	ROWS4(48, 4)
	ROWS4(80, 8)
	ROWS4(112, 12)
	VCVTPH2PS    (SI), Y14
	SUM4(DI, Y16, Y20, Y8)
	SUM4(R9, Y17, Y21, Y9)
	SUM4(R10, Y18, Y22, Y10)
	SUM4(R11, Y19, Y23, Y11)
	ADDQ         $144, SI
	ADDQ         $40, DI
	ADDQ         $40, R9
	ADDQ         $40, R10
	ADDQ         $40, R11
	DECQ         CX
	JNZ          block4

done4:
	VMOVUPS      Y8, (DX)
	VMOVUPS      Y9, 32(DX)
	VMOVUPS      Y10, 64(DX)
	VMOVUPS      Y11, 96(DX)
	VZEROUPPER
	RET

// Two activation rows (at DI and R9, xstride apart) against one packed
// group: gemvQ4_0x8x4AVX512 for two rows (float accumulators Y8, Y9; int
// accumulators Y16, Y17 low, Y20, Y21 high), so that two sequences
// decoded together read each weight byte and split it into nibbles once.

// ROWS2: the chunk at wo(SI) against the two rows' bytes at xo.
#define ROWS2(wo, xo) \
	VMOVDQU       wo(SI), Y3 \
	VPAND         Y13, Y3, Y4 \
	VPAND         Y12, Y3, Y3 \
	VPDPBUSD.BCST xo(DI), Y4, Y16 \
	VPDPBUSD.BCST xo+16(DI), Y3, Y20 \
	VPDPBUSD.BCST xo(R9), Y4, Y17 \
	VPDPBUSD.BCST xo+16(R9), Y3, Y21

// func gemvQ4_0x8x2AVX512(y *float32, w, x *byte, xstride, nb int):
// y[8c+r] is row r against activation row c.
TEXT ·gemvQ4_0x8x2AVX512(SB), NOSPLIT, $0-40
	MOVQ         y+0(FP), DX
	MOVQ         w+8(FP), SI
	MOVQ         x+16(FP), DI
	MOVQ         xstride+24(FP), R8
	MOVQ         nb+32(FP), CX
	LEAQ         (DI)(R8*1), R9
	VXORPS       Y8, Y8, Y8
	VXORPS       Y9, Y9, Y9
	MOVL         $0x0F0F0F0F, AX
	VPBROADCASTD AX, Y13
	MOVL         $0xF0F0F0F0, AX
	VPBROADCASTD AX, Y12
	TESTQ        CX, CX
	JZ           done2

block2:
	PREFETCHT0   2048(SI)
	PREFETCHT0   2112(SI)
	PREFETCHT0   2176(SI)
	VPBROADCASTD 36(DI), Y16
	VPBROADCASTD 36(R9), Y17
	VPXORD       Y20, Y20, Y20
	VPXORD       Y21, Y21, Y21
	ROWS2(16, 0)
	ROWS2(48, 4)
	ROWS2(80, 8)
	ROWS2(112, 12)
	VCVTPH2PS    (SI), Y14
	SUM4(DI, Y16, Y20, Y8)
	SUM4(R9, Y17, Y21, Y9)
	ADDQ         $144, SI
	ADDQ         $40, DI
	ADDQ         $40, R9
	DECQ         CX
	JNZ          block2

done2:
	VMOVUPS      Y8, (DX)
	VMOVUPS      Y9, 32(DX)
	VZEROUPPER
	RET
