// Command arm64 writes kernels' arm64 assembly for packed weights
// (repack_arm64.s): the decode kernels over the 8-row interleaved layouts
// of kernels/repack.go and repack8.go (Q4_0, IQ4_NL, Q8_0), on SDOT by
// element. Run it with go generate in
// kernels.
//
// Instructions Go's assembler lacks are WORD directives with the GNU
// mnemonic in a comment; scripts/mca.sh re-assembles every such comment
// with llvm-mc and compares the words. Register use: R0–R9 only; all V
// registers are scratch in Go's arm64 ABI.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

type gen struct{ b bytes.Buffer }

func (g *gen) raw(s string)              { g.b.WriteString(s) }
func (g *gen) p(format string, a ...any) { fmt.Fprintf(&g.b, "\t"+format+"\n", a...) }
func (g *gen) label(l string)            { fmt.Fprintf(&g.b, "%s:\n", l) }
func (g *gen) word(enc uint32, gnu string, a ...any) {
	fmt.Fprintf(&g.b, "\tWORD\t$0x%08x // %s\n", enc, fmt.Sprintf(gnu, a...))
}

func rrr(base uint32, d, n, m int) uint32 { return base | uint32(m)<<16 | uint32(n)<<5 | uint32(d) }
func rr(base uint32, d, n int) uint32     { return base | uint32(n)<<5 | uint32(d) }

// elem adds a by-element index i (0..3, 32-bit elements: H at bit 11, L at
// bit 21) to an encoding whose Rm field holds a register below 32.
func elem(enc uint32, i int) uint32 { return enc | uint32(i&1)<<21 | uint32(i>>1)<<11 }

// sdotElem: sdot vd.4s, vn.16b, vm.4b[i] (FEAT_DotProd).
func (g *gen) sdotElem(d, n, m, i int) {
	g.word(elem(rrr(0x4f80e000, d, n, m), i), "sdot v%d.4s, v%d.16b, v%d.4b[%d]", d, n, m, i)
}
func (g *gen) scvtf(d, n int)  { g.word(rr(0x4e21d800, d, n), "scvtf v%d.4s, v%d.4s", d, n) }
func (g *gen) fcvtl(d, n int)  { g.word(rr(0x0e217800, d, n), "fcvtl v%d.4s, v%d.4h", d, n) }
func (g *gen) fcvtl2(d, n int) { g.word(rr(0x4e217800, d, n), "fcvtl2 v%d.4s, v%d.8h", d, n) }
func (g *gen) fmulElem(d, n, m, i int) {
	g.word(elem(rrr(0x4f809000, d, n, m), i), "fmul v%d.4s, v%d.4s, v%d.s[%d]", d, n, m, i)
}
func (g *gen) fmla(d, n, m int) {
	g.word(rrr(0x4e20cc00, d, n, m), "fmla v%d.4s, v%d.4s, v%d.4s", d, n, m)
}
func (g *gen) fadd(d, n, m int) {
	g.word(rrr(0x4e20d400, d, n, m), "fadd v%d.4s, v%d.4s, v%d.4s", d, n, m)
}

// Packed layouts (kernels/repack.go): per block of a group of eight rows,
// the eight fp16 scales (16 bytes), then the quants in chunks of 32 bytes
// (rows 0–3 in the first 16, rows 4–7 in the second, 4 bytes per row).
// Activation slots (packActLinear): 32 int8 quants, d as float32, int32
// correction.

// kind is a packed layout the decode kernel reads.
type kind struct {
	name   string // Go name stem: gemv<name>x8SDOT
	chunks int    // 32-byte quant chunks per packed block
	iq4    bool   // nibbles are IQ4_NL table indices
}

var kinds = []kind{{"Q4_0", 4, false}, {"IQ4_NL", 4, true}, {"Q8_0", 8, false}}

