package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cogedge/cogedge/grounding"
	"github.com/cogedge/cogedge/internal/browsertest"
	"github.com/cogedge/cogedge/internal/shapes"
	"github.com/cogedge/cogedge/webui"
	"github.com/cogedge/cogedge/webui/webuitest"
)

// lineLog collects what a command prints, line by line, safely across
// goroutines.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(s string) { l.mu.Lock(); l.lines = append(l.lines, s); l.mu.Unlock() }

func (l *lineLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// startServe runs `cogedge serve` with args on a free port until the test
// ends and returns its origin (http://host:port) and what it prints on
// stderr.
func startServe(t *testing.T, args ...string) (string, *lineLog) {
	t.Helper()
	sigCtx, signalStop := context.WithCancel(context.Background())
	old := serveSignals
	serveSignals = func() (context.Context, context.CancelFunc) { return sigCtx, signalStop }
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serveCmd(append(args, "--port", "0"), io.Discard, pw)
		pw.Close()
	}()
	printed := &lineLog{}
	addrc := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(pr)
		sent := false
		for lines.Scan() {
			printed.add(lines.Text())
			if m := regexp.MustCompile(`on http://(\S+) \(`).FindStringSubmatch(lines.Text()); m != nil && !sent {
				addrc <- m[1]
				sent = true
			}
		}
		close(addrc)
	}()
	var addr string
	select {
	case a, ok := <-addrc:
		if !ok {
			t.Fatalf("serve ended without an address: %v\n%s", <-done, printed.text())
		}
		addr = a
	case <-time.After(60 * time.Second):
		t.Fatalf("serve printed no address in 60 s:\n%s", printed.text())
	}
	t.Cleanup(func() {
		signalStop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
		serveSignals = old
	})
	// The printed lines that follow the address (the page's URL) come
	// right after it; give the reader a moment to collect them.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(printed.text(), "chat page at") {
		time.Sleep(10 * time.Millisecond)
	}
	return "http://" + addr, printed
}

