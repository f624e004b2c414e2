package metal

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/quant"
)

// View is a tensor in device memory: a buffer and a byte offset.
type View struct {
	Buf Buffer
	Off int
}

func (v View) arg() Arg { return BufferArg(v.Buf, v.Off) }

// At returns the view off bytes further on.
func (v View) At(off int) View { return View{v.Buf, v.Off + off} }

// Ops is the Metal backend's host code: it checks shapes, packs each
// kernel's argument struct, sizes the grid and encodes the kernel on a
// Device. Nothing runs until the caller's Device.Sync, so a whole decode
// step is one command buffer. Ops is not safe for concurrent use.
type Ops struct {
	dev     Device
	scratch Buffer // quantized activations of MatVec
}

// NewOps returns the host code for dev.
func NewOps(dev Device) *Ops { return &Ops{dev: dev} }

// Device returns the device the ops encode on.
func (o *Ops) Device() Device { return o.dev }

// Close frees the scratch buffer.
func (o *Ops) Close() error {
	if o.scratch == nil {
		return nil
	}
	err := o.dev.Free(o.scratch)
	o.scratch = nil
	return err
}

// pack encodes an argument struct: ints as int32, float32s and uint32s as
// themselves, little-endian, in field order.
func pack(fields ...any) []byte {
	b := make([]byte, 0, 4*len(fields))
	for _, f := range fields {
		switch v := f.(type) {
		case int:
			b = binary.LittleEndian.AppendUint32(b, uint32(int32(v)))
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, v)
		case float32:
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		case bool:
			var u uint32
			if v {
				u = 1
			}
			b = binary.LittleEndian.AppendUint32(b, u)
		default:
			panic(fmt.Sprintf("metal: pack: unsupported field %T", f))
		}
	}
	return b
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// fits checks that a view holds n bytes.
func fits(op, name string, v View, n int) error {
	if v.Buf == nil || v.Off < 0 || n < 0 || v.Off > v.Buf.Len() || n > v.Buf.Len()-v.Off {
		l := 0
		if v.Buf != nil {
			l = v.Buf.Len()
		}
		return fmt.Errorf("metal: %s: %s needs %d bytes at offset %d of a %d-byte buffer", op, name, n, v.Off, l)
	}
	return nil
}

// mvKernels names the decode kernel of each weight type.
var mvKernels = map[quant.Type]string{
	quant.F32: "mv_f32", quant.F16: "mv_f16", quant.BF16: "mv_bf16",
	quant.Q4_0: "mv_q4_0", quant.Q4_1: "mv_q4_1", quant.Q5_0: "mv_q5_0", quant.Q5_1: "mv_q5_1",
	quant.Q8_0: "mv_q8_0", quant.IQ4_NL: "mv_iq4_nl", quant.Q4_K: "mv_q4_k", quant.Q5_K: "mv_q5_k", quant.Q6_K: "mv_q6_k",
}

// Supported reports whether the Metal kernels multiply weight type wt.
func Supported(wt quant.Type) bool { _, ok := mvKernels[wt]; return ok }

// actType is the activation format quantized weights are dotted with, as
// on the CPU.
func actType(wt quant.Type) quant.Type {
	switch wt {
	case quant.Q4_1, quant.Q5_1:
		return quant.Q8_1
	case quant.Q4_K, quant.Q5_K, quant.Q6_K:
		return quant.Q8_K
	}
	return quant.Q8_0
}

func isFloat(wt quant.Type) bool { return wt == quant.F32 || wt == quant.F16 || wt == quant.BF16 }

// checkMat validates a rows×k weight matrix of type wt at w.
func checkMat(op string, wt quant.Type, w View, rows, k int) (rowBytes int, err error) {
	if !Supported(wt) {
		return 0, fmt.Errorf("metal: %s: weight type %v has no kernel", op, wt)
	}
	if rows < 1 || k < 1 || k%wt.BlockSize() != 0 {
		return 0, fmt.Errorf("metal: %s: %d×%d %v matrix: row length must be a positive multiple of %d", op, rows, k, wt, wt.BlockSize())
	}
	rowBytes = k / wt.BlockSize() * wt.TypeSize()
	return rowBytes, fits(op, "weights", w, rows*rowBytes)
}

