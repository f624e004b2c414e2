//go:build !purego

package kernels

//go:noescape
func packQ8_0NEON(dst *byte, stride int, src *float32, nb int, negOffset int32)

// actPackNEON installs the quantize-and-pack kernel of the ASIMD tiers; it
// repeats kernels/neon's Q8_0 quantizer, which those tiers use for Q8_0.
func actPackNEON(t *table) {
	t.packQ8_0 = packQ8_0Asm(packQ8_0NEON)
	t.packQ8_0Fast = true
}
