package model

// adviseHuge is a no-op: macOS has no MADV_HUGEPAGE.
func adviseHuge([]byte) {}
