// Package server answers OpenAI-compatible chat completion requests with a
// CogVLM model: POST /v1/chat/completions (streaming as server-sent events
// or not), GET /v1/models, GET /health and GET /metrics (Prometheus text).
//
// One scheduler goroutine owns the model: it admits queued requests into
// up to Parallel slots, each with its own KV cache, prefills each new
// prompt (the image prefix through the image cache) and then decodes one
// token for every active slot per step with a model.Batcher, so the
// weights are read once per step for all of them. Handlers parse and
// check a request, decode its picture and tokenize its prompt before it
// is queued; a full queue is answered 503 with Retry-After, a client that
// leaves frees its slot at the next step, and Drain finishes what was
// accepted and refuses the rest.
package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cogedge/cogedge/grounding"
	"github.com/cogedge/cogedge/imagecache"
	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/kernels/metal"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/model/imageproc"
	"github.com/cogedge/cogedge/model/prompt"
	"github.com/cogedge/cogedge/model/sample"
	"github.com/cogedge/cogedge/model/tokenizer"
)

// Config configures a Server. Zero values take the defaults named.
type Config struct {
	Model     *model.Model
	Tokenizer *tokenizer.Tokenizer
	// ModelName is the id /v1/models lists and requests must name.
	ModelName string
	// ModelBytes and ModelParams describe the model in /v1/models as
	// "meta": {"size", "n_params"} (llama.cpp's fields; left out when 0).
	ModelBytes  int64
	ModelParams uint64
	// Template is the prompt template (default: the model's).
	Template string
	// Parallel is the number of conversations decoded together (default 1).
	Parallel int
	// Queue is how many accepted requests may wait for a slot (default 16);
	// beyond it requests get 503.
	Queue int
	// ContextSize is each slot's KV cache in slots, image rows included
	// (default: the model's context length, else 2048).
	ContextSize int
	KV          model.KVType
	Threads     int // kernel threads (default: all CPUs)
	// APIKey, when set, is required as "Authorization: Bearer KEY" on
	// /v1/* and /metrics.
	APIKey string
	// AllowLocalImages lets image_url name a file on the server.
	AllowLocalImages bool
	// MaxBodyBytes bounds a request body (default 32 MiB).
	MaxBodyBytes int64
	// MaxImagePixels bounds a picture's width×height (default 50 M).
	MaxImagePixels int64
	// MaxPromptTokens bounds a prompt's slots, image rows included
	// (default and at most ContextSize-1).
	MaxPromptTokens int
	// DefaultMaxTokens is max_tokens when a request gives none (default 512).
	DefaultMaxTokens int
	// Cache is the image KV cache (nil: none); ModelID keys its entries.
	Cache   *imagecache.Cache
	ModelID string
	// Log receives one line per notable event (nil: quiet).
	Log io.Writer
	// Device, when set, runs every conversation's decoder on this GPU
	// device (model.DeviceContext) instead of the CPU: the conversations
	// then decode one after another, each step one command buffer, and
	// the image cache is not used (the KV state lives on the device).
	Device metal.Device
}

// Server is an OpenAI-compatible chat server over one model.
type Server struct {
	cfg     Config
	m       *model.Model
	tok     *tokenizer.Tokenizer
	pool    *kernels.Pool
	batcher *model.Batcher
	slots   []*slot
	lim     limits
	metrics *metrics

	mu       sync.Mutex // guards draining and sends on queue
	draining bool
	queue    chan *job
	done     chan struct{} // closed when the scheduler has finished
	logMu    sync.Mutex

	// hook, when set (tests), runs at the top of every scheduler turn.
	hook func(*Server)
}

// New checks cfg, starts the scheduler and returns the server.
func New(cfg Config) (*Server, error) { return newServer(cfg, nil) }

