package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogedge/cogedge/imagecache"
	"github.com/cogedge/cogedge/internal/shapes"
	"github.com/cogedge/cogedge/internal/zstdcache"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/model/prompt"
	"github.com/cogedge/cogedge/model/tokenizer"
)

// testModel is the model most tests serve: the tiny random-weight one
// (fast; its logits are near ties, so batched answers are compared with it
// only where the margins are decisive — TestBatchedEqualsSequentialDemo
// compares whole answers on the trained demo model).
const testModel = "../testdata/cogvlm-tiny.gguf"

const chelsea = "../testdata/images/chelsea.png"

var loaded struct {
	once sync.Once
	m    *model.Model
	tok  *tokenizer.Tokenizer
	err  error
}

func openModel(t *testing.T) (*model.Model, *tokenizer.Tokenizer) {
	t.Helper()
	loaded.once.Do(func() {
		loaded.m, loaded.err = model.Open(testModel, "")
		if loaded.err != nil {
			return
		}
		v, err := tokenizer.VocabFromGGUF(loaded.m.File())
		if err != nil {
			loaded.err = err
			return
		}
		loaded.tok, loaded.err = tokenizer.New(v)
	})
	if loaded.err != nil {
		t.Fatal(loaded.err)
	}
	return loaded.m, loaded.tok
}

// start serves cfg (the tiny model unless cfg names one) on a loopback port.
func start(t *testing.T, cfg Config, hook func(*Server)) (*Server, string) {
	t.Helper()
	if cfg.Model == nil {
		cfg.Model, cfg.Tokenizer = openModel(t)
	}
	if cfg.ModelName == "" {
		cfg.ModelName = "tiny"
	}
	if cfg.Threads == 0 {
		cfg.Threads = 2
	}
	s, err := newServer(cfg, hook)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		s.Close()
	})
	return s, hs.URL
}

// post sends body to the chat endpoint and returns the status, headers
// and body.
func post(t *testing.T, url string, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func chatBody(question string, extra string) string {
	q, _ := json.Marshal(question)
	return fmt.Sprintf(`{"model":"tiny","messages":[{"role":"user","content":%s}],"temperature":0%s}`, q, extra)
}

type completion struct {
	Choices []struct {
		Message struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage usage `json:"usage"`
}

func answer(t *testing.T, url, body string) completion {
	t.Helper()
	code, _, b := post(t, url, body)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, b)
	}
	var c completion
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if len(c.Choices) != 1 || c.Choices[0].Message.Role != "assistant" {
		t.Fatalf("not one assistant choice: %s", b)
	}
	return c
}

