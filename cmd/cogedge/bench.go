package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/kernels/metal"
	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
	"github.com/spf13/pflag"
)

func init() {
	register(command{
		name:  "bench",
		short: "measure prompt processing, generation and image encoding speed (llama-bench table)",
		run:   benchCmd,
	})
}

// benchResult is one row of the bench table, also the JSON schema of
// `cogedge bench -o json` (an array of these).
type benchResult struct {
	Model     string    `json:"model_type"`     // "cogvlm 17B Q4_0"
	Filename  string    `json:"model_filename"` // -m
	MMProj    string    `json:"mmproj_filename,omitempty"`
	SizeBytes uint64    `json:"model_size"`     // tensor bytes of the files given
	Params    uint64    `json:"model_n_params"` // tensor elements of the files given
	Backend   string    `json:"backend"`        // "CPU (avx2)"
	Threads   int       `json:"n_threads"`
	Test      string    `json:"test"` // pp512, tg128, img490
	NPrompt   int       `json:"n_prompt"`
	NGen      int       `json:"n_gen"`
	NImage    int       `json:"n_image_rows"` // image rows written per image (img test)
	SamplesNS []int64   `json:"samples_ns"`   // one per repetition
	SamplesTS []float64 `json:"samples_ts"`   // tokens (or image rows) per second, one per repetition
	AvgNS     float64   `json:"avg_ns"`
	StddevNS  float64   `json:"stddev_ns"`
	AvgTS     float64   `json:"avg_ts"`
	StddevTS  float64   `json:"stddev_ts"`
	// tg only: weight bytes read per generated token, the bandwidth that
	// implies, the streaming-read bandwidth measured at the start with the
	// same thread count (0 when not measured) and their ratio.
	WeightBytesPerToken uint64  `json:"weight_bytes_per_token,omitempty"`
	WeightGBs           float64 `json:"weight_gb_per_s,omitempty"`
	StreamGBs           float64 `json:"stream_read_gb_per_s,omitempty"`
	BandwidthFraction   float64 `json:"bandwidth_fraction,omitempty"`
	// img only: milliseconds per image and the FLOPs of the vision tower
	// and adapter per image over that time.
	ImageMS      float64 `json:"image_ms,omitempty"`
	ImageMSStd   float64 `json:"image_ms_stddev,omitempty"`
	ImageGFLOP   float64 `json:"image_gflop,omitempty"`
	ImageGFLOPps float64 `json:"image_gflop_per_s,omitempty"`
	// the machine and kernel path (benchsys.go)
	System *benchSystem `json:"system,omitempty"`
}

// benchFlags are the options of `cogedge bench`.
type benchFlags struct {
	model, mmproj, output string
	prompt, gen, threads  int
	reps, streamMiB       int
	image, noWarmup, prog bool
	streamOnly            bool
	backend               string
}