func newServer(cfg Config, hook func(*Server)) (*Server, error) {
	m := cfg.Model
	if m == nil || cfg.Tokenizer == nil {
		return nil, errors.New("server: a model with a tokenizer is required")
	}
	if cfg.ModelName == "" {
		cfg.ModelName = "cogvlm"
	}
	if cfg.Template == "" {
		cfg.Template = m.Template
	}
	if _, err := prompt.Build(cfg.Template, nil, ""); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if cfg.Parallel == 0 {
		cfg.Parallel = 1
	}
	if cfg.Queue == 0 {
		cfg.Queue = 16
	}
	if cfg.ContextSize == 0 {
		cfg.ContextSize = m.Text.ContextLength
		if cfg.ContextSize <= 0 {
			cfg.ContextSize = 2048
		}
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	if cfg.MaxImagePixels == 0 {
		cfg.MaxImagePixels = 50_000_000
	}
	if cfg.MaxPromptTokens == 0 || cfg.MaxPromptTokens > cfg.ContextSize-1 {
		cfg.MaxPromptTokens = cfg.ContextSize - 1
	}
	if cfg.DefaultMaxTokens == 0 {
		cfg.DefaultMaxTokens = 512
	}
	switch {
	case cfg.Parallel < 1 || cfg.Parallel > 256:
		return nil, fmt.Errorf("server: parallel %d: want 1 to 256", cfg.Parallel)
	case cfg.Queue < 0:
		return nil, fmt.Errorf("server: queue %d: want 0 or more", cfg.Queue)
	case cfg.ContextSize < 2:
		return nil, fmt.Errorf("server: context size %d: want at least 2", cfg.ContextSize)
	case cfg.MaxBodyBytes < 1 || cfg.MaxImagePixels < 1 || cfg.MaxPromptTokens < 1 || cfg.DefaultMaxTokens < 1:
		return nil, errors.New("server: limits must be positive")
	case cfg.Cache != nil && cfg.ModelID == "":
		return nil, errors.New("server: an image cache needs the ModelID of the model files")
	}
	s := &Server{cfg: cfg, m: m, tok: cfg.Tokenizer, pool: kernels.NewPool(cfg.Threads),
		queue: make(chan *job, cfg.Queue), done: make(chan struct{}), metrics: newMetrics(), hook: hook}
	s.lim = limits{maxImagePixels: cfg.MaxImagePixels, maxImageBytes: cfg.MaxBodyBytes, allowLocalImages: cfg.AllowLocalImages,
		maxTokens: cfg.ContextSize, defaultMaxTokens: cfg.DefaultMaxTokens}
	b, err := m.NewBatcher(cfg.Parallel, s.pool)
	if err != nil {
		s.pool.Close()
		return nil, err
	}
	s.batcher = b
	for i := 0; i < cfg.Parallel; i++ {
		s.slots = append(s.slots, &slot{})
	}
	go s.loop()
	return s, nil
}

// Handler returns the HTTP routes. Each route is its own handler on a
// ServeMux, so pages (e.g. GET /) can be added beside them.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Register(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, typ: "invalid_request_error",
			message: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)})
	})
	return s.metrics.count(mux)
}

// Register adds the API routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	route(mux, "POST", "/v1/chat/completions", s.auth(http.HandlerFunc(s.chat)))
	route(mux, "GET", "/v1/models", s.auth(http.HandlerFunc(s.models)))
	route(mux, "GET", "/metrics", s.auth(http.HandlerFunc(s.serveMetrics)))
	route(mux, "GET", "/health", http.HandlerFunc(s.health))
}

// route registers h for method and path, and a 405 with an error body for
// the path's other methods.
func route(mux *http.ServeMux, method, path string, h http.Handler) {
	mux.Handle(method+" "+path, h)
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", method)
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, typ: "invalid_request_error",
			message: fmt.Sprintf("%s %s: use %s", r.Method, path, method)})
	})
}

