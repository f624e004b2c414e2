// Command _gen writes kernels/neon's arm64 assembly (dot_arm64.s) and its Go
// declarations and dispatch (dot_arm64.go). Run it with go generate in
// kernels/neon. Instructions the Go assembler lacks are emitted as WORD
// directives with the GNU mnemonic in a comment; scripts/mca.sh -verify
// re-assembles those comments with llvm-mc and compares the words.
//
// Register use: R0–R17, R19–R23 only (R18 platform, R26–R30 reserved); all
// V registers are scratch in Go's arm64 ABI.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
)

type gen struct{ b bytes.Buffer }

func (g *gen) p(format string, a ...any) { fmt.Fprintf(&g.b, "\t"+format+"\n", a...) }
func (g *gen) label(l string)            { fmt.Fprintf(&g.b, "%s:\n", l) }
func (g *gen) comment(s string)          { fmt.Fprintf(&g.b, "\t// %s\n", s) }
func (g *gen) word(enc uint32, gnu string, a ...any) {
	fmt.Fprintf(&g.b, "\tWORD\t$0x%08x // %s\n", enc, fmt.Sprintf(gnu, a...))
}

func rrr(base uint32, d, n, m int) uint32 { return base | uint32(m)<<16 | uint32(n)<<5 | uint32(d) }
func rr(base uint32, d, n int) uint32     { return base | uint32(n)<<5 | uint32(d) }

// A64 instructions missing from the Go assembler (encodings checked with llvm-mc-14).
func (g *gen) sdot(d, n, m int) {
	g.word(rrr(0x4e809400, d, n, m), "sdot v%d.4s, v%d.16b, v%d.16b", d, n, m)
}
func (g *gen) smmla(d, n, m int) {
	g.word(rrr(0x4e80a400, d, n, m), "smmla v%d.4s, v%d.16b, v%d.16b", d, n, m)
}
func (g *gen) smull8(d, n, m int) {
	g.word(rrr(0x0e20c000, d, n, m), "smull v%d.8h, v%d.8b, v%d.8b", d, n, m)
}
func (g *gen) smull28(d, n, m int) {
	g.word(rrr(0x4e20c000, d, n, m), "smull2 v%d.8h, v%d.16b, v%d.16b", d, n, m)
}
func (g *gen) saddlp(d, n int) { g.word(rr(0x4e602800, d, n), "saddlp v%d.4s, v%d.8h", d, n) }
func (g *gen) sadalp(d, n int) { g.word(rr(0x4e606800, d, n), "sadalp v%d.4s, v%d.8h", d, n) }
func (g *gen) scvtf(d, n int)  { g.word(rr(0x4e21d800, d, n), "scvtf v%d.4s, v%d.4s", d, n) }
func (g *gen) fcvtl(d, n int)  { g.word(rr(0x0e217800, d, n), "fcvtl v%d.4s, v%d.4h", d, n) }
func (g *gen) fmul(d, n, m int) {
	g.word(rrr(0x6e20dc00, d, n, m), "fmul v%d.4s, v%d.4s, v%d.4s", d, n, m)
}
func (g *gen) fadd(d, n, m int) {
	g.word(rrr(0x4e20d400, d, n, m), "fadd v%d.4s, v%d.4s, v%d.4s", d, n, m)
}
func (g *gen) faddp(d, n, m int) {
	g.word(rrr(0x6e20d400, d, n, m), "faddp v%d.4s, v%d.4s, v%d.4s", d, n, m)
}
func (g *gen) faddps(d, n int) { g.word(rr(0x7e30d800, d, n), "faddp s%d, v%d.2s", d, n) }
func (g *gen) fmax(d, n, m int) {
	g.word(rrr(0x4e20f400, d, n, m), "fmax v%d.4s, v%d.4s, v%d.4s", d, n, m)
}
func (g *gen) fmaxv(d, n int)  { g.word(rr(0x6e30f800, d, n), "fmaxv s%d, v%d.4s", d, n) }
func (g *gen) fabs(d, n int)   { g.word(rr(0x4ea0f800, d, n), "fabs v%d.4s, v%d.4s", d, n) }
func (g *gen) fcvtns(d, n int) { g.word(rr(0x4e21a800, d, n), "fcvtns v%d.4s, v%d.4s", d, n) }
func (g *gen) fmulElem0(d, n, m int) {
	g.word(rrr(0x4f809000, d, n, m), "fmul v%d.4s, v%d.4s, v%d.s[0]", d, n, m)
}
func (g *gen) xtn4h(d, n int)  { g.word(rr(0x0e612800, d, n), "xtn v%d.4h, v%d.4s", d, n) }
func (g *gen) xtn28h(d, n int) { g.word(rr(0x4e612800, d, n), "xtn2 v%d.8h, v%d.4s", d, n) }
func (g *gen) xtn8b(d, n int)  { g.word(rr(0x0e212800, d, n), "xtn v%d.8b, v%d.8h", d, n) }
func (g *gen) xtn216b(d, n int) {
	g.word(rr(0x4e212800, d, n), "xtn2 v%d.16b, v%d.8h", d, n)
}
func (g *gen) zip1d(d, n, m int) {
	g.word(rrr(0x4ec03800, d, n, m), "zip1 v%d.2d, v%d.2d, v%d.2d", d, n, m)
}
func (g *gen) zip2d(d, n, m int) {
	g.word(rrr(0x4ec07800, d, n, m), "zip2 v%d.2d, v%d.2d, v%d.2d", d, n, m)
}
func (g *gen) mul4s(d, n, m int) {
	g.word(rrr(0x4ea09c00, d, n, m), "mul v%d.4s, v%d.4s, v%d.4s", d, n, m)
}

