package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"strings"
	"syscall"

	"github.com/cogedge/cogedge/internal/outfile"
	"github.com/cogedge/cogedge/quant"
	"github.com/cogedge/cogedge/quant/requant"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

func init() {
	register(command{
		name:  "quantize",
		short: "quantize a GGUF model like llama-quantize (Q4_K_M, Q8_0, --pure, ...)",
		run:   quantizeCmd,
	})
}

// quantizeCmd implements
//
//	cogedge quantize [--pure] [--type-for PATTERN=TYPE ...] [-t THREADS] [--allow-requantize] [-v] IN.gguf OUT.gguf TYPE
//
// TYPE is a llama-quantize file type, case-insensitive: F32, F16, BF16,
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K_S, Q4_K_M (alias Q4_K), Q5_K_S,
// Q5_K_M (alias Q5_K), Q6_K, IQ4_NL. The choice of type per tensor, the
// bytes and the metadata follow llama-quantize without an importance matrix
// (package quant/requant documents the rules). OUT appears only when
// complete; an OUT ending in ".zst" is zstd-compressed (a .gguf.zst every
// command loads). OUT must not be IN (or a link to it) or a folder, which is
// checked before any work. A progress bar is drawn when stderr is a terminal; a summary
// goes to stdout (-v: one line per tensor).
func quantizeCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("quantize", pflag.ContinueOnError)
	pure := fs.Bool("pure", false, "quantize every 2-D+ weight to TYPE, without the mix's per-tensor promotions")
	typeFor := fs.StringArray("type-for", nil, "PATTERN=TYPE: tensors whose name matches the regexp PATTERN get TYPE (repeatable; first match wins)")
	threads := fs.IntP("threads", "t", 0, "worker threads (default: all CPUs)")
	allowRequant := fs.Bool("allow-requantize", false, "accept already quantized input tensors (dequantized first)")
	verbose := fs.BoolP("verbose", "v", false, "list every tensor with its old and new type")
	if done, err := parseFlags(fs, "quantize [--pure] [--type-for PATTERN=TYPE ...] [-t THREADS] IN.gguf OUT.gguf TYPE", args, stdout, "TYPE: F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K_S Q4_K_M (Q4_K) Q5_K_S Q5_K_M (Q5_K) Q6_K IQ4_NL"); done || err != nil {
		return err
	}
	if fs.NArg() != 3 {
		return errUsage{fmt.Errorf("want IN.gguf OUT.gguf TYPE, got %d arguments", fs.NArg())}
	}
	userIn, out := fs.Arg(0), fs.Arg(1)
	// the destination is checked before the input is decompressed or read
	if err := outfile.Check(out, outfile.Options{Inputs: []string{userIn}}); err != nil {
		return errUsage{err}
	}
	ft, err := requant.ParseFType(fs.Arg(2))
	if err != nil {
		return errUsage{err}
	}
	opt := requant.Options{FType: ft, Pure: *pure, Threads: *threads, AllowRequantize: *allowRequant}
	for _, s := range *typeFor {
		pat, typ, ok := strings.Cut(s, "=")
		if !ok || pat == "" {
			return errUsage{fmt.Errorf("--type-for %q: want PATTERN=TYPE", s)}
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return errUsage{fmt.Errorf("--type-for %q: %w", s, err)}
		}
		t, err := quant.ParseType(typ)
		if err != nil || !t.HasCodec() {
			return errUsage{fmt.Errorf("--type-for %q: %q is not a type cogedge can write", s, typ)}
		}
		opt.Overrides = append(opt.Overrides, requant.Override{Pattern: re, Type: t})
	}
	in, err := mappable(userIn)
	if err != nil {
		return err
	}
	opt.Inputs = []string{userIn}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var bar *progressbar.ProgressBar
		opt.Progress = func(done, total int64) {
			if bar == nil {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr),
					progressbar.OptionShowBytes(true), progressbar.OptionSetDescription("quantizing"),
					progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100e6))
			}
			_ = bar.Set64(done)
		}
		defer func() {
			if bar != nil {
				_ = bar.Finish()
			}
		}()
	}
	// SIGINT/SIGTERM stop the work between tensors; the temporary output
	// is removed and nothing appears at OUT
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	plan, err := requant.Quantize(ctx, in, out, opt)
	switch {
	case errors.Is(err, requant.ErrRequantize):
		return fmt.Errorf("%w; pass --allow-requantize to dequantize and quantize again (precision is lost twice)", err)
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted: %s not written", out)
	case err != nil:
		return err
	}
	printPlan(stdout, plan, ft, *verbose)
	return nil
}

func printPlan(w io.Writer, plan *requant.Plan, ft requant.FType, verbose bool) {
	var in, out int64
	count := map[quant.Type]int{}
	for _, t := range plan.Tensors {
		in += t.InBytes
		out += t.OutBytes
		count[t.To]++
		if verbose {
			fmt.Fprintf(w, "%-40s %-22s %-6v -> %-6v %10.2f MiB -> %10.2f MiB\n", t.Name, fmt.Sprint(t.Shape), t.From, t.To,
				float64(t.InBytes)/(1<<20), float64(t.OutBytes)/(1<<20))
		}
	}
	types := make([]quant.Type, 0, len(count))
	for t := range count {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	var parts []string
	for _, t := range types {
		parts = append(parts, fmt.Sprintf("%v: %d", t, count[t]))
	}
	fmt.Fprintf(w, "%s: %d tensors (%s), %.2f MiB -> %.2f MiB\n", ft, len(plan.Tensors), strings.Join(parts, ", "),
		float64(in)/(1<<20), float64(out)/(1<<20))
}
