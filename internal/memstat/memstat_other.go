//go:build !linux && !darwin

package memstat

// Read is not available on this OS.
func Read() (Usage, error) { return Usage{Resident: -1, File: -1, Anon: -1, Peak: -1}, ErrUnsupported }

// MappingResident is not available on this OS.
func MappingResident(b []byte) (int64, error) { return 0, ErrUnsupported }

// Available is not available on this OS.
func Available() (Budget, error) { return Budget{Limit: -1}, ErrUnsupported }
