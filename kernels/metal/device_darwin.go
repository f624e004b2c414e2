//go:build darwin

package metal

import (
	"fmt"
	"os"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego/objc"
)

// gpu is a Metal device: one command queue, the library compiled once from
// Source, pipelines made on first use, and one command buffer with one
// compute encoder open between Syncs. Ownership: objects from new…/alloc
// are +1 and released in Close or Free; the command buffer and encoder are
// autoreleased and retained while open.
type gpu struct {
	mu         sync.Mutex
	dev, queue objc.ID
	lib        objc.ID
	pipelines  map[string]objc.ID
	cmd, enc   objc.ID
	name       string
	maxLen     int
	allocated  int
	counts
}

type gpuBuffer struct {
	id    objc.ID
	mem   []byte
	owned int // bytes allocated by newBufferWithLength (0 for a zero-copy view)
}

func (b *gpuBuffer) Len() int     { return len(b.mem) }
func (b *gpuBuffer) Host() []byte { return b.mem }

// Open returns the system's Metal GPU, with the shader library compiled.
// It returns an error wrapping ErrUnavailable when there is none.
func Open() (Device, error) {
	if err := load(); err != nil {
		return nil, err
	}
	g := &gpu{pipelines: map[string]objc.ID{}}
	err := withPool(func() error {
		g.dev = mtlCreateSystemDefaultDevice()
		if g.dev == 0 {
			if all := mtlCopyAllDevices(); all != 0 {
				if objc.Send[uint64](all, selCount) > 0 {
					g.dev = all.Send(selObjectAtIndex, uint64(0)).Send(selRetain)
				}
				release(all)
			}
		}
		if g.dev == 0 {
			return fmt.Errorf("%w: MTLCreateSystemDefaultDevice and MTLCopyAllDevices found none", ErrUnavailable)
		}
		g.name = goString(g.dev.Send(selName))
		g.maxLen = int(objc.Send[uint64](g.dev, selMaxBufferLength))
		if g.queue = g.dev.Send(selNewCommandQueue); g.queue == 0 {
			return fmt.Errorf("metal: newCommandQueue on %s failed", g.name)
		}
		opts := objc.ID(objc.GetClass("MTLCompileOptions")).Send(selAlloc).Send(selInit)
		defer release(opts)
		if objc.Send[bool](opts, selRespondsToSelector, selSetMathMode) {
			opts.Send(selSetMathMode, uint64(mathModeSafe))
		} else {
			opts.Send(selSetFastMathEnabled, false)
		}
		var nsErr objc.ID
		g.lib = g.dev.Send(selNewLibraryWithSource, nsString(Source()), opts, unsafe.Pointer(&nsErr))
		if g.lib == 0 {
			return nsError("newLibraryWithSource:options:error: (compiling shaders/cogedge.metal)", nsErr)
		}
		return nil
	})
	if err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

func (g *gpu) Name() string         { return g.name }
func (g *gpu) MaxBufferLength() int { return g.maxLen }

func (g *gpu) NewBuffer(size int) (Buffer, error) {
	if size < 0 || size > g.maxLen {
		return nil, fmt.Errorf("metal: buffer of %d bytes: outside 0..%d", size, g.maxLen)
	}
	n := max(size, 16) // Metal refuses empty buffers
	var b *gpuBuffer
	err := withPool(func() error {
		id := g.dev.Send(selNewBufferWithLength, uint64(n), uint64(storageShared))
		if id == 0 {
			return fmt.Errorf("metal: newBufferWithLength:options: (%d bytes) failed", n)
		}
		p := objc.Send[unsafe.Pointer](id, selContents)
		b = &gpuBuffer{id: id, mem: unsafe.Slice((*byte)(p), n)[:size], owned: n}
		return nil
	})
	if err == nil {
		g.mu.Lock()
		g.allocated += n
		g.mu.Unlock()
	}
	return b, err
}

// Allocated counts newBufferWithLength's bytes; zero-copy views hold none.
func (g *gpu) Allocated() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.allocated
}

