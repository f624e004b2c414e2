//go:build !(linux || darwin)

package memstat

import "time"

// processCPU is not available on this OS.
func processCPU() time.Duration { return -1 }
