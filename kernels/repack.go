package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	"github.com/cogedge/cogedge/quant"
)

// Packed Q4_0 layout (RepackQ4_0): the rows are taken in groups of eight.
// For every group and block index b the group holds one 144-byte packed
// block: the eight rows' fp16 scales (16 bytes), then four 32-byte chunks;
// chunk c holds, for rows r = 0..7, the row's nibble bytes qs[4c..4c+3]
// (4 bytes per row). One 32-byte load then feeds all eight rows: its low
// nibbles are elements 4c..4c+3 and its high nibbles elements
// 16+4c..16+4c+3 of every row, and a dot-product instruction over 4 bytes
// per 32-bit lane leaves row r's partial sum in lane r. The groups follow
// one another (group g at g·nb·144 bytes); the rows%8 rows that do not fill
// a group follow in the ordinary Q4_0 layout. A packed matrix has exactly
// the size of the unpacked one.
const (
	packRows     = 8                    // rows per packed group
	q4_0Bytes    = 18                   // bytes per Q4_0 block
	packedBlock  = packRows * q4_0Bytes // bytes per packed block of a group
	packedScales = 2 * packRows         // the scales at the start of a packed block
	packedChunk  = 4 * packRows         // bytes per chunk
	q4_0BlockLen = 32                   // elements per Q4_0 block
)

// checkPacked validates the sizes of a Q4_0 matrix of rows rows of k
// elements against len(b) and returns the blocks per row.
func checkPacked(what string, b []byte, rows, k int) int {
	return checkPacked0(what, b, rows, k, q4_0Bytes)
}

// checkPacked0 is checkPacked for 32-element blocks of size bytes.
func checkPacked0(what string, b []byte, rows, k, size int) int {
	if rows < 0 || k < 0 || k%q4_0BlockLen != 0 {
		panic(fmt.Sprintf("kernels: %s: bad size rows=%d k=%d", what, rows, k))
	}
	nb := k / q4_0BlockLen
	if int64(len(b)) < int64(rows)*int64(nb)*int64(size) {
		panic(fmt.Sprintf("kernels: %s: short slice: %d bytes, want %d", what, len(b), int64(rows)*int64(nb)*int64(size)))
	}
	return nb
}

// RepackQ4_0 converts rows rows of k Q4_0 elements (ggml layout, src) into
// the packed layout MatMulPacked reads (dst, the same size; see the layout
// comment above). dst and src must not overlap. It panics when k is not a
// multiple of 32 or a slice is too short (programming errors).
func RepackQ4_0(dst, src []byte, rows, k int) { repack0(quant.Q4_0, dst, src, rows, k) }

// size0 is the file block size of a 32-element type with a packed layout.
func size0(wt quant.Type) int {
	if f := q8FormatOf(wt); f != nil {
		return f.size
	}
	return q4_0Bytes
}

// repack0 packs a matrix of 32-element blocks of type wt (an fp16 scale,
// then quant bytes taken 4 at a time into chunks: RepackQ4_0, and the Q8_0
// and IQ4_NL layouts of repack8.go).
func repack0(wt quant.Type, dst, src []byte, rows, k int) {
	size := size0(wt)
	nb := checkPacked0("Repack", src, rows, k, size)
	checkPacked0("Repack", dst, rows, k, size)
	wrow := nb * size
	groups := rows / packRows
	if kern := impl.packx8[wt]; kern != nil {
		moveGroups(kern, dst, src, wrow, nb, 0, groups)
	} else {
		packGroups0(dst, src, nb, 0, groups, size)
	}
	t := groups * packRows * wrow
	copy(dst[t:rows*wrow], src[t:rows*wrow])
}

