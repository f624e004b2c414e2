package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/cogedge/cogedge/imagecache"
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

// modelFlags are the flags run and eval share.
type modelFlags struct {
	model, mmproj, image, template, prompt, kv string
	history                                    string
	ctx, threads                               int
	verbose                                    bool
	repack                                     string // --repack: auto, memory or file
	mlock                                      bool
}

func (mf *modelFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&mf.model, "model", "m", "", "GGUF model file (required)")
	fs.StringVar(&mf.mmproj, "mmproj", "", "separate vision GGUF (llama.cpp-style mmproj), if the model file has no vision tower")
	fs.StringVar(&mf.image, "image", "", "image file (JPEG, PNG, GIF or WebP)")
	fs.StringVar(&mf.template, "template", "", "prompt template: chat, vqa or base (default: the file's cogvlm.template)")
	fs.StringVarP(&mf.prompt, "prompt", "p", "", "the question")
	fs.StringVar(&mf.history, "history", "", `earlier turns as JSON: [["question","answer"],…] (chat and vqa templates)`)
	fs.StringVar(&mf.kv, "kv-type", "f16", "KV cache type: f16 or f32")
	fs.IntVarP(&mf.ctx, "ctx-size", "c", 0, "context size in slots, image rows included (default: prompt + image + n, at most 4096)")
	fs.IntVarP(&mf.threads, "threads", "t", runtime.NumCPU(), "threads")
	fs.BoolVar(&mf.verbose, "verbose", false, "print timings and memory use (per phase) to stderr")
	fs.StringVar(&mf.repack, "repack", repackAuto, "where the repacked language weights live: memory (anonymous), file (a mapped file in the cache folder, reclaimable, reused by later runs) or auto (file when the model files exceed the available memory)")
	fs.BoolVar(&mf.mlock, "mlock", false, "lock the language weights in memory (mlock) so that memory pressure cannot page them out")
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
}

