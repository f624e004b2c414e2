//go:build !unix

package kernels

// processCPUSeconds is unavailable here; benchmarks then skip the
// per-CPU-second metric.
func processCPUSeconds() float64 { return 0 }