// packGroups0 is the generic twin of the group kernels impl.packx8: it
// packs groups [g0, g1) of a matrix with nb blocks of size bytes per row.
func packGroups0(dst, src []byte, nb, g0, g1, size int) {
	wrow, blk := nb*size, packRows*size
	le := binary.LittleEndian
	for g := g0; g < g1; g++ {
		for b := 0; b < nb; b++ {
			o := dst[(g*nb+b)*blk : (g*nb+b+1)*blk]
			for r := 0; r < packRows; r++ {
				s := src[(g*packRows+r)*wrow+b*size:]
				s = s[:size]
				o[2*r], o[2*r+1] = s[0], s[1]
				for c := 0; 2+4*c < size; c++ {
					le.PutUint32(o[packedScales+c*packedChunk+4*r:], le.Uint32(s[2+4*c:]))
				}
			}
		}
	}
}

// moveGroups runs a group kernel (impl.packx8 or impl.unpackx8) over
// groups [g0, g1) of a matrix whose rows hold nb blocks in wrow bytes: p
// the packed matrix, f the file layout. A group is the same 8·wrow bytes
// in both, and the kernel moves exactly those (it reads and writes block b
// of row r at r·wrow + b·wrow/nb of its group and nothing else), so the
// slice expressions below bound every access.
func moveGroups(kern func(p, f *byte, wrow, nb int), p, f []byte, wrow, nb, g0, g1 int) {
	if nb <= 0 {
		return
	}
	gb := packRows * wrow
	for g := g0; g < g1; g++ {
		pg, fg := p[g*gb:(g+1)*gb], f[g*gb:(g+1)*gb]
		kern(&pg[0], &fg[0], wrow, nb)
	}
}

// UnpackQ4_0 is the inverse of RepackQ4_0.
func UnpackQ4_0(dst, src []byte, rows, k int) { unpack0(quant.Q4_0, dst, src, rows, k) }

// unpack0 is the inverse of repack0.
func unpack0(wt quant.Type, dst, src []byte, rows, k int) {
	size := size0(wt)
	nb := checkPacked0("Unpack", src, rows, k, size)
	checkPacked0("Unpack", dst, rows, k, size)
	unpackGroups(wt, dst, src, nb, 0, rows/packRows)
	t := rows / packRows * packRows * nb * size
	copy(dst[t:rows*nb*size], src[t:rows*nb*size])
}

// unpackGroups unpacks groups [g0, g1) of a packed matrix of type wt with
// nb blocks per row.
func unpackGroups(wt quant.Type, dst, src []byte, nb, g0, g1 int) {
	size := size0(wt)
	if kern := impl.unpackx8[wt]; kern != nil {
		moveGroups(kern, src, dst, nb*size, nb, g0, g1)
		return
	}
	unpackGroups0(dst, src, nb, g0, g1, size)
}

// unpackGroups0 is the generic twin of impl.unpackx8: it unpacks groups
// [g0, g1) of a packed matrix with nb blocks of size bytes per row.
func unpackGroups0(dst, src []byte, nb, g0, g1, size int) {
	wrow, blk := nb*size, packRows*size
	le := binary.LittleEndian
	for g := g0; g < g1; g++ {
		for b := 0; b < nb; b++ {
			s := src[(g*nb+b)*blk : (g*nb+b+1)*blk]
			for r := 0; r < packRows; r++ {
				o := dst[(g*packRows+r)*wrow+b*size:]
				o = o[:size]
				o[0], o[1] = s[2*r], s[2*r+1]
				for c := 0; 2+4*c < size; c++ {
					le.PutUint32(o[2+4*c:], le.Uint32(s[packedScales+c*packedChunk+4*r:]))
				}
			}
		}
	}
}

// PackedFast reports whether the active kernels have an accelerated decode
// kernel for packed weights of type wt, i.e. whether repacking wt at load
// time pays off on this CPU (Q4_0 on amd64 with AVX2 and on arm64 with
// the dot product; Q4_K and Q6_K where the architecture has a packed
// kernel). MatMulPacked works for every type with a packed layout either
// way.
func PackedFast(wt quant.Type) bool {
	if wt == quant.Q4_0 {
		return impl.packedFast
	}
	if q8FormatOf(wt) != nil {
		return impl.packed8Fast[wt]
	}
	return kFormatOf(wt) != nil && impl.packedKFast[wt]
}

