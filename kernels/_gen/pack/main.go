// Command pack writes kernels' data-movement assembly (pack_amd64.s with
// AVX2, pack_arm64.s with NEON): the load-time repacking of whole blocks of
// eight rows into the packed layouts of kernels/repack.go, repack8.go and
// repackk.go and back (packx8*, unpackx8*), and the unpacking of eight
// weight rows into the prefill GEMM's strip (stripx8*, kernels/gemm.go).
// Run it with go generate in kernels.
//
// Every kernel is made of one step: the 4×4 transpose of 32-bit words
// that takes 16 bytes of each of four rows to 16-byte pieces holding one
// word of each row (on amd64 rows r and r+4 share a 256-bit register, one
// per 128-bit lane, so one transpose serves eight rows). The transpose is
// its own inverse, so the same network unpacks. Each load and store stays
// inside the block it belongs to: no kernel reads or writes a byte outside
// its rows' blocks.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

// word is one 4×4 transpose of a block: 16 bytes at file offset src of
// each of the eight rows ↔ four 32-byte chunks at packed offset dst + 32c
// (c = 0..3, rows 0..7 at 4r within a chunk). skip0 leaves chunk 0 out
// (when packing: not stored; when unpacking: the row's first four bytes
// get written later by a scalar move).
type word struct {
	src, dst int
	skip0    bool
}

// layout is a packed layout: per file block of size bytes, its fp16
// scalars (file offset → packed offset + 2r), word transposes, and the
// Q6_K scale bytes (16 bytes at file offset scale8 ↔ byte s of row r at
// packed offset 16 + 8s + r; 0: none).
type layout struct {
	name   string
	size   int
	halves []struct{ src, dst int }
	words  []word
	scale8 int
}

func layouts() []layout {
	var q4, q8, q4k, q6k layout
	q4 = layout{name: "Q4", size: 18, words: []word{{src: 2, dst: 16}}}
	q4.halves = append(q4.halves, struct{ src, dst int }{0, 0})
	q8 = layout{name: "Q8", size: 34, words: []word{{src: 2, dst: 16}, {src: 18, dst: 144}}}
	q8.halves = q4.halves
	// Q4_K: d at 0, dmin at 2, 12 scale bytes at 4, 128 nibble bytes at 16;
	// packed: d ×8 at 0, dmin ×8 at 16, scale chunks at 32, nibbles at 128.
	q4k = layout{name: "Q4K", size: 144, words: []word{{src: 0, dst: 0, skip0: true}}}
	q4k.halves = append(q4k.halves, struct{ src, dst int }{0, 0}, struct{ src, dst int }{2, 16})
	for j := 0; j < 8; j++ {
		q4k.words = append(q4k.words, word{src: 16 + 16*j, dst: 128 + 128*j})
	}
	// Q6_K: ql 128 bytes at 0, qh 64 at 128, 16 scales at 192, d at 208;
	// packed: d ×8 at 0, scales at 16, ql and qh chunks from 144 on.
	q6k = layout{name: "Q6K", size: 210, scale8: 192}
	q6k.halves = append(q6k.halves, struct{ src, dst int }{208, 0})
	for j := 0; j < 12; j++ {
		q6k.words = append(q6k.words, word{src: 16 * j, dst: 144 + 128*j})
	}
	return []layout{q4, q8, q4k, q6k}
}

type gen struct{ b bytes.Buffer }

func (g *gen) raw(s string)              { g.b.WriteString(s) }
func (g *gen) p(format string, a ...any) { fmt.Fprintf(&g.b, "\t"+format+"\n", a...) }
func (g *gen) label(l string)            { fmt.Fprintf(&g.b, "%s:\n", l) }

// ---- amd64 (AVX2) ----
//
// Registers: DI packed (or strip) pointer, SI file row 0, R12 file row 4,
// DX wrow, R10 3·wrow, CX block count, R11 strip scales; Y0–Y7 the
// transpose, Y8–Y15 constants and temporaries.

// row is the amd64 address of file row r at offset off.
func row(r, off int) string {
	base := "SI"
	if r >= 4 {
		base, r = "R12", r-4
	}
	idx := [...]string{"", "(DX*1)", "(DX*2)", "(R10*1)"}[r]
	return fmt.Sprintf("%d(%s)%s", off, base, idx)
}

