package model

import "github.com/cogedge/cogedge/kernels"

// swiGLUGrain is how many MLP rows (11008 wide in Vicuna-7B) one task of a
// prefill's SwiGLU takes: tens of microseconds, well above a hand-off.
const swiGLUGrain = 4

// swiGLURows writes silu(g)·u over nr rows of ff values into g: spread over
// the pool for a prefill batch, inline for a few rows (decode), where a
// parallel region would cost more than it saves.
func swiGLURows(pool *kernels.Pool, g, u []float32, nr, ff int) {
	g, u = g[:nr*ff], u[:nr*ff]
	if nr <= swiGLUGrain {
		kernels.SwiGLU(g, g, u)
		return
	}
	pool.Rows(nr, swiGLUGrain, func(lo, hi int) {
		kernels.SwiGLU(g[lo*ff:hi*ff], g[lo*ff:hi*ff], u[lo*ff:hi*ff])
	})
}
