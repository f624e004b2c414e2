package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"

	"github.com/cogedge/cogedge/grounding"
	"github.com/cogedge/cogedge/internal/outfile"
	"github.com/cogedge/cogedge/model/imageproc"
)

func init() {
	register(command{
		name:  "ground",
		short: "ask where things are in a picture; print the boxes in pixels and draw them",
		run:   groundCmd,
	})
}

const groundSynopsis = `ground -m MODEL --image IMG -p "Where is the cat?" [--draw OUT.png] [--json]`

// groundCmd asks a grounding question (greedy unless --temp is given),
// parses the [[x0,y0,x1,y1]] boxes of the answer into pixels of the
// picture as loaded (EXIF orientation applied) and prints them, as text or
// as the JSON object {text, boxes: [{phrase, x0, y0, x1, y1}]}; --draw
// writes a copy of the picture with the boxes drawn and labelled. With
// --answer, the given text is parsed and drawn instead and no model is
// loaded (for answers from the server or an earlier run).
func groundCmd(args []string, stdout, stderr io.Writer) error {
	fs, af := newAnswerFlags("ground", 256)
	af.model.deviceOK = true
	mf, cf, sf := &af.model, &af.cache, &af.sample
	draw := fs.String("draw", "", "write the picture with the boxes drawn and labelled to this PNG file")
	asJSON := fs.Bool("json", false, "print {text, boxes: [{phrase, x0, y0, x1, y1}]} (pixels) as JSON")
	answer := fs.String("answer", "", "parse and draw this answer instead of asking the model (no model needed)")
	if done, err := parseFlags(fs, groundSynopsis, args, stdout,
		`Boxes are read from every [[x0,y0,x1,y1]] in the answer (';' separates several boxes for one phrase),`,
		`in thousandths of the width and height; printed and drawn in pixels of IMG.`,
		`Grounding models answer prompts like "Where is the cat? answer in [[x0,y0,x1,y1]] format."`); done || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errUsage{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if mf.image == "" {
		return errUsage{errors.New("--image IMG is required")}
	}
	if *answer == "" && mf.prompt == "" {
		return errUsage{errors.New(`-p "QUESTION" is required (or --answer TEXT)`)}
	}
	if err := sf.check(); err != nil {
		return err
	}
	drawOpt := outfile.Options{Inputs: []string{mf.image, mf.model, mf.mmproj}, Stdout: stdout}
	if *draw != "" {
		if *draw == "-" && !*asJSON {
			// the PNG takes stdout; the answer and boxes go to stderr
			stdout = stderr
		} else if *draw == "-" {
			return errUsage{errors.New("--draw - and --json both want stdout")}
		}
		if err := outfile.Check(*draw, drawOpt); err != nil {
			return errUsage{fmt.Errorf("--draw: %w", err)}
		}
	}
	pic, err := imageproc.Load(mf.image, imageproc.DefaultLimits)
	if err != nil {
		return err
	}
	text := *answer
	if text == "" {
		if text, err = askOnce(mf, cf, sf, stdout, stderr, !*asJSON); err != nil {
			return err
		}
	}
	b := pic.Bounds()
	res := grounding.ParseAnswer(text, b.Dx(), b.Dy())
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		if *answer != "" {
			fmt.Fprintln(stdout, text)
		}
		for i, bx := range res.Boxes {
			fmt.Fprintf(stdout, "box %d: %q x0=%d y0=%d x1=%d y1=%d\n", i+1, bx.Phrase, bx.X0, bx.Y0, bx.X1, bx.Y1)
		}
		if len(res.Boxes) == 0 {
			fmt.Fprintln(stderr, "cogedge ground: the answer has no [[x0,y0,x1,y1]] box")
		}
	}
	if *draw != "" {
		if err := writePNG(*draw, grounding.Draw(pic, res.Boxes, boxThickness(b)), drawOpt); err != nil {
			return err
		}
	}
	return nil
}

// askOnce answers mf.prompt about mf.image and returns the answer;
// streaming it to stdout when stream is set.
func askOnce(mf *modelFlags, cf *cacheFlags, sf *sampleFlags, stdout, stderr io.Writer, stream bool) (string, error) {
	out := io.Discard
	if stream {
		out = stdout
	}
	ch, err := startChat(mf, cf, sf, false, out, stderr)
	if err != nil {
		return "", err
	}
	defer ch.close()
	if err := ch.ask(mf.prompt); err != nil {
		return "", err
	}
	return ch.hist[len(ch.hist)-1].Answer, nil
}

// boxThickness scales outlines with the picture: 2 px up to 400 px, then
// about 1/200 of the shorter side.
func boxThickness(b image.Rectangle) int { return max(2, min(b.Dx(), b.Dy())/200) }

func writePNG(path string, img image.Image, opt outfile.Options) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("--draw %s: %w", path, err)
	}
	return outfile.WriteFile(path, buf.Bytes(), opt)
}
