package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/model/tokenizer"
	"github.com/spf13/pflag"
)

func init() {
	register(command{
		name:  "tokenize",
		short: "print the token ids of a text with a model file's tokenizer",
		run:   tokenizeCmd,
	})
}

// tokenizePiece is one entry of `tokenize --json --pieces`.
type tokenizePiece struct {
	ID    int32  `json:"id"`
	Piece string `json:"piece"`
}

func tokenizeCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("tokenize", pflag.ContinueOnError)
	modelPath := fs.StringP("model", "m", "", "GGUF file holding the tokenizer (required)")
	bos := fs.Bool("bos", false, "prepend the BOS id")
	eos := fs.Bool("eos", false, "append the EOS id")
	special := fs.Bool("special", false, "turn control pieces written in TEXT (<s>, </s>, <unk>) into their ids")
	asJSON := fs.Bool("json", false, "print a JSON array (of ids, or of {id, piece} with --pieces)")
	pieces := fs.Bool("pieces", false, "print each id with its piece, one per line")
	if done, err := parseFlags(fs, "tokenize -m MODEL.gguf [--bos] [--eos] [--special] [--json] [--pieces] TEXT...", args, stdout, "Tokenizes TEXT (the arguments joined by spaces) with the tokenizer.ggml.* vocabulary of MODEL.", "Literal <s>, </s>, <unk> in TEXT are plain text unless --special is given."); done || err != nil {
		return err
	}
	if *modelPath == "" {
		return errUsage{errors.New("-m MODEL.gguf is required")}
	}
	if fs.NArg() == 0 {
		return errUsage{errors.New("no TEXT given")}
	}
	text := strings.Join(fs.Args(), " ")

	path, err := mappable(*modelPath)
	if err != nil {
		return err
	}
	f, err := gguf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	v, err := tokenizer.VocabFromGGUF(f)
	if err != nil {
		return err
	}
	tk, err := tokenizer.New(v)
	if err != nil {
		return err
	}
	ids := tk.EncodeWith(text, tokenizer.EncodeOptions{AddBOS: *bos, AddEOS: *eos, ParseSpecial: *special})

	var out []byte
	switch {
	case *asJSON:
		var v any = ids
		if *pieces {
			list := make([]tokenizePiece, len(ids))
			for i, id := range ids {
				list[i] = tokenizePiece{id, tk.Piece(id)}
			}
			v = list
		} else if ids == nil {
			v = []int32{}
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // pieces like <0x0A> stay readable
		if err := enc.Encode(v); err != nil {
			return err
		}
		out = b.Bytes()
	case *pieces:
		for _, id := range ids {
			out = strconv.AppendInt(out, int64(id), 10)
			out = append(out, '\t')
			out = strconv.AppendQuote(out, tk.Piece(id))
			out = append(out, '\n')
		}
	default:
		for i, id := range ids {
			if i > 0 {
				out = append(out, ' ')
			}
			out = strconv.AppendInt(out, int64(id), 10)
		}
		out = append(out, '\n')
	}
	_, err = stdout.Write(out)
	return err
}
