package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/cogedge/cogedge/internal/demo"
	"github.com/cogedge/cogedge/internal/shapes"
	"github.com/cogedge/cogedge/model"
	"github.com/spf13/pflag"
)

// defaultDemoModel is the trained demo model shipped in the repository
// (testdata/README.md says how it was made); the path is relative to the
// root of a clone, where the README's commands run.
const defaultDemoModel = "testdata/shapes-demo.gguf.zst"

// defaultDemoSeed is a seed the demo model never saw in training (seeds 1 and 3).
const defaultDemoSeed = 2026

func init() {
	register(command{
		name:  "demo",
		short: "draw a picture of shapes, ask the demo model about it (or --eval N pictures and grade the answers)",
		run:   demoCmd,
	})
}

func demoCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("demo", pflag.ContinueOnError)
	modelPath := fs.StringP("model", "m", defaultDemoModel, "GGUF model file")
	seed := fs.Uint64P("seed", "s", defaultDemoSeed, "picture seed (the demo model was trained on seeds 1 and 3)")
	index := fs.Uint64("index", 0, "index of the (first) picture")
	evalN := fs.Int("eval", 0, "grade the answers to every question type on this many pictures instead")
	out := fs.StringP("out", "o", "", "where to save the picture (default: cogedge-demo-SEED-INDEX.png in the temporary folder)")
	threads := fs.IntP("threads", "t", runtime.NumCPU(), "threads")
	verbose := fs.Bool("verbose", false, "with --eval: print every wrong answer")
	if done, err := parseFlags(fs, "demo [-m MODEL] [--seed S] [--index I] [--eval N] [-o OUT.png]", args, stdout); done || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errUsage{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *evalN < 0 {
		return errUsage{fmt.Errorf("--eval %d: want a positive number of pictures", *evalN)}
	}
	if *threads < 1 {
		return errUsage{fmt.Errorf("--threads %d: want at least 1", *threads)}
	}
	if _, err := os.Stat(*modelPath); err != nil && *modelPath == defaultDemoModel {
		return fmt.Errorf("the demo model %s is not here (run from the root of a cogedge clone, or pass -m): %w", defaultDemoModel, err)
	}
	t0 := time.Now()
	s, err := openSession(&modelFlags{model: *modelPath, kv: "f16", threads: *threads}, io.Discard)
	if err != nil {
		return err
	}
	defer s.close()
	a, err := demo.New(s.m, s.tok, *threads, model.KVF16)
	if err != nil {
		return err
	}
	defer a.Close()
	load := time.Since(t0)
	if *evalN > 0 {
		return demoEval(a, *seed, *index, *evalN, *verbose, stdout)
	}
	return demoShow(a, *seed, *index, *out, load, stdout)
}

// demoShow draws one picture, saves it, and prints the answers to one
// question of every type beside the expected ones, with timings.
func demoShow(a *demo.Answerer, seed, index uint64, out string, load time.Duration, stdout io.Writer) error {
	pic := shapes.Generate(seed, index)
	img := pic.Draw()
	if out == "" {
		out = filepath.Join(os.TempDir(), fmt.Sprintf("cogedge-demo-%d-%d.png", seed, index))
	}
	if err := shapes.WritePNG(out, img); err != nil {
		return err
	}
	m := a.Model()
	fmt.Fprintf(stdout, "picture: %s (%dx%d, seed %d, index %d)\n", out, shapes.Canvas, shapes.Canvas, seed, index)
	fmt.Fprintf(stdout, "model: %d-layer CogVLM, hidden %d, ViT %d px; loaded in %.0f ms\n", m.Text.Layers, m.Text.Hidden, m.Vision.ImageSize, ms(load))
	if err := a.SetImage(img); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "image encoded in %.1f ms\n\n", ms(a.EncodeTime))
	right := 0
	qs := pic.Questions()
	for _, q := range qs {
		t := time.Now()
		got, ids, err := a.Ask(q.Text)
		if err != nil {
			return err
		}
		d := time.Since(t)
		ok, iou := shapes.Score(q, got)
		mark := "right"
		if ok {
			right++
		} else {
			mark = "WRONG, expected " + q.Answer
		}
		if q.Type == shapes.TypeGround {
			mark += fmt.Sprintf(" (IoU %.2f)", iou)
		}
		fmt.Fprintf(stdout, "Q: %s\nA: %s   [%s; %d tokens in %.1f ms]\n\n", q.Text, got, mark, len(ids), ms(d))
	}
	fmt.Fprintf(stdout, "%d of %d right\n", right, len(qs))
	return nil
}

func demoEval(a *demo.Answerer, seed, first uint64, n int, verbose bool, stdout io.Writer) error {
	var each func(demo.Record)
	if verbose {
		each = func(r demo.Record) {
			if !r.Right {
				fmt.Fprintf(stdout, "wrong: picture %d: %s -> %q (want %q)\n", r.Index, r.Question, r.Got, r.Want)
			}
		}
	}
	rep, err := demo.Evaluate(a, seed, first, n, each)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d pictures of seed %d (from index %d), %d questions, %.1f s\n", n, seed, first, len(rep.Records), rep.Elapsed.Seconds())
	return rep.WriteTable(stdout)
}
