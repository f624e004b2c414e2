package metal

import (
	"errors"
	"fmt"
	"sync"
)

// ErrUnavailable is returned where no Metal device can be had: on an
// operating system without Metal, or a Mac whose GPU is not reachable.
var ErrUnavailable = errors.New("metal: no Metal device")

// Buffer is device memory. On Apple silicon every buffer cogedge makes is
// shared storage, so Host is the same memory the GPU reads.
type Buffer interface {
	// Len is the buffer's size in bytes.
	Len() int
	// Host is the buffer's memory as the CPU sees it. Reading it is valid
	// only after Sync has returned for the work that wrote it.
	Host() []byte
}

// Arg is one kernel argument: a buffer at a byte offset, or a few bytes
// copied at encode time (Metal's setBytes, at most 4 KiB).
type Arg struct {
	buf   Buffer
	off   int
	bytes []byte
}

// BufferArg passes buf at byte offset off.
func BufferArg(buf Buffer, off int) Arg { return Arg{buf: buf, off: off} }

// BytesArg passes a copy of b.
func BytesArg(b []byte) Arg { return Arg{bytes: b} }

// Size3 is a grid or threadgroup size.
type Size3 [3]int

// Device is the narrow interface the backend's host code drives: buffers,
// dispatch of a named kernel with its arguments (argument i binds
// [[buffer(i)]]) and grid, and commit/wait. On darwin it is a Metal GPU;
// on Linux the simulated device runs the same shader source on the CPU.
type Device interface {
	// Name describes the device ("Apple M2 Pro", "metal-sim (clang++-16)").
	Name() string
	// NewBuffer allocates size zeroed bytes.
	NewBuffer(size int) (Buffer, error)
	// WrapHost makes a buffer over page-aligned host memory that stays
	// valid (mapped) while the buffer is in use, without copying it:
	// newBufferWithBytesNoCopy on Metal; in the simulator the helper
	// process maps the same file pages when mem is a file mapping (as the
	// GGUF is), and copies otherwise (counted by Allocated). len(mem) must
	// not exceed MaxBufferLength.
	WrapHost(mem []byte) (Buffer, error)
	// Allocated is the number of bytes of device memory the live buffers
	// hold: NewBuffer's, and WrapHost's only where it had to copy.
	Allocated() int
	// Free releases a buffer made by NewBuffer or WrapHost.
	Free(b Buffer) error
	// MaxBufferLength is the largest buffer the device accepts.
	MaxBufferLength() int
	// Dispatch encodes groups threadgroups of threads threads running
	// kernel into the current command buffer.
	Dispatch(kernel string, groups, threads Size3, args ...Arg) error
	// Sync commits the current command buffer, waits until it completes
	// and returns the first error of its work.
	Sync() error
	// Close releases the device; its buffers become invalid.
	Close() error
}

// checkDispatch validates a dispatch before it reaches a device (a bad
// argument index or grid aborts a Metal process instead of failing).
func checkDispatch(kernel string, groups, threads Size3, args []Arg) error {
	n := 1
	for i := range 3 {
		if groups[i] < 1 || threads[i] < 1 {
			return fmt.Errorf("metal: %s: grid %v of %v threads: every size must be at least 1", kernel, groups, threads)
		}
		n *= threads[i]
	}
	if n > 1024 {
		return fmt.Errorf("metal: %s: %d threads per threadgroup, more than 1024", kernel, n)
	}
	if len(args) > 31 {
		return fmt.Errorf("metal: %s: %d arguments, more than 31", kernel, len(args))
	}
	for i, a := range args {
		switch {
		case a.buf == nil && a.bytes == nil:
			return fmt.Errorf("metal: %s: argument %d is empty", kernel, i)
		case a.buf != nil && (a.off < 0 || a.off > a.buf.Len()):
			return fmt.Errorf("metal: %s: argument %d: offset %d outside a %d-byte buffer", kernel, i, a.off, a.buf.Len())
		case a.bytes != nil && len(a.bytes) > 4096:
			return fmt.Errorf("metal: %s: argument %d: %d inline bytes, more than 4096", kernel, i, len(a.bytes))
		}
	}
	return nil
}

// counts records how often each kernel was dispatched (tests check that
// every kernel of the source ran).
type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counts) add(kernel string) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[kernel]++
	c.mu.Unlock()
}

// Dispatched returns how often each kernel was dispatched.
func (c *counts) Dispatched() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]int, len(c.n))
	for k, v := range c.n {
		m[k] = v
	}
	return m
}

// OpenNamed opens the device a --backend value names: "metal" (the GPU,
// darwin only) or "metal-sim" (the simulator, Linux builds only).
func OpenNamed(name string) (Device, error) {
	switch name {
	case "metal":
		return Open()
	case "metal-sim":
		return openSim()
	}
	return nil, fmt.Errorf("metal: unknown device %q (metal or metal-sim)", name)
}
