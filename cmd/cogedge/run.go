package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cogedge/cogedge/imagecache"
	"github.com/cogedge/cogedge/kernels/metal"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/model/imageproc"
	"github.com/cogedge/cogedge/model/prompt"
	"github.com/cogedge/cogedge/model/sample"
	"github.com/cogedge/cogedge/model/tokenizer"
	"github.com/spf13/pflag"
)

func init() {
	register(command{
		name:  "run",
		short: "answer a prompt about an image (or text only), streaming the answer",
		run:   runCmd,
	})
}

// modelFlags are the flags the commands that load a model share.
type modelFlags struct {
	model, mmproj, image, template, prompt, kv string
	history                                    string
	ctx, threads                               int
	verbose                                    bool
	repack                                     string // --repack: auto, memory or file
	mlock                                      bool
	gpuLayers                                  int    // llama.cpp's -ngl: accepted, CPU only
	system                                     string // llama.cpp's -sys: refused with what to do instead
	backend                                    string
	deviceOK                                   bool // the command runs on the Metal backend

	turns []prompt.Turn // --history, read by check
}

func (mf *modelFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&mf.model, "model", "m", "", "GGUF model file, or .gguf.zst (required)")
	fs.StringVar(&mf.mmproj, "mmproj", "", "separate vision GGUF (llama.cpp-style mmproj), if the model file has no vision tower")
	fs.StringVar(&mf.image, "image", "", "image file (JPEG, PNG, GIF or WebP)")
	fs.StringVar(&mf.template, "template", "", "prompt template: chat, vqa or base (default: the file's cogvlm.template)")
	fs.StringVarP(&mf.prompt, "prompt", "p", "", "the question")
	fs.StringVar(&mf.history, "history", "", `earlier turns: a JSON file, or JSON text, [["question","answer"],…] (chat and vqa templates; chat's /save writes one)`)
	fs.StringVar(&mf.kv, "kv-type", "f16", "KV cache type: f16 or f32")
	fs.IntVarP(&mf.ctx, "ctx-size", "c", 0, "context size in slots, image rows included (default: the model's trained context length)")
	fs.IntVarP(&mf.threads, "threads", "t", runtime.NumCPU(), "threads")
	fs.BoolVar(&mf.verbose, "verbose", false, "print timings and memory use (per phase) to stderr")
	fs.StringVar(&mf.repack, "repack", repackAuto, "where the repacked language weights live: memory (anonymous), file (a mapped file in the cache folder, reclaimable, reused by later runs) or auto (file when the model files exceed the available memory)")
	fs.BoolVar(&mf.mlock, "mlock", false, "lock the language weights in memory (mlock) so that memory pressure cannot page them out")
	fs.IntVar(&mf.gpuLayers, "n-gpu-layers", 0, "llama.cpp's -ngl: accepted and ignored (the backend, --backend, runs every layer)")
	fs.StringVar(&mf.system, "system-prompt", "", "llama.cpp's -sys: CogVLM's templates have no system prompt (see the error for what to use)")
	fs.StringVar(&mf.backend, "backend", "auto", "compute backend: auto, cpu, metal (Apple GPU) or metal-sim (the Metal shaders simulated on the CPU; Linux, needs clang 16, slow)")
}

// check validates the flags and reads the cheap inputs (the image's
// header and pixels, the history) so that a mistake is reported before
// the model loads. Notes for llama.cpp users go to stderr.
func (mf *modelFlags) check(stderr io.Writer) error {
	if mf.model == "" {
		return errUsage{errors.New("-m MODEL is required")}
	}
	if _, err := kvType(mf.kv); err != nil {
		return err
	}
	if err := checkThreads(mf.threads); err != nil {
		return err
	}
	if mf.ctx < 0 {
		return errUsage{fmt.Errorf("--ctx-size %d: want a positive size (0 = the model's context length)", mf.ctx)}
	}
	if err := mf.checkBackend(); err != nil {
		return err
	}
	if mf.system != "" {
		return errUsage{errors.New("-sys/--system-prompt: CogVLM's templates have no system prompt; put the instructions in the question, or write the whole prompt yourself with --template base")}
	}
	if mf.gpuLayers != 0 {
		fmt.Fprintf(stderr, "cogedge: -ngl %d ignored: the backend (--backend) runs all layers, weights memory-mapped\n", mf.gpuLayers)
	}
	if mf.image != "" {
		if _, err := imageproc.Load(mf.image, imageproc.DefaultLimits); err != nil {
			return err
		}
	}
	var err error
	mf.turns, err = parseHistory(mf.history)
	return err
}