// Drain stops accepting requests (they get 503), lets every accepted one
// finish and returns when the scheduler is done or ctx ends.
func (s *Server) Drain(ctx context.Context) error {
	s.mu.Lock()
	if !s.draining {
		s.draining = true
		close(s.queue)
	}
	s.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close drains without a deadline and releases the kernel threads.
func (s *Server) Close() {
	s.Drain(context.Background())
	for _, sl := range s.slots {
		if sl.c != nil {
			sl.c.Close()
		}
	}
	s.pool.Close()
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Log == nil {
		return
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.cfg.Log, "cogedge serve: "+format+"\n", args...)
}

func (s *Server) auth(h http.Handler) http.Handler {
	if s.cfg.APIKey == "" {
		return h
	}
	want := []byte("Bearer " + s.cfg.APIKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			writeError(w, &apiError{status: http.StatusUnauthorized, typ: "authentication_error", code: "invalid_api_key",
				message: "missing or wrong API key (send Authorization: Bearer KEY)"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, e.body())
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	draining := s.draining
	s.mu.Unlock()
	if draining {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	entry := map[string]any{"id": s.cfg.ModelName, "object": "model", "created": 0, "owned_by": "cogedge"}
	if s.cfg.ModelBytes > 0 || s.cfg.ModelParams > 0 {
		entry["meta"] = map[string]any{"size": s.cfg.ModelBytes, "n_params": s.cfg.ModelParams}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []map[string]any{entry}})
}

// request is a checked chat request ready to queue.
type request struct {
	job    *job
	stream bool
	imgW   int // original picture size, for the boxes (0: no picture)
	imgH   int
}

// parse checks a chat request and prepares its job (picture decoded and
// preprocessed, prompt tokenized).
func (s *Server) parse(w http.ResponseWriter, r *http.Request, arrived time.Time) (*request, *apiError) {
	var cr chatRequest
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), &cr); err != nil {
		return nil, err
	}
	if cr.Model != "" && cr.Model != s.cfg.ModelName {
		return nil, &apiError{status: http.StatusNotFound, typ: "invalid_request_error", param: "model", code: "model_not_found",
			message: fmt.Sprintf("model %q does not exist (this server has %q)", cr.Model, s.cfg.ModelName)}
	}
	opts, aerr := parseOptions(&cr, &s.lim)
	if aerr != nil {
		return nil, aerr
	}
	conv, aerr := parseMessages(cr.Messages, &s.lim)
	if aerr != nil {
		return nil, aerr
	}
	req := &request{stream: cr.Stream}
	j := &job{ctx: r.Context(), maxTokens: opts.maxTokens, stop: opts.stop, arrived: arrived}
	nImg := 0
	if conv.image != nil {
		vc := s.m.Vision
		if vc == nil {
			return nil, badRequest(conv.imgDesc, "%s: this model has no vision tower", conv.imgDesc)
		}
		rgb, w, h, aerr := decodeImage(conv.image, conv.imgDesc, &s.lim)
		if aerr != nil {
			return nil, aerr
		}
		S := vc.ImageSize
		j.pixels = imageproc.Normalize(imageproc.ResizeBicubic(rgb, w, h, S, S), S, S, vc.ImageMean, vc.ImageStd)
		j.key = imagecache.NewKey(s.cfg.ModelID, s.cfg.KV, j.pixels)
		req.imgW, req.imgH = w, h
		nImg = vc.ImageTokens
	}
	text, err := prompt.Build(s.cfg.Template, conv.history, conv.query)
	if err != nil {
		return nil, badRequest("messages", "%v", err)
	}
	j.ids = s.tok.Encode(text, false)
	if n := 1 + nImg + len(j.ids); n > s.cfg.MaxPromptTokens {
		return nil, &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", param: "messages", code: "context_length_exceeded",
			message: fmt.Sprintf("the prompt takes %d slots (%d of them the image); this server takes at most %d", n, nImg, s.cfg.MaxPromptTokens)}
	}
	seed := uint64(time.Now().UnixNano())
	if opts.seed != nil {
		seed = uint64(*opts.seed)
	}
	j.params = sample.Params{Temperature: opts.temperature, TopK: opts.topK, TopP: opts.topP, Seed: seed}
	j.events = make(chan event, j.maxTokens+4)
	req.job = j
	return req, nil
}

