package converter

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/quant"
)

// TestOutputNeverReplaced: a symlink as OUT is written through (the link
// stays), a folder is refused before the work, and /dev/null is written in
// place (it had been replaced by a regular file when the process could).
func TestOutputNeverReplaced(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.gguf")
	link := filepath.Join(dir, "link.gguf")
	if err := os.Symlink("real.gguf", link); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(real, nil, 0o644)
	opt := Options{Input: tinyHF, Tokenizer: llamaVocab, Output: link, Type: quant.Q8_0, Threads: 2}
	if err := Convert(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v", err)
	}
	f, err := gguf.Open(real)
	if err != nil {
		t.Fatalf("the link's target: %v", err)
	}
	f.Close()

	opt.Output = dir
	if err := Convert(context.Background(), opt); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("folder as OUT: %v", err)
	}
	opt.Output = os.DevNull
	if err := Convert(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(os.DevNull); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is no longer a device", os.DevNull)
	}
}
