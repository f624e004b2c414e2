// Command neonops writes kernels/ops_arm64.s: the NEON versions of the
// kernels package's activation quantizers (Q8_1, Q8_K, Q8_0 into GEMM
// slots), fp32→fp16 row conversion, float dots and axpys (the attention
// score and value loops), the exp of softmax, SwiGLU, GELU, the norms and
// the add of biases and residuals. Run it with go generate in kernels.
//
// Instructions the Go assembler lacks are emitted as WORD directives with
// the GNU mnemonic in a comment; TestWordEncodings (kernels/words_test.go)
// re-assembles every such comment with llvm-mc and compares the words.
//
// Register use: R0–R17 only (R18 platform, R26–R30 reserved); all V
// registers are scratch in Go's arm64 ABI.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
)

type gen struct{ b bytes.Buffer }

func (g *gen) p(format string, a ...any) { fmt.Fprintf(&g.b, "\t"+format+"\n", a...) }
func (g *gen) label(l string)            { fmt.Fprintf(&g.b, "%s:\n", l) }
func (g *gen) text(s string)             { g.b.WriteString(s) }

// enc emits one WORD: base | m<<16 | n<<5 | d with the GNU text beside it.
func (g *gen) enc(base uint32, d, n, m int, gnu string, a ...any) {
	w := base | uint32(m)<<16 | uint32(n)<<5 | uint32(d)
	fmt.Fprintf(&g.b, "\tWORD\t$0x%08x // %s\n", w, fmt.Sprintf(gnu, a...))
}

// Three-register vector ops: d = n op m.
func (g *gen) v3(base uint32, mn, arr string, d, n, m int) {
	g.enc(base, d, n, m, "%s v%d.%s, v%d.%s, v%d.%s", mn, d, arr, n, arr, m, arr)
}
func (g *gen) fadd(d, n, m int)   { g.v3(0x4e20d400, "fadd", "4s", d, n, m) }
func (g *gen) fsub(d, n, m int)   { g.v3(0x4ea0d400, "fsub", "4s", d, n, m) }
func (g *gen) fmul(d, n, m int)   { g.v3(0x6e20dc00, "fmul", "4s", d, n, m) }
func (g *gen) fmla(d, n, m int)   { g.v3(0x4e20cc00, "fmla", "4s", d, n, m) }
func (g *gen) fmls(d, n, m int)   { g.v3(0x4ea0cc00, "fmls", "4s", d, n, m) }
func (g *gen) fmax(d, n, m int)   { g.v3(0x4e20f400, "fmax", "4s", d, n, m) }
func (g *gen) fmin(d, n, m int)   { g.v3(0x4ea0f400, "fmin", "4s", d, n, m) }
func (g *gen) faddp(d, n, m int)  { g.v3(0x6e20d400, "faddp", "4s", d, n, m) }
func (g *gen) fadd2d(d, n, m int) { g.v3(0x4e60d400, "fadd", "2d", d, n, m) }
func (g *gen) fmla2d(d, n, m int) { g.v3(0x4e60cc00, "fmla", "2d", d, n, m) }
func (g *gen) fsub2d(d, n, m int) { g.v3(0x4ee0d400, "fsub", "2d", d, n, m) }
func (g *gen) addp8h(d, n, m int) { g.v3(0x4e60bc00, "addp", "8h", d, n, m) }
func (g *gen) cmhi8h(d, n, m int) { g.v3(0x6e603400, "cmhi", "8h", d, n, m) }

// fmulElem: d.4s = n.4s * m.s[0].
func (g *gen) fmulElem(d, n, m int) {
	g.enc(0x4f809000, d, n, m, "fmul v%d.4s, v%d.4s, v%d.s[0]", d, n, m)
}

// Two-register ops.
func (g *gen) fabs(d, n int)   { g.enc(0x4ea0f800, d, n, 0, "fabs v%d.4s, v%d.4s", d, n) }
func (g *gen) fcvtns(d, n int) { g.enc(0x4e21a800, d, n, 0, "fcvtns v%d.4s, v%d.4s", d, n) }
func (g *gen) fcvtzs(d, n int) { g.enc(0x4ea1b800, d, n, 0, "fcvtzs v%d.4s, v%d.4s", d, n) }
func (g *gen) xtn4h(d, n int)  { g.enc(0x0e612800, d, n, 0, "xtn v%d.4h, v%d.4s", d, n) }
func (g *gen) xtn28h(d, n int) { g.enc(0x4e612800, d, n, 0, "xtn2 v%d.8h, v%d.4s", d, n) }
func (g *gen) xtn8b(d, n int)  { g.enc(0x0e212800, d, n, 0, "xtn v%d.8b, v%d.8h", d, n) }
func (g *gen) xtn216b(d, n int) {
	g.enc(0x4e212800, d, n, 0, "xtn2 v%d.16b, v%d.8h", d, n)
}
func (g *gen) saddlp8h(d, n int)  { g.enc(0x4e202800, d, n, 0, "saddlp v%d.8h, v%d.16b", d, n) }
func (g *gen) saddlv8h(d, n int)  { g.enc(0x4e703800, d, n, 0, "saddlv s%d, v%d.8h", d, n) }
func (g *gen) fcvtn4h(d, n int)   { g.enc(0x0e216800, d, n, 0, "fcvtn v%d.4h, v%d.4s", d, n) }
func (g *gen) fcvtn28h(d, n int)  { g.enc(0x4e216800, d, n, 0, "fcvtn2 v%d.8h, v%d.4s", d, n) }
func (g *gen) fcvtl4s(d, n int)   { g.enc(0x0e217800, d, n, 0, "fcvtl v%d.4s, v%d.4h", d, n) }
func (g *gen) fcvtl24s(d, n int)  { g.enc(0x4e217800, d, n, 0, "fcvtl2 v%d.4s, v%d.8h", d, n) }
func (g *gen) fcvtl2d(d, n int)   { g.enc(0x0e617800, d, n, 0, "fcvtl v%d.2d, v%d.2s", d, n) }
func (g *gen) fcvtl22d(d, n int)  { g.enc(0x4e617800, d, n, 0, "fcvtl2 v%d.2d, v%d.4s", d, n) }
func (g *gen) fmaxv(d, n int)     { g.enc(0x6e30f800, d, n, 0, "fmaxv s%d, v%d.4s", d, n) }
func (g *gen) fminv(d, n int)     { g.enc(0x6eb0f800, d, n, 0, "fminv s%d, v%d.4s", d, n) }
func (g *gen) faddpS(d, n int)    { g.enc(0x7e30d800, d, n, 0, "faddp s%d, v%d.2s", d, n) }
func (g *gen) faddpD(d, n int)    { g.enc(0x7e70d800, d, n, 0, "faddp d%d, v%d.2d", d, n) }
func (g *gen) sshr4s1(d, n int)   { g.enc(0x4f3f0400, d, n, 0, "sshr v%d.4s, v%d.4s, #1", d, n) }
func (g *gen) dup4s(v int, r int) { g.p("VDUP R%d, V%d.S4", r, v) }
func (g *gen) sxtl4s(d, n int)    { g.enc(0x0f10a400, d, n, 0, "sxtl v%d.4s, v%d.4h", d, n) }
func (g *gen) sxtl24s(d, n int)   { g.enc(0x4f10a400, d, n, 0, "sxtl2 v%d.4s, v%d.8h", d, n) }
func (g *gen) scvtf4s(d, n int)   { g.enc(0x4e21d800, d, n, 0, "scvtf v%d.4s, v%d.4s", d, n) }
func (g *gen) shl4s5(d, n int)    { g.enc(0x4f255400, d, n, 0, "shl v%d.4s, v%d.4s, #5", d, n) }
func (g *gen) neg4s(d, n int)     { g.enc(0x6ea0b800, d, n, 0, "neg v%d.4s, v%d.4s", d, n) }

