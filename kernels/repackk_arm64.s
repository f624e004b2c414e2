//go:build !purego

// Packed K-quant decode on arm64 with SDOT (repackk.go layouts). A 32-byte
// chunk holds 4 bytes of each of the eight rows: its first 16 bytes are
// rows 0..3, its second rows 4..7, so SDOT by element (Vd.4S += Vn.16B ·
// Vm.4B[i]) leaves row r's partial sum in lane r of a quad's accumulator,
// one activation register serving four chunks. Weights stay unsigned
// (nibbles 0..15), the mins are subtracted through the activation's sums.
// Instructions Go's assembler lacks are encoded by hand, GNU syntax in
// the comment.

#include "textflag.h"

// func gemvQ4_Kx8SDOT(y *float32, w, x *byte, nb int)
// y[0..7]; w at the group's first packed block (1152 bytes each); x the
// Q8_K row (292 bytes a block). Per block: the eight rows' d and dmin
// times d_x (V0, V1; V2, V3), the 6-bit scales and mins decoded with
// vector shifts (scales 0..3 in V4/V5, 4..7 in V8/V9, mins 0..3 in V6/V7,
// 4..7 in V10/V11, quad 0/1), the mins term Σ m_j·bsum32_j by SDOT with
// bsum32 split as 64·hi + lo (both int8: |bsum32| ≤ 32·127), then per
// pair of sub-blocks the nibble dots, times the sub-block scale of each
// row (byte j of each lane, by a shift and a mask) into isum (V6/V7;
// V2/V3 for the high nibbles). Float accumulators: V22/V23 for the
// scaled sums, V27/V28 for the mins (y is their difference, the float
// steps those of gemvQ4_Kx8Generic); V26 = 0xFF per 32-bit lane,
// V30 = 0x3F, V31 = 0x0F.
TEXT ·gemvQ4_Kx8SDOT(SB), NOSPLIT, $0-32
	MOVD y+0(FP), R0
	MOVD w+8(FP), R1
	MOVD x+16(FP), R2
	MOVD nb+24(FP), R3
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	VEOR V27.B16, V27.B16, V27.B16
	VEOR V28.B16, V28.B16, V28.B16
	VMOVI $15, V31.B16
	VMOVI $63, V30.B16
	MOVD $0x000000ff000000ff, R4
	VMOV R4, V26.D[0]
	VMOV R4, V26.D[1]
	CBZ R3, done