func (g *gen) amdPrologue() {
	g.p("MOVQ p+0(FP), DI")
	g.p("MOVQ f+8(FP), SI")
	g.p("MOVQ wrow+16(FP), DX")
	g.p("MOVQ nb+24(FP), CX")
	g.p("LEAQ (DX)(DX*2), R10")
	g.p("LEAQ (SI)(DX*4), R12")
}

// amdLoadRows loads 16 bytes at off of the eight rows into Y0–Y3 (rows r
// and r+4 in the two lanes of Yr).
func (g *gen) amdLoadRows(off int) { g.amdLoadRowsTo(off, 0) }

// amdLoadRowsTo is amdLoadRows into Y(base)–Y(base+3).
func (g *gen) amdLoadRowsTo(off, base int) {
	for r := 0; r < 4; r++ {
		g.p("VMOVDQU %s, X%d", row(r, off), base+r)
		g.p("VINSERTI128 $1, %s, Y%d, Y%d", row(r+4, off), base+r, base+r)
	}
}

// amdTranspose transposes the 32-bit words of Y0–Y3 per lane (Y4–Y7
// scratch): afterwards Yc holds word c of each of the lane's four inputs.
func (g *gen) amdTranspose() { g.amdTransposeAt(0) }

// amdTransposeAt is amdTranspose of Y(base)–Y(base+3), Y4–Y7 scratch.
func (g *gen) amdTransposeAt(base int) {
	y := func(i int) int { return base + i }
	g.p("VPUNPCKLDQ Y%d, Y%d, Y4", y(1), y(0))
	g.p("VPUNPCKHDQ Y%d, Y%d, Y5", y(1), y(0))
	g.p("VPUNPCKLDQ Y%d, Y%d, Y6", y(3), y(2))
	g.p("VPUNPCKHDQ Y%d, Y%d, Y7", y(3), y(2))
	g.p("VPUNPCKLQDQ Y6, Y4, Y%d", y(0))
	g.p("VPUNPCKHQDQ Y6, Y4, Y%d", y(1))
	g.p("VPUNPCKLQDQ Y7, Y5, Y%d", y(2))
	g.p("VPUNPCKHQDQ Y7, Y5, Y%d", y(3))
}

// amdStoreRows stores the lanes of Y0–Y3 as 16 bytes at off of the rows.
func (g *gen) amdStoreRows(off int) {
	for r := 0; r < 4; r++ {
		g.p("VMOVDQU X%d, %s", r, row(r, off))
		g.p("VEXTRACTI128 $1, Y%d, %s", r, row(r+4, off))
	}
}

func (g *gen) amdHalves(l layout, pack bool, dst string, stride int) {
	for _, h := range l.halves {
		for r := 0; r < 8; r++ {
			if pack {
				g.p("MOVWLZX %s, AX", row(r, h.src))
				g.p("MOVW AX, %d(%s)", h.dst+stride*r, dst)
			} else {
				g.p("MOVWLZX %d(%s), AX", h.dst+stride*r, dst)
				g.p("MOVW AX, %s", row(r, h.src))
			}
		}
	}
}

// amdNext advances to the next block: file rows by size, DI by pstep.
func (g *gen) amdNext(size, pstep int) {
	g.p("ADDQ $%d, SI", size)
	g.p("ADDQ $%d, R12", size)
	g.p("ADDQ $%d, DI", pstep)
	g.p("DECQ CX")
}