// greedy is the reference: the prompt through Forward, then one token at
// a time, with each step's top-two logit margin.
func greedy(t *testing.T, question string, n int) (ids []int32, margins []float32) {
	t.Helper()
	m, tok := openModel(t)
	text, err := prompt.Build(m.Template, nil, question)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.NewContext(model.ContextOptions{Size: 256, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	logits := make([]float32, m.Text.Vocab)
	if err := c.Forward(m.PromptBatch(tok.Encode(text, false), nil), model.Output{Logits: logits}); err != nil {
		t.Fatal(err)
	}
	for len(ids) < n {
		best, second := 0, -1
		for i, v := range logits {
			if v > logits[best] {
				best, second = i, best
			} else if i != best && (second < 0 || v > logits[second]) {
				second = i
			}
		}
		ids = append(ids, int32(best))
		margins = append(margins, logits[best]-logits[second])
		if int32(best) == m.Text.EOS {
			break
		}
		if err := c.Forward(model.Batch{Tokens: []int32{int32(best)}}, model.Output{Logits: logits}); err != nil {
			t.Fatal(err)
		}
	}
	return ids, margins
}

// decisive returns the text of the leading tokens whose margins exceed
// what summation order can flip (all of them when every margin does).
func decisive(t *testing.T, ids []int32, margins []float32) (string, bool) {
	_, tok := openModel(t)
	k := 0
	for k < len(ids) && margins[k] > 0.01 {
		k++
	}
	end := ids[:k]
	if len(end) > 0 && end[len(end)-1] == tok.EOS() {
		end = end[:len(end)-1]
	}
	return tok.Decode(end), k == len(ids)
}

var questions = []string{"What is in the image?", "Describe the cat.", "Hello, who are you?", "Count to five."}

// TestNonStreaming: one answer over HTTP equals the model's greedy
// decoding through Forward, with usage counted.
func TestNonStreaming(t *testing.T) {
	_, url := start(t, Config{}, nil)
	const n = 12
	c := answer(t, url, chatBody(questions[0], `,"max_tokens":12`))
	ids, _ := greedy(t, questions[0], n)
	_, tok := openModel(t)
	want := ids
	finish := "length"
	if want[len(want)-1] == tok.EOS() {
		want, finish = want[:len(want)-1], "stop"
	}
	if got := c.Choices[0].Message.Content; got != tok.Decode(want) {
		t.Errorf("answer %q, greedy reference %q", got, tok.Decode(want))
	}
	if c.Choices[0].FinishReason != finish {
		t.Errorf("finish_reason %q, want %q", c.Choices[0].FinishReason, finish)
	}
	if c.Usage.CompletionTokens != len(ids) || c.Usage.PromptTokens < 5 || c.Usage.TotalTokens != c.Usage.PromptTokens+c.Usage.CompletionTokens {
		t.Errorf("usage %+v, want %d completion tokens", c.Usage, len(ids))
	}
}

// sse reads a server-sent event stream: the data of each event.
func sse(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "data: ") {
			out = append(out, strings.TrimPrefix(line, "data: "))
		} else if line != "" {
			t.Fatalf("unexpected stream line %q", line)
		}
	}
	return out
}

type chunk struct {
	Object  string `json:"object"`
	Choices []struct {
		Delta struct {
			Role    string  `json:"role"`
			Content *string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
}

// TestStreaming: the deltas of a streamed answer add up to the
// non-streamed answer; the stream starts with the role, ends with a
// finish reason and [DONE].
func TestStreaming(t *testing.T) {
	_, url := start(t, Config{}, nil)
	want := answer(t, url, chatBody(questions[1], `,"max_tokens":10`)).Choices[0]
	code, h, b := post(t, url, chatBody(questions[1], `,"max_tokens":10,"stream":true`))
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, content type %q: %s", code, h.Get("Content-Type"), b)
	}
	events := sse(t, bytes.NewReader(b))
	if len(events) < 3 || events[len(events)-1] != "[DONE]" {
		t.Fatalf("stream %q: want role, deltas, finish, [DONE]", events)
	}
	var text strings.Builder
	var finish string
	for i, e := range events[:len(events)-1] {
		var c chunk
		if err := json.Unmarshal([]byte(e), &c); err != nil || c.Object != "chat.completion.chunk" || len(c.Choices) != 1 {
			t.Fatalf("event %d %q: %v", i, e, err)
		}
		if i == 0 && c.Choices[0].Delta.Role != "assistant" {
			t.Errorf("first event %q has no assistant role", e)
		}
		if c.Choices[0].Delta.Content != nil {
			text.WriteString(*c.Choices[0].Delta.Content)
		}
		if f := c.Choices[0].FinishReason; f != nil {
			if i != len(events)-2 {
				t.Errorf("finish reason before the last event")
			}
			finish = *f
		}
	}
	if text.String() != want.Message.Content || finish != want.FinishReason {
		t.Errorf("stream %q (%s), non-stream %q (%s)", text.String(), finish, want.Message.Content, want.FinishReason)
	}
	// The last chunk carries usage and llama.cpp's timings, measured in the
	// scheduler: the tokens after the first over the time after the first.
	var last struct {
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		}
		Timings *struct {
			PromptMS           float64 `json:"prompt_ms"`
			PredictedN         int     `json:"predicted_n"`
			PredictedMS        float64 `json:"predicted_ms"`
			PredictedPerSecond float64 `json:"predicted_per_second"`
		}
	}
	if err := json.Unmarshal([]byte(events[len(events)-2]), &last); err != nil {
		t.Fatal(err)
	}
	tm := last.Timings
	if tm == nil || tm.PredictedN != last.Usage.CompletionTokens || tm.PredictedN < 2 || tm.PromptMS <= 0 || tm.PredictedMS <= 0 ||
		math.Abs(tm.PredictedPerSecond-float64(tm.PredictedN-1)/(tm.PredictedMS/1000)) > 1e-3*tm.PredictedPerSecond {
		t.Errorf("timings %+v with %d completion tokens", tm, last.Usage.CompletionTokens)
	}
}