// constant loads a 32-bit pattern into every lane of V v (through R9).
func (g *gen) constant(v int, bits uint32, what string) {
	g.p("MOVW $0x%08x, R9 // %s", bits, what)
	g.dup4s(v, 9)
}

// f32 is the bit pattern of v rounded to float32 (the constants of exp.go).
func f32(v float64) uint32 { return math.Float32bits(float32(v)) }

func (g *gen) zero(v int) { g.p("VEOR V%d.B16, V%d.B16, V%d.B16", v, v, v) }

// loopStart divides the count in R c by 2^shift and opens the loop over
// it (skipped when zero); loopEnd closes it.
func (g *gen) loopStart(name string, c, shift int) {
	if shift > 0 {
		g.p("LSR $%d, R%d", shift, c)
	}
	g.p("CBZ R%d, %s_done", c, name)
	g.label(name + "_loop")
}

func (g *gen) loopEnd(name string, c int) {
	g.p("SUB $1, R%d", c)
	g.p("CBNZ R%d, %s_loop", c, name)
	g.label(name + "_done")
}

func (g *gen) fn(name, sig, frame, doc string) {
	fmt.Fprintf(&g.b, "\n// func %s%s\n%sTEXT ·%s(SB), NOSPLIT, %s\n", name, sig, doc, name, frame)
}

// fixNaN16 replaces the fp16 NaNs in V v (8 lanes) that carry a payload by
// the canonical quiet NaN of the same sign (sign|0x7E00), as
// quant.FP32ToFP16 returns: FCVTN keeps the payload's top bits. V29 holds
// 0x7FFF, V30 0x7E00, V31 0x01FF per lane; V27, V28 are clobbered.
func (g *gen) fixNaN16(v int) {
	g.p("VAND V29.B16, V%d.B16, V27.B16", v)
	g.cmhi8h(27, 27, 30) // |h| > 0x7E00: a NaN with payload bits
	g.p("VAND V31.B16, V27.B16, V27.B16")
	g.p("VAND V%d.B16, V27.B16, V28.B16", v)
	g.p("VEOR V28.B16, V%d.B16, V%d.B16", v, v) // clear the payload
}

// nanConsts16 loads the constants fixNaN16 needs.
func (g *gen) nanConsts16() {
	g.p("MOVW $0x7fff, R9")
	g.p("VDUP R9, V29.H8")
	g.p("MOVW $0x7e00, R9")
	g.p("VDUP R9, V30.H8")
	g.p("MOVW $0x01ff, R9")
	g.p("VDUP R9, V31.H8")
}

// scalarNaN16 canonicalises the fp16 bits in R r the same way (R10, R11
// clobbered).
func (g *gen) scalarNaN16(r int, l string) {
	g.p("AND $0x7fff, R%d, R10", r)
	g.p("CMPW $0x7c00, R10")
	g.p("BLS %s", l)
	g.p("AND $0x8000, R%d, R10", r)
	g.p("ORR $0x7e00, R10, R%d", r)
	g.label(l)
}

// q8Block emits the quantization of one 32-float block at R src (post-
// incremented): d = max|x|/127 in F19 (FMAXV: a NaN propagates), id = 1/d
// (0 when d is 0), q = FCVTNS(x·id) narrowed to int8 in V0 (elements
// 0..15) and V4 (16..31). It needs 127.0 in F17, 1.0 in F18 and clobbers
// V0–V16, V20.
func (g *gen) q8Block(name string, src int) {
	g.p("VLD1.P 64(R%d), [V0.S4, V1.S4, V2.S4, V3.S4]", src)
	g.p("VLD1.P 64(R%d), [V4.S4, V5.S4, V6.S4, V7.S4]", src)
	for i := 0; i < 8; i++ {
		g.fabs(8+i, i)
	}
	g.fmax(8, 8, 9)
	g.fmax(10, 10, 11)
	g.fmax(12, 12, 13)
	g.fmax(14, 14, 15)
	g.fmax(8, 8, 10)
	g.fmax(12, 12, 14)
	g.fmax(8, 8, 12)
	g.fmaxv(16, 8)
	g.p("FDIVS F17, F16, F19") // d = amax/127
	g.zero(20)
	g.p("FCMPS $(0.0), F19")
	g.p("BEQ %s_id", name)
	g.p("FDIVS F19, F18, F20") // id = 1/d
	g.label(name + "_id")
	for i := 0; i < 8; i++ {
		g.fmulElem(i, i, 20)
		g.fcvtns(i, i)
	}
	for i := 0; i < 8; i += 2 {
		g.xtn4h(i, i)
		g.xtn28h(i, i+1)
	}
	g.xtn8b(0, 0)
	g.xtn216b(0, 2)
	g.xtn8b(4, 4)
	g.xtn216b(4, 6)
}

// quantQ8_1 emits quantQ8_1NEON: R0 dst, R1 src, R2 blocks. Per block
// d = max|x|/127 (FMAXV: a NaN propagates), id = 1/d (0 when d is 0),
// q = FCVTNS(x·id) narrowed to int8, s = fp16(d·Σq).
func (g *gen) quantQ8_1() {
	const name = "quantQ8_1NEON"
	g.fn(name, "(dst *byte, src *float32, nb int)", "$0-24", "")
	g.p("MOVD dst+0(FP), R0")
	g.p("MOVD src+8(FP), R1")
	g.p("MOVD nb+16(FP), R2")
	g.p("MOVW $0x42fe0000, R5") // 127.0
	g.p("FMOVS R5, F17")
	g.p("MOVW $0x3f800000, R5") // 1.0
	g.p("FMOVS R5, F18")
	g.loopStart(name, 2, 0)
	g.q8Block(name, 1)
	g.p("FMOVQ F0, 4(R0)")
	g.p("FMOVQ F4, 20(R0)")
	// Σq of the int8 values as stored
	g.saddlp8h(1, 0)
	g.saddlp8h(5, 4)
	g.p("VADD V5.H8, V1.H8, V1.H8")
	g.saddlv8h(1, 1)
	g.p("FMOVS F1, R6")
	g.p("SCVTFWS R6, F2")
	g.p("FMULS F19, F2, F2") // s = Σq·d
	g.p("FCVTSH F19, F21")
	g.p("FMOVS F21, R6")
	g.scalarNaN16(6, name+"_dnan")
	g.p("MOVH R6, (R0)")
	g.p("FCVTSH F2, F21")
	g.p("FMOVS F21, R6")
	g.scalarNaN16(6, name+"_snan")
	g.p("MOVH R6, 2(R0)")
	g.p("ADD $36, R0")
	g.loopEnd(name, 2)
	g.p("RET")
}

