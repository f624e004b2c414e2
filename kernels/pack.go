package kernels

import "github.com/cogedge/cogedge/quant"

//go:generate go run ./_gen/pack -o .

// moveKernels is one architecture's set of data-movement kernels (written
// by kernels/_gen/pack): for each packed layout the group kernels of
// Repack and Unpack (p packed, f the file layout's first row of the
// group, rows wrow bytes apart, nb blocks), and the eight-row strip
// kernels of packStrip (p the strip at the rows' first lane, sc at their
// first scale) for nibble blocks looked up in a table (Q4_0, IQ4_NL) and
// for Q8_0 bytes XORed with flip, and the quants of K-quant strips.
type moveKernels struct {
	packQ4, unpackQ4, packQ8, unpackQ8     func(p, f *byte, wrow, nb int)
	packQ4K, unpackQ4K, packQ6K, unpackQ6K func(p, f *byte, wrow, nb int)
	stripNib                               func(p, f *byte, wrow, nb int, sc, lut *byte)
	stripQ8                                func(p, f *byte, wrow, nb int, sc *byte, flip int)
	stripQ4K, stripQ5K, stripQ6K           func(p, f *byte, wrow, nb int) // quants only
}

// install puts the kernels into t.
func (m *moveKernels) install(t *table) {
	for _, k := range []struct {
		wt           quant.Type
		pack, unpack func(p, f *byte, wrow, nb int)
	}{
		{quant.Q4_0, m.packQ4, m.unpackQ4}, {quant.IQ4_NL, m.packQ4, m.unpackQ4},
		{quant.Q8_0, m.packQ8, m.unpackQ8},
		{quant.Q4_K, m.packQ4K, m.unpackQ4K}, {quant.Q6_K, m.packQ6K, m.unpackQ6K},
	} {
		t.packx8[k.wt], t.unpackx8[k.wt] = k.pack, k.unpack
	}
	t.stripKx8[quant.Q4_K], t.stripKx8[quant.Q5_K], t.stripKx8[quant.Q6_K] = m.stripQ4K, m.stripQ5K, m.stripQ6K
	nib := m.stripNib
	t.stripx8[quant.Q4_0] = func(p, f *byte, wrow, nb int, sc *byte, _ bool) {
		nib(p, f, wrow, nb, sc, &stripLUTs[0][0])
	}
	t.stripx8[quant.IQ4_NL] = func(p, f *byte, wrow, nb int, sc *byte, signed bool) {
		lut := &stripLUTs[1]
		if signed {
			lut = &stripLUTs[2]
		}
		nib(p, f, wrow, nb, sc, &lut[0])
	}
	q8 := m.stripQ8
	t.stripx8[quant.Q8_0] = func(p, f *byte, wrow, nb int, sc *byte, signed bool) {
		flip := 0x80 // int8 → uint8 (+128)
		if signed {
			flip = 0
		}
		q8(p, f, wrow, nb, sc, flip)
	}
}

// stripLUTs are the nibble tables of the strip kernels: each 4-bit quant
// q becomes stripLUTs[i][q] — i = 0: Q4_0's unsigned nibble itself; 1:
// IQ4_NL's value + 128 (unsigned strips); 2: IQ4_NL's value as a signed
// byte (gemmSigned).
var stripLUTs = func() (t [3][16]byte) {
	for q := range 16 {
		t[0][q] = byte(q)
		t[1][q] = byte(iq4nlValues[q]) ^ 0x80
		t[2][q] = byte(iq4nlValues[q])
	}
	return t
}()
