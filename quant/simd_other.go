//go:build !amd64 || purego

package quant

// useSIMD is false: no assembly kernels on this build.
var useSIMD = false

func qxSums(x, wv, w *[16]float32, numer *[qkx2Lanes]float32, max float32, is *[qkx2Lanes]float32, s *[2][qkx2Lanes]float32) {
	qxSumsGo(x, wv, w, numer, max, is, s)
}

func qkx2Group(f *qkx2Frame) { qkx2GroupGo(f) }

func iq4nlSums(x, w *[32]float32, id *[qkx2Lanes]float32, s *[2][qkx2Lanes]float32) {
	iq4nlSumsGo(x, w, id, s)
}

func qkx2PrologueRun(p *qkx2Prologue) { qkx2PrologueGo(p) }
