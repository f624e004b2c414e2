//go:build darwin

package metal

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/ebitengine/purego/objc"
)

// Every selector the binding sends, registered once (the list doubles as
// an index of the Objective-C API cogedge uses).
var (
	selAlloc                    = objc.RegisterName("alloc")
	selInit                     = objc.RegisterName("init")
	selRelease                  = objc.RegisterName("release")
	selRetain                   = objc.RegisterName("retain")
	selRespondsToSelector       = objc.RegisterName("respondsToSelector:")
	selStringWithUTF8String     = objc.RegisterName("stringWithUTF8String:")
	selUTF8String               = objc.RegisterName("UTF8String")
	selLocalizedDescription     = objc.RegisterName("localizedDescription")
	selCount                    = objc.RegisterName("count")
	selObjectAtIndex            = objc.RegisterName("objectAtIndex:")
	selName                     = objc.RegisterName("name")
	selMaxBufferLength          = objc.RegisterName("maxBufferLength")
	selNewCommandQueue          = objc.RegisterName("newCommandQueue")
	selNewBufferWithLength      = objc.RegisterName("newBufferWithLength:options:")
	selNewBufferWithBytesNoCopy = objc.RegisterName("newBufferWithBytesNoCopy:length:options:deallocator:")
	selContents                 = objc.RegisterName("contents")
	selNewLibraryWithSource     = objc.RegisterName("newLibraryWithSource:options:error:")
	selSetMathMode              = objc.RegisterName("setMathMode:")
	selSetFastMathEnabled       = objc.RegisterName("setFastMathEnabled:")
	selNewFunctionWithName      = objc.RegisterName("newFunctionWithName:")
	selNewComputePipeline       = objc.RegisterName("newComputePipelineStateWithFunction:error:")
	selMaxTotalThreads          = objc.RegisterName("maxTotalThreadsPerThreadgroup")
	selCommandBuffer            = objc.RegisterName("commandBuffer")
	selComputeCommandEncoder    = objc.RegisterName("computeCommandEncoder")
	selSetComputePipelineState  = objc.RegisterName("setComputePipelineState:")
	selSetBuffer                = objc.RegisterName("setBuffer:offset:atIndex:")
	selSetBytes                 = objc.RegisterName("setBytes:length:atIndex:")
	selDispatchThreadgroups     = objc.RegisterName("dispatchThreadgroups:threadsPerThreadgroup:")
	selEndEncoding              = objc.RegisterName("endEncoding")
	selCommit                   = objc.RegisterName("commit")
	selWaitUntilCompleted       = objc.RegisterName("waitUntilCompleted")
	selStatus                   = objc.RegisterName("status")
	selError                    = objc.RegisterName("error")
)

const (
	storageShared          = 0 // MTLResourceStorageModeShared
	mathModeSafe           = 0 // MTLMathModeSafe: no fast-math reassociation
	commandBufferCompleted = 4
	commandBufferError     = 5
)

// mtlSize mirrors MTLSize (three NSUInteger), passed by value.
type mtlSize struct{ Width, Height, Depth uint64 }

var (
	loadOnce sync.Once
	loadErr  error

	mtlCreateSystemDefaultDevice func() objc.ID
	mtlCopyAllDevices            func() objc.ID
	autoreleasePoolPush          func() uintptr
	autoreleasePoolPop           func(uintptr)
)

// load opens the frameworks once. CoreGraphics first: without a window
// server session (ssh, launchd) the default device can otherwise be nil.
func load() error {
	loadOnce.Do(func() {
		purego.Dlopen("/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics", purego.RTLD_NOW|purego.RTLD_GLOBAL)
		mtl, err := purego.Dlopen("/System/Library/Frameworks/Metal.framework/Metal", purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			loadErr = fmt.Errorf("%w: loading Metal.framework: %v", ErrUnavailable, err)
			return
		}
		libobjc, err := purego.Dlopen("/usr/lib/libobjc.A.dylib", purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			loadErr = fmt.Errorf("%w: loading libobjc: %v", ErrUnavailable, err)
			return
		}
		purego.RegisterLibFunc(&mtlCreateSystemDefaultDevice, mtl, "MTLCreateSystemDefaultDevice")
		purego.RegisterLibFunc(&mtlCopyAllDevices, mtl, "MTLCopyAllDevices")
		purego.RegisterLibFunc(&autoreleasePoolPush, libobjc, "objc_autoreleasePoolPush")
		purego.RegisterLibFunc(&autoreleasePoolPop, libobjc, "objc_autoreleasePoolPop")
	})
	return loadErr
}

// withPool runs f on one locked OS thread inside an autorelease pool: the
// objects Metal returns autoreleased (command buffers, encoders, strings)
// are freed when f returns, and the pool is popped on the thread that
// pushed it.
func withPool(f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pool := autoreleasePoolPush()
	defer autoreleasePoolPop(pool)
	return f()
}

// nsString returns an autoreleased NSString (valid inside the pool).
func nsString(s string) objc.ID {
	return objc.ID(objc.GetClass("NSString")).Send(selStringWithUTF8String, s)
}

// goString copies an NSString's UTF-8 bytes.
func goString(s objc.ID) string {
	if s == 0 {
		return ""
	}
	p := objc.Send[*byte](s, selUTF8String)
	if p == nil {
		return ""
	}
	var b []byte
	for q := unsafe.Pointer(p); *(*byte)(q) != 0; q = unsafe.Add(q, 1) {
		b = append(b, *(*byte)(q))
	}
	return string(b)
}

// nsError turns an NSError into a Go error naming the call that failed.
func nsError(call string, e objc.ID) error {
	if e == 0 {
		return fmt.Errorf("metal: %s failed (no NSError)", call)
	}
	return fmt.Errorf("metal: %s: %s", call, goString(e.Send(selLocalizedDescription)))
}

func release(id objc.ID) {
	if id != 0 {
		id.Send(selRelease)
	}
}
