package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/cogedge/cogedge/internal/shapes"
)

// TestDataset writes a small dataset and reads it back as the training
// script does: one line per picture, every question type, prompt and answer
// ids, the answer ending with EOS, and the PNG files present.
func TestDataset(t *testing.T) {
	dir := t.TempDir()
	if err := run([]string{"--seed", "4", "-n", "3", "--first", "10", "-o", dir,
		"--tokenizer", "../../testdata/tokenizer/llama2-tokenizer.json.zst"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "data.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var p pictureLine
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		want := shapes.Generate(4, 10+uint64(n))
		if p.Index != 10+uint64(n) || len(p.Shapes) != len(want.Shapes) || len(p.Questions) != len(shapes.Types) {
			t.Fatalf("line %d: %+v", n, p)
		}
		if _, err := os.Stat(filepath.Join(dir, p.Image)); err != nil {
			t.Fatal(err)
		}
		for _, q := range p.Questions {
			// "Question: … Answer:" is 894, 29901 … 673, 29901 in LLaMA-2's vocabulary
			pi := q.PromptIDs
			if len(pi) < 5 || pi[0] != 894 || pi[1] != 29901 || pi[len(pi)-2] != 673 || pi[len(pi)-1] != 29901 {
				t.Errorf("%q: prompt ids %v", q.Question, pi)
			}
			if a := q.AnswerIDs; len(a) < 2 || a[len(a)-1] != 2 {
				t.Errorf("%q: answer ids %v do not end with EOS", q.Answer, a)
			}
		}
		n++
	}
	if n != 3 {
		t.Fatalf("%d lines, want 3", n)
	}
	if err := run([]string{"-n", "1"}, io.Discard, io.Discard); err == nil {
		t.Error("no error without -o")
	}
}
