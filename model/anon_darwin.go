package model

// hugePage is 0: macOS has no transparent huge pages to align to.
const hugePage = 0

// adviseHuge is a no-op: macOS has no MADV_HUGEPAGE.
func adviseHuge([]byte) {}
