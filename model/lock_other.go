//go:build !linux && !darwin

package model

import "errors"

// adviseBytes is a no-op without mmap.
func adviseBytes(b []byte, advice int) {}

// LockLanguage is not available on this OS.
func (m *Model) LockLanguage() error {
	return errors.New("model: --mlock is not available on this OS")
}
