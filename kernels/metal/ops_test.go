//go:build linux || darwin

package metal

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/kernels/ref"
	"github.com/cogedge/cogedge/quant"
)

// The test device (the simulator on Linux, the GPU on a Mac) runs every
// kernel of shaders/cogedge.metal; each test compares one op's host code
// plus shader with the generic reference (kernels/ref for the quantized
// dots and quantizers, kernels' ops, or a float64 oracle) within the
// tolerance it states and logs.

var (
	dev    Device
	devErr error
)

// dispatchCounter is implemented by both devices.
type dispatchCounter interface{ Dispatched() map[string]int }

func TestMain(m *testing.M) {
	flag.Parse()
	dev, devErr = openTestDevice()
	code := m.Run()
	if dev != nil {
		// every kernel of the source must have run (when all tests ran)
		if flag.Lookup("test.run").Value.String() == "" && code == 0 {
			decls, err := parseKernels(Source())
			ran := dev.(dispatchCounter).Dispatched()
			if err != nil {
				fmt.Println("parse:", err)
				code = 1
			}
			var names []string
			for _, k := range decls {
				names = append(names, k.name)
				if ran[k.name] == 0 {
					fmt.Printf("FAIL: kernel %s never ran on the simulated device\n", k.name)
					code = 1
				}
			}
			fmt.Printf("metal-sim: all %d kernels ran: %v\n", len(names), names)
		}
		if err := dev.Close(); err != nil {
			fmt.Println(err)
			code = 1
		}
	}
	os.Exit(code)
}

// needDevice returns the host ops over the test device, or skips saying
// why (fails instead when COGEDGE_REQUIRE_SIM is set, as in CI).
func needDevice(t *testing.T) *Ops {
	t.Helper()
	if dev == nil {
		if os.Getenv("COGEDGE_REQUIRE_SIM") != "" {
			t.Fatalf("COGEDGE_REQUIRE_SIM is set but the device is unavailable: %v", devErr)
		}
		t.Skipf("%s: %v", noDeviceReason, devErr)
	}
	return NewOps(dev)
}

func upload(t *testing.T, b []byte) View {
	t.Helper()
	buf, err := dev.NewBuffer(len(b))
	if err != nil {
		t.Fatal(err)
	}
	copy(buf.Host(), b)
	t.Cleanup(func() { dev.Free(buf) })
	return View{Buf: buf}
}

func alloc(t *testing.T, n int) View { return upload(t, make([]byte, n)) }

func f32Bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func i32Bytes(x []int) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(int32(v)))
	}
	return b
}

func readF32(v View, n int) []float32 {
	b := v.Buf.Host()[v.Off:]
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func run(t *testing.T, o *Ops, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Device().Sync(); err != nil {
		t.Fatal(err)
	}
}

func randF32(r *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	return x
}

// check compares got with want element by element under tol(i) and logs
// the worst error against its tolerance.
func check(t *testing.T, what string, got, want []float32, tol func(i int) float64) {
	t.Helper()
	worst, worstTol := 0.0, 0.0
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(float64(got[i])) != math.IsNaN(float64(want[i])) || d > tol(i) {
			t.Fatalf("%s: element %d: got %g, reference %g (|Δ| %g > tolerance %g)", what, i, got[i], want[i], d, tol(i))
		}
		if d >= worst {
			worst, worstTol = d, tol(i)
		}
	}
	t.Logf("%s: max |Δ| %.3g (tolerance there %.3g)", what, worst, worstTol)
}

var allTypes = []quant.Type{quant.F32, quant.F16, quant.BF16, quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1,
	quant.Q8_0, quant.IQ4_NL, quant.Q4_K, quant.Q5_K, quant.Q6_K}

// kSizes are row lengths for a type: one block, odd block counts, and for
// 32-element types lengths that are not multiples of 256.
func kSizes(wt quant.Type) []int {
	switch wt.BlockSize() {
	case 256:
		return []int{256, 768}
	case 32:
		return []int{32, 96, 352}
	}
	return []int{1, 7, 50, 130}
}

func quantized(t *testing.T, wt quant.Type, x []float32) []byte {
	t.Helper()
	b := make([]byte, len(x)/wt.BlockSize()*wt.TypeSize())
	if err := quant.Quantize(wt, b, x); err != nil {
		t.Fatal(err)
	}
	return b
}

