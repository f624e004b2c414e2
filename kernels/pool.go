package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool is a fixed set of persistent worker goroutines plus the scratch
// buffers the kernels need (quantized activations, attention
// accumulators). A Pool serialises its own calls: one op runs at a time,
// spread over all workers; the calling goroutine works too. Steady-state
// calls allocate nothing.
type Pool struct {
	threads int

	mu     sync.Mutex // one op at a time
	start  []chan struct{}
	done   chan struct{}
	closed bool

	// current parallel job, published to workers through start channels.
	job    runner
	ntasks int
	next   atomic.Int64

	// scratch, grown on demand and kept.
	act    []byte
	ascale []float32
	out4   [][4]float32
	agBuf  []byte                         // GEMM activation groups
	strips [][]byte                       // per-worker unpacked weight strip
	gout   [][gemmRows * gemmCols]float32 // per-worker GEMM tile result
	mm     matmulJob
	packed packState // MatMulPacked
	rows   rowsJob
	attn   attnJob
	// per-worker scratch for attention
	wscratch   [][]float32
	wscratch16 [][]uint16
}

// runner is a parallel job: run executes task t on worker w (0 = caller).
type runner interface{ run(w, t int) }

// NewPool starts a pool of threads workers (the caller counts as one);
// threads <= 0 means runtime.NumCPU().
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	p := &Pool{threads: threads, done: make(chan struct{}, threads)}
	p.wscratch = make([][]float32, threads)
	p.wscratch16 = make([][]uint16, threads)
	p.out4 = make([][4]float32, threads)
	p.strips = make([][]byte, threads)
	p.gout = make([][gemmRows * gemmCols]float32, threads)
	for w := 1; w < threads; w++ {
		ch := make(chan struct{}, 1)
		p.start = append(p.start, ch)
		go p.worker(w, ch)
	}
	return p
}

// Threads returns the number of threads the pool computes with.
func (p *Pool) Threads() int { return p.threads }

// Close stops the worker goroutines. The pool must not be used afterwards.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, ch := range p.start {
		close(ch)
	}
}

func (p *Pool) worker(w int, start chan struct{}) {
	for range start {
		p.work(w)
		p.done <- struct{}{}
	}
}

func (p *Pool) work(w int) {
	for {
		t := int(p.next.Add(1) - 1)
		if t >= p.ntasks {
			return
		}
		p.job.run(w, t)
	}
}

// parallel runs job over ntasks tasks on all workers and returns when all
// are done. Tasks are handed out in order through an atomic counter, so a
// fast worker takes more of them. Callers hold p.mu.
func (p *Pool) parallel(job runner, ntasks int) {
	if ntasks <= 0 {
		return
	}
	nw := len(p.start)
	if ntasks-1 < nw {
		nw = ntasks - 1
	}
	if p.closed {
		nw = 0
	}
	if nw == 0 {
		for t := 0; t < ntasks; t++ {
			job.run(0, t)
		}
		return
	}
	p.job, p.ntasks = job, ntasks
	p.next.Store(0)
	for w := 0; w < nw; w++ {
		p.start[w] <- struct{}{}
	}
	p.work(0)
	for w := 0; w < nw; w++ {
		<-p.done
	}
	p.job = nil
}

// scratch returns worker w's float scratch of at least n elements.
func (p *Pool) scratch(w, n int) []float32 {
	if cap(p.wscratch[w]) < n {
		p.wscratch[w] = make([]float32, n)
	}
	return p.wscratch[w][:n]
}

// scratch16 returns worker w's uint16 scratch of at least n elements.
func (p *Pool) scratch16(w, n int) []uint16 {
	if cap(p.wscratch16[w]) < n {
		p.wscratch16[w] = make([]uint16, n)
	}
	return p.wscratch16[w][:n]
}