func (g *gen) amdMove(l layout, pack bool) {
	name := "unpackx8" + l.name + "AVX2"
	if pack {
		name = "packx8" + l.name + "AVX2"
	}
	g.raw("\n// func " + name + "(p, f *byte, wrow, nb int)\n")
	g.raw("TEXT ·" + name + "(SB), NOSPLIT, $0-32\n")
	g.amdPrologue()
	if l.scale8 != 0 {
		g.p("VMOVDQU q6kScaleShuf<>(SB), Y8")
		if pack {
			g.p("VMOVDQU q6kScalePerm<>(SB), Y9")
		} else {
			g.p("VMOVDQU q6kScaleUnperm<>(SB), Y9")
		}
	}
	g.p("TESTQ CX, CX")
	g.p("JLE %s_done", name)
	g.label(name + "_loop")
	if !pack {
		// unpack: the skip0 transposes first, their row bytes 0..3 then
		// overwritten by the scalar moves
		for _, w := range l.words {
			for c := 0; c < 4; c++ {
				if c == 0 && w.skip0 {
					g.p("VPXOR Y0, Y0, Y0")
					continue
				}
				g.p("VMOVDQU %d(DI), Y%d", w.dst+32*c, c)
			}
			g.amdTranspose()
			g.amdStoreRows(w.src)
		}
		if l.scale8 != 0 {
			for c := 0; c < 4; c++ {
				g.p("VMOVDQU %d(DI), Y%d", 16+32*c, c)
				g.p("VPERMD Y%d, Y9, Y%d", c, c)
				g.p("VPSHUFB Y8, Y%d, Y%d", c, c)
			}
			g.amdTranspose()
			g.amdStoreRows(l.scale8)
		}
		g.amdHalves(l, false, "DI", 2)
	} else {
		g.amdHalves(l, true, "DI", 2)
		for _, w := range l.words {
			g.amdLoadRows(w.src)
			g.amdTranspose()
			for c := 0; c < 4; c++ {
				if c == 0 && w.skip0 {
					continue
				}
				g.p("VMOVDQU Y%d, %d(DI)", c, w.dst+32*c)
			}
		}
		if l.scale8 != 0 {
			g.amdLoadRows(l.scale8)
			g.amdTranspose()
			for c := 0; c < 4; c++ {
				g.p("VPSHUFB Y8, Y%d, Y%d", c, c)
				g.p("VPERMD Y%d, Y9, Y%d", c, c)
				g.p("VMOVDQU Y%d, %d(DI)", c, 16+32*c)
			}
		}
	}
	g.amdNext(l.size, 8*l.size)
	g.p("JNZ %s_loop", name)
	g.label(name + "_done")
	g.p("VZEROUPPER")
	g.p("RET")
}