func dequantized(t *testing.T, wt quant.Type, b []byte, n int) []float32 {
	t.Helper()
	x := make([]float32, n)
	if err := quant.Dequantize(wt, x, b); err != nil {
		t.Fatal(err)
	}
	return x
}

func refQuantize(act quant.Type) func(dst []byte, src []float32) {
	switch act {
	case quant.Q8_1:
		return ref.QuantizeQ8_1
	case quant.Q8_K:
		return ref.QuantizeQ8_K
	}
	return ref.QuantizeQ8_0
}

// TestQuantizeActivations: the device quantizers equal kernels/ref byte for
// byte (on the simulator; a GPU may differ where its division or half
// conversion rounds differently).
func TestQuantizeActivations(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(1, 1))
	for _, act := range []quant.Type{quant.Q8_0, quant.Q8_1, quant.Q8_K} {
		for _, k := range []int{act.BlockSize(), 3 * act.BlockSize(), 768} {
			for _, mode := range []string{"gaussian", "ties", "zeros", "huge"} {
				rows := 3
				x := randF32(r, rows*k, 1)
				switch mode {
				case "ties":
					for i := range x {
						x[i] = float32(r.IntN(255)-127) * 0.5
					}
				case "zeros":
					clear(x[:k])
				case "huge":
					for i := range x {
						x[i] *= 3e37
					}
				}
				want := make([]byte, rows*k/act.BlockSize()*act.TypeSize())
				refQuantize(act)(want, x)
				dst := alloc(t, len(want))
				run(t, o, o.QuantizeActivations(dst, upload(t, f32Bytes(x)), act, rows, k))
				if got := dst.Buf.Host(); !slices.Equal(got, want) {
					i := 0
					for got[i] == want[i] {
						i++
					}
					t.Fatalf("%v k=%d %s: byte %d differs: %#x, ref %#x", act, k, mode, i, got[i], want[i])
				}
				t.Logf("quantize %v rows=%d k=%d %s: identical to kernels/ref", act, rows, k, mode)
			}
		}
	}
}

// blockMagnitude is Σ over blocks of |scale term| + |offset term| of the
// reference dot (the offset term found by zeroing the weight block's
// min/offset scale): the size of what the float accumulation rounds.
func blockMagnitude(wt quant.Type, w, x []byte, nb int) float64 {
	dot, _ := ref.Dot(wt)
	act := actType(wt)
	ws, xs := wt.TypeSize(), act.TypeSize()
	var mag float64
	blk := make([]byte, ws)
	for b := 0; b < nb; b++ {
		wb, xb := w[b*ws:(b+1)*ws], x[b*xs:(b+1)*xs]
		total := float64(dot(wb, xb, 1))
		switch wt {
		case quant.Q4_1, quant.Q5_1, quant.Q4_K, quant.Q5_K:
			copy(blk, wb)
			blk[2], blk[3] = 0, 0 // m or dmin
			t1 := float64(dot(blk, xb, 1))
			mag += math.Abs(t1) + math.Abs(total-t1)
		default:
			mag += math.Abs(total)
		}
	}
	return mag
}

// floatProduct is the float64 oracle of y[c·rows+i] = Σ_e wd[i·k+e]·x[c·k+e]
// with tolerance (k+64)·2⁻²³·Σ|w·x| per output.
func floatProduct(wd, x []float32, rows, k, cols int) ([]float32, []float64) {
	want := make([]float32, rows*cols)
	tol := make([]float64, rows*cols)
	for c := 0; c < cols; c++ {
		for i := 0; i < rows; i++ {
			var s, mag float64
			for e := 0; e < k; e++ {
				p := float64(wd[i*k+e]) * float64(x[c*k+e])
				s += p
				mag += math.Abs(p)
			}
			want[c*rows+i] = float32(s)
			tol[c*rows+i] = float64(k+64)*0x1p-23*mag + 1e-30
		}
	}
	return want, tol
}

