//go:build unix

package kernels

import "syscall"

// processCPUSeconds returns the user+system CPU time the process has used,
// so benchmarks on a shared machine can report work per CPU-second.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