// benchCmd implements `cogedge bench -m MODEL [-p 512] [-n 128] [-t N]
// [-r 3] [--image] [-o md|json]`, following llama-bench: pp<N> runs one
// prompt of N random valid token ids (BOS first) through a fresh f16 KV
// cache, tg<N> generates N tokens one at a time from an empty cache (each
// step computes the last row's logits), each after a warm-up run and
// repeated -r times; t/s is mean ± sample standard deviation over the
// repetitions. Tokenization and sampling are not timed.
func benchCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	var bf benchFlags
	fs.StringVarP(&bf.model, "model", "m", "", "GGUF model file (required)")
	fs.StringVar(&bf.mmproj, "mmproj", "", "separate vision GGUF (llama.cpp-style mmproj), for --image")
	fs.IntVarP(&bf.prompt, "n-prompt", "p", 512, "prompt tokens for the pp test (0 = skip)")
	fs.IntVarP(&bf.gen, "n-gen", "n", 128, "generated tokens for the tg test (0 = skip)")
	fs.IntVarP(&bf.threads, "threads", "t", runtime.NumCPU(), "threads")
	fs.IntVarP(&bf.reps, "repetitions", "r", 3, "repetitions of each test")
	fs.BoolVar(&bf.image, "image", false, "add an image-encode test (random pixels through the vision tower and adapter)")
	fs.StringVarP(&bf.output, "output", "o", "md", "output format: md or json")
	fs.BoolVar(&bf.noWarmup, "no-warmup", false, "skip the warm-up run before each test")
	fs.BoolVar(&bf.prog, "progress", false, "print each run's time to stderr")
	fs.Int("n-gpu-layers", 0, "llama-bench's -ngl: accepted and ignored (the backend, --backend, runs every layer)")
	fs.IntVar(&bf.streamMiB, "stream-mib", 1024, "buffer size in MiB for the streaming-read bandwidth measured before tg (0 = skip)")
	fs.BoolVar(&bf.streamOnly, "stream-only", false, "measure only the streaming-read bandwidth (-t threads, --stream-mib buffer; no model): the yardstick tg is reported against")
	fs.StringVar(&bf.backend, "backend", "cpu", "backend of pp and tg: cpu, metal (Apple GPU; the bandwidth is then the GPU's, measured by a read kernel) or metal-sim (the shaders simulated, Linux; slow); the image test runs on the CPU")
	if done, err := parseFlags(fs, "bench -m MODEL.gguf [--mmproj MMPROJ.gguf] [-p 512] [-n 128] [-t THREADS] [-r 3] [--image] [-o md|json]", args, stdout); done || err != nil {
		return err
	}
	if bf.streamOnly {
		return streamOnly(bf, fs.NArg(), stdout)
	}
	switch {
	case fs.NArg() > 0:
		return errUsage{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	case bf.model == "":
		return errUsage{errors.New("-m MODEL is required")}
	case bf.prompt < 0:
		return errUsage{fmt.Errorf("-p %d: want >= 0", bf.prompt)}
	case bf.gen < 0:
		return errUsage{fmt.Errorf("-n %d: want >= 0", bf.gen)}
	case checkThreads(bf.threads) != nil:
		return checkThreads(bf.threads)
	case bf.reps < 1:
		return errUsage{fmt.Errorf("-r %d: want at least 1", bf.reps)}
	case bf.streamMiB < 0:
		return errUsage{fmt.Errorf("--stream-mib %d: want >= 0", bf.streamMiB)}
	case bf.output != "md" && bf.output != "json":
		return errUsage{fmt.Errorf("-o %q: want md or json", bf.output)}
	case bf.backend != "cpu" && bf.backend != "metal" && bf.backend != "metal-sim":
		return errUsage{fmt.Errorf("--backend %q: want cpu, metal or metal-sim", bf.backend)}
	case bf.prompt == 0 && bf.gen == 0 && !bf.image:
		return errUsage{errors.New("nothing to measure: -p 0, -n 0 and no --image")}
	}

	modelPath, err := mappable(bf.model)
	if err != nil {
		return err
	}
	mmprojPath, err := mappable(bf.mmproj)
	if err != nil {
		return err
	}
	base := benchResult{Filename: bf.model, MMProj: bf.mmproj, Backend: backendName(), Threads: bf.threads}
	if base.Model, base.SizeBytes, base.Params, err = describeModel(modelPath, mmprojPath); err != nil {
		return err
	}
	m, err := model.Open(modelPath, mmprojPath)
	if err != nil {
		return err
	}
	defer m.Close()
	if bf.image && m.Vision == nil {
		return errors.New("--image: the model has no vision tower (pass --mmproj)")
	}
	base.System = describeSystem(m)
	c, err := m.NewContext(model.ContextOptions{Size: max(bf.prompt, bf.gen, 1), KV: model.KVF16, Threads: bf.threads})
	if err != nil {
		return err
	}
	defer c.Close()

	b := &bencher{m: m, c: c, fwd: c, bf: &bf, stderr: stderr, rng: rand.New(rand.NewPCG(1, 2)),
		logits: make([]float32, m.Text.Vocab)}
	var stream float64 // bytes per second
	if bf.backend != "cpu" {
		dev, err := metal.OpenNamed(bf.backend)
		if err != nil {
			return fmt.Errorf("--backend %s: %w", bf.backend, err)
		}
		defer dev.Close()
		d, err := m.NewDeviceContext(dev, model.ContextOptions{Size: max(bf.prompt, bf.gen, 1)})
		if err != nil {
			return err
		}
		defer d.Close()
		b.fwd = d
		base.Backend = "Metal: " + dev.Name()
		if bf.gen > 0 && bf.streamMiB > 0 {
			ops := metal.NewOps(dev)
			stream, err = metal.ReadBandwidth(ops, bf.streamMiB<<20, 5)
			ops.Close()
			if err != nil {
				return err
			}
		}
	} else if bf.gen > 0 && bf.streamMiB > 0 {
		stream = kernels.StreamReadBandwidth(bf.threads, bf.streamMiB<<20)
		debug.FreeOSMemory()
	}
	var results []benchResult
	if bf.prompt > 0 {
		r := base
		r.Test, r.NPrompt = fmt.Sprintf("pp%d", bf.prompt), bf.prompt
		if err := b.measure(&r, bf.prompt, b.prompt); err != nil {
			return err
		}
		results = append(results, r)
	}
	if bf.gen > 0 {
		r := base
		r.Test, r.NGen = fmt.Sprintf("tg%d", bf.gen), bf.gen
		if err := b.measure(&r, bf.gen, b.generate); err != nil {
			return err
		}
		for _, w := range m.LanguageWeights() {
			r.WeightBytesPerToken += uint64(len(w.Data))
		}
		r.WeightGBs = float64(r.WeightBytesPerToken) * r.AvgTS / 1e9
		if stream > 0 {
			r.StreamGBs = stream / 1e9
			r.BandwidthFraction = r.WeightGBs / r.StreamGBs
		}
		results = append(results, r)
	}
	if bf.image {
		vc := m.Vision
		r := base
		r.Test, r.NImage = fmt.Sprintf("img%d", vc.ImageSize), vc.ImageTokens
		b.pixels = make([]float32, m.PixelCount())
		b.embeds = make([]float32, m.ImageEmbeds())
		if err := b.measure(&r, vc.ImageTokens, b.encodeImage); err != nil {
			return err
		}
		c.ReleaseVision()
		r.ImageMS = r.AvgNS / 1e6
		r.ImageMSStd = r.StddevNS / 1e6
		r.ImageGFLOP = imageFLOPs(vc, m.Text.Hidden) / 1e9
		if r.AvgNS > 0 {
			r.ImageGFLOPps = r.ImageGFLOP / (r.AvgNS / 1e9)
		}
		results = append(results, r)
	}
	if bf.output == "json" {
		js, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return fmt.Errorf("bench: json: %w", err)
		}
		_, err = fmt.Fprintf(stdout, "%s\n", js)
		return err
	}
	return writeBenchMarkdown(stdout, results)
}