// mlaElem: Vd.4S += Vn.4S * Vm.S[i], m < 16.
func (g *gen) mlaElem(d, n, m, i int) {
	if m >= 16 {
		log.Fatalf("mla by element: v%d must be below v16", m)
	}
	enc := rrr(0x6f800000, d, n, m) | uint32(i&1)<<21 | uint32(i>>1)<<11
	g.word(enc, "mla v%d.4s, v%d.4s, v%d.s[%d]", d, n, m, i)
}
func (g *gen) smull4s(d, n, m int) {
	g.word(rrr(0x0e60c000, d, n, m), "smull v%d.4s, v%d.4h, v%d.4h", d, n, m)
}
func (g *gen) smlal4s(d, n, m int) {
	g.word(rrr(0x0e608000, d, n, m), "smlal v%d.4s, v%d.4h, v%d.4h", d, n, m)
}
func (g *gen) smlal24s(d, n, m int) {
	g.word(rrr(0x4e608000, d, n, m), "smlal2 v%d.4s, v%d.8h, v%d.8h", d, n, m)
}
func (g *gen) sxtl8h(d, n int)  { g.word(rr(0x0f08a400, d, n), "sshll v%d.8h, v%d.8b, #0", d, n) }
func (g *gen) sxtl28h(d, n int) { g.word(rr(0x4f08a400, d, n), "sshll2 v%d.8h, v%d.16b, #0", d, n) }
func (g *gen) sxtl4s(d, n int)  { g.word(rr(0x0f10a400, d, n), "sshll v%d.4s, v%d.4h, #0", d, n) }
func (g *gen) sxtl24s(d, n int) { g.word(rr(0x4f10a400, d, n), "sshll2 v%d.4s, v%d.8h, #0", d, n) }
func (g *gen) uxtl8h(d, n int)  { g.word(rr(0x2f08a400, d, n), "ushll v%d.8h, v%d.8b, #0", d, n) }
func (g *gen) uxtl4s(d, n int)  { g.word(rr(0x2f10a400, d, n), "ushll v%d.4s, v%d.4h, #0", d, n) }
func (g *gen) uxtl24s(d, n int) { g.word(rr(0x6f10a400, d, n), "ushll2 v%d.4s, v%d.8h, #0", d, n) }

func (g *gen) zero(v int) { g.p("VEOR V%d.B16, V%d.B16, V%d.B16", v, v, v) }

// tier selects the integer dot primitive.
type tier int

const (
	tierSDOT tier = iota // FEAT_DotProd
	tierNEON             // SMULL/SMULL2 + SADDLP/SADALP
)

func (t tier) suffix() string { return [...]string{"SDOT", "NEON"}[t] }

// dotFresh sets acc = the int32x4 partial dot of int8 vectors a and b; dotAcc
// adds to it. The lane grouping differs between tiers; lane totals do not.
// t1, t2 are temporaries for the NEON tier.
func (g *gen) dotFresh(t tier, acc, a, b, t1, t2 int) {
	if t == tierSDOT {
		g.zero(acc)
		g.sdot(acc, a, b)
		return
	}
	g.smull8(t1, a, b)
	g.smull28(t2, a, b)
	g.saddlp(acc, t1)
	g.sadalp(acc, t2)
}

func (g *gen) dotAcc(t tier, acc, a, b, t1, t2 int) {
	if t == tierSDOT {
		g.sdot(acc, a, b)
		return
	}
	g.smull8(t1, a, b)
	g.smull28(t2, a, b)
	g.sadalp(acc, t1)
	g.sadalp(acc, t2)
}

// legacy describes a 32-element block type dotted with Q8_0 or Q8_1.
type legacy struct {
	name     string // e.g. "Q4_0Q8_0"
	wB, xB   int    // block bytes
	xQS      int    // offset of the activation quants
	hasMin   bool   // Q4_1/Q5_1: m_w * s_x term
	setup    func(g *gen)
	unpack   func(g *gen, off, lo, hi int) // block at off(R0) → int8 V(lo) elements 0..15, V(hi) 16..31
	mnemonic string
}

