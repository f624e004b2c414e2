//go:build !purego

// Packed Q4_0 decode (RepackQ4_0 layout): one 32-byte chunk holds 4 nibble
// bytes of each of eight rows, so a dot-product over 4 bytes per 32-bit
// lane (VPDPBUSD; or VPMADDUBSW+VPMADDWD on plain AVX2) against the
// activation's 4 bytes broadcast to every lane leaves row r's partial sum
// in lane r. The block sum starts at the activation slot's −8·Σq
// correction (packActLinear), is exact in int32, and is scaled by the
// eight rows' d (VCVTPH2PS of the 16 scale bytes) times the activation's
// d. Two float accumulators: even blocks (Y0) and odd blocks (Y1).
// func gemvQ4_0x8<variant>(y *float32, w, x *byte, nb int): y[0..7]; w at
// the group's first packed block (144 bytes each), x in 40-byte slots
// (int8 qs[32], float32 d, int32 correction).

#include "textflag.h"

// CHUNK: low nibbles of the chunk at wo(SI) × x bytes at xo(DI) into Y5,
// high nibbles × x bytes at xo+16(DI) into Y2.
#define CHUNK(wo, xo) \
	VMOVDQU      wo(SI), Y3 \
	VPSRLW       $4, Y3, Y4 \
	VPAND        Y13, Y3, Y3 \
	VPAND        Y13, Y4, Y4 \
	VPBROADCASTD xo(DI), Y6 \
	VPBROADCASTD xo+16(DI), Y7 \
	DPLO \
	DPHI

#define BLK(woff, xoff, acc) \
	VPBROADCASTD xoff+36(DI), Y5 \
	VPXOR        Y2, Y2, Y2 \
	CHUNK(woff+16, xoff) \
	CHUNK(woff+48, xoff+4) \
	CHUNK(woff+80, xoff+8) \
	CHUNK(woff+112, xoff+12) \
	VPADDD       Y2, Y5, Y5 \
	VCVTDQ2PS    Y5, Y5 \
	VCVTPH2PS    woff(SI), Y8 \
	VBROADCASTSS xoff+32(DI), Y9 \
	VMULPS       Y9, Y8, Y8 \
	VFMADD231PS  Y8, Y5, acc

// CONSTS: the nibble mask in Y13, 16-bit ones in Y11 (plain AVX2).
#define CONSTS \
	MOVL $0x0F0F0F0F, AX \
	VMOVD AX, X13 \
	VPBROADCASTD X13, Y13 \
	MOVL $0x00010001, AX \
	VMOVD AX, X11 \
	VPBROADCASTD X11, Y11

#define GEMVX8(name) \
TEXT name(SB), NOSPLIT, $0-32 \
	MOVQ y+0(FP), DX \
	MOVQ w+8(FP), SI \
	MOVQ x+16(FP), DI \
	MOVQ nb+24(FP), CX \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
	CONSTS \
loop2: \
	CMPQ CX, $2 \
	JLT tail \
	BLK(0, 0, Y0) \
	BLK(144, 40, Y1) \
	ADDQ $288, SI \
	ADDQ $80, DI \
	SUBQ $2, CX \
	JMP loop2 \
tail: \
	TESTQ CX, CX \
	JZ done \
	BLK(0, 0, Y0) \
done: \
	VADDPS Y1, Y0, Y0 \
	VMOVUPS Y0, (DX) \
	VZEROUPPER \
	RET

// VEX (AVX-VNNI), hand-encoded: C4 E2 65 50 EE = {vex} vpdpbusd %ymm6, %ymm3, %ymm5;
// C4 E2 5D 50 D7 = {vex} vpdpbusd %ymm7, %ymm4, %ymm2.
#define DPLO BYTE $0xC4; BYTE $0xE2; BYTE $0x65; BYTE $0x50; BYTE $0xEE
#define DPHI BYTE $0xC4; BYTE $0xE2; BYTE $0x5D; BYTE $0x50; BYTE $0xD7
GEMVX8(·gemvQ4_0x8AVXVNNI)
#undef DPLO
#undef DPHI

// Plain AVX2: VPMADDUBSW pairs (at most 2·15·128, no saturation) summed to
// int32 by VPMADDWD with ones (Y11).
#define DPLO VPMADDUBSW Y6, Y3, Y6; VPMADDWD Y11, Y6, Y6; VPADDD Y6, Y5, Y5
#define DPHI VPMADDUBSW Y7, Y4, Y7; VPMADDWD Y11, Y7, Y7; VPADDD Y7, Y2, Y2
GEMVX8(·gemvQ4_0x8AVX2)
#undef DPLO
#undef DPHI

