//go:build (amd64 || arm64) && !purego

package kernels

// spinPause tells the core that the thread is busy-waiting (PAUSE on
// x86-64, YIELD on arm64), which frees resources for an SMT sibling and
// saves power while a pool worker waits for its next job.
//
//go:noescape
func spinPause()