// scratchView returns scratch memory of n bytes, growing it when needed
// (only between command buffers: growth frees the old buffer).
func (o *Ops) scratchView(n int) (View, error) {
	if o.scratch == nil || o.scratch.Len() < n {
		if o.scratch != nil {
			o.dev.Free(o.scratch)
			o.scratch = nil
		}
		b, err := o.dev.NewBuffer(max(n, 1<<16))
		if err != nil {
			return View{}, err
		}
		o.scratch = b
	}
	return View{o.scratch, 0}, nil
}

// MatVec computes y[c·rows+r] = Σ_e w[r][e]·x[c·k+e] for a few activation
// rows (decode): quantized weights take activations quantized on the
// device to the partner format (Q8_0, Q8_1 or Q8_K), one SIMD-group per
// weight row; float weights take the float activations.
func (o *Ops) MatVec(y, w View, wt quant.Type, rows, k int, x View, cols int) error {
	rowBytes, err := checkMat("MatVec", wt, w, rows, k)
	if err != nil {
		return err
	}
	if cols < 1 {
		return fmt.Errorf("metal: MatVec: %d activation rows", cols)
	}
	if err := fits("MatVec", "x", x, 4*cols*k); err != nil {
		return err
	}
	if err := fits("MatVec", "y", y, 4*cols*rows); err != nil {
		return err
	}
	xs, nb := k, k
	xv := x
	if !isFloat(wt) {
		act := actType(wt)
		nb = k / wt.BlockSize()
		xs = k / act.BlockSize() * act.TypeSize()
		if xv, err = o.scratchView(cols * xs); err != nil {
			return err
		}
		if err := o.QuantizeActivations(xv, x, act, cols, k); err != nil {
			return err
		}
	}
	return o.dev.Dispatch(mvKernels[wt], Size3{ceilDiv(rows, 2), cols, 1}, Size3{64, 1, 1},
		BytesArg(pack(rows, nb, cols, rowBytes, xs, rows)), w.arg(), xv.arg(), y.arg())
}

// QuantizeActivations quantizes rows rows of k floats at src to act (Q8_0,
// Q8_1 or Q8_K) at dst with kernels/ref's rounding (ties to even).
func (o *Ops) QuantizeActivations(dst, src View, act quant.Type, rows, k int) error {
	var kernel string
	switch act {
	case quant.Q8_0:
		kernel = "quantize_q8_0"
	case quant.Q8_1:
		kernel = "quantize_q8_1"
	case quant.Q8_K:
		kernel = "quantize_q8_k"
	default:
		return fmt.Errorf("metal: QuantizeActivations: %v is not an activation format", act)
	}
	if rows < 1 || k < 1 || k%act.BlockSize() != 0 {
		return fmt.Errorf("metal: QuantizeActivations: %d rows of %d: not a multiple of %d", rows, k, act.BlockSize())
	}
	nb := k / act.BlockSize()
	if err := fits("QuantizeActivations", "src", src, 4*rows*k); err != nil {
		return err
	}
	if err := fits("QuantizeActivations", "dst", dst, rows*nb*act.TypeSize()); err != nil {
		return err
	}
	return o.dev.Dispatch(kernel, Size3{ceilDiv(nb, 64), rows, 1}, Size3{64, 1, 1},
		BytesArg(pack(nb, k, nb*act.TypeSize(), rows)), src.arg(), dst.arg())
}

