package converter

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/cogedge/cogedge/quant"
)

// chunkElems is the number of elements one worker handles at a time: its
// scratch is this many float32 plus the raw input bytes (about 6 MB).
const chunkElems = 1 << 20

// scratch is one worker's reusable buffers.
type scratch struct {
	f32 []float32
	raw []byte
}

// fillFunc writes the encoded rows [row0, row0+n) of a tensor into out
// (exactly n rows of the output type).
type fillFunc func(out []byte, row0, n int, s *scratch) error

// pool runs fill functions over row chunks on a fixed number of workers.
type pool struct {
	threads int
	scr     []*scratch
}

func newPool(threads int) *pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	p := &pool{threads: threads}
	for i := 0; i < threads; i++ {
		p.scr = append(p.scr, &scratch{})
	}
	return p
}

// run encodes a tensor of rows×rowBytes bytes into out by calling fill on
// chunks of rows in parallel. It returns the first error, or ctx's.
func (p *pool) run(ctx context.Context, out []byte, rows, cols, rowBytes int, fill fillFunc) error {
	per := chunkElems / cols
	if per < 1 {
		per = 1
	}
	type job struct{ row0, n int }
	jobs := make(chan job)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	for w := 0; w < p.threads; w++ {
		wg.Add(1)
		go func(s *scratch) {
			defer wg.Done()
			for j := range jobs {
				if err := fill(out[j.row0*rowBytes:(j.row0+j.n)*rowBytes], j.row0, j.n, s); err != nil {
					fail(err)
				}
			}
		}(p.scr[w])
	}
	var err error
feed:
	for r := 0; r < rows; r += per {
		n := min(per, rows-r)
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop {
			break
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		case jobs <- job{r, n}:
		}
	}
	close(jobs)
	wg.Wait()
	if first != nil {
		return first
	}
	return err
}

// quantizeFill returns a fill function that reads float32 rows with read
// and encodes each row as typ with quant.Quantize — the same code path as
// `cogedge quantize`.
func quantizeFill(name string, typ quant.Type, cols, rowBytes int, read func(dst []float32, row0, n int, s *scratch) error) fillFunc {
	return func(out []byte, row0, n int, s *scratch) error {
		need := n * cols
		if cap(s.f32) < need {
			s.f32 = make([]float32, need)
		}
		src := s.f32[:need]
		if err := read(src, row0, n, s); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := quant.Quantize(typ, out[i*rowBytes:(i+1)*rowBytes], src[i*cols:(i+1)*cols]); err != nil {
				return fmt.Errorf("convert: tensor %q row %d: quantize to %s: %w", name, row0+i, typ, err)
			}
		}
		return nil
	}
}
