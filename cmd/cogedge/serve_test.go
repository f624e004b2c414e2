package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeDrainsOnSignal runs `cogedge serve` on a free loopback port,
// starts a streamed answer, then delivers the stop signal: the answer in
// progress still finishes ([DONE]), the command returns without error and
// the port is closed.
func TestServeDrainsOnSignal(t *testing.T) {
	sigCtx, signalStop := context.WithCancel(context.Background())
	old := serveSignals
	serveSignals = func() (context.Context, context.CancelFunc) { return sigCtx, signalStop }
	defer func() { serveSignals = old }()

	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serveCmd([]string{"-m", tinyQ8, "--port", "0", "-t", "1", "--no-image-cache"}, io.Discard, pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var addr string
	for addr == "" && lines.Scan() {
		if m := regexp.MustCompile(`on (http://[0-9.:]+)`).FindStringSubmatch(lines.Text()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatal("serve printed no address")
	}
	go io.Copy(io.Discard, pr)
	if !strings.HasPrefix(addr, "http://127.0.0.1:") {
		t.Errorf("serve listens on %s, want loopback by default", addr)
	}
	resp, err := http.Post(addr+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"messages":[{"role":"user","content":"Hello"}],"max_tokens":40,"stream":true,"temperature":0}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil { // the first event has arrived
		t.Fatal(err)
	}
	signalStop()
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Errorf("the answer in progress did not finish: %q", rest)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit after the signal")
	}
	if _, err := http.Get(addr + "/health"); err == nil {
		t.Error("the port still answers after serve returned")
	}
}

func TestServeFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-m", tinyQ8, "--port", "70000"},
		{"-m", tinyQ8, "--parallel", "0"},
		{"-m", tinyQ8, "--queue", "-1"},
		{"-m", tinyQ8, "-n", "0"},
		{"-m", tinyQ8, "extra"},
	} {
		if code, _, _ := cli(append([]string{"serve"}, args...)...); code != 2 {
			t.Errorf("serve %q: exit %d, want 2", args, code)
		}
	}
}

// TestServeMetalSim: `cogedge serve --backend metal-sim` answers a
// question about a picture with the reference's greedy tokens: the
// scheduler's image prefix (vision tower included), prompt and decode
// steps on the Metal backend (simulated device), through HTTP. Four
// tokens: the simulator is slow.
func TestServeMetalSim(t *testing.T) {
	needSim(t)
	const n = 4
	mp := tinyF32(t)
	g, _ := readGolden(t, "tiny-image-chat")
	origin, printed := startServe(t, "-m", mp, "-t", "2", "--no-image-cache", "--allow-local-images",
		"--template", g.Template, "--backend", "metal-sim", "--verbose")
	if !strings.Contains(printed.text(), "backend: metal-sim") {
		t.Errorf("serve --verbose does not name the backend: %q", printed.text())
	}
	path, err := filepath.Abs(chelsea)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{
		"messages": []any{map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "text", "text": g.Query},
			map[string]any{"type": "image_url", "image_url": map[string]string{"url": "file://" + path}},
		}}},
		"max_tokens": n, "temperature": 0,
	})
	resp, err := http.Post(origin+"/v1/chat/completions", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || len(c.Choices) != 1 {
		t.Fatalf("status %d, answer %s (%v)", resp.StatusCode, raw, err)
	}
	tok := fileTokenizer(t, mp)
	if want := strings.TrimSuffix(streamText(tok, g.Generated[:n]), "\n"); c.Choices[0].Message.Content != want {
		t.Errorf("serve --backend metal-sim answered %q, want the reference tokens %v = %q", c.Choices[0].Message.Content, g.Generated[:n], want)
	}
}
