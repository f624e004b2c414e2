package kernels

import (
	"encoding/binary"

	"github.com/cogedge/cogedge/quant"
)

// Packed Q8_0 and IQ4_NL layouts (Repack): the groups of eight rows of the
// Q4_0 layout (repack.go), with the blocks' bytes taken the same way — per
// group and block index, the eight fp16 scales (16 bytes), then chunks of
// 32 bytes, chunk c holding bytes 4c..4c+3 of each row's quants (row r at
// byte 4r). IQ4_NL blocks have Q4_0's shape (144 packed bytes: four chunks
// of nibble bytes, looked up in the IQ4_NL table); Q8_0 blocks have eight
// chunks of signed quant bytes (272 packed bytes), so chunk c holds
// elements 4c..4c+3. Both keep their signed values, so the activation slots
// carry no correction (packedOffset 0). The matrices keep their size.

// q8Format is the packing of one 32-element type with Q8_0 activations
// other than Q4_0.
type q8Format struct {
	size   int // bytes of a file-layout block
	layout string
	// blockSum is the exact integer sum of row r of packed block wb with
	// the activation slot xb (the twin's integer step)
	blockSum func(wb, xb []byte, r int) int32
}

var (
	q8_0Format   = q8Format{size: q8_0Bytes, layout: "q8_0x8.v1", blockSum: q8_0PackedSum}
	iq4NLFormat  = q8Format{size: q4_0Bytes, layout: "iq4_nlx8.v1", blockSum: iq4NLPackedSum}
	q8FormatsAll = []quant.Type{quant.Q8_0, quant.IQ4_NL}
)

// q8FormatOf returns the packed format of wt, or nil.
func q8FormatOf(wt quant.Type) *q8Format {
	switch wt {
	case quant.Q8_0:
		return &q8_0Format
	case quant.IQ4_NL:
		return &iq4NLFormat
	}
	return nil
}

// packedOffset is the offset packActLinear removes for the packed decode of
// wt: Q4_0's unsigned nibbles are q+8; the others are signed.
func packedOffset(wt quant.Type) int32 {
	if wt == quant.Q4_0 {
		return gemmOffset(quant.Q4_0)
	}
	return 0
}

func q8_0PackedSum(wb, xb []byte, r int) int32 {
	s := int32(binary.LittleEndian.Uint32(xb[36:]))
	for c := 0; c < 8; c++ {
		q := wb[packedScales+c*packedChunk+4*r:]
		for e := 0; e < 4; e++ {
			s += int32(int8(q[e])) * int32(int8(xb[4*c+e]))
		}
	}
	return s
}

func iq4NLPackedSum(wb, xb []byte, r int) int32 {
	s := int32(binary.LittleEndian.Uint32(xb[36:]))
	for c := 0; c < 4; c++ {
		q := wb[packedScales+c*packedChunk+4*r:]
		for e := 0; e < 4; e++ {
			s += int32(iq4nlValues[q[e]&0xF])*int32(int8(xb[4*c+e])) + int32(iq4nlValues[q[e]>>4])*int32(int8(xb[16+4*c+e]))
		}
	}
	return s
}

// gemvQ8_0x8Generic and gemvIQ4_NLx8Generic are the twins of the packed
// decode kernels: gemvQ4_0x8Generic's float steps over their layouts.
func gemvQ8_0x8Generic(y *[8]float32, w, x []byte, nb int) {
	gemvx8Generic(y, w, x, nb, q8_0Bytes, q8_0PackedSum)
}

func gemvIQ4_NLx8Generic(y *[8]float32, w, x []byte, nb int) {
	gemvx8Generic(y, w, x, nb, q4_0Bytes, iq4NLPackedSum)
}

// gemvx8x4Rows is the four-activation-row kernel made of four calls of a
// one-row kernel k (the group stays in L1 between them).
func gemvx8x4Rows(k func(y *[8]float32, w, x []byte, nb int)) func(y *[4][8]float32, w, x []byte, xstride, nb int) {
	return func(y *[4][8]float32, w, x []byte, xstride, nb int) {
		for c := range y {
			k(&y[c], w, x[c*xstride:], nb)
		}
	}
}
