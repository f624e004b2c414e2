//go:build !purego

package kernels

// packActRowMXAVX512 is packActRowMX for nb blocks at dst, stride bytes
// apart (wrapped by packQ8_0Asm).
//
//go:noescape
func packActRowMXAVX512(dst *byte, stride int, x *float32, nb int, negOffset int32)
