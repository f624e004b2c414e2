//go:build !amd64 || purego

package quant

// useSIMD is false: no assembly kernels on this build.
var useSIMD = false

func qkx2Sums(xm, x, w *[32]float32, is *[qkx2Lanes]float32, nmax int32, lv *[32][qkx2Lanes]float32, s *[3][qkx2Lanes]float32) {
	qkx2SumsGo(xm, x, w, is, nmax, lv, s)
}

func qkx2Err(x, w *[32]float32, lv *[32][qkx2Lanes]float32, sc, mi, e *[qkx2Lanes]float32) {
	qkx2ErrGo(x, w, lv, sc, mi, e)
}

func qxSums(x, wv, w *[16]float32, is *[qkx2Lanes]float32, s *[2][qkx2Lanes]float32) {
	qxSumsGo(x, wv, w, is, s)
}

func qkx2Group(f *qkx2Frame) { qkx2GroupGo(f) }
