package kernels

//go:generate go run ./_gen/gemm -o .

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/cogedge/cogedge/quant"
)

// Prefill GEMM through a register-blocked micro-kernel.
//
// The micro-kernel computes a tile of gemmRows weight rows × gemmCols
// activation rows over all k. Its operands are repacked per call so that
// each 32-bit lane of a vector register belongs to one weight row:
//
//   - a weight strip (gemmRows rows, unpacked by the worker into its own
//     scratch, sized by k): per 32-element block, 8 chunks of 64 bytes —
//     chunk g holds, for row r at bytes [4r, 4r+4), the row's elements
//     4g..4g+3 as unsigned bytes u = q + offset — followed by the 16 row
//     scales as fp16 and 32 bytes of padding that keep the chunks aligned
//     (gemmStripBlock bytes per block);
//   - an activation group (gemmCols rows, written by the quantize phase):
//     per block, per row, the 32 int8 quants, the scale d as float32 and the
//     int32 correction −offset·Σq (gemmActBlock bytes per row and block).
//
// Where the table says so (table.gemmMX: on AVX-512 VNNI for the 4- and
// 5-bit types of mxActivationTypes), an activation block's scale is a power
// of two, 2^e, and the group slot holds e as float32 in place of d
// (packActRowMX quantizes the float row straight into it, as OCP's MXINT8
// does): the kernel then applies it with VSCALEFPS, exactly, off the FMA
// pipes. The activations' rounding step grows by 1.5× on average (at most
// 2×), still about a tenth of a 4-bit weight's own, so the products' error
// moves by well under 1 % (TestMXActivationError measures it).
//
// K-quants (Q4_K, Q5_K, Q6_K with Q8_K activations) use the same lane
// layout per 256-element super-block: 64 chunks of 64 bytes (chunk c holds
// elements 4c..4c+3 of each row), then float32 row vectors — d·sc_j and
// −dmin·m_j for the eight 32-element sub-blocks of Q4_K/Q5_K, d·sc_j for
// the sixteen 16-element sub-blocks of Q6_K (gemmKStripBlock bytes). An
// activation row's super-block is its 256 quants, d as float32 and 16
// 32-bit values: the sub-block sums Σq as float32 (Q4_K, Q5_K: eight used)
// or the corrections −32·Σq as int32 (Q6_K) (gemmKActBlock bytes).
//
// VPDPBUSD multiplies the unsigned weight bytes with a broadcast of four
// activation bytes, so one instruction advances 16 row products by four
// elements; the correction, loaded as the accumulator's initial value,
// removes the offset exactly, so the per-block integer sum equals the one
// of the plain dot. Each block's sum is then scaled by d_x (broadcast) and
// accumulated with d_w (a vector over the rows) in float32. A task unpacks
// a few strips (k bytes per row plus scales) that stay in L2 while blocks
// of activation groups pass by, each block meeting every strip before the
// next is read (gemmPlan). Without AVX-512 the 256-bit kernels read the same
// layouts as two halves of 8 rows, four activation rows at a time; on
// plain AVX2 (VPMADDUBSW, which saturates above 128·127·2) Q8_0 and IQ4_NL
// strips keep signed bytes (offset 0) for a sign-trick kernel
// (table.gemmSigned).
const (
	gemmRows       = 16
	gemmCols       = 8
	gemmStripBlock = 8*64 + gemmRows*4 // 576
	gemmActBlock   = 40                // 32 qs + f32 d + i32 correction
	gemmMinN       = 16                // below this the one-row kernels win (measured: n=8 ties or loses)

	gemmKStripBlock = 64*64 + 16*gemmRows*4 // 5120
	gemmKActBlock   = 256 + 4 + 16*4        // 324
)

// gemmBlocks returns the strip bytes per weight block and the group bytes
// per activation row and block for a weight type with a GEMM kernel.
func gemmBlocks(wt quant.Type) (strip, act int) {
	switch wt {
	case quant.Q4_K, quant.Q5_K, quant.Q6_K:
		return gemmKStripBlock, gemmKActBlock
	}
	return gemmStripBlock, gemmActBlock
}