// TestMatVec: every weight type's decode kernel against kernels/ref's dot
// (quantized) or a float64 dot (F32/F16/BF16) on odd row counts, one row,
// rows not a multiple of the threadgroup, several activation rows.
// Tolerance: (blocks+64)·2⁻²³ of the magnitude the accumulation rounds
// (the integer block sums are exact; only the float order differs).
func TestMatVec(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(2, 2))
	for _, wt := range allTypes {
		for _, k := range kSizes(wt) {
			for _, shape := range [][2]int{{1, 1}, {7, 2}, {33, 3}} {
				rows, cols := shape[0], shape[1]
				w := quantized(t, wt, randF32(r, rows*k, 0.5))
				x := randF32(r, cols*k, 1)
				y := alloc(t, 4*rows*cols)
				run(t, o, o.MatVec(y, upload(t, w), wt, rows, k, upload(t, f32Bytes(x)), cols))
				got := readF32(y, rows*cols)
				want, tol := floatProduct(dequantized(t, wt, w, rows*k), x, rows, k, cols)
				rb := len(w) / rows
				if !isFloat(wt) {
					act := actType(wt)
					dot, _ := ref.Dot(wt)
					nb := k / wt.BlockSize()
					xb := k / act.BlockSize() * act.TypeSize()
					xq := make([]byte, cols*xb)
					refQuantize(act)(xq, x)
					for c := 0; c < cols; c++ {
						for i := 0; i < rows; i++ {
							wr, xr := w[i*rb:(i+1)*rb], xq[c*xb:(c+1)*xb]
							want[c*rows+i] = dot(wr, xr, nb)
							tol[c*rows+i] = float64(nb+64)*0x1p-23*blockMagnitude(wt, wr, xr, nb) + 1e-30
						}
					}
				}
				check(t, fmt.Sprintf("%s rows=%d k=%d cols=%d", mvKernels[wt], rows, k, cols), got, want, func(i int) float64 { return tol[i] })
			}
		}
	}
}

// TestMatMul: the tiled SIMD-group-matrix kernel against a float64 product
// of the dequantized weights, on tiles cut by the edges (rows, cols and K
// not multiples of 32). Tolerance (k+64)·2⁻²³·Σ|w·x| per output.
func TestMatMul(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(3, 3))
	for _, wt := range allTypes {
		k := kSizes(wt)[1]
		for _, shape := range [][2]int{{1, 9}, {33, 40}, {70, 12}} {
			rows, cols := shape[0], shape[1]
			w := quantized(t, wt, randF32(r, rows*k, 0.5))
			x := randF32(r, cols*k, 1)
			y := alloc(t, 4*rows*cols)
			run(t, o, o.MatMul(y, upload(t, w), wt, rows, k, upload(t, f32Bytes(x)), cols))
			want, tol := floatProduct(dequantized(t, wt, w, rows*k), x, rows, k, cols)
			check(t, fmt.Sprintf("mm %v rows=%d k=%d cols=%d", wt, rows, k, cols), readF32(y, rows*cols), want, func(i int) float64 { return tol[i] })
		}
	}
}

// TestGetRows: embedding rows of every table type against quant's
// dequantizer; tolerance 2⁻²² of the row's largest value (one rounding of
// a differently ordered or fused scale product).
func TestGetRows(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(4, 4))
	for _, wt := range allTypes {
		k := kSizes(wt)[0]
		if wt.BlockSize() == 1 {
			k = 130
		}
		nrows := 9
		table := quantized(t, wt, randF32(r, nrows*k, 1))
		ids := []int{0, 8, 3, 3, 5}
		dst := alloc(t, 4*len(ids)*k)
		run(t, o, o.GetRows(dst, upload(t, table), wt, k, upload(t, i32Bytes(ids)), len(ids)))
		all := dequantized(t, wt, table, nrows*k)
		var want []float32
		var big float64
		for _, id := range ids {
			want = append(want, all[id*k:(id+1)*k]...)
		}
		for _, v := range want {
			big = max(big, math.Abs(float64(v)))
		}
		check(t, fmt.Sprintf("get_rows %v k=%d ids=%v", wt, k, ids), readF32(dst, len(want)), want, func(int) float64 { return 0x1p-22 * big })
	}
}