// MatMul computes the same product as MatVec for many activation rows
// (prefill, the vision tower) with the tiled SIMD-group-matrix kernel:
// weights dequantized to float in threadgroup tiles, float activations.
func (o *Ops) MatMul(y, w View, wt quant.Type, rows, k int, x View, cols int) error {
	rowBytes, err := checkMat("MatMul", wt, w, rows, k)
	if err != nil {
		return err
	}
	if cols < 1 {
		return fmt.Errorf("metal: MatMul: %d activation rows", cols)
	}
	if err := fits("MatMul", "x", x, 4*cols*k); err != nil {
		return err
	}
	if err := fits("MatMul", "y", y, 4*cols*rows); err != nil {
		return err
	}
	return o.dev.Dispatch("mm", Size3{ceilDiv(rows, 32), ceilDiv(cols, 32), 1}, Size3{128, 1, 1},
		BytesArg(pack(rows, k, cols, int(wt), rowBytes, k, rows)), w.arg(), x.arg(), y.arg())
}

// MatMulAuto picks MatVec for up to 8 activation rows and MatMul beyond.
func (o *Ops) MatMulAuto(y, w View, wt quant.Type, rows, k int, x View, cols int) error {
	if cols <= 8 {
		return o.MatVec(y, w, wt, rows, k, x, cols)
	}
	return o.MatMul(y, w, wt, rows, k, x, cols)
}

// GetRows writes the float rows ids[0..n) of a (quantized) table of k-wide
// rows to dst (embeddings).
func (o *Ops) GetRows(dst, table View, wt quant.Type, k int, ids View, n int) error {
	if !Supported(wt) || k < 1 || k%wt.BlockSize() != 0 || n < 1 {
		return fmt.Errorf("metal: GetRows: %d rows of %d %v", n, k, wt)
	}
	if err := fits("GetRows", "ids", ids, 4*n); err != nil {
		return err
	}
	if err := fits("GetRows", "dst", dst, 4*n*k); err != nil {
		return err
	}
	return o.dev.Dispatch("get_rows", Size3{n, 1, 1}, Size3{64, 1, 1},
		BytesArg(pack(int(wt), k, k/wt.BlockSize()*wt.TypeSize(), n, k)), table.arg(), ids.arg(), dst.arg())
}

// Gather copies rows idx[i] of src to row i of dst, Scatter row i of src to
// row idx[i] of dst: the per-token expert routing moves the image tokens'
// and the text tokens' rows through their own weights this way. Rows are n
// floats.
func (o *Ops) Gather(dst, src, idx View, n, count int) error {
	return o.route("gather_rows", dst, src, idx, n, count)
}

// Scatter is Gather's inverse; see Gather.
func (o *Ops) Scatter(dst, src, idx View, n, count int) error {
	return o.route("scatter_rows", dst, src, idx, n, count)
}

func (o *Ops) route(kernel string, dst, src, idx View, n, count int) error {
	if n < 1 || count < 1 {
		return fmt.Errorf("metal: %s: %d rows of %d", kernel, count, n)
	}
	if err := fits(kernel, "idx", idx, 4*count); err != nil {
		return err
	}
	return o.dev.Dispatch(kernel, Size3{count, 1, 1}, Size3{64, 1, 1}, BytesArg(pack(n, count, n, n)), src.arg(), idx.arg(), dst.arg())
}

// RMSNorm normalizes rows of n floats (kernels.RMSNorm per row).
func (o *Ops) RMSNorm(y, x, w View, n, rows int, eps float32) error {
	if err := checkRows("RMSNorm", n, rows, x, y); err != nil {
		return err
	}
	return o.dev.Dispatch("rms_norm", Size3{rows, 1, 1}, Size3{32, 1, 1}, BytesArg(pack(n, rows, n, n, eps)), x.arg(), w.arg(), y.arg())
}

// LayerNorm normalizes rows of n floats (kernels.LayerNorm per row).
func (o *Ops) LayerNorm(y, x, w, b View, n, rows int, eps float32) error {
	if err := checkRows("LayerNorm", n, rows, x, y); err != nil {
		return err
	}
	return o.dev.Dispatch("layer_norm", Size3{rows, 1, 1}, Size3{32, 1, 1}, BytesArg(pack(n, rows, n, n, eps)), x.arg(), w.arg(), b.arg(), y.arg())
}

