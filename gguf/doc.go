// Package gguf reads and writes GGUF v3 files, the container of ggml and
// llama.cpp: a header, typed metadata key/value pairs, tensor descriptors and
// an aligned blob of tensor data.
//
// # Reading
//
// Open maps a file read-only (mmap on Linux and macOS, a full read elsewhere)
// and parses its header; Parse does the same over bytes already in memory.
// Tensor data is never copied: TensorData returns a sub-slice of the mapping,
// valid until Close.
//
// The input is treated as hostile. Every count, length, offset and shape is
// checked against the bytes that remain before anything is allocated or
// indexed, arithmetic is overflow-checked, and a malformed file yields an
// error naming the field and its byte offset, never a panic. The reader
// accepts what ggml's gguf_init_from_file accepts with these deliberate
// differences: BOOL values other than 0 and 1, keys that are empty or not
// valid UTF-8, tensor names that are not valid UTF-8 and zero-sized
// dimensions are rejected; tensor offsets need only be aligned and inside the
// file (CheckStrict applies llama.cpp's sequential-offset rule).
//
// # Dimension order
//
// TensorInfo.Shape is in ggml order: Shape[0] (ggml's ne0) is the contiguous,
// innermost dimension, so the row-major PyTorch shape is Shape reversed. A
// PyTorch Linear weight of shape (out, in) is stored with Shape {in, out}:
// the same bytes, each output row contiguous. Quantization blocks run along
// Shape[0], which must therefore be a multiple of the type's block size.
//
// # Writing
//
// Writer streams a file in the layout llama.cpp requires: header, metadata
// in insertion order, tensor descriptors in declaration order, padding to the
// alignment, then each tensor's bytes at sequential offsets, each padded to
// the alignment (including the last). The output is a pure function of the
// calls made, so golden files are reproducible.
package gguf

//go:generate env COGEDGE_WRITE_TINY=1 go test -count=1 -run TestTinyFile .
