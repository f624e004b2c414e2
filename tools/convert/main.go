// Command convert turns a Hugging Face CogVLM checkpoint into a quantized
// GGUF for cogedge (or a llama.cpp text + mmproj pair), or writes a
// synthetic model of the real shapes.
//
// Usage:
//
//	convert -i HF_DIR [--tokenizer PATH] -o OUT.gguf [-t TYPE] [--vision-type T] [--expert-type T]
//	        [--split-mmproj] [--threads N] [--zstd]
//	convert --synthetic cogvlm-17b|cogvlm2-19b|mid|tiny -o OUT.gguf [-t TYPE] [--seed N]
//
// TYPE is a ggml type (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k,
// q5_k, q6_k, iq4_nl) or a mix (q4_k_s, q4_k_m, q5_k_s, q5_k_m); README.md
// lists which tensors get which type. SIGINT/SIGTERM abort cleanly: no
// output file and no temporary file remain.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cogedge/cogedge/quant"
	"github.com/cogedge/cogedge/tools/convert/converter"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, term.IsTerminal(int(os.Stderr.Fd()))))
}

// run parses args, converts, and returns the exit status (2 for usage
// errors).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) int {
	fs := pflag.NewFlagSet("convert", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		opt                   converter.Options
		typ, visType, expType string
		synthetic             string
	)
	fs.StringVarP(&opt.Input, "input", "i", "", "Hugging Face checkpoint folder (config.json + safetensors)")
	fs.StringVar(&opt.Tokenizer, "tokenizer", "", "tokenizer.model or tokenizer.json (default: look in the input folder)")
	fs.BoolVar(&opt.NoTokenizer, "no-tokenizer", false, "allow a file without a tokenizer")
	fs.StringVarP(&opt.Output, "output", "o", "", "output GGUF file")
	fs.StringVarP(&typ, "type", "t", "f16", "tensor type or mix: "+strings.Join(converter.Presets(), ", "))
	fs.StringVar(&visType, "vision-type", "", "type of the ViT and adapter matrices (default: from --type)")
	fs.StringVar(&expType, "expert-type", "", "type of the visual-expert matrices (default: from --type)")
	fs.BoolVar(&opt.Pure, "pure", false, "same type for every matrix (no output.weight promotion, no mix raises)")
	fs.BoolVar(&opt.SplitMMProj, "split-mmproj", false, "write llama.cpp's pair: text GGUF at OUT and mmproj-OUT beside it")
	fs.IntVar(&opt.Threads, "threads", 0, "quantization threads (default: all CPUs)")
	fs.BoolVar(&opt.Zstd, "zstd", false, "also write OUT.zst, a zstd-compressed copy for distribution")
	fs.StringVar(&opt.Name, "name", "", "general.name (default: the input folder's name)")
	fs.StringVar(&synthetic, "synthetic", "", "write random weights of a model shape instead: "+strings.Join(converter.SyntheticPresets(), ", "))
	fs.Uint64Var(&opt.Seed, "seed", 1, "seed of --synthetic")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: convert -i HF_DIR [--tokenizer PATH] -o OUT.gguf [-t TYPE] [flags]")
		fmt.Fprintln(stderr, "       convert --synthetic PRESET -o OUT.gguf [-t TYPE] [--seed N]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "convert: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	if fs.NArg() > 0 {
		return usage("unexpected arguments %q", fs.Args())
	}
	if opt.Output == "" {
		return usage("-o OUT.gguf is required")
	}
	if synthetic == "" && opt.Input == "" {
		return usage("-i HF_DIR (or --synthetic PRESET) is required")
	}
	if _, err := converter.ParseMix(typ); err != nil {
		return usage("%v", err)
	}
	opt.Preset = typ
	for _, o := range []struct {
		s   string
		t   *quant.Type
		set *bool
	}{{visType, &opt.VisionType, &opt.VisionTypeSet}, {expType, &opt.ExpertType, &opt.ExpertTypeSet}} {
		if o.s == "" {
			continue
		}
		t, err := quant.ParseType(o.s)
		if err != nil {
			return usage("%v", err)
		}
		*o.t, *o.set = t, true
	}
	if tty {
		opt.Progress = stderr
	}
	start := time.Now()
	var err error
	if synthetic != "" {
		err = converter.Synthetic(ctx, synthetic, opt.Output, 0, opt)
	} else {
		err = converter.Convert(ctx, opt)
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "convert: interrupted; no output written")
			return 130
		}
		fmt.Fprintln(stderr, err)
		return 1
	}
	outs := []string{opt.Output}
	if opt.SplitMMProj {
		outs = append(outs, converter.MMProjPath(opt.Output))
	}
	for _, o := range outs {
		if st, err := os.Stat(o); err == nil {
			fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", o, st.Size())
		}
		if opt.Zstd {
			if st, err := os.Stat(o + ".zst"); err == nil {
				fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", o+".zst", st.Size())
			}
		}
	}
	fmt.Fprintf(stdout, "done in %s\n", time.Since(start).Round(time.Millisecond))
	return 0
}
