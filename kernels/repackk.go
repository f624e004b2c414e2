package kernels

import (
	"encoding/binary"
	"fmt"

	"github.com/cogedge/cogedge/quant"
)

// Packed K-quant layouts (Repack of Q4_K and Q6_K): as for Q4_0 the rows
// are taken in groups of eight, and for every group and super-block index
// b the group holds one packed block of eight times the file block's
// size, so a packed matrix has exactly the size of the file's. The groups
// follow one another (group g at g·nb·8·size bytes); the rows%8 rows that
// do not fill a group follow in the file layout. Inside a packed block
// every 32-byte chunk holds 4 bytes of each of the eight rows (row r at
// byte 4r), so one 32-byte load (or two 16-byte ones) feeds all eight
// rows: a dot product over 4 bytes per 32-bit lane against 4 activation
// bytes broadcast to every lane (or SDOT by element on arm64) leaves row
// r's partial sum in lane r.
//
// Q4_K, 1152 bytes: d of rows 0..7 (fp16, 16 bytes); dmin of rows 0..7
// (16 bytes); three chunks of the 12 scale bytes (chunk i holds bytes
// 4i..4i+3 of each row, so the eight rows' 6-bit scales and mins decode
// with a few vector masks and shifts); 32 chunks of the 128 nibble bytes
// (chunk c holds bytes 4c..4c+3 of each row: low nibbles are elements
// 64(c/8)+4(c%8)+0..3, high nibbles the same plus 32).
//
// Q6_K, 1680 bytes: d of rows 0..7 (16 bytes); the 16 scales of the eight
// rows, scale s of row r at 16+8s+r (128 bytes); 32 chunks of the 128 ql
// bytes; 16 chunks of the 64 qh bytes.
const (
	q4KBytes      = 144
	q4KPacked     = packRows * q4KBytes // 1152
	q4KPackScales = 32                  // the three scale chunks
	q4KPackQs     = 128                 // the 32 nibble chunks
	q6KBytes      = 210
	q6KPacked     = packRows * q6KBytes // 1680
	q6KPackScales = 16
	q6KPackQl     = q6KPackScales + 16*packRows // 144
	q6KPackQh     = q6KPackQl + 32*kChunk       // 1168
	kBlockLen     = 256
	kChunk        = 4 * packRows // bytes per chunk
	q8KQs         = 4            // offset of the quants in a Q8_K block
)

// kFormat is the packing of one K-quant type.
type kFormat struct {
	wt     quant.Type
	size   int // bytes of a file-layout block
	layout string
	// pack moves block s of row r into packed block o; unpack is the inverse.
	pack   func(o, s []byte, r int)
	unpack func(s, o []byte, r int)
}

var (
	q4KFormat = kFormat{wt: quant.Q4_K, size: q4KBytes, layout: "q4_Kx8.v1", pack: packQ4K, unpack: unpackQ4K}
	q6KFormat = kFormat{wt: quant.Q6_K, size: q6KBytes, layout: "q6_Kx8.v1", pack: packQ6K, unpack: unpackQ6K}
)

// kFormatOf returns the packed format of wt, or nil.
func kFormatOf(wt quant.Type) *kFormat {
	switch wt {
	case quant.Q4_K:
		return &q4KFormat
	case quant.Q6_K:
		return &q6KFormat
	}
	return nil
}

func put4(o, s []byte) { binary.LittleEndian.PutUint32(o, binary.LittleEndian.Uint32(s)) }

func packQ4K(o, s []byte, r int) {
	o[2*r], o[2*r+1] = s[0], s[1]
	o[16+2*r], o[16+2*r+1] = s[2], s[3]
	for i := 0; i < 3; i++ {
		put4(o[q4KPackScales+i*kChunk+4*r:], s[4+4*i:])
	}
	for c := 0; c < 32; c++ {
		put4(o[q4KPackQs+c*kChunk+4*r:], s[16+4*c:])
	}
}

func unpackQ4K(s, o []byte, r int) {
	s[0], s[1] = o[2*r], o[2*r+1]
	s[2], s[3] = o[16+2*r], o[16+2*r+1]
	for i := 0; i < 3; i++ {
		put4(s[4+4*i:], o[q4KPackScales+i*kChunk+4*r:])
	}
	for c := 0; c < 32; c++ {
		put4(s[16+4*c:], o[q4KPackQs+c*kChunk+4*r:])
	}
}