// Constants: V30 = 0x0F, V31 = type-specific; Q5 also V25, V26, V27.
func setupQ4(sub bool) func(g *gen) {
	return func(g *gen) {
		g.p("VMOVI $15, V30.B16")
		if sub {
			g.p("VMOVI $8, V31.B16")
		}
	}
}

func unpackQ4(qs int, sub bool) func(g *gen, off, lo, hi int) {
	return func(g *gen, off, lo, hi int) {
		g.p("FMOVQ %d(R0), F%d", off+qs, lo)
		g.p("VUSHR $4, V%d.B16, V%d.B16", lo, hi)
		g.p("VAND V30.B16, V%d.B16, V%d.B16", lo, lo)
		if sub {
			g.p("VSUB V31.B16, V%d.B16, V%d.B16", lo, lo)
			g.p("VSUB V31.B16, V%d.B16, V%d.B16", hi, hi)
		}
	}
}

func setupQ5(g *gen) {
	g.p("VMOVI $15, V30.B16")
	g.p("VMOVI $16, V31.B16")
	g.p("MOVD $0x8040201008040201, R14")
	g.p("VDUP R14, V27.D2") // bit j%8 of each byte
	g.p("MOVD $0x0101010101010101, R14")
	g.zero(26)
	g.p("VMOV R14, V26.D[1]") // TBL index: qh byte 0 ×8, byte 1 ×8
	g.p("MOVD $0x0202020202020202, R14")
	g.p("VMOV R14, V25.D[0]")
	g.p("MOVD $0x0303030303030303, R14")
	g.p("VMOV R14, V25.D[1]") // qh byte 2 ×8, byte 3 ×8
}

func unpackQ5(qh, qs int, sub bool) func(g *gen, off, lo, hi int) {
	return func(g *gen, off, lo, hi int) {
		g.p("FMOVQ %d(R0), F%d", off+qs, lo)
		g.p("MOVWU %d(R0), R14", off+qh)
		g.p("VUSHR $4, V%d.B16, V%d.B16", lo, hi)
		g.p("VAND V30.B16, V%d.B16, V%d.B16", lo, lo)
		g.p("VDUP R14, V20.S4")
		for i, v := range []int{lo, hi} {
			idx := 26 - i // V26 for elements 0..15, V25 for 16..31
			g.p("VTBL V%d.B16, [V20.B16], V21.B16", idx)
			g.p("VCMTST V27.B16, V21.B16, V21.B16")
			g.p("VAND V31.B16, V21.B16, V21.B16")
			g.p("VORR V21.B16, V%d.B16, V%d.B16", v, v)
			if sub {
				g.p("VSUB V31.B16, V%d.B16, V%d.B16", v, v)
			}
		}
	}
}

func unpackQ8(g *gen, off, lo, hi int) {
	g.p("FMOVQ %d(R0), F%d", off+2, lo)
	g.p("FMOVQ %d(R0), F%d", off+18, hi)
}

func setupIQ4(g *gen) {
	g.p("VMOVI $15, V30.B16")
	// kvalues_iq4nl as int8 bytes, low then high half.
	g.p("MOVD $0xf6eaddcfbfad9881, R14")
	g.p("VMOV R14, V31.D[0]")
	g.p("MOVD $0x7159453526190d01, R14")
	g.p("VMOV R14, V31.D[1]")
}

func unpackIQ4(g *gen, off, lo, hi int) {
	g.p("FMOVQ %d(R0), F%d", off+2, lo)
	g.p("VUSHR $4, V%d.B16, V%d.B16", lo, hi)
	g.p("VAND V30.B16, V%d.B16, V%d.B16", lo, lo)
	g.p("VTBL V%d.B16, [V31.B16], V%d.B16", lo, lo)
	g.p("VTBL V%d.B16, [V31.B16], V%d.B16", hi, hi)
}

var legacies = []legacy{
	{name: "Q4_0Q8_0", wB: 18, xB: 34, xQS: 2, setup: setupQ4(true), unpack: unpackQ4(2, true)},
	{name: "Q4_1Q8_1", wB: 20, xB: 36, xQS: 4, hasMin: true, setup: setupQ4(false), unpack: unpackQ4(4, false)},
	{name: "Q5_0Q8_0", wB: 22, xB: 34, xQS: 2, setup: setupQ5, unpack: unpackQ5(2, 6, true)},
	{name: "Q5_1Q8_1", wB: 24, xB: 36, xQS: 4, hasMin: true, setup: setupQ5, unpack: unpackQ5(4, 8, false)},
	{name: "Q8_0Q8_0", wB: 34, xB: 34, xQS: 2, setup: func(*gen) {}, unpack: unpackQ8},
	{name: "IQ4_NLQ8_0", wB: 18, xB: 34, xQS: 2, setup: setupIQ4, unpack: unpackIQ4},
}

