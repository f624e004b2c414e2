package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/cogedge/cogedge/model/sample"
	"github.com/spf13/pflag"
)

// llamaFlags are llama.cpp's multi-letter single-dash flags. pflag would
// read "-ngl" as the shorthands -n -g -l; parseFlags rewrites each to the
// long name given here before parsing (see docs/landscape.md).
var llamaFlags = map[string]string{
	"-ngl": "--n-gpu-layers", "-sys": "--system-prompt", "-cnv": "--conversation",
	"-no-cnv": "--no-conversation", "-st": "--single-turn",
}

// rewriteLlamaFlags turns llama.cpp's single-dash long flags into their
// double-dash forms, in flag position only (not after "--", not as the
// value of a flag that takes one).
func rewriteLlamaFlags(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	takesValue := false
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if takesValue {
			out = append(out, a)
			takesValue = false
			continue
		}
		name, value, hasValue := strings.Cut(a, "=")
		if long, ok := llamaFlags[name]; ok {
			a = long
			if hasValue {
				a += "=" + value
			}
		}
		out = append(out, a)
		// does this flag consume the next argument?
		if strings.HasPrefix(a, "--") && !strings.Contains(a, "=") {
			if f := fs.Lookup(a[2:]); f != nil && f.NoOptDefVal == "" {
				takesValue = true
			}
		} else if len(a) == 2 && a[0] == '-' && a[1] != '-' {
			if f := fs.ShorthandLookup(a[1:]); f != nil && f.NoOptDefVal == "" {
				takesValue = true
			}
		}
	}
	return out
}

// parseFlags parses args into fs. --help prints "Usage: cogedge SYNOPSIS",
// the about lines and the flags to stdout and reports done. Parse errors
// are usage errors that point at --help.
func parseFlags(fs *pflag.FlagSet, synopsis string, args []string, stdout io.Writer, about ...string) (done bool, err error) {
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: cogedge %s\n", synopsis)
		for _, a := range about {
			fmt.Fprintln(stdout, a)
		}
		fmt.Fprintf(stdout, "\nFlags:\n%s", fs.FlagUsages())
	}
	fs.SetOutput(io.Discard) // errors are returned, not printed twice
	if err := fs.Parse(rewriteLlamaFlags(fs, args)); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return true, nil
		}
		return false, errUsage{fmt.Errorf("%w (cogedge %s --help lists the flags)", err, fs.Name())}
	}
	return false, nil
}

// sampleFlags are the generation flags of run, chat and ground.
type sampleFlags struct {
	n                 int
	temp, topP, rep   float32
	topK, repeatLastN int
	seed              int64
}

func (sf *sampleFlags) register(fs *pflag.FlagSet, n int) {
	fs.IntVarP(&sf.n, "n-predict", "n", n, "maximum number of tokens to generate (-1 = until the end of the answer or of the context)")
	fs.Float32Var(&sf.temp, "temp", 0, "temperature (0 = greedy)")
	fs.IntVar(&sf.topK, "top-k", 40, "top-k sampling (0 = off)")
	fs.Float32Var(&sf.topP, "top-p", 0.95, "top-p (nucleus) sampling, in (0, 1] (1 = off)")
	fs.Float32Var(&sf.rep, "repeat-penalty", 1, "repetition penalty, > 0 (1 = off)")
	fs.IntVar(&sf.repeatLastN, "repeat-last-n", 64, "tokens the repetition penalty looks back on (-1 = all)")
	fs.Int64VarP(&sf.seed, "seed", "s", -1, "random seed (-1 = from the clock)")
}

// check rejects values that are out of range, naming the flag.
func (sf *sampleFlags) check() error {
	finite := func(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
	switch {
	case sf.n == 0 || sf.n < -1:
		return errUsage{fmt.Errorf("-n %d: want a positive count, or -1 for until the end", sf.n)}
	case !finite(sf.temp) || sf.temp < 0:
		return errUsage{fmt.Errorf("--temp %v: want a number >= 0", sf.temp)}
	case sf.topK < 0:
		return errUsage{fmt.Errorf("--top-k %d: want >= 0 (0 = off)", sf.topK)}
	case !finite(sf.topP) || sf.topP <= 0 || sf.topP > 1:
		return errUsage{fmt.Errorf("--top-p %v: want a number in (0, 1] (1 = off)", sf.topP)}
	case !finite(sf.rep) || sf.rep <= 0:
		return errUsage{fmt.Errorf("--repeat-penalty %v: want a number > 0 (1 = off)", sf.rep)}
	case sf.repeatLastN < -1:
		return errUsage{fmt.Errorf("--repeat-last-n %d: want >= 0, or -1 for all", sf.repeatLastN)}
	}
	return nil
}

func (sf *sampleFlags) sampler() *sample.Sampler {
	seed := uint64(sf.seed)
	if sf.seed < 0 {
		seed = uint64(time.Now().UnixNano())
	}
	return sample.New(sample.Params{Temperature: sf.temp, TopK: sf.topK, TopP: sf.topP,
		RepeatPenalty: sf.rep, RepeatLastN: sf.repeatLastN, Seed: seed})
}

// maxThreads bounds -t: more threads than a few per CPU only add
// switching.
func maxThreads() int { return 4 * runtime.NumCPU() }

func checkThreads(t int) error {
	if t < 1 || t > maxThreads() {
		return errUsage{fmt.Errorf("-t/--threads %d: want 1 to %d (this machine has %d CPUs)", t, maxThreads(), runtime.NumCPU())}
	}
	return nil
}

// answerFlags are the flags of the commands that answer questions about a
// picture: run, chat and ground.
type answerFlags struct {
	model  modelFlags
	cache  cacheFlags
	sample sampleFlags
}

// newAnswerFlags registers the answerFlags of command name, with n the
// default of -n.
func newAnswerFlags(name string, n int) (*pflag.FlagSet, *answerFlags) {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	af := &answerFlags{}
	af.model.register(fs)
	af.cache.register(fs)
	af.sample.register(fs, n)
	return fs, af
}
