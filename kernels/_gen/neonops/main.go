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

// quantQ8_K emits quantQ8_KNEON: R0 dst, R1 src, R2 blocks of 256; it
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
	g.fn(name, "(dst *byte, src *float32, nb int) int", "$0-32", "")
	g.p("MOVD dst+0(FP), R0")
	g.p("MOVD src+8(FP), R1")
	g.p("MOVD nb+16(FP), R2")
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
	g.p("FMOVS F25, (R0)")
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
	g.p("ADD $4, R0, R4")
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
	g.p("VST1 [V8.B16, V9.B16], (R4)")
	g.label(name + "_next")
	g.p("ADD $292, R0")
	g.p("ADD $1024, R1")
	g.loopEnd(name, 2)
	g.p("MOVD R12, ret+24(FP)")
	g.p("RET")
	g.label(name + "_min")
	g.p("FMOVS F20, F22")
	g.p("B %s_scale", name)
	g.label(name + "_tie")
	g.p("FCMPS $(0.0), F16")
	g.p("BEQ %s_zero", name)
	g.label(name + "_stop")
	g.p("SUB R2, R12, R12")
	g.p("MOVD R12, ret+24(FP)")
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

// Two-lane float64 ops for gelu.
func (g *gen) fmul2d(d, n, m int)  { g.v3(0x6e60dc00, "fmul", "2d", d, n, m) }
func (g *gen) fdiv2d(d, n, m int)  { g.v3(0x6e60fc00, "fdiv", "2d", d, n, m) }
func (g *gen) fmls2d(d, n, m int)  { g.v3(0x4ee0cc00, "fmls", "2d", d, n, m) }
func (g *gen) fmax2d(d, n, m int)  { g.v3(0x4e60f400, "fmax", "2d", d, n, m) }
func (g *gen) fcmgt2d(d, n, m int) { g.v3(0x6ee0e400, "fcmgt", "2d", d, n, m) }
func (g *gen) bsl(d, n, m int)     { g.v3(0x6e601c00, "bsl", "16b", d, n, m) }
func (g *gen) fabs2d(d, n int)     { g.enc(0x4ee0f800, d, n, 0, "fabs v%d.2d, v%d.2d", d, n) }
func (g *gen) fcmltz2d(d, n int)   { g.enc(0x4ee0e800, d, n, 0, "fcmlt v%d.2d, v%d.2d, #0.0", d, n) }
func (g *gen) fcvtn2s(d, n int)    { g.enc(0x0e616800, d, n, 0, "fcvtn v%d.2s, v%d.2d", d, n) }
func (g *gen) fcvtn24s(d, n int)   { g.enc(0x4e616800, d, n, 0, "fcvtn2 v%d.4s, v%d.2d", d, n) }

// The float64 constants of gelu (kernels/gelu.go), two copies each in the
// table geluc<> (16 bytes apart, loaded with FMOVQ); the polynomials'
// coefficients are stored so that every Horner step is c + p·t (a fused
// FMLA): Go on arm64 fuses p·t − c as FNMSUB, which rounds once, as
// (−c) + p·t does.
var geluConsts = []struct {
	name string
	v    float64
}{
	{"rsqrt2", 1 / math.Sqrt2},
	{"9.3", 9.3},
	{"a", 0.3275911},
	{"p5", -0.000772749714861187}, {"p4", 0.005202309950538428}, {"p3", -0.026863520737573886},
	{"p2", 0.11283777041977941}, {"p1", -0.37612638609123616}, {"p0", 1.1283791670860064},
	{"g10", 0.061068496460925464}, {"g9", -0.3459716445102091}, {"g8", 0.7087232682096017},
	{"g7", -0.6905801747410428}, {"g6", 0.6336175827871888}, {"g5", -0.13896580084288865},
	{"g4", 0.24572682186130287}, {"g3", 0.1538048762772659}, {"g2", 0.18802700672638606},
	{"g1", 0.1845374838703025}, {"g0", 1.1388149993083582e-05},
}

// geluOff is the byte offset of constant name in geluc<>.
func geluOff(name string) int {
	for i, c := range geluConsts {
		if c.name == name {
			return 16 * i
		}
	}
	panic("gelu constant " + name)
}

// geluTable emits geluc<>.
func (g *gen) geluTable() {
	g.text("\n// gelu's float64 constants (kernels/gelu.go), two copies each\n")
	for i, c := range geluConsts {
		for k := 0; k < 2; k++ {
			fmt.Fprintf(&g.b, "DATA geluc<>+%d(SB)/8, $0x%016x // %s\n", 16*i+8*k, math.Float64bits(c.v), c.name)
		}
	}
	fmt.Fprintf(&g.b, "GLOBL geluc<>(SB), RODATA|NOPTR, $%d\n", 16*len(geluConsts))
}

// ldc loads gelu constant name into both lanes of V v (R5 holds geluc<>).
func (g *gen) ldc(v int, name string) { g.p("FMOVQ %d(R5), F%d // %s", geluOff(name), v, name) }