// bencher runs the timed tests on one context.
type bencher struct {
	m      *model.Model
	c      *model.Context // the CPU context (image encoding)
	fwd    decoder        // where pp and tg run: c, or a model.DeviceContext
	bf     *benchFlags
	stderr io.Writer
	rng    *rand.Rand
	logits []float32
	toks   []int32
	pixels []float32
	embeds []float32
}

// measure runs fn(n) once to warm up (unless --no-warmup) and then -r
// times, and fills r's samples and statistics; units per second is n
// divided by each run's time.
func (b *bencher) measure(r *benchResult, n int, fn func(n int) error) error {
	if !b.bf.noWarmup {
		warm := n
		if r.NGen > 0 {
			warm = 1 // llama-bench warms generation up with one token
		}
		if err := fn(warm); err != nil {
			return fmt.Errorf("%s warm-up: %w", r.Test, err)
		}
	}
	for i := 0; i < b.bf.reps; i++ {
		t0 := time.Now()
		if err := fn(n); err != nil {
			return fmt.Errorf("%s run %d: %w", r.Test, i+1, err)
		}
		d := time.Since(t0)
		if d <= 0 {
			d = 1
		}
		r.SamplesNS = append(r.SamplesNS, int64(d))
		r.SamplesTS = append(r.SamplesTS, float64(n)/d.Seconds())
		if b.bf.prog {
			fmt.Fprintf(b.stderr, "cogedge bench: %s run %d/%d: %.1f ms\n", r.Test, i+1, b.bf.reps, ms(d))
		}
	}
	ns := make([]float64, len(r.SamplesNS))
	for i, v := range r.SamplesNS {
		ns[i] = float64(v)
	}
	r.AvgNS, r.StddevNS = meanStddev(ns)
	r.AvgTS, r.StddevTS = meanStddev(r.SamplesTS)
	return nil
}

