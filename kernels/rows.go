package kernels

// rowsJob runs fn over consecutive ranges of [0, n).
type rowsJob struct {
	fn       func(lo, hi int)
	n, grain int
}

func (j *rowsJob) run(_, t int) {
	lo := t * j.grain
	j.fn(lo, min(lo+j.grain, j.n))
}

// Rows splits [0, n) into ranges of about grain items and calls fn on each,
// spread over the pool's workers, returning when all are done. It is for
// row-wise work around the matmuls (bias, norms, activations over a
// prefill batch) that would otherwise run on one core. fn must be safe to
// call concurrently on disjoint ranges.
func (p *Pool) Rows(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows = rowsJob{fn: fn, n: n, grain: grain}
	p.parallel(&p.rows, (n+grain-1)/grain)
	p.rows.fn = nil
}