// packQ8_0 emits packQ8_0NEON: R0 dst, R1 stride, R2 src, R3 blocks, R4
// −offset. Per block the instruction sequence of kernels/neon's Q8_0
// quantizer (the arm64 tiers' Q8_0: its fp16 scale unchanged, NaN payload
// included), written as a gemmActBlock slot at dst: the 32 quants, the fp16
// scale widened back to float32, and −offset·Σq over the stored int8s.
func (g *gen) packQ8_0() {
	const name = "packQ8_0NEON"
	g.fn(name, "(dst *byte, stride int, src *float32, nb int, negOffset int32)", "$0-36", "")
	g.p("MOVD dst+0(FP), R0")
	g.p("MOVD stride+8(FP), R1")
	g.p("MOVD src+16(FP), R2")
	g.p("MOVD nb+24(FP), R3")
	g.p("MOVW negOffset+32(FP), R4")
	g.p("MOVW $0x42fe0000, R5") // 127.0
	g.p("FMOVS R5, F17")
	g.p("MOVW $0x3f800000, R5") // 1.0
	g.p("FMOVS R5, F18")
	g.loopStart(name, 3, 0)
	g.q8Block(name, 2)
	g.p("FCVTSH F19, F21")
	g.p("FCVTHS F21, F21")
	g.p("FMOVS F21, 32(R0)")
	g.p("FMOVQ F0, (R0)")
	g.p("FMOVQ F4, 16(R0)")
	g.saddlp8h(1, 0)
	g.saddlp8h(5, 4)
	g.p("VADD V5.H8, V1.H8, V1.H8")
	g.saddlv8h(1, 1)
	g.p("FMOVS F1, R6")
	g.p("MULW R4, R6, R6")
	g.p("MOVW R6, 36(R0)")
	g.p("ADD R1, R0")
	g.loopEnd(name, 3)
	g.p("RET")
}

// quantQ8_K emits quantQ8_KNEON: R0 dst, R1 src, R2 blocks of 256, R6
// the stride between blocks in dst, R7 the layout (layoutQ8_K, or a
// K-quant group slot with pair sums or corrections, actpack.go); it
// returns the number of blocks done. As ref.QuantizeQ8_K: max is the x
// with the largest |x|; a block of zeros is all zero; otherwise iscale =
// −127/max, q = FCVTNS(iscale·x), d = 1/iscale, and bsums are the int16
// sums of 16 quants. A finite iscale gives |iscale·x| ≤ 127·(1+2⁻²⁴)² <
// 127.5, so the reference's clamp at 127 never acts. A block with a NaN
// (FMAX/FMIN propagate it), whose largest and smallest value have the same
// magnitude (the reference takes the first of them) or whose iscale
// overflows (|max| < 127/MaxFloat32: there the clamp acts) stops the
// kernel: the caller runs the generic code on that block and calls again
// after it.
func (g *gen) quantQ8_K() {
	const name = "quantQ8_KNEON"
	g.fn(name, "(dst *byte, src *float32, nb, stride, layout int) int", "$0-48", "")
	g.p("MOVD dst+0(FP), R0")
	g.p("MOVD src+8(FP), R1")
	g.p("MOVD nb+16(FP), R2")
	g.p("MOVD stride+24(FP), R6")
	g.p("MOVD layout+32(FP), R7")
	// R8: d, R11: the quants, relative to R0
	g.p("MOVD $0, R8")
	g.p("MOVD $4, R11")
	g.p("CBZ R7, %s_layout", name)
	g.p("MOVD $256, R8")
	g.p("MOVD $0, R11")
	g.label(name + "_layout")
	g.p("MOVD R2, R12")
	g.p("MOVW $0xc2fe0000, R5") // -127.0
	g.p("FMOVS R5, F26")
	g.p("MOVW $0x3f800000, R5") // 1.0
	g.p("FMOVS R5, F27")
	g.p("MOVW $0x7f800000, R5") // +Inf
	g.p("FMOVS R5, F28")
	g.loopStart(name, 2, 0)
	// pass 1: largest and smallest value
	g.p("MOVD R1, R3")
	for c := 0; c < 4; c++ {
		g.p("VLD1.P 64(R3), [V0.S4, V1.S4, V2.S4, V3.S4]")
		g.p("VLD1.P 64(R3), [V4.S4, V5.S4, V6.S4, V7.S4]")
		g.p("VLD1.P 64(R3), [V8.S4, V9.S4, V10.S4, V11.S4]")
		g.p("VLD1.P 64(R3), [V12.S4, V13.S4, V14.S4, V15.S4]")
		if c == 0 {
			for i := 0; i < 4; i++ {
				g.fmax(16+i, i, 4+i)
				g.fmin(20+i, i, 4+i)
			}
		} else {
			for i := 0; i < 4; i++ {
				g.fmax(16+i, 16+i, i)
				g.fmin(20+i, 20+i, i)
				g.fmax(16+i, 16+i, 4+i)
				g.fmin(20+i, 20+i, 4+i)
			}
		}
		for i := 0; i < 4; i++ {
			g.fmax(16+i, 16+i, 8+i)
			g.fmin(20+i, 20+i, 8+i)
			g.fmax(16+i, 16+i, 12+i)
			g.fmin(20+i, 20+i, 12+i)
		}
	}
	g.fmax(16, 16, 17)
	g.fmax(18, 18, 19)
	g.fmax(16, 16, 18)
	g.fmin(20, 20, 21)
	g.fmin(22, 22, 23)
	g.fmin(20, 20, 22)
	g.fmaxv(16, 16) // F16 = largest value
	g.fminv(20, 20) // F20 = smallest value
	g.p("FNEGS F20, F21")
	// F16 > −F20: max = F16; F16 < −F20: max = F20; equal: zeros, or a
	// tie left to the caller; unordered (a NaN): left to the caller. The
	// rare paths sit after the loop.
	g.p("FCMPS F21, F16")
	g.p("BVS %s_stop", name)
	g.p("BMI %s_min", name)
	g.p("BEQ %s_tie", name)
	g.p("FMOVS F16, F22")
	g.label(name + "_scale")
	g.p("FDIVS F22, F26, F24") // iscale = −127/max
	g.p("FABSS F24, F23")
	g.p("FCMPS F28, F23")
	g.p("BEQ %s_stop", name)
	g.p("FDIVS F24, F27, F25") // d = 1/iscale
	g.p("ADD R8, R0, R9")
	g.p("FMOVS F25, (R9)")
	// pass 2: quantize 16 values at a time into V8..V23
	g.p("MOVD R1, R3")
	for c := 0; c < 16; c++ {
		g.p("VLD1.P 64(R3), [V0.S4, V1.S4, V2.S4, V3.S4]")
		for i := 0; i < 4; i++ {
			g.fmulElem(i, i, 24)
			g.fcvtns(i, i)
		}
		g.xtn4h(0, 0)
		g.xtn28h(0, 1)
		g.xtn4h(2, 2)
		g.xtn28h(2, 3)
		g.xtn8b(8+c, 0)
		g.xtn216b(8+c, 2)
	}
	g.p("ADD R11, R0, R4")
	g.p("VST1.P [V8.B16, V9.B16, V10.B16, V11.B16], 64(R4)")
	g.p("VST1.P [V12.B16, V13.B16, V14.B16, V15.B16], 64(R4)")
	g.p("VST1.P [V16.B16, V17.B16, V18.B16, V19.B16], 64(R4)")
	g.p("VST1.P [V20.B16, V21.B16, V22.B16, V23.B16], 64(R4)")
	// bsums: pairwise widening add, then an ADDP tree keeps group order
	for c := 0; c < 16; c++ {
		g.saddlp8h(8+c, 8+c)
	}
	for c := 0; c < 16; c += 2 {
		g.addp8h(8+c/2, 8+c, 9+c)
	}
	for c := 0; c < 8; c += 2 {
		g.addp8h(8+c/2, 8+c, 9+c)
	}
	g.addp8h(8, 8, 9)
	g.addp8h(9, 10, 11)
	// V8, V9: bsums 0..7, 8..15 as int16, stored at 260 in every layout
	g.p("ADD $260, R0, R4")
	g.p("CBNZ R7, %s_slot", name)
	g.p("VST1 [V8.B16, V9.B16], (R4)")
	g.label(name + "_next")
	g.p("ADD R6, R0")
	g.p("ADD $1024, R1")
	g.loopEnd(name, 2)
	g.p("MOVD R12, ret+40(FP)")
	g.p("RET")
	g.label(name + "_slot")
	g.p("CMP $1, R7")
	g.p("BNE %s_corr", name)
	// Q4_K/Q5_K: float32(bsum[2j]+bsum[2j+1]) for j < 8, then zeros
	g.addp8h(10, 8, 9)
	g.sxtl4s(11, 10)
	g.sxtl24s(12, 10)
	g.scvtf4s(11, 11)
	g.scvtf4s(12, 12)
	g.zero(13)
	g.zero(14)
	g.p("VST1 [V11.S4, V12.S4, V13.S4, V14.S4], (R4)")
	g.p("B %s_next", name)
	g.label(name + "_corr")
	// Q6_K: −32·bsum[j] as int32
	g.sxtl4s(10, 8)
	g.sxtl24s(11, 8)
	g.sxtl4s(12, 9)
	g.sxtl24s(13, 9)
	for v := 10; v < 14; v++ {
		g.shl4s5(v, v)
		g.neg4s(v, v)
	}
	g.p("VST1 [V10.S4, V11.S4, V12.S4, V13.S4], (R4)")
	g.p("B %s_next", name)
	g.label(name + "_min")
	g.p("FMOVS F20, F22")
	g.p("B %s_scale", name)
	g.label(name + "_tie")
	g.p("FCMPS $(0.0), F16")
	g.p("BEQ %s_zero", name)
	g.label(name + "_stop")
	g.p("SUB R2, R12, R12")
	g.p("MOVD R12, ret+40(FP)")
	g.p("RET")
	g.label(name + "_zero")
	for i := 0; i < 4; i++ {
		g.zero(i)
	}
	g.p("MOVD R0, R4")
	for i := 0; i < 4; i++ {
		g.p("VST1.P [V0.B16, V1.B16, V2.B16, V3.B16], 64(R4)")
	}
	g.p("VST1 [V0.B16, V1.B16], (R4)")
	g.p("FMOVQ F0, 276(R0)")
	g.p("CBZ R7, %s_next", name)
	g.p("FMOVQ F0, 292(R0)") // a group slot: 324 bytes
	g.p("FMOVQ F0, 308(R0)")
	g.p("B %s_next", name)
}

