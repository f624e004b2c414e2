package webui_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cogedge/cogedge/internal/browsertest"
	"github.com/cogedge/cogedge/webui"
	"github.com/cogedge/cogedge/webui/webuitest"
)

// scriptedAPI speaks the server's API (GET /v1/models, POST
// /v1/chat/completions with server-sent events) with answers fixed per
// question, and records each request. It tests the page, not the model.
type scriptedAPI struct {
	key     string            // when set, requests without "Bearer key" get 401
	answers map[string]script // by the last user message's text

	mu       sync.Mutex
	requests []chatRequest
	auth     []string      // Authorization header of every API request
	canceled chan struct{} // closed when a client drops a stream mid-answer
	once     sync.Once
}

type script struct {
	pieces []string
	delay  time.Duration
	boxes  []map[string]any
	rate   float64 // the server's timings.predicted_per_second (0: none sent)
}

type chatRequest struct {
	Model       string    `json:"model"`
	Stream      bool      `json:"stream"`
	Temperature *float64  `json:"temperature"`
	MaxTokens   *int      `json:"max_tokens"`
	Messages    []message `json:"messages"`
}

type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type part struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	ImageURL *struct {
		URL string `json:"url"`
	} `json:"image_url"`
}

// text and images split a message's content (a string or a list of parts).
func (m message) parts() (text string, images []string) {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s, nil
	}
	var ps []part
	_ = json.Unmarshal(m.Content, &ps)
	for _, p := range ps {
		switch {
		case p.Type == "text":
			text += p.Text
		case p.Type == "image_url" && p.ImageURL != nil:
			images = append(images, p.ImageURL.URL)
		}
	}
	return text, images
}

func newScriptedAPI() *scriptedAPI {
	return &scriptedAPI{answers: map[string]script{}, canceled: make(chan struct{})}
}