// PackedLayout names the packed layout Repack produces for wt on this
// build ("" when wt has none), e.g. to tell whether a packed copy kept in
// a file was made by the same code. It changes whenever a layout does.
func PackedLayout(wt quant.Type) string {
	if wt == quant.Q4_0 {
		return "q4_0x8.v1"
	}
	if f := q8FormatOf(wt); f != nil {
		return f.layout
	}
	if f := kFormatOf(wt); f != nil {
		return f.layout
	}
	return ""
}

// Repack converts rows rows of k elements of type wt from the file layout
// (src) into the packed layout MatMulPacked reads (dst, the same size). It
// panics for a type without a packed layout (PackedLayout(wt) == "") or
// bad sizes (programming errors).
func Repack(wt quant.Type, dst, src []byte, rows, k int) {
	if f := kFormatOf(wt); f != nil {
		f.repack(dst, src, rows, k)
		return
	}
	if f := q8FormatOf(wt); f != nil {
		repack0(wt, dst, src, rows, k)
		return
	}
	if wt != quant.Q4_0 {
		panic(fmt.Sprintf("kernels: Repack: weight type %v has no packed layout", wt))
	}
	RepackQ4_0(dst, src, rows, k)
}

// Unpack is the inverse of Repack: it converts a packed matrix of type wt
// (src) back into the file layout (dst, the same size).
func Unpack(wt quant.Type, dst, src []byte, rows, k int) {
	if f := kFormatOf(wt); f != nil {
		f.unpackAll(dst, src, rows, k)
		return
	}
	if f := q8FormatOf(wt); f != nil {
		unpack0(wt, dst, src, rows, k)
		return
	}
	if wt != quant.Q4_0 {
		panic(fmt.Sprintf("kernels: Unpack: weight type %v has no packed layout", wt))
	}
	UnpackQ4_0(dst, src, rows, k)
}

// gemvQ4_0x8Generic computes one packed group of eight rows against an
// activation row in the linear slots of packActLinear (offset 8): y[r] =
// dot(row r, x). Per block the integer sum is exact; the float steps are
// those of the assembly (scale = d_w·d_x, then sum·scale added, fused, to
// an even- or odd-block accumulator, the two added at the end).
func gemvQ4_0x8Generic(y *[8]float32, w, x []byte, nb int) {
	gemvx8Generic(y, w, x, nb, q4_0Bytes, packedBlockSum)
}

// gemvx8Generic is gemvQ4_0x8Generic for a packed layout of blocks of size
// bytes whose row sums blockSum computes.
func gemvx8Generic(y *[8]float32, w, x []byte, nb, size int, blockSum func(wb, xb []byte, r int) int32) {
	var acc [2][8]float32
	blk := packRows * size
	_ = w[nb*blk-1]
	_ = x[nb*gemmActBlock-1]
	for b := 0; b < nb; b++ {
		wb := w[b*blk : (b+1)*blk]
		xb := x[b*gemmActBlock : (b+1)*gemmActBlock]
		dx := math.Float32frombits(binary.LittleEndian.Uint32(xb[32:]))
		for r := 0; r < packRows; r++ {
			sc := f16(wb[2*r:]) * dx
			acc[b&1][r] = fmaF32(float32(blockSum(wb, xb, r)), sc, acc[b&1][r])
		}
	}
	for r := range y {
		y[r] = acc[0][r] + acc[1][r]
	}
}

