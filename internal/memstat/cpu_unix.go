//go:build linux || darwin

package memstat

import (
	"time"

	"golang.org/x/sys/unix"
)

// processCPU returns the CPU time (user + system, all threads) the
// process has used so far, or -1.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
