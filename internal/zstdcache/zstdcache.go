// Package zstdcache lets memory-mapping code open zstd-compressed files:
// a ".zst" path is decompressed once, streaming, into a cache file that can
// be mapped, and later opens of the same compressed file reuse it.
//
// The cache file is keyed by the compressed file's size, modification time
// and a SHA-256 of its first megabyte, so a replaced download is
// decompressed again. It is written to a temporary file in the cache folder
// and renamed when complete: a cache file that exists is whole.
package zstdcache

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
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

// Ext is the suffix of the files Open decompresses.
const Ext = ".zst"

// prefixBytes is how much of the compressed file enters the cache key.
const prefixBytes = 1 << 20

// DefaultDir returns the cache folder used when Open gets "": the user's
// cache folder + "/cogedge" (for example ~/.cache/cogedge), else the
// system temporary folder + "/cogedge-cache".
func DefaultDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "cogedge")
	}
	return filepath.Join(os.TempDir(), "cogedge-cache")
}

// Open returns a path that can be memory-mapped for path: path itself
// unless it ends in ".zst", in which case the decompressed copy in cacheDir
// ("" = DefaultDir()), decompressing it first if it is not cached yet.
func Open(path, cacheDir string) (realPath string, err error) {
	if !strings.HasSuffix(path, Ext) {
		return path, nil
	}
	if cacheDir == "" {
		cacheDir = DefaultDir()
	}
	in, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("zstdcache: %w", err)
	}
	defer in.Close()
	key, err := cacheKey(in)
	if err != nil {
		return "", fmt.Errorf("zstdcache: %s: %w", path, err)
	}
	base := strings.TrimSuffix(filepath.Base(path), Ext)
	ext := filepath.Ext(base)
	dst := filepath.Join(cacheDir, strings.TrimSuffix(base, ext)+"-"+key+ext)
	if st, err := os.Stat(dst); err == nil && st.Mode().IsRegular() {
		return dst, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("zstdcache: %w", err)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("zstdcache: %s: %w", path, err)
	}
	if err := decompressTo(in, dst); err != nil {
		return "", fmt.Errorf("zstdcache: %s: %w", path, err)
	}
	return dst, nil
}

// cacheKey hashes the size, modification time and first megabyte of f.
func cacheKey(f *os.File) (string, error) {
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	var meta [16]byte
	binary.LittleEndian.PutUint64(meta[:8], uint64(st.Size()))
	binary.LittleEndian.PutUint64(meta[8:], uint64(st.ModTime().UnixNano()))
	h.Write(meta[:])
	if _, err := io.Copy(h, io.LimitReader(f, prefixBytes)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)[:8]), nil
}

// decompressTo streams the zstd data of r into dst via a temporary file.
func decompressTo(r io.Reader, dst string) (err error) {
	prefix := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-")
	removeStale(prefix)
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	tmp := prefix + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(rnd[:])
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	dec, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return err
	}
	defer dec.Close()
	if _, err := io.Copy(f, dec); err != nil {
		return fmt.Errorf("decompressing: %w", err)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// removeStale deletes temporaries with this prefix whose writer process is
// gone.
func removeStale(prefix string) {
	dir := filepath.Dir(prefix)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	base := filepath.Base(prefix)
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), base)
		if !ok {
			continue
		}
		pidStr, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil || pid <= 0 || alive(pid) {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