// Legacy kernel registers: R0 w, R1 x, R3 groups of 4, R4 remaining blocks,
// R6–R9 weight scales, R10–R13 activation scales, R15–R17,R19 weight mins,
// R20–R23 activation sums; V0–V7 weights, V8–V15 activations, V16–V19 block
// partial sums, V20/V21 temporaries, V22–V24 scales, V28 (V29) accumulators.
func (g *gen) legacyKernel(l legacy, t tier) {
	fn := "dot" + l.name + t.suffix()
	fmt.Fprintf(&g.b, "\n// func %s(w, x *byte, nb int) float32\nTEXT ·%s(SB), NOSPLIT, $0-28\n", fn, fn)
	g.p("MOVD w+0(FP), R0")
	g.p("MOVD x+8(FP), R1")
	g.p("MOVD nb+16(FP), R2")
	g.p("LSR $2, R2, R3")
	g.p("AND $3, R2, R4")
	l.setup(g)
	g.zero(28)
	if l.hasMin {
		g.zero(29)
	}
	g.p("CBZ R3, %s_tail", fn)
	g.label(fn + "_loop")
	for k := 0; k < 4; k++ {
		g.block(l, t, k)
	}
	g.groupFloat(l)
	g.p("ADD $%d, R0", 4*l.wB)
	g.p("ADD $%d, R1", 4*l.xB)
	g.p("SUB $1, R3")
	g.p("CBNZ R3, %s_loop", fn)
	g.label(fn + "_tail")
	g.p("CBZ R4, %s_done", fn)
	g.comment("1–3 blocks left: absent blocks contribute isum 0 at scale 0, adding +0")
	for k := 1; k < 4; k++ {
		g.zero(16 + k)
		g.p("MOVD ZR, R%d", 6+k)
		g.p("MOVD ZR, R%d", 10+k)
		if l.hasMin {
			g.p("MOVD ZR, R%d", minW(k))
			g.p("MOVD ZR, R%d", 20+k)
		}
	}
	g.block(l, t, 0)
	g.p("CMP $2, R4")
	g.p("BLT %s_tailf", fn)
	g.block(l, t, 1)
	g.p("CMP $3, R4")
	g.p("BLT %s_tailf", fn)
	g.block(l, t, 2)
	g.label(fn + "_tailf")
	g.groupFloat(l)
	g.label(fn + "_done")
	g.faddp(28, 28, 28)
	g.faddps(0, 28)
	if l.hasMin {
		g.faddp(29, 29, 29)
		g.faddps(1, 29)
		g.p("FADDS F1, F0, F0")
	}
	g.p("FMOVS F0, ret+24(FP)")
	g.p("RET")
}

func minW(k int) int { return [...]int{15, 16, 17, 19}[k] }

// block emits block k of a group: unpack, integer dot into V(16+k), and the
// scale loads into R(6+k), R(10+k) (and mins).
func (g *gen) block(l legacy, t tier, k int) {
	wo, xo := k*l.wB, k*l.xB
	lo, hi, xl, xh := 2*k, 2*k+1, 8+2*k, 9+2*k
	l.unpack(g, wo, lo, hi)
	g.p("FMOVQ %d(R1), F%d", xo+l.xQS, xl)
	g.p("FMOVQ %d(R1), F%d", xo+l.xQS+16, xh)
	g.dotFresh(t, 16+k, lo, xl, 20, 21)
	g.dotAcc(t, 16+k, hi, xh, 20, 21)
	g.p("MOVHU %d(R0), R%d", wo, 6+k)
	g.p("MOVHU %d(R1), R%d", xo, 10+k)
	if l.hasMin {
		g.p("MOVHU %d(R0), R%d", wo+2, minW(k))
		g.p("MOVHU %d(R1), R%d", xo+2, 20+k)
	}
}

// gather4 packs four 16-bit values from GPRs a..d into V(v).4H.
func (g *gen) gather4(v, a, b, c, d int) {
	g.p("ORR R%d<<16, R%d, R%d", b, a, a)
	g.p("ORR R%d<<16, R%d, R%d", d, c, c)
	g.p("ORR R%d<<32, R%d, R%d", c, a, a)
	g.p("VMOV R%d, V%d.D[0]", a, v)
}

// groupFloat reduces V16–V19 to per-block sums and adds them, scaled, into
// the accumulator lanes.
func (g *gen) groupFloat(l legacy) {
	g.p("VADDP V17.S4, V16.S4, V16.S4")
	g.p("VADDP V19.S4, V18.S4, V18.S4")
	g.p("VADDP V18.S4, V16.S4, V16.S4")
	g.scvtf(16, 16)
	g.gather4(22, 6, 7, 8, 9)
	g.gather4(23, 10, 11, 12, 13)
	g.fcvtl(22, 22)
	g.fcvtl(23, 23)
	g.fmul(24, 22, 23)
	g.fmul(16, 16, 24)
	g.fadd(28, 28, 16)
	if l.hasMin {
		g.gather4(20, 15, 16, 17, 19)
		g.gather4(21, 20, 21, 22, 23)
		g.fcvtl(20, 20)
		g.fcvtl(21, 21)
		g.fmul(20, 20, 21)
		g.fadd(29, 29, 20)
	}
}

