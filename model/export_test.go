package model

// SetForceRepack makes New repack Q4_0 matrices whether or not the CPU has
// a fast packed kernel (tests only); it returns the previous setting.
func SetForceRepack(v bool) (previous bool) {
	previous, forceRepack = forceRepack, v
	return previous
}