// decoder is what pp and tg run on: a CPU model.Context or a
// model.DeviceContext.
type decoder interface {
	Forward(model.Batch, model.Output) error
	Reset()
}

// randomToken returns a random valid token id: as llama-bench, any id
// below the vocabulary size.
func (b *bencher) randomToken() int32 { return int32(b.rng.IntN(b.m.Text.Vocab)) }

// prompt runs one n-token prompt (BOS first when the model has one) on an
// empty cache, computing the last row's logits.
func (b *bencher) prompt(n int) error {
	b.fwd.Reset()
	if cap(b.toks) < n {
		b.toks = make([]int32, n)
	}
	toks := b.toks[:n]
	for i := range toks {
		toks[i] = b.randomToken()
	}
	if bos := b.m.Text.BOS; bos >= 0 && int(bos) < b.m.Text.Vocab {
		toks[0] = bos
	}
	return b.fwd.Forward(model.Batch{Tokens: toks}, model.Output{Logits: b.logits})
}

// generate decodes n tokens one at a time from an empty cache, each step
// computing logits; the first token is BOS when the model has one.
func (b *bencher) generate(n int) error {
	b.fwd.Reset()
	tok := []int32{b.randomToken()}
	if bos := b.m.Text.BOS; bos >= 0 && int(bos) < b.m.Text.Vocab {
		tok[0] = bos
	}
	for i := 0; i < n; i++ {
		if err := b.fwd.Forward(model.Batch{Tokens: tok}, model.Output{Logits: b.logits}); err != nil {
			return err
		}
		tok[0] = b.randomToken()
	}
	return nil
}

// encodeImage runs the vision tower and adapter on random pixels (a random
// RGB image, normalized like a real one); n is ignored.
func (b *bencher) encodeImage(int) error {
	vc := b.m.Vision
	plane := len(b.pixels) / 3
	for ch := 0; ch < 3; ch++ {
		for i := range b.pixels[ch*plane : (ch+1)*plane] {
			b.pixels[ch*plane+i] = (float32(b.rng.IntN(256))/255 - vc.ImageMean[ch]) / vc.ImageStd[ch]
		}
	}
	return b.c.EncodeImage(b.embeds, b.pixels)
}

// imageFLOPs counts the multiply-adds (×2) of one image through the vision
// tower and adapter: patch embedding, per layer the QKV, attention (q·k and
// p·v over all Patches+1 rows), output projection and MLP, CogVLM2's 2x2
// conv, then the adapter's projection, gate, up and down matrices over its
// Rows. Norms, biases and activations are not counted.
func imageFLOPs(vc *model.VisionConfig, hidden int) float64 {
	P, Hv, F, R := float64(vc.Patches), float64(vc.Hidden), float64(vc.FFN), float64(vc.Rows)
	T := P + 1
	K := float64(vc.Channels * vc.PatchSize * vc.PatchSize)
	H, A := float64(hidden), float64(vc.AdapterFFN)
	layer := 2*T*Hv*3*Hv + 4*T*T*Hv + 2*T*Hv*Hv + 2*2*T*Hv*F
	conv := 0.0
	if vc.Downsample {
		conv = 2 * R * 4 * Hv * Hv
	}
	return 2*P*K*Hv + float64(vc.Layers)*layer + conv + 2*R*Hv*H + 2*2*R*H*A + 2*R*A*H
}

