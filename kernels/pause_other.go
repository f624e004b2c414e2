//go:build !(amd64 || arm64) || purego

package kernels

// spinPause is the portable stand-in for the busy-wait hint of
// pause_asm.go: nothing.
func spinPause() {}