loop:
	// d, dmin times d_x
	ADD $4, R2, R5
	ADD $512, R1, R6
	FLDPQ (R1), (F12, F13)
	VLD1R (R2), [V14.S4]
	WORD	$0x0e217980 // fcvtl v0.4s, v12.4h
	WORD	$0x4e217981 // fcvtl2 v1.4s, v12.8h
	WORD	$0x0e2179a2 // fcvtl v2.4s, v13.4h
	WORD	$0x4e2179a3 // fcvtl2 v3.4s, v13.8h
	WORD	$0x6e2edc00 // fmul v0.4s, v0.4s, v14.4s
	WORD	$0x6e2edc21 // fmul v1.4s, v1.4s, v14.4s
	WORD	$0x6e2edc42 // fmul v2.4s, v2.4s, v14.4s
	WORD	$0x6e2edc63 // fmul v3.4s, v3.4s, v14.4s
	// scales and mins: A (V4, V5), B (V6, V7), C (V8, V9) are bytes 0..3,
	// 4..7, 8..11 of each row's 12
	FLDPQ 32(R1), (F4, F5)
	FLDPQ 64(R1), (F6, F7)
	FLDPQ 96(R1), (F8, F9)
	VUSHR $6, V4.B16, V12.B16
	VUSHR $6, V6.B16, V13.B16
	VUSHR $4, V8.B16, V10.B16
	VSLI $4, V13.B16, V10.B16
	VSLI $4, V12.B16, V8.B16
	VAND V30.B16, V4.B16, V4.B16
	VAND V30.B16, V6.B16, V6.B16
	VUSHR $6, V5.B16, V12.B16
	VUSHR $6, V7.B16, V13.B16
	VUSHR $4, V9.B16, V11.B16
	VSLI $4, V13.B16, V11.B16
	VSLI $4, V12.B16, V9.B16
	VAND V30.B16, V5.B16, V5.B16
	VAND V30.B16, V7.B16, V7.B16
	// bsum32 = 64·hi + lo: hi bytes 0..7 of V18, lo bytes 8..15 of V19
	FLDPQ 256(R5), (F16, F17)
	VADDP V17.H8, V16.H8, V16.H8
	WORD	$0x4f1a0611 // sshr v17.8h, v16.8h, #6
	VUZP1 V16.B16, V17.B16, V18.B16
	VAND V30.B16, V18.B16, V19.B16
	VDUP V18.S[0], V20.S4
	VDUP V18.S[1], V21.S4
	VDUP V19.S[2], V24.S4
	VDUP V19.S[3], V25.S4
	// quad 0: macc += float(Σ m_j·bsum32_j)·dmin·d_x
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	WORD	$0x4e9494cc // sdot v12.4s, v6.16b, v20.16b
	WORD	$0x4e95954c // sdot v12.4s, v10.16b, v21.16b
	WORD	$0x4e9894cd // sdot v13.4s, v6.16b, v24.16b
	WORD	$0x4e99954d // sdot v13.4s, v10.16b, v25.16b
	VSHL $6, V12.S4, V12.S4
	VADD V12.S4, V13.S4, V12.S4
	WORD	$0x4e21d98c // scvtf v12.4s, v12.4s
	WORD	$0x4e22cd9b // fmla v27.4s, v12.4s, v2.4s
	// quad 1: macc += float(Σ m_j·bsum32_j)·dmin·d_x
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	WORD	$0x4e9494ec // sdot v12.4s, v7.16b, v20.16b
	WORD	$0x4e95956c // sdot v12.4s, v11.16b, v21.16b
	WORD	$0x4e9894ed // sdot v13.4s, v7.16b, v24.16b
	WORD	$0x4e99956d // sdot v13.4s, v11.16b, v25.16b
	VSHL $6, V12.S4, V12.S4
	VADD V12.S4, V13.S4, V12.S4
	WORD	$0x4e21d98c // scvtf v12.4s, v12.4s
	WORD	$0x4e23cd9c // fmla v28.4s, v12.4s, v3.4s
	// sub-blocks 0 (low nibbles) and 1 (high nibbles)
	FLDPQ 0(R5), (F16, F17)
	FLDPQ 32(R5), (F18, F19)
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	FLDPQ 128(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f90e30c // sdot v12.4s, v24.16b, v16.4b[0]
	WORD	$0x4f92e32e // sdot v14.4s, v25.16b, v18.4b[0]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f90e30d // sdot v13.4s, v24.16b, v16.4b[0]
	WORD	$0x4f92e32f // sdot v15.4s, v25.16b, v18.4b[0]
	FLDPQ 160(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb0e30c // sdot v12.4s, v24.16b, v16.4b[1]
	WORD	$0x4fb2e32e // sdot v14.4s, v25.16b, v18.4b[1]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb0e30d // sdot v13.4s, v24.16b, v16.4b[1]
	WORD	$0x4fb2e32f // sdot v15.4s, v25.16b, v18.4b[1]
	FLDPQ 192(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f90eb0c // sdot v12.4s, v24.16b, v16.4b[2]
	WORD	$0x4f92eb2e // sdot v14.4s, v25.16b, v18.4b[2]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f90eb0d // sdot v13.4s, v24.16b, v16.4b[2]
	WORD	$0x4f92eb2f // sdot v15.4s, v25.16b, v18.4b[2]
	FLDPQ 224(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb0eb0c // sdot v12.4s, v24.16b, v16.4b[3]
	WORD	$0x4fb2eb2e // sdot v14.4s, v25.16b, v18.4b[3]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb0eb0d // sdot v13.4s, v24.16b, v16.4b[3]
	WORD	$0x4fb2eb2f // sdot v15.4s, v25.16b, v18.4b[3]
	FLDPQ 256(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f91e30c // sdot v12.4s, v24.16b, v17.4b[0]
	WORD	$0x4f93e32e // sdot v14.4s, v25.16b, v19.4b[0]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f91e30d // sdot v13.4s, v24.16b, v17.4b[0]
	WORD	$0x4f93e32f // sdot v15.4s, v25.16b, v19.4b[0]
	FLDPQ 288(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb1e30c // sdot v12.4s, v24.16b, v17.4b[1]
	WORD	$0x4fb3e32e // sdot v14.4s, v25.16b, v19.4b[1]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb1e30d // sdot v13.4s, v24.16b, v17.4b[1]
	WORD	$0x4fb3e32f // sdot v15.4s, v25.16b, v19.4b[1]
	FLDPQ 320(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f91eb0c // sdot v12.4s, v24.16b, v17.4b[2]
	WORD	$0x4f93eb2e // sdot v14.4s, v25.16b, v19.4b[2]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f91eb0d // sdot v13.4s, v24.16b, v17.4b[2]
	WORD	$0x4f93eb2f // sdot v15.4s, v25.16b, v19.4b[2]
	FLDPQ 352(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb1eb0c // sdot v12.4s, v24.16b, v17.4b[3]
	WORD	$0x4fb3eb2e // sdot v14.4s, v25.16b, v19.4b[3]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb1eb0d // sdot v13.4s, v24.16b, v17.4b[3]
	WORD	$0x4fb3eb2f // sdot v15.4s, v25.16b, v19.4b[3]
	VAND V26.B16, V4.B16, V24.B16
	WORD	$0x4eb89d86 // mul v6.4s, v12.4s, v24.4s
	VAND V26.B16, V5.B16, V25.B16
	WORD	$0x4eb99da7 // mul v7.4s, v13.4s, v25.4s
	VUSHR $8, V4.S4, V24.S4
	VAND V26.B16, V24.B16, V24.B16
	WORD	$0x4eb89dc2 // mul v2.4s, v14.4s, v24.4s
	VUSHR $8, V5.S4, V25.S4
	VAND V26.B16, V25.B16, V25.B16
	WORD	$0x4eb99de3 // mul v3.4s, v15.4s, v25.4s
	// sub-blocks 2 (low nibbles) and 3 (high nibbles)
	FLDPQ 64(R5), (F16, F17)
	FLDPQ 96(R5), (F18, F19)
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	FLDPQ 384(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f90e30c // sdot v12.4s, v24.16b, v16.4b[0]
	WORD	$0x4f92e32e // sdot v14.4s, v25.16b, v18.4b[0]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f90e30d // sdot v13.4s, v24.16b, v16.4b[0]
	WORD	$0x4f92e32f // sdot v15.4s, v25.16b, v18.4b[0]
	FLDPQ 416(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb0e30c // sdot v12.4s, v24.16b, v16.4b[1]
	WORD	$0x4fb2e32e // sdot v14.4s, v25.16b, v18.4b[1]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb0e30d // sdot v13.4s, v24.16b, v16.4b[1]
	WORD	$0x4fb2e32f // sdot v15.4s, v25.16b, v18.4b[1]
	FLDPQ 448(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f90eb0c // sdot v12.4s, v24.16b, v16.4b[2]
	WORD	$0x4f92eb2e // sdot v14.4s, v25.16b, v18.4b[2]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f90eb0d // sdot v13.4s, v24.16b, v16.4b[2]
	WORD	$0x4f92eb2f // sdot v15.4s, v25.16b, v18.4b[2]
	FLDPQ 480(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb0eb0c // sdot v12.4s, v24.16b, v16.4b[3]
	WORD	$0x4fb2eb2e // sdot v14.4s, v25.16b, v18.4b[3]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb0eb0d // sdot v13.4s, v24.16b, v16.4b[3]
	WORD	$0x4fb2eb2f // sdot v15.4s, v25.16b, v18.4b[3]
	FLDPQ 512(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f91e30c // sdot v12.4s, v24.16b, v17.4b[0]
	WORD	$0x4f93e32e // sdot v14.4s, v25.16b, v19.4b[0]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f91e30d // sdot v13.4s, v24.16b, v17.4b[0]
	WORD	$0x4f93e32f // sdot v15.4s, v25.16b, v19.4b[0]
	FLDPQ 544(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb1e30c // sdot v12.4s, v24.16b, v17.4b[1]
	WORD	$0x4fb3e32e // sdot v14.4s, v25.16b, v19.4b[1]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb1e30d // sdot v13.4s, v24.16b, v17.4b[1]
	WORD	$0x4fb3e32f // sdot v15.4s, v25.16b, v19.4b[1]
	FLDPQ 576(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f91eb0c // sdot v12.4s, v24.16b, v17.4b[2]
	WORD	$0x4f93eb2e // sdot v14.4s, v25.16b, v19.4b[2]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f91eb0d // sdot v13.4s, v24.16b, v17.4b[2]
	WORD	$0x4f93eb2f // sdot v15.4s, v25.16b, v19.4b[2]
	FLDPQ 608(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb1eb0c // sdot v12.4s, v24.16b, v17.4b[3]
	WORD	$0x4fb3eb2e // sdot v14.4s, v25.16b, v19.4b[3]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb1eb0d // sdot v13.4s, v24.16b, v17.4b[3]
	WORD	$0x4fb3eb2f // sdot v15.4s, v25.16b, v19.4b[3]
	VUSHR $16, V4.S4, V24.S4
	VAND V26.B16, V24.B16, V24.B16
	WORD	$0x4eb89586 // mla v6.4s, v12.4s, v24.4s
	VUSHR $16, V5.S4, V25.S4
	VAND V26.B16, V25.B16, V25.B16
	WORD	$0x4eb995a7 // mla v7.4s, v13.4s, v25.4s
	VUSHR $24, V4.S4, V24.S4
	WORD	$0x4eb895c2 // mla v2.4s, v14.4s, v24.4s
	VUSHR $24, V5.S4, V25.S4
	WORD	$0x4eb995e3 // mla v3.4s, v15.4s, v25.4s
	// sub-blocks 4 (low nibbles) and 5 (high nibbles)
	FLDPQ 128(R5), (F16, F17)
	FLDPQ 160(R5), (F18, F19)
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	FLDPQ 640(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f90e30c // sdot v12.4s, v24.16b, v16.4b[0]
	WORD	$0x4f92e32e // sdot v14.4s, v25.16b, v18.4b[0]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f90e30d // sdot v13.4s, v24.16b, v16.4b[0]
	WORD	$0x4f92e32f // sdot v15.4s, v25.16b, v18.4b[0]
	FLDPQ 672(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb0e30c // sdot v12.4s, v24.16b, v16.4b[1]
	WORD	$0x4fb2e32e // sdot v14.4s, v25.16b, v18.4b[1]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb0e30d // sdot v13.4s, v24.16b, v16.4b[1]
	WORD	$0x4fb2e32f // sdot v15.4s, v25.16b, v18.4b[1]
	FLDPQ 704(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f90eb0c // sdot v12.4s, v24.16b, v16.4b[2]
	WORD	$0x4f92eb2e // sdot v14.4s, v25.16b, v18.4b[2]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f90eb0d // sdot v13.4s, v24.16b, v16.4b[2]
	WORD	$0x4f92eb2f // sdot v15.4s, v25.16b, v18.4b[2]
	FLDPQ 736(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb0eb0c // sdot v12.4s, v24.16b, v16.4b[3]
	WORD	$0x4fb2eb2e // sdot v14.4s, v25.16b, v18.4b[3]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb0eb0d // sdot v13.4s, v24.16b, v16.4b[3]
	WORD	$0x4fb2eb2f // sdot v15.4s, v25.16b, v18.4b[3]
	FLDPQ 768(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f91e30c // sdot v12.4s, v24.16b, v17.4b[0]
	WORD	$0x4f93e32e // sdot v14.4s, v25.16b, v19.4b[0]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f91e30d // sdot v13.4s, v24.16b, v17.4b[0]
	WORD	$0x4f93e32f // sdot v15.4s, v25.16b, v19.4b[0]
	FLDPQ 800(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb1e30c // sdot v12.4s, v24.16b, v17.4b[1]
	WORD	$0x4fb3e32e // sdot v14.4s, v25.16b, v19.4b[1]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb1e30d // sdot v13.4s, v24.16b, v17.4b[1]
	WORD	$0x4fb3e32f // sdot v15.4s, v25.16b, v19.4b[1]
	FLDPQ 832(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f91eb0c // sdot v12.4s, v24.16b, v17.4b[2]
	WORD	$0x4f93eb2e // sdot v14.4s, v25.16b, v19.4b[2]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f91eb0d // sdot v13.4s, v24.16b, v17.4b[2]
	WORD	$0x4f93eb2f // sdot v15.4s, v25.16b, v19.4b[2]
	FLDPQ 864(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb1eb0c // sdot v12.4s, v24.16b, v17.4b[3]
	WORD	$0x4fb3eb2e // sdot v14.4s, v25.16b, v19.4b[3]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb1eb0d // sdot v13.4s, v24.16b, v17.4b[3]
	WORD	$0x4fb3eb2f // sdot v15.4s, v25.16b, v19.4b[3]
	VAND V26.B16, V8.B16, V24.B16
	WORD	$0x4eb89586 // mla v6.4s, v12.4s, v24.4s
	VAND V26.B16, V9.B16, V25.B16
	WORD	$0x4eb995a7 // mla v7.4s, v13.4s, v25.4s
	VUSHR $8, V8.S4, V24.S4
	VAND V26.B16, V24.B16, V24.B16
	WORD	$0x4eb895c2 // mla v2.4s, v14.4s, v24.4s
	VUSHR $8, V9.S4, V25.S4
	VAND V26.B16, V25.B16, V25.B16
	WORD	$0x4eb995e3 // mla v3.4s, v15.4s, v25.4s
	// sub-blocks 6 (low nibbles) and 7 (high nibbles)
	FLDPQ 192(R5), (F16, F17)
	FLDPQ 224(R5), (F18, F19)
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	FLDPQ 896(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f90e30c // sdot v12.4s, v24.16b, v16.4b[0]
	WORD	$0x4f92e32e // sdot v14.4s, v25.16b, v18.4b[0]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f90e30d // sdot v13.4s, v24.16b, v16.4b[0]
	WORD	$0x4f92e32f // sdot v15.4s, v25.16b, v18.4b[0]
	FLDPQ 928(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb0e30c // sdot v12.4s, v24.16b, v16.4b[1]
	WORD	$0x4fb2e32e // sdot v14.4s, v25.16b, v18.4b[1]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb0e30d // sdot v13.4s, v24.16b, v16.4b[1]
	WORD	$0x4fb2e32f // sdot v15.4s, v25.16b, v18.4b[1]
	FLDPQ 960(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f90eb0c // sdot v12.4s, v24.16b, v16.4b[2]
	WORD	$0x4f92eb2e // sdot v14.4s, v25.16b, v18.4b[2]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f90eb0d // sdot v13.4s, v24.16b, v16.4b[2]
	WORD	$0x4f92eb2f // sdot v15.4s, v25.16b, v18.4b[2]
	FLDPQ 992(R1), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb0eb0c // sdot v12.4s, v24.16b, v16.4b[3]
	WORD	$0x4fb2eb2e // sdot v14.4s, v25.16b, v18.4b[3]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb0eb0d // sdot v13.4s, v24.16b, v16.4b[3]
	WORD	$0x4fb2eb2f // sdot v15.4s, v25.16b, v18.4b[3]
	FLDPQ 512(R6), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f91e30c // sdot v12.4s, v24.16b, v17.4b[0]
	WORD	$0x4f93e32e // sdot v14.4s, v25.16b, v19.4b[0]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f91e30d // sdot v13.4s, v24.16b, v17.4b[0]
	WORD	$0x4f93e32f // sdot v15.4s, v25.16b, v19.4b[0]
	FLDPQ 544(R6), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb1e30c // sdot v12.4s, v24.16b, v17.4b[1]
	WORD	$0x4fb3e32e // sdot v14.4s, v25.16b, v19.4b[1]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb1e30d // sdot v13.4s, v24.16b, v17.4b[1]
	WORD	$0x4fb3e32f // sdot v15.4s, v25.16b, v19.4b[1]
	FLDPQ 576(R6), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4f91eb0c // sdot v12.4s, v24.16b, v17.4b[2]
	WORD	$0x4f93eb2e // sdot v14.4s, v25.16b, v19.4b[2]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4f91eb0d // sdot v13.4s, v24.16b, v17.4b[2]
	WORD	$0x4f93eb2f // sdot v15.4s, v25.16b, v19.4b[2]
	FLDPQ 608(R6), (F20, F21)
	VAND V31.B16, V20.B16, V24.B16
	VUSHR $4, V20.B16, V25.B16
	WORD	$0x4fb1eb0c // sdot v12.4s, v24.16b, v17.4b[3]
	WORD	$0x4fb3eb2e // sdot v14.4s, v25.16b, v19.4b[3]
	VAND V31.B16, V21.B16, V24.B16
	VUSHR $4, V21.B16, V25.B16
	WORD	$0x4fb1eb0d // sdot v13.4s, v24.16b, v17.4b[3]
	WORD	$0x4fb3eb2f // sdot v15.4s, v25.16b, v19.4b[3]
	VUSHR $16, V8.S4, V24.S4
	VAND V26.B16, V24.B16, V24.B16
	WORD	$0x4eb89586 // mla v6.4s, v12.4s, v24.4s
	VUSHR $16, V9.S4, V25.S4
	VAND V26.B16, V25.B16, V25.B16
	WORD	$0x4eb995a7 // mla v7.4s, v13.4s, v25.4s
	VUSHR $24, V8.S4, V24.S4
	WORD	$0x4eb895c2 // mla v2.4s, v14.4s, v24.4s
	VUSHR $24, V9.S4, V25.S4
	WORD	$0x4eb995e3 // mla v3.4s, v15.4s, v25.4s
	VADD V2.S4, V6.S4, V6.S4
	VADD V3.S4, V7.S4, V7.S4
	WORD	$0x4e21d8c6 // scvtf v6.4s, v6.4s
	WORD	$0x4e21d8e7 // scvtf v7.4s, v7.4s
	WORD	$0x4e20ccd6 // fmla v22.4s, v6.4s, v0.4s
	WORD	$0x4e21ccf7 // fmla v23.4s, v7.4s, v1.4s
	ADD $1152, R1
	ADD $292, R2
	SUBS $1, R3
	BNE loop

done:

	WORD	$0x4ebbd6d6 // fsub v22.4s, v22.4s, v27.4s
	WORD	$0x4ebcd6f7 // fsub v23.4s, v23.4s, v28.4s
	VST1 [V22.S4, V23.S4], (R0)
	RET

// func gemvQ6_Kx8SDOT(y *float32, w, x *byte, nb int)
// w at the group's first packed Q6_K block (1680 bytes each). For each
// half h and scale group (l < 16 or not) the four quant vectors
// q_i = ql nibble | 2 qh bits << 4 (0..63) of chunks lc are built with
// shifts, SLI and BIT, dotted (SDOT by element) into eight accumulators
// (V0..V7: quant index i, quad q) seeded with −32·bsum_s (V20..V23 hold
// the 16 values), then times the rows' int8 scale s, sign-extended, into
// isum (V8/V9). Float accumulators V28/V29 (the float steps of
// gemvQ6_Kx8Generic); V30 = 0x30, V31 = 0x03.
TEXT ·gemvQ6_Kx8SDOT(SB), NOSPLIT, $0-32
	MOVD y+0(FP), R0
	MOVD w+8(FP), R1
	MOVD x+16(FP), R2
	MOVD nb+24(FP), R3
	VEOR V28.B16, V28.B16, V28.B16
	VEOR V29.B16, V29.B16, V29.B16
	VMOVI $48, V30.B16
	VMOVI $3, V31.B16
	CBZ R3, q6done

q6loop:
	ADD $4, R2, R5
	// −32·bsum_s, s = 0..15
	FLDPQ 256(R5), (F16, F17)
	WORD	$0x0f15a614 // sshll v20.4s, v16.4h, #5
	WORD	$0x4f15a615 // sshll2 v21.4s, v16.8h, #5
	WORD	$0x0f15a636 // sshll v22.4s, v17.4h, #5
	WORD	$0x4f15a637 // sshll2 v23.4s, v17.8h, #5
	WORD	$0x6ea0ba94 // neg v20.4s, v20.4s
	WORD	$0x6ea0bab5 // neg v21.4s, v21.4s
	WORD	$0x6ea0bad6 // neg v22.4s, v22.4s
	WORD	$0x6ea0baf7 // neg v23.4s, v23.4s
	// half 0, elements l < 16
	FMOVQ 0(R5), F14
	FMOVQ 32(R5), F15
	FMOVQ 64(R5), F16
	FMOVQ 96(R5), F17
	VDUP V20.S[0], V0.S4
	VDUP V20.S[0], V1.S4
	VDUP V20.S[2], V2.S4
	VDUP V20.S[2], V3.S4
	VDUP V21.S[0], V4.S4
	VDUP V21.S[0], V5.S4
	VDUP V21.S[2], V6.S4
	VDUP V21.S[2], V7.S4
	FMOVQ 144(R1), F24
	FMOVQ 400(R1), F25
	FMOVQ 1168(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90e364 // sdot v4.4s, v27.16b, v16.4b[0]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91e366 // sdot v6.4s, v27.16b, v17.4b[0]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8ee300 // sdot v0.4s, v24.16b, v14.4b[0]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8fe322 // sdot v2.4s, v25.16b, v15.4b[0]
	FMOVQ 160(R1), F24
	FMOVQ 416(R1), F25
	FMOVQ 1184(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90e365 // sdot v5.4s, v27.16b, v16.4b[0]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91e367 // sdot v7.4s, v27.16b, v17.4b[0]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8ee301 // sdot v1.4s, v24.16b, v14.4b[0]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8fe323 // sdot v3.4s, v25.16b, v15.4b[0]
	FMOVQ 176(R1), F24
	FMOVQ 432(R1), F25
	FMOVQ 1200(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0e364 // sdot v4.4s, v27.16b, v16.4b[1]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1e366 // sdot v6.4s, v27.16b, v17.4b[1]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faee300 // sdot v0.4s, v24.16b, v14.4b[1]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafe322 // sdot v2.4s, v25.16b, v15.4b[1]
	FMOVQ 192(R1), F24
	FMOVQ 448(R1), F25
	FMOVQ 1216(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0e365 // sdot v5.4s, v27.16b, v16.4b[1]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1e367 // sdot v7.4s, v27.16b, v17.4b[1]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faee301 // sdot v1.4s, v24.16b, v14.4b[1]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafe323 // sdot v3.4s, v25.16b, v15.4b[1]
	FMOVQ 208(R1), F24
	FMOVQ 464(R1), F25
	FMOVQ 1232(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90eb64 // sdot v4.4s, v27.16b, v16.4b[2]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91eb66 // sdot v6.4s, v27.16b, v17.4b[2]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8eeb00 // sdot v0.4s, v24.16b, v14.4b[2]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8feb22 // sdot v2.4s, v25.16b, v15.4b[2]
	FMOVQ 224(R1), F24
	FMOVQ 480(R1), F25
	FMOVQ 1248(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90eb65 // sdot v5.4s, v27.16b, v16.4b[2]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91eb67 // sdot v7.4s, v27.16b, v17.4b[2]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8eeb01 // sdot v1.4s, v24.16b, v14.4b[2]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8feb23 // sdot v3.4s, v25.16b, v15.4b[2]
	FMOVQ 240(R1), F24
	FMOVQ 496(R1), F25
	FMOVQ 1264(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0eb64 // sdot v4.4s, v27.16b, v16.4b[3]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1eb66 // sdot v6.4s, v27.16b, v17.4b[3]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faeeb00 // sdot v0.4s, v24.16b, v14.4b[3]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafeb22 // sdot v2.4s, v25.16b, v15.4b[3]
	FMOVQ 256(R1), F24
	FMOVQ 512(R1), F25
	FMOVQ 1280(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0eb65 // sdot v5.4s, v27.16b, v16.4b[3]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1eb67 // sdot v7.4s, v27.16b, v17.4b[3]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faeeb01 // sdot v1.4s, v24.16b, v14.4b[3]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafeb23 // sdot v3.4s, v25.16b, v15.4b[3]
	FMOVD 16(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb29c08 // mul v8.4s, v0.4s, v18.4s
	WORD	$0x4eb39c29 // mul v9.4s, v1.4s, v19.4s
	FMOVD 32(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb29448 // mla v8.4s, v2.4s, v18.4s
	WORD	$0x4eb39469 // mla v9.4s, v3.4s, v19.4s
	FMOVD 48(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb29488 // mla v8.4s, v4.4s, v18.4s
	WORD	$0x4eb394a9 // mla v9.4s, v5.4s, v19.4s
	FMOVD 64(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb294c8 // mla v8.4s, v6.4s, v18.4s
	WORD	$0x4eb394e9 // mla v9.4s, v7.4s, v19.4s
	// half 0, elements l >= 16
	FMOVQ 16(R5), F14
	FMOVQ 48(R5), F15
	FMOVQ 80(R5), F16
	FMOVQ 112(R5), F17
	VDUP V20.S[1], V0.S4
	VDUP V20.S[1], V1.S4
	VDUP V20.S[3], V2.S4
	VDUP V20.S[3], V3.S4
	VDUP V21.S[1], V4.S4
	VDUP V21.S[1], V5.S4
	VDUP V21.S[3], V6.S4
	VDUP V21.S[3], V7.S4
	FMOVQ 272(R1), F24
	FMOVQ 528(R1), F25
	FMOVQ 1296(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90e364 // sdot v4.4s, v27.16b, v16.4b[0]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91e366 // sdot v6.4s, v27.16b, v17.4b[0]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8ee300 // sdot v0.4s, v24.16b, v14.4b[0]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8fe322 // sdot v2.4s, v25.16b, v15.4b[0]
	FMOVQ 288(R1), F24
	FMOVQ 544(R1), F25
	FMOVQ 1312(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90e365 // sdot v5.4s, v27.16b, v16.4b[0]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91e367 // sdot v7.4s, v27.16b, v17.4b[0]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8ee301 // sdot v1.4s, v24.16b, v14.4b[0]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8fe323 // sdot v3.4s, v25.16b, v15.4b[0]
	FMOVQ 304(R1), F24
	FMOVQ 560(R1), F25
	FMOVQ 1328(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0e364 // sdot v4.4s, v27.16b, v16.4b[1]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1e366 // sdot v6.4s, v27.16b, v17.4b[1]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faee300 // sdot v0.4s, v24.16b, v14.4b[1]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafe322 // sdot v2.4s, v25.16b, v15.4b[1]
	FMOVQ 320(R1), F24
	FMOVQ 576(R1), F25
	FMOVQ 1344(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0e365 // sdot v5.4s, v27.16b, v16.4b[1]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1e367 // sdot v7.4s, v27.16b, v17.4b[1]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faee301 // sdot v1.4s, v24.16b, v14.4b[1]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafe323 // sdot v3.4s, v25.16b, v15.4b[1]
	FMOVQ 336(R1), F24
	FMOVQ 592(R1), F25
	FMOVQ 1360(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90eb64 // sdot v4.4s, v27.16b, v16.4b[2]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91eb66 // sdot v6.4s, v27.16b, v17.4b[2]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8eeb00 // sdot v0.4s, v24.16b, v14.4b[2]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8feb22 // sdot v2.4s, v25.16b, v15.4b[2]
	FMOVQ 352(R1), F24
	FMOVQ 608(R1), F25
	FMOVQ 1376(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90eb65 // sdot v5.4s, v27.16b, v16.4b[2]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91eb67 // sdot v7.4s, v27.16b, v17.4b[2]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8eeb01 // sdot v1.4s, v24.16b, v14.4b[2]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8feb23 // sdot v3.4s, v25.16b, v15.4b[2]
	FMOVQ 368(R1), F24
	FMOVQ 624(R1), F25
	FMOVQ 1392(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0eb64 // sdot v4.4s, v27.16b, v16.4b[3]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1eb66 // sdot v6.4s, v27.16b, v17.4b[3]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faeeb00 // sdot v0.4s, v24.16b, v14.4b[3]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafeb22 // sdot v2.4s, v25.16b, v15.4b[3]
	FMOVQ 384(R1), F24
	FMOVQ 640(R1), F25
	FMOVQ 1408(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0eb65 // sdot v5.4s, v27.16b, v16.4b[3]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1eb67 // sdot v7.4s, v27.16b, v17.4b[3]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faeeb01 // sdot v1.4s, v24.16b, v14.4b[3]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafeb23 // sdot v3.4s, v25.16b, v15.4b[3]
	FMOVD 24(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb29408 // mla v8.4s, v0.4s, v18.4s
	WORD	$0x4eb39429 // mla v9.4s, v1.4s, v19.4s
	FMOVD 40(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb29448 // mla v8.4s, v2.4s, v18.4s
	WORD	$0x4eb39469 // mla v9.4s, v3.4s, v19.4s
	FMOVD 56(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb29488 // mla v8.4s, v4.4s, v18.4s
	WORD	$0x4eb394a9 // mla v9.4s, v5.4s, v19.4s
	FMOVD 72(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb294c8 // mla v8.4s, v6.4s, v18.4s
	WORD	$0x4eb394e9 // mla v9.4s, v7.4s, v19.4s
	// half 1, elements l < 16
	FMOVQ 128(R5), F14
	FMOVQ 160(R5), F15
	FMOVQ 192(R5), F16
	FMOVQ 224(R5), F17
	VDUP V22.S[0], V0.S4
	VDUP V22.S[0], V1.S4
	VDUP V22.S[2], V2.S4
	VDUP V22.S[2], V3.S4
	VDUP V23.S[0], V4.S4
	VDUP V23.S[0], V5.S4
	VDUP V23.S[2], V6.S4
	VDUP V23.S[2], V7.S4
	FMOVQ 656(R1), F24
	FMOVQ 912(R1), F25
	FMOVQ 1424(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90e364 // sdot v4.4s, v27.16b, v16.4b[0]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91e366 // sdot v6.4s, v27.16b, v17.4b[0]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8ee300 // sdot v0.4s, v24.16b, v14.4b[0]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8fe322 // sdot v2.4s, v25.16b, v15.4b[0]
	FMOVQ 672(R1), F24
	FMOVQ 928(R1), F25
	FMOVQ 1440(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90e365 // sdot v5.4s, v27.16b, v16.4b[0]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91e367 // sdot v7.4s, v27.16b, v17.4b[0]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8ee301 // sdot v1.4s, v24.16b, v14.4b[0]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8fe323 // sdot v3.4s, v25.16b, v15.4b[0]
	FMOVQ 688(R1), F24
	FMOVQ 944(R1), F25
	FMOVQ 1456(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0e364 // sdot v4.4s, v27.16b, v16.4b[1]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1e366 // sdot v6.4s, v27.16b, v17.4b[1]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faee300 // sdot v0.4s, v24.16b, v14.4b[1]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafe322 // sdot v2.4s, v25.16b, v15.4b[1]
	FMOVQ 704(R1), F24
	FMOVQ 960(R1), F25
	FMOVQ 1472(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0e365 // sdot v5.4s, v27.16b, v16.4b[1]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1e367 // sdot v7.4s, v27.16b, v17.4b[1]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faee301 // sdot v1.4s, v24.16b, v14.4b[1]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafe323 // sdot v3.4s, v25.16b, v15.4b[1]
	FMOVQ 720(R1), F24
	FMOVQ 976(R1), F25
	FMOVQ 1488(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90eb64 // sdot v4.4s, v27.16b, v16.4b[2]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91eb66 // sdot v6.4s, v27.16b, v17.4b[2]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8eeb00 // sdot v0.4s, v24.16b, v14.4b[2]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8feb22 // sdot v2.4s, v25.16b, v15.4b[2]
	FMOVQ 736(R1), F24
	FMOVQ 992(R1), F25
	FMOVQ 1504(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90eb65 // sdot v5.4s, v27.16b, v16.4b[2]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91eb67 // sdot v7.4s, v27.16b, v17.4b[2]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8eeb01 // sdot v1.4s, v24.16b, v14.4b[2]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8feb23 // sdot v3.4s, v25.16b, v15.4b[2]
	FMOVQ 752(R1), F24
	FMOVQ 1008(R1), F25
	FMOVQ 1520(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0eb64 // sdot v4.4s, v27.16b, v16.4b[3]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1eb66 // sdot v6.4s, v27.16b, v17.4b[3]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faeeb00 // sdot v0.4s, v24.16b, v14.4b[3]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafeb22 // sdot v2.4s, v25.16b, v15.4b[3]
	FMOVQ 768(R1), F24
	FMOVQ 1024(R1), F25
	FMOVQ 1536(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0eb65 // sdot v5.4s, v27.16b, v16.4b[3]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1eb67 // sdot v7.4s, v27.16b, v17.4b[3]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faeeb01 // sdot v1.4s, v24.16b, v14.4b[3]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafeb23 // sdot v3.4s, v25.16b, v15.4b[3]
	FMOVD 80(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb29408 // mla v8.4s, v0.4s, v18.4s
	WORD	$0x4eb39429 // mla v9.4s, v1.4s, v19.4s
	FMOVD 96(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb29448 // mla v8.4s, v2.4s, v18.4s
	WORD	$0x4eb39469 // mla v9.4s, v3.4s, v19.4s
	FMOVD 112(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb29488 // mla v8.4s, v4.4s, v18.4s
	WORD	$0x4eb394a9 // mla v9.4s, v5.4s, v19.4s
	FMOVD 128(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb294c8 // mla v8.4s, v6.4s, v18.4s
	WORD	$0x4eb394e9 // mla v9.4s, v7.4s, v19.4s
	// half 1, elements l >= 16
	FMOVQ 144(R5), F14
	FMOVQ 176(R5), F15
	FMOVQ 208(R5), F16
	FMOVQ 240(R5), F17
	VDUP V22.S[1], V0.S4
	VDUP V22.S[1], V1.S4
	VDUP V22.S[3], V2.S4
	VDUP V22.S[3], V3.S4
	VDUP V23.S[1], V4.S4
	VDUP V23.S[1], V5.S4
	VDUP V23.S[3], V6.S4
	VDUP V23.S[3], V7.S4
	FMOVQ 784(R1), F24
	FMOVQ 1040(R1), F25
	FMOVQ 1552(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90e364 // sdot v4.4s, v27.16b, v16.4b[0]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91e366 // sdot v6.4s, v27.16b, v17.4b[0]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8ee300 // sdot v0.4s, v24.16b, v14.4b[0]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8fe322 // sdot v2.4s, v25.16b, v15.4b[0]
	FMOVQ 800(R1), F24
	FMOVQ 1056(R1), F25
	FMOVQ 1568(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90e365 // sdot v5.4s, v27.16b, v16.4b[0]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91e367 // sdot v7.4s, v27.16b, v17.4b[0]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8ee301 // sdot v1.4s, v24.16b, v14.4b[0]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8fe323 // sdot v3.4s, v25.16b, v15.4b[0]
	FMOVQ 816(R1), F24
	FMOVQ 1072(R1), F25
	FMOVQ 1584(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0e364 // sdot v4.4s, v27.16b, v16.4b[1]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1e366 // sdot v6.4s, v27.16b, v17.4b[1]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faee300 // sdot v0.4s, v24.16b, v14.4b[1]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafe322 // sdot v2.4s, v25.16b, v15.4b[1]
	FMOVQ 832(R1), F24
	FMOVQ 1088(R1), F25
	FMOVQ 1600(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0e365 // sdot v5.4s, v27.16b, v16.4b[1]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1e367 // sdot v7.4s, v27.16b, v17.4b[1]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faee301 // sdot v1.4s, v24.16b, v14.4b[1]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafe323 // sdot v3.4s, v25.16b, v15.4b[1]
	FMOVQ 848(R1), F24
	FMOVQ 1104(R1), F25
	FMOVQ 1616(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90eb64 // sdot v4.4s, v27.16b, v16.4b[2]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91eb66 // sdot v6.4s, v27.16b, v17.4b[2]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8eeb00 // sdot v0.4s, v24.16b, v14.4b[2]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8feb22 // sdot v2.4s, v25.16b, v15.4b[2]
	FMOVQ 864(R1), F24
	FMOVQ 1120(R1), F25
	FMOVQ 1632(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4f90eb65 // sdot v5.4s, v27.16b, v16.4b[2]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4f91eb67 // sdot v7.4s, v27.16b, v17.4b[2]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4f8eeb01 // sdot v1.4s, v24.16b, v14.4b[2]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4f8feb23 // sdot v3.4s, v25.16b, v15.4b[2]
	FMOVQ 880(R1), F24
	FMOVQ 1136(R1), F25
	FMOVQ 1648(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0eb64 // sdot v4.4s, v27.16b, v16.4b[3]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1eb66 // sdot v6.4s, v27.16b, v17.4b[3]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faeeb00 // sdot v0.4s, v24.16b, v14.4b[3]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafeb22 // sdot v2.4s, v25.16b, v15.4b[3]
	FMOVQ 896(R1), F24
	FMOVQ 1152(R1), F25
	FMOVQ 1664(R1), F26
	VUSHR $4, V24.B16, V27.B16
	WORD	$0x6ebe1f5b // bit v27.16b, v26.16b, v30.16b
	WORD	$0x4fb0eb65 // sdot v5.4s, v27.16b, v16.4b[3]
	VUSHR $4, V25.B16, V27.B16
	VUSHR $2, V26.B16, V19.B16
	WORD	$0x6ebe1e7b // bit v27.16b, v19.16b, v30.16b
	WORD	$0x4fb1eb67 // sdot v7.4s, v27.16b, v17.4b[3]
	VAND V31.B16, V26.B16, V18.B16
	VSLI $4, V18.B16, V24.B16
	WORD	$0x4faeeb01 // sdot v1.4s, v24.16b, v14.4b[3]
	VAND V31.B16, V19.B16, V18.B16
	VSLI $4, V18.B16, V25.B16
	WORD	$0x4fafeb23 // sdot v3.4s, v25.16b, v15.4b[3]
	FMOVD 88(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb29408 // mla v8.4s, v0.4s, v18.4s
	WORD	$0x4eb39429 // mla v9.4s, v1.4s, v19.4s
	FMOVD 104(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb29448 // mla v8.4s, v2.4s, v18.4s
	WORD	$0x4eb39469 // mla v9.4s, v3.4s, v19.4s
	FMOVD 120(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb29488 // mla v8.4s, v4.4s, v18.4s
	WORD	$0x4eb394a9 // mla v9.4s, v5.4s, v19.4s
	FMOVD 136(R1), F18
	WORD	$0x0f08a652 // sxtl v18.8h, v18.8b
	WORD	$0x4f10a653 // sxtl2 v19.4s, v18.8h
	WORD	$0x0f10a652 // sxtl v18.4s, v18.4h
	WORD	$0x4eb294c8 // mla v8.4s, v6.4s, v18.4s
	WORD	$0x4eb394e9 // mla v9.4s, v7.4s, v19.4s
	// acc += float(isum)·(d·d_x)
	FMOVQ (R1), F10
	VLD1R (R2), [V13.S4]
	WORD	$0x0e21794b // fcvtl v11.4s, v10.4h
	WORD	$0x4e21794c // fcvtl2 v12.4s, v10.8h
	WORD	$0x6e2ddd6b // fmul v11.4s, v11.4s, v13.4s
	WORD	$0x6e2ddd8c // fmul v12.4s, v12.4s, v13.4s
	WORD	$0x4e21d908 // scvtf v8.4s, v8.4s
	WORD	$0x4e21d929 // scvtf v9.4s, v9.4s
	WORD	$0x4e2bcd1c // fmla v28.4s, v8.4s, v11.4s
	WORD	$0x4e2ccd3d // fmla v29.4s, v9.4s, v12.4s
	ADD $1680, R1
	ADD $292, R2
	SUBS $1, R3
	BNE q6loop

q6done:
	VST1 [V28.S4, V29.S4], (R0)
	RET
