package neon

import "fmt"

// need panics unless b holds nb blocks of size bytes: the assembly must never
// read past a slice, so a short slice is a caller bug reported loudly.
func need(fn, arg string, b []byte, nb, size int) {
	if nb > len(b)/size {
		panic(fmt.Sprintf("neon: %s: %s holds %d bytes, %d blocks need %d", fn, arg, len(b), nb, nb*size))
	}
}

// DotQ4_0Q8_0 returns the dot product of nb Q4_0 weight blocks with nb Q8_0
// activation blocks. It returns 0 for nb <= 0 and panics if a slice is short.
func DotQ4_0Q8_0(w, x []byte, nb int) float32 {
	if nb <= 0 {
		return 0
	}
	need("DotQ4_0Q8_0", "w", w, nb, sizeQ4_0)
	need("DotQ4_0Q8_0", "x", x, nb, sizeQ8_0)
	return dotQ4_0Q8_0(w, x, nb)
}

// DotQ4_1Q8_1 returns the dot product of nb Q4_1 weight blocks with nb Q8_1
// activation blocks (Σ d_w d_x Σq_w q_x + m_w s_x).
func DotQ4_1Q8_1(w, x []byte, nb int) float32 {
	if nb <= 0 {
		return 0
	}
	need("DotQ4_1Q8_1", "w", w, nb, sizeQ4_1)
	need("DotQ4_1Q8_1", "x", x, nb, sizeQ8_1)
	return dotQ4_1Q8_1(w, x, nb)
}

// DotQ5_0Q8_0 returns the dot product of nb Q5_0 weight blocks with nb Q8_0
// activation blocks.
func DotQ5_0Q8_0(w, x []byte, nb int) float32 {
	if nb <= 0 {
		return 0
	}
	need("DotQ5_0Q8_0", "w", w, nb, sizeQ5_0)
	need("DotQ5_0Q8_0", "x", x, nb, sizeQ8_0)
	return dotQ5_0Q8_0(w, x, nb)
}

// DotQ5_1Q8_1 returns the dot product of nb Q5_1 weight blocks with nb Q8_1
// activation blocks.
func DotQ5_1Q8_1(w, x []byte, nb int) float32 {
	if nb <= 0 {
		return 0
	}
	need("DotQ5_1Q8_1", "w", w, nb, sizeQ5_1)
	need("DotQ5_1Q8_1", "x", x, nb, sizeQ8_1)
	return dotQ5_1Q8_1(w, x, nb)
}

// DotQ8_0Q8_0 returns the dot product of nb Q8_0 weight blocks with nb Q8_0
// activation blocks.
func DotQ8_0Q8_0(w, x []byte, nb int) float32 {
	if nb <= 0 {
		return 0
	}
	need("DotQ8_0Q8_0", "w", w, nb, sizeQ8_0)
	need("DotQ8_0Q8_0", "x", x, nb, sizeQ8_0)
	return dotQ8_0Q8_0(w, x, nb)
}

// DotIQ4_NLQ8_0 returns the dot product of nb IQ4_NL weight blocks with nb
// Q8_0 activation blocks.
func DotIQ4_NLQ8_0(w, x []byte, nb int) float32 {
	if nb <= 0 {
		return 0
	}
	need("DotIQ4_NLQ8_0", "w", w, nb, sizeIQ4_NL)
	need("DotIQ4_NLQ8_0", "x", x, nb, sizeQ8_0)
	return dotIQ4_NLQ8_0(w, x, nb)
}

// DotQ4_KQ8_K returns the dot product of nb Q4_K super-blocks (256 weights
// each) with nb Q8_K activation super-blocks.
func DotQ4_KQ8_K(w, x []byte, nb int) float32 {
	if nb <= 0 {
		return 0
	}
	need("DotQ4_KQ8_K", "w", w, nb, sizeQ4_K)
	need("DotQ4_KQ8_K", "x", x, nb, sizeQ8_K)
	return dotQ4_KQ8_K(w, x, nb)
}

// DotQ5_KQ8_K returns the dot product of nb Q5_K super-blocks with nb Q8_K
// activation super-blocks.
func DotQ5_KQ8_K(w, x []byte, nb int) float32 {
	if nb <= 0 {
		return 0
	}
	need("DotQ5_KQ8_K", "w", w, nb, sizeQ5_K)
	need("DotQ5_KQ8_K", "x", x, nb, sizeQ8_K)
	return dotQ5_KQ8_K(w, x, nb)
}

// DotQ6_KQ8_K returns the dot product of nb Q6_K super-blocks with nb Q8_K
// activation super-blocks.
func DotQ6_KQ8_K(w, x []byte, nb int) float32 {
	if nb <= 0 {
		return 0
	}
	need("DotQ6_KQ8_K", "w", w, nb, sizeQ6_K)
	need("DotQ6_KQ8_K", "x", x, nb, sizeQ8_K)
	return dotQ6_KQ8_K(w, x, nb)
}

// Dot2x2Q4_0Q8_0 computes a 2×2 tile of dots: out[0] = w0·x0, out[1] = w1·x0,
// out[2] = w0·x1, out[3] = w1·x1, each over nb Q4_0 × Q8_0 blocks. With
// FEAT_I8MM it uses SMMLA; every output equals DotQ4_0Q8_0 bit for bit.
func Dot2x2Q4_0Q8_0(out *[4]float32, w0, w1, x0, x1 []byte, nb int) {
	if nb <= 0 {
		*out = [4]float32{}
		return
	}
	for _, b := range []struct {
		name string
		b    []byte
		size int
	}{{"w0", w0, sizeQ4_0}, {"w1", w1, sizeQ4_0}, {"x0", x0, sizeQ8_0}, {"x1", x1, sizeQ8_0}} {
		need("Dot2x2Q4_0Q8_0", b.name, b.b, nb, b.size)
	}
	dot2x2Q4_0Q8_0(out, w0, w1, x0, x1, nb)
}

// Dot2x2Q8_0Q8_0 is Dot2x2Q4_0Q8_0 for Q8_0 weights; every output equals
// DotQ8_0Q8_0 bit for bit.
func Dot2x2Q8_0Q8_0(out *[4]float32, w0, w1, x0, x1 []byte, nb int) {
	if nb <= 0 {
		*out = [4]float32{}
		return
	}
	for _, b := range []struct {
		name string
		b    []byte
	}{{"w0", w0}, {"w1", w1}, {"x0", x0}, {"x1", x1}} {
		need("Dot2x2Q8_0Q8_0", b.name, b.b, nb, sizeQ8_0)
	}
	dot2x2Q8_0Q8_0(out, w0, w1, x0, x1, nb)
}

// QuantizeQ8_0 quantizes src (a multiple of 32 values) to Q8_0 blocks in dst
// the way llama.cpp does on ARM: d = max|x|/127 stored as fp16, q = x/d
// rounded half to even (FCVTNS), unlike quant.QuantizeQ8_0's roundf. It
// panics if len(src) is not a multiple of 32 or dst is short.
func QuantizeQ8_0(dst []byte, src []float32) {
	if len(src)%32 != 0 {
		panic(fmt.Sprintf("neon: QuantizeQ8_0: %d values, not a multiple of 32", len(src)))
	}
	nb := len(src) / 32
	if nb == 0 {
		return
	}
	need("QuantizeQ8_0", "dst", dst, nb, sizeQ8_0)
	quantizeQ8_0(dst, src)
}
