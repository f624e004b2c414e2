// Package grounding reads the boxes a CogVLM grounding answer carries and
// draws them on the picture.
//
// CogVLM writes a box as [[x0,y0,x1,y1]] right after the phrase it
// locates: (x0,y0) is the top-left corner and (x1,y1) the bottom-right one,
// each in thousandths of the image width or height (usually zero-padded to
// three digits, 000–999). Several boxes for one phrase share the brackets,
// separated by ';': [[a,b,c,d;e,f,g,h]].
package grounding

import (
	"strconv"
	"strings"
)

// Scale is the denominator of the coordinates in an answer: a value v is
// v/Scale of the width or height.
const Scale = 1000

// Box is one located region. Coordinates are thousandths in what Parse
// returns and pixels after InPixels.
type Box struct {
	// Phrase is the text the box follows: from the previous box or the
	// start of the sentence up to the opening brackets, trimmed. It is
	// empty when the answer is a bare box.
	Phrase string `json:"phrase"`
	X0     int    `json:"x0"`
	Y0     int    `json:"y0"`
	X1     int    `json:"x1"`
	Y1     int    `json:"y1"`
}

// Result is an answer with its boxes in pixels, the JSON shape commands and
// the server print.
type Result struct {
	Text  string `json:"text"`
	Boxes []Box  `json:"boxes"`
}

// maxDigits bounds a coordinate's length, so that hostile text cannot make
// strconv work on long digit strings or overflow.
const maxDigits = 4

// Parse returns every well-formed box of text in order, in thousandths.
// A group inside [[ ]] is well formed when it is four comma-separated
// decimal integers between 0 and Scale (spaces around them allowed); other
// groups, and brackets that never close, are skipped. Corners given in the
// wrong order are swapped so that X0 <= X1 and Y0 <= Y1.
func Parse(text string) []Box {
	var boxes []Box
	phraseStart := 0
	for pos := 0; pos < len(text); {
		open := strings.Index(text[pos:], "[[")
		if open < 0 {
			break
		}
		open += pos
		end := strings.Index(text[open+2:], "]]")
		if end < 0 {
			break
		}
		end += open + 2
		phrase := phraseBefore(text[phraseStart:open])
		found := false
		for group := range strings.SplitSeq(text[open+2:end], ";") {
			b, ok := parseGroup(group)
			if !ok {
				continue
			}
			b.Phrase = phrase
			boxes = append(boxes, b)
			found = true
		}
		pos = end + 2
		if found {
			phraseStart = pos
		}
	}
	return boxes
}

// phraseBefore is the phrase at the end of s: the text after the last
// sentence break, without surrounding spaces and punctuation.
func phraseBefore(s string) string {
	if i := strings.LastIndexAny(s, ".!?\n"); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == ',' || r == ':' || r == ';' || r == '(' || r == ')'
	})
}

// parseGroup reads "x0,y0,x1,y1" in thousandths.
func parseGroup(g string) (Box, bool) {
	var v [4]int
	n := 0
	for f := range strings.SplitSeq(g, ",") {
		if n == 4 {
			return Box{}, false
		}
		f = strings.TrimSpace(f)
		if f == "" || len(f) > maxDigits {
			return Box{}, false
		}
		for i := 0; i < len(f); i++ {
			if f[i] < '0' || f[i] > '9' {
				return Box{}, false
			}
		}
		x, _ := strconv.Atoi(f) // at most maxDigits decimal digits: cannot fail
		if x > Scale {
			return Box{}, false
		}
		v[n] = x
		n++
	}
	if n != 4 {
		return Box{}, false
	}
	return Box{X0: min(v[0], v[2]), Y0: min(v[1], v[3]), X1: max(v[0], v[2]), Y1: max(v[1], v[3])}, true
}

// InPixels converts boxes in thousandths to pixels of a width x height
// image, rounding to the nearest pixel: x = round(v * width / Scale).
func InPixels(boxes []Box, width, height int) []Box {
	out := make([]Box, len(boxes))
	for i, b := range boxes {
		out[i] = Box{Phrase: b.Phrase,
			X0: toPixel(b.X0, width), Y0: toPixel(b.Y0, height),
			X1: toPixel(b.X1, width), Y1: toPixel(b.Y1, height)}
	}
	return out
}

func toPixel(v, size int) int { return (v*size + Scale/2) / Scale }

// ParseAnswer parses an answer about a width x height picture into the
// Result printed to users: the text as written and its boxes in pixels.
func ParseAnswer(text string, width, height int) Result {
	return Result{Text: text, Boxes: InPixels(Parse(text), width, height)}
}