// enqueue hands j to the scheduler unless the server drains or the queue
// is full.
func (s *Server) enqueue(j *job) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return &apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "shutting_down", message: "the server is shutting down"}
	}
	select {
	case s.queue <- j:
		return nil
	default:
		return &apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "queue_full",
			message: fmt.Sprintf("all %d slots are busy and %d requests wait: try again shortly", s.cfg.Parallel, s.cfg.Queue)}
	}
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return "chatcmpl-" + hex.EncodeToString(b[:])
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	req, aerr := s.parse(w, r, time.Now())
	if aerr == nil {
		aerr = s.enqueue(req.job)
	}
	if aerr != nil {
		if aerr.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		writeError(w, aerr)
		return
	}
	id, created := newID(), time.Now().Unix()
	if req.stream {
		s.stream(w, r, req, id, created)
		return
	}
	var text strings.Builder
	for ev := range req.job.events {
		if !ev.final {
			text.WriteString(ev.text)
			continue
		}
		if ev.err != nil {
			if r.Context().Err() == nil {
				writeError(w, &apiError{status: http.StatusInternalServerError, typ: "server_error", message: ev.err.Error()})
			}
			return
		}
		content := text.String()
		msg := &respMessage{Role: "assistant", Content: &content, Boxes: s.boxes(req, content)}
		writeJSON(w, http.StatusOK, chatResponse{ID: id, Object: "chat.completion", Created: created, Model: s.cfg.ModelName,
			Choices: []chatChoice{{Message: msg, FinishReason: &ev.finish}},
			Usage:   &usage{PromptTokens: ev.promptTokens, CompletionTokens: ev.completion, TotalTokens: ev.promptTokens + ev.completion},
			Timings: newTimings(ev)})
		return
	}
}

// boxes parses the grounding boxes of an answer into pixels of the
// request's picture (none without a picture).
func (s *Server) boxes(req *request, text string) []grounding.Box {
	if req.imgW == 0 {
		return nil
	}
	return grounding.ParseAnswer(text, req.imgW, req.imgH).Boxes
}

// stream answers as server-sent events: chat.completion.chunk objects,
// then "data: [DONE]".
func (s *Server) stream(w http.ResponseWriter, r *http.Request, req *request, id string, created int64) {
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	send := func(v any) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	chunk := func(d *respMessage, finish *string) chatResponse {
		return chatResponse{ID: id, Object: "chat.completion.chunk", Created: created, Model: s.cfg.ModelName,
			Choices: []chatChoice{{Delta: d, FinishReason: finish}}}
	}
	empty := ""
	if !send(chunk(&respMessage{Role: "assistant", Content: &empty}, nil)) {
		return // the scheduler sees the request's context end
	}
	var text strings.Builder
	for {
		select {
		case <-r.Context().Done():
			return
		case ev := <-req.job.events:
			if !ev.final {
				text.WriteString(ev.text)
				t := ev.text
				if !send(chunk(&respMessage{Content: &t}, nil)) {
					return
				}
				continue
			}
			if ev.err != nil {
				send((&apiError{status: http.StatusInternalServerError, typ: "server_error", message: ev.err.Error()}).body())
				return
			}
			last := chunk(&respMessage{Boxes: s.boxes(req, text.String())}, &ev.finish)
			last.Usage = &usage{PromptTokens: ev.promptTokens, CompletionTokens: ev.completion, TotalTokens: ev.promptTokens + ev.completion}
			last.Timings = newTimings(ev)
			send(last)
			fmt.Fprint(w, "data: [DONE]\n\n")
			if fl != nil {
				fl.Flush()
			}
			return
		}
	}
}
