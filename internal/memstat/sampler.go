package memstat

import (
	"sync"
	"time"
)

// Sampler reads Usage every interval in the background, so that the
// memory of a phase run by code that cannot report it (a library call
// doing several things) can be read afterwards from its time window.
type Sampler struct {
	mu      sync.Mutex
	samples []sample
	stop    chan struct{}
	done    chan struct{}
}

type sample struct {
	at  time.Time
	u   Usage
	cpu time.Duration // processCPU at the sample, -1 if unknown
}

// Window summarizes the samples of one phase.
type Window struct {
	Wall time.Duration
	End  Usage // the last sample in the window (or at its end)
	Max  Usage // the largest value of each field over the window
	N    int   // samples in the window
	// CPU is the process's CPU time (user + system, all threads) from the
	// last sample at or before the window's start to the last one in it;
	// -1 if unknown. With samples at both ends (Sample at each phase's
	// end) it is the phase's CPU time; otherwise it is off by up to an
	// interval's worth.
	CPU time.Duration
}

// StartSampler starts sampling every interval (one sample at once).
func StartSampler(interval time.Duration) *Sampler {
	s := &Sampler{stop: make(chan struct{}), done: make(chan struct{})}
	s.take()
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.take()
			}
		}
	}()
	return s
}

// Sample takes one sample now (e.g. at the end of a phase).
func (s *Sampler) Sample() { s.take() }

func (s *Sampler) take() {
	u, err := Read()
	if err != nil {
		return
	}
	cpu := processCPU()
	s.mu.Lock()
	s.samples = append(s.samples, sample{time.Now(), u, cpu})
	s.mu.Unlock()
}

// Stop ends the sampling.
func (s *Sampler) Stop() {
	close(s.stop)
	<-s.done
}

// Window returns the summary of the samples taken in [from, to].
func (s *Sampler) Window(from, to time.Time) Window {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := Window{Wall: to.Sub(from), End: Usage{-1, -1, -1, -1}, Max: Usage{-1, -1, -1, -1}, CPU: -1}
	base, last := time.Duration(-1), time.Duration(-1)
	for _, x := range s.samples {
		if !x.at.After(from) {
			base = x.cpu
		}
		if x.at.Before(from) || x.at.After(to) {
			continue
		}
		if base < 0 {
			base = x.cpu
		}
		last = x.cpu
		w.N++
		w.End = x.u
		w.Max = Usage{max(w.Max.Resident, x.u.Resident), max(w.Max.File, x.u.File), max(w.Max.Anon, x.u.Anon), max(w.Max.Peak, x.u.Peak)}
	}
	if base >= 0 && last >= 0 {
		w.CPU = last - base
	}
	return w
}
