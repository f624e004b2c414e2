package outfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// entries lists a folder's names, hidden temporaries included.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRegularFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	o, err := Create(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(o, "new"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("destination exists before Commit: %v", err)
	}
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != "new" {
		t.Errorf("content %q", got)
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("folder holds %v, want only out.bin", got)
	}
	// an existing file is replaced and keeps its permissions
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("newer"), Options{}); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if got := readString(t, path); got != "newer" || st.Mode().Perm() != 0o600 {
		t.Errorf("content %q mode %v, want \"newer\" -rw-------", got, st.Mode())
	}
}

func TestAbortKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := Create(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(o, "half")
	o.Abort()
	o.Abort()
	if got := readString(t, path); got != "old" {
		t.Errorf("content %q after Abort, want the old file", got)
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("folder holds %v after Abort, want only out.bin", got)
	}
	if err := o.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
}

func TestSymlinkWrittenThrough(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.bin")
	link := filepath.Join(dir, "link.bin")
	if err := os.WriteFile(real, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.bin", link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("new"), Options{}); err != nil {
		t.Fatal(err)
	}
	li, err := os.Lstat(link)
	if err != nil || li.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", li.Mode(), err)
	}
	if got := readString(t, real); got != "new" {
		t.Errorf("target holds %q, want new", got)
	}
	// a dangling link is refused and kept
	dangling := filepath.Join(dir, "dangling")
	os.Symlink("missing/x", dangling)
	if err := WriteFile(dangling, []byte("x"), Options{}); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("dangling symlink: err %v, want a refusal naming the symlink", err)
	}
	if li, err := os.Lstat(dangling); err != nil || li.Mode()&os.ModeSymlink == 0 {
		t.Error("the dangling link was replaced")
	}
}

func TestDeviceWrittenInPlace(t *testing.T) {
	if err := WriteFile(os.DevNull, []byte("discarded"), Options{}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(os.DevNull)
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is no longer a character device: %v %v", os.DevNull, st.Mode(), err)
	}
	// a FIFO: the bytes reach its reader and the FIFO stays
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan string)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	if err := WriteFile(fifo, []byte("through the pipe"), Options{}); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the pipe" {
		t.Errorf("reader got %q", s)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", st.Mode(), err)
	}
	if got := entries(t, filepath.Dir(fifo)); len(got) != 1 {
		t.Errorf("folder holds %v, want only the FIFO", got)
	}
}

func TestStdout(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := WriteFile("-", []byte("x"), Options{}); err == nil {
		t.Error(`"-" accepted without Options.Stdout`)
	}
	var buf bytes.Buffer
	if err := WriteFile("-", []byte("to stdout"), Options{Stdout: &buf}); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "to stdout" {
		t.Errorf("stdout got %q", buf.String())
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("files created: %v", got)
	}
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.gguf.zst")
	os.WriteFile(in, []byte("precious"), 0o644)
	hard := filepath.Join(dir, "hard")
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	soft := filepath.Join(dir, "soft")
	os.Symlink("in.gguf.zst", soft)
	for _, tc := range []struct {
		name, path string
		opt        Options
		want       string
	}{
		{"folder", dir, Options{}, "is a folder"},
		{"same file", in, Options{Inputs: []string{in}}, "is also an input"},
		{"other spelling", dir + "/./in.gguf.zst", Options{Inputs: []string{in}}, "is also an input"},
		{"hard link", hard, Options{Inputs: []string{in}}, "is also an input"},
		{"symlink to the input", soft, Options{Inputs: []string{in}}, "is also an input"},
		{"missing folder", filepath.Join(dir, "no", "out"), Options{}, "no such file"},
		{"empty", "", Options{}, "empty output path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.path, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check: %v, want an error containing %q", err, tc.want)
			}
			if _, err := Create(tc.path, tc.opt); err == nil {
				t.Fatal("Create accepted it")
			}
		})
	}
	if got := readString(t, in); got != "precious" {
		t.Errorf("input changed to %q", got)
	}
	if got := entries(t, dir); len(got) != 3 {
		t.Errorf("folder holds %v", got)
	}
}

func TestZstd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.gguf.zst")
	data := bytes.Repeat([]byte("GGUF weights "), 10000)
	if err := WriteFile(path, data, Options{Zstd: true}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if len(raw) >= len(data) || !bytes.HasPrefix(raw, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		t.Fatalf("%d bytes from %d, first bytes % x: not a zstd frame", len(raw), len(data), raw[:4])
	}
	dec, _ := zstd.NewReader(nil)
	got, err := dec.DecodeAll(raw, nil)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("decompressed %d bytes (err %v), want the %d written", len(got), err, len(data))
	}
}

func TestStaleTempsRemoved(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid // exited and reaped: no process has this id now (short of reuse)
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	stale := tempPrefix(path) + strconv.Itoa(dead) + "-abc"
	live := tempPrefix(path) + strconv.Itoa(os.Getpid()) + "-abc"
	other := filepath.Join(dir, ".other.tmp-"+strconv.Itoa(dead)+"-abc")
	for _, p := range []string{stale, live, other} {
		os.WriteFile(p, nil, 0o644)
	}
	if err := WriteFile(path, []byte("x"), Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Error("the dead process's temporary file is still there")
	}
	for _, p := range []string{live, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", filepath.Base(p), err)
		}
	}
}