// fp32ToFP16 emits fp32ToFP16NEON: n (a multiple of 16) float32 → fp16
// bits, rounding to nearest even (FCVTN), NaNs as quant.FP32ToFP16.
func (g *gen) fp32ToFP16() {
	const name = "fp32ToFP16NEON"
	g.fn(name, "(dst *uint16, src *float32, n int)", "$0-24", "")
	g.p("MOVD dst+0(FP), R0")
	g.p("MOVD src+8(FP), R1")
	g.p("MOVD n+16(FP), R2")
	g.nanConsts16()
	g.loopStart(name, 2, 4)
	g.p("VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]")
	g.fcvtn4h(4, 0)
	g.fcvtn28h(4, 1)
	g.fcvtn4h(5, 2)
	g.fcvtn28h(5, 3)
	g.fixNaN16(4)
	g.fixNaN16(5)
	g.p("VST1.P [V4.H8, V5.H8], 32(R0)")
	g.loopEnd(name, 2)
	g.p("RET")
}

// reduce4 sums V a..a+3 into a float32 in F a: ((a0+a1)+(a2+a3)) lane-wise,
// then pairwise.
func (g *gen) reduce4(a int) {
	g.fadd(a, a, a+1)
	g.fadd(a+2, a+2, a+3)
	g.fadd(a, a, a+2)
	g.faddp(a, a, a)
	g.faddpS(a, a)
}

// dotF32 emits dotF32NEON: Σ a[i]·b[i] over n (a multiple of 16) with four
// vector accumulators (FMLA latency).
func (g *gen) dotF32() {
	const name = "dotF32NEON"
	g.fn(name, "(a, b *float32, n int) float32", "$0-28", "")
	g.p("MOVD a+0(FP), R0")
	g.p("MOVD b+8(FP), R1")
	g.p("MOVD n+16(FP), R2")
	for i := 16; i < 20; i++ {
		g.zero(i)
	}
	g.loopStart(name, 2, 4)
	g.p("VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]")
	g.p("VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]")
	for i := 0; i < 4; i++ {
		g.fmla(16+i, i, 4+i)
	}
	g.loopEnd(name, 2)
	g.reduce4(16)
	g.p("FMOVS F16, ret+24(FP)")
	g.p("RET")
}

// dotF16 emits dotF16NEON: Σ fp16(w[i])·x[i] over n (a multiple of 16).
func (g *gen) dotF16() {
	const name = "dotF16NEON"
	g.fn(name, "(w *uint16, x *float32, n int) float32", "$0-28", "")
	g.p("MOVD w+0(FP), R0")
	g.p("MOVD x+8(FP), R1")
	g.p("MOVD n+16(FP), R2")
	for i := 16; i < 20; i++ {
		g.zero(i)
	}
	g.loopStart(name, 2, 4)
	g.p("VLD1.P 32(R0), [V8.H8, V9.H8]")
	g.p("VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]")
	g.fcvtl4s(0, 8)
	g.fcvtl24s(1, 8)
	g.fcvtl4s(2, 9)
	g.fcvtl24s(3, 9)
	for i := 0; i < 4; i++ {
		g.fmla(16+i, i, 4+i)
	}
	g.loopEnd(name, 2)
	g.reduce4(16)
	g.p("FMOVS F16, ret+24(FP)")
	g.p("RET")
}

