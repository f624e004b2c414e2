package server

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// metrics are the counters GET /metrics reports in the Prometheus text
// format.
type metrics struct {
	promptTokens atomic.Int64
	generated    atomic.Int64
	completed    atomic.Int64
	canceled     atomic.Int64
	cacheHits    atomic.Int64
	cacheMisses  atomic.Int64

	mu         sync.Mutex
	requests   map[int]int64 // by status code
	decodeToks int64         // tokens decoded by batched steps
	decodeSecs float64
	lastRate   float64 // tokens/s of the last step, all slots together
	lastBatch  int
	steps      map[int]int64 // decode steps by batch size
	ttft       histogram
}

func newMetrics() *metrics {
	return &metrics{requests: map[int]int64{}, steps: map[int]int64{},
		ttft: histogram{bounds: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}}}
}

func (m *metrics) decodeStep(n int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.decodeToks += int64(n)
	m.decodeSecs += d.Seconds()
	if d > 0 {
		m.lastRate = float64(n) / d.Seconds()
	}
	m.lastBatch = n
	m.steps[n]++
}

// histogram is a Prometheus histogram with fixed upper bounds.
type histogram struct {
	mu     sync.Mutex
	bounds []float64
	counts []int64 // per bound, not cumulative
	count  int64
	sum    float64
}

func (h *histogram) observe(v float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.counts == nil {
		h.counts = make([]int64, len(h.bounds))
	}
	i := sort.SearchFloat64s(h.bounds, v)
	if i < len(h.counts) {
		h.counts[i]++
	}
	h.count++
	h.sum += v
}

func (h *histogram) write(w io.Writer, name, help string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	cum := int64(0)
	for i, b := range h.bounds {
		if h.counts != nil {
			cum += h.counts[i]
		}
		fmt.Fprintf(w, "%s_bucket{le=\"%s\"} %d\n", name, strconv.FormatFloat(b, 'g', -1, 64), cum)
	}
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", name, h.count, name, h.sum, name, h.count)
}

// statusWriter records the status code a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// count wraps h to count requests by status code.
func (m *metrics) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		m.mu.Lock()
		m.requests[sw.status]++
		m.mu.Unlock()
	})
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	m := s.metrics
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.mu.Lock()
	labeled(w, "cogedge_requests_total", "HTTP requests answered, by status code.", "code", m.requests)
	labeled(w, "cogedge_decode_steps_total", "Decode steps, by the number of conversations decoded together.", "batch", m.steps)
	decodeToks, decodeSecs, lastRate, lastBatch := m.decodeToks, m.decodeSecs, m.lastRate, m.lastBatch
	m.mu.Unlock()
	avg := 0.0
	if decodeSecs > 0 {
		avg = float64(decodeToks) / decodeSecs
	}
	gauge := func(name, help string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = 0
		}
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", name, help, name, name, v)
	}
	counter := func(name, help string, v float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %g\n", name, help, name, name, v)
	}
	gauge("cogedge_queue_depth", "Requests waiting for a slot.", float64(len(s.queue)))
	gauge("cogedge_slots", "Conversations decoded together at most (--parallel).", float64(len(s.slots)))
	gauge("cogedge_decode_batch", "Conversations in the last decode step.", float64(lastBatch))
	gauge("cogedge_decode_tokens_per_second", "Tokens per second of the last decode step, all conversations together.", lastRate)
	gauge("cogedge_decode_tokens_per_second_avg", "Tokens per second over all decode steps so far, all conversations together.", avg)
	counter("cogedge_prompt_tokens_total", "Prompt slots prefilled or restored (image rows included).", float64(m.promptTokens.Load()))
	counter("cogedge_generated_tokens_total", "Tokens generated.", float64(m.generated.Load()))
	counter("cogedge_completions_total", "Answers finished (stop or length).", float64(m.completed.Load()))
	counter("cogedge_canceled_total", "Requests whose client left before the answer was finished.", float64(m.canceled.Load()))
	counter("cogedge_image_cache_hits_total", "Pictures whose image prefix came from the image cache.", float64(m.cacheHits.Load()))
	counter("cogedge_image_cache_misses_total", "Pictures encoded and prefilled.", float64(m.cacheMisses.Load()))
	m.ttft.write(w, "cogedge_time_to_first_token_seconds", "Time from a request's arrival to its first token (queue, image and prefill included).")
}

// labeled writes a counter with one label, in the label's numeric order.
func labeled(w io.Writer, name, help, label string, values map[int]int64) {
	keys := make([]int, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
	for _, k := range keys {
		fmt.Fprintf(w, "%s{%s=\"%d\"} %d\n", name, label, k, values[k])
	}
}
