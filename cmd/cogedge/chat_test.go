package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var coffee = filepath.Join("..", "..", "testdata", "images", "photo_coffee.png")

// runAnswer is the answer `cogedge run` prints for args (greedy, 12 tokens).
func runAnswer(t *testing.T, args ...string) string {
	t.Helper()
	var so, se bytes.Buffer
	args = append([]string{"run", "-m", tinyQ8, "--temp", "0", "-n", "12", "--no-image-cache"}, args...)
	if code := run(args, &so, &se); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, se.String())
	}
	return so.String()
}

// TestChatPiped drives chat through a stdin pipe and checks every answer
// against `cogedge run` given the same picture and history: the history
// is in the template, multi-line questions arrive whole, /save writes the
// turns, /reset forgets them, /image switches the picture; nothing but
// answers reaches stdout and no prompt is echoed.
func TestChatPiped(t *testing.T) {
	dir := t.TempDir()
	saved := filepath.Join(dir, "history.json")
	q1, q2 := "What is in the image?", "Which colour\nis it?"
	input := q1 + "\n" +
		`"""` + "\nWhich colour\nis it?\n" + `"""` + "\n" +
		"/save " + saved + "\n" +
		"/reset\n" +
		q1 + "\n" +
		"What is in\\\nthe image?\n" + // a continued line
		"/image " + coffee + "\n" +
		q1 + "\n"
	old := stdin
	defer func() { stdin = old }()
	stdin = strings.NewReader(input)
	var so, se bytes.Buffer
	code := run([]string{"chat", "-m", tinyQ8, "--image", chelsea, "--temp", "0", "-n", "12", "--no-image-cache"}, &so, &se)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	a1 := runAnswer(t, "--image", chelsea, "-p", q1)
	hist, _ := json.Marshal([][2]string{{q1, strings.TrimSuffix(a1, "\n")}})
	a2 := runAnswer(t, "--image", chelsea, "--history", string(hist), "-p", q2)
	a3 := runAnswer(t, "--image", chelsea, "--history", string(hist), "-p", "What is in\nthe image?")
	a4 := runAnswer(t, "--image", coffee, "-p", q1)
	if a1 == a4 {
		t.Fatal("the two pictures give the same answer: the /image check would prove nothing")
	}
	if want := a1 + a2 + a1 + a3 + a4; so.String() != want {
		t.Errorf("chat stdout:\n%q\nwant (run's answers):\n%q", so.String(), want)
	}
	if strings.Contains(se.String(), "> ") {
		t.Errorf("prompt echoed with piped stdin: %q", se.String())
	}
	var turns [][2]string
	js, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &turns); err != nil {
		t.Fatal(err)
	}
	if len(turns) != 2 || turns[0][0] != q1 || turns[1][0] != q2 || turns[1][1]+"\n" != a2 {
		t.Errorf("saved history %q", turns)
	}
	// the saved file is a --history file
	if got := runAnswer(t, "--image", chelsea, "--history", saved, "-p", "And now?"); got != runAnswer(t, "--image", chelsea, "--history", string(js), "-p", "And now?") {
		t.Error("--history FILE and the same JSON as text give different answers")
	}
}

// TestChatCtrlC signals a real chat process: Ctrl-C during an answer
// stops it (the part said stays in the conversation) and returns to the
// prompt; at the prompt a first Ctrl-C warns and a second one exits.
func TestChatCtrlC(t *testing.T) {
	dir := t.TempDir()
	saved := filepath.Join(dir, "h.json")
	cmd := cogedgeProcess(t, "chat", "-m", tinyQ8, "--image", chelsea, "--temp", "0", "-n", "-1", "--no-image-cache")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var se syncBuffer
	cmd.Stderr = &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	stdout := bufio.NewReader(out)
	io.WriteString(in, "What is in the image?\n")
	// -n -1 on the tiny model: hundreds of tokens; stop it as it streams
	if _, err := stdout.Peek(1); err != nil { // the answer has started
		t.Fatal(err)
	}
	cmd.Process.Signal(os.Interrupt)
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(stdout)
		got <- string(b)
	}()
	waitFor(t, func() bool { return strings.Contains(se.String(), "answer stopped") })
	io.WriteString(in, "/save "+saved+"\n")
	waitFor(t, func() bool { _, err := os.Stat(saved); return err == nil })
	cmd.Process.Signal(os.Interrupt)
	waitFor(t, func() bool { return strings.Contains(se.String(), "Ctrl-C again") })
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v; stderr %q", err, se.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running after the second Ctrl-C; stderr %q", se.String())
	}
	answer := <-got
	var turns [][2]string
	js, _ := os.ReadFile(saved)
	if err := json.Unmarshal(js, &turns); err != nil || len(turns) != 1 {
		t.Fatalf("saved %q (%v)", js, err)
	}
	if turns[0][1]+"\n" != answer {
		t.Errorf("the history holds %q, the screen showed %q", turns[0][1], answer)
	}
	if strings.Contains(se.String(), "context of") {
		t.Errorf("the answer ran to the end of the context instead of stopping: %q", se.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func (s *syncBuffer) lock() {
	if s.mu == nil {
		s.mu = make(chan struct{}, 1)
	}
	s.mu <- struct{}{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.lock()
	defer func() { <-s.mu }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.lock()
	defer func() { <-s.mu }()
	return s.b.String()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