// Four activation rows against one packed group: the weight chunk is
// loaded and split into nibbles once and multiplied with each row's bytes
// (rows at DI, R9, R10, R11, xstride apart), one int32 accumulator per row
// (Y0, Y1, Y2, Y5) seeded with the row's correction, then one float
// accumulator per row (Y8, Y9, Y10, Y12): acc += float(sum) · (d_w · d_x),
// fused. Y14 holds the eight row scales, Y15 is scratch. The weights are
// prefetched 2 KiB ahead (this loop is slow enough per byte that the
// hardware prefetcher alone leaves DRAM latency exposed).
// func gemvQ4_0x8x4<variant>(y *float32, w, x *byte, xstride, nb int):
// y[8c+r] is row r against activation row c.

#define ROWDP(ptr, xo, acc) \
	DPLO(ptr, xo, acc) \
	DPHI(ptr, xo, acc)

#define CHUNK4(wo, xo) \
	VMOVDQU wo(SI), Y3 \
	VPSRLW  $4, Y3, Y4 \
	VPAND   Y13, Y3, Y3 \
	VPAND   Y13, Y4, Y4 \
	ROWDP(DI, xo, Y0) \
	ROWDP(R9, xo, Y1) \
	ROWDP(R10, xo, Y2) \
	ROWDP(R11, xo, Y5)

#define SCALE4(ptr, iacc, facc) \
	VCVTDQ2PS    iacc, iacc \
	VBROADCASTSS 32(ptr), Y15 \
	VMULPS       Y15, Y14, Y15 \
	VFMADD231PS  Y15, iacc, facc

#define GEMVX8X4(name) \
TEXT name(SB), NOSPLIT, $0-40 \
	MOVQ y+0(FP), DX \
	MOVQ w+8(FP), SI \
	MOVQ x+16(FP), DI \
	MOVQ xstride+24(FP), R8 \
	MOVQ nb+32(FP), CX \
	LEAQ (DI)(R8*1), R9 \
	LEAQ (R9)(R8*1), R10 \
	LEAQ (R10)(R8*1), R11 \
	VXORPS Y8, Y8, Y8 \
	VXORPS Y9, Y9, Y9 \
	VXORPS Y10, Y10, Y10 \
	VXORPS Y12, Y12, Y12 \
	CONSTS \
	TESTQ CX, CX \
	JZ done4 \
loop4: \
	PREFETCHT0 2048(SI) \
	PREFETCHT0 2112(SI) \
	PREFETCHT0 2176(SI) \
	VPBROADCASTD 36(DI), Y0 \
	VPBROADCASTD 36(R9), Y1 \
	VPBROADCASTD 36(R10), Y2 \
	VPBROADCASTD 36(R11), Y5 \
	CHUNK4(16, 0) \
	CHUNK4(48, 4) \
	CHUNK4(80, 8) \
	CHUNK4(112, 12) \
	VCVTPH2PS (SI), Y14 \
	SCALE4(DI, Y0, Y8) \
	SCALE4(R9, Y1, Y9) \
	SCALE4(R10, Y2, Y10) \
	SCALE4(R11, Y5, Y12) \
	ADDQ $144, SI \
	ADDQ $40, DI \
	ADDQ $40, R9 \
	ADDQ $40, R10 \
	ADDQ $40, R11 \
	DECQ CX \
	JNZ loop4 \
done4: \
	VMOVUPS Y8, (DX) \
	VMOVUPS Y9, 32(DX) \
	VMOVUPS Y10, 64(DX) \
	VMOVUPS Y12, 96(DX) \
	VZEROUPPER \
	RET

// Plain AVX2 (also used on AVX-VNNI machines): VPMADDUBSW pairs summed to
// int32 by VPMADDWD with ones (Y11).
#define DPLO(ptr, xo, acc) VPBROADCASTD xo(ptr), Y6; VPMADDUBSW Y6, Y3, Y6; VPMADDWD Y11, Y6, Y6; VPADDD Y6, acc, acc
#define DPHI(ptr, xo, acc) VPBROADCASTD xo+16(ptr), Y7; VPMADDUBSW Y7, Y4, Y7; VPMADDWD Y11, Y7, Y7; VPADDD Y7, acc, acc
GEMVX8X4(·gemvQ4_0x8x4AVX2)
#undef DPLO
#undef DPHI
