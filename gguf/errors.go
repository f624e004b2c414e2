package gguf

import (
	"errors"
	"fmt"
)

// Sentinel errors; every parse error wraps one of them (test with errors.Is).
var (
	// ErrMalformed marks a file that breaks the GGUF format or exceeds a limit.
	ErrMalformed = errors.New("malformed GGUF")
	// ErrUnsupported marks a well-formed file this package does not read:
	// GGUF v1, byte-swapped (big-endian) files, versions after 3.
	ErrUnsupported = errors.New("unsupported GGUF")
	// ErrClosed is returned by File methods after Close.
	ErrClosed = errors.New("gguf: file is closed")
)

// FormatError describes a problem with one field of a GGUF file.
type FormatError struct {
	Path   string // file name, empty for Parse
	Field  string // which field, e.g. `kv 3 ("general.name"): value`
	Offset int64  // byte offset of the field in the file
	Msg    string // what is wrong
	Err    error  // ErrMalformed or ErrUnsupported
}

// Error formats the error as `gguf: [path: ]field at byte N: msg`.
func (e *FormatError) Error() string {
	p := ""
	if e.Path != "" {
		p = e.Path + ": "
	}
	return fmt.Sprintf("gguf: %s%s at byte %d: %s", p, e.Field, e.Offset, e.Msg)
}

// Unwrap returns the sentinel (ErrMalformed or ErrUnsupported).
func (e *FormatError) Unwrap() error { return e.Err }
