package kernels

import (
	"fmt"
	"unsafe"

	"github.com/cogedge/cogedge/quant"
)

// matmulJob is one MatMul call: the quantize phase (phase 0) converts
// activation rows, the compute phase (phase 1) fills tiles of y.
type matmulJob struct {
	phase int
	y     []float32
	w     []byte
	wt    quant.Type
	act   quant.Type
	rows  int
	k     int
	x     []float32
	n     int
	a     []byte       // quantized activations, n rows of arow bytes
	out4  [][4]float32 // per-worker kernel results
	sc    []float32    // Q8_0 activation block scales as float32 (n×nb), for qdotx4 kernels
	wrow  int          // bytes per weight row
	arow  int          // bytes per activation row
	nb    int          // blocks per row
	rb    int          // weight rows per tile
	cb    int          // activation rows per tile
	nrb   int          // number of row blocks
	qrows int          // activation rows per quantize task

	// GEMM micro-kernel path (useGEMM): activations in group layout.
	p       *Pool
	gemm    bool
	ag      []byte // activation groups, ngroups × nb × gemmCols × ablk
	sblk    int    // strip bytes per weight block (gemmBlocks)
	ablk    int    // group bytes per activation row and block
	goff    int32  // weight offset of the type (gemmOffset)
	ngroups int    // activation groups of gemmCols rows
	nstrips int    // weight strips of gemmRows rows
	sper    int    // strips per task (gemmPlan)
	nsb     int    // tasks' strip blocks: ⌈nstrips/sper⌉
	nchunks int    // activation-group chunks per strip block (tasks = nsb·nchunks)
	gblk    int    // activation groups per cache block within a task

	// decode through table.gemv: the activation row in linear slots.
	al []byte
}

