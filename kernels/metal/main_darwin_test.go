package metal

// On a Mac the same tests run the shaders on the real GPU.
const noDeviceReason = "no Metal GPU reachable: the shader tests on real Apple hardware are skipped"

func openTestDevice() (Device, error) { return Open() }

// wrapCopiesAnon: Metal wraps any page-aligned memory without a copy.
const wrapCopiesAnon = false