// TestRouting: gather and scatter move rows exactly.
func TestRouting(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(5, 5))
	n, rowsTotal := 70, 11
	src := randF32(r, n*rowsTotal, 1)
	idx := []int{10, 0, 4, 7}
	g := alloc(t, 4*n*len(idx))
	run(t, o, o.Gather(g, upload(t, f32Bytes(src)), upload(t, i32Bytes(idx)), n, len(idx)))
	var want []float32
	for _, i := range idx {
		want = append(want, src[i*n:(i+1)*n]...)
	}
	check(t, "gather_rows", readF32(g, len(want)), want, func(int) float64 { return 0 })
	back := upload(t, make([]byte, 4*n*rowsTotal))
	run(t, o, o.Scatter(back, g, upload(t, i32Bytes(idx)), n, len(idx)))
	got := readF32(back, n*rowsTotal)
	wantBack := make([]float32, n*rowsTotal)
	for j, i := range idx {
		copy(wantBack[i*n:(i+1)*n], want[j*n:(j+1)*n])
	}
	check(t, "scatter_rows", got, wantBack, func(int) float64 { return 0 })
}

// TestNorms: RMSNorm and LayerNorm against kernels' (float64 sums);
// tolerance (n/32+16)·2⁻²³ relative (LayerNorm: of |normalized·w|+|bias|)
// plus 1e-7.
func TestNorms(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(6, 6))
	for _, n := range []int{1, 33, 100, 1000} {
		rows := 3
		x := randF32(r, rows*n, 2)
		w, b := randF32(r, n, 1), randF32(r, n, 1)
		tol := func(want []float32) func(int) float64 {
			return func(i int) float64 { return float64(n/32+16)*0x1p-23*math.Abs(float64(want[i])) + 1e-7 }
		}
		y := alloc(t, 4*rows*n)
		run(t, o, o.RMSNorm(y, upload(t, f32Bytes(x)), upload(t, f32Bytes(w)), n, rows, 1e-6))
		want := make([]float32, rows*n)
		for i := 0; i < rows; i++ {
			kernels.RMSNorm(want[i*n:(i+1)*n], x[i*n:(i+1)*n], w, 1e-6)
		}
		check(t, fmt.Sprintf("rms_norm n=%d rows=%d", n, rows), readF32(y, rows*n), want, tol(want))
		run(t, o, o.LayerNorm(y, upload(t, f32Bytes(x)), upload(t, f32Bytes(w)), upload(t, f32Bytes(b)), n, rows, 1e-5))
		for i := 0; i < rows; i++ {
			kernels.LayerNorm(want[i*n:(i+1)*n], x[i*n:(i+1)*n], w, b, 1e-5)
		}
		// relative to the normalized term and the bias, which may cancel
		check(t, fmt.Sprintf("layer_norm n=%d rows=%d", n, rows), readF32(y, rows*n), want, func(i int) float64 {
			bi := math.Abs(float64(b[i%n]))
			return float64(n/32+16)*0x1p-23*(math.Abs(float64(want[i])-float64(b[i%n]))+bi) + 1e-7
		})
	}
}

// TestElementwise: add, mul (exact, also as a broadcast bias), GELU and
// SwiGLU against kernels' (relative 2e-6 plus 1e-7: the shader's erfc fit
// is good to 1.2e-7, its exp to a few ulp).
func TestElementwise(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{1, 255, 1000} {
		a, b := randF32(r, n, 3), randF32(r, n, 3)
		a[0] = -12 // GELU's far tail
		va, vb := upload(t, f32Bytes(a)), upload(t, f32Bytes(b))
		y := alloc(t, 4*n)
		want := make([]float32, n)
		exact := func(int) float64 { return 0 }
		run(t, o, o.Add(y, va, vb, n, n))
		kernels.Add(want, a, b)
		check(t, fmt.Sprintf("add n=%d", n), readF32(y, n), want, exact)
		run(t, o, o.Mul(y, va, vb, n, n))
		kernels.Mul(want, a, b)
		check(t, fmt.Sprintf("mul n=%d", n), readF32(y, n), want, exact)
		nb := max(1, n/5) // a bias repeated over rows
		run(t, o, o.Add(y, va, vb, n, nb))
		for i := range want {
			want[i] = a[i] + b[i%nb]
		}
		check(t, fmt.Sprintf("add (bias of %d) n=%d", nb, n), readF32(y, n), want, exact)
		rel := func(i int) float64 { return 2e-6*math.Abs(float64(want[i])) + 1e-7 }
		run(t, o, o.GELU(y, va, n))
		kernels.GELU(want, a)
		check(t, fmt.Sprintf("gelu n=%d", n), readF32(y, n), want, rel)
		run(t, o, o.SwiGLU(y, va, vb, n))
		kernels.SwiGLU(want, a, b)
		check(t, fmt.Sprintf("swiglu n=%d", n), readF32(y, n), want, rel)
	}
}

