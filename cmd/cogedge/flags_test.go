package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestHelpToStdout: every command's --help goes to stdout, starts with a
// synopsis line and exits 0.
func TestHelpToStdout(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			var so, se bytes.Buffer
			if code := run([]string{name, "--help"}, &so, &se); code != 0 {
				t.Fatalf("exit %d, stderr %q", code, se.String())
			}
			if !strings.HasPrefix(so.String(), "Usage: cogedge "+name+" ") || !strings.Contains(so.String(), "--") {
				t.Errorf("stdout %q: want a synopsis line and the flags", so.String())
			}
			if se.Len() != 0 {
				t.Errorf("stderr %q, want nothing", se.String())
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		var so, se bytes.Buffer
		if code := run(args, &so, &se); code != 0 || !strings.HasPrefix(so.String(), "cogedge ") || !strings.Contains(so.String(), "go1.") {
			t.Errorf("%v: exit %d, stdout %q", args, code, so.String())
		}
	}
}

// TestFlagValues: out-of-range values are refused with a message naming
// the flag, before the model loads (the model path does not exist).
func TestFlagValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--top-p", "2"}, "--top-p 2"},
		{[]string{"--top-p", "0"}, "--top-p 0"},
		{[]string{"--top-k", "-5"}, "--top-k -5"},
		{[]string{"--repeat-penalty", "0"}, "--repeat-penalty 0"},
		{[]string{"--temp", "-1"}, "--temp -1"},
		{[]string{"--temp", "NaN"}, "--temp NaN"},
		{[]string{"-n", "0"}, "-n 0"},
		{[]string{"-n", "-2"}, "-n -2"},
		{[]string{"--repeat-last-n", "-3"}, "--repeat-last-n -3"},
		{[]string{"-t", "1000"}, "--threads 1000: want 1 to"},
		{[]string{"-t", "0"}, "--threads 0"},
		{[]string{"-c", "-1"}, "--ctx-size -1"},
		{[]string{"--kv-type", "q8_0"}, `--kv-type "q8_0"`},
		{[]string{"-sys", "You are helpful"}, "no system prompt"},
		{[]string{"--history", "[[\"q\"]]"}, "turn 0 has 1 strings"},
		{[]string{"--history", "missing.json"}, "missing.json"},
		{[]string{"--image", "missing.png"}, "missing.png"},
	} {
		for _, cmd := range []string{"run", "chat", "ground"} {
			if cmd == "ground" && (tc.args[0] == "--history") {
				continue
			}
			args := append([]string{cmd, "-m", "no-such-model.gguf", "-p", "q"}, tc.args...)
			if cmd == "ground" && tc.args[0] != "--image" {
				args = append(args, "--image", chelsea)
			}
			var so, se bytes.Buffer
			code := run(args, &so, &se)
			if code == 0 || !strings.Contains(se.String(), tc.want) || strings.Contains(se.String(), "no-such-model") {
				t.Errorf("%v: exit %d, stderr %q; want a refusal containing %q before the model is opened", args, code, se.String(), tc.want)
			}
		}
	}
}

// TestLlamaFlags: llama.cpp's -ngl, -cnv, -sys are read as such (pflag
// alone reads -ngl as -n -g -l) and either work or say what to do.
func TestLlamaFlags(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.IntP("n-predict", "n", 0, "")
	fs.StringP("prompt", "p", "", "")
	fs.Int("n-gpu-layers", 0, "")
	got := rewriteLlamaFlags(fs, []string{"-ngl", "99", "-p", "-ngl", "-n", "5", "-sys=x", "--", "-cnv"})
	want := []string{"--n-gpu-layers", "99", "-p", "-ngl", "-n", "5", "--system-prompt=x", "--", "-cnv"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rewrite = %q, want %q", got, want)
	}

	var so, se bytes.Buffer
	code := run([]string{"run", "-m", tinyQ8, "-ngl", "99", "-p", "Hi", "-n", "2", "--temp", "0"}, &so, &se)
	if code != 0 || !strings.Contains(se.String(), "-ngl 99 ignored") || so.Len() == 0 {
		t.Errorf("-ngl: exit %d, stderr %q, stdout %q", code, se.String(), so.String())
	}
	// -cnv turns run into chat (questions from stdin)
	old := stdin
	defer func() { stdin = old }()
	stdin = strings.NewReader("Hi\n")
	var chatOut bytes.Buffer
	se.Reset()
	if code := run([]string{"run", "-cnv", "-m", tinyQ8, "-n", "2", "--temp", "0"}, &chatOut, &se); code != 0 {
		t.Fatalf("-cnv: exit %d: %s", code, se.String())
	}
	so.Reset()
	run([]string{"run", "-m", tinyQ8, "-p", "Hi", "-n", "2", "--temp", "0"}, &so, &se)
	if chatOut.String() != so.String() {
		t.Errorf("run -cnv answered %q to Hi, run -p Hi %q", chatOut.String(), so.String())
	}
}
