//go:build linux || darwin

package main

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// peakRSS returns the process's peak resident set size in bytes.
func peakRSS() (int64, bool) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss), true // bytes
	}
	return int64(ru.Maxrss) << 10, true // KiB on Linux
}
