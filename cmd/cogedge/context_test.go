package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestContextLimit: the context defaults to the model's trained length
// (2048 for the tiny model), a longer prompt is refused with the numbers
// (a 100,000-character prompt grew the KV cache to 20,007 slots), -c is
// never exceeded, and a single answer allocates only what it can use.
func TestContextLimit(t *testing.T) {
	long := strings.Repeat("cat ", 25000)
	var so, se bytes.Buffer
	code := run([]string{"run", "-m", tinyQ8, "-p", long, "-n", "4"}, &so, &se)
	if code == 0 || !regexp.MustCompile(`the prompt needs \d+ slots .* but the context holds 2048`).MatchString(se.String()) {
		t.Errorf("100,000-char prompt: exit %d, stderr %q; want a refusal naming the context of 2048", code, se.String())
	}
	se.Reset()
	code = run([]string{"run", "-m", tinyQ8, "--image", chelsea, "-p", "Hi", "-c", "10"}, &so, &se)
	if code == 0 || !strings.Contains(se.String(), "the context holds 10") || !strings.Contains(se.String(), "raise -c") {
		t.Errorf("-c 10 with an image: exit %d, stderr %q", code, se.String())
	}
	contextOf := func(args ...string) int {
		t.Helper()
		var so, se bytes.Buffer
		if code := run(append([]string{"run", "-m", tinyQ8, "--verbose", "--temp", "0"}, args...), &so, &se); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, se.String())
		}
		m := regexp.MustCompile(`context (\d+)\)`).FindStringSubmatch(se.String())
		if m == nil {
			t.Fatalf("no context size in %q", se.String())
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	// BOS + "Question: Hi Answer:" (5 tokens) + 5 to generate
	if got := contextOf("-p", "Hi", "-n", "5"); got != 1+5+5 {
		t.Errorf("run -n 5: context of %d slots, want the 11 it can use", got)
	}
	if got := contextOf("-p", "Hi", "-n", "5000"); got != 2048 {
		t.Errorf("run -n 5000: context of %d, want the model's 2048", got)
	}
	if got := contextOf("-p", "Hi", "-n", "5000", "-c", "100"); got != 100 {
		t.Errorf("run -n 5000 -c 100: context of %d, want 100", got)
	}
}

// TestUntilEnd: -n -1 generates until EOS or the end of the context, as in
// llama.cpp.
func TestUntilEnd(t *testing.T) {
	var so, se bytes.Buffer
	if code := run([]string{"run", "-m", tinyQ8, "-p", "Hi", "-n", "-1", "-c", "40", "--temp", "0"}, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	if !strings.Contains(se.String(), "the context of 40 slots is full") {
		t.Fatalf("stderr %q: want the stop at the end of the context", se.String())
	}
	// 6 prompt slots + 34 generated tokens fed back = 40, and the last
	// one sampled: the answer of -n 35
	if want := runAnswer35(t); so.String() != want {
		t.Errorf("-n -1 -c 40 answered %q, -n 35 %q", so.String(), want)
	}
}

func runAnswer35(t *testing.T) string {
	t.Helper()
	var so, se bytes.Buffer
	if code := run([]string{"run", "-m", tinyQ8, "-p", "Hi", "-n", "35", "--temp", "0"}, &so, &se); code != 0 {
		t.Fatal(se.String())
	}
	if strings.Contains(se.String(), "full") {
		t.Fatal(se.String())
	}
	var longer bytes.Buffer
	run([]string{"run", "-m", tinyQ8, "-p", "Hi", "-n", "36", "--temp", "0"}, &longer, &se)
	if longer.String() == so.String() {
		t.Fatal("-n 36 gives the -n 35 answer: the comparison would not tell the lengths apart")
	}
	return so.String()
}
