package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var demoModel = filepath.Join("..", "..", "testdata", "shapes-demo.gguf.zst")

// TestDemoShow runs `cogedge demo` on the shipped model: the picture is
// saved where --out says, and every question type is asked and graded.
// (The accuracy bars are internal/demo's tests.)
func TestDemoShow(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pic.png")
	var stdout, stderr bytes.Buffer
	if err := demoCmd([]string{"-m", demoModel, "--out", out, "-t", "2"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if st, err := os.Stat(out); err != nil || st.Size() < 1000 {
		t.Fatalf("picture not written: %v", err)
	}
	s := stdout.String()
	if !strings.Contains(s, "picture: "+out) {
		t.Errorf("output does not name the picture:\n%s", s)
	}
	if n := strings.Count(s, "\nQ: "); n != 6 {
		t.Errorf("%d questions, want one of each of the 6 types:\n%s", n, s)
	}
	if !regexp.MustCompile(`\n[0-6] of 6 right\n$`).MatchString(s) {
		t.Errorf("no summary line:\n%s", s)
	}
}

// TestDemoEval: --eval prints one accuracy row per question type, overall
// and the grounding IoU.
func TestDemoEval(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := demoCmd([]string{"-m", demoModel, "--eval", "2", "--seed", "77", "-t", "2"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	s := stdout.String()
	for _, row := range []string{"shapes", "colour", "count", "exists", "where", "ground", "overall"} {
		if !regexp.MustCompile(`(?m)^` + row + ` +[0-9]+ +[0-9.]+%`).MatchString(s) {
			t.Errorf("no %s row:\n%s", row, s)
		}
	}
	if !strings.Contains(s, "mean IoU") || !strings.Contains(s, "2 pictures of seed 77") {
		t.Errorf("missing IoU or header:\n%s", s)
	}
}

func TestDemoUsage(t *testing.T) {
	for _, args := range [][]string{{"--eval", "-1"}, {"extra"}, {"-t", "0"}} {
		var o, e bytes.Buffer
		if err := demoCmd(append([]string{"-m", demoModel}, args...), &o, &e); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	var o, e bytes.Buffer
	if err := demoCmd([]string{"-m", filepath.Join(t.TempDir(), "missing.gguf")}, &o, &e); err == nil {
		t.Error("missing model: no error")
	}
}
