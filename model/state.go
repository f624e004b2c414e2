package model

import (
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// StateBytes returns the size of the KV state of n slots as WriteState
// writes it: for every layer, the keys then the values of the n slots, in
// the cache's element type (2 bytes for f16, 4 for f32).
func (c *Context) StateBytes(n int) int64 {
	esz := int64(2)
	if c.kvType == KVF32 {
		esz = 4
	}
	return int64(len(c.m.layers)) * 2 * int64(n) * int64(c.kvDim) * esz
}

// KVType returns the element type of c's KV cache.
func (c *Context) KVType() KVType { return c.kvType }

// WriteState writes the keys and values of the first n slots of the cache
// (StateBytes(n) bytes, little-endian) to w, so that ReadState can restore
// them into another context of the same model and KV type (e.g. the
// prefix of an image that is asked about again).
func (c *Context) WriteState(w io.Writer, n int) error {
	if n < 0 || n > c.nPast {
		return fmt.Errorf("model: write state of %d slots: the cache holds %d", n, c.nPast)
	}
	for l := range c.m.layers {
		for _, b := range c.layerBytes(l, n) {
			if _, err := w.Write(b); err != nil {
				return fmt.Errorf("model: write state: %w", err)
			}
		}
	}
	return nil
}

// ReadState empties the cache and fills its first len(types) slots from r,
// as WriteState wrote them; types gives each slot's token type (for the
// positions and experts of what follows). On an error (a short read
// included) the cache is left empty.
func (c *Context) ReadState(r io.Reader, types []TokenType) error {
	n := len(types)
	c.Reset()
	if n > c.size {
		return fmt.Errorf("model: read state of %d slots: %w: the context holds %d", n, ErrContextFull, c.size)
	}
	for i, ty := range types {
		if ty != Lang && ty != Vision {
			return fmt.Errorf("model: read state: slot %d: unknown token type %d", i, ty)
		}
	}
	for l := range c.m.layers {
		for _, b := range c.layerBytes(l, n) {
			if _, err := io.ReadFull(r, b); err != nil {
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return fmt.Errorf("model: read state: layer %d: %w", l, err)
			}
		}
	}
	c.types = append(c.types[:0], types...)
	c.nPast = n
	return nil
}

// layerBytes views the keys and values of the first n slots of layer l as
// bytes (all supported targets are little-endian).
func (c *Context) layerBytes(l, n int) [2][]byte {
	m := n * c.kvDim
	if m == 0 {
		return [2][]byte{}
	}
	if c.kvType == KVF16 {
		k, v := c.k16[l][:m], c.v16[l][:m]
		return [2][]byte{unsafe.Slice((*byte)(unsafe.Pointer(&k[0])), 2*m), unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 2*m)}
	}
	k, v := c.k32[l][:m], c.v32[l][:m]
	return [2][]byte{unsafe.Slice((*byte)(unsafe.Pointer(&k[0])), 4*m), unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*m)}
}

// ImagePrefix returns the token types of BOS followed by the image block,
// the slots PromptBatch puts before the text: the prefix an image cache
// stores. It is nil for a model without a vision tower.
func (m *Model) ImagePrefix() []TokenType {
	if m.Vision == nil {
		return nil
	}
	types := make([]TokenType, 1+m.Vision.ImageTokens)
	for i := 1; i < len(types); i++ {
		types[i] = Vision
	}
	return types
}