// decodeSteps returns the decode steps by batch size from /metrics.
func decodeSteps(t *testing.T, url string) map[int]int {
	t.Helper()
	out := map[int]int{}
	for _, m := range regexp.MustCompile(`cogedge_decode_steps_total\{batch="(\d+)"\} (\d+)`).FindAllStringSubmatch(metricsText(t, url), -1) {
		b, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		out[b] = n
	}
	return out
}

func metricsText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestBatchedEqualsSequential: four clients at once, decoded together
// (the scheduler waits until all four are queued), get the answers the
// same requests get one at a time, wherever the reference's logit margins
// are decisive; one at a time they equal the reference exactly.
func TestBatchedEqualsSequential(t *testing.T) {
	const n = 16
	extra := fmt.Sprintf(`,"max_tokens":%d`, n)
	_, seqURL := start(t, Config{Parallel: 1}, nil)
	var once sync.Once
	wait := func(s *Server) {
		once.Do(func() {
			for len(s.queue) < len(questions) {
				time.Sleep(time.Millisecond)
			}
		})
	}
	_, batURL := start(t, Config{Parallel: 4}, wait)
	_, tok := openModel(t)
	seq := make([]string, len(questions))
	for i, q := range questions {
		seq[i] = answer(t, seqURL, chatBody(q, extra)).Choices[0].Message.Content
		ids, margins := greedy(t, q, n)
		if ids[len(ids)-1] == tok.EOS() {
			ids = ids[:len(ids)-1]
		}
		if seq[i] != tok.Decode(ids) {
			t.Errorf("%q: sequential answer %q, reference %q", q, seq[i], tok.Decode(ids))
		}
		if prefix, all := decisive(t, ids, margins); !all {
			t.Logf("%q: margins decisive for the first %d bytes only", q, len(prefix))
		}
	}
	bodies := make([]string, len(questions))
	for i, q := range questions {
		bodies[i] = chatBody(q, extra)
	}
	bat := concurrentAnswers(t, batURL, bodies)
	for i, q := range questions {
		ids, margins := greedy(t, q, n)
		prefix, all := decisive(t, ids, margins)
		if all && bat[i] != seq[i] || !strings.HasPrefix(bat[i], prefix) {
			t.Errorf("%q: batched %q, one at a time %q (decisive prefix %q)", q, bat[i], seq[i], prefix)
		}
	}
	if steps := decodeSteps(t, batURL); steps[4] < n-2 {
		t.Errorf("decode steps by batch size %v: the four answers were not decoded together", steps)
	}
}

// concurrentAnswers posts every body at once and returns the answers.
func concurrentAnswers(t *testing.T, url string, bodies []string) []string {
	t.Helper()
	out := make([]string, len(bodies))
	var wg sync.WaitGroup
	for i, body := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, b := post(t, url, body)
			var c completion
			if code != http.StatusOK || json.Unmarshal(b, &c) != nil || len(c.Choices) != 1 {
				t.Errorf("request %d: status %d: %s", i, code, b)
				return
			}
			out[i] = c.Choices[0].Message.Content
		}()
	}
	wg.Wait()
	return out
}