func packQ6K(o, s []byte, r int) {
	o[2*r], o[2*r+1] = s[208], s[209]
	for i := 0; i < 16; i++ {
		o[q6KPackScales+8*i+r] = s[192+i]
	}
	for c := 0; c < 32; c++ {
		put4(o[q6KPackQl+c*kChunk+4*r:], s[4*c:])
	}
	for c := 0; c < 16; c++ {
		put4(o[q6KPackQh+c*kChunk+4*r:], s[128+4*c:])
	}
}

func unpackQ6K(s, o []byte, r int) {
	s[208], s[209] = o[2*r], o[2*r+1]
	for i := 0; i < 16; i++ {
		s[192+i] = o[q6KPackScales+8*i+r]
	}
	for c := 0; c < 32; c++ {
		put4(s[4*c:], o[q6KPackQl+c*kChunk+4*r:])
	}
	for c := 0; c < 16; c++ {
		put4(s[128+4*c:], o[q6KPackQh+c*kChunk+4*r:])
	}
}

// checkK validates the sizes of a K-quant matrix of rows rows of k
// elements against len(b) and returns the blocks per row.
func (f *kFormat) check(what string, b []byte, rows, k int) int {
	if rows < 0 || k < 0 || k%kBlockLen != 0 {
		panic(fmt.Sprintf("kernels: %s: bad %s size rows=%d k=%d", what, f.layout, rows, k))
	}
	nb := k / kBlockLen
	if want := int64(rows) * int64(nb) * int64(f.size); int64(len(b)) < want {
		panic(fmt.Sprintf("kernels: %s: short slice: %d bytes, want %d", what, len(b), want))
	}
	return nb
}

// repack converts rows×k file-layout blocks (src) into the packed layout
// (dst, the same size).
func (f *kFormat) repack(dst, src []byte, rows, k int) {
	nb := f.check("Repack", src, rows, k)
	f.check("Repack", dst, rows, k)
	wrow := nb * f.size
	groups := rows / packRows
	if kern := impl.packx8[f.wt]; kern != nil {
		moveGroups(kern, dst, src, wrow, nb, 0, groups)
	} else {
		f.packGroups0(dst, src, nb, 0, groups)
	}
	t := groups * packRows * wrow
	copy(dst[t:rows*wrow], src[t:rows*wrow])
}

// packGroups0 is the generic twin of impl.packx8[f.wt]: it packs groups
// [g0, g1) of a matrix with nb blocks per row.
func (f *kFormat) packGroups0(dst, src []byte, nb, g0, g1 int) {
	wrow, pb := nb*f.size, packRows*f.size
	for g := g0; g < g1; g++ {
		for b := 0; b < nb; b++ {
			o := dst[(g*nb+b)*pb : (g*nb+b+1)*pb]
			for r := 0; r < packRows; r++ {
				f.pack(o, src[(g*packRows+r)*wrow+b*f.size:][:f.size], r)
			}
		}
	}
}

// unpackGroups unpacks groups [g0, g1) of a packed matrix with nb blocks
// per row.
func (f *kFormat) unpackGroups(dst, src []byte, nb, g0, g1 int) {
	if kern := impl.unpackx8[f.wt]; kern != nil {
		moveGroups(kern, src, dst, nb*f.size, nb, g0, g1)
		return
	}
	f.unpackGroups0(dst, src, nb, g0, g1)
}

// unpackGroups0 is the generic twin of impl.unpackx8[f.wt].
func (f *kFormat) unpackGroups0(dst, src []byte, nb, g0, g1 int) {
	wrow, pb := nb*f.size, packRows*f.size
	for g := g0; g < g1; g++ {
		for b := 0; b < nb; b++ {
			o := src[(g*nb+b)*pb : (g*nb+b+1)*pb]
			for r := 0; r < packRows; r++ {
				f.unpack(dst[(g*packRows+r)*wrow+b*f.size:][:f.size], o, r)
			}
		}
	}
}

// unpackAll is the inverse of repack.
func (f *kFormat) unpackAll(dst, src []byte, rows, k int) {
	nb := f.check("Unpack", src, rows, k)
	f.check("Unpack", dst, rows, k)
	f.unpackGroups(dst, src, nb, 0, rows/packRows)
	t := rows / packRows * packRows * nb * f.size
	copy(dst[t:rows*nb*f.size], src[t:rows*nb*f.size])
}