// gemmFn is the micro-kernel: y[c*ldy+r] = Σ over nb blocks of weight row r
// of the strip w times activation row c of the group a, for r < gemmRows,
// c < gemmCols (one kernel per layout: the 32-element types, Q4_K/Q5_K,
// Q6_K).
type gemmFn func(y []float32, ldy int, w, a []byte, nb int)

// gemmOffset is the value added to a signed weight quant to make it an
// unsigned byte, per weight type with a GEMM path (0: none).
func gemmOffset(wt quant.Type) int32 {
	switch wt {
	case quant.Q4_0:
		return 8
	case quant.Q5_0:
		return 16
	case quant.Q8_0, quant.IQ4_NL:
		return 128
	}
	return 0
}

// packStrip unpacks weight rows [0, nrows) of w (wrow bytes each, nrows ≤
// gemmRows) into dst in the strip layout; rows nrows..15 become zero.
// With signed set, Q8_0 and IQ4_NL bytes stay signed (offset 0) for the
// sign-trick kernels of the plain AVX2 tier. Whole groups of eight rows go
// through the architecture's kernel (impl.stripx8) where it has one.
func packStrip(wt quant.Type, dst, w []byte, wrow, nrows, nb int, signed bool) {
	packStripWith(true, wt, dst, w, wrow, nrows, nb, signed)
}

// packStripGeneric is packStrip in Go alone: the twin of the eight-row
// kernels.
func packStripGeneric(wt quant.Type, dst, w []byte, wrow, nrows, nb int, signed bool) {
	packStripWith(false, wt, dst, w, wrow, nrows, nb, signed)
}

// packStripWith is packStrip, with the eight-row kernels of impl when
// kernels is set.
func packStripWith(kernels bool, wt quant.Type, dst, w []byte, wrow, nrows, nb int, signed bool) {
	switch wt {
	case quant.Q4_K, quant.Q5_K, quant.Q6_K:
		packStripK(kernels, wt, dst, w, wrow, nrows, nb)
		return
	}
	dst = dst[:nb*gemmStripBlock]
	if nrows < gemmRows {
		clear(dst)
	}
	r0 := 0
	if kern := impl.stripx8[wt]; kernels && kern != nil && nb > 0 {
		for ; r0+packRows <= nrows; r0 += packRows {
			// The kernel reads blocks [0, nb) of the eight rows (inside
			// rows) and writes their bytes of dst's nb strip blocks: at
			// most 4·8 + (nb−1)·576 + 7·64 + 32 and 512 + 2·8 + (nb−1)·576
			// + 16 bytes in, both ≤ nb·576 = len(dst).
			rows := w[r0*wrow : (r0+packRows-1)*wrow+nb*wt.TypeSize()]
			kern(&dst[4*r0], &rows[0], wrow, nb, &dst[8*64+2*r0], signed)
		}
	}
	packStripRows(wt, dst, w, wrow, r0, nrows, nb, signed)
}

