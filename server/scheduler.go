package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cogedge/cogedge/imagecache"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/model/sample"
	"github.com/cogedge/cogedge/model/tokenizer"
)

// job is one admitted request on its way through the scheduler.
type job struct {
	ctx       context.Context // the request's: done when the client leaves
	ids       []int32         // templated text prompt, no BOS
	pixels    []float32       // preprocessed picture, nil for none
	key       imagecache.Key
	params    sample.Params
	maxTokens int
	stop      []string
	arrived   time.Time
	firstAt   time.Time  // when the first token was sampled
	events    chan event // buffered for every event the job can send
}

// event is what the scheduler tells a request's handler: a piece of text,
// then one final event with the finish reason (or an error).
type event struct {
	text         string
	final        bool
	finish       string // "stop" or "length"
	err          error
	promptTokens int
	completion   int
	promptTime   time.Duration // arrival to first token (final event)
	decodeTime   time.Duration // first token to the last (final event)
}

// slot is one conversation being decoded, with its own KV cache (a CPU
// context, or a device context with Config.Device).
type slot struct {
	c      model.Sequence
	j      *job
	smp    *sample.Sampler
	hist   []int32
	dec    *tokenizer.StreamDecoder
	out    strings.Builder // text so far
	sent   int             // bytes of out already sent
	next   int32           // token to feed at the next step
	n      int             // tokens generated
	prompt int             // prompt slots
	logits []float32
}

// loop runs the conversations: it admits queued jobs into free slots
// (prefilling each), then decodes one token for every active slot per
// step through the Batcher, until the queue is closed and every slot is
// done.
func (s *Server) loop() {
	defer close(s.done)
	for {
		if s.hook != nil {
			s.hook(s)
		}
		s.admit()
		if s.active() == 0 {
			j, ok := <-s.queue
			if !ok {
				return
			}
			s.start(s.freeSlot(), j)
			continue
		}
		s.step()
	}
}

func (s *Server) active() int {
	n := 0
	for _, sl := range s.slots {
		if sl.j != nil {
			n++
		}
	}
	return n
}

func (s *Server) freeSlot() *slot {
	for _, sl := range s.slots {
		if sl.j == nil {
			return sl
		}
	}
	return nil
}

// admit starts queued jobs while slots are free.
func (s *Server) admit() {
	for {
		sl := s.freeSlot()
		if sl == nil {
			return
		}
		select {
		case j, ok := <-s.queue:
			if !ok {
				return
			}
			s.start(sl, j)
		default:
			return
		}
	}
}

// start prefills j's prompt into sl's context and emits its first token.
func (s *Server) start(sl *slot, j *job) {
	if j.ctx.Err() != nil {
		j.events <- event{final: true, err: j.ctx.Err()}
		s.metrics.canceled.Add(1)
		return
	}
	if sl.c == nil {
		o := model.ContextOptions{Size: s.cfg.ContextSize, KV: s.cfg.KV, Pool: s.pool}
		var c model.Sequence
		var err error
		if s.cfg.Device != nil {
			c, err = s.m.NewDeviceContext(s.cfg.Device, o)
		} else {
			c, err = s.m.NewContext(o)
		}
		if err != nil {
			j.events <- event{final: true, err: err}
			return
		}
		sl.c = c
		sl.logits = make([]float32, s.m.Text.Vocab)
	}
	*sl = slot{c: sl.c, logits: sl.logits, j: j, smp: sample.New(j.params), dec: s.tok.NewStreamDecoder(),
		hist: append(make([]int32, 0, len(j.ids)+j.maxTokens), j.ids...)}
	if err := s.prefill(sl); err != nil {
		s.finish(sl, "", err)
		return
	}
	j.firstAt = time.Now()
	s.metrics.ttft.observe(j.firstAt.Sub(j.arrived).Seconds())
	s.emit(sl, sl.smp.Sample(sl.logits, sl.hist))
}

func (s *Server) prefill(sl *slot) error {
	c, j := sl.c, sl.j
	c.Reset()
	b := s.m.PromptBatch(j.ids, nil)
	if j.pixels != nil && s.cfg.Device != nil {
		// the vision scratch goes before the prefill, not beside it
		if _, _, err := model.PrefillImage(c, j.pixels, c.ReleaseVision); err != nil {
			return err
		}
		b = model.Batch{Tokens: j.ids}
	} else if j.pixels != nil {
		o, err := s.cfg.Cache.Prefill(c.(*model.Context), j.key, j.pixels, c.ReleaseVision)
		if err != nil {
			return err
		}
		if o.Hit {
			s.metrics.cacheHits.Add(1)
		} else {
			s.metrics.cacheMisses.Add(1)
		}
		if o.LoadErr != nil {
			s.logf("image cache: %v", o.LoadErr)
		}
		if o.StoreErr != nil {
			s.logf("image cache: %v", o.StoreErr)
		}
		b = model.Batch{Tokens: j.ids}
	}
	sl.prompt = c.Len() + len(b.Tokens)
	s.metrics.promptTokens.Add(int64(sl.prompt))
	return c.Forward(b, model.Output{Logits: sl.logits})
}

