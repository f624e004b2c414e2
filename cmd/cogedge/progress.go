package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// Waits longer than waitDelay show "label… 3s" on stderr, redrawn in place
// and erased when the wait ends; only when stderr is a terminal, so pipes
// and logs never see it. The package variables are for tests.
var (
	progressOut      io.Writer = os.Stderr
	progressTerminal           = func() bool { return term.IsTerminal(int(os.Stderr.Fd())) }
	waitDelay                  = time.Second
	waitRedraw                 = 250 * time.Millisecond
)

// waiter is one wait being shown.
type waiter struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

// startWait begins showing label after waitDelay; end stops (and erases)
// it. It does nothing when stderr is not a terminal.
func startWait(label string) *waiter {
	w := &waiter{stop: make(chan struct{})}
	if !progressTerminal() {
		return w
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t0 := time.Now()
		select {
		case <-w.stop:
			return
		case <-time.After(waitDelay):
		}
		tick := time.NewTicker(waitRedraw)
		defer tick.Stop()
		width := 0
		for {
			line := fmt.Sprintf("%s… %ds", label, int(time.Since(t0).Seconds()))
			width = max(width, len(line))
			fmt.Fprintf(progressOut, "\r%-*s", width, line)
			select {
			case <-w.stop:
				fmt.Fprintf(progressOut, "\r%*s\r", width, "")
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// end stops showing the wait and returns once its line is erased.
func (w *waiter) end() {
	close(w.stop)
	w.wg.Wait()
}
