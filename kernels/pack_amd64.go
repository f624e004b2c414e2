//go:build !purego

package kernels

//go:noescape
func packx8Q4AVX2(p, f *byte, wrow, nb int)

//go:noescape
func unpackx8Q4AVX2(p, f *byte, wrow, nb int)

//go:noescape
func packx8Q8AVX2(p, f *byte, wrow, nb int)

//go:noescape
func unpackx8Q8AVX2(p, f *byte, wrow, nb int)

//go:noescape
func packx8Q4KAVX2(p, f *byte, wrow, nb int)

//go:noescape
func unpackx8Q4KAVX2(p, f *byte, wrow, nb int)

//go:noescape
func packx8Q6KAVX2(p, f *byte, wrow, nb int)

//go:noescape
func unpackx8Q6KAVX2(p, f *byte, wrow, nb int)

//go:noescape
func stripx8NibAVX2(p, f *byte, wrow, nb int, sc, lut *byte)

//go:noescape
func stripx8Q8AVX2(p, f *byte, wrow, nb int, sc *byte, flip int)

//go:noescape
func stripx8Q4KAVX2(p, f *byte, wrow, nb int)

//go:noescape
func stripx8Q5KAVX2(p, f *byte, wrow, nb int)

//go:noescape
func stripx8Q6KAVX2(p, f *byte, wrow, nb int)

// movesAVX2 is the AVX2 set of data-movement kernels (kernels/_gen/pack).
var movesAVX2 = moveKernels{
	packQ4: packx8Q4AVX2, unpackQ4: unpackx8Q4AVX2, packQ8: packx8Q8AVX2, unpackQ8: unpackx8Q8AVX2,
	packQ4K: packx8Q4KAVX2, unpackQ4K: unpackx8Q4KAVX2, packQ6K: packx8Q6KAVX2, unpackQ6K: unpackx8Q6KAVX2,
	stripNib: stripx8NibAVX2, stripQ8: stripx8Q8AVX2,
	stripQ4K: stripx8Q4KAVX2, stripQ5K: stripx8Q5KAVX2, stripQ6K: stripx8Q6KAVX2,
}