// packedBlockSum is the exact integer sum of row r of packed block wb with
// the activation slot xb, its correction included.
func packedBlockSum(wb, xb []byte, r int) int32 {
	s := int32(binary.LittleEndian.Uint32(xb[36:]))
	for c := 0; c < 4; c++ {
		q := wb[packedScales+c*packedChunk+4*r:]
		for e := 0; e < 4; e++ {
			s += int32(q[e]&0xF)*int32(int8(xb[4*c+e])) + int32(q[e]>>4)*int32(int8(xb[16+4*c+e]))
		}
	}
	return s
}

// gemvQ4_0x8x4Generic is gemvQ4_0x8Generic for four activation rows
// xstride bytes apart: y[c][r] = dot(row r, activation row c). Its float
// steps are those of the assembly: one accumulator per row, added
// sum·(d_w·d_x) per block (fused).
func gemvQ4_0x8x4Generic(y *[4][8]float32, w, x []byte, xstride, nb int) {
	gemvQ4_0x8xNGeneric(y[:], w, x, xstride, nb)
}

// gemvQ4_0x8x2Generic is gemvQ4_0x8x4Generic for two activation rows.
func gemvQ4_0x8x2Generic(y *[2][8]float32, w, x []byte, xstride, nb int) {
	gemvQ4_0x8xNGeneric(y[:], w, x, xstride, nb)
}

// gemvQ4_0x8xNGeneric computes len(y) activation rows against one packed
// group, as gemvQ4_0x8x4Generic.
func gemvQ4_0x8xNGeneric(y [][8]float32, w, x []byte, xstride, nb int) {
	clear(y)
	_ = w[nb*packedBlock-1]
	_ = x[(len(y)-1)*xstride+nb*gemmActBlock-1]
	for b := 0; b < nb; b++ {
		wb := w[b*packedBlock : (b+1)*packedBlock]
		for c := range y {
			xb := x[c*xstride+b*gemmActBlock : c*xstride+(b+1)*gemmActBlock]
			dx := math.Float32frombits(binary.LittleEndian.Uint32(xb[32:]))
			for r := 0; r < packRows; r++ {
				y[c][r] = fmaF32(float32(packedBlockSum(wb, xb, r)), f16(wb[2*r:])*dx, y[c][r])
			}
		}
	}
}

// packedJob is one MatMulPacked decode call over n activation rows: tasks
// over packed groups, each group multiplied with every activation row
// while it is in cache (so the matrix is read from memory once for all
// rows), the tail rows in the last task.
type packedJob struct {
	y      []float32 // n × rows
	w      []byte
	wt     quant.Type
	size   int    // bytes of a file-layout block
	al     []byte // activations in packActLinear slots, n rows of nb·gemmActBlock
	a      []byte // activations in Q8_0, n rows of nb·q8_0Bytes
	n      int
	rows   int
	nb     int
	groups int
	per    int // groups per task
	ntasks int
	out2   [][2][8]float32
	out4   [][4][8]float32
}

