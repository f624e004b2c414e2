package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/cogedge/cogedge/internal/zstdcache"
)

// mappable returns a path that can be memory-mapped for a model file the
// user named: the path itself, or for a distributed ".gguf.zst" the
// decompressed copy in the cache folder (decompressed once, streaming;
// later runs reuse it). Set COGEDGE_CACHE to choose the folder.
func mappable(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	if strings.HasSuffix(path, ".zst") {
		defer startWait("decompressing " + filepath.Base(path) + " (once; later runs reuse the copy)").end()
	}
	return zstdcache.Open(path, cacheDir())
}

func cacheDir() string { return os.Getenv("COGEDGE_CACHE") }