// dot2x2 emits the SMMLA tile for Q4_0 or Q8_0 weights.
// R0 w0, R1 w1, R2 x0, R3 x1, R4 groups, R5 rest, R6 out.
func (g *gen) dot2x2(l legacy) {
	fn := "dot2x2" + l.name + "SMMLA"
	fmt.Fprintf(&g.b, "\n// func %s(out *[4]float32, w0, w1, x0, x1 *byte, nb int)\nTEXT ·%s(SB), NOSPLIT, $0-48\n", fn, fn)
	g.p("MOVD out+0(FP), R6")
	g.p("MOVD w0+8(FP), R0")
	g.p("MOVD w1+16(FP), R1")
	g.p("MOVD x0+24(FP), R2")
	g.p("MOVD x1+32(FP), R3")
	g.p("MOVD nb+40(FP), R5")
	g.p("LSR $2, R5, R4")
	g.p("AND $3, R5, R5")
	l.setup(g)
	for a := 24; a < 28; a++ {
		g.zero(a)
	}
	g.p("CBZ R4, %s_tail", fn)
	g.label(fn + "_loop")
	for k := 0; k < 4; k++ {
		g.block2x2(l, k, k)
	}
	g.p("ADD $%d, R0", 4*l.wB)
	g.p("ADD $%d, R1", 4*l.wB)
	g.p("ADD $%d, R2", 4*l.xB)
	g.p("ADD $%d, R3", 4*l.xB)
	g.p("SUB $1, R4")
	g.p("CBNZ R4, %s_loop", fn)
	g.label(fn + "_tail")
	g.p("CBZ R5, %s_done", fn)
	g.block2x2(l, 0, 0)
	g.p("CMP $2, R5")
	g.p("BLT %s_done", fn)
	g.block2x2(l, 1, 1)
	g.p("CMP $3, R5")
	g.p("BLT %s_done", fn)
	g.block2x2(l, 2, 2)
	g.label(fn + "_done")
	g.fadd(24, 24, 25)
	g.fadd(26, 26, 27)
	g.fadd(24, 24, 26)
	g.p("VST1 [V24.S4], (R6)")
	g.p("RET")
}

// block2x2 emits block k of the tile into accumulator V(24+acc). The weight
// unpack functions read off(R0); the second row is moved into R0's place by
// swapping through R7.
func (g *gen) block2x2(l legacy, k, acc int) {
	wo, xo := k*l.wB, k*l.xB
	l.unpack(g, wo, 0, 1)
	g.p("MOVD R0, R7")
	g.p("MOVD R1, R0")
	l.unpack(g, wo, 2, 3)
	g.p("MOVD R7, R0")
	g.p("FMOVQ %d(R2), F4", xo+2)
	g.p("FMOVQ %d(R2), F5", xo+18)
	g.p("FMOVQ %d(R3), F6", xo+2)
	g.p("FMOVQ %d(R3), F7", xo+18)
	// Vm operands: weight rows; Vn operands: activation rows. Vd = x·wᵀ =
	// [x0w0, x0w1, x1w0, x1w1] = [w0x0, w1x0, w0x1, w1x1].
	g.zip1d(8, 0, 2)
	g.zip2d(9, 0, 2)
	g.zip1d(10, 1, 3)
	g.zip2d(11, 1, 3)
	g.zip1d(12, 4, 6)
	g.zip2d(13, 4, 6)
	g.zip1d(14, 5, 7)
	g.zip2d(15, 5, 7)
	g.zero(16)
	g.smmla(16, 12, 8)
	g.smmla(16, 13, 9)
	g.smmla(16, 14, 10)
	g.smmla(16, 15, 11)
	g.p("MOVHU %d(R0), R8", wo)
	g.p("MOVHU %d(R1), R9", wo)
	g.p("MOVHU %d(R2), R10", xo)
	g.p("MOVHU %d(R3), R11", xo)
	g.p("ORR R9<<16, R8, R8")    // dw0 | dw1
	g.p("ORR R8<<32, R8, R8")    // dw0 dw1 dw0 dw1
	g.p("ORR R10<<16, R10, R10") // dx0 dx0
	g.p("ORR R11<<16, R11, R11") // dx1 dx1
	g.p("ORR R11<<32, R10, R10") // dx0 dx0 dx1 dx1
	g.p("VMOV R8, V17.D[0]")
	g.p("VMOV R10, V18.D[0]")
	g.fcvtl(17, 17)
	g.fcvtl(18, 18)
	g.fmul(17, 17, 18)
	g.scvtf(16, 16)
	g.fmul(16, 16, 17)
	g.fadd(24+acc, 24+acc, 16)
}

