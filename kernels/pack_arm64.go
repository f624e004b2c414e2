//go:build !purego

package kernels

//go:noescape
func packx8Q4NEON(p, f *byte, wrow, nb int)

//go:noescape
func unpackx8Q4NEON(p, f *byte, wrow, nb int)

//go:noescape
func packx8Q8NEON(p, f *byte, wrow, nb int)

//go:noescape
func unpackx8Q8NEON(p, f *byte, wrow, nb int)

//go:noescape
func packx8Q4KNEON(p, f *byte, wrow, nb int)

//go:noescape
func unpackx8Q4KNEON(p, f *byte, wrow, nb int)

//go:noescape
func packx8Q6KNEON(p, f *byte, wrow, nb int)

//go:noescape
func unpackx8Q6KNEON(p, f *byte, wrow, nb int)

//go:noescape
func stripx8NibNEON(p, f *byte, wrow, nb int, sc, lut *byte)

//go:noescape
func stripx8Q8NEON(p, f *byte, wrow, nb int, sc *byte, flip int)

//go:noescape
func stripx8Q4KNEON(p, f *byte, wrow, nb int)

//go:noescape
func stripx8Q5KNEON(p, f *byte, wrow, nb int)

//go:noescape
func stripx8Q6KNEON(p, f *byte, wrow, nb int)

// movesNEON is the NEON set of data-movement kernels (kernels/_gen/pack).
var movesNEON = moveKernels{
	packQ4: packx8Q4NEON, unpackQ4: unpackx8Q4NEON, packQ8: packx8Q8NEON, unpackQ8: unpackx8Q8NEON,
	packQ4K: packx8Q4KNEON, unpackQ4K: unpackx8Q4KNEON, packQ6K: packx8Q6KNEON, unpackQ6K: unpackx8Q6KNEON,
	stripNib: stripx8NibNEON, stripQ8: stripx8Q8NEON,
	stripQ4K: stripx8Q4KNEON, stripQ5K: stripx8Q5KNEON, stripQ6K: stripx8Q6KNEON,
}