// horner leaves c_0 + t·(c_1 + t·(… + t·c_n)) in V a or V b (which one
// it returns), the coefficients named from the highest: each step loads
// the next into the register the last step did not write and fuses.
func (g *gen) horner(t, a, b int, names ...string) int {
	cur := a
	g.ldc(cur, names[0])
	for _, n := range names[1:] {
		next := a + b - cur
		g.ldc(next, n)
		g.fmla2d(next, cur, t)
		cur = next
	}
	return cur
}

// gelu emits geluNEON: dst = gelu(x) over n (a multiple of 4), the steps
// of gelu (kernels/gelu.go) on two float64 lanes with the multiply-adds Go
// fuses there, so the result is gelu's bit for bit. Both branches are
// computed and chosen per lane: z = |x|/√2 < ½: ½ ± ½·z·P(z²); otherwise the
// tail from e^(−z²) (expf of the float32 rounding r of z² = x²/2, times
// 1 − (z² − r)) and G(1/(1 + a·z)); z > 9.3: x for x > 0, 0 for x < 0. A
// NaN fails every comparison and stays NaN through the tail.
//
// Registers: V17–V30 the exp constants, V16 ½ and V31 1 (float64), V12/V13
// the two halves of x, V14/V15 their e^(−z²); V0–V11 scratch.
func (g *gen) gelu() {
	const name = "geluNEON"
	g.fn(name, "(dst, x *float32, n int)", "$0-24", "")
	g.p("MOVD dst+0(FP), R0")
	g.p("MOVD x+8(FP), R1")
	g.p("MOVD n+16(FP), R2")
	g.p("MOVD $geluc<>(SB), R5")
	g.expConsts()
	g.p("FMOVD $0.5, F16")
	g.p("VDUP V16.D[0], V16.D2")
	g.p("FMOVD $1.0, F31")
	g.p("VDUP V31.D[0], V31.D2")
	g.loopStart(name, 2, 2)
	g.p("VLD1.P 16(R1), [V0.S4]")
	g.fcvtl2d(12, 0)
	g.fcvtl22d(13, 0)
	// z² = x·x·½ (exact), r = float32(z²) in V0, e = z² − r in V14/V15
	for h := 0; h < 2; h++ {
		g.fmul2d(14+h, 12+h, 12+h)
		g.fmul2d(14+h, 14+h, 16)
	}
	g.fcvtn2s(0, 14)
	g.fcvtn24s(0, 15)
	g.fcvtl2d(1, 0)
	g.fcvtl22d(3, 0)
	g.fsub2d(14, 14, 1)
	g.fsub2d(15, 15, 3)
	// e^(−r) in float32, then e^(−z²) = e^(−r)·(1 − e) in V14/V15
	g.fneg(0, 0)
	g.exp(1)
	g.fcvtl2d(1, 4)
	g.fcvtl22d(3, 4)
	for h := 0; h < 2; h++ {
		g.fsub2d(14+h, 31, 14+h)
	}
	g.fmul2d(14, 1, 14)
	g.fmul2d(15, 3, 15)
	for h := 0; h < 2; h++ {
		x, ez := 12+h, 14+h
		g.fabs2d(0, x)
		g.ldc(10, "rsqrt2")
		g.fmul2d(0, 0, 10) // z
		// tail: t = 1/(1 + a·z), Φ = ½·ez·G (x < 0) or 1 − ½·ez·G
		g.ldc(10, "a")
		g.p("VORR V31.B16, V31.B16, V1.B16")
		g.fmla2d(1, 0, 10)
		g.fdiv2d(1, 31, 1) // t
		gr := g.horner(1, 2, 3, "g10", "g9", "g8", "g7", "g6", "g5", "g4", "g3", "g2", "g1", "g0")
		g.fmul2d(ez, ez, 16) // ½·ez
		g.fmul2d(4, ez, gr)
		g.p("VORR V31.B16, V31.B16, V5.B16")
		g.fmls2d(5, ez, gr)
		g.fcmltz2d(6, x) // x < 0
		g.p("VORR V6.B16, V6.B16, V7.B16")
		g.bsl(7, 4, 5) // Φ tail
		// small: u = z², Φ = ½ + (±½z)·P(u)
		g.fmul2d(8, 0, 0)
		pr := g.horner(8, 2, 3, "p5", "p4", "p3", "p2", "p1", "p0")
		g.fmul2d(9, 0, 16) // ½z
		g.p("VORR V16.B16, V16.B16, V4.B16")
		g.fmls2d(4, 9, pr)
		g.p("VORR V16.B16, V16.B16, V5.B16")
		g.fmla2d(5, 9, pr)
		g.bsl(6, 4, 5)      // Φ small
		g.fcmgt2d(8, 16, 0) // z < ½
		g.bsl(8, 6, 7)
		g.fmul2d(8, x, 8) // x·Φ
		// z > 9.3: max(x, 0) (x > 0: x; x < 0: +0)
		g.ldc(10, "9.3")
		g.fcmgt2d(9, 0, 10)
		g.p("VEOR V11.B16, V11.B16, V11.B16")
		g.fmax2d(11, x, 11)
		g.bsl(9, 11, 8)
		if h == 0 { // into V12: x's low half is done with
			g.fcvtn2s(12, 9)
		} else {
			g.fcvtn24s(12, 9)
		}
	}
	g.p("VST1.P [V12.S4], 16(R0)")
	g.loopEnd(name, 2)
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
