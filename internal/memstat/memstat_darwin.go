package memstat

import "golang.org/x/sys/unix"

// Read returns only the peak resident set on macOS (getrusage ru_maxrss,
// in bytes there): the current resident, file-backed and anonymous figures
// come from the Mach call task_info, which golang.org/x/sys does not wrap
// and which needs cgo; those fields are -1.
func Read() (Usage, error) {
	u := Usage{Resident: -1, File: -1, Anon: -1, Peak: -1}
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return u, err
	}
	u.Peak = int64(ru.Maxrss)
	return u, nil
}

// MappingResident is not available on macOS.
func MappingResident(b []byte) (int64, error) { return 0, ErrUnsupported }

// Available returns the machine's memory (hw.memsize) as both total and
// available: macOS has no MemAvailable, and compresses and swaps rather
// than refusing.
func Available() (Budget, error) {
	n, err := unix.SysctlUint64("hw.memsize")
	if err != nil {
		return Budget{Limit: -1}, err
	}
	return Budget{Available: int64(n), Total: int64(n), Limit: -1}, nil
}