func (s *scriptedAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", webui.Handler())
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.mu.Unlock()
		if s.key != "" && r.Header.Get("Authorization") != "Bearer "+s.key {
			apiError(w, http.StatusUnauthorized, "invalid api key")
			return
		}
		switch r.URL.Path {
		case "/v1/models":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"object":"list","data":[{"id":"shapes-demo","object":"model","owned_by":"cogedge","meta":{"size":12345678,"n_params":23456789}}]}`)
		case "/v1/chat/completions":
			s.chat(w, r)
		default:
			apiError(w, http.StatusNotFound, "no such endpoint")
		}
	})
	return webui.Secure(mux)
}

func apiError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error"}})
}

func (s *scriptedAPI) chat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if len(req.Messages) == 0 {
		apiError(w, http.StatusBadRequest, "no messages")
		return
	}
	question, _ := req.Messages[len(req.Messages)-1].parts()
	sc, ok := s.answers[question]
	if !ok {
		apiError(w, http.StatusBadRequest, "unscripted question "+question)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	flusher := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		flusher.Flush()
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "shapes-demo",
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	send(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	for _, p := range sc.pieces {
		select {
		case <-r.Context().Done():
			s.once.Do(func() { close(s.canceled) })
			return
		case <-time.After(sc.delay):
		}
		send(chunk(map[string]any{"content": p}, nil))
	}
	final := map[string]any{}
	if sc.boxes != nil {
		final["boxes"] = sc.boxes
	}
	send(chunk(final, "stop"))
	last := map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": []any{},
		"usage": map[string]any{"prompt_tokens": 40, "completion_tokens": len(sc.pieces), "total_tokens": 40 + len(sc.pieces)}}
	if sc.rate > 0 {
		last["timings"] = map[string]any{"predicted_n": len(sc.pieces), "predicted_per_second": sc.rate}
	}
	send(last)
	fmt.Fprint(w, "data: [DONE]\n\n")
	flusher.Flush()
}

func (s *scriptedAPI) lastRequests(n int) []chatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) < n {
		return nil
	}
	return append([]chatRequest(nil), s.requests[len(s.requests)-n:]...)
}

// TestPageScripted drives the page in Chromium against the scripted API:
// picture, two questions (one grounded), the image sent once, boxes where
// the server put them at desktop and phone sizes, stop, regenerate, and no
// request to any other host.
func TestPageScripted(t *testing.T) {
	api := newScriptedAPI()
	api.answers["What colour is the circle?"] = script{pieces: []string{"The", " circle", " is", " red", "."}, delay: 20 * time.Millisecond}
	api.answers["Where is the circle?"] = script{
		pieces: []string{"The", " red", " circle", " [[", "100", ",", "200", ",", "400", ",", "600", "]]"},
		delay:  10 * time.Millisecond,
		boxes:  []map[string]any{{"phrase": "The red circle", "x0": 64, "y0": 96, "x1": 256, "y1": 288}},
		rate:   12.34,
	}
	slow := make([]string, 60)
	for i := range slow {
		slow[i] = fmt.Sprintf(" %d", i+1)
	}
	api.answers["Count slowly."] = script{pieces: slow, delay: 100 * time.Millisecond}
	srv := httptest.NewServer(api.handler())
	defer srv.Close()
	// a red disc of radius 96 at (160, 192) on a 640×480 picture
	picPath, picBytes := webuitest.Picture(t, 640, 480, func(x, y int) bool { return (x-160)*(x-160)+(y-192)*(y-192) < 96*96 })

	b := browsertest.Start(t)
	b.Do(10*time.Second, chromedp.EmulateViewport(1280, 860))
	page := webuitest.Open(t, b, srv.URL)
	if got := page.Text("model"); got != "model: shapes-demo · 12.3 MB · 23.5 M params" {
		t.Errorf("model line %q", got)
	}
	page.Upload(picPath)

	// A plain question, sent with the Enter key.
	a := page.Ask("What colour is the circle?", 10*time.Second)
	if a.State != "done" || a.Text != "The circle is red." {
		t.Fatalf("first answer %+v", a)
	}
	if m := webuitest.MetaLine.FindStringSubmatch(a.Meta); m == nil || m[2] != "5" {
		t.Errorf("timing line %q, want first token, tokens/s and 5 tokens", a.Meta)
	}
	first := api.lastRequests(1)[0]
	if !first.Stream || first.Model != "shapes-demo" || first.Temperature == nil || *first.Temperature != 0 ||
		first.MaxTokens == nil || *first.MaxTokens != 256 {
		t.Errorf("first request settings: stream %v model %q temperature %v max_tokens %v",
			first.Stream, first.Model, first.Temperature, first.MaxTokens)
	}
	wantURL := "data:image/png;base64," + base64.StdEncoding.EncodeToString(picBytes)
	if text, imgs := first.Messages[0].parts(); len(first.Messages) != 1 || text != "What colour is the circle?" ||
		len(imgs) != 1 || imgs[0] != wantURL {
		t.Errorf("first request: %d messages, text %q, %d images (the picture's exact bytes: %v)",
			len(first.Messages), text, len(imgs), len(imgs) == 1 && imgs[0] == wantURL)
	}

	// A grounding question: the image rides on the first turn only, and the
	// box lands where the server's pixel coordinates say.
	a = page.Ask("Where is the circle?", 10*time.Second)
	if a.State != "done" || len(a.Phrases) != 1 || a.Phrases[0] != "The red circle" {
		t.Fatalf("grounding answer %+v", a)
	}
	if !strings.Contains(a.Meta, " · 12.3 tokens/s · 12 tokens") {
		t.Errorf("timing line %q: want the server's 12.3 tokens/s when it sends timings", a.Meta)
	}
	second := api.lastRequests(1)[0]
	roles, images := []string{}, 0
	for _, m := range second.Messages {
		roles = append(roles, m.Role)
		_, imgs := m.parts()
		images += len(imgs)
	}
	if strings.Join(roles, ",") != "user,assistant,user" || images != 1 {
		t.Errorf("second request: roles %v with %d images, want user,assistant,user with the picture once", roles, images)
	}
	if text, _ := second.Messages[1].parts(); text != "The circle is red." {
		t.Errorf("history carries the first answer as %q", text)
	}
	checkBox := func(size string) {
		t.Helper()
		d := page.Drawn()
		if len(d.Boxes) != 1 {
			t.Fatalf("%s: %d boxes drawn, want 1", size, len(d.Boxes))
		}
		if d.NaturalWidth != 640 || d.NaturalHeight != 480 || d.Image.Width <= 0 {
			t.Fatalf("%s: picture %+v", size, d)
		}
		want := d.Expect(64, 96, 256, 288)
		if !webuitest.Near(d.Boxes[0].Rect, want, 1) || d.Boxes[0].Label != "The red circle" {
			t.Errorf("%s: box %+v at %+v, want %+v (picture shown at %+v)", size, d.Boxes[0].Label, d.Boxes[0].Rect, want, d.Image)
		}
	}
	checkBox("desktop")

	// Keyboard focus on the phrase highlights its box; Enter pins it.
	b.Do(5*time.Second, chromedp.Focus(chromedp.CSS(".phrase")))
	if d := page.Drawn(); !d.Boxes[0].Hot {
		t.Error("focusing the phrase did not highlight its box")
	}
	b.Do(5*time.Second, chromedp.KeyEvent("\r"))
	var pressed string
	b.Eval(`document.querySelector(".phrase").getAttribute("aria-pressed")`, &pressed)
	if pressed != "true" {
		t.Errorf("Enter on the phrase: aria-pressed %q, want true", pressed)
	}

	// Stop in the middle of a slow answer: the server sees the disconnect.
	before := len(page.Answers())
	page.Send("Count slowly.")
	b.WaitFor(fmt.Sprintf(`(document.querySelectorAll("#log .msg.assistant")[%d] || {textContent: ""}).querySelector(".text")?.textContent.length > 3`, before),
		10*time.Second, `document.getElementById("log").innerText`)
	b.Do(5*time.Second, chromedp.KeyEvent(kb.Escape)) // Escape is Stop from the keyboard
	a = page.WaitAnswer(before, 5*time.Second)
	if a.State != "stopped" || !strings.HasPrefix(a.Text, " 1 2") || strings.Contains(a.Text, "60") || !strings.Contains(a.Meta, "stopped") {
		t.Errorf("stopped answer %+v", a)
	}
	select {
	case <-api.canceled:
	case <-time.After(5 * time.Second):
		t.Error("Stop did not close the stream at the server")
	}

	// Regenerate replaces the stopped answer with a new request of the same history.
	stopped := api.lastRequests(1)[0]
	b.Do(5*time.Second, chromedp.Click(chromedp.ID("regenerate")))
	b.WaitFor(`document.getElementById("stop").disabled === false`, 5*time.Second, "")
	b.Do(5*time.Second, chromedp.Click(chromedp.ID("stop")))
	a = page.WaitAnswer(before, 5*time.Second)
	if n := len(page.Answers()); n != before+1 || a.State != "stopped" {
		t.Errorf("after regenerate: %d answers (want %d), last %+v", n, before+1, a)
	}
	again := api.lastRequests(1)[0]
	if x, y := mustJSON(t, stopped.Messages), mustJSON(t, again.Messages); x != y {
		t.Errorf("regenerate sent other messages:\n%s\nwant\n%s", y, x)
	}

	// Keyboard alone: Tab from the top reaches the picture input, the
	// question, Send and the settings, in reading order.
	b.Eval(`document.activeElement.blur(), window.scrollTo(0, 0)`, nil)
	var order []string
	for range 12 {
		b.Do(5*time.Second, chromedp.KeyEvent("\t"))
		var id string
		b.Eval(`document.activeElement.id || document.activeElement.tagName.toLowerCase()`, &id)
		order = append(order, id)
	}
	wantOrder := []string{"new-chat", "file", "prompt", "send", "regenerate", "summary"}
	for i, at := 0, 0; i < len(wantOrder); i++ {
		j := slices.Index(order[at:], wantOrder[i])
		if j < 0 {
			t.Errorf("Tab order %q: %q missing or out of order (want %q in this order)", order, wantOrder[i], wantOrder)
			break
		}
		at += j + 1
	}

	// Every control has a name a screen reader can say.
	var unnamed []string
	b.Eval(`[...document.querySelectorAll("input, textarea, button, select")].filter(el =>
		!((el.labels && el.labels.length) || el.getAttribute("aria-label") || el.textContent.trim())).map(el => el.id || el.outerHTML)`, &unnamed)
	if len(unnamed) > 0 {
		t.Errorf("controls without an accessible name: %q", unnamed)
	}
	page.SaveScreenshot("page-desktop.png")

	// A phone: one column, nothing wider than the screen, the box rescaled.
	b.Do(5*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.WaitFor(`window.innerWidth === 390`, 5*time.Second, `window.innerWidth`)
	var layout struct{ PictureBottom, ChatTop, ScrollWidth, Width float64 }
	b.Eval(`(() => ({PictureBottom: document.querySelector(".picture").getBoundingClientRect().bottom,
		ChatTop: document.querySelector(".chat").getBoundingClientRect().top,
		ScrollWidth: document.documentElement.scrollWidth, Width: window.innerWidth}))()`, &layout)
	if layout.ChatTop < layout.PictureBottom || layout.ScrollWidth > layout.Width {
		t.Errorf("phone layout: chat top %v above picture bottom %v, or page %v wider than screen %v",
			layout.ChatTop, layout.PictureBottom, layout.ScrollWidth, layout.Width)
	}
	checkBox("phone")
	page.SaveScreenshot("page-phone.png")

	// New chat in the middle of an answer: the old answer leaves the new
	// conversation alone, whose first question carries the picture again.
	page.Send("Count slowly.")
	b.WaitFor(`document.querySelector("#log .msg.assistant:last-child .text")?.textContent.length > 3`, 10*time.Second, "")
	b.Do(5*time.Second, chromedp.Click(chromedp.ID("new-chat")))
	a = page.Ask("What colour is the circle?", 10*time.Second)
	if n := len(page.Answers()); n != 1 || a.Text != "The circle is red." {
		t.Errorf("after New chat: %d answers, the last %+v", n, a)
	}
	fresh := api.lastRequests(1)[0]
	if text, imgs := fresh.Messages[0].parts(); len(fresh.Messages) != 1 || len(imgs) != 1 || text != "What colour is the circle?" {
		t.Errorf("first request after New chat: %d messages, %d images, text %q", len(fresh.Messages), len(imgs), text)
	}

	page.CheckClean()
}

// TestPageAsksForKey: with --api-key the page asks for the key when the
// server answers 401, keeps it in sessionStorage only and sends it as a
// bearer token.
func TestPageAsksForKey(t *testing.T) {
	api := newScriptedAPI()
	api.key = "s3cret-key"
	srv := httptest.NewServer(api.handler())
	defer srv.Close()

	b := browsertest.Start(t)
	b.Do(20*time.Second, chromedp.Navigate(srv.URL+"/"))
	b.WaitFor(`document.getElementById("key-dialog").open`, 10*time.Second, `document.body.innerText`)
	b.Do(5*time.Second, chromedp.SendKeys(chromedp.ID("key"), "s3cret-key\n"))
	b.WaitFor(`document.getElementById("model").textContent.includes("shapes-demo")`, 10*time.Second,
		`document.getElementById("model").textContent`)
	var store struct {
		Session string
		Local   int
	}
	b.Eval(`({Session: sessionStorage.getItem("cogedge.apiKey"), Local: localStorage.length})`, &store)
	if store.Session != "s3cret-key" || store.Local != 0 {
		t.Errorf("key kept as sessionStorage %q with %d localStorage items; want the key in sessionStorage only", store.Session, store.Local)
	}
	api.mu.Lock()
	auth := append([]string(nil), api.auth...)
	api.mu.Unlock()
	if len(auth) < 2 || auth[0] != "" || auth[len(auth)-1] != "Bearer s3cret-key" {
		t.Errorf("Authorization headers %q: want none first, then the bearer key", auth)
	}
	// The refused first call is the only problem the browser may report.
	webuitest.Attach(t, b, srv.URL).CheckClean("401")
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
