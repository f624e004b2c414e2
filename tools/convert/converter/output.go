package converter

import (
	"fmt"
	"path/filepath"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/internal/outfile"
)

// outFile is one output GGUF being written through internal/outfile: a
// temporary file in the destination folder, named
// ".<base>.tmp-<pid>-<random>", renamed over the destination only once
// complete and synced (a symlink is written through, a device written in
// place, a folder refused). A run that is killed leaves at most its
// temporary file, never a partial file at the destination; the next run to
// the same destination removes temporaries whose process is gone.
type outFile struct {
	path string
	out  *outfile.File
	w    *gguf.Writer
}

// tempPrefix returns the prefix of the temporary files for path.
func tempPrefix(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
}

// createOut starts writing path.
func createOut(path string) (*outFile, error) {
	out, err := outfile.Create(path, outfile.Options{})
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	return &outFile{path: path, out: out, w: gguf.NewWriter(out, gguf.WriterOptions{})}, nil
}

// finish completes the file: GGUF padding, flush, fsync, rename into
// place, fsync of the folder.
func (o *outFile) finish() error {
	if err := o.w.Close(); err != nil {
		o.out.Abort()
		return fmt.Errorf("convert: %s: %w", o.path, err)
	}
	if err := o.out.Commit(); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	return nil
}

// abort removes the temporary file; a no-op after finish.
func (o *outFile) abort() {
	if o != nil {
		o.out.Abort()
	}
}

// removeStaleTemps deletes temporaries of path left by processes that no
// longer exist (a SIGKILLed run); the names are internal/outfile's.
func removeStaleTemps(path string) { outfile.RemoveStaleTemps(path) }

// globEscape quotes the pattern characters of a literal path.
func globEscape(s string) string { return outfile.GlobEscape(s) }
