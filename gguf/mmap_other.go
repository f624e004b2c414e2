//go:build !linux && !darwin

package gguf

import (
	"fmt"
	"io"
	"math"
	"os"
)

// maxMapSize bounds the size of a file Open accepts.
const maxMapSize = math.MaxInt

// mapFile reads the whole file: platforms without the unix mmap path get a
// private copy.
func mapFile(fh *os.File, size int) (data []byte, release func() error, mapped bool, err error) {
	data = make([]byte, size)
	if _, err := io.ReadFull(fh, data); err != nil {
		return nil, nil, false, fmt.Errorf("read %d bytes: %w", size, err)
	}
	return data, nil, false, nil
}

// advise is a no-op without mmap.
func advise(data []byte, start, end, advice int) {}