func checkRows(op string, n, rows int, vs ...View) error {
	if n < 1 || rows < 1 {
		return fmt.Errorf("metal: %s: %d rows of %d", op, rows, n)
	}
	for _, v := range vs {
		if err := fits(op, "row data", v, 4*n*rows); err != nil {
			return err
		}
	}
	return nil
}

// Add writes c[i] = a[i] + b[i mod nb] over n floats (nb = n: element-wise;
// nb = the row length: a bias).
func (o *Ops) Add(c, a, b View, n, nb int) error { return o.elt("add", c, a, b, n, nb) }

// Mul writes c[i] = a[i] · b[i mod nb] over n floats.
func (o *Ops) Mul(c, a, b View, n, nb int) error { return o.elt("mul", c, a, b, n, nb) }

// SwiGLU writes y = silu(g)·u over n floats.
func (o *Ops) SwiGLU(y, g, u View, n int) error { return o.elt("swiglu", y, g, u, n, n) }

func (o *Ops) elt(kernel string, c, a, b View, n, nb int) error {
	if n < 1 || nb < 1 || nb > n {
		return fmt.Errorf("metal: %s: n=%d nb=%d", kernel, n, nb)
	}
	if err := fits(kernel, "output", c, 4*n); err != nil {
		return err
	}
	return o.dev.Dispatch(kernel, Size3{ceilDiv(n, 256), 1, 1}, Size3{256, 1, 1}, BytesArg(pack(n, nb)), a.arg(), b.arg(), c.arg())
}

// GELU writes the exact (erf) GELU of n floats.
func (o *Ops) GELU(y, x View, n int) error {
	if n < 1 {
		return fmt.Errorf("metal: GELU: n=%d", n)
	}
	if err := fits("GELU", "output", y, 4*n); err != nil {
		return err
	}
	return o.dev.Dispatch("gelu", Size3{ceilDiv(n, 256), 1, 1}, Size3{256, 1, 1}, BytesArg(pack(n, n)), x.arg(), y.arg())
}

// RoPENeoX rotates tokens rows (stride floats apart) of nHeads heads in
// place by the positions pos[t] (int32), as kernels.RoPENeoX.
func (o *Ops) RoPENeoX(x, pos View, nHeads, headDim, tokens, stride int, base float32) error {
	inv := make([]float32, max(headDim/2, 0))
	for i := range inv {
		inv[i] = kernels.RoPEInvFreq(i, headDim, base)
	}
	return o.RoPENeoXFreqs(x, pos, nHeads, headDim, tokens, stride, inv)
}

// RoPENeoXFreqs is RoPENeoX with the headDim/2 inverse frequencies given
// (a checkpoint that stores them, CogVLM2's).
func (o *Ops) RoPENeoXFreqs(x, pos View, nHeads, headDim, tokens, stride int, invFreq []float32) error {
	if headDim < 2 || headDim%2 != 0 || headDim > 2048 || nHeads < 1 || tokens < 1 || stride < nHeads*headDim || len(invFreq) != headDim/2 {
		return fmt.Errorf("metal: RoPENeoX: %d heads of %d, %d tokens, stride %d, %d frequencies", nHeads, headDim, tokens, stride, len(invFreq))
	}
	inv := make([]byte, 0, 2*headDim)
	for _, f := range invFreq {
		inv = binary.LittleEndian.AppendUint32(inv, math.Float32bits(f))
	}
	return o.dev.Dispatch("rope_neox", Size3{ceilDiv(headDim/2, 32), nHeads, tokens}, Size3{32, 1, 1},
		BytesArg(pack(nHeads, headDim, tokens, stride)), x.arg(), pos.arg(), BytesArg(inv))
}

// ToF16 writes n floats of src as IEEE half (round to nearest even) to
// dst: K and V rows into an f16 KV cache.
func (o *Ops) ToF16(dst, src View, n int) error {
	if n < 1 {
		return fmt.Errorf("metal: ToF16: n=%d", n)
	}
	if err := fits("ToF16", "src", src, 4*n); err != nil {
		return err
	}
	if err := fits("ToF16", "dst", dst, 2*n); err != nil {
		return err
	}
	return o.dev.Dispatch("f32_to_f16", Size3{ceilDiv(n, 256), 1, 1}, Size3{256, 1, 1}, BytesArg(pack(n, n)), src.arg(), dst.arg())
}