// TestRoPE: rotation by position ids against kernels.RoPENeoX; tolerance
// 2⁻²²·(|a|+|b|) of the pair (cos and sin within an ulp).
func TestRoPE(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(8, 8))
	for _, hd := range []int{2, 64, 112} {
		heads := 3
		pos := []int{0, 1, 17, 1000, 4095}
		x := randF32(r, len(pos)*heads*hd, 1)
		v := upload(t, f32Bytes(x))
		run(t, o, o.RoPENeoX(v, upload(t, i32Bytes(pos)), heads, hd, len(pos), heads*hd, 10000))
		want := slices.Clone(x)
		for i, p := range pos {
			kernels.RoPENeoX(want[i*heads*hd:(i+1)*heads*hd], heads, hd, float32(p), 10000)
		}
		check(t, fmt.Sprintf("rope_neox head_dim=%d heads=%d positions=%v", hd, heads, pos), readF32(v, len(x)), want, func(i int) float64 {
			j := i % hd
			pair := i - j + (j+hd/2)%hd
			return 0x1p-22*(math.Abs(float64(x[i]))+math.Abs(float64(x[pair]))) + 1e-30
		})
	}
}

// TestRoPEFreqs: RoPE with stored inverse frequencies (CogVLM2's, BF16
// rounded) against the float32 rotation by pos·f that the model's CPU
// path computes; the same tolerance as TestRoPE.
func TestRoPEFreqs(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(13, 13))
	const heads, hd = 2, 64
	inv := make([]float32, hd/2)
	for i := range inv {
		inv[i] = math.Float32frombits(math.Float32bits(kernels.RoPEInvFreq(i, hd, 500000)) &^ 0xffff) // BF16
	}
	pos := []int{0, 3, 129, 2047}
	x := randF32(r, len(pos)*heads*hd, 1)
	v := upload(t, f32Bytes(x))
	run(t, o, o.RoPENeoXFreqs(v, upload(t, i32Bytes(pos)), heads, hd, len(pos), heads*hd, inv))
	want := slices.Clone(x)
	for ti, p := range pos {
		row := want[ti*heads*hd:]
		for i, f := range inv {
			theta := float32(p) * f
			c, sn := float32(math.Cos(float64(theta))), float32(math.Sin(float64(theta)))
			for h := 0; h < heads; h++ {
				a, b := row[h*hd+i], row[h*hd+i+hd/2]
				row[h*hd+i], row[h*hd+i+hd/2] = a*c-b*sn, b*c+a*sn
			}
		}
	}
	check(t, "rope_neox with stored frequencies", readF32(v, len(x)), want, func(i int) float64 {
		j := i % hd
		pair := i - j + (j+hd/2)%hd
		return 0x1p-22*(math.Abs(float64(x[i]))+math.Abs(float64(x[pair]))) + 1e-30
	})
	if err := o.RoPENeoXFreqs(v, v, heads, hd, 1, heads*hd, inv[:3]); err == nil {
		t.Error("a frequency table of the wrong length was accepted")
	}
}

// TestToF16: the f16 KV cache conversion equals quant.FP32ToFP16 bit for
// bit on random values, an odd count (not a multiple of the threadgroup)
// and the edges: ±0, the largest half, values that round to infinity,
// subnormals, ties, infinities and NaN.
func TestToF16(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(14, 14))
	x := randF32(r, 999, 3)
	x = append(x, 0, float32(math.Copysign(0, -1)), 65504, 65519, 65520, -70000, 1e-8, -3e-6, 6.1e-5,
		1+0x1p-11, 1+3*0x1p-11, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()))
	src := upload(t, f32Bytes(x))
	dst := alloc(t, 2*len(x))
	run(t, o, o.ToF16(dst, src, len(x)))
	got := dst.Buf.Host()
	for i, v := range x {
		g := binary.LittleEndian.Uint16(got[2*i:])
		w := quant.FP32ToFP16(v)
		if math.IsNaN(float64(v)) {
			if g&0x7c00 != 0x7c00 || g&0x3ff == 0 {
				t.Errorf("NaN became %#04x", g)
			}
			continue
		}
		if g != w {
			t.Fatalf("element %d (%g): %#04x, reference %#04x", i, v, g, w)
		}
	}
	t.Logf("f32_to_f16: %d values equal the reference bit for bit", len(x))
}