// MatMul computes y[j*rows+i] = dot(W row i, x row j) for j < n, i < rows.
// w holds rows rows of k elements of type wt in ggml layout (a GGUF tensor
// with Shape {k, rows}); x is n×k float32, row-major; y is n×rows.
// Quantized weights multiply activations quantized on the fly to their
// partner format (see the package doc). MatMul panics if wt has no kernel
// or a slice is too short for the sizes given: both are programming errors.
func (p *Pool) MatMul(y []float32, w []byte, wt quant.Type, rows, k int, x []float32, n int) {
	act, ok := partner(wt)
	if !ok {
		panic(fmt.Sprintf("kernels: MatMul: no kernel for weight type %v", wt))
	}
	if rows < 0 || k < 0 || n < 0 {
		panic(fmt.Sprintf("kernels: MatMul: negative size rows=%d k=%d n=%d", rows, k, n))
	}
	wrow, err := wt.RowSize(int64(k))
	if err != nil {
		panic(fmt.Sprintf("kernels: MatMul: %v", err))
	}
	if int64(len(w)) < int64(rows)*wrow || len(x) < n*k || len(y) < n*rows {
		panic(fmt.Sprintf("kernels: MatMul: short slice: len(w)=%d want %d, len(x)=%d want %d, len(y)=%d want %d",
			len(w), int64(rows)*wrow, len(x), n*k, len(y), n*rows))
	}
	if rows == 0 || n == 0 {
		return
	}
	if k == 0 { // empty sums
		clear(y[:n*rows])
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	j := &p.mm
	*j = matmulJob{y: y, w: w, wt: wt, act: act, rows: rows, k: k, x: x, n: n, wrow: int(wrow), out4: p.out4}
	if act != quant.F32 {
		arow, _ := act.RowSize(int64(k))
		j.arow = int(arow)
		j.nb = k / act.BlockSize()
		need := n * j.arow
		if j.useGEMM() || j.useGEMV() {
			// quantized straight into the kernels' slots (actpack.go)
			need = 0
		}
		if cap(p.act) < need {
			p.act = make([]byte, need)
		}
		j.a = p.act[:need]
		if j.useGEMM() {
			j.setupGEMM(p)
		} else if j.useGEMV() {
			j.goff = gemmOffset(wt)
			if cap(p.agBuf) < n*j.nb*gemmActBlock {
				p.agBuf = make([]byte, n*j.nb*gemmActBlock)
			}
			j.al = p.agBuf[:n*j.nb*gemmActBlock]
		} else if act == quant.Q8_0 && impl.qdotx4[wt] != nil && n >= 4 {
			if cap(p.ascale) < n*j.nb {
				p.ascale = make([]float32, n*j.nb)
			}
			j.sc = p.ascale[:n*j.nb]
		}
		j.phase = 0
		j.qrows = 1
		if n > 4*p.threads {
			j.qrows = 4
		}
		p.parallel(j, (n+j.qrows-1)/j.qrows)
	}
	j.phase = 1
	if j.gemm {
		p.parallel(j, j.nsb*j.nchunks)
	} else {
		j.plan(p.threads)
		p.parallel(j, j.nrb*((n+j.cb-1)/j.cb))
	}
	j.y, j.w, j.x, j.a, j.sc, j.ag, j.p, j.al = nil, nil, nil, nil, nil, nil, nil, nil
}

// setupGEMM sizes the pool's scratch for the micro-kernel path, zeroes the
// padding rows of the last activation group and plans the tasks.
func (j *matmulJob) setupGEMM(p *Pool) {
	j.gemm, j.p = true, p
	j.goff = gemmOffset(j.wt)
	if impl.gemmSigned[j.wt] {
		j.goff = 0
	}
	j.sblk, j.ablk = gemmBlocks(j.wt)
	j.ngroups = (j.n + gemmCols - 1) / gemmCols
	j.nstrips = (j.rows + gemmRows - 1) / gemmRows
	gsz := j.nb * gemmCols * j.ablk
	if cap(p.agBuf) < j.ngroups*gsz {
		p.agBuf = make([]byte, j.ngroups*gsz)
	}
	j.ag = p.agBuf[:j.ngroups*gsz]
	if pad := j.ngroups*gemmCols - j.n; pad > 0 {
		last := j.ag[(j.ngroups-1)*gsz:]
		for b := 0; b < j.nb; b++ {
			for r := gemmCols - pad; r < gemmCols; r++ {
				clear(last[(b*gemmCols+r)*j.ablk : (b*gemmCols+r+1)*j.ablk])
			}
		}
	}
	j.sper, j.nchunks, j.gblk = gemmPlan(j.nstrips, j.ngroups, j.nb*j.sblk, gsz, p.threads, gemmCacheBudget)
	j.nsb = (j.nstrips + j.sper - 1) / j.sper
	for w := range p.strips {
		if cap(p.strips[w]) < j.sper*j.nb*j.sblk {
			p.strips[w] = make([]byte, j.sper*j.nb*j.sblk)
		}
	}
}

// useGEMV reports whether this call goes through the one-row decode kernel
// (table.gemv), once per activation row: below the GEMM's threshold, where
// it beats the four-row dot kernels (batched decode of a few rows).
func (j *matmulJob) useGEMV() bool {
	return j.n < gemmMinN && impl.gemv[j.wt] != nil
}

// plan picks the tile shape: decode (n = 1, or a few rows through the
// GEMV) splits the weight rows in chunks, every activation row in each;
// prefill uses row-block × activation-block tiles so a block of weight
// rows is read once per block of activation rows.
func (j *matmulJob) plan(threads int) {
	if j.n == 1 || j.al != nil {
		j.cb = j.n
		rb := j.rows / (8 * threads)
		rb = max(16, min(256, rb&^3))
		j.rb = rb
	} else if fk := impl.gemmF[j.wt]; j.act == quant.F32 && fk.fn != nil {
		// float micro-kernel tiles: whole kernel tiles except at the edges
		j.cb = min(j.n, 12*fk.c)
		j.rb = 16 * fk.r
		for j.rb > fk.r && ((j.rows+j.rb-1)/j.rb)*((j.n+j.cb-1)/j.cb) < 4*threads {
			j.rb = max(fk.r, j.rb/2/fk.r*fk.r)
		}
	} else {
		j.cb = min(j.n, 64)
		j.rb = 64
		for j.rb > 8 && ((j.rows+j.rb-1)/j.rb)*((j.n+j.cb-1)/j.cb) < 4*threads {
			j.rb /= 2
		}
	}
	j.nrb = (j.rows + j.rb - 1) / j.rb
}

func (j *matmulJob) run(w, t int) {
	if j.phase == 0 {
		r0 := t * j.qrows
		r1 := min(r0+j.qrows, j.n)
		for r := r0; r < r1; r++ {
			x := j.x[r*j.k : (r+1)*j.k]
			if j.gemm {
				gsz := j.nb * gemmCols * j.ablk
				g := r / gemmCols
				slot := j.ag[g*gsz+(r%gemmCols)*j.ablk : (g+1)*gsz]
				switch {
				case j.act == quant.Q8_K:
					impl.packQ8_K(slot, gemmCols*j.ablk, x, j.wt)
				case impl.gemmMX[j.wt]: // power-of-two scales (gemm.go)
					impl.packMX(slot, gemmCols*j.ablk, x, j.goff)
				default:
					impl.packQ8_0(slot, gemmCols*j.ablk, x, j.goff)
				}
				continue
			}
			if j.al != nil {
				alrow := j.nb * gemmActBlock
				impl.packQ8_0(j.al[r*alrow:(r+1)*alrow], gemmActBlock, x, j.goff)
				continue
			}
			ar := j.a[r*j.arow : (r+1)*j.arow]
			QuantizeActivations(j.act, ar, x)
			if j.sc != nil {
				for b := 0; b < j.nb; b++ {
					j.sc[r*j.nb+b] = f16(ar[b*q8_0Bytes:])
				}
			}
		}
		return
	}
	if j.gemm {
		sb, c := t/j.nchunks, t%j.nchunks
		per := (j.ngroups + j.nchunks - 1) / j.nchunks
		j.gemmTask(j.p, w, sb, c*per, min(j.ngroups, (c+1)*per))
		return
	}
	i0 := (t % j.nrb) * j.rb
	i1 := min(i0+j.rb, j.rows)
	c0 := (t / j.nrb) * j.cb
	c1 := min(c0+j.cb, j.n)
	switch j.act {
	case quant.F32:
		j.tileFloat(i0, i1, c0, c1)
	default:
		j.tileQuant(&j.out4[w], i0, i1, c0, c1)
	}
}

// tileQuant fills y for weight rows [i0,i1) × activation rows [c0,c1);
// out is the worker's own result buffer (a local would escape to the heap
// through the kernel function values).
func (j *matmulJob) tileQuant(out *[4]float32, i0, i1, c0, c1 int) {
	dot := impl.qdot[j.wt]
	dot4 := impl.qdot4[j.wt]
	wrow, arow, nb, rows := j.wrow, j.arow, j.nb, j.rows
	i := i0
	if j.al != nil { // decode: each weight row against every activation row while it is in cache
		gemv := impl.gemv[j.wt]
		alrow := nb * gemmActBlock
		for ; i < i1; i++ {
			wr := j.w[i*wrow : (i+1)*wrow]
			for c := c0; c < c1; c++ {
				j.y[c*rows+i] = gemv(wr, j.al[c*alrow:(c+1)*alrow], nb)
			}
		}
		return
	}
	if x4 := impl.qdotx4[j.wt]; x4 != nil && j.sc != nil {
		for ; i < i1; i++ {
			wr := j.w[i*wrow : (i+1)*wrow]
			c := c0
			for ; c+4 <= c1; c += 4 {
				x4(out, wr, j.a[c*arow:(c+4)*arow], arow, j.sc[c*nb:(c+4)*nb], nb)
				j.y[c*rows+i] = out[0]
				j.y[(c+1)*rows+i] = out[1]
				j.y[(c+2)*rows+i] = out[2]
				j.y[(c+3)*rows+i] = out[3]
			}
			for ; c < c1; c++ {
				j.y[c*rows+i] = dot(wr, j.a[c*arow:(c+1)*arow], nb)
			}
		}
		return
	}
	if dot4 != nil {
		for ; i+4 <= i1; i += 4 {
			wr := j.w[i*wrow : (i+4)*wrow]
			for c := c0; c < c1; c++ {
				dot4(out, wr, wrow, j.a[c*arow:(c+1)*arow], nb)
				yr := j.y[c*rows+i : c*rows+i+4]
				yr[0], yr[1], yr[2], yr[3] = out[0], out[1], out[2], out[3]
			}
		}
	}
	for ; i < i1; i++ {
		wr := j.w[i*wrow : (i+1)*wrow]
		for c := c0; c < c1; c++ {
			j.y[c*rows+i] = dot(wr, j.a[c*arow:(c+1)*arow], nb)
		}
	}
}

func (j *matmulJob) tileFloat(i0, i1, c0, c1 int) {
	k, rows, wrow := j.k, j.rows, j.wrow
	i := i0
	if fk := impl.gemmF[j.wt]; fk.fn != nil && j.n > 1 && k >= fk.step {
		kk := k - k%fk.step
		esz := wrow / max(k, 1)
		for ; i+fk.r <= i1; i += fk.r {
			c := c0
			for ; c+fk.c <= c1; c += fk.c {
				fk.fn(j.y[c*rows+i:], rows, j.w[i*wrow:], k, j.x[c*k:], k, kk)
				if kk < k { // the k tail, element by element
					for cc := c; cc < c+fk.c; cc++ {
						for ii := i; ii < i+fk.r; ii++ {
							j.y[cc*rows+ii] += j.dotFloat(j.w[ii*wrow+kk*esz:(ii+1)*wrow], j.x[cc*k+kk:(cc+1)*k])
						}
					}
				}
			}
			for ; c < c1; c++ {
				for ii := i; ii < i+fk.r; ii++ {
					j.y[c*rows+ii] = j.dotFloat(j.w[ii*wrow:(ii+1)*wrow], j.x[c*k:(c+1)*k])
				}
			}
		}
	}
	for ; i < i1; i++ {
		for c := c0; c < c1; c++ {
			j.y[c*rows+i] = j.dotFloat(j.w[i*wrow:(i+1)*wrow], j.x[c*k:(c+1)*k])
		}
	}
}

// dotFloat is the dot of float weights wr (type j.wt) with activations x.
func (j *matmulJob) dotFloat(wr []byte, x []float32) float32 {
	switch j.wt {
	case quant.F32:
		return impl.dotF32(bytesAsF32(wr), x)
	case quant.F16:
		return impl.dotF16(bytesAsU16(wr), x)
	default:
		return impl.dotBF16(bytesAsU16(wr), x)
	}
}

// bytesAsF32 views little-endian float32 data in place (all supported
// targets are little-endian; unaligned access is allowed on amd64 and arm64).
func bytesAsF32(b []byte) []float32 {
	if len(b) < 4 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}

func bytesAsU16(b []byte) []uint16 {
	if len(b) < 2 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)
}