// kquant emits a K-quant × Q8_K dot, one super-block per iteration.
// R0 w, R1 x, R2 nb; scalar float accumulators F28 (F29 mins).
func (g *gen) kquant(name string, t tier) {
	fn := "dot" + name + t.suffix()
	fmt.Fprintf(&g.b, "\n// func %s(w, x *byte, nb int) float32\nTEXT ·%s(SB), NOSPLIT, $0-28\n", fn, fn)
	g.p("MOVD w+0(FP), R0")
	g.p("MOVD x+8(FP), R1")
	g.p("MOVD nb+16(FP), R2")
	g.zero(28)
	g.zero(29)
	g.p("VMOVI $15, V30.B16")
	switch name {
	case "Q5_KQ8_K":
		g.p("VMOVI $1, V24.B16")
		g.p("VMOVI $2, V25.B16")
	case "Q6_KQ8_K":
		g.p("VMOVI $48, V31.B16")
	}
	g.p("CBZ R2, %s_done", fn)
	g.label(fn + "_loop")
	switch name {
	case "Q6_KQ8_K":
		g.q6kBody(t)
	default:
		g.q45kBody(t, name == "Q5_KQ8_K")
	}
	g.p("SUB $1, R2")
	g.p("CBNZ R2, %s_loop", fn)
	g.label(fn + "_done")
	if name == "Q6_KQ8_K" {
		g.p("FMOVS F29, F0")
	} else {
		g.p("FSUBS F29, F28, F0")
	}
	g.p("FMOVS F0, ret+24(FP)")
	g.p("RET")
}

// q45kBody: sc in V0 (sub-blocks 0–3) and V1 (4–7) as int32, isum in V5.
func (g *gen) q45kBody(t tier, q5 bool) {
	bsize, qs := 144, 16
	if q5 {
		bsize, qs = 176, 48
	}
	g.comment("6-bit scales and mins (ggml's kmask decode)")
	g.p("MOVWU 4(R0), R5")
	g.p("MOVWU 8(R0), R6")
	g.p("MOVWU 12(R0), R7")
	g.p("ANDW $0x3f3f3f3f, R5, R8")
	g.p("ANDW $0x0f0f0f0f, R7, R9")
	g.p("LSRW $6, R5, R10")
	g.p("ANDW $0x03030303, R10, R10")
	g.p("ORRW R10<<4, R9, R9")
	g.p("ANDW $0x3f3f3f3f, R6, R11")
	g.p("LSRW $4, R7, R12")
	g.p("ANDW $0x0f0f0f0f, R12, R12")
	g.p("LSRW $6, R6, R10")
	g.p("ANDW $0x03030303, R10, R10")
	g.p("ORRW R10<<4, R12, R12")
	g.p("ORR R9<<32, R8, R8")
	g.p("ORR R12<<32, R11, R11")
	g.p("VMOV R8, V2.D[0]")
	g.uxtl8h(2, 2)
	g.uxtl4s(0, 2)
	g.uxtl24s(1, 2)
	g.p("VMOV R11, V3.D[0]")
	g.uxtl8h(3, 3)
	g.uxtl4s(2, 3)
	g.uxtl24s(3, 3)
	g.comment("mins · bsums over 32-element groups (int32, exact for any bsums)")
	g.p("ADD $260, R1, R13")
	g.p("VLD1 (R13), [V6.H8, V7.H8]")
	g.saddlp(6, 6)
	g.saddlp(7, 7)
	g.mul4s(4, 6, 2)
	g.mlaElemVec(4, 7, 3)
	g.p("VADDV V4.S4, V4")
	g.p("VMOV V4.S[0], R14")
	if q5 {
		g.p("FMOVQ 16(R0), F18")
		g.p("FMOVQ 32(R0), F19")
	}
	g.zero(5)
	for c := 0; c < 4; c++ {
		g.p("FMOVQ %d(R0), F6", qs+32*c)
		g.p("FMOVQ %d(R0), F7", qs+32*c+16)
		g.p("VAND V30.B16, V6.B16, V8.B16")
		g.p("VAND V30.B16, V7.B16, V9.B16")
		g.p("VUSHR $4, V6.B16, V10.B16")
		g.p("VUSHR $4, V7.B16, V11.B16")
		if q5 {
			for i, p := range [][2]int{{8, 18}, {9, 19}} {
				_ = i
				g.p("VAND V24.B16, V%d.B16, V22.B16", p[1])
				g.p("VSHL $4, V22.B16, V22.B16")
				g.p("VORR V22.B16, V%d.B16, V%d.B16", p[0], p[0])
			}
			for _, p := range [][2]int{{10, 18}, {11, 19}} {
				g.p("VAND V25.B16, V%d.B16, V23.B16", p[1])
				g.p("VSHL $3, V23.B16, V23.B16")
				g.p("VORR V23.B16, V%d.B16, V%d.B16", p[0], p[0])
			}
			g.p("VUSHR $2, V18.B16, V18.B16")
			g.p("VUSHR $2, V19.B16, V19.B16")
		}
		for i := 0; i < 4; i++ {
			g.p("FMOVQ %d(R1), F%d", 4+64*c+16*i, 12+i)
		}
		g.dotFresh(t, 16, 8, 12, 26, 27)
		g.dotAcc(t, 16, 9, 13, 26, 27)
		g.dotFresh(t, 17, 10, 14, 20, 21)
		g.dotAcc(t, 17, 11, 15, 20, 21)
		g.mlaElem(5, 16, (2*c)/4, (2*c)%4)
		g.mlaElem(5, 17, (2*c+1)/4, (2*c+1)%4)
	}
	g.p("VADDV V5.S4, V5")
	g.p("VMOV V5.S[0], R15")
	g.comment("sum += float32(isum)*(d_x*d_w); summ += float32(imin)*(d_x*dmin_w)")
	g.p("FMOVS (R1), F20")
	g.p("MOVHU (R0), R16")
	g.p("FMOVS R16, F21")
	g.p("FCVTHS F21, F21")
	g.p("MOVHU 2(R0), R17")
	g.p("FMOVS R17, F22")
	g.p("FCVTHS F22, F22")
	g.p("FMULS F21, F20, F21")
	g.p("FMULS F22, F20, F22")
	g.p("SCVTFWS R15, F23")
	g.p("FMULS F21, F23, F23")
	g.p("FADDS F23, F28, F28")
	g.p("SCVTFWS R14, F23")
	g.p("FMULS F22, F23, F23")
	g.p("FADDS F23, F29, F29")
	g.p("ADD $%d, R0", bsize)
	g.p("ADD $292, R1")
}