// TestDisconnect: a client that leaves mid-stream cancels its generation
// and frees the only slot for the next request.
func TestDisconnect(t *testing.T) {
	_, url := start(t, Config{Parallel: 1, ContextSize: 2048}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/chat/completions",
		strings.NewReader(chatBody(questions[2], `,"max_tokens":2000,"stream":true,"temperature":1,"seed":1`)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	for events := 0; events < 3; {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "data: ") {
			events++
		}
	}
	cancel()
	resp.Body.Close()
	c := answer(t, url, chatBody(questions[3], `,"max_tokens":4`))
	if c.Choices[0].FinishReason == "" {
		t.Error("no answer after the disconnect")
	}
	mt := metricsText(t, url)
	if !strings.Contains(mt, "cogedge_canceled_total 1\n") {
		t.Errorf("the canceled generation was not counted:\n%s", mt)
	}
	gen := regexp.MustCompile(`cogedge_generated_tokens_total (\d+)`).FindStringSubmatch(mt)
	if n, _ := strconv.Atoi(gen[1]); n >= 2000 {
		t.Errorf("%d tokens generated: the first answer ran to its end", n)
	}
}

// TestQueueFull: with one slot busy and the queue full, a request gets
// 503 with Retry-After and an OpenAI error body; the queued ones finish.
func TestQueueFull(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	hold := func(s *Server) { once.Do(func() { <-release }) }
	s, url := start(t, Config{Parallel: 1, Queue: 1}, hold)
	first := make(chan int, 1)
	go func() {
		code, _, _ := post(t, url, chatBody(questions[0], `,"max_tokens":3`))
		first <- code
	}()
	for len(s.queue) < 1 {
		time.Sleep(time.Millisecond)
	}
	code, h, b := post(t, url, chatBody(questions[1], `,"max_tokens":3`))
	checkError(t, "queue full", code, b, http.StatusServiceUnavailable, "server_error")
	if h.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	close(release)
	if code := <-first; code != http.StatusOK {
		t.Errorf("queued request: status %d", code)
	}
	answer(t, url, chatBody(questions[1], `,"max_tokens":3`))
}

// checkError checks an OpenAI-style error answer.
func checkError(t *testing.T, name string, code int, body []byte, wantCode int, wantType string) {
	t.Helper()
	var e struct {
		Error struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		} `json:"error"`
	}
	if code != wantCode {
		t.Errorf("%s: status %d, want %d: %s", name, code, wantCode, body)
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" || e.Error.Type != wantType {
		t.Errorf("%s: body %s: want an error object of type %s", name, body, wantType)
	}
}

