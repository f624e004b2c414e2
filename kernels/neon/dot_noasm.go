//go:build !arm64 || purego

package neon

func dotQ4_0Q8_0(w, x []byte, nb int) float32   { return dotQ4_0Q8_0Generic(w, x, nb) }
func dotQ4_1Q8_1(w, x []byte, nb int) float32   { return dotQ4_1Q8_1Generic(w, x, nb) }
func dotQ5_0Q8_0(w, x []byte, nb int) float32   { return dotQ5_0Q8_0Generic(w, x, nb) }
func dotQ5_1Q8_1(w, x []byte, nb int) float32   { return dotQ5_1Q8_1Generic(w, x, nb) }
func dotQ8_0Q8_0(w, x []byte, nb int) float32   { return dotQ8_0Q8_0Generic(w, x, nb) }
func dotIQ4_NLQ8_0(w, x []byte, nb int) float32 { return dotIQ4_NLQ8_0Generic(w, x, nb) }
func dotQ4_KQ8_K(w, x []byte, nb int) float32   { return dotQ4_KQ8_KGeneric(w, x, nb) }
func dotQ5_KQ8_K(w, x []byte, nb int) float32   { return dotQ5_KQ8_KGeneric(w, x, nb) }
func dotQ6_KQ8_K(w, x []byte, nb int) float32   { return dotQ6_KQ8_KGeneric(w, x, nb) }

func dot2x2Q4_0Q8_0(out *[4]float32, w0, w1, x0, x1 []byte, nb int) {
	dot2x2Generic(out, dotQ4_0Q8_0Generic, w0, w1, x0, x1, nb)
}

func dot2x2Q8_0Q8_0(out *[4]float32, w0, w1, x0, x1 []byte, nb int) {
	dot2x2Generic(out, dotQ8_0Q8_0Generic, w0, w1, x0, x1, nb)
}

func quantizeQ8_0(dst []byte, src []float32) { quantizeQ8_0Generic(dst, src) }