// Softmax replaces each of rows rows of n floats with its softmax.
func (o *Ops) Softmax(x View, n, rows int) error {
	if err := checkRows("Softmax", n, rows, x); err != nil {
		return err
	}
	return o.dev.Dispatch("softmax", Size3{rows, 1, 1}, Size3{32, 1, 1}, BytesArg(pack(n, rows, n)), x.arg())
}

// Attention computes softmax(Scale·q·kᵀ)·v per head as
// kernels.Pool.AttentionF32 (f16 false) or AttentionF16 (k, v IEEE half),
// flash style: one SIMD-group per query row and head streams the keys 32
// at a time with an online softmax.
func (o *Ops) Attention(out, q, k, v View, f16 bool, nq, nkv int, ap kernels.AttnParams) error {
	qw, kw := ap.NHead*ap.HeadDim, ap.NHeadKV*ap.HeadDim
	return o.AttentionStrided(out, q, k, v, f16, nq, nkv, qw, kw, qw, ap)
}

// AttentionStrided is Attention over rows qStride floats apart in q,
// kvStride elements apart in k and v, oStride floats apart in out: q, k
// and v may then be column ranges of one fused QKV activation (the
// vision tower's).
func (o *Ops) AttentionStrided(out, q, k, v View, f16 bool, nq, nkv, qStride, kvStride, oStride int, ap kernels.AttnParams) error {
	if ap.NHead < 1 || ap.NHeadKV < 1 || ap.NHead%ap.NHeadKV != 0 || ap.HeadDim < 1 || ap.HeadDim > 256 || nq < 1 || nkv < 1 || ap.QPos0 < 0 {
		return fmt.Errorf("metal: Attention: bad parameters %+v nq=%d nkv=%d", ap, nq, nkv)
	}
	qw, kw := ap.NHead*ap.HeadDim, ap.NHeadKV*ap.HeadDim
	if qStride < qw || oStride < qw || kvStride < kw {
		return fmt.Errorf("metal: Attention: strides q %d, kv %d, out %d below the row widths %d and %d", qStride, kvStride, oStride, qw, kw)
	}
	el := 4
	kernel := "attn_f32"
	if f16 {
		el, kernel = 2, "attn_f16"
	}
	for _, c := range []struct {
		name string
		v    View
		n    int
	}{{"q", q, 4 * ((nq-1)*qStride + qw)}, {"out", out, 4 * ((nq-1)*oStride + qw)},
		{"k", k, el * ((nkv-1)*kvStride + kw)}, {"v", v, el * ((nkv-1)*kvStride + kw)}} {
		if err := fits("Attention", c.name, c.v, c.n); err != nil {
			return err
		}
	}
	return o.dev.Dispatch(kernel, Size3{nq, ap.NHead, 1}, Size3{32, 1, 1},
		BytesArg(pack(nq, nkv, ap.NHead, ap.NHeadKV, ap.HeadDim, qStride, kvStride, oStride, ap.Causal, ap.QPos0, ap.Scale)),
		q.arg(), k.arg(), v.arg(), out.arg())
}

// ReadSum sums nWords uint32 words of src over groups×threads threads,
// each writing its partial (wrapping) sum to out: a pure read of memory
// that measures the device's read bandwidth.
func (o *Ops) ReadSum(out, src View, nWords, groups, threads int) error {
	if err := fits("ReadSum", "src", src, 4*nWords); err != nil {
		return err
	}
	if err := fits("ReadSum", "out", out, 4*groups*threads); err != nil {
		return err
	}
	return o.dev.Dispatch("read_sum", Size3{groups, 1, 1}, Size3{threads, 1, 1}, BytesArg(pack(uint32(nWords))), src.arg(), out.arg())
}