// axpy emits axpyF32NEON / axpyF16NEON: y += a·x over n (a multiple of
// 16), one fused multiply-add per element.
func (g *gen) axpy(half bool) {
	name, xt := "axpyF32NEON", "*float32"
	if half {
		name, xt = "axpyF16NEON", "*uint16"
	}
	g.fn(name, "(y *float32, x "+xt+", n int, a float32)", "$0-28", "")
	g.p("MOVD y+0(FP), R0")
	g.p("MOVD x+8(FP), R1")
	g.p("MOVD n+16(FP), R2")
	g.p("FMOVS a+24(FP), F31")
	g.p("VDUP V31.S[0], V31.S4")
	g.p("MOVD R0, R3")
	g.loopStart(name, 2, 4)
	if half {
		g.p("VLD1.P 32(R1), [V8.H8, V9.H8]")
		g.fcvtl4s(4, 8)
		g.fcvtl24s(5, 8)
		g.fcvtl4s(6, 9)
		g.fcvtl24s(7, 9)
	} else {
		g.p("VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]")
	}
	g.p("VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]")
	for i := 0; i < 4; i++ {
		g.fmla(i, 4+i, 31)
	}
	g.p("VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R3)")
	g.loopEnd(name, 2)
	g.p("RET")
}

// expConsts loads the constants of expf (exp.go) into V17–V30.
func (g *gen) expConsts() {
	consts := []struct {
		v    int
		bits uint32
		what string
	}{
		{17, f32(-104), "expLo"},
		{18, f32(89), "expHi"},
		{19, f32(1.44269504088896341), "log2e"},
		{20, f32(0x1.8p23), "1.5·2²³"},
		{21, f32(0.693359375), "C1"},
		{22, f32(-2.12194440e-4), "C2"},
		{23, f32(1.9875691500e-4), "P0"},
		{24, f32(1.3981999507e-3), "P1"},
		{25, f32(8.3334519073e-3), "P2"},
		{26, f32(4.1665795894e-2), "P3"},
		{27, f32(1.6666665459e-1), "P4"},
		{28, f32(5.0000001201e-1), "P5"},
		{29, f32(1), "1"},
		{30, 127, "exponent bias"},
	}
	for _, c := range consts {
		g.constant(c.v, c.bits, c.what)
	}
}

// exp writes e^x of V0 (and V1 when k is 2) to V4 (V5): the steps of expf
// (exp.go) four lanes at a time, with fused multiply-adds where the Go
// compiler fuses them on arm64, so the result is expf's bit for bit. It
// needs expConsts and clobbers V0–V11.
func (g *gen) exp(k int) {
	xs := []int{0, 1}[:k]
	// clamp; NaN stays NaN through FMAX/FMIN
	for _, x := range xs {
		g.fmax(x, x, 17)
		g.fmin(x, x, 18)
	}
	// n = (x·log2e + 1.5·2²³) − 1.5·2²³ in V2, V3
	for i, x := range xs {
		n := 2 + i
		g.p("VORR V20.B16, V20.B16, V%d.B16", n)
		g.fmla(n, x, 19)
		g.fsub(n, n, 20)
	}
	// r = x − n·C1 − n·C2 (in place of x)
	for i, x := range xs {
		g.fmls(x, 2+i, 21)
		g.fmls(x, 2+i, 22)
	}
	// p = P0; p = p·r + Pk, k = 1..5: each step copies Pk into the
	// register the previous step did not write (V4/V6, V5/V7) and
	// accumulates into it; the fifth lands in V4 (V5).
	for i, x := range xs {
		cur := 23
		for k := 24; k <= 28; k++ {
			dst := 4 + i
			if k%2 == 1 {
				dst = 6 + i
			}
			g.p("VORR V%d.B16, V%d.B16, V%d.B16", k, k, dst)
			g.fmla(dst, cur, x)
			cur = dst
		}
		// p = (p·r)·r + r + 1
		p, t := 4+i, 6+i
		g.fmul(p, p, x)
		g.p("VORR V%d.B16, V%d.B16, V%d.B16", x, x, t)
		g.fmla(t, p, x)
		g.fadd(p, t, 29)
	}
	// 2ⁿ as 2^(n>>1)·2^(n−n>>1)
	for i := range xs {
		n, a, b := 2+i, 8+2*i, 9+2*i
		g.fcvtzs(n, n)
		g.sshr4s1(a, n)
		g.p("VSUB V%d.S4, V%d.S4, V%d.S4", a, n, b)
		g.p("VADD V30.S4, V%d.S4, V%d.S4", a, a)
		g.p("VADD V30.S4, V%d.S4, V%d.S4", b, b)
		g.p("VSHL $23, V%d.S4, V%d.S4", a, a)
		g.p("VSHL $23, V%d.S4, V%d.S4", b, b)
		g.fmul(4+i, 4+i, a)
		g.fmul(4+i, 4+i, b)
	}
}

// expSub emits expSubNEON: s[i] = e^(s[i]−m) over n (a multiple of 8),
// returning Σ.
func (g *gen) expSub() {
	const name = "expSubNEON"
	g.fn(name, "(s *float32, n int, m float32) float32", "$0-28", "")
	g.p("MOVD s+0(FP), R0")
	g.p("MOVD n+8(FP), R2")
	g.p("FMOVS m+16(FP), F16")
	g.p("VDUP V16.S[0], V16.S4")
	g.expConsts()
	g.zero(31) // sum
	g.p("MOVD R0, R3")
	g.loopStart(name, 2, 3)
	g.p("VLD1.P 32(R0), [V0.S4, V1.S4]")
	g.fsub(0, 0, 16)
	g.fsub(1, 1, 16)
	g.exp(2)
	g.p("VST1.P [V4.S4, V5.S4], 32(R3)")
	g.fadd(31, 31, 4)
	g.fadd(31, 31, 5)
	g.loopEnd(name, 2)
	g.faddp(31, 31, 31)
	g.faddpS(31, 31)
	g.p("FMOVS F31, ret+24(FP)")
	g.p("RET")
}

func (g *gen) fneg(d, n int)    { g.enc(0x6ea0f800, d, n, 0, "fneg v%d.4s, v%d.4s", d, n) }
func (g *gen) fdiv(d, n, m int) { g.v3(0x6e20fc00, "fdiv", "4s", d, n, m) }