// gemv writes gemv<K>x8SDOT(y *float32, w, x *byte, nb int): one packed
// group against one activation row, blocks in pairs into even and odd
// accumulators (the float steps of gemvx8Generic).
func (g *gen) gemv(k kind) {
	name := "gemv" + k.name + "x8SDOT"
	g.raw("\n// func " + name + "(y *float32, w, x *byte, nb int)\n")
	g.raw("TEXT ·" + name + "(SB), NOSPLIT, $0-32\n")
	g.p("MOVD y+0(FP), R0")
	g.p("MOVD w+8(FP), R1")
	g.p("MOVD x+16(FP), R2")
	g.p("MOVD nb+24(FP), R3")
	g.p("VMOVI $15, V24.B16")
	if k.iq4 {
		// kvalues_iq4nl as int8 bytes, low then high half
		g.p("MOVD $0xf6eaddcfbfad9881, R5")
		g.p("VMOV R5, V29.D[0]")
		g.p("MOVD $0x7159453526190d01, R5")
		g.p("VMOV R5, V29.D[1]")
	}
	for _, v := range []int{25, 26, 27, 28} {
		g.p("VEOR V%d.B16, V%[1]d.B16, V%[1]d.B16", v)
	}
	g.p("LSR $1, R3, R4")
	g.p("CBZ R4, %s_tail", name)
	g.label(name + "_loop")
	g.block(k, 25, 26)
	g.block(k, 27, 28)
	g.p("SUB $1, R4, R4")
	g.p("CBNZ R4, %s_loop", name)
	g.label(name + "_tail")
	g.p("TBZ $0, R3, %s_done", name)
	g.block(k, 25, 26)
	g.label(name + "_done")
	g.fadd(25, 25, 27)
	g.fadd(26, 26, 28)
	g.p("VST1 [V25.S4, V26.S4], (R0)")
	g.p("RET")
}

// block multiplies one packed block (R1) with one activation slot (R2),
// adding row r's float32(isum)·(d_w·d_x) (fused) to lane r of acc0 (rows
// 0–3) and acc1 (rows 4–7); R1 and R2 advance past them.
func (g *gen) block(k kind, acc0, acc1 int) {
	// immediate-offset loads (LDR q/d): the base registers advance once
	// per block, not once per load as post-indexed loads would
	g.p("FMOVQ (R1), F16")
	for i := 0; i < 2*k.chunks; i++ {
		g.p("FMOVQ %d(R1), F%d", 16+16*i, i)
	}
	g.p("FMOVQ (R2), F17")
	g.p("FMOVQ 16(R2), F18")
	g.p("FMOVD 32(R2), F19")
	g.p("ADD $%d, R1, R1", 16+32*k.chunks)
	g.p("ADD $%d, R2, R2", 40)
	// integer sums start at the activation's correction (−8·Σq for Q4_0)
	g.p("VDUP V19.S[1], V20.S4")
	g.p("VDUP V19.S[1], V21.S4")
	// lo[c], hi[c]: the registers holding chunk c's elements 4c..4c+3
	// (activation lane c of V17) and 16+4c.. (V18), rows 0–3 then 4–7
	var lo, hi [4][2]int
	if k.chunks == 4 {
		for c := 0; c < 8; c++ {
			g.p("VAND V24.B16, V%d.B16, V%d.B16", c, 8+c)
			g.p("VUSHR $4, V%d.B16, V%[1]d.B16", c)
			if k.iq4 {
				g.p("VTBL V%d.B16, [V29.B16], V%[1]d.B16", 8+c)
				g.p("VTBL V%d.B16, [V29.B16], V%[1]d.B16", c)
			}
		}
		for c := 0; c < 4; c++ {
			lo[c] = [2]int{8 + 2*c, 9 + 2*c}
			hi[c] = [2]int{2 * c, 2*c + 1}
		}
	} else {
		for c := 0; c < 4; c++ {
			lo[c] = [2]int{2 * c, 2*c + 1}
			hi[c] = [2]int{8 + 2*c, 9 + 2*c}
		}
	}
	for c := 0; c < 4; c++ {
		g.sdotElem(20, lo[c][0], 17, c)
		g.sdotElem(21, lo[c][1], 17, c)
	}
	for c := 0; c < 4; c++ {
		g.sdotElem(20, hi[c][0], 18, c)
		g.sdotElem(21, hi[c][1], 18, c)
	}
	g.fcvtl(22, 16)
	g.fcvtl2(23, 16)
	g.fmulElem(22, 22, 19, 0)
	g.fmulElem(23, 23, 19, 0)
	g.scvtf(20, 20)
	g.scvtf(21, 21)
	g.fmla(acc0, 20, 22)
	g.fmla(acc1, 21, 23)
}

