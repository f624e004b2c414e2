// Package outfile writes a command's output file without ever destroying
// what it should not: an input, a device node, a symlink, a folder.
//
// A regular destination is written to a hidden temporary file in its folder
// (".<name>.tmp-<pid>-<random>") that replaces it only once complete and
// synced, so an error or an interruption leaves the old file (or nothing);
// temporaries left by killed processes are removed by the next write to the
// same destination. A symlink is followed and its target written the same
// way, the link itself kept. A device node, FIFO or socket (/dev/null,
// /dev/stdout) is opened and written in place, never replaced. "-" means
// standard output where the caller allows it. An existing folder, a file
// that is also an input, and a symlink to nothing are refused by Check,
// before any work.
package outfile

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/klauspost/compress/zstd"
)

// Options says what a destination must not be and how to write it.
type Options struct {
	// Inputs are files the command reads: the destination must not be one
	// of them (compared as files, so links and other spellings count).
	Inputs []string
	// Stdout receives the bytes when the path is "-"; when nil, "-" is
	// refused instead of creating a file named "-".
	Stdout io.Writer
	// Zstd compresses what is written (a zstd frame readable by the
	// standard zstd tool).
	Zstd bool
}

// ErrSameAsInput is wrapped by the error for a destination that is also an
// input.
var ErrSameAsInput = errors.New("is also an input")

// ErrIsFolder is wrapped by the error for a destination that is a folder.
var ErrIsFolder = errors.New("is a folder")

// target is where the bytes of a destination go.
type target struct {
	stdout  bool
	path    string // the file to write: the destination, or a symlink's target
	inPlace bool   // not a regular file: open and write it, never replace it
	mode    os.FileMode
}

// Check reports, without writing anything, whether path can be a
// destination under opt. Create runs the same checks; commands call Check
// first so that a bad destination is reported before hours of work.
func Check(path string, opt Options) error {
	_, err := resolve(path, opt)
	return err
}

func resolve(path string, opt Options) (target, error) {
	if path == "" {
		return target{}, errors.New("empty output path")
	}
	if path == "-" {
		if opt.Stdout == nil {
			return target{}, errors.New(`output "-": this command cannot write to standard output; name a file`)
		}
		return target{stdout: true}, nil
	}
	t := target{path: path, mode: 0o644}
	li, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		dir := filepath.Dir(path)
		if st, err := os.Stat(dir); err != nil {
			return target{}, fmt.Errorf("output %s: folder %s: %w", path, dir, err)
		} else if !st.IsDir() {
			return target{}, fmt.Errorf("output %s: %s is not a folder", path, dir)
		}
		return t, nil
	case err != nil:
		return target{}, fmt.Errorf("output %s: %w", path, err)
	}
	if li.Mode()&os.ModeSymlink != 0 {
		resolved, err := filepath.EvalSymlinks(path)
		if err != nil {
			return target{}, fmt.Errorf("output %s: a symlink whose target cannot be reached (%w); not replacing the link", path, err)
		}
		t.path = resolved
	}
	st, err := os.Stat(t.path)
	if err != nil {
		return target{}, fmt.Errorf("output %s: %w", path, err)
	}
	switch {
	case st.IsDir():
		return target{}, fmt.Errorf("output %s %w: name a file", path, ErrIsFolder)
	case st.Mode().IsRegular():
		t.mode = st.Mode().Perm()
	default:
		t.inPlace = true
	}
	for _, in := range opt.Inputs {
		if in == "" || in == "-" {
			continue
		}
		if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) && !t.inPlace {
			return target{}, fmt.Errorf("output %s %w (%s): choose another name", path, ErrSameAsInput, in)
		}
	}
	return t, nil
}

// File is a destination being written. Write what it should hold, then
// Commit; Abort (safe after Commit, and to call twice) drops it.
type File struct {
	name  string // the destination as given, for messages
	t     target
	f     *os.File // the temporary file or the node written in place
	tmp   string   // the temporary file's path, when there is one
	bw    *bufio.Writer
	enc   *zstd.Encoder
	w     io.Writer // what Write writes to
	done  bool
	wrote error // first write error
}

