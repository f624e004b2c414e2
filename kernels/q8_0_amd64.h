// Q8_0_CONSTS loads the constants Q8_0_BLOCK needs; perm is the address
// of eight dwords 0,4,1,5,2,6,3,7. Clobbers AX.
#define Q8_0_CONSTS(perm) \
	MOVL $0x7FFFFFFF, AX; \
	VMOVD AX, X15; \
	VPBROADCASTD X15, Y15; \
	MOVL $0x42FE0000, AX; \
	VMOVD AX, X14; \
	MOVL $0x3F800000, AX; \
	VMOVD AX, X13; \
	VPXOR Y12, Y12, Y12; \
	VMOVDQU perm, Y10

// Q8_0_BLOCK quantizes the 32 floats at (SI) to Q8_0 in AVX2, the
// sequence both quantQ8_0AVX2 (dot_amd64.s) and packQ8_0AVX2
// (actpack_amd64.s) run so that their bytes agree on every input:
// d = max|x|/127 (VMAXPS in this order decides which NaN, if any, reaches
// d), id = 1/d or 0 where d is 0 or NaN (ordered compare), q = x·id
// rounded by VCVTPS2DQ (MXCSR default: nearest even; NaN and overflow
// become 0x80000000) and packed with signed saturation.
// In: the constants of Q8_0_CONSTS (Y10, X12–X15). Out: X6 d, Y0 the 32 quants in order. Clobbers Y1–Y5,
// X7, Y8.
#define Q8_0_BLOCK \
	VMOVUPS (SI), Y0; \
	VMOVUPS 32(SI), Y1; \
	VMOVUPS 64(SI), Y2; \
	VMOVUPS 96(SI), Y3; \
	VANDPS  Y15, Y0, Y4; \
	VANDPS  Y15, Y1, Y5; \
	VMAXPS  Y5, Y4, Y4; \
	VANDPS  Y15, Y2, Y5; \
	VMAXPS  Y5, Y4, Y4; \
	VANDPS  Y15, Y3, Y5; \
	VMAXPS  Y5, Y4, Y4; \
	VEXTRACTF128 $1, Y4, X5; \
	VMAXPS  X5, X4, X4; \
	VPERMILPS $0x4E, X4, X5; \
	VMAXPS  X5, X4, X4; \
	VPERMILPS $0xB1, X4, X5; \
	VMAXPS  X5, X4, X4; \
	VDIVSS  X14, X4, X6; \
	VDIVSS  X6, X13, X8; \
	VCMPSS  $0x0C, X12, X6, X7; \
	VANDPS  X7, X8, X8; \
	VBROADCASTSS X8, Y8; \
	VMULPS  Y8, Y0, Y0; \
	VMULPS  Y8, Y1, Y1; \
	VMULPS  Y8, Y2, Y2; \
	VMULPS  Y8, Y3, Y3; \
	VCVTPS2DQ Y0, Y0; \
	VCVTPS2DQ Y1, Y1; \
	VCVTPS2DQ Y2, Y2; \
	VCVTPS2DQ Y3, Y3; \
	VPACKSSDW Y1, Y0, Y0; \
	VPACKSSDW Y3, Y2, Y2; \
	VPACKSSWB Y2, Y0, Y0; \
	VPERMD  Y0, Y10, Y0
