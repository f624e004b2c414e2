//go:build !darwin

package metal

// Open returns ErrUnavailable: Metal exists only on darwin. (On Linux,
// OpenSim runs the same shaders on a simulated device.)
func Open() (Device, error) { return nil, ErrUnavailable }