// swiGLU emits swiGLUNEON: dst = gate/(1 + e^(−gate))·up over n (a
// multiple of 8), silu's steps (ops.go) with the exp of expSub; dst may be
// gate or up.
func (g *gen) swiGLU() {
	const name = "swiGLUNEON"
	g.fn(name, "(dst, gate, up *float32, n int)", "$0-32", "")
	g.p("MOVD dst+0(FP), R0")
	g.p("MOVD gate+8(FP), R1")
	g.p("MOVD up+16(FP), R3")
	g.p("MOVD n+24(FP), R2")
	g.expConsts()
	g.loopStart(name, 2, 3)
	g.p("VLD1.P 32(R1), [V12.S4, V13.S4]")
	g.p("VLD1.P 32(R3), [V14.S4, V15.S4]")
	g.fneg(0, 12)
	g.fneg(1, 13)
	g.exp(2)
	for i := 0; i < 2; i++ {
		g.fadd(4+i, 4+i, 29)   // 1 + e^(−gate)
		g.fdiv(4+i, 12+i, 4+i) // silu(gate)
		g.fmul(4+i, 4+i, 14+i) // ·up
	}
	g.p("VST1.P [V4.S4, V5.S4], 32(R0)")
	g.loopEnd(name, 2)
	g.p("RET")
}

// By-element float32 ops: d.4s = n.4s op m.s[i].
func (g *gen) byElem(base uint32, mn string, d, n, m, i int) {
	w := base | uint32(i&1)<<21 | uint32(i>>1)<<11
	g.enc(w, d, n, m, "%s v%d.4s, v%d.4s, v%d.s[%d]", mn, d, n, m, i)
}
func (g *gen) fmulE(d, n, m, i int) { g.byElem(0x4f809000, "fmul", d, n, m, i) }
func (g *gen) fmlaE(d, n, m, i int) { g.byElem(0x4f801000, "fmla", d, n, m, i) }
func (g *gen) fmlsE(d, n, m, i int) { g.byElem(0x4f805000, "fmls", d, n, m, i) }

func (g *gen) frintn(d, n int)   { g.enc(0x4e218800, d, n, 0, "frintn v%d.4s, v%d.4s", d, n) }
func (g *gen) fcmltz(d, n int)   { g.enc(0x4ea0e800, d, n, 0, "fcmlt v%d.4s, v%d.4s, #0.0", d, n) }
func (g *gen) fcmgt(d, n, m int) { g.v3(0x6ea0e400, "fcmgt", "4s", d, n, m) }
func (g *gen) bsl(d, n, m int)   { g.v3(0x6e601c00, "bsl", "16b", d, n, m) }
func (g *gen) dupE(d, m, i int)  { g.p("VDUP V%d.S[%d], V%d.S4", m, i, d) }
func (g *gen) mov(d, n int)      { g.p("VORR V%d.B16, V%d.B16, V%d.B16", n, n, d) }
func (g *gen) fmulV(d, n, m int) { g.fmul(d, n, m) }

// The float32 constants of gelu32 (kernels/gelu.go) and expf (exp.go),
// four to a register (V23–V28, read by element), then 1.0 and the int32
// exponent bias 127 in every lane (V29, V30); table geluf<>.
var geluConsts = [][4]uint32{
	{f32(1 / math.Sqrt2), f32(-0.5), f32(1.44269504088896341), f32(0.693359375)},                              // V23: 1/√2, −½, log2e, C1
	{f32(-2.12194440e-4), f32(1.9875691500e-4), f32(1.3981999507e-3), f32(8.3334519073e-3)},                   // V24: C2, P0, P1, P2
	{f32(4.1665795894e-2), f32(1.6666665459e-1), f32(5.0000001201e-1), f32(0.365)},                            // V25: P3, P4, P5, a
	{f32(0.03495370224118233), f32(-0.1802862137556076), f32(0.32002919912338257), f32(-0.23615773022174835)}, // V26: G9..G6
	{f32(0.2272109091281891), f32(0.017983440309762955), f32(0.11285962909460068), f32(0.10018831491470337)},  // V27: G5..G2
	{f32(0.10322986543178558), f32(-1.1112427273474168e-05), f32(9.3), f32(1)},                                // V28: G1, G0, zmax, 1
	{f32(1), f32(1), f32(1), f32(1)}, // V29
	{127, 127, 127, 127},             // V30
}

// geluTable emits geluf<>.
func (g *gen) geluTable() {
	g.text("\n// gelu32's float32 constants (kernels/gelu.go): V23–V30 of geluNEON\n")
	for i, v := range geluConsts {
		for k, bits := range v {
			fmt.Fprintf(&g.b, "DATA geluf<>+%d(SB)/4, $0x%08x\n", 16*i+4*k, bits)
		}
	}
	fmt.Fprintf(&g.b, "GLOBL geluf<>(SB), RODATA|NOPTR, $%d\n", 16*len(geluConsts))
}

// geluBody computes gelu32 of V0 and V1 (two streams of four lanes; the
// register of a stream-0 value r is r, of stream 1 r+1) into V18, V19:
// the steps of gelu32 with the same fused operations (FMLA/FMLS by
// element for fma32), so the result is gelu32's bit for bit (up to
// fma32's rare double rounding). x < 0 and
// z > 9.3 are chosen per lane with BSL; a NaN fails both and stays NaN.
func (g *gen) geluBody() {
	const (
		X, Z, U, L, N, P, Q, T, G, M = 0, 2, 4, 6, 8, 10, 12, 14, 16, 18
		k0, k1, k2, k3, k4, k5       = 23, 24, 25, 26, 27, 28
		one, bias, zero              = 29, 30, 31
	)
	both := func(f func(s int)) { f(0); f(1) }
	both(func(s int) { g.fabs(Z+s, X+s); g.fmulE(Z+s, Z+s, k0, 0) }) // z
	both(func(s int) {
		g.fmulV(U+s, X+s, X+s) // h
		g.fneg(L+s, U+s)
		g.fmla(L+s, X+s, X+s)    // l = x·x − h, fused
		g.fmulE(U+s, U+s, k0, 1) // u = −h/2
		g.fmulE(L+s, L+s, k0, 1) // −l/2
	})
	// e^u: n = round(u·log2e), r = u − n·C1 − n·C2, Cephes' polynomial
	both(func(s int) {
		g.fmulE(N+s, U+s, k0, 2)
		g.frintn(N+s, N+s)
		g.fmlsE(U+s, N+s, k0, 3)
		g.fmlsE(U+s, N+s, k1, 0)
	})
	both(func(s int) {
		g.dupE(P+s, k1, 1) // P0
		cur, other := P+s, Q+s
		for _, c := range [][2]int{{k1, 2}, {k1, 3}, {k2, 0}, {k2, 1}, {k2, 2}} {
			g.dupE(other, c[0], c[1])
			g.fmla(other, cur, U+s)
			cur, other = other, cur
		}
		// cur is Q (five steps from P): p = fma(p, r·r, r) + 1 into P
		g.fmulV(T+s, U+s, U+s)
		g.mov(P+s, U+s)
		g.fmla(P+s, Q+s, T+s)
		g.fadd(P+s, P+s, one)
		// ·2ⁿ, then ·(1 − l/2) fused
		g.fcvtzs(N+s, N+s)
		g.p("VADD V%d.S4, V%d.S4, V%d.S4", bias, N+s, N+s)
		g.p("VSHL $23, V%d.S4, V%d.S4", N+s, N+s)
		g.fmulV(P+s, P+s, N+s)
		g.fmla(P+s, P+s, L+s)
	})
	// t = 1/(1 + a·z), G(t), q = G·e^(−x²/2)
	both(func(s int) {
		g.mov(T+s, one)
		g.fmlaE(T+s, Z+s, k2, 3)
		g.fdiv(T+s, one, T+s)
	})
	both(func(s int) {
		g.dupE(G+s, k3, 0)
		cur, other := G+s, Q+s
		for _, c := range [][2]int{{k3, 1}, {k3, 2}, {k3, 3}, {k4, 0}, {k4, 1}, {k4, 2}, {k4, 3}, {k5, 0}, {k5, 1}} {
			g.dupE(other, c[0], c[1])
			g.fmla(other, cur, T+s)
			cur, other = other, cur
		}
		// nine steps from G: cur is Q
		g.fmulV(Q+s, Q+s, P+s) // q
		g.fsub(G+s, one, Q+s)  // 1 − q
		g.fcmltz(M+s, X+s)
		g.bsl(M+s, Q+s, G+s) // x < 0 ? q : 1 − q
		g.fmulV(Q+s, X+s, M+s)
		// z > 9.3: max(x, 0)
		g.dupE(T+s, k5, 2)
		g.fcmgt(M+s, Z+s, T+s)
		g.fmax(T+s, X+s, zero)
		g.bsl(M+s, T+s, Q+s)
	})
}

