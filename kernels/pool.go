package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is a fixed set of persistent worker goroutines plus the scratch
// buffers the kernels need (quantized activations, attention
// accumulators). A Pool serialises its own calls: one op runs at a time,
// spread over all workers; the calling goroutine works too. Steady-state
// calls allocate nothing.
type Pool struct {
	threads int

	mu     sync.Mutex // one op at a time
	wake   []chan struct{}
	closed bool

	// current parallel job, published to workers by bumping gen: a worker
	// that sees a new generation runs tasks of job until next passes
	// ntasks, then decrements active.
	job     runner
	ntasks  int
	next    atomic.Int64
	gen     atomic.Uint64
	active  atomic.Int32
	closing atomic.Bool
	spin    bool          // spinning allowed (tests turn it off)
	spinNow atomic.Bool   // spinning on for the current job (see parallel)
	parked  []atomic.Bool // worker w-1 is (about to be) blocked on wake[w-1]

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

// spinFor is how long an idle worker busy-waits for the next job before
// it blocks. The ops of a decode step follow each other within
// microseconds; waking a blocked goroutine costs a futex wake and, on a
// virtual machine, often tens of microseconds before its thread runs
// again, during which one thread streams the weights alone. Spinning
// bridges those gaps; between tokens of a chat or a server's idle time
// the workers block after spinFor.
const spinFor = 200 * time.Microsecond

// NewPool starts a pool of threads workers (the caller counts as one);
// threads <= 0 means runtime.NumCPU(). Workers busy-wait between jobs (for
// at most spinFor) only while every thread can have its own processor
// (threads <= GOMAXPROCS, checked at every job); otherwise a spinning
// worker would take the processor the caller needs.
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	return newPool(threads, true)
}

// newPool is NewPool with the choice to spin made by the caller (tests).
func newPool(threads int, spin bool) *Pool {
	p := &Pool{threads: threads, spin: spin}
	p.wscratch = make([][]float32, threads)
	p.wscratch16 = make([][]uint16, threads)
	p.out4 = make([][4]float32, threads)
	p.strips = make([][]byte, threads)
	p.gout = make([][gemmRows * gemmCols]float32, threads)
	p.parked = make([]atomic.Bool, threads-1)
	for w := 1; w < threads; w++ {
		ch := make(chan struct{}, 1)
		p.wake = append(p.wake, ch)
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
	p.closing.Store(true)
	p.gen.Add(1)
	for _, ch := range p.wake {
		close(ch)
	}
}

// worker runs the jobs published through p.gen until the pool closes.
func (p *Pool) worker(w int, wake chan struct{}) {
	var seen uint64
	for {
		g := p.waitJob(w, seen, wake)
		if p.closing.Load() {
			return
		}
		seen = g
		p.work(w)
		p.active.Add(-1)
	}
}

// waitJob returns the first generation after seen: busy-waiting for up to
// spinFor (when the pool spins), then blocked on wake. The caller sends
// on wake only to a worker that marked itself parked, and the worker
// re-checks gen after marking, so no job is missed; a stale wake-up (sent
// while the worker found the job by re-checking) is absorbed by looping.
func (p *Pool) waitJob(w int, seen uint64, wake chan struct{}) uint64 {
	for {
		if g := p.gen.Load(); g != seen {
			return g
		}
		if p.spinNow.Load() {
			deadline := time.Now().Add(spinFor)
			for i := 1; ; i++ {
				spinPause()
				if g := p.gen.Load(); g != seen {
					return g
				}
				if i%64 == 0 {
					// let other goroutines have this processor (another
					// pool's, a server's): a no-op when none waits
					runtime.Gosched()
				}
				if i%256 == 0 && time.Now().After(deadline) {
					break
				}
			}
		}
		// Mark, then re-check: the caller bumps gen, then takes the mark.
		// Both sides use read-modify-writes (full barriers everywhere) so
		// that neither's load can pass its store: with a plain
		// store-release and load-acquire, qemu-user running arm64 code on
		// an x86 host let the load pass the store, both sides missed each
		// other and the worker slept through a job (a hang in CI's
		// -cpu cortex-a72 run).
		parked := &p.parked[w-1]
		parked.Swap(true)
		if g := p.gen.Load(); g != seen {
			parked.Store(false)
			return g
		}
		_, ok := <-wake
		parked.Store(false)
		if !ok {
			return p.gen.Load()
		}
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
	nw := len(p.wake)
	if p.closed || ntasks == 1 {
		nw = 0
	}
	if nw == 0 {
		for t := 0; t < ntasks; t++ {
			job.run(0, t)
		}
		return
	}
	p.job, p.ntasks = job, ntasks
	p.spinNow.Store(p.spin && p.threads <= runtime.GOMAXPROCS(0))
	p.next.Store(0)
	p.active.Store(int32(nw))
	p.gen.Add(1)
	for i := range p.wake {
		// (a read-modify-write, as the worker's mark: see waitJob)
		if p.parked[i].CompareAndSwap(true, false) {
			select {
			case p.wake[i] <- struct{}{}:
			default: // a wake-up is already pending
			}
		}
	}
	p.work(0)
	// The workers are running their last tasks: spin briefly, then yield
	// between checks, so that a worker waiting for a processor (more
	// busy goroutines than processors) gets this one.
	for i := 0; p.active.Load() != 0; i++ {
		if i < 256 {
			spinPause()
		} else {
			runtime.Gosched()
		}
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