// Create checks path (see Check) and opens it for writing.
func Create(path string, opt Options) (*File, error) {
	t, err := resolve(path, opt)
	if err != nil {
		return nil, err
	}
	o := &File{name: path, t: t}
	var dst io.Writer
	switch {
	case t.stdout:
		dst = opt.Stdout
	case t.inPlace:
		if o.f, err = os.OpenFile(t.path, os.O_WRONLY, 0); err != nil {
			return nil, fmt.Errorf("output %s: %w", path, err)
		}
		dst = o.f
	default:
		RemoveStaleTemps(t.path)
		var rnd [6]byte
		_, _ = rand.Read(rnd[:]) // crypto/rand never fails on supported platforms
		o.tmp = tempPrefix(t.path) + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(rnd[:])
		if o.f, err = os.OpenFile(o.tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return nil, fmt.Errorf("output %s: %w", path, err)
		}
		dst = o.f
	}
	o.bw = bufio.NewWriterSize(dst, 1<<20)
	o.w = o.bw
	if opt.Zstd {
		if o.enc, err = zstd.NewWriter(o.bw, zstd.WithEncoderLevel(zstd.SpeedBetterCompression)); err != nil {
			o.Abort()
			return nil, fmt.Errorf("output %s: zstd: %w", path, err)
		}
		o.w = o.enc
	}
	return o, nil
}

// Name is the destination as the caller gave it.
func (o *File) Name() string { return o.name }

// Write writes p to the destination (compressed with Options.Zstd).
func (o *File) Write(p []byte) (int, error) {
	if o.done {
		return 0, fmt.Errorf("output %s: write after Commit or Abort", o.name)
	}
	n, err := o.w.Write(p)
	if err != nil {
		err = fmt.Errorf("output %s: %w", o.name, err)
		if o.wrote == nil {
			o.wrote = err
		}
	}
	return n, err
}

// Commit completes the destination: flushes it and, for a regular file,
// syncs the temporary file and renames it into place. On error the
// temporary file is removed and the old destination kept.
func (o *File) Commit() error {
	if o.done {
		return fmt.Errorf("output %s: Commit after Commit or Abort", o.name)
	}
	err := o.wrote
	if err == nil && o.enc != nil {
		err = o.enc.Close()
	}
	if err == nil {
		err = o.bw.Flush()
	}
	if err == nil && o.tmp != "" {
		err = o.finishTemp()
	} else if o.f != nil {
		if cerr := o.f.Close(); err == nil {
			err = cerr
		}
		o.f = nil
	}
	if err != nil {
		o.Abort()
		return fmt.Errorf("output %s: %w", o.name, err)
	}
	o.done = true
	return nil
}

func (o *File) finishTemp() error {
	if err := o.f.Chmod(o.t.mode); err != nil {
		return err
	}
	if err := o.f.Sync(); err != nil {
		return err
	}
	err := o.f.Close()
	o.f = nil
	if err != nil {
		return err
	}
	if err := os.Rename(o.tmp, o.t.path); err != nil {
		return err
	}
	o.tmp = ""
	if d, err := os.Open(filepath.Dir(o.t.path)); err == nil {
		_ = d.Sync() // best effort: makes the rename durable where directories can be synced
		d.Close()
	}
	return nil
}

// Abort drops the output: the temporary file is removed and the
// destination left as it was (bytes already written to a device or to
// standard output stay written). It does nothing after Commit.
func (o *File) Abort() {
	if o.done {
		return
	}
	o.done = true
	if o.enc != nil {
		o.enc.Close()
	}
	if o.f != nil {
		o.f.Close()
		o.f = nil
	}
	if o.tmp != "" {
		os.Remove(o.tmp)
		o.tmp = ""
	}
}

// WriteFile writes data to path under opt in one call.
func WriteFile(path string, data []byte, opt Options) error {
	o, err := Create(path, opt)
	if err != nil {
		return err
	}
	if _, err := o.Write(data); err != nil {
		o.Abort()
		return err
	}
	return o.Commit()
}

// tempPrefix is the name every temporary file of path starts with.
func tempPrefix(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
}

// RemoveStaleTemps deletes the temporaries of path (named as Create names
// them, ".<name>.tmp-<pid>-…") whose process is gone (a killed run); those
// of live processes may belong to a concurrent write.
func RemoveStaleTemps(path string) {
	prefix := tempPrefix(path)
	matches, _ := filepath.Glob(GlobEscape(prefix) + "*")
	for _, m := range matches {
		pidStr, _, ok := strings.Cut(strings.TrimPrefix(m, prefix), "-")
		if !ok {
			continue
		}
		if pid, err := strconv.Atoi(pidStr); err == nil && pid > 0 && !processAlive(pid) {
			os.Remove(m)
		}
	}
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// GlobEscape quotes the pattern characters of a literal path.
func GlobEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