func openSession(mf *modelFlags, stderr io.Writer) (*session, error) {
	if mf.model == "" {
		return nil, errUsage{errors.New("-m MODEL is required")}
	}
	s := &session{}
	switch strings.ToLower(mf.kv) {
	case "f16":
		s.kv = model.KVF16
	case "f32":
		s.kv = model.KVF32
	default:
		return nil, errUsage{fmt.Errorf("--kv-type %q: want f16 or f32", mf.kv)}
	}
	if mf.threads < 1 {
		return nil, errUsage{fmt.Errorf("--threads %d: want at least 1", mf.threads)}
	}
	if mf.ctx < 0 {
		return nil, errUsage{fmt.Errorf("--ctx-size %d: want a positive size", mf.ctx)}
	}
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
	opts, where, err := loadOptions(mf.repack, nonEmpty(modelPath, mmprojPath)...)
	if err != nil {
		s.close()
		return nil, err
	}
	m, err := model.OpenWith(modelPath, mmprojPath, opts)
	if err != nil {
		s.close()
		return nil, err
	}
	s.m = m
	s.langAnon = where == repackMemory && m.PackedMatrices() > 0
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

// parseHistory reads --history: a JSON list of [question, answer] pairs.
func parseHistory(js string) ([]prompt.Turn, error) {
	if js == "" {
		return nil, nil
	}
	var pairs [][]string
	if err := json.Unmarshal([]byte(js), &pairs); err != nil {
		return nil, errUsage{fmt.Errorf("--history: %w", err)}
	}
	out := make([]prompt.Turn, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 {
			return nil, errUsage{fmt.Errorf("--history: turn %d has %d strings, want [question, answer]", i, len(p))}
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

// newContext sizes the KV cache for need slots unless -c says otherwise.
func (s *session) newContext(mf *modelFlags, need int) (*model.Context, error) {
	size := mf.ctx
	if size == 0 {
		size = min(max(need, 1), 4096)
		if need > 4096 {
			size = need
		}
	}
	o := model.ContextOptions{Size: size, KV: s.kv, Threads: mf.threads}
	var verbose io.Writer
	if s.meter != nil {
		verbose = s.meter.w
	}
	if err := checkFit(s.m, o, mf.image != "", s.langAnon, verbose); err != nil {
		return nil, err
	}
	return s.m.NewContext(o)
}

// encodeImage runs the vision tower and adapter on the image at path.
func encodeImage(s *session, c *model.Context, path string) ([]float32, error) {
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

func runCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var mf modelFlags
	mf.register(fs)
	var cf cacheFlags
	cf.register(fs)
	n := fs.IntP("n-predict", "n", 256, "maximum number of tokens to generate")
	temp := fs.Float32("temp", 0, "temperature (0 = greedy)")
	topK := fs.Int("top-k", 40, "top-k sampling (0 = off)")
	topP := fs.Float32("top-p", 0.95, "top-p (nucleus) sampling (1 = off)")
	rep := fs.Float32("repeat-penalty", 1, "repetition penalty (1 = off)")
	repN := fs.Int("repeat-last-n", 64, "tokens the repetition penalty looks back on (-1 = all)")
	seed := fs.Int64P("seed", "s", -1, "random seed (-1 = from the clock)")
	interactive := fs.BoolP("interactive", "i", false, "after the answer to -p (if any), read more questions from stdin, one per line, keeping the conversation")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return errUsage{err}
	}
	if fs.NArg() > 0 {
		return errUsage{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if mf.prompt == "" && !*interactive {
		return errUsage{errors.New("-p PROMPT is required (or -i to read questions from stdin)")}
	}
	if *n < 1 {
		return errUsage{fmt.Errorf("-n %d: want at least 1", *n)}
	}
	if math.IsNaN(float64(*temp)) || *temp < 0 {
		return errUsage{fmt.Errorf("--temp %v: want >= 0", *temp)}
	}
	s, err := openSession(&mf, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	hist, err := parseHistory(mf.history)
	if err != nil {
		return err
	}
	nImg := 0
	if mf.image != "" {
		if s.m.Vision == nil {
			return errors.New("the model has no vision tower (pass --mmproj, or drop --image)")
		}
		nImg = s.m.Vision.ImageTokens
	}
	var first []int32
	if mf.prompt != "" {
		if first, err = s.textIDs(mf.template, hist, mf.prompt); err != nil {
			return err
		}
	}
	need := 1 + nImg + len(first) + *n
	if *interactive && mf.ctx == 0 {
		mf.ctx = max(need, s.m.Text.ContextLength, 2048)
	}
	c, err := s.newContext(&mf, need)
	if err != nil {
		return err
	}
	defer c.Close()

	if mf.verbose {
		fmt.Fprintf(stderr, "model: %s (%s, %d layers, hidden %d, vocab %d, context %d)\n", mf.model, s.m.Text.Arch, s.m.Text.Layers, s.m.Text.Hidden, s.m.Text.Vocab, c.Size())
	}
	var img []float32
	var prefix []slot
	if mf.image != "" {
		cache, err := cf.open()
		if err != nil {
			return err
		}
		modelID := ""
		if cache != nil {
			if modelID, err = imagecache.ModelID(mf.model, mf.mmproj); err != nil {
				return err
			}
		}
		var verbose io.Writer
		if mf.verbose {
			verbose = stderr
		}
		if prefix, err = imagePrefix(s, c, cache, modelID, mf.image, verbose); err != nil {
			return err
		}
		// the prefix stays in the KV cache for every turn; PromptBatch
		// only needs the count of image rows (their values are never read)
		img = make([]float32, s.m.ImageEmbeds())
	}
	sd := uint64(*seed)
	if *seed < 0 {
		sd = uint64(time.Now().UnixNano())
	}
	ch := &chat{s: s, c: c, mf: &mf, img: img, nImg: nImg, hist: hist, n: *n, stdout: stdout, stderr: stderr,
		smp:    sample.New(sample.Params{Temperature: *temp, TopK: *topK, TopP: *topP, RepeatPenalty: *rep, RepeatLastN: *repN, Seed: sd}),
		logits: make([]float32, s.m.Text.Vocab), cached: prefix}
	if mf.prompt != "" {
		if err := ch.turn(mf.prompt, first); err != nil {
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
		ids, err := s.textIDs(mf.template, ch.hist, q)
		if err != nil {
			return err
		}
		if err := ch.turn(q, ids); err != nil {
			return err
		}
	}
}

// stdin is where interactive questions come from (tests replace it).
var stdin io.Reader = os.Stdin

// chat is the state of a conversation: the KV cache, the slots it holds
// and the turns so far.
type chat struct {
	s      *session
	c      *model.Context
	mf     *modelFlags
	img    []float32
	nImg   int
	hist   []prompt.Turn
	n      int
	smp    *sample.Sampler
	logits []float32
	cached []slot // what the KV cache holds
	stdout io.Writer
	stderr io.Writer
}

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
	if err := c.Forward(sub, model.Output{Logits: ch.logits}); err != nil {
		return err
	}
	tPrefill := time.Since(t1)
	if s.meter != nil {
		s.meter.end("prefill", t1)
	}
	dec := s.tok.NewStreamDecoder()
	t2 := time.Now()
	toks, err := c.Generate(ch.logits, model.GenerateOptions{
		MaxTokens: ch.n, Sampler: ch.smp, StopAtEOS: true, History: ids,
		OnToken: func(id int32) error {
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
	if err != nil && !errors.Is(err, model.ErrContextFull) {
		return err
	}
	if _, werr := io.WriteString(ch.stdout, dec.Flush()+"\n"); werr != nil {
		return werr
	}
	if errors.Is(err, model.ErrContextFull) {
		fmt.Fprintf(ch.stderr, "cogedge run: stopped: %v\n", err)
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