// TestServePage: serve answers / with the embedded page and every response
// (page, API, errors) with the Content-Security-Policy; /v1/models tells
// the page the model's size.
func TestServePage(t *testing.T) {
	origin, printed := startServe(t, "-m", tinyQ8, "-t", "1", "--no-image-cache", "--alias", "tiny")
	if want := "chat page at " + origin + "/ (this machine only"; !strings.Contains(printed.text(), want) {
		t.Errorf("serve printed %q, want a line with %q", printed.text(), want)
	}
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(origin + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	for _, tc := range []struct {
		path, contentType string
		code              int
		bodyHas           string
	}{
		{"/", "text/html; charset=utf-8", 200, `<script type="module" src="app.js">`},
		{"/app.js", "text/javascript; charset=utf-8", 200, "v1/chat/completions"},
		{"/style.css", "text/css; charset=utf-8", 200, ".box"},
		{"/health", "application/json", 200, "ok"},
		{"/no/such/page", "application/json", 404, "no route"},
	} {
		resp, body := get(tc.path)
		if resp.StatusCode != tc.code || resp.Header.Get("Content-Type") != tc.contentType || !bytes.Contains(body, []byte(tc.bodyHas)) {
			t.Errorf("GET %s: %d %q, body has %q: %v", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.bodyHas,
				bytes.Contains(body, []byte(tc.bodyHas)))
		}
		if resp.Header.Get("Content-Security-Policy") != webui.ContentSecurityPolicy {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, resp.Header.Get("Content-Security-Policy"))
		}
	}
	_, body := get("/v1/models")
	var list struct {
		Data []struct {
			ID   string
			Meta struct {
				Size    int64  `json:"size"`
				NParams uint64 `json:"n_params"`
			}
		}
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(tinyQ8)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 1 || list.Data[0].ID != "tiny" || list.Data[0].Meta.Size != st.Size() || list.Data[0].Meta.NParams == 0 {
		t.Errorf("/v1/models: %s (file size %d)", body, st.Size())
	}
}

// TestServeWarnsOffLoopback: --host 0.0.0.0 is the explicit way onto the
// network, and serve says so with the URLs to open. With --api-key the page
// still loads (it asks for the key) while the API refuses a request without
// the key.
func TestServeWarnsOffLoopback(t *testing.T) {
	origin, printed := startServe(t, "-m", tinyQ8, "-t", "1", "--no-image-cache", "--host", "0.0.0.0", "--api-key", "k3y")
	out := printed.text()
	if !regexp.MustCompile(`WARNING: listening on 0\.0\.0\.0:\d+, not loopback: .*with the API key`).MatchString(out) ||
		!regexp.MustCompile(`chat page at http://\S+:\d+/`).MatchString(out) {
		t.Errorf("serve --host 0.0.0.0 printed:\n%s\nwant a warning and the page's URL", out)
	}
	for path, want := range map[string]int{"/": 200, "/app.js": 200, "/v1/models": 401} {
		resp, err := http.Get(origin + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s without the key: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestAnnouncePage(t *testing.T) {
	addrs := func() ([]net.Addr, error) {
		return []net.Addr{&net.IPNet{IP: net.IPv4(127, 0, 0, 1), Mask: net.CIDRMask(8, 32)},
			&net.IPNet{IP: net.IPv4(192, 168, 1, 20), Mask: net.CIDRMask(24, 32)}}, nil
	}
	for _, tc := range []struct {
		host string
		key  bool
		want string
	}{
		{"127.0.0.1", false, "cogedge serve: chat page at http://127.0.0.1:8080/ (this machine only; --host 0.0.0.0 opens it to the network)\n"},
		{"localhost", true, "cogedge serve: chat page at http://localhost:8080/ (this machine only; --host 0.0.0.0 opens it to the network)\n"},
		{"0.0.0.0", false, "cogedge serve: WARNING: listening on 0.0.0.0:8080, not loopback: every machine that can reach this one can use the model (no --api-key set)\n" +
			"cogedge serve: chat page at http://192.168.1.20:8080/\n"},
		{"192.168.1.20", true, "cogedge serve: WARNING: listening on 192.168.1.20:8080, not loopback: every machine that can reach this one can use the model with the API key\n" +
			"cogedge serve: chat page at http://192.168.1.20:8080/\n"},
	} {
		var b strings.Builder
		announcePage(&b, tc.host, 8080, tc.key, addrs)
		if b.String() != tc.want {
			t.Errorf("host %q key %v:\n%s\nwant\n%s", tc.host, tc.key, b.String(), tc.want)
		}
	}
}

// The picture of the browser test: shapes.Generate(webSeed, webIndex). A
// fixed picture keeps the test deterministic; the demo model's accuracy
// over many pictures is measured by cogedge demo --eval, not here.
const webSeed, webIndex = 15, 11

// TestServeWebChat drives the page of a real `cogedge serve` on the demo
// model in Chromium, as a person would: it picks a generated picture, asks
// a question with the Enter key and checks the streamed answer (the
// picture's truth, and the server's own greedy answer to the same
// conversation), asks a grounding question and finds the box drawn over
// the picture where the answer puts it (and the answer on the shape: IoU
// at least 0.5 with its true box), checks that the
// page asked nothing of any other host, and saves a screenshot of the chat
// (COGEDGE_WEB_SCREENSHOTS=$PWD/docs writes the README's docs/web-chat.png).
func TestServeWebChat(t *testing.T) {
	if _, err := os.Stat(demoModel); err != nil {
		t.Fatalf("the demo model: %v", err)
	}
	origin, _ := startServe(t, "-m", demoModel, "-t", "2", "--alias", "shapes-demo")
	pic := shapes.Generate(webSeed, webIndex)
	picPath := filepath.Join(t.TempDir(), "shapes.png")
	if err := shapes.WritePNG(picPath, pic.Draw()); err != nil {
		t.Fatal(err)
	}
	picBytes, err := os.ReadFile(picPath)
	if err != nil {
		t.Fatal(err)
	}
	qs := map[string]shapes.Question{}
	for _, q := range pic.Questions() {
		qs[q.Type] = q
	}

	b := browsertest.Start(t)
	b.Do(10*time.Second, chromedp.EmulateViewport(1200, 760))
	page := webuitest.Open(t, b, origin)
	if got := page.Text("model"); !strings.HasPrefix(got, "model: shapes-demo · ") || !strings.Contains(got, "MB") {
		t.Errorf("model line %q", got)
	}
	page.Upload(picPath)

	q := qs[shapes.TypeShapes]
	a := page.Ask(q.Text, 60*time.Second)
	if right, _ := shapes.Score(q, a.Text); a.State != "done" || !right {
		t.Errorf("asked %q: the page shows %+v, want %q", q.Text, a, q.Answer)
	}
	if m := webuitest.MetaLine.FindStringSubmatch(a.Meta); m == nil {
		t.Errorf("timing line %q", a.Meta)
	}
	want := completion(t, origin, fmt.Sprintf(`{"model":"shapes-demo","temperature":0,"messages":[{"role":"user","content":[
		{"type":"image_url","image_url":{"url":"data:image/png;base64,%s"}},{"type":"text","text":%q}]}]}`,
		base64.StdEncoding.EncodeToString(picBytes), q.Text))
	if a.Text != want {
		t.Errorf("the page shows %q; the server's greedy answer is %q", a.Text, want)
	}

	// The demo model learned one question per picture, so the grounding
	// question starts a new chat about the same picture (the scripted
	// tests of package webui cover multi-turn conversations).
	b.Do(5*time.Second, chromedp.Click(chromedp.ID("new-chat")))
	q = qs[shapes.TypeGround]
	a = page.Ask(q.Text, 60*time.Second)
	right, iou := shapes.Score(q, a.Text)
	if a.State != "done" || !right {
		t.Errorf("asked %q: the page shows %+v, want %q (IoU %.2f)", q.Text, a, q.Answer, iou)
	}
	boxes := grounding.ParseAnswer(a.Text, shapes.Canvas, shapes.Canvas).Boxes
	d := page.Drawn()
	if len(boxes) != 1 || len(d.Boxes) != 1 {
		t.Fatalf("answer %q has %d boxes; the page draws %d", a.Text, len(boxes), len(d.Boxes))
	}
	bx := boxes[0]
	at := d.Expect(float64(bx.X0), float64(bx.Y0), float64(bx.X1), float64(bx.Y1))
	if !webuitest.Near(d.Boxes[0].Rect, at, 1) {
		t.Errorf("box drawn at %+v, want %+v (answer %q, picture shown at %+v)", d.Boxes[0].Rect, at, a.Text, d.Image)
	}
	page.SaveScreenshot("web-chat.png")
	page.CheckClean()
}

// completion posts a non-streamed request and returns the answer's text.
func completion(t *testing.T, origin, body string) string {
	t.Helper()
	resp, err := http.Post(origin+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Choices []struct {
			Message struct{ Content string }
		}
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != 200 || len(out.Choices) != 1 {
		t.Fatalf("completion: %d %s (%v)", resp.StatusCode, raw, err)
	}
	return out.Choices[0].Message.Content
}