// amdStrip writes the strip kernels: stripx8NibAVX2(p, f *byte, wrow, nb
// int, sc, lut *byte) for 18-byte blocks of nibbles (Q4_0, IQ4_NL: every
// nibble looked up in lut) and stripx8Q8AVX2(p, f *byte, wrow, nb int, sc
// *byte, flip int) for Q8_0 (bytes XORed with flip). p is the strip at
// the eight rows' first byte, sc their first scale.
func (g *gen) amdStrip(nib bool) {
	name, args := "stripx8Q8AVX2", "(p, f *byte, wrow, nb int, sc *byte, flip int)"
	if nib {
		name, args = "stripx8NibAVX2", "(p, f *byte, wrow, nb int, sc, lut *byte)"
	}
	g.raw("\n// func " + name + args + "\n")
	g.raw("TEXT ·" + name + "(SB), NOSPLIT, $0-48\n")
	g.amdPrologue()
	g.p("MOVQ sc+32(FP), R11")
	if nib {
		g.p("MOVQ lut+40(FP), AX")
		g.p("VBROADCASTI128 (AX), Y8")
		g.p("MOVL $0x0f0f0f0f, AX")
		g.p("MOVQ AX, X9")
		g.p("VPBROADCASTD X9, Y9")
	} else {
		g.p("MOVQ flip+40(FP), AX")
		g.p("MOVQ AX, X8")
		g.p("VPBROADCASTB X8, Y8")
	}
	g.p("TESTQ CX, CX")
	g.p("JLE %s_done", name)
	g.label(name + "_loop")
	if nib {
		// The rows come from DRAM (a prefill reads each weight once):
		// fetching each row 384 bytes ahead hides part of the latency
		// the eight streams' page boundaries expose (unpacking a 512 MiB
		// file mapping: 3.7 -> 3.9-4.3 GB/s on one EPYC core).
		for r := 0; r < 8; r++ {
			g.p("PREFETCHT0 %s", row(r, 384))
		}
	}
	for r := 0; r < 8; r++ {
		g.p("MOVWLZX %s, AX", row(r, 0))
		g.p("MOVW AX, %d(R11)", 2*r)
	}
	if nib {
		g.amdLoadRows(2)
		g.amdTranspose()
		for c := 0; c < 4; c++ {
			g.p("VPSRLW $4, Y%d, Y%d", c, 4+c)
			g.p("VPAND Y9, Y%d, Y%d", c, c)
			g.p("VPAND Y9, Y%d, Y%d", 4+c, 4+c)
			g.p("VPSHUFB Y%d, Y8, Y%d", c, c)
			g.p("VPSHUFB Y%d, Y8, Y%d", 4+c, 4+c)
			g.p("VMOVDQU Y%d, %d(DI)", c, 64*c)
			g.p("VMOVDQU Y%d, %d(DI)", 4+c, 64*(4+c))
		}
	} else {
		for j := 0; j < 2; j++ {
			g.amdLoadRows(2 + 16*j)
			g.amdTranspose()
			for c := 0; c < 4; c++ {
				g.p("VPXOR Y8, Y%d, Y%d", c, c)
				g.p("VMOVDQU Y%d, %d(DI)", c, 64*(4*j+c))
			}
		}
	}
	g.p("ADDQ $576, R11")
	g.amdNext(18+16*boolInt(!nib), 576)
	g.p("JNZ %s_loop", name)
	g.label(name + "_done")
	g.p("VZEROUPPER")
	g.p("RET")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// q6kData: the byte shuffle that turns a chunk of four scale bytes of
// each row (per lane: rows × bytes) into bytes × rows, and the word
// permutations that interleave the lanes' halves (rows 0–3 then 4–7 of
// each scale) and undo that.
func (g *gen) amdData() {
	shuf := []byte{0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15}
	g.raw("\n")
	for lane := 0; lane < 2; lane++ {
		for q := 0; q < 2; q++ {
			var v uint64
			for i := 7; i >= 0; i-- {
				v = v<<8 | uint64(shuf[8*q+i])
			}
			g.raw(fmt.Sprintf("DATA q6kScaleShuf<>+%d(SB)/8, $0x%016x\n", 16*lane+8*q, v))
		}
	}
	g.raw("GLOBL q6kScaleShuf<>(SB), RODATA|NOPTR, $32\n\n")
	perm := [8]uint32{0, 4, 1, 5, 2, 6, 3, 7}
	var unperm [8]uint32
	for i, p := range perm {
		unperm[p] = uint32(i)
	}
	for _, t := range []struct {
		name string
		v    [8]uint32
	}{{"q6kScalePerm", perm}, {"q6kScaleUnperm", unperm}} {
		for i := 0; i < 8; i++ {
			g.raw(fmt.Sprintf("DATA %s<>+%d(SB)/4, $%d\n", t.name, 4*i, t.v[i]))
		}
		g.raw(fmt.Sprintf("GLOBL %s<>(SB), RODATA|NOPTR, $32\n\n", t.name))
	}
}

// ---- arm64 (NEON) ----
//
// Registers: R0 packed (or strip) pointer, R1 strip scales, R2 wrow, R3
// block count, R4–R11 file rows 0..7, R12 scratch; V0–V7 the rows, V8–V15
// transpose scratch, V16–V23 chunk c of rows 0–3 in V(16+2c) and of rows
// 4–7 in V(17+2c), V24–V31 constants and temporaries.

func (g *gen) armPrologue() {
	g.p("MOVD p+0(FP), R0")
	g.p("MOVD f+8(FP), R4")
	g.p("MOVD wrow+16(FP), R2")
	g.p("MOVD nb+24(FP), R3")
	for r := 1; r < 8; r++ {
		g.p("ADD R2, R%d, R%d", 3+r, 4+r)
	}
}

// armTranspose transposes the words of the four registers in (rows or
// chunks) into the four registers out (Vout[c] word i = Vin[i] word c),
// with V8+4·t.. as scratch.
func (g *gen) armTranspose(in, out [4]int, t int) {
	s := 8 + 4*t
	g.p("VTRN1 V%d.S4, V%d.S4, V%d.S4", in[1], in[0], s)
	g.p("VTRN2 V%d.S4, V%d.S4, V%d.S4", in[1], in[0], s+1)
	g.p("VTRN1 V%d.S4, V%d.S4, V%d.S4", in[3], in[2], s+2)
	g.p("VTRN2 V%d.S4, V%d.S4, V%d.S4", in[3], in[2], s+3)
	g.p("VTRN1 V%d.D2, V%d.D2, V%d.D2", s+2, s, out[0])
	g.p("VTRN1 V%d.D2, V%d.D2, V%d.D2", s+3, s+1, out[1])
	g.p("VTRN2 V%d.D2, V%d.D2, V%d.D2", s+2, s, out[2])
	g.p("VTRN2 V%d.D2, V%d.D2, V%d.D2", s+3, s+1, out[3])
}

var (
	lowRows  = [4]int{0, 1, 2, 3}
	highRows = [4]int{4, 5, 6, 7}
	lowCh    = [4]int{16, 18, 20, 22}
	highCh   = [4]int{17, 19, 21, 23}
)

// armRowsToChunks loads 16 bytes at off of the eight rows and transposes
// them into V16–V23.
func (g *gen) armRowsToChunks(off int) { g.armRowsToChunksAt(off, 16) }

// armRowsToChunksAt is armRowsToChunks into V(base)–V(base+7) (chunk c of
// rows 0–3 in V(base+2c), of rows 4–7 in V(base+2c+1)).
func (g *gen) armRowsToChunksAt(off, base int) {
	for r := 0; r < 8; r++ {
		g.p("FMOVQ %d(R%d), F%d", off, 4+r, r)
	}
	g.armTranspose(lowRows, [4]int{base, base + 2, base + 4, base + 6}, 0)
	g.armTranspose(highRows, [4]int{base + 1, base + 3, base + 5, base + 7}, 1)
}

// armChunksToRows transposes V16–V23 back and stores 16 bytes at off of
// the eight rows.
func (g *gen) armChunksToRows(off int) {
	g.armTranspose(lowCh, lowRows, 0)
	g.armTranspose(highCh, highRows, 1)
	for r := 0; r < 8; r++ {
		g.p("FMOVQ F%d, %d(R%d)", r, off, 4+r)
	}
}

func (g *gen) armHalves(l layout, pack bool, dst string, stride int) {
	for _, h := range l.halves {
		for r := 0; r < 8; r++ {
			if pack {
				g.p("MOVHU %d(R%d), R12", h.src, 4+r)
				g.p("MOVH R12, %d(%s)", h.dst+stride*r, dst)
			} else {
				g.p("MOVHU %d(%s), R12", h.dst+stride*r, dst)
				g.p("MOVH R12, %d(R%d)", h.src, 4+r)
			}
		}
	}
}

func (g *gen) armNext(size, pstep int) {
	for r := 0; r < 8; r++ {
		g.p("ADD $%d, R%d", size, 4+r)
	}
	g.p("ADD $%d, R0", pstep)
	g.p("SUBS $1, R3")
}

// armScaleShuf loads the 4×4 byte transpose pattern into V24.
func (g *gen) armScaleShuf() {
	g.p("VMOVQ $0x0d0905010c080400, $0x0f0b07030e0a0602, V24")
}

func (g *gen) armMove(l layout, pack bool) {
	name := "unpackx8" + l.name + "NEON"
	if pack {
		name = "packx8" + l.name + "NEON"
	}
	g.raw("\n// func " + name + "(p, f *byte, wrow, nb int)\n")
	g.raw("TEXT ·" + name + "(SB), NOSPLIT, $0-32\n")
	g.armPrologue()
	if l.scale8 != 0 {
		g.armScaleShuf()
	}
	g.p("CBZ R3, %s_done", name)
	g.label(name + "_loop")
	if !pack {
		for _, w := range l.words {
			for c := 0; c < 4; c++ {
				if c == 0 && w.skip0 {
					g.p("VEOR V16.B16, V16.B16, V16.B16")
					g.p("VEOR V17.B16, V17.B16, V17.B16")
					continue
				}
				g.p("FMOVQ %d(R0), F%d", w.dst+32*c, lowCh[c])
				g.p("FMOVQ %d(R0), F%d", w.dst+32*c+16, highCh[c])
			}
			g.armChunksToRows(w.src)
		}
		if l.scale8 != 0 {
			for c := 0; c < 4; c++ {
				g.p("FMOVQ %d(R0), F25", 16+32*c)
				g.p("FMOVQ %d(R0), F26", 16+32*c+16)
				g.p("VUZP1 V26.S4, V25.S4, V%d.S4", lowCh[c])
				g.p("VUZP2 V26.S4, V25.S4, V%d.S4", highCh[c])
				g.p("VTBL V24.B16, [V%d.B16], V%d.B16", lowCh[c], lowCh[c])
				g.p("VTBL V24.B16, [V%d.B16], V%d.B16", highCh[c], highCh[c])
			}
			g.armChunksToRows(l.scale8)
		}
		g.armHalves(l, false, "R0", 2)
	} else {
		g.armHalves(l, true, "R0", 2)
		for _, w := range l.words {
			g.armRowsToChunks(w.src)
			for c := 0; c < 4; c++ {
				if c == 0 && w.skip0 {
					continue
				}
				g.p("FMOVQ F%d, %d(R0)", lowCh[c], w.dst+32*c)
				g.p("FMOVQ F%d, %d(R0)", highCh[c], w.dst+32*c+16)
			}
		}
		if l.scale8 != 0 {
			g.armRowsToChunks(l.scale8)
			for c := 0; c < 4; c++ {
				g.p("VTBL V24.B16, [V%d.B16], V25.B16", lowCh[c])
				g.p("VTBL V24.B16, [V%d.B16], V26.B16", highCh[c])
				g.p("VZIP1 V26.S4, V25.S4, V27.S4")
				g.p("VZIP2 V26.S4, V25.S4, V28.S4")
				g.p("FMOVQ F27, %d(R0)", 16+32*c)
				g.p("FMOVQ F28, %d(R0)", 16+32*c+16)
			}
		}
	}
	g.armNext(l.size, 8*l.size)
	g.p("BNE %s_loop", name)
	g.label(name + "_done")
	g.p("RET")
}

// armStrip is amdStrip for NEON (stripx8NibNEON, stripx8Q8NEON).
func (g *gen) armStrip(nib bool) {
	name, args := "stripx8Q8NEON", "(p, f *byte, wrow, nb int, sc *byte, flip int)"
	if nib {
		name, args = "stripx8NibNEON", "(p, f *byte, wrow, nb int, sc, lut *byte)"
	}
	g.raw("\n// func " + name + args + "\n")
	g.raw("TEXT ·" + name + "(SB), NOSPLIT, $0-48\n")
	g.armPrologue()
	g.p("MOVD sc+32(FP), R1")
	if nib {
		g.p("MOVD lut+40(FP), R12")
		g.p("FMOVQ (R12), F24")
		g.p("VMOVI $15, V25.B16")
	} else {
		g.p("MOVD flip+40(FP), R12")
		g.p("VDUP R12, V24.B16")
	}
	g.p("CBZ R3, %s_done", name)
	g.label(name + "_loop")
	for r := 0; r < 8; r++ {
		g.p("MOVHU (R%d), R12", 4+r)
		g.p("MOVH R12, %d(R1)", 2*r)
	}
	if nib {
		g.armRowsToChunks(2)
		for c := 0; c < 4; c++ {
			for i, v := range []int{lowCh[c], highCh[c]} {
				g.p("VAND V25.B16, V%d.B16, V26.B16", v)
				g.p("VUSHR $4, V%d.B16, V27.B16", v)
				g.p("VTBL V26.B16, [V24.B16], V26.B16")
				g.p("VTBL V27.B16, [V24.B16], V27.B16")
				g.p("FMOVQ F26, %d(R0)", 64*c+16*i)
				g.p("FMOVQ F27, %d(R0)", 64*(4+c)+16*i)
			}
		}
	} else {
		for j := 0; j < 2; j++ {
			g.armRowsToChunks(2 + 16*j)
			for c := 0; c < 4; c++ {
				for i, v := range []int{lowCh[c], highCh[c]} {
					g.p("VEOR V24.B16, V%d.B16, V%d.B16", v, v)
					g.p("FMOVQ F%d, %d(R0)", v, 64*(4*j+c)+16*i)
				}
			}
		}
	}
	g.p("ADD $576, R1")
	g.armNext(18+16*boolInt(!nib), 576)
	g.p("BNE %s_loop", name)
	g.label(name + "_done")
	g.p("RET")
}

// kStrip is a K-quant strip kernel: the quants of eight rows of nb
// super-blocks into their lanes of the strip (kernels/gemm.go,
// packStripK: per 5120-byte strip block, chunk c at 64c holds elements
// 4c..4c+3 of each row; the float scale vectors stay with the Go code).
type kStrip struct {
	name string
	size int
	qs   int // Q4_K/Q5_K: offset of the nibbles; Q6_K: 0
	q5   bool
	q6   bool
}

var kStrips = []kStrip{{"Q4K", 144, 16, false, false}, {"Q5K", 176, 48, true, false}, {"Q6K", 210, 0, false, true}}

// q4KChunks are the strip chunks of the 16 bytes at qs+32c+16h of a
// Q4_K/Q5_K row: word i holds elements 64c+4(4h+i)… (low nibbles) and the
// same +32 (high nibbles), chunks 16c+4h+i and 16c+8+4h+i.
func q4KChunks(c, h, i int) (lo, hi int) { return 16*c + 4*h + i, 16*c + 8 + 4*h + i }

// q5Shift is the left shift (negative: right) that takes bit b of a byte
// to bit 4.
func q5Shift(b int) int { return 4 - b }

// amdShiftBytes shifts Ysrc into Ydst by shift bits (negative: right) as
// 16-bit words: the caller masks the bits that crossed a byte.
func (g *gen) amdShiftBytes(shift, src, dst int) {
	switch {
	case shift > 0:
		g.p("VPSLLW $%d, Y%d, Y%d", shift, src, dst)
	case shift < 0:
		g.p("VPSRLW $%d, Y%d, Y%d", -shift, src, dst)
	default:
		g.p("VMOVDQA Y%d, Y%d", src, dst)
	}
}

// amdKStrip writes stripx8<K>AVX2(p, f *byte, wrow, nb int). Y15 holds
// 0x0F bytes, Y14 0x10 (Q5_K's fifth bit) or 0x30 (Q6_K's two high bits),
// Y8–Y11 the transposed high bits.
func (g *gen) amdKStrip(k kStrip) {
	name := "stripx8" + k.name + "AVX2"
	g.raw("\n// func " + name + "(p, f *byte, wrow, nb int)\n")
	g.raw("TEXT ·" + name + "(SB), NOSPLIT, $0-32\n")
	g.amdPrologue()
	g.p("MOVL $0x0f0f0f0f, AX")
	g.p("MOVQ AX, X15")
	g.p("VPBROADCASTD X15, Y15")
	hiMask := 0x10
	if k.q6 {
		hiMask = 0x30
	}
	g.p("MOVL $0x%02x%02x%02x%02x, AX", hiMask, hiMask, hiMask, hiMask)
	g.p("MOVQ AX, X14")
	g.p("VPBROADCASTD X14, Y14")
	g.p("TESTQ CX, CX")
	g.p("JLE %s_done", name)
	g.label(name + "_loop")
	// prefetch each row two super-blocks ahead (as the 32-element strips)
	for r := 0; r < 8; r++ {
		for l := 0; l < 3; l++ {
			g.p("PREFETCHT0 %s", row(r, 2*k.size+64*l))
		}
	}
	// or merges the high bits t (already at their place, masked) into v
	or := func(t, v int) { g.p("VPAND Y14, Y%d, Y%d", t, t); g.p("VPOR Y%d, Y%d, Y%d", t, v, v) }
	store := func(v, chunk int) { g.p("VMOVDQU Y%d, %d(DI)", v, 64*chunk) }
	// nib puts the low nibbles of Yi into Y4 and the high ones into Y5
	nib := func(i int) {
		g.p("VPSRLW $4, Y%d, Y5", i)
		g.p("VPAND Y15, Y%d, Y4", i)
		g.p("VPAND Y15, Y5, Y5")
	}
	if k.q6 {
		for h := 0; h < 2; h++ {
			for j := 0; j < 2; j++ {
				g.amdLoadRowsTo(128+32*h+16*j, 8)
				g.amdTransposeAt(8)
				for _, half := range []int{0, 1} { // ql bytes 0..31 (a), 32..63 (b)
					g.amdLoadRows(64*h + 32*half + 16*j)
					g.amdTranspose()
					for i := 0; i < 4; i++ {
						gg := 4*j + i
						nib(i)
						// a: e bits 0,1 (low) and 4,5 (high); b: bits 2,3 and 6,7
						g.amdShiftBytes(4-2*half, 8+i, 6)
						or(6, 4)
						g.amdShiftBytes(-2*half, 8+i, 6)
						or(6, 5)
						store(4, 32*h+8*half+gg)
						store(5, 32*h+16+8*half+gg)
					}
				}
			}
		}
	} else {
		for h := 0; h < 2; h++ {
			if k.q5 {
				g.amdLoadRowsTo(16+16*h, 8)
				g.amdTransposeAt(8)
			}
			for c := 0; c < 4; c++ {
				g.amdLoadRows(k.qs + 32*c + 16*h)
				g.amdTranspose()
				for i := 0; i < 4; i++ {
					nib(i)
					if k.q5 {
						g.amdShiftBytes(q5Shift(2*c), 8+i, 6)
						or(6, 4)
						g.amdShiftBytes(q5Shift(2*c+1), 8+i, 6)
						or(6, 5)
					}
					lo, hi := q4KChunks(c, h, i)
					store(4, lo)
					store(5, hi)
				}
			}
		}
	}
	g.amdNext(k.size, gemmKStripBlock)
	g.p("JNZ %s_loop", name)
	g.label(name + "_done")
	g.p("VZEROUPPER")
	g.p("RET")
}

const gemmKStripBlock = 5120

// armShiftBytes shifts the bytes of Vsrc into Vdst by shift bits
// (negative: right).
func (g *gen) armShiftBytes(shift, src, dst int) {
	switch {
	case shift > 0:
		g.p("VSHL $%d, V%d.B16, V%d.B16", shift, src, dst)
	case shift < 0:
		g.p("VUSHR $%d, V%d.B16, V%d.B16", -shift, src, dst)
	default:
		g.p("VORR V%d.B16, V%d.B16, V%d.B16", src, src, dst)
	}
}

// armKStrip is amdKStrip for NEON (stripx8<K>NEON): chunks in V16–V23,
// high bits in V24–V31, V14 0x0F bytes, V15 the high-bit mask, V0–V3
// temporaries; the two masks are set again after each transpose (which
// uses V8–V15).
func (g *gen) armKStrip(k kStrip) {
	name := "stripx8" + k.name + "NEON"
	g.raw("\n// func " + name + "(p, f *byte, wrow, nb int)\n")
	g.raw("TEXT ·" + name + "(SB), NOSPLIT, $0-32\n")
	g.armPrologue()
	hiMask := 0x10
	if k.q6 {
		hiMask = 0x30
	}
	masks := func() {
		g.p("VMOVI $15, V14.B16")
		g.p("VMOVI $%d, V15.B16", hiMask)
	}
	g.p("CBZ R3, %s_done", name)
	g.label(name + "_loop")
	or := func(t, v int) {
		g.p("VAND V15.B16, V%d.B16, V%d.B16", t, t)
		g.p("VORR V%d.B16, V%d.B16, V%d.B16", t, v, v)
	}
	// nib: low nibbles of Vv into V0, high into V1
	nib := func(v int) {
		g.p("VAND V14.B16, V%d.B16, V0.B16", v)
		g.p("VUSHR $4, V%d.B16, V1.B16", v)
	}
	store := func(v, chunk, half int) { g.p("FMOVQ F%d, %d(R0)", v, 64*chunk+16*half) }
	if k.q6 {
		for h := 0; h < 2; h++ {
			for j := 0; j < 2; j++ {
				g.armRowsToChunksAt(128+32*h+16*j, 24)
				for _, half := range []int{0, 1} {
					g.armRowsToChunksAt(64*h+32*half+16*j, 16)
					masks()
					for i := 0; i < 4; i++ {
						gg := 4*j + i
						for rh := 0; rh < 2; rh++ { // rows 0–3, 4–7
							nib(16 + 2*i + rh)
							e := 24 + 2*i + rh
							g.armShiftBytes(4-2*half, e, 2)
							or(2, 0)
							g.armShiftBytes(-2*half, e, 2)
							or(2, 1)
							store(0, 32*h+8*half+gg, rh)
							store(1, 32*h+16+8*half+gg, rh)
						}
					}
				}
			}
		}
	} else {
		for h := 0; h < 2; h++ {
			if k.q5 {
				g.armRowsToChunksAt(16+16*h, 24)
			}
			for c := 0; c < 4; c++ {
				g.armRowsToChunksAt(k.qs+32*c+16*h, 16)
				masks()
				for i := 0; i < 4; i++ {
					lo, hi := q4KChunks(c, h, i)
					for rh := 0; rh < 2; rh++ {
						nib(16 + 2*i + rh)
						if k.q5 {
							e := 24 + 2*i + rh
							g.armShiftBytes(q5Shift(2*c), e, 2)
							or(2, 0)
							g.armShiftBytes(q5Shift(2*c+1), e, 2)
							or(2, 1)
						}
						store(0, lo, rh)
						store(1, hi, rh)
					}
				}
			}
		}
	}
	g.armNext(k.size, gemmKStripBlock)
	g.p("BNE %s_loop", name)
	g.label(name + "_done")
	g.p("RET")
}

const header = "// Code generated by kernels/_gen/pack; DO NOT EDIT.\n\n//go:build !purego\n\n#include \"textflag.h\"\n"

func main() {
	out := flag.String("o", ".", "output directory (kernels)")
	flag.Parse()
	var a, n gen
	a.raw(header)
	n.raw(header)
	a.amdData()
	for _, l := range layouts() {
		for _, pack := range []bool{true, false} {
			a.amdMove(l, pack)
			n.armMove(l, pack)
		}
	}
	for _, nib := range []bool{true, false} {
		a.amdStrip(nib)
		n.armStrip(nib)
	}
	for _, k := range kStrips {
		a.amdKStrip(k)
		n.armKStrip(k)
	}
	for name, g := range map[string]*gen{"pack_amd64.s": &a, "pack_arm64.s": &n} {
		if err := os.WriteFile(filepath.Join(*out, name), g.b.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
