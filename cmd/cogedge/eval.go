package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/cogedge/cogedge/internal/outfile"
	"github.com/cogedge/cogedge/model"
	"github.com/spf13/pflag"
)

func init() {
	register(command{
		name:  "eval",
		short: "teacher-forced forward pass; write the logits of every position",
		run:   evalCmd,
	})
}

func evalCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("eval", pflag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	mf.deviceOK = true
	tokens := fs.String("tokens", "", "comma-separated text token ids (bypasses the tokenizer and the template)")
	out := fs.String("logits-out", "", "file to write: little-endian float32 logits [positions x vocab] (required; - for stdout)")
	if done, err := parseFlags(fs, "eval -m MODEL [--image IMG] (-p TEXT | --tokens ID,…) --logits-out FILE", args, stdout); done || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errUsage{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *out == "" {
		return errUsage{errors.New("--logits-out FILE is required")}
	}
	if (mf.prompt == "") == (*tokens == "") {
		return errUsage{errors.New("give exactly one of -p TEXT and --tokens ID,ID,…")}
	}
	outOpt := outfile.Options{Stdout: stdout, Inputs: []string{mf.model, mf.mmproj, mf.image}}
	if err := outfile.Check(*out, outOpt); err != nil {
		return errUsage{err}
	}
	s, err := openSession(&mf, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	var ids []int32
	if *tokens != "" {
		if ids, err = parseIDs(*tokens, s.m.Text.Vocab); err != nil {
			return errUsage{err}
		}
	} else {
		if ids, err = s.textIDs(mf.template, mf.turns, mf.prompt); err != nil {
			return err
		}
	}
	nImg := 0
	if mf.image != "" {
		if s.m.Vision == nil {
			return errors.New("the model has no vision tower (pass --mmproj, or drop --image)")
		}
		nImg = s.m.Vision.ImageTokens
	}
	L := 1 + nImg + len(ids)
	c, err := s.newContext(&mf, L, 0, false)
	if err != nil {
		return err
	}
	defer c.Close()
	var img []float32
	if mf.image != "" {
		if img, err = encodeImage(s, c, mf.image); err != nil {
			return err
		}
	}
	V := s.m.Text.Vocab
	logits := make([]float32, L*V)
	if err := c.Forward(s.m.PromptBatch(ids, img), model.Output{Logits: logits}); err != nil {
		return err
	}
	if err := writeFloats(*out, logits, outOpt); err != nil {
		return err
	}
	summary := stdout
	if *out == "-" {
		summary = stderr
	}
	fmt.Fprintf(summary, "positions: %d\nvocab: %d\n", L, V)
	return nil
}

// parseIDs reads "1,2,3" as token ids below vocab.
func parseIDs(s string, vocab int) ([]int32, error) {
	var out []int32
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--tokens: %q is not a token id", f)
		}
		if v < 0 || v >= int64(vocab) {
			return nil, fmt.Errorf("--tokens: id %d outside the vocabulary of %d", v, vocab)
		}
		out = append(out, int32(v))
	}
	return out, nil
}

// writeFloats writes x as little-endian float32 to path (see
// internal/outfile: a regular file appears only when complete, "-" is
// stdout, a device is written in place).
func writeFloats(path string, x []float32, opt outfile.Options) error {
	o, err := outfile.Create(path, opt)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for i, v := range x {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) || i == len(x)-1 {
			if _, err := o.Write(buf); err != nil {
				o.Abort()
				return err
			}
			buf = buf[:0]
		}
	}
	return o.Commit()
}