func (j *packedJob) run(w, t int) {
	g0 := t * j.per
	g1 := min(g0+j.per, j.groups)
	out2, out4 := &j.out2[w], &j.out4[w]
	k, k2, k4 := impl.gemvQ4_0x8, impl.gemvQ4_0x8x2, impl.gemvQ4_0x8x4
	if j.wt != quant.Q4_0 {
		k, k2, k4 = impl.gemv8x8[j.wt], nil, impl.gemv8x8x4[j.wt]
	}
	alRow, aRow := j.nb*gemmActBlock, j.nb*q8_0Bytes
	gsz := j.nb * packRows * j.size
	for g := g0; g < g1; g++ {
		wg := j.w[g*gsz : (g+1)*gsz]
		r := 0
		for ; r+4 <= j.n; r += 4 {
			k4(out4, wg, j.al[r*alRow:(r+4)*alRow], alRow, j.nb)
			for c := range out4 {
				copy(j.y[(r+c)*j.rows+g*packRows:(r+c)*j.rows+(g+1)*packRows], out4[c][:])
			}
		}
		if k2 != nil {
			for ; r+2 <= j.n; r += 2 {
				k2(out2, wg, j.al[r*alRow:(r+2)*alRow], alRow, j.nb)
				for c := range out2 {
					copy(j.y[(r+c)*j.rows+g*packRows:(r+c)*j.rows+(g+1)*packRows], out2[c][:])
				}
			}
		}
		for ; r < j.n; r++ {
			// straight into y: a copy through a per-worker array here
			// measured as 5 % of a decode step's samples
			k((*[packRows]float32)(j.y[r*j.rows+g*packRows:]), wg, j.al[r*alRow:(r+1)*alRow], j.nb)
		}
	}
	if t == j.ntasks-1 {
		wrow := j.nb * j.size
		base := j.groups * packRows
		for i := base; i < j.rows; i++ {
			wr := j.w[i*wrow : (i+1)*wrow]
			for r := 0; r < j.n; r++ {
				// (the slots carry Q4_0's correction only for Q4_0)
				if gv := impl.gemv[quant.Q4_0]; gv != nil && j.wt == quant.Q4_0 {
					j.y[r*j.rows+i] = gv(wr, j.al[r*alRow:(r+1)*alRow], j.nb)
				} else {
					j.y[r*j.rows+i] = impl.qdot[j.wt](wr, j.a[r*aRow:(r+1)*aRow], j.nb)
				}
			}
		}
	}
}

// unpackJob unpacks a packed matrix in parallel (prefill on packed weights).
type unpackJob struct {
	dst, src []byte
	nb, per  int
	groups   int
	wt       quant.Type
}

func (j *unpackJob) run(_, t int) {
	unpackGroups(j.wt, j.dst, j.src, j.nb, t*j.per, min((t+1)*j.per, j.groups))
}

// packState is the pool's state for MatMulPacked.
type packState struct {
	mu   sync.Mutex // one packed op at a time (taken before Pool.mu)
	buf  []byte     // unpacked copy for n > 1
	job  packedJob
	un   unpackJob
	out2 [][2][8]float32
	out4 [][4][8]float32
	jobK packedKJob // K-quants (repackk.go)
	unK  unpackKJob
}