// packStripRows writes rows [r0, nrows) of packStrip's strip (dst, already
// sliced to nb blocks).
func packStripRows(wt quant.Type, dst, w []byte, wrow, r0, nrows, nb int, signed bool) {
	bs := wt.TypeSize()
	var flip byte = 0x80 // int8 → uint8 (+128)
	if signed {
		flip = 0
	}
	flip4 := uint32(flip) * 0x01010101
	for r := r0; r < nrows; r++ {
		row := w[r*wrow : r*wrow+nb*bs]
		// The slices above bound every access below: block b of the row is
		// row[b*bs:(b+1)*bs], its strip slot dst[b*576+4r+64g] (g < 8) and
		// dst[b*576+512+2r].
		src, o := unsafe.Pointer(&row[0]), unsafe.Pointer(&dst[4*r])
		for b := 0; b < nb; b++ {
			blk := unsafe.Add(src, b*bs)
			ob := unsafe.Add(o, b*gemmStripBlock)
			*(*uint16)(unsafe.Add(ob, 512-2*r)) = *(*uint16)(blk)
			switch wt {
			case quant.Q4_0:
				lo := *(*uint64)(unsafe.Add(blk, 2))
				hi := *(*uint64)(unsafe.Add(blk, 10))
				const m = 0x0F0F0F0F
				st32(ob, 0*64, uint32(lo)&m)
				st32(ob, 1*64, uint32(lo>>32)&m)
				st32(ob, 2*64, uint32(hi)&m)
				st32(ob, 3*64, uint32(hi>>32)&m)
				st32(ob, 4*64, uint32(lo>>4)&m)
				st32(ob, 5*64, uint32(lo>>36)&m)
				st32(ob, 6*64, uint32(hi>>4)&m)
				st32(ob, 7*64, uint32(hi>>36)&m)
			case quant.Q8_0:
				for g := 0; g < 8; g++ {
					st32(ob, g*64, *(*uint32)(unsafe.Add(blk, 2+4*g))^flip4)
				}
			case quant.Q5_0:
				qh := *(*uint32)(unsafe.Add(blk, 2))
				lo := *(*uint64)(unsafe.Add(blk, 6))
				hi := *(*uint64)(unsafe.Add(blk, 14))
				const m = 0x0F0F0F0F
				for g := 0; g < 4; g++ {
					q := uint32(lo >> (32 * g))
					if g >= 2 {
						q = uint32(hi >> (32 * (g - 2)))
					}
					st32(ob, g*64, q&m|spread4(qh>>(4*g))<<4)
					st32(ob, (4+g)*64, (q>>4)&m|spread4(qh>>(16+4*g))<<4)
				}
			case quant.IQ4_NL:
				for e := 0; e < 16; e++ {
					q := *(*byte)(unsafe.Add(blk, 2+e))
					*(*byte)(unsafe.Add(ob, (e/4)*64+e%4)) = byte(iq4nlValues[q&0xF]) ^ flip
					*(*byte)(unsafe.Add(ob, (4+e/4)*64+e%4)) = byte(iq4nlValues[q>>4]) ^ flip
				}
			}
		}
	}
}

// spread4 moves bits 0..3 of x to bit 0 of bytes 0..3 (the four shifted
// copies of the multiplication do not overlap, so nothing carries).
func spread4(x uint32) uint32 { return (x & 0xF) * 0x00204081 & 0x01010101 }

// st32 stores v at p+off (unaligned, little-endian like every target).
func st32(p unsafe.Pointer, off int, v uint32) { *(*uint32)(unsafe.Add(p, off)) = v }

func put32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:off+4], v) }

// mxActivationTypes are the weight types whose GEMM takes power-of-two
// activation scales where the architecture's kernel does (table.gemmMX):
// 4- and 5-bit weights, whose own rounding error dwarfs the activations'.
// Q8_0 weights keep Q8_0 activations.
var mxActivationTypes = []quant.Type{quant.Q4_0, quant.Q5_0, quant.IQ4_NL}

// MX activation exponents are kept in [mxMinExp, mxMaxExp]: the kernel's
// 2^e·Σq (|Σq| < 2^15) and its twin's 2^e·d_w (d_w ≥ 2^−24, fp16) then stay
// normal, so the two round alike. A block below 2^mxMinExp·63.5 in
// magnitude is noise next to its neighbours; one above 2^mxMaxExp·127
// saturates (Q8_0's fp16 scale overflows far earlier, above 8.3e6).
const (
	mxMinExp = -100
	mxMaxExp = 100
)

// pow2f returns 2^e for an integral e in [mxMinExp−1, 127] (exact), and NaN
// for a NaN e.
func pow2f(e float32) float32 {
	if e != e {
		return e
	}
	return math.Float32frombits(uint32(int32(e)+127) << 23)
}

