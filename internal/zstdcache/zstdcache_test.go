package zstdcache

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

func writeZst(t *testing.T, path string, data []byte) {
	t.Helper()
	var b bytes.Buffer
	w, err := zstd.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	data := bytes.Repeat([]byte("GGUF payload 0123456789 "), 100000)

	tests := []struct {
		name, file string
		setup      func(path string)
		wantSame   bool // Open returns the path unchanged
	}{
		{"plain file", "m.gguf", func(p string) { os.WriteFile(p, data, 0o644) }, true},
		{"missing plain file is returned as is", "absent.gguf", func(string) {}, true},
		{"compressed", "m.gguf.zst", func(p string) { writeZst(t, p, data) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.file)
			tc.setup(p)
			got, err := Open(p, cache)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantSame {
				if got != p {
					t.Fatalf("Open(%s) = %s, want the path unchanged", p, got)
				}
				return
			}
			if filepath.Dir(got) != cache || filepath.Ext(got) != ".gguf" {
				t.Fatalf("cache path %s", got)
			}
			b, err := os.ReadFile(got)
			if err != nil || !bytes.Equal(b, data) {
				t.Fatalf("cached copy differs (%v)", err)
			}
			// A second open reuses the cache file without rewriting it.
			st1, _ := os.Stat(got)
			again, err := Open(p, cache)
			st2, _ := os.Stat(again)
			if err != nil || again != got || !st1.ModTime().Equal(st2.ModTime()) {
				t.Fatalf("second Open = %s, %v (modtime %v → %v)", again, err, st1.ModTime(), st2.ModTime())
			}
			// A replaced file gets a new cache entry.
			writeZst(t, p, append(data, "more"...))
			os.Chtimes(p, time.Now().Add(time.Hour), time.Now().Add(time.Hour))
			third, err := Open(p, cache)
			if err != nil || third == got {
				t.Fatalf("after replacing the file: %s, %v", third, err)
			}
			if b, _ := os.ReadFile(third); !bytes.Equal(b, append(data, "more"...)) {
				t.Fatal("new cache entry has the old content")
			}
		})
	}
}

func TestOpenCorrupt(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	p := filepath.Join(dir, "bad.gguf.zst")
	os.WriteFile(p, []byte("this is not zstd data at all"), 0o644)
	if _, err := Open(p, cache); err == nil {
		t.Fatal("corrupt file accepted")
	}
	ents, _ := os.ReadDir(cache)
	if len(ents) != 0 {
		t.Fatalf("corrupt input left %d files in the cache", len(ents))
	}
}

func TestStaleTemporariesRemoved(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, ".x.gguf.tmp-")
	dead := prefix + "999999999-abc" // no such process
	live := prefix + strconv.Itoa(os.Getpid()) + "-abc"
	os.WriteFile(dead, nil, 0o644)
	os.WriteFile(live, nil, 0o644)
	removeStale(prefix)
	if _, err := os.Stat(dead); err == nil {
		t.Error("temporary of a dead process kept")
	}
	if _, err := os.Stat(live); err != nil {
		t.Error("temporary of a live process removed")
	}
}
