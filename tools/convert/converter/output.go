package converter

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/internal/outfile"
)

// outFile is one output GGUF being written: a temporary file in the
// destination folder, named ".<base>.tmp-<pid>-<random>", renamed over the
// destination only once complete and synced. A run that is killed leaves at
// most its temporary file, never a partial file at the destination; the
// next run to the same destination removes temporaries whose process is
// gone.
type outFile struct {
	path, tmp string
	f         *os.File
	w         *gguf.Writer
	done      bool
}

// tempPrefix returns the prefix of the temporary files for path.
func tempPrefix(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
}

// createOut starts writing path.
func createOut(path string) (*outFile, error) {
	removeStaleTemps(path)
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	tmp := tempPrefix(path) + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(rnd[:])
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("convert: creating output: %w", err)
	}
	o := &outFile{path: path, tmp: tmp, f: f}
	o.w = gguf.NewWriter(f, gguf.WriterOptions{}) // buffered inside
	return o, nil
}

// finish completes the file: GGUF padding, flush, fsync, rename into
// place, fsync of the folder.
func (o *outFile) finish() error {
	if err := o.w.Close(); err != nil {
		return fmt.Errorf("convert: %s: %w", o.path, err)
	}
	if err := o.f.Sync(); err != nil {
		return fmt.Errorf("convert: %s: %w", o.path, err)
	}
	if err := o.f.Close(); err != nil {
		return fmt.Errorf("convert: %s: %w", o.path, err)
	}
	if err := os.Rename(o.tmp, o.path); err != nil {
		os.Remove(o.tmp)
		return fmt.Errorf("convert: %w", err)
	}
	o.done = true
	if d, err := os.Open(filepath.Dir(o.path)); err == nil {
		d.Sync() // best effort: makes the rename durable on Linux
		d.Close()
	}
	return nil
}

// abort removes the temporary file; a no-op after finish.
func (o *outFile) abort() {
	if o == nil || o.done {
		return
	}
	o.done = true
	o.f.Close()
	os.Remove(o.tmp)
}

// removeStaleTemps deletes temporaries of path left by processes that no
// longer exist (a SIGKILLed run); the names are internal/outfile's.
func removeStaleTemps(path string) { outfile.RemoveStaleTemps(path) }

// globEscape quotes the pattern characters of a literal path.
func globEscape(s string) string { return outfile.GlobEscape(s) }