// packActRowMX is table.packMX's generic implementation, a packQ8_0Fn:
// it quantizes len(x)/32 blocks of x with power-of-two scales and writes
// block b as a gemmActBlock slot at dst[b·stride:]. Per block, e is the
// least integer with max|x|·2^−e < 127.5 (so the largest quant has
// magnitude 64..127), kept in [mxMinExp, mxMaxExp]; the quants are
// x·2^−e rounded half to even (exact scaling, one rounding) and clamped to
// ±127 (which only a capped e needs); the slot gets them, float32(e) and
// −offset·Σq. A block holding a NaN or an infinity gets a NaN exponent and
// zero quants, so its products are NaN.
func packActRowMX(dst []byte, stride int, x []float32, offset int32) {
	nb := packBlocks(dst, stride, x, 32, gemmActBlock)
	for b := 0; b < nb; b++ {
		xb := x[b*32 : b*32+32]
		o := dst[b*stride : b*stride+gemmActBlock]
		var amax float32
		finite := true
		for _, v := range xb {
			a := float32(math.Abs(float64(v)))
			if !(a <= math.MaxFloat32) {
				finite = false
			}
			amax = max(amax, a)
		}
		if !finite {
			clear(o[:32])
			put32(o, 32, math.Float32bits(float32(math.NaN())))
			put32(o, 36, 0)
			continue
		}
		e := int32(mxMinExp)
		if amax != 0 {
			f, E := math.Frexp(float64(amax)) // amax = f·2^E, f in [0.5, 1)
			e = int32(E) - 7                  // amax·2^−e = 128·f in [64, 128)
			if 128*f >= 127.5 {
				e++
			}
			e = min(max(e, mxMinExp), mxMaxExp)
		}
		s := pow2f(float32(-e))
		var sum int32
		for i, v := range xb {
			v = min(max(v*s, -127), 127)
			// adding 1.5·2^23 rounds v (|v| ≤ 127) half to even into the
			// low mantissa bits
			q := int32(math.Float32bits(v+0x1.8p23)) - 0x4B400000
			o[i] = byte(int8(q))
			sum += q
		}
		put32(o, 32, math.Float32bits(float32(e)))
		put32(o, 36, uint32(-offset*sum))
	}
}

