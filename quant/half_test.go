package quant

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"os"
	"testing"
)

// half.hash (see testdata/README.md, "quant") holds ggml's FNV-1a-64 hash of
// the fp16 and bf16 conversions of every float32 bit pattern, in chunks of
// 2^20 patterns, and one hash of fp16->fp32 over all halves.
const (
	halfChunkBits = 20
	halfChunks    = 1 << (32 - halfChunkBits)
)

func readHalfHashes(t *testing.T) (fp16, bf16 []uint64, toF32 uint64) {
	t.Helper()
	b := readGolden(t, "half.hash")
	if len(b) != 8*(2*halfChunks+1) {
		t.Fatalf("half.hash: %d bytes, want %d", len(b), 8*(2*halfChunks+1))
	}
	h := make([]uint64, 2*halfChunks+1)
	for i := range h {
		h[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return h[:halfChunks], h[halfChunks : 2*halfChunks], h[2*halfChunks]
}

// chunkHash hashes conv over the float32 bit patterns of chunk c, as gen.c does.
func chunkHash(c uint32, buf []byte, conv func(float32) uint16) uint64 {
	for i := uint32(0); i < 1<<halfChunkBits; i++ {
		f := math.Float32frombits(c<<halfChunkBits | i)
		binary.LittleEndian.PutUint16(buf[2*i:], conv(f))
	}
	h := fnv.New64a()
	h.Write(buf)
	return h.Sum64()
}

// sampledChunks covers every rounding regime of fp16 and bf16 for both signs:
// float32 zero/subnormals, values that round to zero or to the smallest half
// subnormal, the half subnormal/normal boundary, 1.0, the largest halves and
// overflow, and inf/NaN. A chunk index is sign<<11 | exponent<<3 | mantissa>>20.
func sampledChunks() []uint32 {
	var cs []uint32
	for _, e := range []uint32{0, 102, 103, 112, 113, 127, 142, 143, 255} {
		cs = append(cs, e<<3|(e%8))
	}
	for _, e := range []uint32{0, 102, 113, 143, 255} {
		cs = append(cs, 1<<11|e<<3|(7-e%8))
	}
	return cs
}

func TestFP16BF16MatchGGML(t *testing.T) {
	fp16, bf16, toF32 := readHalfHashes(t)
	chunks := sampledChunks()
	if testing.Short() || os.Getenv("COGEDGE_LONG") != "1" {
		t.Logf("checking %d of %d chunks (set COGEDGE_LONG=1 without -short for all 2^32 inputs)", len(chunks), halfChunks)
	} else {
		chunks = chunks[:0]
		for c := uint32(0); c < halfChunks; c++ {
			chunks = append(chunks, c)
		}
	}
	buf := make([]byte, 2<<halfChunkBits)
	for _, c := range chunks {
		if got := chunkHash(c, buf, FP32ToFP16); got != fp16[c] {
			t.Errorf("FP32ToFP16: chunk %#x (bits %#08x..): hash %#016x, ggml %#016x", c, c<<halfChunkBits, got, fp16[c])
		}
		if got := chunkHash(c, buf, FP32ToBF16); got != bf16[c] {
			t.Errorf("FP32ToBF16: chunk %#x (bits %#08x..): hash %#016x, ggml %#016x", c, c<<halfChunkBits, got, bf16[c])
		}
	}
	h := fnv.New64a()
	var b [4]byte
	for i := 0; i < 1<<16; i++ {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(FP16ToFP32(uint16(i))))
		h.Write(b[:])
	}
	if got := h.Sum64(); got != toF32 {
		t.Errorf("FP16ToFP32 over all halves: hash %#016x, ggml %#016x", got, toF32)
	}
}