// TestSoftmax against kernels.Softmax; tolerance 4e-6 relative.
func TestSoftmax(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{1, 7, 33, 1000} {
		rows := 2
		x := randF32(r, rows*n, 4)
		v := upload(t, f32Bytes(x))
		run(t, o, o.Softmax(v, n, rows))
		want := slices.Clone(x)
		for i := 0; i < rows; i++ {
			kernels.Softmax(want[i*n : (i+1)*n])
		}
		check(t, fmt.Sprintf("softmax n=%d rows=%d", n, rows), readF32(v, rows*n), want, func(i int) float64 { return 4e-6*math.Abs(float64(want[i])) + 1e-12 })
	}
}

// TestAttention: causal decode and prefill over a KV cache, full ViT
// attention (head dim 112, not a multiple of 32), grouped-query heads,
// f32 and f16 caches, against kernels' attention. Tolerance 2e-6 of the
// largest |v| (outputs are convex combinations of v rows).
func TestAttention(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(10, 10))
	pool := kernels.NewPool(1)
	defer pool.Close()
	for _, tc := range []struct {
		name      string
		nq, nkv   int
		heads, kv int
		hd        int
		causal    bool
	}{
		{"decode", 1, 37, 4, 4, 64, true},
		{"prefill-with-cache", 5, 70, 4, 2, 64, true},
		{"vit-full", 40, 40, 2, 2, 112, false},
		{"one-key", 1, 1, 1, 1, 32, true},
	} {
		for _, f16 := range []bool{false, true} {
			ap := kernels.AttnParams{NHead: tc.heads, NHeadKV: tc.kv, HeadDim: tc.hd, Scale: float32(1 / math.Sqrt(float64(tc.hd))), Causal: tc.causal, QPos0: tc.nkv - tc.nq}
			q := randF32(r, tc.nq*tc.heads*tc.hd, 1)
			k := randF32(r, tc.nkv*tc.kv*tc.hd, 1)
			v := randF32(r, tc.nkv*tc.kv*tc.hd, 1)
			want := make([]float32, len(q))
			var kb, vb []byte
			if f16 {
				kh, vh := make([]uint16, len(k)), make([]uint16, len(v))
				for i := range k {
					kh[i], vh[i] = quant.FP32ToFP16(k[i]), quant.FP32ToFP16(v[i])
				}
				pool.AttentionF16(want, q, tc.nq, kh, vh, tc.nkv, ap)
				kb, vb = u16Bytes(kh), u16Bytes(vh)
			} else {
				pool.AttentionF32(want, q, tc.nq, k, v, tc.nkv, ap)
				kb, vb = f32Bytes(k), f32Bytes(v)
			}
			out := alloc(t, 4*len(q))
			run(t, o, o.Attention(out, upload(t, f32Bytes(q)), upload(t, kb), upload(t, vb), f16, tc.nq, tc.nkv, ap))
			var vmax float64
			for _, x := range v {
				vmax = max(vmax, math.Abs(float64(x)))
			}
			check(t, fmt.Sprintf("attention %s f16=%v nq=%d nkv=%d heads=%d/%d dim=%d", tc.name, f16, tc.nq, tc.nkv, tc.heads, tc.kv, tc.hd),
				readF32(out, len(q)), want, func(int) float64 { return 2e-6 * vmax })
		}
	}
}