// packStripK is packStrip for the K-quants (nb super-blocks per row), the
// quants of whole groups of eight rows through impl.stripKx8 when kernels
// is set and the architecture has it.
func packStripK(kernels bool, wt quant.Type, dst, w []byte, wrow, nrows, nb int) {
	dst = dst[:nb*gemmKStripBlock]
	if nrows < gemmRows {
		clear(dst)
	}
	bs := wt.TypeSize()
	r0 := 0
	if kern := impl.stripKx8[wt]; kernels && kern != nil && nb > 0 {
		for ; r0+packRows <= nrows; r0 += packRows {
			// The kernel reads blocks [0, nb) of the eight rows (inside
			// rows) and writes their quant bytes of dst's nb strip blocks:
			// at most 4·8 + (nb−1)·5120 + 63·64 + 32 ≤ nb·5120 bytes in.
			rows := w[r0*wrow : (r0+packRows-1)*wrow+nb*bs]
			kern(&dst[4*r0], &rows[0], wrow, nb)
		}
	}
	scaleRows := nrows // rows whose float vectors the Go loop writes
	if kern := impl.stripKScales[wt]; kernels && kern != nil && nrows == gemmRows {
		kern(dst, w, wrow, nb)
		scaleRows = 0
	}
	for b := 0; b < nb && scaleRows > 0; b++ {
		// the float vectors of block b: 16 of gemmRows float32 each
		sv := (*[16 * gemmRows]float32)(unsafe.Pointer(&dst[b*gemmKStripBlock+64*64])) // inside dst: 64·64 + 16·16·4 = gemmKStripBlock
		for r := 0; r < scaleRows; r++ {
			blk := w[r*wrow+b*bs : r*wrow+b*bs+bs]
			if wt == quant.Q6_K {
				d := f16(blk[208:])
				for j, q := range blk[192:208] {
					sv[j*gemmRows+r] = d * float32(int8(q))
				}
				continue
			}
			// the eight 6-bit scales and mins of quant.ScaleMinK4, four
			// bytes at a time: bytes 0–3 hold sc0–3 (low 6 bits) and the
			// top bits of sc4–7, bytes 4–7 m0–3 and the top bits of m4–7,
			// bytes 8–11 the low nibbles of sc4–7 and m4–7
			d, dmin := f16(blk), f16(blk[2:])
			lo := binary.LittleEndian.Uint32(blk[4:])
			mid := binary.LittleEndian.Uint32(blk[8:])
			hi := binary.LittleEndian.Uint32(blk[12:])
			sc := [2]uint32{lo & 0x3F3F3F3F, hi&0x0F0F0F0F | (lo>>6&0x03030303)<<4}
			mn := [2]uint32{mid & 0x3F3F3F3F, hi>>4&0x0F0F0F0F | (mid>>6&0x03030303)<<4}
			for j := 0; j < 8; j++ {
				sh := 8 * (j & 3)
				sv[j*gemmRows+r] = d * float32(uint8(sc[j>>2]>>sh))
				sv[(8+j)*gemmRows+r] = -dmin * float32(uint8(mn[j>>2]>>sh))
			}
		}
	}
	const m4, m2 = 0x0F0F0F0F, 0x03030303
	for r := r0; r < nrows; r++ {
		row := w[r*wrow : r*wrow+nb*bs]
		for b := 0; b < nb; b++ {
			blk := row[b*bs : b*bs+bs]
			o := dst[b*gemmKStripBlock : (b+1)*gemmKStripBlock]
			// o has gemmKStripBlock bytes and blk bs bytes: every offset
			// below stays inside (chunk index < 64, row r < 16).
			op, bp := unsafe.Pointer(&o[4*r]), unsafe.Pointer(&blk[0])
			ld := func(off int) uint32 { return *(*uint32)(unsafe.Add(bp, off)) }
			switch wt {
			case quant.Q4_K, quant.Q5_K:
				qs := 16
				if wt == quant.Q5_K {
					qs = 48
				}
				for c := 0; c < 4; c++ { // 64 elements: sub-blocks 2c (low nibbles), 2c+1 (high)
					for g := 0; g < 8; g++ {
						v := ld(qs + 32*c + 4*g)
						lo, hi := v&m4, (v>>4)&m4
						if wt == quant.Q5_K {
							h := ld(16+4*g) >> (2 * c)
							lo |= (h & 0x01010101) << 4
							hi |= (h & 0x02020202) << 3
						}
						st32(op, (16*c+g)*64, lo)
						st32(op, (16*c+8+g)*64, hi)
					}
				}
			case quant.Q6_K:
				for h := 0; h < 2; h++ { // 128 elements: ql at 64h, qh at 128+32h
					base := 32 * h // chunk of element 128h
					for g := 0; g < 8; g++ {
						a := ld(64*h + 4*g)
						b := ld(64*h + 32 + 4*g)
						e := ld(128 + 32*h + 4*g)
						st32(op, (base+g)*64, a&m4|(e&m2)<<4)
						st32(op, (base+8+g)*64, b&m4|((e>>2)&m2)<<4)
						st32(op, (base+16+g)*64, (a>>4)&m4|((e>>4)&m2)<<4)
						st32(op, (base+24+g)*64, (b>>4)&m4|((e>>6)&m2)<<4)
					}
				}
			}
		}
	}
}

// packActLinear writes one Q8_0-quantized activation row as consecutive
// gemmActBlock slots (quants, d as float32, −offset·Σq), the operand of the
// GEMV kernels (table.gemv).
func packActLinear(dst, src []byte, nb int, offset int32) {
	packActBlocks(dst, gemmActBlock, src, nb, offset)
}

// useGEMM reports whether this call goes through the micro-kernel.
func (j *matmulJob) useGEMM() bool {
	return j.n >= gemmMinN && impl.gemm[j.wt] != nil
}