// step decodes one token for every active slot whose client is still
// there.
func (s *Server) step() {
	var toks []int32
	var rows [][]float32
	var live []*slot
	for _, sl := range s.slots {
		if sl.j == nil {
			continue
		}
		if err := sl.j.ctx.Err(); err != nil {
			s.metrics.canceled.Add(1)
			s.finish(sl, "", err)
			continue
		}
		toks = append(toks, sl.next)
		rows = append(rows, sl.logits)
		live = append(live, sl)
	}
	if len(live) == 0 {
		return
	}
	t0 := time.Now()
	var err error
	if s.cfg.Device != nil {
		// one device: the conversations' steps one after another
		for i, sl := range live {
			if err = sl.c.Forward(model.Batch{Tokens: toks[i : i+1]}, model.Output{Logits: rows[i]}); err != nil {
				break
			}
		}
	} else {
		cs := make([]*model.Context, len(live))
		for i, sl := range live {
			cs[i] = sl.c.(*model.Context)
		}
		err = s.batcher.Step(cs, toks, rows)
	}
	d := time.Since(t0)
	if err != nil {
		for _, sl := range live {
			s.finish(sl, "", err)
		}
		return
	}
	s.metrics.decodeStep(len(live), d)
	for _, sl := range live {
		sl.hist = append(sl.hist, sl.next)
		s.emit(sl, sl.smp.Sample(sl.logits, sl.hist))
	}
}

// emit handles a token chosen for sl: the end of sequence, or text sent
// to the client (held back while it may be the start of a stop sequence),
// and the end of the answer at a stop sequence, max_tokens or the context
// size.
func (s *Server) emit(sl *slot, id int32) {
	sl.n++
	s.metrics.generated.Add(1)
	if s.m.Text.IsStop(id) { // EOS, or EOT (CogVLM2 stops on both)
		s.flush(sl, true)
		s.finish(sl, "stop", nil)
		return
	}
	sl.out.WriteString(sl.dec.Add(id))
	if s.flush(sl, false) {
		s.finish(sl, "stop", nil)
		return
	}
	if sl.n >= sl.j.maxTokens || sl.c.Len() >= sl.c.Size() {
		sl.out.WriteString(sl.dec.Flush())
		if s.flush(sl, true) {
			s.finish(sl, "stop", nil)
			return
		}
		s.finish(sl, "length", nil)
		return
	}
	sl.next = id
}

// flush sends the text of sl that can no longer be part of a stop
// sequence (all of it when final) and reports whether a stop sequence
// was found (the text is cut before it).
func (s *Server) flush(sl *slot, final bool) bool {
	if final {
		sl.out.WriteString(sl.dec.Flush())
	}
	text := sl.out.String()
	end := len(text)
	stopped := false
	for _, st := range sl.j.stop {
		from := max(0, sl.sent-len(st)+1)
		if i := strings.Index(text[from:], st); i >= 0 && from+i < end {
			end, stopped = from+i, true
		}
	}
	if !stopped && !final {
		// hold back a tail that could begin a stop sequence
		for _, st := range sl.j.stop {
			for k := min(len(st)-1, len(text)-sl.sent); k > 0; k-- {
				if strings.HasSuffix(text, st[:k]) {
					end = min(end, len(text)-k)
					break
				}
			}
		}
	}
	if end > sl.sent {
		sl.j.events <- event{text: text[sl.sent:end]}
		sl.sent = end
	}
	return stopped
}

// finish sends the final event and frees the slot.
func (s *Server) finish(sl *slot, reason string, err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("request canceled: %w", err)
	}
	ev := event{final: true, finish: reason, err: err, promptTokens: sl.prompt, completion: sl.n}
	if j := sl.j; !j.firstAt.IsZero() {
		ev.promptTime, ev.decodeTime = j.firstAt.Sub(j.arrived), time.Since(j.firstAt)
	}
	sl.j.events <- ev
	if err == nil {
		s.metrics.completed.Add(1)
	}
	sl.j, sl.smp, sl.dec, sl.hist = nil, nil, nil, nil
	sl.out.Reset()
}