// WrapHost makes a zero-copy buffer over mem, which must start on a page
// and stay mapped (not Go heap memory) while the buffer lives; its length
// is rounded up to a page, so the mapping must extend that far.
func (g *gpu) WrapHost(mem []byte) (Buffer, error) {
	page := os.Getpagesize()
	if len(mem) == 0 || uintptr(unsafe.Pointer(&mem[0]))%uintptr(page) != 0 {
		return nil, fmt.Errorf("metal: WrapHost: memory is empty or not aligned to the %d-byte page", page)
	}
	n := ceilDiv(len(mem), page) * page
	if n > g.maxLen {
		return nil, fmt.Errorf("metal: WrapHost: %d bytes exceed maxBufferLength %d", n, g.maxLen)
	}
	var b *gpuBuffer
	err := withPool(func() error {
		id := g.dev.Send(selNewBufferWithBytesNoCopy, unsafe.Pointer(&mem[0]), uint64(n), uint64(storageShared), uintptr(0))
		if id == 0 {
			return fmt.Errorf("metal: newBufferWithBytesNoCopy:length:options:deallocator: (%d bytes) failed", n)
		}
		b = &gpuBuffer{id: id, mem: mem}
		return nil
	})
	return b, err
}

func (g *gpu) Free(b Buffer) error {
	gb, ok := b.(*gpuBuffer)
	if !ok {
		return fmt.Errorf("metal: Free: not a Metal buffer")
	}
	if gb.id == 0 {
		return nil
	}
	g.mu.Lock()
	g.allocated -= gb.owned
	g.mu.Unlock()
	return withPool(func() error {
		release(gb.id)
		gb.id, gb.mem, gb.owned = 0, nil, 0
		return nil
	})
}

// pipeline returns the compute pipeline of kernel, made on first use.
func (g *gpu) pipeline(kernel string) (objc.ID, error) {
	if p, ok := g.pipelines[kernel]; ok {
		return p, nil
	}
	fn := g.lib.Send(selNewFunctionWithName, nsString(kernel))
	if fn == 0 {
		return 0, fmt.Errorf("metal: newFunctionWithName: no kernel named %q", kernel)
	}
	defer release(fn)
	var nsErr objc.ID
	p := g.dev.Send(selNewComputePipeline, fn, unsafe.Pointer(&nsErr))
	if p == 0 {
		return 0, nsError("newComputePipelineStateWithFunction:error: ("+kernel+")", nsErr)
	}
	g.pipelines[kernel] = p
	return p, nil
}

func (g *gpu) Dispatch(kernel string, groups, threads Size3, args ...Arg) error {
	if err := checkDispatch(kernel, groups, threads, args); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return withPool(func() error {
		p, err := g.pipeline(kernel)
		if err != nil {
			return err
		}
		if max := objc.Send[uint64](p, selMaxTotalThreads); uint64(threads[0]*threads[1]*threads[2]) > max {
			return fmt.Errorf("metal: %s: %v threads per threadgroup, the pipeline allows %d", kernel, threads, max)
		}
		if g.cmd == 0 {
			g.cmd = g.queue.Send(selCommandBuffer).Send(selRetain)
			g.enc = g.cmd.Send(selComputeCommandEncoder).Send(selRetain)
		}
		g.enc.Send(selSetComputePipelineState, p)
		for i, a := range args {
			if a.buf != nil {
				gb, ok := a.buf.(*gpuBuffer)
				if !ok || gb.id == 0 {
					return fmt.Errorf("metal: %s: argument %d is not a live Metal buffer", kernel, i)
				}
				g.enc.Send(selSetBuffer, gb.id, uint64(a.off), uint64(i))
			} else {
				g.enc.Send(selSetBytes, unsafe.Pointer(&a.bytes[0]), uint64(len(a.bytes)), uint64(i))
			}
		}
		g.enc.Send(selDispatchThreadgroups,
			mtlSize{uint64(groups[0]), uint64(groups[1]), uint64(groups[2])},
			mtlSize{uint64(threads[0]), uint64(threads[1]), uint64(threads[2])})
		g.add(kernel)
		return nil
	})
}

// Sync ends the encoder, commits the command buffer and waits for it.
func (g *gpu) Sync() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd == 0 {
		return nil
	}
	return withPool(func() error {
		g.enc.Send(selEndEncoding)
		g.cmd.Send(selCommit)
		g.cmd.Send(selWaitUntilCompleted)
		status := objc.Send[uint64](g.cmd, selStatus)
		var err error
		if status != commandBufferCompleted {
			err = nsError(fmt.Sprintf("command buffer (status %d)", status), g.cmd.Send(selError))
		}
		release(g.enc)
		release(g.cmd)
		g.enc, g.cmd = 0, 0
		return err
	})
}

func (g *gpu) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return withPool(func() error {
		if g.enc != 0 {
			g.enc.Send(selEndEncoding)
		}
		release(g.enc)
		release(g.cmd)
		for _, p := range g.pipelines {
			release(p)
		}
		release(g.lib)
		release(g.queue)
		release(g.dev)
		g.enc, g.cmd, g.lib, g.queue, g.dev = 0, 0, 0, 0, 0
		g.pipelines = nil
		return nil
	})
}