// MatMulPacked is MatMul for a matrix w in the packed layout of Repack
// (Q4_0, Q8_0, IQ4_NL, Q4_K, Q6_K): y[j*rows+i] = dot(W row i, x row j). For n ≤ 32 the packed
// groups are read directly, each group against all n activation rows while
// it is in cache (batched decode reads the matrix once); for larger n the
// matrix is unpacked into a buffer the pool keeps (as large as the largest
// matrix seen) and multiplied by MatMul. It panics on a type without a
// packed layout or short slices (programming errors).
func (p *Pool) MatMulPacked(y []float32, w []byte, wt quant.Type, rows, k int, x []float32, n int) {
	if f := kFormatOf(wt); f != nil {
		p.matMulPackedK(f, y, w, wt, rows, k, x, n)
		return
	}
	size := q4_0Bytes
	if f := q8FormatOf(wt); f != nil {
		size = f.size
	} else if wt != quant.Q4_0 {
		panic(fmt.Sprintf("kernels: MatMulPacked: weight type %v is not packable", wt))
	}
	nb := checkPacked0("MatMulPacked", w, rows, k, size)
	if packedNothingToDo(y, x, rows, k, n) {
		return
	}
	ps := &p.packed
	ps.mu.Lock()
	defer ps.mu.Unlock()
	msize := rows * nb * size
	if n > packedRowsMax {
		if cap(ps.buf) < msize {
			ps.buf = make([]byte, msize)
		}
		buf := ps.buf[:msize]
		p.mu.Lock()
		groups := rows / packRows
		u := &ps.un
		*u = unpackJob{dst: buf, src: w, nb: nb, groups: groups, per: max(1, (groups+4*p.threads-1)/(4*p.threads)), wt: wt}
		p.parallel(u, (groups+u.per-1)/u.per)
		t := groups * packRows * nb * size
		copy(buf[t:msize], w[t:msize])
		u.dst, u.src = nil, nil
		p.mu.Unlock()
		p.MatMul(y, buf, wt, rows, k, x, n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.decodePacked(y, w, wt, size, rows, k, nb, x, n)
}

// packedRowsMax is the largest n for which MatMulPacked runs the packed
// decode (all n activation rows against each group in turn) rather than
// unpacking the matrix for MatMul. Measured with cogedge bench on the 17B
// (2 threads, EPYC, AVX-512 VNNI): Q4_0 pp20 32.3 t/s packed against 20.3
// unpacking, pp32 34.7 against 29.0, pp64 a tie (33.8 and 34.1); Q4_K_M
// pp20 15.7 against 11.7, pp32 18.2 against 15.2. A chat turn's text
// after an image is typically 15–40 tokens.
const packedRowsMax = 32

// PackedDecodeRows is the largest number of activation rows for which
// MatMulPacked multiplies the packed layout directly; above it, it first
// unpacks the matrix into a buffer as large as the matrix.
const PackedDecodeRows = packedRowsMax

// decodePacked computes y = W·x for the n activation rows of x over the
// packed matrix w. Callers hold p.packed.mu and p.mu.
func (p *Pool) decodePacked(y []float32, w []byte, wt quant.Type, size, rows, k, nb int, x []float32, n int) {
	ps := &p.packed
	arow, alrow := nb*q8_0Bytes, nb*gemmActBlock
	if cap(p.act) < n*arow {
		p.act = make([]byte, n*arow)
	}
	a := p.act[:n*arow]
	if cap(p.agBuf) < n*alrow {
		p.agBuf = make([]byte, n*alrow)
	}
	al := p.agBuf[:n*alrow]
	// the Q8_0 rows are read only by the row dots of the weight rows past
	// the last group of eight (packedJob.run), unless the Q4_0 GEMV takes
	// those from the slots
	needRows := rows%packRows != 0 && !(wt == quant.Q4_0 && impl.gemv[quant.Q4_0] != nil)
	for r := 0; r < n; r++ {
		xr, alr := x[r*k:(r+1)*k], al[r*alrow:(r+1)*alrow]
		if !needRows {
			impl.packQ8_0(alr, gemmActBlock, xr, packedOffset(wt))
			continue
		}
		QuantizeActivations(quant.Q8_0, a[r*arow:(r+1)*arow], xr)
		packActLinear(alr, a[r*arow:(r+1)*arow], nb, packedOffset(wt))
	}
	if len(ps.out2) < p.threads {
		ps.out2 = make([][2][8]float32, p.threads)
		ps.out4 = make([][4][8]float32, p.threads)
	}
	j := &ps.job
	groups := rows / packRows
	// about 32 tasks per thread, at least 4 groups each
	per := max(4, (groups+32*p.threads-1)/(32*p.threads))
	ntasks := max(1, (groups+per-1)/per)
	*j = packedJob{y: y, w: w, wt: wt, size: size, al: al, a: a, n: n, rows: rows, nb: nb, groups: groups, per: per, ntasks: ntasks, out2: ps.out2, out4: ps.out4}
	p.parallel(j, ntasks)
	j.y, j.w, j.al, j.a = nil, nil, nil, nil
}

// packedNothingToDo checks MatMulPacked's slices (panicking when short: a
// programming error) and handles the calls with nothing to multiply: it
// returns true when y is already complete.
func packedNothingToDo(y, x []float32, rows, k, n int) bool {
	if n < 0 || len(x) < n*k || len(y) < n*rows {
		panic(fmt.Sprintf("kernels: MatMulPacked: short slice: n=%d len(x)=%d want %d, len(y)=%d want %d",
			n, len(x), n*k, len(y), n*rows))
	}
	if rows == 0 || n == 0 {
		return true
	}
	if k == 0 {
		clear(y[:n*rows])
		return true
	}
	return false
}
