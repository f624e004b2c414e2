package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestWaitShown: a wait longer than the delay is shown on a terminal and
// erased at its end; a short one, or any wait when stderr is not a
// terminal, writes nothing.
func TestWaitShown(t *testing.T) {
	defer func(o func() bool, d, r time.Duration) {
		progressTerminal, waitDelay, waitRedraw, progressOut = o, d, r, nil
	}(progressTerminal, waitDelay, waitRedraw)
	waitDelay, waitRedraw = 20*time.Millisecond, 5*time.Millisecond
	for _, tc := range []struct {
		name     string
		terminal bool
		wait     time.Duration
		shown    bool
	}{
		{"long wait on a terminal", true, 200 * time.Millisecond, true},
		{"short wait on a terminal", true, 0, false},
		{"long wait into a pipe", false, 200 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			progressOut = &buf
			progressTerminal = func() bool { return tc.terminal }
			w := startWait("decompressing m.gguf.zst")
			time.Sleep(tc.wait)
			w.end()
			out := buf.String()
			if !tc.shown {
				if out != "" {
					t.Errorf("wrote %q, want nothing", out)
				}
				return
			}
			if !strings.Contains(out, "\rdecompressing m.gguf.zst… 0s") {
				t.Errorf("wrote %q: want the label redrawn in place", out)
			}
			last := out[strings.LastIndex(out[:len(out)-1], "\r"):]
			if strings.TrimSpace(strings.Trim(last, "\r")) != "" || !strings.HasSuffix(out, "\r") {
				t.Errorf("the line is not erased at the end: %q", last)
			}
		})
	}
}