// TestAttentionStrided: the vision tower's full attention with q, k and v
// read as column ranges of one fused QKV activation (rows 3·width apart),
// 41 rows (not a multiple of the 32-key tile), equals the reference on the
// separated matrices.
func TestAttentionStrided(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(12, 12))
	pool := kernels.NewPool(1)
	defer pool.Close()
	const T, heads, hd = 41, 3, 48
	w := heads * hd
	qkv := randF32(r, T*3*w, 1)
	q, k, v := make([]float32, T*w), make([]float32, T*w), make([]float32, T*w)
	for i := range T {
		copy(q[i*w:], qkv[i*3*w:i*3*w+w])
		copy(k[i*w:], qkv[i*3*w+w:i*3*w+2*w])
		copy(v[i*w:], qkv[i*3*w+2*w:i*3*w+3*w])
	}
	ap := kernels.AttnParams{NHead: heads, NHeadKV: heads, HeadDim: hd, Scale: float32(1 / math.Sqrt(float64(hd)))}
	want := make([]float32, T*w)
	pool.AttentionF32(want, q, T, k, v, T, ap)
	in := upload(t, f32Bytes(qkv))
	out := alloc(t, 4*T*w)
	run(t, o, o.AttentionStrided(out, in, in.At(4*w), in.At(8*w), false, T, T, 3*w, 3*w, w, ap))
	check(t, "attention over a fused QKV activation", readF32(out, T*w), want, func(int) float64 { return 2e-6 * 4 })
	if err := o.AttentionStrided(out, in, in.At(4*w), in.At(8*w), false, T, T, w-1, 3*w, w, ap); err == nil {
		t.Error("a q stride below the row width was accepted")
	}
}

func u16Bytes(x []uint16) []byte {
	b := make([]byte, 2*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}

// TestReadSum: the bandwidth kernel reads every word once (wrapping sum).
func TestReadSum(t *testing.T) {
	o := needDevice(t)
	r := rand.New(rand.NewPCG(11, 11))
	n := 10007
	src := make([]byte, 4*n)
	var want uint32
	for i := 0; i < n; i++ {
		w := r.Uint32()
		binary.LittleEndian.PutUint32(src[4*i:], w)
		want += w
	}
	groups, threads := 3, 64
	out := alloc(t, 4*groups*threads)
	run(t, o, o.ReadSum(out, upload(t, src), n, groups, threads))
	var got uint32
	for i := 0; i < groups*threads; i++ {
		got += binary.LittleEndian.Uint32(out.Buf.Host()[4*i:])
	}
	if got != want {
		t.Fatalf("read_sum: %#x, want %#x", got, want)
	}
	t.Logf("read_sum n=%d over %d threads: identical", n, groups*threads)
}

// TestErrors: bad dispatches fail with the kernel's name, and the device
// stays usable afterwards.
func TestErrors(t *testing.T) {
	o := needDevice(t)
	if err := dev.Dispatch("mv_q4_0", Size3{0, 1, 1}, Size3{64, 1, 1}); err == nil {
		t.Error("empty grid accepted")
	}
	if err := dev.Dispatch("mv_q4_0", Size3{1, 1, 1}, Size3{2048, 1, 1}); err == nil {
		t.Error("2048 threads per threadgroup accepted")
	}
	b := alloc(t, 64)
	// the simulator reports an unknown kernel at Sync, Metal at Dispatch
	err := dev.Dispatch("no_such_kernel", Size3{1, 1, 1}, Size3{1, 1, 1}, BufferArg(b.Buf, 0))
	if err == nil {
		err = dev.Sync()
	}
	if err == nil || !strings.Contains(err.Error(), "no_such_kernel") {
		t.Fatalf("unknown kernel: error %v, want one naming it", err)
	}
	if err := o.MatVec(b, b, quant.Q4_0, 4, 32, b, 1); err == nil {
		t.Error("MatVec on a buffer too small for its weights accepted")
	}
	if err := o.MatVec(b, b, quant.Q4_0, 1, 33, b, 1); err == nil {
		t.Error("Q4_0 row of 33 accepted")
	}
	run(t, o, o.Add(b, b, b, 16, 16)) // still works
}

// TestReadBandwidth: the bandwidth probe reads the whole buffer (its sum
// check passes) and reports a positive rate. The rate itself is the
// simulator's, meaningless for a GPU.
func TestReadBandwidth(t *testing.T) {
	o := needDevice(t)
	bw, err := ReadBandwidth(o, 1<<20+12, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !(bw > 0) {
		t.Fatalf("bandwidth %g", bw)
	}
	t.Logf("read bandwidth on %s: %.3g GB/s", dev.Name(), bw/1e9)
}
