//go:build !purego

package quant

import "golang.org/x/sys/cpu"

// useSIMD selects the AVX2 kernels; tests switch it off to run the Go twins.
var useSIMD = cpu.X86.HasAVX2

//go:noescape
func qxSumsAVX2(x, wv, w *[16]float32, numer *[qkx2Lanes]float32, max float32, is *[qkx2Lanes]float32, s *[2][qkx2Lanes]float32)

func qxSums(x, wv, w *[16]float32, numer *[qkx2Lanes]float32, max float32, is *[qkx2Lanes]float32, s *[2][qkx2Lanes]float32) {
	if useSIMD {
		qxSumsAVX2(x, wv, w, numer, max, is, s)
		return
	}
	qxSumsGo(x, wv, w, numer, max, is, s)
}

//go:noescape
func qkx2GroupAVX2(f *qkx2Frame)

func qkx2Group(f *qkx2Frame) {
	if useSIMD {
		qkx2GroupAVX2(f)
		return
	}
	qkx2GroupGo(f)
}

//go:noescape
func iq4nlSumsAVX2(x, w *[32]float32, id *[qkx2Lanes]float32, s *[2][qkx2Lanes]float32)

func iq4nlSums(x, w *[32]float32, id *[qkx2Lanes]float32, s *[2][qkx2Lanes]float32) {
	if useSIMD {
		iq4nlSumsAVX2(x, w, id, s)
		return
	}
	iq4nlSumsGo(x, w, id, s)
}

//go:noescape
func qkx2PrologueAVX2(p *qkx2Prologue)

func qkx2PrologueRun(p *qkx2Prologue) {
	if useSIMD {
		qkx2PrologueAVX2(p)
		return
	}
	qkx2PrologueGo(p)
}