func kvType(name string) (model.KVType, error) {
	switch strings.ToLower(name) {
	case "f16":
		return model.KVF16, nil
	case "f32":
		return model.KVF32, nil
	}
	return 0, errUsage{fmt.Errorf("--kv-type %q: want f16 or f32", name)}
}

// session is a loaded model with its tokenizer.
type session struct {
	m   *model.Model
	tok *tokenizer.Tokenizer // nil when the file has no vocabulary
	kv  model.KVType
	// langAnon: the language path is in anonymous memory (repacked
	// there), not file-backed
	langAnon bool
	meter    *phaseMeter // --verbose: per-phase memory; nil otherwise
	stderr   io.Writer
	// dev is the GPU device of --backend (nil: the CPU); the decoder's
	// contexts are made on it. autoDev: --backend auto chose it, so a
	// model the device cannot run falls back to the CPU.
	dev     metal.Device
	autoDev bool
}

// openSession checks the flags and cheap inputs (modelFlags.check), then
// loads the model.
func openSession(mf *modelFlags, stderr io.Writer) (*session, error) {
	if err := mf.check(stderr); err != nil {
		return nil, err
	}
	s := &session{stderr: stderr}
	s.kv, _ = kvType(mf.kv)
	modelPath, err := mappable(mf.model)
	if err != nil {
		return nil, err
	}
	mmprojPath, err := mappable(mf.mmproj)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if mf.verbose {
		s.meter = newPhaseMeter(stderr)
	}
	if s.dev, err = openBackend(mf, stderr); err != nil {
		s.close()
		return nil, err
	}
	s.autoDev = s.dev != nil && (mf.backend == "auto" || mf.backend == "")
	opts, where, err := loadOptions(mf.repack, nonEmpty(modelPath, mmprojPath)...)
	if err != nil {
		s.close()
		return nil, err
	}
	opts.FileLayout = s.dev != nil // the device reads the file layout from the mapping
	wait := startWait("loading " + filepath.Base(mf.model) + " (mapping, repacking)")
	m, err := model.OpenWith(modelPath, mmprojPath, opts)
	wait.end()
	if err != nil {
		s.close()
		return nil, err
	}
	s.m = m
	s.langAnon = where == repackMemory && m.PackedMatrices() > 0
	if s.dev != nil {
		if err := m.DeviceSupported(); err != nil {
			if !s.autoDev {
				s.close()
				return nil, fmt.Errorf("--backend %s: %w", mf.backend, err)
			}
			// auto: the CPU runs what the device cannot (the weights stay
			// in the file layout: correct, without the packed fast path)
			if mf.verbose {
				fmt.Fprintf(stderr, "backend: cpu (--backend auto: %v)\n", err)
			}
			s.dev.Close()
			s.dev = nil
		}
	}
	if mf.mlock {
		if err := m.LockLanguage(); err != nil {
			s.close()
			return nil, err
		}
	}
	if s.meter != nil {
		fmt.Fprintf(stderr, "load: %d matrices repacked (%s)\n", m.PackedMatrices(), where)
		s.meter.end("load", t0)
		s.meter.flush()
	}
	if v, err := tokenizer.VocabFromGGUF(m.File()); err == nil {
		if s.tok, err = tokenizer.New(v); err != nil {
			m.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *session) close() {
	if s.m != nil {
		s.m.Close()
	}
	if s.dev != nil {
		s.dev.Close()
		s.dev = nil
	}
	if s.meter != nil {
		s.meter.stop()
	}
}

// nonEmpty returns the non-empty strings of ss.
func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// pixels loads and preprocesses an image for the model's vision tower.
func (s *session) pixels(path string) ([]float32, error) {
	vc := s.m.Vision
	if vc == nil {
		return nil, errors.New("the model has no vision tower (pass --mmproj, or drop --image)")
	}
	img, err := imageproc.Load(path, imageproc.DefaultLimits)
	if err != nil {
		return nil, err
	}
	rgb, w, h := imageproc.ToRGB(img)
	if w == 0 || h == 0 {
		return nil, fmt.Errorf("%s: empty image", path)
	}
	S := vc.ImageSize
	return imageproc.Normalize(imageproc.ResizeBicubic(rgb, w, h, S, S), S, S, vc.ImageMean, vc.ImageStd), nil
}

// maxHistoryBytes bounds a --history file.
const maxHistoryBytes = 64 << 20

// parseHistory reads --history: a JSON list of [question, answer] pairs,
// given as text (starting with '[') or as the name of a file holding it.
func parseHistory(arg string) ([]prompt.Turn, error) {
	if arg == "" {
		return nil, nil
	}
	js, what := []byte(arg), "--history"
	if !strings.HasPrefix(strings.TrimSpace(arg), "[") {
		what = "--history " + arg
		f, err := os.Open(arg)
		if err != nil {
			return nil, errUsage{fmt.Errorf("--history: %w (want a file, or JSON text starting with '[')", err)}
		}
		defer f.Close()
		if js, err = io.ReadAll(io.LimitReader(f, maxHistoryBytes+1)); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if len(js) > maxHistoryBytes {
			return nil, errUsage{fmt.Errorf("%s: larger than %d MiB", what, maxHistoryBytes>>20)}
		}
	}
	var pairs [][]string
	if err := json.Unmarshal(js, &pairs); err != nil {
		return nil, errUsage{fmt.Errorf("%s: %w (want [[\"question\",\"answer\"],…])", what, err)}
	}
	out := make([]prompt.Turn, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 {
			return nil, errUsage{fmt.Errorf("%s: turn %d has %d strings, want [question, answer]", what, i, len(p))}
		}
		out[i] = prompt.Turn{Question: p[0], Answer: p[1]}
	}
	return out, nil
}

// textIDs templates and tokenizes a query after the given history (no
// BOS; the model adds it).
func (s *session) textIDs(template string, history []prompt.Turn, query string) ([]int32, error) {
	if s.tok == nil {
		return nil, errors.New("the model file has no tokenizer (tokenizer.ggml.* keys); use --tokens")
	}
	if template == "" {
		template = s.m.Template
	}
	text, err := prompt.Build(template, history, query)
	if err != nil {
		return nil, errUsage{err}
	}
	return s.tok.Encode(text, false), nil
}

// contextLimit is the context size the user asked for: -c, or the model's
// trained context length.
func (s *session) contextLimit(mf *modelFlags) int {
	if mf.ctx > 0 {
		return mf.ctx
	}
	if s.m.Text.ContextLength > 0 {
		return s.m.Text.ContextLength
	}
	return 2048
}

// newContext allocates the KV cache for a conversation whose first prompt
// takes promptSlots and that generates up to n tokens (-1: until the end
// of the context). It never allocates beyond the limit (-c, default the
// model's context length) and refuses a prompt longer than it; a
// conversation that grows (grow) gets the whole limit, a single answer
// only what it can use.
func (s *session) newContext(mf *modelFlags, promptSlots, n int, grow bool) (model.Sequence, error) {
	limit := s.contextLimit(mf)
	if promptSlots > limit {
		hint := "shorten the prompt or the history"
		if mf.ctx > 0 && s.m.Text.ContextLength > mf.ctx {
			hint += fmt.Sprintf(", or raise -c (the model was trained on %d)", s.m.Text.ContextLength)
		}
		return nil, fmt.Errorf("the prompt needs %d slots (BOS, image rows and text tokens) but the context holds %d: %s", promptSlots, limit, hint)
	}
	size := limit
	if !grow && n >= 0 {
		size = min(limit, promptSlots+n)
	}
	o := model.ContextOptions{Size: size, KV: s.kv, Threads: mf.threads}
	if s.dev != nil {
		d, err := s.m.NewDeviceContext(s.dev, o)
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	if err := checkFit(s.m, o, mf.image != "", s.langAnon, s.stderr, mf.verbose); err != nil {
		return nil, err
	}
	return s.m.NewContext(o)
}

// encodeImage runs the vision tower and adapter on the image at path.
func encodeImage(s *session, c model.Sequence, path string) ([]float32, error) {
	px, err := s.pixels(path)
	if err != nil {
		return nil, err
	}
	emb := make([]float32, s.m.ImageEmbeds())
	if err := c.EncodeImage(emb, px); err != nil {
		return nil, err
	}
	return emb, nil
}

const runSynopsis = "run -m MODEL [--image IMG] -p TEXT [flags]"

func runCmd(args []string, stdout, stderr io.Writer) error {
	fs, af := newAnswerFlags("run", 256)
	af.model.deviceOK = true
	mf, cf, sf := &af.model, &af.cache, &af.sample
	interactive := fs.BoolP("interactive", "i", false, "after the answer to -p (if any), read more questions from stdin, one per line, keeping the conversation")
	conversation := fs.Bool("conversation", false, "llama.cpp's -cnv: run the interactive chat (cogedge chat)")
	fs.Bool("no-conversation", false, "llama.cpp's -no-cnv: accepted (run answers one prompt)")
	fs.Bool("single-turn", false, "llama.cpp's -st: accepted (run answers one prompt)")
	if done, err := parseFlags(fs, runSynopsis, args, stdout); done || err != nil {
		return err
	}
	if *conversation {
		return chatCmd(withoutConversation(args), stdout, stderr)
	}
	if fs.NArg() > 0 {
		return errUsage{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if mf.prompt == "" && !*interactive {
		return errUsage{errors.New("-p PROMPT is required (or -i to read questions from stdin, or cogedge chat)")}
	}
	if err := sf.check(); err != nil {
		return err
	}
	ch, err := startChat(mf, cf, sf, *interactive, stdout, stderr)
	if err != nil {
		return err
	}
	defer ch.close()
	if mf.prompt != "" {
		if err := ch.ask(mf.prompt); err != nil {
			return err
		}
	}
	if !*interactive {
		return nil
	}
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	for {
		fmt.Fprint(stderr, "> ")
		if !in.Scan() {
			fmt.Fprintln(stderr)
			return in.Err()
		}
		q := strings.TrimSpace(in.Text())
		if q == "" {
			continue
		}
		if err := ch.ask(q); err != nil {
			return err
		}
	}
}

// withoutConversation drops llama.cpp's conversation flag from run's
// arguments, for handing them to chat.
func withoutConversation(args []string) []string {
	var out []string
	for _, a := range args {
		if a != "-cnv" && a != "--conversation" && a != "--conversation=true" {
			out = append(out, a)
		}
	}
	return out
}

// startChat checks the flags and cheap inputs, loads the model, sizes the
// context for the first question (-p, may be empty) and puts BOS and the
// image (from the image cache when it has it) in the KV cache. grow gives
// the context its whole limit, for conversations.
func startChat(mf *modelFlags, cf *cacheFlags, sf *sampleFlags, grow bool, stdout, stderr io.Writer) (ch *chat, err error) {
	s, err := openSession(mf, stderr)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	nImg := 0
	if mf.image != "" {
		if s.m.Vision == nil {
			return nil, errors.New("the model has no vision tower (pass --mmproj, or drop --image)")
		}
		nImg = s.m.Vision.ImageTokens
	}
	var first []int32
	if mf.prompt != "" {
		if first, err = s.textIDs(mf.template, mf.turns, mf.prompt); err != nil {
			return nil, err
		}
	}
	c, err := s.newContext(mf, 1+nImg+len(first), sf.n, grow)
	if err != nil {
		return nil, err
	}
	ch = &chat{s: s, c: c, mf: mf, nImg: nImg, hist: mf.turns, n: sf.n, stdout: stdout, stderr: stderr,
		smp: sf.sampler(), logits: make([]float32, s.m.Text.Vocab)}
	if mf.verbose {
		fmt.Fprintf(stderr, "model: %s (%s, %d layers, hidden %d, vocab %d, context %d)\n", mf.model, s.m.Text.Arch, s.m.Text.Layers, s.m.Text.Hidden, s.m.Text.Vocab, c.Size())
	}
	if mf.image != "" {
		if ch.cache, err = cf.open(); err != nil {
			c.Close()
			return nil, err
		}
		if ch.cache != nil {
			if ch.modelID, err = imagecache.ModelID(mf.model, mf.mmproj); err != nil {
				c.Close()
				return nil, err
			}
		}
		if err := ch.setImage(mf.image); err != nil {
			c.Close()
			return nil, err
		}
	}
	return ch, nil
}

// stdin is where interactive questions come from (tests replace it).
var stdin io.Reader = os.Stdin

// chat is the state of a conversation: the KV cache, the slots it holds
// and the turns so far.
type chat struct {
	s       *session
	c       model.Sequence
	mf      *modelFlags
	cache   *imagecache.Cache // nil: --no-image-cache
	modelID string            // the image cache's key for the model files
	stop    atomic.Bool       // set (by Ctrl-C) to end the answer being generated
	img     []float32
	nImg    int
	hist    []prompt.Turn
	n       int
	smp     *sample.Sampler
	logits  []float32
	cached  []slot // what the KV cache holds
	stdout  io.Writer
	stderr  io.Writer
}

// close releases the context and the model.
func (ch *chat) close() {
	ch.c.Close()
	ch.s.close()
}

// setImage empties the KV cache and puts BOS and the picture at path in
// it (from the image cache when it holds it); the history is kept.
func (ch *chat) setImage(path string) error {
	ch.c.Reset()
	ch.cached = ch.cached[:0]
	var verbose io.Writer
	if ch.mf.verbose {
		verbose = ch.stderr
	}
	prefix, err := imagePrefix(ch.s, ch.c, ch.cache, ch.modelID, path, verbose)
	if err != nil {
		return err
	}
	ch.cached = prefix
	// the prefix stays in the KV cache for every turn; PromptBatch only
	// needs the count of image rows (their values are never read)
	ch.img = make([]float32, ch.s.m.ImageEmbeds())
	return nil
}

// ask templates query after the history and answers it (turn).
func (ch *chat) ask(query string) error {
	ids, err := ch.s.textIDs(ch.mf.template, ch.hist, query)
	if err != nil {
		return err
	}
	return ch.turn(query, ids)
}

// errStopped ends an answer that the user interrupted.
var errStopped = errors.New("stopped")

type slot struct {
	id int32
	ty model.TokenType
}

// turn answers query, whose templated ids (history included) are ids. The
// longest prefix the cache already holds (BOS, the image, earlier turns)
// is reused; the rest is prefilled, then the answer is generated and
// streamed, and the turn is added to the history.
func (ch *chat) turn(query string, ids []int32) error {
	s, c := ch.s, ch.c
	b := s.m.PromptBatch(ids, ch.img)
	keep := 0
	for keep < len(ch.cached) && keep < len(b.Tokens)-1 && ch.cached[keep] == (slot{b.Tokens[keep], b.Types[keep]}) {
		keep++
	}
	if keep < 1+ch.nImg {
		if ch.nImg > 0 {
			return errors.New("the image block is not in the KV cache") // imagePrefix put it there
		}
		keep = 0
	}
	if err := c.Truncate(keep); err != nil {
		return err
	}
	sub := model.Batch{Tokens: b.Tokens[keep:], Types: b.Types[keep:]}
	if keep == 0 {
		sub.Embeds = ch.img
	}
	t1 := time.Now()
	wait := startWait(fmt.Sprintf("reading the prompt (%d slots)", len(sub.Tokens)))
	err := c.Forward(sub, model.Output{Logits: ch.logits})
	wait.end()
	if err != nil {
		return err
	}
	tPrefill := time.Since(t1)
	if s.meter != nil {
		s.meter.end("prefill", t1)
	}
	dec := s.tok.NewStreamDecoder()
	t2 := time.Now()
	maxTokens := ch.n
	if maxTokens < 0 { // -n -1: until EOS or the end of the context
		maxTokens = c.Size() - c.Len() + 1
	}
	ch.stop.Store(false)
	toks, err := c.Generate(ch.logits, model.GenerateOptions{
		MaxTokens: maxTokens, Sampler: ch.smp, StopAtEOS: true, History: ids,
		OnToken: func(id int32) error {
			if ch.stop.Load() {
				return errStopped
			}
			if s.m.Text.IsStop(id) {
				return nil
			}
			_, werr := io.WriteString(ch.stdout, dec.Add(id))
			return werr
		},
	})
	tDecode := time.Since(t2)
	if s.meter != nil {
		s.meter.end("decode", t2)
	}
	if err != nil && !errors.Is(err, model.ErrContextFull) && !errors.Is(err, errStopped) {
		return err
	}
	if errors.Is(err, errStopped) {
		toks = toks[:len(toks)-1] // chosen but neither shown nor fed back
	}
	if _, werr := io.WriteString(ch.stdout, dec.Flush()+"\n"); werr != nil {
		return werr
	}
	switch {
	case errors.Is(err, model.ErrContextFull):
		fmt.Fprintf(ch.stderr, "cogedge: stopped: %v\n", err)
	case errors.Is(err, errStopped):
		fmt.Fprintln(ch.stderr, "cogedge: answer stopped")
	case ch.n < 0 && len(toks) == maxTokens && !s.m.Text.IsStop(toks[len(toks)-1]):
		fmt.Fprintf(ch.stderr, "cogedge: stopped: the context of %d slots is full\n", c.Size())
	}
	// the cache now holds the prompt and every generated token but the last
	ch.cached = ch.cached[:0]
	for i := range b.Tokens {
		ch.cached = append(ch.cached, slot{b.Tokens[i], b.Types[i]})
	}
	for _, id := range toks {
		ch.cached = append(ch.cached, slot{id, model.Lang})
	}
	ch.cached = ch.cached[:c.Len()]
	answer := toks
	if len(answer) > 0 && s.m.Text.IsStop(answer[len(answer)-1]) {
		answer = answer[:len(answer)-1]
	}
	ch.hist = append(ch.hist, prompt.Turn{Question: query, Answer: s.tok.Decode(answer)})
	if ch.mf.verbose {
		nDec := len(toks) - 1 // the first token comes from the prefill
		fmt.Fprintf(ch.stderr, "prefill: %d slots (%d reused) in %.1f ms (%.2f t/s)\n", len(sub.Tokens), keep, ms(tPrefill), rate(len(sub.Tokens), tPrefill))
		fmt.Fprintf(ch.stderr, "decode: %d tokens in %.1f ms (%.2f t/s)\n", nDec, ms(tDecode), rate(nDec, tDecode))
		if rss, ok := peakRSS(); ok {
			fmt.Fprintf(ch.stderr, "peak RSS: %.1f MiB\n", float64(rss)/(1<<20))
		}
		if s.meter != nil {
			s.meter.flush()
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 || n <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