// mlaElemVec: Vd += Vn * Vm (int32 lanes), as MLA (vector).
func (g *gen) mlaElemVec(d, n, m int) {
	g.word(rrr(0x4ea09400, d, n, m), "mla v%d.4s, v%d.4s, v%d.4s", d, n, m)
}

// q6kBody: sc int32 in V3–V6, isum V10, ibs via V9.
func (g *gen) q6kBody(t tier) {
	g.p("FMOVQ 192(R0), F0")
	g.sxtl8h(1, 0)
	g.sxtl28h(2, 0)
	g.sxtl4s(3, 1)
	g.sxtl24s(4, 1)
	g.sxtl4s(5, 2)
	g.sxtl24s(6, 2)
	g.comment("Σ sc_i · bsum_i for the −32 offset")
	g.p("ADD $260, R1, R13")
	g.p("VLD1 (R13), [V7.H8, V8.H8]")
	g.smull4s(9, 7, 1)
	g.smlal24s(9, 7, 1)
	g.smlal4s(9, 8, 2)
	g.smlal24s(9, 8, 2)
	g.p("VADDV V9.S4, V9")
	g.p("VMOV V9.S[0], R14")
	g.zero(10)
	for h := 0; h < 2; h++ {
		for i := 0; i < 4; i++ {
			g.p("FMOVQ %d(R0), F%d", 64*h+16*i, 11+i)
		}
		g.p("FMOVQ %d(R0), F15", 128+32*h)
		g.p("FMOVQ %d(R0), F16", 128+32*h+16)
		// sub-block i (16 elements, scale sc[8h+i]): low/high nibble source and qh bits.
		for i := 0; i < 8; i++ {
			src := 11 + (i & 1) + 2*((i>>1)&1) // ql0, ql1, ql2, ql3, ...
			qh := 15 + (i & 1)
			a := 17 + (i & 1)
			hb := 24 + (i & 1)
			if i < 4 {
				g.p("VAND V30.B16, V%d.B16, V%d.B16", src, a)
			} else {
				g.p("VUSHR $4, V%d.B16, V%d.B16", src, a)
			}
			switch i >> 1 {
			case 0:
				g.p("VSHL $4, V%d.B16, V%d.B16", qh, hb)
			case 1:
				g.p("VSHL $2, V%d.B16, V%d.B16", qh, hb)
			case 2:
				g.p("VORR V%d.B16, V%d.B16, V%d.B16", qh, qh, hb)
			case 3:
				g.p("VUSHR $2, V%d.B16, V%d.B16", qh, hb)
			}
			g.p("VAND V31.B16, V%d.B16, V%d.B16", hb, hb)
			g.p("VORR V%d.B16, V%d.B16, V%d.B16", hb, a, a)
			y := 19
			if i&1 == 1 {
				y = 26
			}
			g.p("FMOVQ %d(R1), F%d", 4+128*h+16*i, y)
			p := 20 + i%4
			g.dotFresh(t, p, a, y, 27, 28)
			s := 8*h + i
			g.mlaElem(10, p, 3+s/4, s%4)
		}
	}
	g.p("VADDV V10.S4, V10")
	g.p("VMOV V10.S[0], R15")
	g.p("SUBW R14<<5, R15, R15")
	g.comment("sum += float32(isum - 32·ibs) * (d_x*d_w)")
	g.p("FMOVS (R1), F20")
	g.p("MOVHU 208(R0), R16")
	g.p("FMOVS R16, F21")
	g.p("FCVTHS F21, F21")
	g.p("FMULS F21, F20, F21")
	g.p("SCVTFWS R15, F23")
	g.p("FMULS F21, F23, F23")
	g.p("FADDS F23, F29, F29")
	g.p("ADD $210, R0")
	g.p("ADD $292, R1")
}