// meanStddev returns the mean and the sample standard deviation (n-1; 0
// for one value) of xs, as llama-bench reports them.
func meanStddev(xs []float64) (mean, sd float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// describeModel sums the tensor bytes and elements of the files given and
// names the model like llama-bench: architecture, parameter count and the
// type holding most of the matrix bytes ("cogvlm 17B Q4_0").
func describeModel(paths ...string) (desc string, size, params uint64, err error) {
	arch := ""
	byType := map[quant.Type]uint64{}
	for _, p := range paths {
		if p == "" {
			continue
		}
		f, err := gguf.Open(p)
		if err != nil {
			return "", 0, 0, err
		}
		if arch == "" {
			arch, _ = f.String("general.architecture")
		}
		for i := range f.Tensors {
			t := &f.Tensors[i]
			size += t.Size
			params += t.Elements()
			if len(t.Shape) >= 2 {
				byType[t.Type] += t.Size
			}
		}
		f.Close()
	}
	var main quant.Type
	var most uint64
	for t, n := range byType {
		if n > most || (n == most && t < main) {
			main, most = t, n
		}
	}
	if arch == "" {
		arch = "unknown"
	}
	desc = fmt.Sprintf("%s %s", arch, paramLabel(params))
	if most > 0 {
		desc += " " + main.String()
	}
	return desc, size, params, nil
}

// paramLabel shortens a parameter count the way model names do: whole
// billions from 10B on (truncated: 17.6 billion is "17B"), else "6.7B",
// "5M".
func paramLabel(n uint64) string {
	switch v := float64(n); {
	case v >= 10e9:
		return fmt.Sprintf("%dB", n/1e9)
	case v >= 1e9:
		return fmt.Sprintf("%.1fB", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.0fM", v/1e6)
	default:
		return fmt.Sprintf("%.0fK", v/1e3)
	}
}

// backendName is "CPU" and the kernels' active implementation tier.
func backendName() string { return "CPU (" + kernelTier() + ")" }

// writeBenchMarkdown writes llama-bench's table (model | size | params |
// backend | threads | test | t/s) and, under it, the tg bandwidth and
// image lines.
func writeBenchMarkdown(w io.Writer, rs []benchResult) error {
	head := []string{"model", "size", "params", "backend", "threads", "test", "t/s"}
	right := []bool{false, true, true, false, true, true, true}
	rows := [][]string{head}
	for _, r := range rs {
		rows = append(rows, []string{
			r.Model,
			sizeLabel(r.SizeBytes),
			countLabel(r.Params),
			r.Backend,
			fmt.Sprint(r.Threads),
			r.Test,
			fmt.Sprintf("%.2f ± %.2f", r.AvgTS, r.StddevTS),
		})
	}
	width := make([]int, len(head))
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], len([]rune(cell)))
		}
	}
	var sb strings.Builder
	line := func(row []string) {
		for i, cell := range row {
			pad := strings.Repeat(" ", width[i]-len([]rune(cell)))
			if right[i] {
				fmt.Fprintf(&sb, "| %s%s ", pad, cell)
			} else {
				fmt.Fprintf(&sb, "| %s%s ", cell, pad)
			}
		}
		sb.WriteString("|\n")
	}
	line(rows[0])
	for i := range head {
		dash := strings.Repeat("-", width[i])
		if right[i] {
			dash = dash[1:] + ":"
		}
		fmt.Fprintf(&sb, "| %s ", dash)
	}
	sb.WriteString("|\n")
	for _, row := range rows[1:] {
		line(row)
	}
	notes := false
	for _, r := range rs {
		if r.WeightBytesPerToken > 0 {
			if !notes {
				sb.WriteString("\n")
				notes = true
			}
			fmt.Fprintf(&sb, "%s: %.3f GB of weights per token, %.2f GB/s", r.Test, float64(r.WeightBytesPerToken)/1e9, r.WeightGBs)
			if r.StreamGBs > 0 {
				by := fmt.Sprintf("%d threads", r.Threads)
				if strings.HasPrefix(r.Backend, "Metal") {
					by = "the GPU's read kernel"
				}
				fmt.Fprintf(&sb, " = %.0f%% of the streaming-read bandwidth (%.2f GB/s, %s)", 100*r.BandwidthFraction, r.StreamGBs, by)
			}
			sb.WriteString("\n")
		}
		if r.NImage > 0 {
			if !notes {
				sb.WriteString("\n")
				notes = true
			}
			fmt.Fprintf(&sb, "%s: %.1f ± %.1f ms per image (%d image rows), %s GFLOP per image = %s GFLOP/s\n",
				r.Test, r.ImageMS, r.ImageMSStd, r.NImage, sigDigits(r.ImageGFLOP), sigDigits(r.ImageGFLOPps))
		}
	}
	if len(rs) > 0 && rs[0].System != nil {
		fmt.Fprintf(&sb, "\n%s\n", rs[0].System)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// streamOnly implements `cogedge bench --stream-only`: the streaming-read
// bandwidth alone, as tg's share is computed against (the same function,
// thread count and buffer), so it can be set beside an independent
// measure taken in the same minute.
func streamOnly(bf benchFlags, nargs int, stdout io.Writer) error {
	switch {
	case nargs > 0 || bf.model != "" || bf.mmproj != "" || bf.image:
		return errUsage{errors.New("--stream-only measures the machine, not a model: drop -m, --mmproj, --image and arguments")}
	case checkThreads(bf.threads) != nil:
		return checkThreads(bf.threads)
	case bf.streamMiB < 1:
		return errUsage{fmt.Errorf("--stream-mib %d: --stream-only needs a buffer of at least 1 MiB", bf.streamMiB)}
	case bf.backend != "cpu":
		return errUsage{fmt.Errorf("--stream-only measures the CPU; --backend %s has its own read kernel (run bench with -n)", bf.backend)}
	case bf.output != "md" && bf.output != "json":
		return errUsage{fmt.Errorf("-o %q: want md or json", bf.output)}
	}
	gbs := kernels.StreamReadBandwidth(bf.threads, bf.streamMiB<<20) / 1e9
	if bf.output == "json" {
		return json.NewEncoder(stdout).Encode(struct {
			Backend   string  `json:"backend"`
			Threads   int     `json:"n_threads"`
			MiB       int     `json:"buffer_mib"`
			StreamGBs float64 `json:"stream_read_gb_per_s"`
		}{backendName(), bf.threads, bf.streamMiB, gbs})
	}
	_, err := fmt.Fprintf(stdout, "streaming read: %.2f GB/s (%d threads, %d MiB buffer, best pass; %s)\n", gbs, bf.threads, bf.streamMiB, backendName())
	return err
}

// sizeLabel formats bytes as llama-bench does: MiB below 1 GiB, else GiB.
func sizeLabel(n uint64) string {
	if n < 1<<30 {
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// countLabel formats a parameter count as llama-bench does: millions
// below 10⁹, else billions.
func countLabel(n uint64) string {
	if n < 1e9 {
		return fmt.Sprintf("%.2f M", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f B", float64(n)/1e9)
}

// sigDigits formats v with one decimal, or below 1 with two significant
// digits (a tiny model's image is a few MFLOP: "0.0" says nothing).
func sigDigits(v float64) string {
	d := 1
	for x := math.Abs(v); d < 6 && x > 0 && x < 1; x *= 10 {
		d++
	}
	return strconv.FormatFloat(v, 'f', d, 64)
}