// gemmPass writes gemmQ8x4SDOT(y *float32, ldy int, w, s, a *byte, nb int),
// one pass of the prefill micro-kernel over the strip and activation-group
// layouts of kernels/gemm.go: 8 weight rows (w: the strip plus 32·h bytes,
// s: its fp16 scales of those rows) × 4 activation rows (a: the group plus
// 4·q slots), all nb blocks, y[c·ldy+r] for r < 8, c < 4. Per block and
// output the integer sum starts at the slot's correction, gathers 32
// products by SDOT by element, and is added to the float accumulator as
// float32(isum)·(d_w·d_x), fused (gemmStripGeneric's steps).
func (g *gen) gemmPass() {
	const name = "gemmQ8x4SDOT"
	const strip, slot, group = 576, 40, 8 * 40
	g.raw("\n// func " + name + "(y *float32, ldy int, w, s, a *byte, nb int)\n")
	g.raw("TEXT ·" + name + "(SB), NOSPLIT, $0-48\n")
	g.p("MOVD y+0(FP), R0")
	g.p("MOVD ldy+8(FP), R1")
	g.p("MOVD w+16(FP), R2")
	g.p("MOVD s+24(FP), R7")
	g.p("MOVD a+32(FP), R3")
	g.p("MOVD nb+40(FP), R4")
	g.p("LSL $2, R1, R1")
	for v := 24; v < 32; v++ {
		g.p("VEOR V%d.B16, V%[1]d.B16, V%[1]d.B16", v)
	}
	g.p("CBZ R4, %s_store", name)
	g.label(name + "_loop")
	// immediate-offset loads (LDR q/d): no address arithmetic and no
	// post-index chains. V8+2c, V9+2c: the quants of activation row c
	// (elements 0–15, 16–31); V4+c: its d_x (lane 0) and correction
	// (lane 1); V16+2c, V17+2c: its integer sums with rows 0–3 and 4–7,
	// starting at the correction.
	for c := 0; c < 4; c++ {
		g.p("FMOVQ %d(R3), F%d", slot*c, 8+2*c)
		g.p("FMOVQ %d(R3), F%d", slot*c+16, 9+2*c)
		g.p("FMOVD %d(R3), F%d", slot*c+32, 4+c)
		g.p("VDUP V%d.S[1], V%d.S4", 4+c, 16+2*c)
		g.p("VDUP V%d.S[1], V%d.S4", 4+c, 17+2*c)
	}
	// chunk k: rows 0–3 and 4–7 × elements 4k..4k+3 (lane k%4 of the low
	// or high quants)
	for k := 0; k < 8; k++ {
		w0 := 2 * (k % 2)
		g.p("FMOVQ %d(R2), F%d", 64*k, w0)
		g.p("FMOVQ %d(R2), F%d", 64*k+16, w0+1)
		for c := 0; c < 4; c++ {
			x := 8 + 2*c + k/4
			g.sdotElem(16+2*c, w0, x, k%4)
			g.sdotElem(17+2*c, w0+1, x, k%4)
		}
	}
	g.p("FMOVQ (R7), F0")
	g.fcvtl(1, 0)
	g.fcvtl2(2, 0)
	for c := 0; c < 4; c++ {
		g.fmulElem(9+2*c, 2, 4+c, 0)
		g.fmulElem(8+2*c, 1, 4+c, 0)
		g.scvtf(16+2*c, 16+2*c)
		g.scvtf(17+2*c, 17+2*c)
		g.fmla(24+2*c, 16+2*c, 8+2*c)
		g.fmla(25+2*c, 17+2*c, 9+2*c)
	}
	g.p("ADD $%d, R2, R2", strip)
	g.p("ADD $%d, R7, R7", strip)
	g.p("ADD $%d, R3, R3", group)
	g.p("SUB $1, R4, R4")
	g.p("CBNZ R4, %s_loop", name)
	g.label(name + "_store")
	for c := 0; c < 4; c++ {
		g.p("VST1 [V%d.S4, V%d.S4], (R0)", 24+2*c, 25+2*c)
		g.p("ADD R1, R0, R0")
	}
	g.p("RET")
}

func main() {
	out := flag.String("o", ".", "output directory (kernels)")
	flag.Parse()
	var g gen
	g.raw("// Code generated by kernels/_gen/arm64; DO NOT EDIT.\n\n//go:build !purego\n\n#include \"textflag.h\"\n")
	for _, k := range kinds {
		g.gemv(k)
	}
	g.gemmPass()
	if err := os.WriteFile(filepath.Join(*out, "repack_arm64.s"), g.b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