// gemmCacheBudget is what a GEMM task's unpacked strips and one block of
// activation groups may fill: one core's L2. Measured on a Zen 4 VM (1 MiB
// L2, image prefill shapes, n = 1228): half of it left k = 15360 at one
// strip per task and 165 GFLOP per CPU-second, all of it gave three strips
// and 250. A variable so that tests can force small blocks.
var gemmCacheBudget = l2Bytes

// gemmMaxStrips caps the strips per task: with eight, an activation group
// already comes from L3 for one strip in eight, and more strips leave the
// groups and anything else only the last corner of L2.
const gemmMaxStrips = 8

// gemmPlan splits the GEMM into tasks of sper consecutive weight strips
// (stripBytes each when unpacked) × one of nchunks chunks of activation
// groups (groupBytes each), run in blocks of gblk groups. A task unpacks its
// strips once, then runs every strip over each block while the block is in
// L2, so an activation group is read from L3 once per sper strips rather
// than once per strip. The sper strips (at most gemmMaxStrips) and a block
// fill at most budget (sper ≥ 1 and gblk ≥ 1 regardless); sper shrinks so that there are at
// least four tasks per thread where the strips allow it, and chunks of the
// groups (each repeating its strips' unpacking) make up the rest.
func gemmPlan(nstrips, ngroups, stripBytes, groupBytes, threads, budget int) (sper, nchunks, gblk int) {
	tasks := 4 * threads
	sper = max(1, min((budget-groupBytes)/max(1, stripBytes), nstrips/tasks, gemmMaxStrips))
	nblocks := (nstrips + sper - 1) / sper
	nchunks = min(ngroups, max(1, (tasks+nblocks-1)/nblocks))
	gblk = max(1, (budget-sper*stripBytes)/max(1, groupBytes))
	return sper, nchunks, gblk
}

// gemmTask computes strips [sb·sper, sb·sper+sper) (weight rows 16 per
// strip) against activation groups [g0, g1) on worker w: it unpacks the
// strips, then runs each of them over one block of gblk groups after the
// other. Every tile is the same kernel call over the same operands as in a
// strip-by-strip order, so the order does not change y.
func (j *matmulJob) gemmTask(p *Pool, w, sb, g0, g1 int) {
	s0 := sb * j.sper
	s1 := min(j.nstrips, s0+j.sper)
	ssz := j.nb * j.sblk
	strips := p.strips[w][:(s1-s0)*ssz]
	for s := s0; s < s1; s++ {
		i0 := s * gemmRows
		packStrip(j.wt, strips[(s-s0)*ssz:(s-s0+1)*ssz], j.w[i0*j.wrow:], j.wrow, min(gemmRows, j.rows-i0), j.nb, impl.gemmSigned[j.wt])
	}
	out := p.gout[w][:]
	gsz := j.nb * gemmCols * j.ablk
	kern := impl.gemm[j.wt]
	for b0 := g0; b0 < g1; b0 += j.gblk {
		b1 := min(g1, b0+j.gblk)
		for s := s0; s < s1; s++ {
			strip := strips[(s-s0)*ssz : (s-s0+1)*ssz]
			i0 := s * gemmRows
			nrows := min(gemmRows, j.rows-i0)
			for g := b0; g < b1; g++ {
				a := j.ag[g*gsz : (g+1)*gsz]
				ncols := min(gemmCols, j.n-g*gemmCols)
				if nrows == gemmRows && ncols == gemmCols {
					// a whole tile: the kernel stores straight into y
					kern(j.y[g*gemmCols*j.rows+i0:], j.rows, strip, a, j.nb)
					continue
				}
				kern(out, gemmRows, strip, a, j.nb)
				for c := 0; c < ncols; c++ {
					copy(j.y[(g*gemmCols+c)*j.rows+i0:(g*gemmCols+c)*j.rows+i0+nrows], out[c*gemmRows:c*gemmRows+nrows])
				}
			}
		}
	}
}