// gelu emits geluNEON: dst = gelu32(x), or gelu32(x + b) when b is not
// nil, over n (a multiple of 8) floats; dst may be x.
func (g *gen) gelu() {
	const name = "geluNEON"
	g.fn(name, "(dst, x, b *float32, n int)", "$0-32", "")
	g.p("MOVD dst+0(FP), R0")
	g.p("MOVD x+8(FP), R1")
	g.p("MOVD b+16(FP), R3")
	g.p("MOVD n+24(FP), R2")
	g.p("MOVD $geluf<>(SB), R5")
	g.p("VLD1.P 64(R5), [V23.S4, V24.S4, V25.S4, V26.S4]")
	g.p("VLD1 (R5), [V27.S4, V28.S4, V29.S4, V30.S4]")
	g.zero(31)
	g.p("CBNZ R3, %s_bias", name)
	g.loopStart(name, 2, 3)
	g.p("VLD1.P 32(R1), [V0.S4, V1.S4]")
	g.geluBody()
	g.p("VST1.P [V18.S4, V19.S4], 32(R0)")
	g.loopEnd(name, 2)
	g.p("RET")
	g.label(name + "_bias")
	g.loopStart(name+"_b", 2, 3)
	g.p("VLD1.P 32(R1), [V0.S4, V1.S4]")
	g.p("VLD1.P 32(R3), [V2.S4, V3.S4]")
	g.fadd(0, 0, 2)
	g.fadd(1, 1, 3)
	g.geluBody()
	g.p("VST1.P [V18.S4, V19.S4], 32(R0)")
	g.loopEnd(name+"_b", 2)
	g.p("RET")
}

// fmlaElem: d.4s += n.4s * m.s[0].
func (g *gen) fmlaElem(d, n, m int) {
	g.enc(0x4f801000, d, n, m, "fmla v%d.4s, v%d.4s, v%d.s[0]", d, n, m)
}

// fmaxnmS: Sd = maxNum(Sn, Sm) (a NaN operand loses).
func (g *gen) fmaxnmS(d, n, m int) {
	g.enc(0x1e206800, d, n, m, "fmaxnm s%d, s%d, s%d", d, n, m)
}

// loadRow16 loads 16 elements at R r (post-incremented) into V0..V3 as
// float32: fp16 through V8, V9 and FCVTL.
func (g *gen) loadRow16(r int, half bool) {
	if !half {
		g.p("VLD1.P 64(R%d), [V0.S4, V1.S4, V2.S4, V3.S4]", r)
		return
	}
	g.p("VLD1.P 32(R%d), [V8.H8, V9.H8]", r)
	g.fcvtl4s(0, 8)
	g.fcvtl24s(1, 8)
	g.fcvtl4s(2, 9)
	g.fcvtl24s(3, 9)
}

// scores emits scoresF32NEON / scoresF16NEON: for each of rows KV rows
// (ldk elements apart) s[t] = scale·(q·k_t) over n (a multiple of 16)
// elements, the dot as dotF32NEON/dotF16NEON sums it; returns the largest
// s[t] (−Inf for none; a NaN score never wins, as in the generic code).
func (g *gen) scores(half bool) {
	name, kt, es := "scoresF32NEON", "*float32", 4
	if half {
		name, kt, es = "scoresF16NEON", "*uint16", 2
	}
	g.fn(name, "(s *float32, q *float32, k "+kt+", ldk, rows, n int, scale float32) float32", "$0-60", "")
	g.p("MOVD s+0(FP), R0")
	g.p("MOVD q+8(FP), R1")
	g.p("MOVD k+16(FP), R2")
	g.p("MOVD ldk+24(FP), R3")
	g.p("MOVD rows+32(FP), R4")
	g.p("MOVD n+40(FP), R5")
	g.p("FMOVS scale+48(FP), F31")
	g.p("LSL $%d, R3", es/2)
	g.p("LSR $4, R5")
	g.p("MOVW $0xff800000, R9") // −Inf
	g.p("FMOVS R9, F29")
	g.loopStart(name, 4, 0)
	g.p("MOVD R1, R6")
	g.p("MOVD R2, R7")
	g.p("MOVD R5, R8")
	for i := 16; i < 20; i++ {
		g.zero(i)
	}
	g.label(name + "_dot")
	g.loadRow16(7, half)
	g.p("VLD1.P 64(R6), [V4.S4, V5.S4, V6.S4, V7.S4]")
	for i := 0; i < 4; i++ {
		g.fmla(16+i, i, 4+i)
	}
	g.p("SUB $1, R8")
	g.p("CBNZ R8, %s_dot", name)
	g.reduce4(16)
	g.p("FMULS F31, F16, F16")
	g.p("FMOVS F16, (R0)")
	g.p("ADD $4, R0")
	g.fmaxnmS(29, 29, 16)
	g.p("ADD R3, R2")
	g.loopEnd(name, 4)
	g.p("FMOVS F29, ret+56(FP)")
	g.p("RET")
}