func pngDataURL(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	img.Set(0, 0, color.NRGBA{1, 2, 3, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

func imageBody(url string, extra string) string {
	u, _ := json.Marshal(url)
	return fmt.Sprintf(`{"messages":[{"role":"user","content":[{"type":"text","text":"What is it?"},{"type":"image_url","image_url":{"url":%s}}]}],"max_tokens":3,"temperature":0%s}`, u, extra)
}

// TestBadRequests: every malformed or over-limit request gets a 4xx with
// an OpenAI error body, and the server still answers afterwards (no slot
// stuck, no crash).
func TestBadRequests(t *testing.T) {
	_, url := start(t, Config{Parallel: 2, MaxBodyBytes: 256 << 10, MaxImagePixels: 10000, MaxPromptTokens: 100, ContextSize: 256}, nil)
	small := pngDataURL(t, 40, 30)
	huge := pngDataURL(t, 200, 100) // 20,000 pixels > 10,000
	long := strings.Repeat("many words ", 200)
	bad := "invalid_request_error"
	for _, tc := range []struct {
		name, body string
		code       int
	}{
		{"not JSON", `{"messages": [`, 400},
		{"empty body", ``, 400},
		{"trailing data", chatBody("hi", "") + `{}`, 400},
		{"array body", `[1,2]`, 400},
		{"model is a number", `{"model":7,"messages":[{"role":"user","content":"hi"}]}`, 400},
		{"messages is a string", `{"messages":"hi"}`, 400},
		{"max_tokens is a string", chatBody("hi", `,"max_tokens":"8"`), 400},
		{"temperature is a string", chatBody("hi", `,"temperature":"hot"`), 400},
		{"stream is a string", chatBody("hi", `,"stream":"yes"`), 400},
		{"stop is a number", chatBody("hi", `,"stop":5`), 400},
		{"unknown model", `{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}`, 404},
		{"n = 2", chatBody("hi", `,"n":2`), 400},
		{"max_tokens 0", chatBody("hi", `,"max_tokens":0`), 400},
		{"max_tokens huge", chatBody("hi", `,"max_tokens":100000000`), 400},
		{"temperature 3", chatBody("hi", `,"temperature":3`), 400},
		{"top_p 0", chatBody("hi", `,"top_p":0`), 400},
		{"top_k -1", chatBody("hi", `,"top_k":-1`), 400},
		{"five stops", chatBody("hi", `,"stop":["a","b","c","d","e"]`), 400},
		{"empty stop", chatBody("hi", `,"stop":""`), 400},
		{"no messages", `{"messages":[]}`, 400},
		{"ends with assistant", `{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}`, 400},
		{"two user messages", `{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}`, 400},
		{"unknown role", `{"messages":[{"role":"wizard","content":"a"}]}`, 400},
		{"content is a number", `{"messages":[{"role":"user","content":5}]}`, 400},
		{"content missing", `{"messages":[{"role":"user"}]}`, 400},
		{"unknown part type", `{"messages":[{"role":"user","content":[{"type":"audio"}]}]}`, 400},
		{"data URL not base64", imageBody("data:image/png,abc", ""), 400},
		{"bad base64", imageBody("data:image/png;base64,!!!!", ""), 400},
		{"not an image", imageBody("data:image/png;base64,"+base64.StdEncoding.EncodeToString([]byte("hello world, not a picture")), ""), 400},
		{"truncated image", imageBody(small[:len(small)/2], ""), 400},
		{"too many pixels", imageBody(huge, ""), 413},
		{"remote URL", imageBody("https://example.com/cat.png", ""), 400},
		{"local path refused", imageBody(chelsea, ""), 400},
		{"image_url is a number", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":5}]}]}`, 400},
		{"two images", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"` + small + `"}},{"type":"image_url","image_url":{"url":"` + small + `"}}]}]}`, 400},
		{"image from the assistant", `{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"` + small + `"}}]},{"role":"user","content":"b"}]}`, 400},
		{"prompt too long", chatBody(long, ""), 400},
		{"body too large", chatBody(strings.Repeat("x", 300<<10), ""), 413},
	} {
		code, _, b := post(t, url, tc.body)
		wantType := bad
		checkError(t, tc.name, code, b, tc.code, wantType)
	}
	// wrong method, unknown path
	resp, err := http.Get(url + "/v1/chat/completions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET on the chat endpoint: status %d, want 405", resp.StatusCode)
	}
	resp, err = http.Get(url + "/v1/nothing")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkError(t, "unknown path", resp.StatusCode, b, http.StatusNotFound, bad)
	// the server still answers, with both slots
	var wg sync.WaitGroup
	for _, q := range questions[:2] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _, b := post(t, url, chatBody(q, `,"max_tokens":3`)); code != http.StatusOK {
				t.Errorf("after the bad requests: status %d: %s", code, b)
			}
		}()
	}
	wg.Wait()
	// a picture within the limits is accepted
	if code, _, b := post(t, url, imageBody(small, "")); code != http.StatusOK {
		t.Errorf("small picture: status %d: %s", code, b)
	}
}

// TestAPIKey: with a key, /v1/* and /metrics need it; /health does not.
func TestAPIKey(t *testing.T) {
	_, url := start(t, Config{APIKey: "sesame"}, nil)
	code, _, b := post(t, url, chatBody("hi", `,"max_tokens":2`))
	checkError(t, "no key", code, b, http.StatusUnauthorized, "authentication_error")
	code, _, b = post(t, url, chatBody("hi", `,"max_tokens":2`), "Authorization", "Bearer wrong")
	checkError(t, "wrong key", code, b, http.StatusUnauthorized, "authentication_error")
	if code, _, b := post(t, url, chatBody("hi", `,"max_tokens":2`), "Authorization", "Bearer sesame"); code != http.StatusOK {
		t.Errorf("right key: status %d: %s", code, b)
	}
	for path, want := range map[string]int{"/health": 200, "/metrics": 401, "/v1/models": 401} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s without key: status %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// TestModelsHealthDrain: /v1/models lists the model, /health is ok until
// Drain, after which new requests get 503.
func TestModelsHealthDrain(t *testing.T) {
	s, url := start(t, Config{ModelName: "tiny", ModelBytes: 5518016, ModelParams: 1234567}, nil)
	resp, err := http.Get(url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Data []struct {
			ID   string `json:"id"`
			Meta struct {
				Size    int64  `json:"size"`
				NParams uint64 `json:"n_params"`
			} `json:"meta"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Data) != 1 || list.Data[0].ID != "tiny" || list.Data[0].Meta.Size != 5518016 || list.Data[0].Meta.NParams != 1234567 {
		t.Errorf("models %+v", list)
	}
	get := func(path string) int {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get("/health"); c != 200 {
		t.Errorf("health %d", c)
	}
	if err := s.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := get("/health"); c != 503 {
		t.Errorf("health while draining %d, want 503", c)
	}
	code, h, b := post(t, url, chatBody("hi", ""))
	checkError(t, "after drain", code, b, http.StatusServiceUnavailable, "server_error")
	if h.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	mt := metricsText(t, url)
	for _, name := range []string{"cogedge_requests_total{code=\"503\"}", "cogedge_queue_depth 0", "cogedge_decode_tokens_per_second",
		"cogedge_time_to_first_token_seconds_count", "cogedge_image_cache_hits_total"} {
		if !strings.Contains(mt, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

// TestLocalImageAndCache: with --allow-local-images a path works; the
// second question about the picture restores its prefix from the image
// cache and gives the answer computed without it.
func TestLocalImageAndCache(t *testing.T) {
	cache, err := imagecache.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	id, err := imagecache.ModelID(testModel)
	if err != nil {
		t.Fatal(err)
	}
	_, plain := start(t, Config{AllowLocalImages: true}, nil)
	_, url := start(t, Config{AllowLocalImages: true, Cache: cache, ModelID: id}, nil)
	path, _ := filepath.Abs(chelsea)
	want := answer(t, plain, imageBody(path, ""))
	for i := 0; i < 2; i++ {
		got := answer(t, url, imageBody("file://"+path, ""))
		if got.Choices[0].Message.Content != want.Choices[0].Message.Content || got.Usage != want.Usage {
			t.Errorf("question %d with the cache: %+v, without %+v", i, got, want)
		}
	}
	mt := metricsText(t, url)
	if !strings.Contains(mt, "cogedge_image_cache_hits_total 1\n") || !strings.Contains(mt, "cogedge_image_cache_misses_total 1\n") {
		t.Errorf("want one miss then one hit:\n%s", mt)
	}
	data, _ := os.ReadFile(chelsea)
	if got := answer(t, url, imageBody("data:image/png;base64,"+base64.StdEncoding.EncodeToString(data), "")); got.Choices[0].Message.Content != want.Choices[0].Message.Content {
		t.Errorf("data URL answer %q, path answer %q", got.Choices[0].Message.Content, want.Choices[0].Message.Content)
	}
}

// TestConfigErrors: New refuses a configuration it cannot serve.
func TestConfigErrors(t *testing.T) {
	m, tok := openModel(t)
	cache, err := imagecache.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]Config{
		"no model":            {Tokenizer: tok},
		"no tokenizer":        {Model: m},
		"parallel 300":        {Model: m, Tokenizer: tok, Parallel: 300},
		"negative queue":      {Model: m, Tokenizer: tok, Queue: -1},
		"unknown template":    {Model: m, Tokenizer: tok, Template: "limerick"},
		"context 1":           {Model: m, Tokenizer: tok, ContextSize: 1},
		"cache without model": {Model: m, Tokenizer: tok, Cache: cache},
	} {
		if s, err := New(cfg); err == nil {
			s.Close()
			t.Errorf("%s: no error", name)
		}
	}
}

// The trained demo model (testdata/shapes-demo.gguf.zst, decompressed once
// per test binary): its answers about its pictures have decisive logits,
// so batched and one-at-a-time greedy answers must match exactly.
var demo struct {
	once sync.Once
	dir  string
	m    *model.Model
	tok  *tokenizer.Tokenizer
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demo.dir != "" {
		if demo.m != nil {
			demo.m.Close()
		}
		os.RemoveAll(demo.dir)
	}
	os.Exit(code)
}

func openDemo(t *testing.T) (*model.Model, *tokenizer.Tokenizer) {
	t.Helper()
	demo.once.Do(func() {
		if demo.dir, demo.err = os.MkdirTemp("", "cogedge-server-demo-"); demo.err != nil {
			return
		}
		var path string
		if path, demo.err = zstdcache.Open("../testdata/shapes-demo.gguf.zst", demo.dir); demo.err != nil {
			return
		}
		if demo.m, demo.err = model.Open(path, ""); demo.err != nil {
			return
		}
		var v *tokenizer.Vocab
		if v, demo.err = tokenizer.VocabFromGGUF(demo.m.File()); demo.err != nil {
			return
		}
		demo.tok, demo.err = tokenizer.New(v)
	})
	if demo.err != nil {
		t.Fatal(demo.err)
	}
	return demo.m, demo.tok
}

// TestBatchedEqualsSequentialDemo: four clients ask the demo model about
// four pictures at once, decoded together; every answer equals the one the
// same request gets alone.
func TestBatchedEqualsSequentialDemo(t *testing.T) {
	m, tok := openDemo(t)
	serveDemo := func(parallel int, hook func(*Server)) string {
		_, url := start(t, Config{Model: m, Tokenizer: tok, ModelName: "demo", Parallel: parallel}, hook)
		return url
	}
	bodies := make([]string, 4)
	for i := range bodies {
		pic := shapes.Generate(2026, uint64(i))
		var b bytes.Buffer
		if err := png.Encode(&b, pic.Draw()); err != nil {
			t.Fatal(err)
		}
		qs := pic.Questions()
		q, _ := json.Marshal(qs[i%len(qs)].Text)
		u := "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
		bodies[i] = fmt.Sprintf(`{"messages":[{"role":"user","content":[{"type":"text","text":%s},{"type":"image_url","image_url":{"url":%q}}]}],"max_tokens":40,"temperature":0}`, q, u)
	}
	seqURL := serveDemo(1, nil)
	var once sync.Once
	batURL := serveDemo(4, func(s *Server) {
		once.Do(func() {
			for len(s.queue) < len(bodies) {
				time.Sleep(time.Millisecond)
			}
		})
	})
	seq := make([]string, len(bodies))
	for i, body := range bodies {
		seq[i] = answer(t, seqURL, body).Choices[0].Message.Content
		if seq[i] == "" {
			t.Errorf("request %d: empty answer", i)
		}
	}
	bat := concurrentAnswers(t, batURL, bodies)
	for i := range bodies {
		if bat[i] != seq[i] {
			t.Errorf("request %d: batched %q, alone %q", i, bat[i], seq[i])
		}
	}
	if steps := decodeSteps(t, batURL); steps[4] == 0 {
		t.Errorf("decode steps by batch size %v: the four answers were not decoded together", steps)
	}
	t.Logf("answers: %q", seq)
}
