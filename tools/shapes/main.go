// Command shapes writes a dataset of the demo's pictures for the training
// script (tools/train): N pictures of one seed as PNG files, and data.jsonl
// with one line per picture holding its facts and its questions, each with
// the token ids of its chat prompt and of its answer (LLaMA-2 tokenizer, no
// BOS; the answer ids end with EOS).
//
//	go run ./tools/shapes --seed 1 -n 20000 -o /tmp/shapes-train
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/cogedge/cogedge/internal/shapes"
	"github.com/cogedge/cogedge/model/prompt"
	"github.com/cogedge/cogedge/model/tokenizer"
	"github.com/klauspost/compress/zstd"
	"github.com/spf13/pflag"
)

type questionLine struct {
	Type       string  `json:"type"`
	Question   string  `json:"question"`
	Answer     string  `json:"answer"`
	PromptIDs  []int32 `json:"prompt_ids"`
	AnswerIDs  []int32 `json:"answer_ids"`
	ShapeIndex int     `json:"shape"`
}

type pictureLine struct {
	Image     string         `json:"image"`
	Seed      uint64         `json:"seed"`
	Index     uint64         `json:"index"`
	Shapes    []shapes.Shape `json:"shapes"`
	Questions []questionLine `json:"questions"`
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "shapes:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("shapes", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "dataset seed")
	n := fs.IntP("n", "n", 100, "number of pictures")
	first := fs.Uint64("first", 0, "index of the first picture")
	out := fs.StringP("out", "o", "", "output folder (created)")
	noImages := fs.Bool("facts-only", false, "write data.jsonl only (the PNG files are already there)")
	tokPath := fs.String("tokenizer", "testdata/tokenizer/llama2-tokenizer.json.zst", "tokenizer.json (or .json.zst)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	if *out == "" || *n < 1 {
		return errors.New("-o FOLDER and -n >= 1 are required")
	}
	tok, err := loadTokenizer(*tokPath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	var jsonl bytes.Buffer
	for i := 0; i < *n; i++ {
		idx := *first + uint64(i)
		p := shapes.Generate(*seed, idx)
		name := fmt.Sprintf("%06d.png", idx)
		if !*noImages {
			if err := shapes.WritePNG(filepath.Join(*out, name), p.Draw()); err != nil {
				return err
			}
		}
		line := pictureLine{Image: name, Seed: *seed, Index: idx, Shapes: p.Shapes}
		for _, q := range p.Questions() {
			ql, err := encode(tok, q)
			if err != nil {
				return fmt.Errorf("picture %d: %w", idx, err)
			}
			line.Questions = append(line.Questions, ql)
		}
		b, err := json.Marshal(line)
		if err != nil {
			return err
		}
		jsonl.Write(b)
		jsonl.WriteByte('\n')
	}
	if err := shapes.WriteFile(filepath.Join(*out, "data.jsonl"), jsonl.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d pictures (seed %d) to %s\n", *n, *seed, *out)
	return nil
}

// encode tokenizes a question's chat prompt and its answer, and checks that
// the two together tokenize as the whole conversation text does, so the
// model learns exactly the ids the runtime feeds and decodes.
func encode(tok *tokenizer.Tokenizer, q shapes.Question) (questionLine, error) {
	text, err := prompt.Build(prompt.Chat, nil, q.Text)
	if err != nil {
		return questionLine{}, err
	}
	p := tok.Encode(text, false)
	a := tok.Encode(q.Answer, false)
	if whole := tok.Encode(text+" "+q.Answer, false); !slices.Equal(whole, append(slices.Clip(p), a...)) {
		return questionLine{}, fmt.Errorf("%q + %q: the answer tokenizes differently after the prompt", text, q.Answer)
	}
	return questionLine{Type: q.Type, Question: q.Text, Answer: q.Answer, PromptIDs: p,
		AnswerIDs: append(a, tok.EOS()), ShapeIndex: q.Shape}, nil
}

func loadTokenizer(path string) (*tokenizer.Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if filepath.Ext(path) == ".zst" {
		d, err := zstd.NewReader(nil)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		if data, err = d.DecodeAll(data, nil); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	v, err := tokenizer.ParseVocab(data, path)
	if err != nil {
		return nil, err
	}
	return tokenizer.New(v)
}
