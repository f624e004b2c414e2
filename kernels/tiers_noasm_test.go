//go:build (!amd64 && !arm64) || purego

package kernels

// asmBuild reports whether this build has the architecture's assembly.
const asmBuild = false