// quantize emits QuantizeQ8_0: R0 dst, R1 src, R2 blocks.
func (g *gen) quantize() {
	fn := "quantizeQ8_0NEON"
	fmt.Fprintf(&g.b, "\n// func %s(dst *byte, src *float32, nb int)\nTEXT ·%s(SB), NOSPLIT, $0-24\n", fn, fn)
	g.p("MOVD dst+0(FP), R0")
	g.p("MOVD src+8(FP), R1")
	g.p("MOVD nb+16(FP), R2")
	g.p("MOVW $0x42fe0000, R5") // 127.0
	g.p("FMOVS R5, F17")
	g.p("MOVW $0x3f800000, R5") // 1.0
	g.p("FMOVS R5, F18")
	g.p("CBZ R2, %s_done", fn)
	g.label(fn + "_loop")
	g.p("VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]")
	g.p("VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]")
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
	g.p("BEQ %s_id", fn)
	g.p("FDIVS F19, F18, F20") // id = 1/d
	g.label(fn + "_id")
	g.p("FCVTSH F19, F21")
	g.p("FMOVS F21, R6")
	g.p("MOVH R6, (R0)")
	for i := 0; i < 8; i++ {
		g.fmulElem0(i, i, 20)
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
	g.p("FMOVQ F0, 2(R0)")
	g.p("FMOVQ F4, 18(R0)")
	g.p("ADD $34, R0")
	g.p("SUB $1, R2")
	g.p("CBNZ R2, %s_loop", fn)
	g.label(fn + "_done")
	g.p("RET")
}

var kquants = []string{"Q4_KQ8_K", "Q5_KQ8_K", "Q6_KQ8_K"}

func main() {
	out := flag.String("o", ".", "output directory (kernels/neon)")
	flag.Parse()
	var g gen
	g.b.WriteString("// Code generated by kernels/neon/_gen; DO NOT EDIT.\n\n//go:build !purego\n\n#include \"textflag.h\"\n")
	for _, t := range []tier{tierSDOT, tierNEON} {
		for _, l := range legacies {
			g.legacyKernel(l, t)
		}
		for _, k := range kquants {
			g.kquant(k, t)
		}
	}
	g.dot2x2(legacies[0])
	g.dot2x2(legacies[4])
	g.quantize()
	write(filepath.Join(*out, "dot_arm64.s"), g.b.Bytes())
	write(filepath.Join(*out, "dot_arm64.go"), goFile())
}

func goFile() []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by kernels/neon/_gen; DO NOT EDIT.\n\n//go:build !purego\n\npackage neon\n")
	names := []string{}
	for _, l := range legacies {
		names = append(names, l.name)
	}
	names = append(names, kquants...)
	for _, n := range names {
		for _, t := range []tier{tierSDOT, tierNEON} {
			fmt.Fprintf(&b, "\n//go:noescape\nfunc dot%s%s(w, x *byte, nb int) float32\n", n, t.suffix())
		}
		fmt.Fprintf(&b, `
func dot%[1]s(w, x []byte, nb int) float32 {
	switch {
	case Features.DotProd:
		return dot%[1]sSDOT(&w[0], &x[0], nb)
	case Features.ASIMD:
		return dot%[1]sNEON(&w[0], &x[0], nb)
	}
	return dot%[1]sGeneric(w, x, nb)
}
`, n)
	}
	for _, n := range []string{"Q4_0Q8_0", "Q8_0Q8_0"} {
		fmt.Fprintf(&b, `
//go:noescape
func dot2x2%[1]sSMMLA(out *[4]float32, w0, w1, x0, x1 *byte, nb int)

func dot2x2%[1]s(out *[4]float32, w0, w1, x0, x1 []byte, nb int) {
	if Features.I8MM {
		dot2x2%[1]sSMMLA(out, &w0[0], &w1[0], &x0[0], &x1[0], nb)
		return
	}
	dot2x2Generic(out, dot%[1]s, w0, w1, x0, x1, nb)
}
`, n)
	}
	b.WriteString(`
//go:noescape
func quantizeQ8_0NEON(dst *byte, src *float32, nb int)

func quantizeQ8_0(dst []byte, src []float32) {
	if Features.ASIMD {
		quantizeQ8_0NEON(&dst[0], &src[0], len(src)/32)
		return
	}
	quantizeQ8_0Generic(dst, src)
}
`)
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	return src
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