// gemvQ4_Kx8Generic computes one packed Q4_K group of eight rows against
// a Q8_K activation row: y[r] = dot(row r, x). Per block and row the sums
// are exact in int32 (Σ_j scale_j·dot_j and Σ_j min_j·bsum32_j); the
// float steps are those of the assembly, which matches this bit for bit:
// each block adds sum·(d_w·d_x) to one accumulator and msum·(dmin_w·d_x)
// to another, each a fused multiply-add (fmaF32), and y is their
// difference.
func gemvQ4_Kx8Generic(y *[8]float32, w, x []byte, nb int) {
	var acc, macc [8]float32
	_ = w[nb*q4KPacked-1]
	_ = x[nb*q8_KBytes-1]
	for b := 0; b < nb; b++ {
		wb := w[b*q4KPacked : (b+1)*q4KPacked]
		xb := x[b*q8_KBytes : (b+1)*q8_KBytes]
		dx := q8Kd(xb)
		var bs [8]int32
		for j := range bs {
			bs[j] = q8KBsum(xb, 2*j) + q8KBsum(xb, 2*j+1)
		}
		for r := 0; r < packRows; r++ {
			isum, msum := q4KPackedSums(wb, xb, &bs, r)
			acc[r] = fmaF32(float32(isum), f16(wb[2*r:])*dx, acc[r])
			macc[r] = fmaF32(float32(msum), f16(wb[16+2*r:])*dx, macc[r])
		}
	}
	for r := range y {
		y[r] = acc[r] - macc[r]
	}
}

// q4KPackedSums returns row r's exact scaled sum Σ_j sc_j·dot_j and its
// mins sum Σ_j m_j·bs[j] in packed Q4_K block wb against Q8_K block xb.
func q4KPackedSums(wb, xb []byte, bs *[8]int32, r int) (isum, msum int32) {
	var s [12]byte
	for i := 0; i < 3; i++ {
		copy(s[4*i:4*i+4], wb[q4KPackScales+i*kChunk+4*r:])
	}
	sc, m := scaleMinK4(s[:])
	for p := 0; p < 4; p++ {
		var lo, hi int32
		for e := 0; e < 8; e++ {
			q := wb[q4KPackQs+(8*p+e)*kChunk+4*r:]
			for k := 0; k < 4; k++ {
				lo += int32(q[k]&0xF) * int32(int8(xb[q8KQs+64*p+4*e+k]))
				hi += int32(q[k]>>4) * int32(int8(xb[q8KQs+64*p+32+4*e+k]))
			}
		}
		isum += int32(sc[2*p])*lo + int32(sc[2*p+1])*hi
	}
	for j := range bs {
		msum += int32(m[j]) * bs[j]
	}
	return isum, msum
}

// gemvQ6_Kx8Generic computes one packed Q6_K group of eight rows against
// a Q8_K activation row. Per block and row the sum Σ_s sc_s·(dot_s −
// 32·bsum_s) is exact in int32 (dot over the unsigned 6-bit values, the
// −32 offset through the activation's 16-element sums); the float step is
// the assembly's, fused: acc += sum·(d_w·d_x).
func gemvQ6_Kx8Generic(y *[8]float32, w, x []byte, nb int) {
	var acc [8]float32
	_ = w[nb*q6KPacked-1]
	_ = x[nb*q8_KBytes-1]
	for b := 0; b < nb; b++ {
		wb := w[b*q6KPacked : (b+1)*q6KPacked]
		xb := x[b*q8_KBytes : (b+1)*q8_KBytes]
		dx := q8Kd(xb)
		for r := 0; r < packRows; r++ {
			acc[r] = fmaF32(float32(q6KPackedSum(wb, xb, r)), f16(wb[2*r:])*dx, acc[r])
		}
	}
	*y = acc
}

// q6KPackedSum is row r's exact block sum in packed Q6_K block wb.
func q6KPackedSum(wb, xb []byte, r int) int32 {
	var sum int32
	for h := 0; h < 2; h++ {
		for lc := 0; lc < 8; lc++ { // 4 l's per chunk
			qa := wb[q6KPackQl+(16*h+lc)*kChunk+4*r:]   // ql[64h+l]
			qb := wb[q6KPackQl+(16*h+8+lc)*kChunk+4*r:] // ql[64h+32+l]
			qh := wb[q6KPackQh+(8*h+lc)*kChunk+4*r:]
			for k := 0; k < 4; k++ {
				l := 4*lc + k
				q := [4]int32{
					int32(qa[k]&0xF) | int32(qh[k]&3)<<4,
					int32(qb[k]&0xF) | int32(qh[k]>>2&3)<<4,
					int32(qa[k]>>4) | int32(qh[k]>>4&3)<<4,
					int32(qb[k]>>4) | int32(qh[k]>>6&3)<<4,
				}
				for i, qi := range q {
					s := 8*h + 2*i + l/16
					sum += int32(int8(wb[q6KPackScales+8*s+r])) * qi * int32(int8(xb[q8KQs+128*h+32*i+l]))
				}
			}
		}
	}
	for s := 0; s < 16; s++ {
		sum -= 32 * int32(int8(wb[q6KPackScales+8*s+r])) * q8KBsum(xb, s)
	}
	return sum
}