// weighted emits weightedF32NEON / weightedF16NEON: y += Σ_t p[t]·v_t over
// rows KV rows (ldv elements apart) and n (a multiple of 16) elements, 16
// at a time with that part of y held in V16..V19 over all rows; each
// element's multiply-adds are fused and in row order, as axpy's.
func (g *gen) weighted(half bool) {
	name, vt, es := "weightedF32NEON", "*float32", 4
	if half {
		name, vt, es = "weightedF16NEON", "*uint16", 2
	}
	g.fn(name, "(y *float32, p *float32, v "+vt+", ldv, rows, n int)", "$0-48", "")
	g.p("MOVD y+0(FP), R0")
	g.p("MOVD p+8(FP), R1")
	g.p("MOVD v+16(FP), R2")
	g.p("MOVD ldv+24(FP), R3")
	g.p("MOVD rows+32(FP), R4")
	g.p("MOVD n+40(FP), R5")
	g.p("LSL $%d, R3", es/2)
	g.p("CBZ R4, %s_done", name)
	g.loopStart(name, 5, 4)
	g.p("VLD1 (R0), [V16.S4, V17.S4, V18.S4, V19.S4]")
	g.p("MOVD R1, R6")
	g.p("MOVD R2, R7")
	g.p("MOVD R4, R8")
	g.label(name + "_row")
	g.p("FMOVS.P 4(R6), F20")
	g.p("MOVD R7, R10")
	g.loadRow16(10, half)
	for i := 0; i < 4; i++ {
		g.fmlaElem(16+i, i, 20)
	}
	g.p("ADD R3, R7")
	g.p("SUB $1, R8")
	g.p("CBNZ R8, %s_row", name)
	g.p("VST1.P [V16.S4, V17.S4, V18.S4, V19.S4], 64(R0)")
	g.p("ADD $%d, R2", 16*es)
	g.loopEnd(name, 5)
	g.p("RET")
}

// sumsF64 emits sumF64NEON (Σ x) and sumSqF64NEON (Σ (x−c)², c a float64)
// over n (a multiple of 8), in float64 with four two-lane accumulators.
func (g *gen) sumsF64(sq bool) {
	name, sig, frame := "sumF64NEON", "(x *float32, n int) float64", "$0-24"
	if sq {
		name, sig, frame = "sumSqF64NEON", "(x *float32, n int, c float64) float64", "$0-32"
	}
	g.fn(name, sig, frame, "")
	g.p("MOVD x+0(FP), R0")
	g.p("MOVD n+8(FP), R2")
	ret := "ret+16(FP)"
	if sq {
		g.p("FMOVD c+16(FP), F20")
		g.p("VDUP V20.D[0], V20.D2")
		ret = "ret+24(FP)"
	}
	for i := 16; i < 20; i++ {
		g.zero(i)
	}
	g.loopStart(name, 2, 3)
	g.p("VLD1.P 32(R0), [V0.S4, V1.S4]")
	g.fcvtl2d(2, 0)
	g.fcvtl22d(3, 0)
	g.fcvtl2d(4, 1)
	g.fcvtl22d(5, 1)
	for i := 0; i < 4; i++ {
		if sq {
			g.fsub2d(2+i, 2+i, 20)
			g.fmla2d(16+i, 2+i, 2+i)
		} else {
			g.fadd2d(16+i, 16+i, 2+i)
		}
	}
	g.loopEnd(name, 2)
	g.fadd2d(16, 16, 17)
	g.fadd2d(18, 18, 19)
	g.fadd2d(16, 16, 18)
	g.faddpD(16, 16)
	g.p("FMOVD F16, %s", ret)
	g.p("RET")
}

// scaleMul emits scaleMulNEON: dst = (x·scale)·w over n (a multiple of 8),
// RMSNorm's second pass.
func (g *gen) scaleMul() {
	const name = "scaleMulNEON"
	g.fn(name, "(dst, x, w *float32, n int, scale float32)", "$0-36", "")
	g.p("MOVD dst+0(FP), R0")
	g.p("MOVD x+8(FP), R1")
	g.p("MOVD w+16(FP), R2")
	g.p("MOVD n+24(FP), R3")
	g.p("FMOVS scale+32(FP), F31")
	g.loopStart(name, 3, 3)
	g.p("VLD1.P 32(R1), [V0.S4, V1.S4]")
	g.p("VLD1.P 32(R2), [V2.S4, V3.S4]")
	g.fmulElem(0, 0, 31)
	g.fmulElem(1, 1, 31)
	g.fmul(0, 0, 2)
	g.fmul(1, 1, 3)
	g.p("VST1.P [V0.S4, V1.S4], 32(R0)")
	g.loopEnd(name, 3)
	g.p("RET")
}

// lnApply emits lnApplyNEON: dst = ((x−m)·scale)·w + b over n (a multiple
// of 8), the multiply-add fused as the Go compiler fuses it on arm64.
func (g *gen) lnApply() {
	const name = "lnApplyNEON"
	g.fn(name, "(dst, x, w, b *float32, n int, m, scale float32)", "$0-48", "")
	g.p("MOVD dst+0(FP), R0")
	g.p("MOVD x+8(FP), R1")
	g.p("MOVD w+16(FP), R2")
	g.p("MOVD b+24(FP), R4")
	g.p("MOVD n+32(FP), R3")
	g.p("FMOVS m+40(FP), F30")
	g.p("VDUP V30.S[0], V30.S4")
	g.p("FMOVS scale+44(FP), F31")
	g.loopStart(name, 3, 3)
	g.p("VLD1.P 32(R1), [V0.S4, V1.S4]")
	g.p("VLD1.P 32(R2), [V2.S4, V3.S4]")
	g.p("VLD1.P 32(R4), [V4.S4, V5.S4]")
	g.fsub(0, 0, 30)
	g.fsub(1, 1, 30)
	g.fmulElem(0, 0, 31)
	g.fmulElem(1, 1, 31)
	g.fmla(4, 0, 2)
	g.fmla(5, 1, 3)
	g.p("VST1.P [V4.S4, V5.S4], 32(R0)")
	g.loopEnd(name, 3)
	g.p("RET")
}

// add emits addNEON: dst = a + b over n (a multiple of 16); each turn
// loads before it stores, so dst may be a or b.
func (g *gen) add() {
	const name = "addNEON"
	g.fn(name, "(dst, a, b *float32, n int)", "$0-32", "")
	g.p("MOVD dst+0(FP), R0")
	g.p("MOVD a+8(FP), R1")
	g.p("MOVD b+16(FP), R3")
	g.p("MOVD n+24(FP), R2")
	g.loopStart(name, 2, 4)
	g.p("VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]")
	g.p("VLD1.P 64(R3), [V4.S4, V5.S4, V6.S4, V7.S4]")
	for i := 0; i < 4; i++ {
		g.fadd(i, i, 4+i)
	}
	g.p("VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)")
	g.loopEnd(name, 2)
	g.p("RET")
}

func main() {
	out := flag.String("o", ".", "output directory (kernels)")
	flag.Parse()
	var g gen
	g.text("// Code generated by kernels/_gen/neonops; DO NOT EDIT.\n\n//go:build !purego\n\n#include \"textflag.h\"\n")
	g.quantQ8_1()
	g.packQ8_0()
	g.quantQ8_K()
	g.fp32ToFP16()
	g.dotF32()
	g.dotF16()
	g.axpy(false)
	g.axpy(true)
	g.expSub()
	g.swiGLU()
	g.gelu()
	g.scores(false)
	g.scores(true)
	g.weighted(false)
	g.weighted(true)
	g.sumsF64(false)
	g.sumsF64(true)
	g.scaleMul()
	g.lnApply()
	g.add()
	g.geluTable()
	write(filepath.Join(*out, "ops_arm64.s"), g.b.Bytes())
}

func write(path string, data []byte) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gen-*")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tmp.Write(data); err != nil {
		log.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		log.Fatal(err)
	}
}
