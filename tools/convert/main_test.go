package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		wantStatus int
		wantOut    string // substring of stdout+stderr
		wantFile   string // file that must exist afterwards
	}{
		{"no output", []string{"-i", "x"}, 2, "-o OUT.gguf is required", ""},
		{"no input", []string{"-o", filepath.Join(dir, "a.gguf")}, 2, "-i HF_DIR", ""},
		{"stray argument", []string{"-i", "x", "-o", "y", "z"}, 2, "unexpected arguments", ""},
		{"bad vision type", []string{"--synthetic", "tiny", "-o", filepath.Join(dir, "b.gguf"), "--vision-type", "q9_9"}, 2, "unknown type", ""},
		{"bad mix", []string{"--synthetic", "tiny", "-o", filepath.Join(dir, "c.gguf"), "-t", "q3_k_l"}, 2, "unknown type", ""},
		{"bad preset", []string{"--synthetic", "huge", "-o", filepath.Join(dir, "d.gguf")}, 1, "unknown synthetic preset", ""},
		{"missing folder", []string{"-i", filepath.Join(dir, "nope"), "-o", filepath.Join(dir, "e.gguf")}, 1, "config", ""},
		{"help", []string{"--help"}, 0, "--split-mmproj", ""},
		{"synthetic", []string{"--synthetic", "tiny", "-t", "q8_0", "--vision-type", "f16", "-o", filepath.Join(dir, "f.gguf")}, 0, "wrote", filepath.Join(dir, "f.gguf")},
		{"convert split", []string{"-i", "../../testdata/cogvlm-tiny/hf", "--no-tokenizer", "-t", "q4_0", "--split-mmproj", "-o", filepath.Join(dir, "g.gguf")}, 0, "mmproj-g.gguf", filepath.Join(dir, "mmproj-g.gguf")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			st := run(context.Background(), tc.args, &out, &errb, false)
			all := out.String() + errb.String()
			if st != tc.wantStatus || !strings.Contains(all, tc.wantOut) {
				t.Fatalf("status %d, output %q; want %d and %q", st, all, tc.wantStatus, tc.wantOut)
			}
			if tc.wantFile != "" {
				if _, err := os.Stat(tc.wantFile); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