// packedKJob is one MatMulPacked decode call on a packed K-quant matrix:
// tasks over packed groups, each group multiplied with every activation
// row while it is in cache, the tail rows in the last task.
type packedKJob struct {
	y      []float32 // n × rows
	w      []byte
	a      []byte // Q8_K activations, n rows of nb·q8_KBytes
	wt     quant.Type
	size   int // file block bytes
	n      int
	rows   int
	nb     int
	groups int
	per    int
	ntasks int
}

func (j *packedKJob) run(w, t int) {
	g0 := t * j.per
	g1 := min(g0+j.per, j.groups)
	kern := impl.gemvKx8[j.wt]
	arow, gsz := j.nb*q8_KBytes, j.nb*packRows*j.size
	for g := g0; g < g1; g++ {
		wg := j.w[g*gsz : (g+1)*gsz]
		for r := 0; r < j.n; r++ {
			kern((*[packRows]float32)(j.y[r*j.rows+g*packRows:]), wg, j.a[r*arow:(r+1)*arow], j.nb)
		}
	}
	if t == j.ntasks-1 {
		wrow := j.nb * j.size
		for i := j.groups * packRows; i < j.rows; i++ {
			wr := j.w[i*wrow : (i+1)*wrow]
			for r := 0; r < j.n; r++ {
				j.y[r*j.rows+i] = impl.qdot[j.wt](wr, j.a[r*arow:(r+1)*arow], j.nb)
			}
		}
	}
}

// unpackKJob unpacks a packed K-quant matrix in parallel.
type unpackKJob struct {
	f        *kFormat
	dst, src []byte
	nb, per  int
	groups   int
}

func (j *unpackKJob) run(_, t int) {
	j.f.unpackGroups(j.dst, j.src, j.nb, t*j.per, min((t+1)*j.per, j.groups))
}

// matMulPackedK is MatMulPacked for a packed K-quant matrix.
func (p *Pool) matMulPackedK(f *kFormat, y []float32, w []byte, wt quant.Type, rows, k int, x []float32, n int) {
	nb := f.check("MatMulPacked", w, rows, k)
	if packedNothingToDo(y, x, rows, k, n) {
		return
	}
	ps := &p.packed
	ps.mu.Lock()
	defer ps.mu.Unlock()
	groups := rows / packRows
	if n > packedRowsMax {
		size := rows * nb * f.size
		if cap(ps.buf) < size {
			ps.buf = make([]byte, size)
		}
		buf := ps.buf[:size]
		p.mu.Lock()
		u := &ps.unK
		*u = unpackKJob{f: f, dst: buf, src: w, nb: nb, groups: groups, per: max(1, (groups+4*p.threads-1)/(4*p.threads))}
		p.parallel(u, (groups+u.per-1)/u.per)
		t := groups * packRows * nb * f.size
		copy(buf[t:size], w[t:size])
		u.dst, u.src = nil, nil
		p.mu.Unlock()
		p.MatMul(y, buf, wt, rows, k, x, n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	arow := nb * q8_KBytes
	if cap(p.act) < n*arow {
		p.act = make([]byte, n*arow)
	}
	a := p.act[:n*arow]
	for r := 0; r < n; r++ {
		QuantizeActivations(quant.Q8_K, a[r*arow:(r+1)*arow], x[r*k:(r+1)*k])
	}
	// about 8 tasks per thread, at least 2 groups each
	per := max(2, (groups+8*p.threads-1)/(8*p.threads))
	ntasks := max(1, (groups+per-1)/per)
	j := &ps.jobK
	*j = packedKJob{y: y, w: w, a: a, wt: wt, size: f.size, n: n, rows: rows, nb: nb, groups: groups, per: per, ntasks: ntasks}
	p.parallel(j, ntasks)
	j.y, j.w, j.a = nil, nil, nil
}

// groupKernel wraps a packed-group pointer kernel with the slice checks
// that keep it in bounds: nb packed blocks of psz bytes, nb Q8_K blocks.
func groupKernel(k func(y *float32, w, x *byte, nb int), psz int) func(y *[8]float32, w, x []byte, nb int) {
	return func(y *[8]float32, w, x []byte, nb int) {
		if nb <= 0 {
			*y = [8]float32{}
			return
		}
		_ = w[nb*psz-1]
		_ = x[nb*q8_KBytes-1]
		k(&y[0], &w[0], &x[0], nb)
	}
}
